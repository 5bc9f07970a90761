//! Sweeps through the `decouple` binary on tiny configs: a sweep killed
//! with SIGKILL at several random points and rerun ends identical to an
//! uninterrupted one (and never leaves a run that looks complete before it
//! is); truncated or missing files are detected and redone; runs made by
//! other code are refused, kept or redone as asked, never mixed silently;
//! every split of the cores between jobs and threads gives the same files;
//! the union of the shards, merged, equals the full sweep; a diverging run
//! is recorded as failed and the sweep goes on; shards partition the runs.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::scratch;

use decouple_harness::sweep::Shard;

/// 3 x 2 grid points x 2 seeds = 12 runs of about a tenth of a second each.
const SWEEP: &str = r#"
name = "tiny"
seeds = 2

[base]
steps = 1500
batch_size = 32
log_every = 250
data = { d = 4, d1 = 32, latent = { kind = "Bernoulli", p = 0.5 } }
network = { width = 16 }

[grid]
"augmentation.keep" = [0.3, 0.5, 0.7]
optimizer.learning_rate = [0.2, 0.5]

[evaluation]
n_activity = 200
n_probe_train = 100
n_probe_test = 100
n_decoupling = 0

[plot]
metrics = ["median_best", "n_recovered"]
"#;

/// Writes the sweep file into `dir` (`SWEEP` with `replace` applied).
fn sweep_file(dir: &Path, replace: (&str, &str)) -> PathBuf {
    let file = dir.join("tiny.toml");
    std::fs::write(&file, SWEEP.replace(replace.0, replace.1)).unwrap();
    file
}

fn decouple(args: &[&str], file: &Path, out: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_decouple"));
    command.arg(args[0]).arg("--config").arg(file).arg("--out").arg(out).args(&args[1..]);
    command
}

fn run(mut command: Command) -> Output {
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    output
}

/// Every file of every run folder (summary.json without its wall time),
/// plus sweep.csv without the wall-time column: what must be identical.
fn contents(out: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for run in std::fs::read_dir(out.join("runs")).unwrap() {
        let run = run.unwrap().path();
        let name = run.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "a partial folder survived: {name}");
        for file in std::fs::read_dir(&run).unwrap() {
            let file = file.unwrap().path();
            let mut bytes = std::fs::read(&file).unwrap();
            if file.ends_with("summary.json") {
                let mut summary: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                summary.as_object_mut().unwrap().remove("wall_s");
                bytes = summary.to_string().into_bytes();
            }
            files.insert(format!("{name}/{}", file.file_name().unwrap().to_string_lossy()), bytes);
        }
    }
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    let wall = csv.lines().next().unwrap().split(',').position(|column| column == "wall_s").unwrap();
    let without_wall: Vec<String> = csv
        .lines()
        .map(|line| line.split(',').enumerate().filter(|(index, _)| *index != wall).map(|(_, cell)| cell).collect::<Vec<_>>().join(","))
        .collect();
    files.insert("sweep.csv".into(), without_wall.join("\n").into_bytes());
    files
}

/// The run folders of `out` that are complete (`progress.json` says so, last
/// of all files, and `summary.json` parses). Every other folder must say it
/// is incomplete: a killed run never looks complete. Returns (complete,
/// incomplete) names (hidden partial folders are neither).
fn run_folders(out: &Path) -> (Vec<String>, Vec<String>) {
    let (mut complete, mut incomplete) = (Vec::new(), Vec::new());
    let Ok(entries) = std::fs::read_dir(out.join("runs")) else { return (complete, incomplete) };
    for path in entries.map(|entry| entry.unwrap().path()) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue; // a partial folder of a killed start (`contents` checks that none survives a rerun)
        }
        let progress: Option<serde_json::Value> =
            std::fs::read_to_string(path.join("progress.json")).ok().and_then(|text| serde_json::from_str(&text).ok());
        match progress.as_ref().and_then(|progress| progress["state"].as_str()) {
            Some("complete") => {
                let text = std::fs::read_to_string(path.join("summary.json")).unwrap();
                serde_json::from_str::<serde_json::Value>(&text).unwrap();
                complete.push(name);
            }
            // (A summary may already be there in the instant between its write and
            // progress.json's last one: the folder still counts as incomplete.)
            Some("incomplete") => incomplete.push(name),
            other => panic!("{name}: a run folder without a valid progress.json ({other:?})"),
        }
    }
    (complete, incomplete)
}

fn complete_runs(out: &Path) -> Vec<String> {
    run_folders(out).0
}

/// A small deterministic generator (the test's "random" kill times).
fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
    *state >> 33
}

