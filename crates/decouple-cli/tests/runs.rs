//! Single runs through the `decouple` binary: metrics can be watched while
//! a run trains and a killed run says how far it got; `--threads` never
//! changes a result; `--dry-run` prints the resolved config and writes
//! nothing; an unwritable output folder is refused before training; the
//! saved network reloads (`analyze` gives the report of `summary.json`
//! again, and says clearly why it cannot for a folder of an older version);
//! `compare` puts runs side by side; `publish-docs` refuses a dirty tree and
//! writes, replaces and keeps the robustness section.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::scratch;

/// A run of a few tenths of a second (longer with `--set steps=...`).
const TINY: &str = "steps = 1500\nbatch_size = 32\nlog_every = 250\n\
    data = { d = 4, d1 = 32, latent = { kind = \"Bernoulli\", p = 0.5 } }\nnetwork = { width = 16 }\n\
    [evaluation]\nn_activity = 200\nn_probe_train = 100\nn_probe_test = 100\nn_decoupling = 0\n";

fn tiny_config(dir: &Path) -> PathBuf {
    let file = dir.join("tiny.toml");
    std::fs::write(&file, TINY).unwrap();
    file
}

fn decouple(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_decouple"));
    command.args(args);
    command
}

fn run_args(file: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut command = decouple(&["run", "--config"]);
    command.arg(file).arg("--out").arg(out).args(extra);
    command
}

fn succeed(command: &mut Command) -> Output {
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    output
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))).unwrap()
}

/// Every file of a run folder, `summary.json` without its wall time.
fn folder_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let mut bytes = std::fs::read(&path).unwrap();
            if path.ends_with("summary.json") {
                let mut summary: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                summary.as_object_mut().unwrap().remove("wall_s");
                bytes = summary.to_string().into_bytes();
            }
            (path.file_name().unwrap().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_run_can_be_watched_and_a_killed_run_says_how_far_it_got() {
    let dir = scratch("run-watch");
    let file = tiny_config(&dir);
    let out = dir.join("long");
    let mut child = run_args(&file, &out, &["--set", "steps=2000000", "--threads", "1"]).stdout(Stdio::piped()).spawn().unwrap();
    let start = Instant::now();
    let metrics = out.join("metrics.jsonl");
    // Lines appear while the run trains (its 2e6 steps take minutes).
    // progress.json is rewritten (atomically) just after each metrics line,
    // so wait for both before killing: otherwise the kill can fall between them.
    let progress_step = || {
        std::fs::read_to_string(out.join("progress.json"))
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .and_then(|progress| progress["step"].as_u64())
            .unwrap_or(0)
    };
    while std::fs::read_to_string(&metrics).map_or(0, |text| text.lines().count()) < 3 || progress_step() < 500 {
        assert!(start.elapsed() < Duration::from_secs(60), "metrics.jsonl did not grow");
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&metrics).unwrap().lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
    assert!(lines.len() >= 3 && lines[1]["step"] == 250 && lines[2]["step"] == 500, "{lines:?}");
    let progress = json(&out.join("progress.json"));
    assert_eq!(progress["state"], "incomplete");
    assert_eq!(progress["steps"], 2_000_000);
    assert!(progress["step"].as_u64().unwrap() >= 500, "{progress}");
    assert!(!out.join("summary.json").exists() && !out.join("checkpoint.json").exists());
    assert!(json(&out.join("config.json"))["git_commit"].as_str().is_some_and(|commit| commit.len() >= 7));

    // The killed folder is not taken for complete: the same command trains it (shorter here) to the end.
    let output = succeed(&mut run_args(&file, &out, &["--threads", "1"]));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("already complete"), "{stdout}");
    // Plain progress lines when the output is not a terminal.
    assert!(stdout.contains("[run] 0/1500 steps") && stdout.contains("[run] 1/1 runs"), "{stdout}");
    assert_eq!(json(&out.join("progress.json"))["state"], "complete");
    assert_eq!(std::fs::read_to_string(&metrics).unwrap().lines().count(), 7);
}

