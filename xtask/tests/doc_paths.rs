//! Every repository path named by the documentation exists, and nothing
//! points outside the repository.
//!
//! Scanned: README.md and every `docs/**/*.md`; the full text of every `.rs`
//! file under `crates/`, `xtask/` and `examples/` (rustdoc, comments and help
//! strings alike); every `Cargo.toml`; the comments of `examples/configs/*.toml`.
//!
//! Rules:
//! * a token starting with a top-level entry of the repository (`crates/`,
//!   `docs/`, `README.md`, ...) must exist relative to the repository root,
//!   after stripping a trailing `#anchor`, `:line` or punctuation; tokens with
//!   placeholders (`<`, `{`, `*`, `...`) are skipped;
//! * a relative markdown link `](path)` must exist relative to its file;
//! * a reference "model.md §N" must name a `## N.` heading of docs/model.md;
//! * a `../` path that leaves the repository, an absolute path into this
//!   checkout (it names one machine's folder, not the repository), and the
//!   names of the old design brief and of the shared folder it lived in are
//!   errors. Other absolute paths (`/tmp/demo` in a recipe) are examples, not
//!   references, and are not checked.
//!
//! Paths that tools create when they run (`results/`, `target/`, `out/`)
//! are not checked.

use std::path::{Component, Path, PathBuf};

/// Top-level entries a path token may start with.
const TOP_LEVEL: [&str; 9] = ["crates/", "docs/", "examples/", "xtask/", ".ci/", ".cargo/", "README.md", "Cargo.toml", "rustfmt.toml"];

/// The page whose numbered sections code comments cite as "model.md §N".
const MODEL_PAGE: &str = "model.md";

/// Directories written at run time: a path through them is not checked.
const GENERATED: [&str; 3] = ["results", "target", "out"];

/// Words that must never appear (spelled in pieces so this file does not contain them).
const FORBIDDEN: [&str; 2] = [concat!("SPEC", ".md"), concat!("shared", "/")];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().expect("the repository root exists")
}

/// One bad reference: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Offence {
    file: String,
    line: usize,
    token: String,
    why: &'static str,
}

/// What one text yielded: the offences and how many path tokens were checked.
#[derive(Debug, Default)]
struct Scan {
    offences: Vec<Offence>,
    checked_tokens: usize,
    checked_links: usize,
    /// `(line, N)` of every "model.md §N" reference.
    sections: Vec<(usize, String)>,
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-./#:<>{}*~+".contains(c)
}

/// Maximal runs of path characters.
fn tokens(line: &str) -> Vec<&str> {
    line.split(|c: char| !is_path_char(c)).filter(|token| !token.is_empty()).collect()
}

fn has_placeholder(token: &str) -> bool {
    token.contains('<') || token.contains('>') || token.contains('{') || token.contains('}') || token.contains('*') || token.contains("...")
}

/// `path` without a `#anchor`, a `:line` suffix and trailing punctuation.
fn strip_suffixes(token: &str) -> &str {
    let token = token.split('#').next().unwrap_or("");
    let token = token.split(':').next().unwrap_or("");
    token.trim_end_matches(['.', ',', ';', '-', '~', '+'])
}

/// Whether any component of a repository-relative path is written at run time.
fn is_generated(path: &str) -> bool {
    path.split('/').any(|component| GENERATED.contains(&component))
}

