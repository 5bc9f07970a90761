//! Workspace invariants checked as ordinary tests (cf. rust-analyzer's tidy):
//! every Rust file opens with a `//!` doc; no test is marked to panic or be
//! skipped; crates depend only on what docs/architecture.md allows; no two
//! modules of a crate import each other.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|name| name != "target") {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

fn all_rust_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    rust_files(&root().join("crates"), &mut files);
    rust_files(&root().join("xtask"), &mut files);
    files
}

#[test]
fn every_file_opens_with_a_module_doc() {
    let missing: Vec<_> =
        all_rust_files().into_iter().filter(|path| !std::fs::read_to_string(path).unwrap().trim_start().starts_with("//!")).collect();
    assert!(missing.is_empty(), "files without a leading //! doc: {missing:?}");
}

#[test]
fn no_test_is_marked_to_panic_or_skipped() {
    let (panic_marker, skip_marker) = (concat!("#[should", "_panic"), concat!("#[ig", "nore"));
    let offenders: Vec<_> = all_rust_files()
        .into_iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            text.contains(panic_marker) || text.contains(skip_marker)
        })
        .collect();
    assert!(offenders.is_empty(), "{offenders:?}");
}

/// The `[dependencies]` section of a crate's manifest.
fn dependencies(krate: &str) -> String {
    let manifest = std::fs::read_to_string(root().join("crates").join(krate).join("Cargo.toml")).unwrap();
    let start = manifest.find("[dependencies]").unwrap();
    let rest = &manifest[start + "[dependencies]".len()..];
    rest[..rest.find("\n[").unwrap_or(rest.len())].to_string()
}

#[test]
fn crate_dependencies_follow_the_architecture() {
    let tooling: &[&str] = &["anyhow", "clap", "indicatif"];
    let forbidden: [(&str, &[&str]); 12] = [
        ("decouple-net", &["decouple-data", "decouple-augment", "decouple-loss", "decouple-train", "decouple-analysis"]),
        ("decouple-loss", &["decouple-net", "decouple-data", "decouple-augment", "decouple-train", "decouple-analysis"]),
        ("decouple-data", &["decouple-", "anyhow"]),
        ("decouple-augment", &["decouple-net", "decouple-loss", "decouple-train", "decouple-analysis", "anyhow"]),
        ("decouple-analysis", &["decouple-", "anyhow"]),
        // Plain SVG text: no dependency at all.
        ("decouple-plot", &["decouple-", "anyhow", "clap", "serde", "toml"]),
        // Evaluation: the libraries only, no config files, no tooling.
        ("decouple-eval", &["decouple-harness", "decouple-experiments", "decouple-plot", "decouple-cli", "toml", "anyhow", "clap"]),
        // Runs of config files: typed errors, knows nothing of the paper's experiments (its command line: below).
        ("decouple-harness", &["decouple-experiments", "decouple-cli", "decouple-bench", "anyhow"]),
        ("decouple-experiments", &["decouple-cli", "decouple-bench", "clap", "toml"]),
        ("decouple-cli", &["decouple-bench"]),
        ("decouple-bench", &["decouple-cli", "decouple-experiments"]),
        // The Python package is a layer over the libraries, like the CLI, not over the CLI.
        ("decouple-py", &["decouple-cli", "decouple-bench", "clap", "indicatif", "anyhow"]),
    ];
    for (krate, names) in forbidden {
        let deps = dependencies(krate);
        for name in names {
            assert!(!deps.contains(name), "{krate} must not depend on {name}:\n{deps}");
        }
    }
    assert!(!dependencies("decouple-train").contains("anyhow"));
    for library in ["decouple-eval", "decouple-plot"] {
        for name in tooling {
            assert!(!dependencies(library).contains(name), "{library} must not depend on {name}");
        }
    }
}

/// The harness's command line is one module: clap is used only in
/// `command_line.rs` and indicatif only in `progress_bar.rs`, so every other
/// module stays a library of typed functions.
#[test]
fn the_harness_parses_arguments_and_draws_bars_in_one_module_each() {
    let src = root().join("crates/decouple-harness/src");
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        for (tool, home) in [("clap::", "command_line.rs"), ("indicatif::", "progress_bar.rs")] {
            assert!(name == home || !text.contains(tool), "{name} uses {tool}: only {home} may");
        }
    }
}