#[test]
fn the_thread_count_never_changes_a_run() {
    let dir = scratch("run-threads");
    let file = tiny_config(&dir);
    let one = dir.join("one");
    succeed(&mut run_args(&file, &one, &["--threads", "1"]));
    for threads in ["2", "3"] {
        let other = dir.join(format!("threads-{threads}"));
        succeed(&mut run_args(&file, &other, &["--threads", threads]));
        let (a, b) = (folder_files(&one), folder_files(&other));
        assert_eq!(a.len(), b.len());
        for ((name, left), (_, right)) in a.iter().zip(&b) {
            // config.json and summary.json name their folder; everything else is byte-identical.
            if name == "config.json" || name == "summary.json" || name == "metrics.jsonl" {
                let strip = |bytes: &[u8]| String::from_utf8_lossy(bytes).replace("threads-2", "one").replace("threads-3", "one");
                assert_eq!(strip(left), strip(right), "{name} with --threads {threads}");
            } else {
                assert!(left == right, "{name} differs with --threads {threads}");
            }
        }
    }
    let output = run_args(&file, &dir.join("zero"), &["--threads", "0"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--threads 0 is out of range"));
}

#[test]
fn a_dry_run_prints_the_resolved_config_and_writes_nothing() {
    let dir = scratch("run-dry");
    let file = tiny_config(&dir);
    let out = dir.join("out");
    let output = succeed(&mut run_args(&file, &out, &["--dry-run", "--set", "optimizer.learning_rate=0.25"]));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let end = stdout.find("\nconfig hash: ").expect("a hash line");
    let config: serde_json::Value = serde_json::from_str(&stdout[..end]).unwrap();
    assert_eq!(config["train"]["optimizer"]["learning_rate"], 0.25);
    assert_eq!(config["train"]["data"]["d1"], 32);
    // Defaults are filled in: every field of the docs/model.md §7 default is there.
    assert!(config["train"]["optimizer"]["momentum"].is_number() && config["evaluation"]["n_activity"] == 200, "{config}");
    let hash = stdout[end + 14..].lines().next().unwrap();
    assert_eq!(hash.len(), 16);
    assert!(stdout.contains(&format!("output folder: {} (to be written)", out.display())), "{stdout}");
    assert!(!out.exists(), "--dry-run wrote the folder");

    // The hash printed is the one the run records.
    succeed(&mut run_args(&file, &out, &["--set", "optimizer.learning_rate=0.25"]));
    assert_eq!(json(&out.join("summary.json"))["config_hash"], hash);
    let output = succeed(&mut run_args(&file, &out, &["--dry-run", "--set", "optimizer.learning_rate=0.25"]));
    assert!(String::from_utf8_lossy(&output.stdout).contains("complete with this config: `run` keeps it"));

    // A folder made by other code is not kept as if this code had made it.
    let mut summary = json(&out.join("summary.json"));
    let commit = summary["git_commit"].clone();
    summary["git_commit"] = "0123456789abcdef0123456789abcdef01234567".into();
    std::fs::write(out.join("summary.json"), summary.to_string()).unwrap();
    let output = succeed(&mut run_args(&file, &out, &["--dry-run", "--set", "optimizer.learning_rate=0.25"]));
    let expected = format!("made by other code ({} (commit 0123456789ab)): `run` trains it again", env!("CARGO_PKG_VERSION"));
    assert!(String::from_utf8_lossy(&output.stdout).contains(&expected));
    let output = succeed(&mut run_args(&file, &out, &["--set", "optimizer.learning_rate=0.25"]));
    assert!(String::from_utf8_lossy(&output.stdout).contains("made by other code: ran it again"));
    assert_eq!(json(&out.join("summary.json"))["git_commit"], commit);
}

#[test]
fn an_unwritable_output_folder_is_refused_before_training() {
    let dir = scratch("run-unwritable");
    let file = tiny_config(&dir);
    let blocker = dir.join("a-file");
    std::fs::write(&blocker, "not a folder").unwrap();
    // 2e8 steps would train for hours: a quick exit means nothing was trained.
    let long = ["--set", "steps=200000000"];
    let start = Instant::now();
    let output = run_args(&file, &blocker.join("run"), &long).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot write to"), "{}", String::from_utf8_lossy(&output.stderr));

    let sweep = dir.join("sweep.toml");
    std::fs::write(&sweep, "base = \"tiny.toml\"\n[grid]\nsteps = [200000000]\n").unwrap();
    let output = decouple(&["sweep", "--config"]).arg(&sweep).arg("--out").arg(blocker.join("sweep")).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot write to"));

    let output = decouple(&["reproduce", "--quick", "--only", "sparse-with-aug", "--out"]).arg(blocker.join("results")).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot write to"));

    // A read-only folder (only where permissions bind: not for root, who may write anyway).
    let locked = dir.join("locked");
    std::fs::create_dir(&locked).unwrap();
    let mut permissions = std::fs::metadata(&locked).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&locked, permissions.clone()).unwrap();
    if std::fs::write(locked.join("probe"), "").is_err() {
        let output = run_args(&file, &locked.join("run"), &long).output().unwrap();
        assert_eq!(output.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&output.stderr).contains("cannot write to"));
    }
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&locked, permissions).unwrap();
    assert!(start.elapsed() < Duration::from_secs(30), "refusing took {:?}", start.elapsed());
}

