//! Workspace invariants checked as ordinary tests (cf. rust-analyzer's tidy):
//! every Rust file opens with a `//!` doc; no test is marked to panic or be
//! skipped; crates depend only on what docs/architecture.md allows.

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
    let forbidden: [(&str, &[&str]); 5] = [
        ("decouple-net", &["decouple-data", "decouple-augment", "decouple-loss", "decouple-train", "decouple-analysis"]),
        ("decouple-loss", &["decouple-net", "decouple-data", "decouple-augment", "decouple-train", "decouple-analysis"]),
        ("decouple-data", &["decouple-", "anyhow"]),
        ("decouple-augment", &["decouple-net", "decouple-loss", "decouple-train", "decouple-analysis", "anyhow"]),
        ("decouple-analysis", &["decouple-", "anyhow"]),
    ];
    for (krate, names) in forbidden {
        let deps = dependencies(krate);
        for name in names {
            assert!(!deps.contains(name), "{krate} must not depend on {name}:\n{deps}");
        }
    }
    assert!(!dependencies("decouple-train").contains("anyhow"));
}

#[test]
fn libraries_do_not_print() {
    for krate in ["decouple-data", "decouple-augment", "decouple-net", "decouple-loss", "decouple-train", "decouple-analysis"] {
        let mut files = Vec::new();
        rust_files(&root().join("crates").join(krate).join("src"), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            assert!(!text.contains("println!") && !text.contains("eprintln!"), "{} prints", file.display());
        }
    }
}
