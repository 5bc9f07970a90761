//! The example's binary is `decouple`'s command line with its loss
//! registered: it runs the TOML config and the lambda sweep of `configs/`
//! that name `AlignmentUniformity`, and `decouple analyze` and `decouple
//! compare` (the harness's functions with the built-in registry only) read
//! the folders it writes.

use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("alignment-uniformity-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn configs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("configs")
}

fn run(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_alignment-uniformity")).args(args).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{args:?}\n{stdout}\n{stderr}");
    stdout.into_owned()
}

#[test]
fn the_binary_runs_its_config_and_its_sweep_and_decouple_reads_the_folders() {
    let dir = scratch("runs");
    let (run_dir, sweep_dir) = (dir.join("run"), dir.join("sweep"));
    let config = configs().join("run.toml");
    let stdout = run(&["run", "--config", config.to_str().unwrap(), "--set", "steps=200", "--out", run_dir.to_str().unwrap()]);
    assert!(stdout.contains("median best_j"), "{stdout}");
    let resolved: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run_dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(resolved["config"]["objective"], serde_json::json!({"kind": "AlignmentUniformity", "t": 2.0, "lambda": 1.0}));

    let sweep = configs().join("sweep-lambda.toml");
    let stdout = run(&["sweep", "--config", sweep.to_str().unwrap(), "--out", sweep_dir.to_str().unwrap(), "--jobs", "2"]);
    assert!(stdout.contains("3 runs: 3 ok, 0 failed"), "{stdout}");
    let csv = std::fs::read_to_string(sweep_dir.join("sweep.csv")).unwrap();
    assert!(csv.lines().next().unwrap().starts_with("run,objective.lambda,seed,status"), "{csv}");

    // `decouple analyze` has only the built-in parts: it analyses the run and says the objective is not its own.
    let analysis = decouple_harness::analyze::analyze(&run_dir).unwrap();
    assert_eq!(analysis.same_as_summary, Some(true));
    assert!(
        matches!(analysis.state, decouple_harness::analyze::StateCheck::NotRegistered { ref kind, .. } if kind == "AlignmentUniformity")
    );
    let mut runs: Vec<PathBuf> = std::fs::read_dir(sweep_dir.join("runs")).unwrap().map(|entry| entry.unwrap().path()).collect();
    runs.sort();
    runs.push(run_dir);
    let comparison = decouple_harness::compare::compare(&runs, &dir.join("compare.svg")).unwrap();
    let lambda = comparison.table.lines().find(|line| line.starts_with("objective.lambda")).expect("lambda differs between the runs");
    assert!(lambda.contains('4'), "{}", comparison.table);
    // And the run's own binary analyses it with its objective restored (it has no state: nothing to restore).
    let stdout = run(&["analyze", dir.join("run").to_str().unwrap()]);
    assert!(stdout.contains("the same report as summary.json"), "{stdout}");
}

#[test]
fn an_unknown_kind_lists_the_registered_ones_and_where_to_register() {
    let dir = scratch("unknown");
    let config = configs().join("run.toml");
    let output = Command::new(env!("CARGO_BIN_EXE_alignment-uniformity"))
        .args(["run", "--config", config.to_str().unwrap(), "--set", "objective.kind=AlignUnif", "--out", dir.join("x").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for part in ["objective.kind", "AlignUnif", "AlignmentUniformity", "Contrastive", "register_objective"] {
        assert!(stderr.contains(part), "{part}: {stderr}");
    }
}