#[test]
fn analyze_reloads_the_network_and_explains_older_folders() {
    let dir = scratch("run-analyze");
    let file = tiny_config(&dir);
    let out = dir.join("out");
    succeed(&mut run_args(&file, &out, &[]));
    let summary = json(&out.join("summary.json"));
    assert_eq!(summary["network_files"], serde_json::json!(["checkpoint.json", "weights.npy", "thresholds.npy", "dictionary.npy"]));
    let alignment = std::fs::read(out.join("alignment.svg")).unwrap();
    // The .npy headers NumPy reads: little-endian float32 of the network's shape.
    let weights = std::fs::read(out.join("weights.npy")).unwrap();
    let header = String::from_utf8_lossy(&weights[..128]);
    assert!(weights.starts_with(b"\x93NUMPY") && header.contains("'descr': '<f4'") && header.contains("'shape': (16, 32)"), "{header}");
    assert_eq!(weights.len(), 128 + 16 * 32 * 4);
    let thresholds = std::fs::read(out.join("thresholds.npy")).unwrap();
    assert!(String::from_utf8_lossy(&thresholds[..128]).contains("'shape': (16,)"));

    std::fs::remove_file(out.join("alignment.svg")).unwrap();
    let output = succeed(decouple(&["analyze"]).arg(&out));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("the same report as summary.json"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(json(&out.join("analysis.json"))["report"], summary["report"]);
    assert_eq!(std::fs::read(out.join("alignment.svg")).unwrap(), alignment, "the redrawn heatmap differs");

    // A folder written before networks were kept: no checkpoint, no provenance in the summary.
    let older = dir.join("older");
    std::fs::create_dir(&older).unwrap();
    for name in ["config.json", "metrics.jsonl", "summary.json", "alignment.svg"] {
        std::fs::copy(out.join(name), older.join(name)).unwrap();
    }
    let output = decouple(&["analyze"]).arg(&older).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot be analysed: it has no checkpoint.json") && stderr.contains("decouple run --config"), "{stderr}");

    // A checkpoint this version cannot read says so, with the field.
    std::fs::copy(out.join("checkpoint.json"), older.join("checkpoint.json")).unwrap();
    let mut checkpoint = json(&older.join("checkpoint.json"));
    checkpoint["optimizer_state"] = serde_json::json!([]);
    std::fs::write(older.join("checkpoint.json"), checkpoint.to_string()).unwrap();
    let output = decouple(&["analyze"]).arg(&older).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("does not load with decouple") && stderr.contains("optimizer_state"), "{stderr}");

    let output = decouple(&["analyze"]).arg(dir.join("nothing")).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a run folder"));
}

#[test]
fn compare_puts_runs_side_by_side() {
    let dir = scratch("run-compare");
    let file = tiny_config(&dir);
    let (a, b) = (dir.join("a"), dir.join("b"));
    succeed(&mut run_args(&file, &a, &[]));
    succeed(&mut run_args(&file, &b, &["--set", "augmentation.keep=0.3"]));
    let svg = dir.join("plots").join("ab.svg");
    let output = succeed(decouple(&["compare"]).arg(&a).arg(&b).arg("--out").arg(&svg));
    let table = String::from_utf8_lossy(&output.stdout);
    let row =
        |name: &str| table.lines().find(|line| line.starts_with(name)).unwrap_or_else(|| panic!("no row {name}: {table}")).to_string();
    assert!(row("run").ends_with('b') && row("run").contains(" a "), "{table}");
    let median = |dir: &Path| json(&dir.join("summary.json"))["report"]["median_best"].as_f64().unwrap();
    assert!(row("median best_j").contains(&format!("{:.4}", median(&a))) && row("median best_j").contains(&format!("{:.4}", median(&b))));
    // Only the config fields that differ are listed.
    assert!(row("augmentation.keep").contains("0.3") && !table.contains("optimizer.learning_rate"), "{table}");
    let curves = std::fs::read_to_string(&svg).unwrap();
    assert_eq!(curves.matches("<polyline").count(), 4, "two runs x (median best_j, sparse energy)");
    assert!(curves.contains("a median best_j") && curves.contains("b sparse energy"));
    assert_eq!(std::fs::read_to_string(dir.join("plots").join("ab-loss.svg")).unwrap().matches("<polyline").count(), 2);

    let output = decouple(&["compare"]).arg(&a).arg(dir.join("missing")).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not a complete run folder"));
}