/// Resolves `relative` against `base` (both inside `root`) without touching
/// the file system; `None` if it climbs out of `root`.
fn resolve(root: &Path, base: &Path, relative: &str) -> Option<PathBuf> {
    let mut parts: Vec<String> =
        base.strip_prefix(root).ok()?.components().map(|component| component.as_os_str().to_string_lossy().into_owned()).collect();
    for component in Path::new(relative).components() {
        match component {
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.iter().fold(root.to_path_buf(), |path, part| path.join(part)))
}

/// Checks one file's text. `file` is the file's path relative to `root`;
/// `markdown` turns on the check of `](link)` targets.
fn check_text(root: &Path, file: &str, text: &str, markdown: bool) -> Scan {
    let mut scan = Scan::default();
    let directory = root.join(file).parent().map_or_else(|| root.to_path_buf(), Path::to_path_buf);
    let checkout = format!("{}/", root.display());
    for (index, line) in text.lines().enumerate() {
        let mut offend = |token: &str, why: &'static str| {
            scan.offences.push(Offence { file: file.to_string(), line: index + 1, token: token.to_string(), why });
        };
        for word in FORBIDDEN {
            if line.contains(word) {
                offend(word, "names the old design brief or its folder, which users do not have");
            }
        }
        for raw in tokens(line) {
            let token = raw.strip_prefix("./").unwrap_or(raw);
            if token.starts_with(&checkout) {
                offend(strip_suffixes(token), "an absolute path into this checkout (name the path from the repository root)");
                continue;
            }
            if token.contains("../") {
                if !has_placeholder(token) && resolve(root, &directory, strip_suffixes(token)).is_none() {
                    offend(strip_suffixes(token), "a ../ path that leaves the repository");
                }
                continue;
            }
            if !TOP_LEVEL.iter().any(|entry| token.starts_with(entry)) || has_placeholder(token) {
                continue;
            }
            let path = strip_suffixes(token);
            if is_generated(path) {
                continue;
            }
            scan.checked_tokens += 1;
            if !root.join(path).exists() {
                offend(path, "no such path in the repository");
            }
        }
        for (position, _) in line.match_indices(MODEL_PAGE) {
            let rest = line[position + MODEL_PAGE.len()..].trim_start_matches([')', '`']).trim_start();
            if let Some(number) = rest.strip_prefix('\u{a7}') {
                let digits: String = number.chars().take_while(char::is_ascii_digit).collect();
                if !digits.is_empty() {
                    scan.sections.push((index + 1, digits));
                }
            }
        }
        if markdown {
            for link in line.split("](").skip(1) {
                let Some(end) = link.find(')') else { continue };
                let target = link[..end].split_whitespace().next().unwrap_or("");
                let target = target.trim_start_matches('<').trim_end_matches('>');
                if target.is_empty() || target.starts_with('#') || target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                let path = target.split('#').next().unwrap_or("");
                scan.checked_links += 1;
                match resolve(root, &directory, path) {
                    None => offend(target, "a link that leaves the repository"),
                    Some(resolved) => {
                        let inside = resolved.strip_prefix(root).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
                        if !is_generated(&inside) && !resolved.exists() {
                            offend(target, "a link to a missing file");
                        }
                    }
                }
            }
        }
    }
    scan
}

/// Files under `dir` (recursively, skipping `target` and hidden folders) accepted by `keep`.
fn walk(dir: &Path, keep: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.map(|entry| entry.expect("readable directory").path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                walk(&path, keep, out);
            }
        } else if keep(&path) {
            out.push(path);
        }
    }
}

fn has_extension(path: &Path, extension: &str) -> bool {
    path.extension().is_some_and(|ext| ext == extension)
}

/// The comment part of every line of a TOML file (the rest blanked, so line numbers hold).
fn toml_comments(text: &str) -> String {
    text.lines().map(|line| line.find('#').map_or("", |start| &line[start..])).collect::<Vec<_>>().join("\n")
}

#[derive(Debug, Default)]
struct Totals {
    files: usize,
    rust_files: usize,
    markdown_files: usize,
    tokens: usize,
    links: usize,
    sections: usize,
    offences: Vec<Offence>,
}

/// The numbers `N` of the `## N. Title` headings of docs/model.md.
fn model_sections(root: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(root.join("docs").join(MODEL_PAGE)).unwrap_or_default();
    text.lines()
        .filter_map(|line| line.strip_prefix("## "))
        .filter_map(|heading| heading.split_once(". ").map(|(number, _)| number.to_string()))
        .collect()
}

