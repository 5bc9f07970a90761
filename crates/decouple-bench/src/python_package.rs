//! The Python package's entry of the bench (`python`): `benches/python/python_step.py`
//! run as a child process by the interpreter that imports `decouple`
//! (`$DECOUPLE_PYTHON`, else `target/py-venv/bin/python`, which `cargo xtask
//! python-env` makes). Its entries (`cli/...`, `python/...`, and
//! `reference/pytorch-step-default` when torch imports) go into `bench.json`
//! with the ratios it takes pair by pair: a whole default run driven from
//! Python over the CLI, and the ms per step of the built-in, a NumPy and a
//! PyTorch objective over the native step and against the pure PyTorch step.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

use crate::measure::Entry;

/// The script, relative to the workspace root.
pub const SCRIPT: &str = "benches/python/python_step.py";

#[derive(Debug, Deserialize)]
struct ScriptReport {
    entries: Vec<crate::reference::ScriptEntry>,
}

/// The first interpreter that imports `decouple`.
fn interpreter(root: &Path) -> Option<PathBuf> {
    let candidates = std::env::var("DECOUPLE_PYTHON").map(PathBuf::from).into_iter().chain([root.join("target/py-venv/bin/python")]);
    candidates.into_iter().find(|python| {
        Command::new(python).args(["-c", "import decouple"]).stdin(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
    })
}

/// Runs the script on `threads` with the `decouple` binary `cli`; its entries
/// and the derived ratios, or `None` (said on stderr) without the package.
pub fn run(root: &Path, cli: &Path, threads: &[usize]) -> Option<Vec<Entry>> {
    let Some(python) = interpreter(root) else {
        eprintln!("  python: skipped (no interpreter imports decouple): `cargo xtask python-env` makes target/py-venv");
        return None;
    };
    let threads = threads.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
    eprintln!("  python ({SCRIPT} with {})...", python.display());
    let output = Command::new(&python)
        .arg(SCRIPT)
        .args(["--threads", &threads, "--cli"])
        .arg(cli)
        .current_dir(root)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output();
    let report: ScriptReport = match output.map_err(|error| error.to_string()).and_then(|output| {
        if !output.status.success() {
            return Err(format!("exited with {}", output.status));
        }
        serde_json::from_slice(&output.stdout).map_err(|error| error.to_string())
    }) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("  python: {SCRIPT} failed ({error}); reporting without it");
            return None;
        }
    };
    Some(report.entries.into_iter().map(|entry| entry.into_entry("")).collect())
}