fn git(repo: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"])
        .args(args)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

#[test]
fn publish_docs_refuses_a_dirty_tree() {
    let repo = scratch("publish-docs");
    git(&repo, &["init", "-q"]);
    std::fs::create_dir_all(repo.join("docs")).unwrap();
    std::fs::write(repo.join("docs").join("notes.md"), "v1\n").unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "docs"]);
    let results = repo.join("results");
    std::fs::create_dir_all(&results).unwrap();
    std::fs::write(results.join("REPORT.md"), "Generated at commit `abc`.\n\n# Report\n").unwrap();
    std::fs::write(repo.join(".gitignore"), "results/\n").unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "ignore results"]);
    let publish = |extra: &[&str]| {
        let mut command = decouple(&["publish-docs", "--from"]);
        command.arg(&results).arg("--to").arg(repo.join("docs")).args(extra);
        command.output().unwrap()
    };

    std::fs::write(repo.join("docs").join("notes.md"), "v2, not committed\n").unwrap();
    let output = publish(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("uncommitted changes"), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(!repo.join("docs").join("experiments.md").exists());
    assert!(publish(&["--allow-dirty"]).status.success());

    // The throwaway repository's own file (joined so that the repository's path check does not look for it here).
    let notes = ["docs", "notes.md"].join("/");
    git(&repo, &["checkout", "-q", "--", &notes]);
    std::fs::remove_file(repo.join("docs").join("experiments.md")).unwrap();
    let output = publish(&[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(std::fs::read_to_string(repo.join("docs").join("experiments.md")).unwrap().contains("# Report"));

    // A report made from a dirty tree is refused too.
    std::fs::write(results.join("REPORT.md"), "Generated at commit `abc-dirty`.\n").unwrap();
    git(&repo, &["add", "docs/experiments.md"]);
    git(&repo, &["commit", "-q", "-m", "published"]);
    let output = publish(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("REPORT.md was made from a tree with uncommitted changes"));
}

/// A fake summary.json of `experiment`: one claim over 10 seeds (seed 4 bad),
/// one pooled claim, and one claim as older versions wrote it (no seeds).
fn fake_summary(experiment: &str) -> String {
    let seeds: Vec<String> =
        (0..10).map(|seed| format!(r#"{{"seed":{seed},"value":{}}}"#, if seed == 4 { "0.305" } else { "0.03" })).collect();
    format!(
        r#"{{"experiment":"{experiment}","verdict":"PASS","wall_s":1.0,"claim":"c","setting":"s","tables":"","plots":[],"notes":"",
        "claims":[
          {{"name":"(a) sparse energy","measured":0.03,"comparison":"AtMost","threshold":0.2,"pass":true,"per_seed":[{}]}},
          {{"name":"rate","measured":0.6,"comparison":"AtLeast","threshold":0.8,"pass":false,"hypothesis":true,"pooled_seeds":10}},
          {{"name":"old claim","measured":1.0,"comparison":"AtLeast","threshold":0.5,"pass":true}}
        ]}}"#,
        seeds.join(",")
    )
}

/// `publish-docs --robustness DIR` writes one Robustness section (every claim:
/// seeds holding, what the rule needs, worst seed, spread) into
/// docs/experiments.md, replaces it when run again, leaves the rest alone;
/// a later plain `publish-docs` keeps it; a folder without summaries is refused.
#[test]
fn publish_docs_writes_and_keeps_the_robustness_section() {
    let repo = scratch("publish-robustness");
    git(&repo, &["init", "-q"]);
    let docs = repo.join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(docs.join("experiments.md"), "# decouple: reproduction report\n\nThe default run.\n").unwrap();
    std::fs::write(repo.join(".gitignore"), "results*/\n").unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "docs"]);
    let many = repo.join("results-10");
    for experiment in ["controls", "weak-aug"] {
        std::fs::create_dir_all(many.join(experiment)).unwrap();
        std::fs::write(many.join(experiment).join("summary.json"), fake_summary(experiment)).unwrap();
    }
    std::fs::write(
        many.join("REPORT.md"),
        "# decouple: reproduction report\n\nGenerated by `cargo xtask reproduce` at commit `abc`, seeds per configuration: 10.\n",
    )
    .unwrap();
    let robustness = |dir: &Path| {
        let mut command = decouple(&["publish-docs", "--robustness"]);
        command.arg(dir).arg("--to").arg(&docs);
        command.output().unwrap()
    };
    let read = || std::fs::read_to_string(docs.join("experiments.md")).unwrap();

    succeed(decouple(&["publish-docs", "--robustness"]).arg(&many).arg("--to").arg(&docs));
    let once = read();
    assert!(once.starts_with("# decouple: reproduction report\n\nThe default run.\n"), "{once}");
    assert!(
        once.contains("## Robustness")
            && once.contains("Run: Generated by `cargo xtask reproduce` at commit `abc`, seeds per configuration: 10.")
    );
    for experiment in ["controls", "weak-aug"] {
        assert!(
            once.contains(&format!(
                "| {experiment} | (a) sparse energy | <= 0.2 | 9 / 10 | 9 / 10 | 0.90 | 0.3050 (seed 4) | 0.0300 .. 0.3050 | pass |"
            )),
            "{once}"
        );
        assert!(once.contains(&format!("| {experiment} | rate | >= 0.8 | pooled over 10 | – | – | – | – | **does not hold** (finding) |")));
        assert!(once.contains(&format!("| {experiment} | old claim | >= 0.5 | – | – | – | – | – | pass |")));
    }
    assert!(once.contains("4 claims hold, 0 are seed-dependent, 2 do not hold"));

    // Again, from a folder with one experiment: the section is replaced, not added.
    std::fs::remove_dir_all(many.join("weak-aug")).unwrap();
    succeed(decouple(&["publish-docs", "--robustness"]).arg(&many).arg("--to").arg(&docs));
    let twice = read();
    assert_eq!(twice.matches("## Robustness").count(), 1);
    assert!(
        !twice.contains("| weak-aug |")
            && twice.contains("| controls |")
            && twice.starts_with("# decouple: reproduction report\n\nThe default run.\n")
    );

    // A plain publish of a default run rewrites the rest and keeps the section.
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "robustness"]);
    let default_run = repo.join("results");
    std::fs::create_dir_all(&default_run).unwrap();
    std::fs::write(default_run.join("REPORT.md"), "# decouple: reproduction report\n\nGenerated at commit `def`.\n\nNew numbers.\n")
        .unwrap();
    succeed(decouple(&["publish-docs", "--from"]).arg(&default_run).arg("--to").arg(&docs));
    let republished = read();
    assert!(republished.contains("New numbers.") && !republished.contains("The default run."));
    assert_eq!(republished.matches("## Robustness").count(), 1);
    assert!(republished.contains("| controls | (a) sparse energy |"));

    // No summaries: refused, the docs untouched.
    let empty = repo.join("results-empty");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("REPORT.md"), "Generated at commit `def`.\n").unwrap();
    let output = robustness(&empty);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("holds no experiment's summary.json"));
    assert_eq!(read(), republished);
}

/// The robustness section is refused from a report of a dirty tree (unless `--allow-dirty`).
#[test]
fn publish_docs_refuses_robustness_from_a_dirty_report() {
    let dir = scratch("publish-robustness-dirty");
    let (docs, many) = (dir.join("docs"), dir.join("results-10"));
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::create_dir_all(many.join("controls")).unwrap();
    std::fs::write(docs.join("experiments.md"), "# report\n").unwrap();
    std::fs::write(many.join("controls").join("summary.json"), fake_summary("controls")).unwrap();
    std::fs::write(many.join("REPORT.md"), "# r\n\nGenerated by `cargo xtask reproduce` at commit `abc-dirty`.\n").unwrap();
    let publish =
        |extra: &[&str]| decouple(&["publish-docs", "--robustness"]).arg(&many).arg("--to").arg(&docs).args(extra).output().unwrap();
    let output = publish(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("uncommitted changes"));
    assert_eq!(std::fs::read_to_string(docs.join("experiments.md")).unwrap(), "# report\n");
    assert!(publish(&["--allow-dirty"]).status.success());
    assert!(std::fs::read_to_string(docs.join("experiments.md")).unwrap().contains("## Robustness"));
}
