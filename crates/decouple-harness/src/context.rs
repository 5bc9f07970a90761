//! What runs and experiments share: the parallel job runner, atomic writes,
//! and provenance (git commit, toolchain, machine) recorded in `config.json`.

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

use crate::HarnessError;

/// The trimmed standard output of `program args`, if it ran and succeeded.
#[must_use]
pub fn command_output(program: &str, args: &[&str]) -> Option<String> {
    // GIT_OPTIONAL_LOCKS=0: `git status` must not refresh (write) the index.
    let output = Command::new(program).args(args).env("GIT_OPTIONAL_LOCKS", "0").output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// `git rev-parse HEAD` of the working tree at `dir` (with `-dirty` if tracked files changed), or `unknown`.
#[must_use]
pub fn git_commit(dir: &Path) -> String {
    let dir = dir.to_string_lossy();
    let Some(commit) = command_output("git", &["-C", &dir, "rev-parse", "HEAD"]) else { return "unknown".into() };
    let dirty =
        command_output("git", &["-C", &dir, "status", "--porcelain", "--untracked-files=no"]).is_some_and(|status| !status.is_empty());
    if dirty { format!("{commit}-dirty") } else { commit }
}

/// `rustc --version` (of `$RUSTC` if set), or `unknown`.
#[must_use]
pub fn toolchain() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    command_output(&rustc, &["--version"]).unwrap_or_else(|| "unknown".into())
}

/// The CPU model name from `/proc/cpuinfo`, or `unknown CPU`.
#[must_use]
pub fn cpu_model() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    cpuinfo
        .lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split(':').nth(1))
        .map_or_else(|| "unknown CPU".into(), |name| name.trim().to_string())
}

/// Logical CPUs available to this process.
#[must_use]
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Calls `task(index)` for every index in `0..n`, on up to `jobs` threads that
/// take the next index as they finish (each index runs exactly once).
pub fn for_each_job(n: usize, jobs: usize, task: &(dyn Fn(usize) + Sync)) {
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, n.max(1)) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    if index >= n {
                        break;
                    }
                    task(index);
                }
            });
        }
    });
}

/// `[task(0), .., task(n - 1)]`, computed `jobs` at a time ([`for_each_job`]).
pub fn parallel_map<T: Send>(n: usize, jobs: usize, task: &(dyn Fn(usize) -> T + Sync)) -> Vec<T> {
    let slots: Vec<Mutex<Option<T>>> = (0..n).map(|_| Mutex::new(None)).collect();
    for_each_job(n, jobs, &|index| *slots[index].lock().expect("lock") = Some(task(index)));
    slots.into_iter().map(|slot| slot.into_inner().expect("lock").expect("every job ran")).collect()
}

/// Writes `value` as pretty JSON to `path`, atomically (temporary file + rename).
///
/// # Errors
/// Serialisation or I/O failure.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> crate::Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|error| HarnessError::Json { what: path.display().to_string(), error })?;
    write_atomic(path, &text)
}

/// Writes `text` to `path` through a per-process, per-call temporary file
/// renamed into place ([`decouple_train::write_atomic`]), so an interrupted
/// run never leaves a half-written file under the final name.
///
/// # Errors
/// I/O failure.
pub fn write_atomic(path: &Path, text: &str) -> crate::Result<()> {
    decouple_train::write_atomic(path, text).map_err(HarnessError::io("writing", path))
}
