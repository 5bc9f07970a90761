//! Times a reproduction (`decouple reproduce`) in a child process and reads
//! its peak resident memory (`VmHWM`) by polling `/proc/<pid>/status`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::measure::status_field_mib;

/// Wall time and peak memory of one reproduction.
pub struct ReproduceRun {
    /// The command that was run.
    pub command: String,
    /// Seconds from start to exit.
    pub wall_s: f64,
    /// Peak resident memory in MiB (`None` where `/proc` is unavailable).
    pub peak_rss_mib: Option<f64>,
    /// Exit status was success (every claim passed).
    pub passed: bool,
}

/// Builds the `decouple` binary next to this one (same profile and target
/// folder) with `cargo build --release`, from the workspace `root`.
///
/// # Errors
/// `cargo` cannot be run or the build fails.
pub fn build_decouple(root: &Path) -> anyhow::Result<std::path::PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args(["build", "--quiet", "--release", "--package", "decouple-cli", "--bin", "decouple"])
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build of the decouple binary failed");
    }
    let binary = std::env::current_exe()?.with_file_name(format!("decouple{}", std::env::consts::EXE_SUFFIX));
    if !binary.exists() {
        bail!("{} not found after the build", binary.display());
    }
    Ok(binary)
}

/// Runs `binary reproduce ARGS --out OUT` from `root`, its output discarded.
///
/// # Errors
/// The child cannot be started.
pub fn run(binary: &Path, root: &Path, args: &[&str], out: &Path) -> anyhow::Result<ReproduceRun> {
    let start = Instant::now();
    let mut child = Command::new(binary)
        .current_dir(root)
        .arg("reproduce")
        .args(args)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak: Option<f64> = None;
    let status = loop {
        if let Some(hwm) = std::fs::read_to_string(&status_path).ok().and_then(|text| status_field_mib(&text, "VmHWM:")) {
            peak = Some(peak.map_or(hwm, |p| p.max(hwm)));
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ok(ReproduceRun {
        command: format!("decouple reproduce {} --out {}", args.join(" "), out.display()),
        wall_s: start.elapsed().as_secs_f64(),
        peak_rss_mib: peak,
        passed: status.success(),
    })
}

/// Where the run time of a reproduction went, summed over the runs every
/// experiment trained (from the `time` of each `OUT/*/summary.json`).
#[derive(Debug, Default)]
pub struct Breakdown {
    /// Training steps, seconds.
    pub train_s: f64,
    /// Analysis of the logged steps, seconds.
    pub history_s: f64,
    /// Evaluation of the trained networks, seconds.
    pub evaluation_s: f64,
    /// Of the evaluation, the probes.
    pub probes_s: f64,
    /// Of the evaluation, the decoupling statistics.
    pub decoupling_s: f64,
    /// Each experiment's run time (training + history + evaluation), largest first.
    pub experiments: Vec<(String, f64)>,
}

/// Reads the breakdown of the reproduction written to `out` (experiments without run times count nothing).
#[must_use]
pub fn breakdown(out: &Path) -> Breakdown {
    let mut total = Breakdown::default();
    let Ok(entries) = std::fs::read_dir(out) else { return total };
    for entry in entries.flatten() {
        let Some(summary) = std::fs::read_to_string(entry.path().join("summary.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        else {
            continue;
        };
        let Some(time) = summary.get("time") else { continue };
        let number = |path: &str| time.pointer(path).and_then(serde_json::Value::as_f64).unwrap_or(0.0);
        let (train, history, evaluation) = (number("/train_s"), number("/history_s"), number("/evaluation/total_s"));
        total.train_s += train;
        total.history_s += history;
        total.evaluation_s += evaluation;
        total.probes_s += number("/evaluation/probes_s");
        total.decoupling_s += number("/evaluation/decoupling_s");
        let id = summary.get("experiment").and_then(serde_json::Value::as_str).unwrap_or("?").to_string();
        total.experiments.push((id, train + history + evaluation));
    }
    total.experiments.sort_by(|a, b| b.1.total_cmp(&a.1));
    total
}