#[test]
fn a_sweep_killed_at_random_points_resumes_to_the_same_results_as_an_uninterrupted_one() {
    let dir = scratch("sweep-resume");
    let file = sweep_file(&dir, ("", ""));
    let (full, resumed) = (dir.join("full"), dir.join("resumed"));
    let start = Instant::now();
    run(decouple(&["sweep", "--jobs", "2"], &file, &full));
    let full_time = start.elapsed();
    assert_eq!(complete_runs(&full).len(), 12);

    // SIGKILL (Child::kill) at pseudo-random times, four times: each attempt
    // waits for one more run to complete, then up to half a run more, so the
    // four leave runs to do (at most about 9 of 12 complete).
    let mut state = 16;
    let (mut kills, mut seen_incomplete) = (0, 0);
    while kills < 4 && complete_runs(&resumed).len() < 10 {
        let jobs = if kills == 1 { "2" } else { "1" };
        let mut child = decouple(&["sweep", "--jobs", jobs], &file, &resumed).stdout(Stdio::null()).spawn().unwrap();
        let before = complete_runs(&resumed).len();
        let wait = Duration::from_millis(20 + next_random(&mut state) % (full_time.as_millis() as u64 / 12).clamp(20, 1000));
        let started = Instant::now();
        // Wait the drawn time, and until one more run is complete (so that each attempt progresses).
        while started.elapsed() < wait || complete_runs(&resumed).len() == before {
            assert!(started.elapsed() < Duration::from_secs(60), "no run finished");
            std::thread::sleep(Duration::from_millis(2));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
        seen_incomplete += run_folders(&resumed).1.len();
    }
    let (complete, incomplete) = run_folders(&resumed);
    assert!(kills >= 3 && complete.len() < 12, "killed {kills} times, {} of 12 complete", complete.len());
    assert!(seen_incomplete > 0, "no kill landed inside a run");

    let output = run(decouple(&["sweep", "--jobs", "2"], &file, &resumed));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(&format!("{} already complete, {} to run", complete.len(), 12 - complete.len())), "{stdout}");
    if !incomplete.is_empty() {
        assert!(stdout.contains(&format!("{} killed midway", incomplete.len())), "{stdout}");
    }
    assert_eq!(contents(&resumed), contents(&full));

    // A third run finds everything complete and changes nothing.
    let output = run(decouple(&["sweep"], &file, &resumed));
    assert!(String::from_utf8_lossy(&output.stdout).contains("12 already complete, 0 to run"));
    assert_eq!(contents(&resumed), contents(&full));
    for plot in ["median_best-heatmap.svg", "median_best-lines.svg", "n_recovered-heatmap.svg"] {
        assert_eq!(std::fs::read(resumed.join(plot)).unwrap(), std::fs::read(full.join(plot)).unwrap(), "{plot}");
    }
}

#[test]
fn damaged_run_folders_are_detected_and_redone() {
    let dir = scratch("sweep-damaged");
    let file = sweep_file(&dir, ("", ""));
    let (full, damaged) = (dir.join("full"), dir.join("out"));
    run(decouple(&["sweep", "--jobs", "2"], &file, &full));
    run(decouple(&["sweep", "--jobs", "2"], &file, &damaged));
    let mut names = complete_runs(&damaged);
    names.sort();
    let folder = |index: usize| damaged.join("runs").join(&names[index]);
    // A truncated summary.json, a missing metrics file, a metrics file cut
    // mid-line, a missing network and a progress.json left incomplete.
    let summary = std::fs::read(folder(0).join("summary.json")).unwrap();
    std::fs::write(folder(0).join("summary.json"), &summary[..summary.len() / 2]).unwrap();
    std::fs::remove_file(folder(1).join("metrics.jsonl")).unwrap();
    let metrics = std::fs::read(folder(2).join("metrics.jsonl")).unwrap();
    std::fs::write(folder(2).join("metrics.jsonl"), &metrics[..metrics.len() - 20]).unwrap();
    std::fs::remove_file(folder(3).join("checkpoint.json")).unwrap();
    std::fs::write(folder(4).join("progress.json"), r#"{"state":"incomplete","step":250,"steps":1500,"loss":1.0}"#).unwrap();

    let output = run(decouple(&["sweep", "--jobs", "2", "--dry-run"], &file, &damaged));
    let listing = String::from_utf8_lossy(&output.stdout);
    assert_eq!(listing.matches(" damaged (").count(), 4, "{listing}");
    assert!(listing.contains("summary.json does not parse") && listing.contains("no metrics.jsonl"), "{listing}");
    assert!(listing.contains("incomplete at step 250 of 1500"), "{listing}");
    assert!(folder(1).exists() && !folder(1).join("metrics.jsonl").exists(), "--dry-run changed a folder");

    let output = run(decouple(&["sweep", "--jobs", "2"], &file, &damaged));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("7 already complete, 5 to run (1 killed midway, 4 with missing or damaged files among them)"), "{stdout}");
    assert_eq!(contents(&damaged), contents(&full));
}

