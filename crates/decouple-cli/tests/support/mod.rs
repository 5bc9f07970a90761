//! Helpers shared by the CLI's integration tests.

use std::path::{Path, PathBuf};

/// An empty folder `name` under cargo's scratch directory for tests (emptied if it exists).
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
