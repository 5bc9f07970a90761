//! A description of the machine and the code a bench ran on: CPU, cores,
//! memory, toolchain and git commit.

use std::process::Command;

use serde::Serialize;

/// What the numbers were measured on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// CPU model name (`/proc/cpuinfo`).
    pub cpu: String,
    /// Logical CPUs available to this process.
    pub cores: usize,
    /// SIMD features relevant to the kernels (detected at run time).
    pub simd: Vec<&'static str>,
    /// Total memory in GiB (`/proc/meminfo`).
    pub memory_gib: f64,
    /// `rustc --version`.
    pub rustc: String,
    /// `uname -sr`-like kernel description.
    pub os: String,
    /// Git commit of the working tree (`+dirty` if it has uncommitted changes).
    pub git_commit: String,
    /// The load average when the bench started (other work on the machine skews the figures).
    pub load_average: String,
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    // GIT_OPTIONAL_LOCKS=0: `git status` must not refresh (write) the index.
    let output = Command::new(program).args(args).env("GIT_OPTIONAL_LOCKS", "0").output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

fn simd_features() -> Vec<&'static str> {
    let mut features = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            features.push("avx2");
        }
        if std::arch::is_x86_feature_detected!("fma") {
            features.push("fma");
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            features.push("avx512f");
        }
    }
    features
}

impl Machine {
    /// Reads the description of this machine and of the git working tree at `root`.
    pub fn describe(root: &std::path::Path) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|line| line.starts_with("model name"))
            .and_then(|line| line.split(':').nth(1))
            .map_or_else(|| "unknown".into(), |name| name.trim().to_string());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_gib = crate::measure::status_field_mib(&meminfo, "MemTotal:").map_or(0.0, |mib| mib / 1024.0);
        let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
        let root = root.to_string_lossy();
        let commit = command_output("git", &["-C", &root, "rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
        let dirty = command_output("git", &["-C", &root, "status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
        Self {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            simd: simd_features(),
            memory_gib,
            rustc: command_output(&rustc, &["--version"]).unwrap_or_else(|| "unknown".into()),
            os: command_output("uname", &["-sr"]).unwrap_or_else(|| std::env::consts::OS.into()),
            git_commit: if dirty { format!("{commit}+dirty") } else { commit },
            load_average: std::fs::read_to_string("/proc/loadavg")
                .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
                .unwrap_or_default(),
        }
    }
}
