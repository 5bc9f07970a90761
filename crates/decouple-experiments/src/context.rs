//! What every experiment needs to know about its run: scale, seeds, output
//! folder, and provenance (git commit, toolchain) recorded in `config.json`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;
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
    /// `rustc --version` of the toolchain that built this binary's runner.
    pub toolchain: String,
    /// Runs finished in this invocation, shared between experiments.
    #[serde(skip)]
    pub cache: crate::training::RunCache,
}

impl RunContext {
    /// Collects provenance and creates the output folder.
    ///
    /// # Errors
    /// If the output folder cannot be created.
    pub fn new(out: PathBuf, quick: bool, seeds: u64, jobs: usize) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
        Ok(Self { out, quick, seeds, jobs, git_commit: git_commit(), toolchain: toolchain(), cache: crate::training::RunCache::default() })
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

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

pub(crate) fn git_commit() -> String {
    let Some(commit) = command_output("git", &["rev-parse", "HEAD"]) else { return "unknown".into() };
    let dirty = command_output("git", &["status", "--porcelain", "--untracked-files=no"]).is_some_and(|status| !status.is_empty());
    if dirty { format!("{commit}-dirty") } else { commit }
}

pub(crate) fn toolchain() -> String {
    command_output("rustc", &["--version"]).unwrap_or_else(|| "unknown".into())
}

/// Writes `value` as pretty JSON to `path`, atomically (temporary file + rename).
///
/// # Errors
/// Serialisation or I/O failure.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    write_atomic(path, &serde_json::to_string_pretty(value)?)
}

/// Writes `text` to `path` through a temporary file renamed into place, so an
/// interrupted run never leaves a half-written file under the final name.
///
/// # Errors
/// I/O failure.
pub fn write_atomic(path: &Path, text: &str) -> anyhow::Result<()> {
    let temporary = path.with_extension("partial");
    std::fs::write(&temporary, text).with_context(|| format!("writing {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("renaming into {}", path.display()))?;
    Ok(())
}
