//! What every experiment needs to know about its run: scale, seeds, output
//! folder, and provenance (git commit, toolchain) recorded in `config.json`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use decouple_harness::{git_commit, toolchain};
use serde::Serialize;

/// Options shared by all experiments of one `reproduce` invocation.
#[derive(Debug, Serialize)]
pub struct RunContext {
    /// Output root; each experiment writes to `out/<id>/`.
    pub out: PathBuf,
    /// Smaller, faster version for CI.
    pub quick: bool,
    /// Number of seeds per configuration.
    pub seeds: u64,
    /// Independent runs in parallel (results are identical for any value).
    pub jobs: usize,
    /// `git rev-parse HEAD` (with `-dirty` if the tree has changes), or `unknown`.
    pub git_commit: String,
    /// `rustc --version` of the `rustc` on `PATH` (or `$RUSTC`) when the run started (normally the toolchain that built it).
    pub toolchain: String,
    /// Runs finished in this invocation, shared between experiments.
    #[serde(skip)]
    pub cache: decouple_harness::training::RunCache,
}

impl RunContext {
    /// Collects provenance and creates the output folder.
    ///
    /// # Errors
    /// If the output folder cannot be created.
    pub fn new(out: PathBuf, quick: bool, seeds: u64, jobs: usize) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
        Ok(Self {
            out,
            quick,
            seeds,
            jobs,
            git_commit: git_commit(Path::new(".")),
            toolchain: toolchain(),
            cache: decouple_harness::training::RunCache::default(),
        })
    }

    /// The folder of experiment `id`, created.
    ///
    /// # Errors
    /// If it cannot be created.
    pub fn experiment_dir(&self, id: &str) -> anyhow::Result<PathBuf> {
        let dir = self.out.join(id);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(dir)
    }
}
