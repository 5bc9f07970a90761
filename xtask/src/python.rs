//! The Python side of `cargo xtask test` and `cargo xtask python-env`: a
//! virtual environment under `target/py-venv` (made once, from the first
//! Python >= 3.10 found: `$DECOUPLE_PYTHON`, `python3`, `python`) with the
//! build and test tools from PyPI (maturin, numpy, pytest), and the package
//! `decouple` built from `crates/decouple-py` and installed into it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What the environment needs besides the package (torch is optional: its tests skip without it).
const TOOLS: [&str; 3] = ["maturin>=1.9,<2", "numpy>=1.23", "pytest>=7"];

fn status(command: &mut Command, what: &str) -> Result<(), String> {
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("{what} failed ({status})")),
        Err(error) => Err(format!("{what}: could not start {:?} ({error})", command.get_program())),
    }
}

/// The first interpreter that is Python >= 3.10.
fn find_python() -> Result<String, String> {
    let candidates: Vec<String> = std::env::var("DECOUPLE_PYTHON").into_iter().chain(["python3".into(), "python".into()]).collect();
    for candidate in &candidates {
        let ok = Command::new(candidate)
            .args(["-c", "import sys; raise SystemExit(0 if sys.version_info >= (3, 10) else 1)"])
            .status()
            .is_ok_and(|status| status.success());
        if ok {
            return Ok(candidate.clone());
        }
    }
    Err(format!("no Python >= 3.10 found (tried {}); install one, or set DECOUPLE_PYTHON to its path", candidates.join(", ")))
}

/// The environment's interpreter, made (and its tools installed) if needed.
fn environment(root: &Path) -> Result<PathBuf, String> {
    let venv = root.join("target").join("py-venv");
    let python = venv.join("bin").join("python");
    if !python.is_file() {
        let base = find_python()?;
        eprintln!("xtask: making the Python environment {} (from {base})", venv.display());
        status(Command::new(&base).args(["-m", "venv"]).arg(&venv), "python -m venv")?;
    }
    let has_tools = Command::new(&python)
        .args(["-c", "import maturin, numpy, pytest"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !has_tools {
        eprintln!("xtask: installing {} from PyPI into {}", TOOLS.join(", "), venv.display());
        status(Command::new(&python).args(["-m", "pip", "install", "--quiet", "--upgrade"]).args(TOOLS), "pip install")?;
    }
    Ok(python)
}

/// Makes the environment and builds and installs the package into it; returns its interpreter.
pub(crate) fn install(root: &Path) -> Result<PathBuf, String> {
    let python = environment(root)?;
    eprintln!("xtask: building the Python package from crates/decouple-py (release; minutes on a fresh clone) and installing it");
    // The build backend runs the environment's `maturin`: its bin folder goes first on PATH, as an activated environment would have it.
    let bin = python.parent().map(Path::to_path_buf).unwrap_or_default();
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())))
        .map_err(|error| format!("PATH: {error}"))?;
    status(
        Command::new(&python).current_dir(root).env("PATH", path).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-build-isolation",
            "--force-reinstall",
            "--no-deps",
            "./crates/decouple-py",
        ]),
        "pip install ./crates/decouple-py",
    )?;
    Ok(python)
}

/// pytest on `crates/decouple-py/tests`, with the CLI binary `cli` for the comparisons against it.
pub(crate) fn pytest(root: &Path, python: &Path, cli: &Path, args: &[String]) -> Result<(), String> {
    eprintln!("xtask: pytest crates/decouple-py/tests");
    status(
        Command::new(python).current_dir(root).env("DECOUPLE_CLI", cli).args(["-m", "pytest", "crates/decouple-py/tests", "-q"]).args(args),
        "pytest",
    )
}
