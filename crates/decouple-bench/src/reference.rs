//! The PyTorch reference of the training step (`benches/reference/torch_step.py`),
//! run as a child process when `python3 -c "import torch"` works. It is never
//! needed: without torch (or if the script fails) the bench reports decouple alone.

use std::path::Path;
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use crate::measure::Entry;

/// The script, relative to the workspace root.
pub const SCRIPT: &str = "benches/reference/torch_step.py";

/// What to install to get the PyTorch columns.
pub const INSTALL_HINT: &str = "pip install torch numpy";

/// The interpreter: `$DECOUPLE_PYTHON`, or `python3`.
fn python() -> String {
    std::env::var("DECOUPLE_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// `Ok` if the interpreter imports torch; otherwise why not, in one line.
pub fn torch_available() -> Result<(), String> {
    let output = Command::new(python()).args(["-c", "import torch"]).stdin(Stdio::null()).output();
    match output {
        Ok(output) if output.status.success() => Ok(()),
        Ok(output) => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            Err(stderr.lines().last().unwrap_or("import torch failed").trim().to_string())
        }
        Err(error) => Err(format!("{} not found ({error})", python())),
    }
}

/// One timing of a Python script of the bench (this one's, and the Python package's).
#[derive(Debug, Deserialize)]
pub struct ScriptEntry {
    name: String,
    threads: usize,
    unit: String,
    min: f64,
    median: f64,
    max: f64,
    repetitions: usize,
}

impl ScriptEntry {
    /// The bench entry, its name prefixed with `prefix`.
    pub fn into_entry(self, prefix: &str) -> Entry {
        Entry {
            name: format!("{prefix}{}", self.name),
            threads: self.threads,
            unit: self.unit,
            min: self.min,
            median: self.median,
            max: self.max,
            repetitions: self.repetitions,
        }
    }
}

/// The script's loss-curve statistic over seeds.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ScriptLossCheck {
    /// The statistic per seed (seeds 0, 1, ...).
    pub values: Vec<f64>,
    /// Their mean.
    pub mean: f64,
    /// The standard error of the mean.
    pub standard_error: f64,
}

/// What the script prints (one JSON object).
#[derive(Debug, Deserialize)]
struct ScriptReport {
    torch: String,
    mkl: bool,
    cpu_capability: Option<String>,
    entries: Vec<ScriptEntry>,
    loss_check: Option<ScriptLossCheck>,
}

/// The reference's part of `bench.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Reference {
    /// The command that ran it.
    pub command: String,
    /// `torch.__version__`.
    pub torch: String,
    /// Whether torch was built with MKL.
    pub mkl: bool,
    /// torch's CPU kernel level (`torch.backends.cpu.get_cpu_capability()`).
    pub cpu_capability: Option<String>,
    /// Its loss-curve statistic, if asked for.
    pub loss_check: Option<ScriptLossCheck>,
}

/// The prefix of the reference's entries in `bench.json` (`pytorch/step-default`, ...).
pub const PREFIX: &str = "pytorch/";

/// What to ask of the script.
pub struct Request<'a> {
    /// Bench workloads to time (e.g. `step-default`), on every thread count.
    pub workloads: &'a [&'a str],
    /// Thread counts of the workloads.
    pub threads: &'a [usize],
    /// Scaling points in the script's spelling (`128x512x128`, B x d1 x m), 1 thread.
    pub scaling: &'a [String],
    /// Whether to run its loss check.
    pub loss_check: bool,
}

/// Runs the script as `request` says; returns its entries (names prefixed
/// with [`PREFIX`]) and its description.
///
/// # Errors
/// The script could not be started, failed, or printed something else than its report.
pub fn run(root: &Path, request: &Request<'_>) -> anyhow::Result<(Vec<Entry>, Reference)> {
    let threads = request.threads.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
    let mut args = vec![SCRIPT.to_string(), "--threads".into(), threads];
    if request.workloads.is_empty() {
        args.push("--no-timing".into());
    } else {
        args.extend(["--workloads".into(), request.workloads.join(",")]);
    }
    if !request.scaling.is_empty() {
        args.extend(["--scaling".into(), request.scaling.join(",")]);
    }
    if !request.loss_check {
        args.push("--no-loss-check".into());
    }
    let command = std::iter::once(python()).chain(args.iter().cloned()).collect::<Vec<_>>().join(" ");
    let output = Command::new(python()).args(&args).current_dir(root).stdin(Stdio::null()).stderr(Stdio::inherit()).output()?;
    anyhow::ensure!(output.status.success(), "`{command}` exited with {}", output.status);
    let report: ScriptReport = serde_json::from_slice(&output.stdout)?;
    let entries = report.entries.into_iter().map(|entry| entry.into_entry(PREFIX)).collect();
    let reference =
        Reference { command, torch: report.torch, mkl: report.mkl, cpu_capability: report.cpu_capability, loss_check: report.loss_check };
    Ok((entries, reference))
}