#[test]
fn runs_made_by_other_code_are_stale_and_never_mixed_silently() {
    let dir = scratch("sweep-stale");
    let file = sweep_file(&dir, ("seeds = 2", "seeds = 1"));
    let (full, out) = (dir.join("full"), dir.join("out"));
    run(decouple(&["sweep", "--jobs", "2"], &file, &full));
    run(decouple(&["sweep", "--jobs", "2"], &file, &out));
    let mut names = complete_runs(&out);
    names.sort();
    for name in &names[..2] {
        let path = out.join("runs").join(name).join("summary.json");
        let mut summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        summary["git_commit"] = "0123456789abcdef0123456789abcdef01234567".into();
        std::fs::write(&path, summary.to_string()).unwrap();
    }
    // A folder of a version that recorded no provenance.
    let older = out.join("runs").join(&names[2]).join("summary.json");
    let mut summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&older).unwrap()).unwrap();
    for field in ["git_commit", "decouple_version", "logged_steps", "network_files"] {
        summary.as_object_mut().unwrap().remove(field);
    }
    std::fs::write(&older, summary.to_string()).unwrap();
    let before = contents(&out);

    // Refused before anything runs, with the count and both ways out.
    let output = decouple(&["sweep"], &file, &out).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("3 of 6 complete run(s)") && stderr.contains("--rerun-stale") && stderr.contains("--accept-stale"), "{stderr}");
    assert_eq!(contents(&out), before);

    // Kept on request, and sweep.csv says which commit made each run.
    let output = run(decouple(&["sweep", "--accept-stale"], &file, &out));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("6 already complete (3 made by other code, kept), 0 to run"), "{stdout}");
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    assert_eq!(csv.matches("0123456789abcdef0123456789abcdef01234567").count(), 2, "{csv}");

    // Redone on request: the same results as a sweep made by this code.
    let output = run(decouple(&["sweep", "--rerun-stale", "--jobs", "2"], &file, &out));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("3 already complete (3 made by other code, to run again), 3 to run"), "{stdout}");
    assert_eq!(contents(&out), contents(&full));
    let output = decouple(&["sweep", "--rerun-stale", "--accept-stale"], &file, &out).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "the two stale flags exclude each other");
}

#[test]
fn a_sweep_gives_the_same_results_for_every_split_of_the_cores() {
    let dir = scratch("sweep-threads");
    let file = sweep_file(&dir, ("seeds = 2", "seeds = 1"));
    let reference = dir.join("jobs2-threads1");
    run(decouple(&["sweep", "--jobs", "2", "--threads", "1"], &file, &reference));
    for (jobs, threads) in [("1", "2"), ("1", "1"), ("2", "2")] {
        let out = dir.join(format!("jobs{jobs}-threads{threads}"));
        run(decouple(&["sweep", "--jobs", jobs, "--threads", threads], &file, &out));
        assert_eq!(contents(&out), contents(&reference), "--jobs {jobs} --threads {threads}");
    }
}

