//! What runs and experiments share: the parallel job runner, atomic writes,
//! the check that a folder can be written (done before any training), and
//! provenance (decouple version, git commit, toolchain, machine) recorded in
//! `config.json` and `summary.json`.

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

/// Which code made a result: the decouple version and the git commit of the
/// source tree this binary was built from (`-dirty` when tracked files had
/// changed when it started, `unknown` outside a git checkout).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CodeVersion {
    /// The workspace version (`CARGO_PKG_VERSION`).
    pub version: String,
    /// [`git_commit`] of the source tree.
    pub commit: String,
}

impl CodeVersion {
    /// `0.1.0 (commit abcdef123456)`, the commit cut to 12 digits (and `-dirty`).
    #[must_use]
    pub fn short(&self) -> String {
        format!("{} (commit {})", self.version, short_commit(&self.commit))
    }
}

/// The first 12 digits of a commit, keeping a `-dirty` suffix.
#[must_use]
pub fn short_commit(commit: &str) -> String {
    let (hash, dirty) = commit.strip_suffix("-dirty").map_or((commit, ""), |hash| (hash, "-dirty"));
    format!("{}{dirty}", hash.get(..12).unwrap_or(hash))
}

/// The [`CodeVersion`] of this process, computed once: the source tree is the
/// workspace this crate was compiled in (so a run started from any folder
/// records the code that made it).
#[must_use]
pub fn code_version() -> &'static CodeVersion {
    static VERSION: std::sync::OnceLock<CodeVersion> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..");
        let commit = if source.join("Cargo.toml").is_file() { git_commit(&source) } else { "unknown".into() };
        CodeVersion { version: env!("CARGO_PKG_VERSION").to_string(), commit }
    })
}

/// Checks that files can be created in `dir` (creating it if needed) by
/// writing and removing a probe file: done before training, so that a run
/// never trains to the end and then fails to save.
///
/// # Errors
/// [`HarnessError::Unwritable`] naming the folder and the system's reason.
pub fn check_writable(dir: &Path) -> crate::Result<()> {
    let unwritable = |error: std::io::Error| HarnessError::Unwritable { dir: dir.to_path_buf(), error };
    std::fs::create_dir_all(dir).map_err(unwritable)?;
    let probe = dir.join(format!(".decouple-write-check-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(unwritable)?;
    std::fs::remove_file(&probe).map_err(unwritable)
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

/// Memory this process may still allocate, in bytes: `MemAvailable` of
/// `/proc/meminfo`, lowered to the cgroup's limit minus its usage (cgroup v2
/// `memory.max` - (`memory.current` - reclaimable `inactive_file`)) when there is one; `None` when neither
/// can be read (not Linux), so that no run is refused on a guess.
#[must_use]
pub fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib = |field: &str| -> Option<u64> {
        let line = meminfo.lines().find(|line| line.starts_with(field))?;
        line.split_whitespace().nth(1)?.parse::<u64>().ok()
    };
    let machine = kib("MemAvailable:").or_else(|| kib("MemFree:"))?.saturating_mul(1024);
    let read = |name: &str| std::fs::read_to_string(Path::new("/sys/fs/cgroup").join(name)).ok();
    let number = |name: &str| read(name)?.trim().parse::<u64>().ok();
    // The page cache the kernel reclaims first (`inactive_file`) counts as free, as MemAvailable counts it.
    let reclaimable = read("memory.stat")
        .and_then(|stat| stat.lines().find_map(|line| line.strip_prefix("inactive_file ").and_then(|v| v.trim().parse::<u64>().ok())))
        .unwrap_or(0);
    let used = number("memory.current").unwrap_or(0).saturating_sub(reclaimable);
    let cgroup = number("memory.max").map(|limit| limit.saturating_sub(used));
    Some(cgroup.map_or(machine, |cgroup| cgroup.min(machine)))
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