fn scan_repository(root: &Path) -> Totals {
    let mut totals = Totals::default();
    let sections = model_sections(root);
    let mut add = |path: &Path, text: &str, markdown: bool| {
        let relative = path.strip_prefix(root).expect("inside the repository").to_string_lossy().replace('\\', "/");
        let scan = check_text(root, &relative, text, markdown);
        totals.files += 1;
        totals.tokens += scan.checked_tokens;
        totals.links += scan.checked_links;
        totals.sections += scan.sections.len();
        totals.offences.extend(scan.offences);
        for (line, number) in scan.sections {
            if !sections.contains(&number) {
                let token = format!("{MODEL_PAGE} \u{a7}{number}");
                totals.offences.push(Offence { file: relative.clone(), line, token, why: "no such numbered section in docs/model.md" });
            }
        }
    };
    let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));

    let mut markdown = vec![root.join("README.md")];
    walk(&root.join("docs"), &|path| has_extension(path, "md"), &mut markdown);
    for path in &markdown {
        add(path, &read(path), true);
    }
    let mut rust = Vec::new();
    for dir in ["crates", "xtask", "examples"] {
        walk(&root.join(dir), &|path| has_extension(path, "rs"), &mut rust);
    }
    for path in &rust {
        add(path, &read(path), false);
    }
    let mut manifests = vec![root.join("Cargo.toml")];
    for dir in ["crates", "xtask", "examples"] {
        walk(&root.join(dir), &|path| path.file_name().is_some_and(|name| name == "Cargo.toml"), &mut manifests);
    }
    for path in &manifests {
        add(path, &read(path), false);
    }
    let mut configs = Vec::new();
    walk(&root.join("examples").join("configs"), &|path| has_extension(path, "toml"), &mut configs);
    for path in &configs {
        add(path, &toml_comments(&read(path)), false);
    }
    totals.rust_files = rust.len();
    totals.markdown_files = markdown.len();
    totals
}

#[test]
fn documented_paths_exist_and_stay_inside_the_repository() {
    let totals = scan_repository(&root());
    eprintln!(
        "doc_paths: scanned {} files ({} markdown, {} Rust), checked {} path tokens, {} markdown links and {} section references, {} offences",
        totals.files,
        totals.markdown_files,
        totals.rust_files,
        totals.tokens,
        totals.links,
        totals.sections,
        totals.offences.len()
    );
    // Not vacuous: the repository has about a hundred Rust files and its docs
    // name hundreds of paths; a broken walk or tokenizer would see far fewer.
    assert!(totals.markdown_files >= 5, "only {} markdown files found", totals.markdown_files);
    assert!(totals.rust_files >= 50, "only {} Rust files found", totals.rust_files);
    assert!(totals.tokens >= 100, "only {} path tokens checked", totals.tokens);
    assert!(totals.links >= 5, "only {} markdown links checked", totals.links);
    assert!(totals.sections >= 20, "only {} model.md section references checked", totals.sections);
    let listing: Vec<String> = totals
        .offences
        .iter()
        .map(|offence| format!("  {}:{}: `{}`: {}", offence.file, offence.line, offence.token, offence.why))
        .collect();
    assert!(totals.offences.is_empty(), "{} references to missing or outside paths:\n{}", totals.offences.len(), listing.join("\n"));
}

#[test]
fn the_checker_tells_good_missing_and_outside_paths_apart() {
    let root = root();
    let missing = concat!("docs", "/no-such-file.md");
    let outside = concat!("..", "/..", "/outside.md");
    let text = format!(
        "See docs/theory.md#1-second-moments, xtask/tests/tidy.rs:12, {missing}, and {outside}.\n\
         Links: [ok](theory.md) [bad](gone.md) [web](https://example.org/x) [anchor](#top) [up](../README.md)\n\
         Skipped: crates/*/Cargo.toml examples/configs/<name>.toml results/runs/x docs/... \n\
         {}\n\
         Cited: docs/model.md \u{a7}9 and [model.md](model.md) \u{a7}2.\n",
        FORBIDDEN[0]
    );
    let scan = check_text(&root, concat!("docs", "/unit.md"), &text, true);
    let flagged: Vec<(usize, &str)> = scan.offences.iter().map(|offence| (offence.line, offence.token.as_str())).collect();
    assert_eq!(flagged, vec![(1, missing), (1, outside), (2, "gone.md"), (4, FORBIDDEN[0])], "{:#?}", scan.offences);
    // The theory page, tidy.rs, the missing file and the model page.
    assert_eq!(scan.checked_tokens, 4);
    // ok, bad, up, model.md (the web link and the anchor are not files).
    assert_eq!(scan.checked_links, 4);
    // Section numbers are collected here and checked against the headings by the scan.
    assert_eq!(scan.sections, vec![(5, "9".to_string()), (5, "2".to_string())]);
    assert!(!model_sections(&root).contains(&"9".to_string()) && model_sections(&root).contains(&"2".to_string()));
    // A markdown link is only checked in markdown files.
    assert!(check_text(&root, concat!("docs", "/unit.rs"), "[bad](gone.md)", false).offences.is_empty());
}