#[test]
fn merged_shards_equal_the_full_sweep() {
    let dir = scratch("sweep-shards");
    let file = sweep_file(&dir, ("seeds = 2", "seeds = 1"));
    let full = dir.join("full");
    run(decouple(&["sweep", "--jobs", "2"], &file, &full));
    let shards: Vec<PathBuf> = (1..=3).map(|index| dir.join(format!("shard-{index}"))).collect();
    for (index, shard) in shards.iter().enumerate() {
        run(decouple(&["sweep", "--jobs", "1", "--shard", &format!("{}/3", index + 1)], &file, shard));
        assert_eq!(complete_runs(shard).len(), 2);
        assert!(shard.join(format!("sweep-shard-{}-of-3.csv", index + 1)).is_file());
    }
    let merged = dir.join("merged");
    let output = Command::new(env!("CARGO_BIN_EXE_decouple")).arg("merge").args(&shards).arg("--out").arg(&merged).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(contents(&merged), contents(&full));
    assert_eq!(
        std::fs::read(merged.join("median_best-heatmap.svg")).unwrap(),
        std::fs::read(full.join("median_best-heatmap.svg")).unwrap()
    );

    // Shards running at the same time into one shared folder, merged in place.
    let shared = dir.join("shared");
    let children: Vec<_> = (1..=3)
        .map(|index| {
            decouple(&["sweep", "--jobs", "1", "--shard", &format!("{index}/3")], &file, &shared).stdout(Stdio::null()).spawn().unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let output = Command::new(env!("CARGO_BIN_EXE_decouple")).arg("merge").arg(&shared).arg("--out").arg(&shared).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(contents(&shared), contents(&full));

    // A missing shard is reported (exit code 1) with the missing runs in the table.
    let partial = dir.join("partial");
    let output = Command::new(env!("CARGO_BIN_EXE_decouple")).arg("merge").args(&shards[..2]).arg("--out").arg(&partial).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(partial.join("sweep.csv")).unwrap().matches(",missing,").count(), 2);

    // Shards of different sweeps are not merged.
    let other_file = sweep_file(&dir, ("[0.2, 0.5]", "[0.2, 0.4]"));
    let other = dir.join("other");
    run(decouple(&["sweep", "--shard", "1/3"], &other_file, &other));
    let output = Command::new(env!("CARGO_BIN_EXE_decouple"))
        .arg("merge")
        .arg(&shards[0])
        .arg(&other)
        .arg("--out")
        .arg(dir.join("mixed"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("only shards of one sweep can be merged"));
}

#[test]
fn a_diverging_run_is_recorded_as_failed_and_the_sweep_goes_on() {
    let dir = scratch("sweep-divergence");
    let file = sweep_file(
        &dir,
        ("optimizer.learning_rate = [0.2, 0.5]", "optimizer.learning_rate = [0.2, 1e38]\nobjective.loss.similarity = [\"Dot\"]"),
    );
    let out = dir.join("out");
    run(decouple(&["sweep", "--jobs", "2"], &file, &out));
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    let failed: Vec<&str> = csv.lines().filter(|line| line.contains(",failed,")).collect();
    assert_eq!(failed.len(), 6, "{csv}");
    assert!(failed.iter().all(|line| line.contains("diverged at step")), "{csv}");
    assert_eq!(csv.matches(",ok,").count(), 6, "{csv}");
    // Failed runs are complete results: a rerun does not redo them.
    let output = run(decouple(&["sweep"], &file, &out));
    assert!(String::from_utf8_lossy(&output.stdout).contains("12 already complete, 0 to run"));
}

#[test]
fn shards_partition_the_runs() {
    for count in 1..=7 {
        let shards: Vec<Shard> = (1..=count).map(|index| format!("{index}/{count}").parse().unwrap()).collect();
        for run in 0..50 {
            assert_eq!(shards.iter().filter(|shard| shard.contains(run)).count(), 1);
        }
    }
    for bad in ["0/3", "4/3", "1/0", "x/2", "3", ""] {
        assert!(bad.parse::<Shard>().is_err(), "{bad}");
    }
}

#[test]
fn run_folders_hold_the_outputs_of_an_experiment() {
    let dir = scratch("run-folder");
    let file = dir.join("tiny.toml");
    std::fs::write(&file, "steps = 100\nbatch_size = 16\nlog_every = 50\ndata = { d = 4, d1 = 16, latent = { kind = \"Bernoulli\", p = 0.5 } }\nnetwork = { width = 8 }\n[evaluation]\nn_decoupling = 500\n").unwrap();
    let out = dir.join("out");
    let mut command = Command::new(env!("CARGO_BIN_EXE_decouple"));
    command.args(["run", "--config"]).arg(&file).args(["--set", "augmentation.keep=0.3", "--out"]).arg(&out);
    run(command);
    for name in ["config.json", "metrics.jsonl", "summary.json", "alignment.svg", "training.svg", "loss.svg", "sparse-energy.svg"] {
        assert!(out.join(name).is_file(), "{name} missing");
    }
    let config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["config"]["augmentation"]["keep"], 0.3);
    assert_eq!(std::fs::read_to_string(out.join("metrics.jsonl")).unwrap().lines().count(), 3);
    // Every metric a sweep can plot is in the summary (dense-span energy only exists for low-rank noise, the
    // last five metrics only in runs on a data file).
    let summary: decouple_harness::run_folder::RunSummary =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let metrics = decouple_harness::sweep_results::METRICS;
    for (index, name) in metrics.iter().enumerate() {
        let value = decouple_harness::sweep_results::metric(&summary, name);
        let expected = *name != "dense_span_energy_weighted" && index < metrics.len() - 5;
        assert_eq!(value.is_some(), expected, "{name}: {value:?}");
    }
    // Same config again: kept as it is; --force runs it again.
    let mut again = Command::new(env!("CARGO_BIN_EXE_decouple"));
    again.args(["run", "--config"]).arg(&file).args(["--set", "augmentation.keep=0.3", "--out"]).arg(&out);
    assert!(String::from_utf8_lossy(&run(again).stdout).contains("already complete"));
    // A folder that is not a run folder is never replaced.
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let mut clobber = Command::new(env!("CARGO_BIN_EXE_decouple"));
    clobber.args(["run", "--config"]).arg(&file).arg("--out").arg(&dir);
    let output = clobber.output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(dir.join("notes.txt").is_file());
}
