//! Repository hygiene for this crate: every Rust file opens with a `//!`
//! module doc paragraph, and no test is marked as expected to panic or as
//! ignored (the two attributes are spelled out in pieces below).

use std::fs;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_file_opens_with_a_module_doc_and_no_test_is_skipped() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("tests"), &mut files);
    assert!(files.len() >= 10);
    let forbidden = [concat!("#[should", "_panic"), concat!("#[ig", "nore")];
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        assert!(text.starts_with("//!"), "{} does not open with a //! doc", file.display());
        for pattern in forbidden {
            assert!(!text.contains(pattern), "{} contains {pattern}", file.display());
        }
    }
}
