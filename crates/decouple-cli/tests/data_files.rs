//! Runs on a data file through the `decouple` binary, the same pipeline as
//! runs on the data model: a sweep over two preprocessings of the digits
//! writes the folders of any sweep, resumes after SIGKILL to the same
//! results, and its runs are analysed and compared; a second writer of a
//! run folder is refused at once, naming the process that holds it.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::scratch;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Two preprocessings of the digits (1797 images of 8 x 8), 400 steps each.
fn sweep_file(dir: &Path) -> PathBuf {
    let digits = root().join("data/digits");
    let text = format!(
        "name = \"digits\"\n\n[base]\nsteps = 400\nlog_every = 50\nnetwork = {{ width = 16 }}\n\
         data = {{ kind = \"File\", path = \"{}\", labels = \"{}\", image = {{ height = 8, width = 8 }} }}\n\n\
         [grid]\ndata.preprocess = [{{ centre = true, scale = 0.0625 }}, {{ centre = true, scale = 0.25 }}]\n",
        digits.join("x.npy").display(),
        digits.join("labels.npy").display()
    );
    let file = dir.join("digits.toml");
    std::fs::write(&file, text).unwrap();
    file
}

fn decouple(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_decouple"));
    command.args(args);
    command
}

fn succeed(mut command: Command) -> Output {
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    output
}

fn sweep(file: &Path, out: &Path) -> Command {
    let mut command = decouple(&["sweep", "--jobs", "1", "--config"]);
    command.arg(file).arg("--out").arg(out);
    command
}

fn run_dirs(out: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(out.join("runs")).unwrap().map(|entry| entry.unwrap().path()).filter(|path| path.is_dir()).collect();
    dirs.sort();
    dirs
}

fn complete(out: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(out.join("runs")) else { return 0 };
    entries.filter(|entry| entry.as_ref().is_ok_and(|entry| entry.path().join("summary.json").is_file())).count()
}

/// What must be identical between an uninterrupted sweep and a resumed one: every file but the wall times.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for run in run_dirs(dir) {
        for name in ["metrics.jsonl", "weights.npy", "thresholds.npy", "checkpoint.json", "summary.json"] {
            let mut bytes = std::fs::read(run.join(name)).unwrap();
            if name == "summary.json" {
                let mut summary: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                summary.as_object_mut().unwrap().remove("wall_s");
                bytes = summary.to_string().into_bytes();
            }
            files.push((format!("{}/{name}", run.file_name().unwrap().to_string_lossy()), bytes));
        }
    }
    files
}

#[test]
fn a_sweep_over_two_preprocessings_of_the_digits_resumes_after_sigkill_and_is_analysed_and_compared() {
    let dir = scratch("digits-sweep");
    let file = sweep_file(&dir);
    let (full, resumed) = (dir.join("full"), dir.join("resumed"));
    succeed(sweep(&file, &full));
    assert!(full.join("sweep.csv").is_file() && full.join("sweep.json").is_file());
    let runs = run_dirs(&full);
    assert_eq!(runs.len(), 2);
    for run in &runs {
        for name in [
            "config.json",
            "metrics.jsonl",
            "progress.json",
            "summary.json",
            "checkpoint.json",
            "weights.npy",
            "thresholds.npy",
            "filters.svg",
        ] {
            assert!(run.join(name).is_file(), "{} {name}", run.display());
        }
    }

    // Killed (SIGKILL) once the first run is complete, then rerun: it resumes to the same files.
    let mut child = sweep(&file, &resumed).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let started = Instant::now();
    while complete(&resumed) < 1 {
        assert!(started.elapsed() < Duration::from_secs(120), "no run finished");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done = complete(&resumed);
    let output = succeed(sweep(&file, &resumed));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(&format!("{done} already complete, {} to run", 2 - done)), "{stdout}");
    assert_eq!(contents(&resumed), contents(&full));

    // analyze redoes a run's analysis from its checkpoint and data file; compare reads both.
    let output = succeed(decouple(&["analyze", runs[0].to_str().unwrap()]));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("the same report as summary.json") && stdout.contains("active fraction"), "{stdout}");
    let mut command = decouple(&["compare", "--out"]);
    command.arg(dir.join("compare.svg")).args(&runs);
    let stdout = String::from_utf8_lossy(&succeed(command).stdout).into_owned();
    let row = stdout.lines().find(|line| line.starts_with("median best_j")).unwrap();
    assert_eq!(row.matches("n/a").count(), 2, "{stdout}");
    assert!(stdout.lines().any(|line| line.starts_with("data.preprocess.scale")), "{stdout}");
}

/// The config hash printed by `decouple run --dry-run --config CONFIG`, run from `dir`.
fn dry_run_hash(dir: &Path, config: &Path) -> String {
    let mut command = decouple(&["run", "--dry-run", "--config"]);
    command.arg(config).current_dir(dir);
    let stdout = String::from_utf8_lossy(&succeed(command).stdout).into_owned();
    stdout.lines().find_map(|line| line.strip_prefix("config hash: ")).unwrap_or_else(|| panic!("{stdout}")).to_string()
}

/// A data file named relative to its config is one run however the config is named, from the
/// repository root: by a relative path or an absolute one.
#[test]
fn a_data_file_config_is_one_run_by_a_relative_or_an_absolute_name() {
    let root = decouple_harness::config_file::normalize(&root());
    let config = Path::new("examples/configs/in-practice-digits-mask.toml");
    assert_eq!(dry_run_hash(&root, config), dry_run_hash(&root, &root.join(config)));
}

#[test]
fn a_second_writer_of_a_run_folder_is_refused_naming_the_holder() {
    let dir = scratch("second-writer");
    let config = dir.join("slow.toml");
    std::fs::write(&config, "steps = 3000\nlog_every = 100\n[evaluation]\nn_decoupling = 0\n").unwrap();
    let out = dir.join("out");
    let mut first = decouple(&["run", "--threads", "1", "--config"]);
    first.arg(&config).arg("--out").arg(&out).stdout(Stdio::null()).stderr(Stdio::null());
    let mut first = first.spawn().unwrap();
    let started = Instant::now();
    while !out.join("progress.json").is_file() {
        assert!(started.elapsed() < Duration::from_secs(60), "the first run did not start");
        std::thread::sleep(Duration::from_millis(2));
    }
    let mut second = decouple(&["run", "--set", "seed=1", "--config"]);
    second.arg(&config).arg("--out").arg(&out);
    let output = second.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("being written by another process") && stderr.contains(&format!("pid {}", first.id())), "{stderr}");
    assert!(first.wait().unwrap().success());
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["seed"], 0, "the folder is the first writer's");
}