/// Every `decouple-*` crate a crate depends on (normal dependencies), by name.
fn workspace_dependencies(krate: &str) -> Vec<String> {
    dependencies(krate)
        .lines()
        .filter_map(|line| line.trim().split(['.', ' ', '=']).next())
        .filter(|name| name.starts_with("decouple-"))
        .map(str::to_string)
        .collect()
}

/// A downstream user can depend on the evaluation without clap, toml or
/// anyhow: neither it nor any workspace crate it pulls in (transitively) names them.
#[test]
fn the_evaluation_pulls_in_no_cli_config_or_anyhow() {
    let mut pending = vec!["decouple-eval".to_string()];
    let mut seen = Vec::new();
    while let Some(krate) = pending.pop() {
        if seen.contains(&krate) {
            continue;
        }
        let deps = dependencies(&krate);
        for name in ["clap", "toml", "anyhow"] {
            assert!(
                !deps.lines().any(|line| line.trim().split(['.', ' ', '=']).next() == Some(name)),
                "decouple-eval pulls in {name} through {krate}:\n{deps}"
            );
        }
        pending.extend(workspace_dependencies(&krate));
        seen.push(krate);
    }
    assert!(seen.len() >= 6, "{seen:?}");
}

/// The `crate::` modules that `file` (a module of `src`) imports.
fn imported_modules(src: &Path, text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (index, _) in text.match_indices("crate::") {
        let preceded = text[..index].chars().next_back();
        if preceded.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let rest = &text[index + "crate::".len()..];
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let candidates = [src.join(format!("{name}.rs")), src.join(&name).join("mod.rs")];
        if !name.is_empty() && candidates.iter().any(|path| path.is_file()) && !found.contains(&name) {
            found.push(name);
        }
    }
    found
}

/// No module imports a module that imports it (`crate::a` in `b.rs` and
/// `crate::b` in `a.rs`), in any crate: shared types get their own module.
#[test]
fn no_two_modules_import_each_other() {
    for entry in std::fs::read_dir(root().join("crates")).unwrap() {
        let src = entry.unwrap().path().join("src");
        let Ok(listing) = std::fs::read_dir(&src) else { continue };
        let mut imports = Vec::new();
        for file in listing {
            let path = file.unwrap().path();
            if path.extension().is_some_and(|ext| ext == "rs") {
                let module = path.file_stem().unwrap().to_string_lossy().into_owned();
                imports.push((module, imported_modules(&src, &std::fs::read_to_string(&path).unwrap())));
            }
        }
        for (module, used) in &imports {
            for other in used {
                let back = imports.iter().any(|(name, theirs)| name == other && theirs.contains(module));
                assert!(!back, "{}: modules `{module}` and `{other}` import each other", src.display());
            }
        }
    }
}

/// pyo3 and numpy live in the Python package's crate alone: every other
/// crate builds and tests without Python.
#[test]
fn only_the_python_package_depends_on_python() {
    let crates = std::fs::read_dir(root().join("crates")).unwrap();
    for entry in crates {
        let krate = entry.unwrap().file_name().to_string_lossy().into_owned();
        if krate == "decouple-py" || !root().join("crates").join(&krate).join("Cargo.toml").is_file() {
            continue;
        }
        let deps = dependencies(&krate);
        for name in ["pyo3", "numpy", "decouple-py"] {
            assert!(!deps.contains(name), "{krate} must not depend on {name}:\n{deps}");
        }
    }
}

#[test]
fn libraries_do_not_print() {
    for krate in [
        "decouple-data",
        "decouple-augment",
        "decouple-net",
        "decouple-loss",
        "decouple-train",
        "decouple-analysis",
        "decouple-eval",
        "decouple-plot",
        "decouple-experiments",
    ] {
        let mut files = Vec::new();
        rust_files(&root().join("crates").join(krate).join("src"), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            assert!(!text.contains("println!") && !text.contains("eprintln!"), "{} prints", file.display());
        }
    }
}
