//! A description of the machine and the code a bench ran on: CPU, cores,
//! memory, toolchain and git commit.

use decouple_harness::{available_cores, command_output, cpu_model, git_commit, toolchain};
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
    /// Git commit of the working tree (`-dirty` if it has uncommitted changes).
    pub git_commit: String,
    /// The load average when the bench started (other work on the machine skews the figures).
    pub load_average: String,
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
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_gib = crate::measure::status_field_mib(&meminfo, "MemTotal:").map_or(0.0, |mib| mib / 1024.0);
        Self {
            cpu: cpu_model(),
            cores: available_cores(),
            simd: simd_features(),
            memory_gib,
            rustc: toolchain(),
            os: command_output("uname", &["-sr"]).unwrap_or_else(|| std::env::consts::OS.into()),
            git_commit: git_commit(root),
            load_average: std::fs::read_to_string("/proc/loadavg")
                .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
                .unwrap_or_default(),
        }
    }
}
