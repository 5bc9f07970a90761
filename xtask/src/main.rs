//! `cargo xtask`: project automation for decouple.
//!
//! xtask itself is a small dev build with no dependencies; the heavy work runs
//! in a release build of the `decouple` binary (crate `decouple-cli`):
//! `cargo xtask reproduce [ARGS]` is `cargo run --release -p decouple-cli
//! --bin decouple -- reproduce [ARGS]`, run from the workspace root; `cargo
//! xtask bench` runs the `decouple-bench` binary (crate `decouple-bench`).
//!
//! The default build is portable (baseline x86-64). `--native`, anywhere
//! after the task, builds for this machine's CPU instead
//! (`RUSTFLAGS="-C target-cpu=native"`, in its own target folder
//! `target/native` so that the two builds do not rebuild each other); the
//! results are the same bits, only faster (docs/performance.md).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod python;

const TASKS: &str = "tasks:
  reproduce [--quick] [--only ID,..] [--seeds N] [--out DIR] [--jobs N] [--threads N] [--list]
            run the experiments of docs/claims.md, write results/ and REPORT.md
  publish-docs [--from results] [--to docs] [--allow-dirty]
            copy a finished default run into docs/experiments.md and docs/figures/
            (refuses a tree with uncommitted changes; keeps the Robustness section)
  publish-docs --robustness results-10 [--to docs] [--allow-dirty]
            write only the Robustness section of docs/experiments.md from a
            many-seed run (reproduce --seeds 10 --out results-10; not part of CI)
  run --config FILE [--set path=value ...] [--out DIR] [--force] [--threads N] [--dry-run]
            one training run with the full analysis and its saved network
  sweep --config SWEEP [--jobs N] [--threads N] [--shard I/N] [--out DIR]
        [--rerun-stale | --accept-stale] [--dry-run]
            a grid of runs x seeds, resumable and shardable
  merge DIR... [--out DIR]
            combine the results of sweep shards
  analyze RUN_DIR
            recompute the analysis and plots of a run from its saved network
  compare RUN_DIR... [--out compare.svg]
            runs side by side, their curves overlaid in one SVG
  bench [--out DIR] [--threads 1,2] [--profile] [--full] [--no-reproduce] [--no-pytorch] [--only NAME,..]
            throughput of the training step and the reproduction (bench.json),
            side by side with benches/reference/torch_step.py if torch is installed
  test [--rust-only | --python-only] [-- PYTEST_ARGS]
            every test of the repository: cargo test --workspace --release, then
            the Python package built into target/py-venv and its pytest suite
  python-env
            make target/py-venv (maturin, numpy, pytest from PyPI) with the
            package decouple installed; then target/py-venv/bin/python
  --native  (with any task) build for this machine's CPU: faster, same results,
            but the binary may not run on older CPUs (docs/performance.md)";

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let native = args.iter().skip(1).any(|arg| arg == "--native");
    if native {
        args.retain(|arg| arg != "--native");
    }
    let Some(task) = args.first() else {
        eprintln!("usage: cargo xtask <task> [args]\n{TASKS}");
        return ExitCode::from(2);
    };
    match task.as_str() {
        "reproduce" | "publish-docs" | "run" | "sweep" | "merge" | "analyze" | "compare" => {
            run_release("decouple-cli", "decouple", &args, native)
        }
        "bench" => run_release("decouple-bench", "decouple-bench", &args[1..], native),
        "test" => test(&args[1..]),
        "python-env" => report(python::install(&root()).map(|python| println!("{}", python.display()))),
        "help" | "--help" | "-h" => {
            println!("usage: cargo xtask <task> [args]\n{TASKS}");
            ExitCode::SUCCESS
        }
        other => {
            eprintln!("unknown task `{other}`\n{TASKS}");
            ExitCode::from(2)
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn report(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error}");
            ExitCode::FAILURE
        }
    }
}

fn cargo_status(root: &Path, args: &[&str]) -> Result<(), String> {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    match command.current_dir(root).args(args).status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("cargo {} failed ({status})", args.join(" "))),
        Err(error) => Err(format!("failed to start cargo: {error}")),
    }
}

/// `cargo xtask test`: the Rust tests, then the Python package's (arguments after `--` go to pytest).
fn test(args: &[String]) -> ExitCode {
    let (ours, pytest_args) = match args.iter().position(|arg| arg == "--") {
        Some(split) => (&args[..split], &args[split + 1..]),
        None => (args, &[][..]),
    };
    let (rust, python) = (!ours.iter().any(|arg| arg == "--python-only"), !ours.iter().any(|arg| arg == "--rust-only"));
    let root = root();
    report((|| {
        if rust {
            eprintln!("xtask: cargo test --workspace --release");
            cargo_status(&root, &["test", "--workspace", "--release"])?;
        }
        if python {
            cargo_status(&root, &["build", "--release", "--package", "decouple-cli", "--bin", "decouple"])?;
            let interpreter = python::install(&root)?;
            python::pytest(&root, &interpreter, &root.join("target").join("release").join("decouple"), pytest_args)?;
        }
        Ok(())
    })())
}

/// Runs `cargo build --release -p PACKAGE --bin BIN` (with cargo's progress,
/// after a line that says what is built and how long it may take), then
/// `cargo run --quiet --release -p PACKAGE --bin BIN -- ARGS`, from the
/// workspace root; with `native`, for this machine's CPU in `target/native`
/// (set through the environment, so that cargo commands the binary runs
/// build the same way).
fn run_release(package: &str, binary: &str, args: &[String], native: bool) -> ExitCode {
    let root = root();
    let cargo = |subcommand: &[&str]| {
        let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        if native {
            let flags = std::env::var("RUSTFLAGS").map_or_else(|_| String::new(), |flags| flags + " ");
            command.env("RUSTFLAGS", flags + "-C target-cpu=native").env("CARGO_TARGET_DIR", root.join("target").join("native"));
        }
        command.current_dir(&root).args(subcommand).args(["--release", "--package", package, "--bin", binary]);
        command
    };
    let exit = |status: std::io::Result<std::process::ExitStatus>| match status {
        Ok(status) => ExitCode::from(u8::try_from(status.code().unwrap_or(1)).unwrap_or(1)),
        Err(error) => {
            eprintln!("failed to start cargo: {error}");
            ExitCode::from(2)
        }
    };
    // The build first, with cargo's own progress: on a fresh clone it takes minutes, which must not pass in silence.
    eprintln!("xtask: building `{binary}` in release mode (a few minutes on a fresh clone, a second when it is up to date)");
    match cargo(&["build"]).status() {
        Ok(status) if status.success() => {}
        other => return exit(other),
    }
    exit(cargo(&["run", "--quiet"]).arg("--").args(args).status())
}
