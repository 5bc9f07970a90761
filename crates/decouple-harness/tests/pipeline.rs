//! One pipeline for every run: a run on a data file goes through the same
//! config resolution, run folder, sweep, analysis and comparison as a run on
//! the data model; edited data is stale; a run too big for the machine is
//! refused before training; a folder has one writer.

use std::path::{Path, PathBuf};

use decouple_harness::HarnessError;
use decouple_harness::config_file::load_run;
use decouple_harness::run_folder::{RunDone, RunOptions, run_file};
use decouple_harness::sweep::{StalePolicy, SweepOptions, run_sweep};
use ndarray::Array2;
use ndarray_npy::WriteNpyExt;

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("pipeline-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn samples(bump: f32) -> Array2<f32> {
    let mut x = Array2::from_shape_fn((200, 16), |(i, j)| ((i * 7 + j * 3) % 11) as f32 - 5.0 + (i % 3) as f32 * (j % 2) as f32);
    x[[17, 5]] += bump;
    x
}

/// 200 samples of 4 x 4 images with labels beside a config of 20 steps that names them by relative paths.
fn fixture(dir: &Path, extra: &str) -> PathBuf {
    let labels: ndarray::Array1<i64> = (0..200).map(|i| (i % 3) as i64).collect();
    samples(0.0).write_npy(std::fs::File::create(dir.join("x.npy")).unwrap()).unwrap();
    labels.write_npy(std::fs::File::create(dir.join("y.npy")).unwrap()).unwrap();
    let config = dir.join("run.toml");
    let text = format!(
        "{extra}steps = 20\nbatch_size = 32\nlog_every = 5\n[network]\nwidth = 8\n[data]\nkind = \"File\"\npath = \"x.npy\"\nlabels = \"y.npy\"\nimage = {{ height = 4, width = 4 }}\npreprocess = {{ centre = true, scale = 0.0625 }}\n[evaluation]\nmeter_samples = 200\ndirections = 4\nlabels_per_class = 5\n"
    );
    std::fs::write(&config, text).unwrap();
    config
}

fn options(out: &Path, sets: &[&str]) -> RunOptions {
    let mut options = RunOptions::new();
    options.sets = sets.iter().map(|set| (*set).to_string()).collect();
    options.out = Some(out.to_path_buf());
    options.execution.threads = Some(1);
    options
}

#[test]
fn a_data_file_run_writes_the_folder_of_every_run() {
    let dir = scratch("layout");
    let config = fixture(&dir, "augmentation = { kind = \"Image\", height = 4, width = 4, shift = 1, cutout = 2 }\n");
    let out = dir.join("out");
    let (_, summary, done) = run_file(&config, &options(&out, &[])).unwrap();
    assert_eq!(done, RunDone::Trained);
    assert!(summary.report.is_none() && summary.data_digest.is_some());
    assert!(summary.sample_report.as_ref().unwrap().probes.is_some());
    for file in
        ["config.json", "metrics.jsonl", "progress.json", "summary.json", "checkpoint.json", "weights.npy", "thresholds.npy", "filters.svg"]
    {
        assert!(out.join(file).exists(), "{file}");
    }
    assert!(!out.join("dictionary.npy").exists(), "a data file has no dictionary");
    // Streamed metrics: one line per logged step, the dictionary metrics null (not available), the live neurons counted.
    let metrics = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    assert_eq!(metrics.lines().count(), 5, "steps 0, 5, 10, 15, 20");
    let line: serde_json::Value = serde_json::from_str(metrics.lines().last().unwrap()).unwrap();
    assert!(line["median_best"].is_null() && line["n_live"].as_u64().is_some(), "{line}");
    let (_, _, done) = run_file(&config, &options(&out, &[])).unwrap();
    assert_eq!(done, RunDone::AlreadyComplete);
    let (_, _, done) = run_file(&config, &options(&out, &["seed=1"])).unwrap();
    assert_eq!(done, RunDone::Trained, "another config replaces the folder");

    // analyze redoes the sample analysis from the checkpoint; compare shows the dictionary metrics as not available.
    let (_, _, _) = run_file(&config, &options(&out, &[])).unwrap();
    let analysis = decouple_harness::analyze::analyze(&out).unwrap();
    assert!(analysis.report.samples().is_some());
    assert_eq!(analysis.same_as_summary, Some(true));
    let other = dir.join("other");
    run_file(&config, &options(&other, &["seed=2"])).unwrap();
    let comparison = decouple_harness::compare::compare(&[out, other], &dir.join("compare.svg")).unwrap();
    let row = comparison.table.lines().find(|line| line.starts_with("median best_j")).unwrap();
    assert_eq!(row.matches("n/a").count(), 2, "{}", comparison.table);
    assert!(comparison.table.lines().any(|line| line.starts_with("active fraction")), "{}", comparison.table);
}

#[test]
fn errors_name_the_file_or_field() {
    let dir = scratch("errors");
    let config = fixture(&dir, "");
    let error = load_run(&config, &["data.path=missing.npy".into()]).unwrap_err().to_string();
    assert!(error.contains("missing.npy") && error.contains("data.path"), "{error}");
    let error = load_run(&config, &["data.colour=1".into()]).unwrap_err().to_string();
    assert!(error.contains("colour"), "{error}");
    let error = load_run(&config, &["data.preprocess.scale=-1".into()]).unwrap_err().to_string();
    assert!(error.contains("preprocess.scale"), "{error}");
    let error = load_run(&config, &["data.image={height=3,width=3}".into()]).unwrap_err().to_string();
    assert!(error.contains("[200, 16]") && error.contains("run.toml") && error.contains("data.image:"), "{error}");
    let loaded = load_run(&config, &["data.labels=".into()]).unwrap();
    assert!(loaded.train.data.file().unwrap().labels.is_none());
    // A NaN in the samples and a truncated file are named with the resolved path.
    let mut bad = samples(0.0);
    bad[[3, 3]] = f32::NAN;
    bad.write_npy(std::fs::File::create(dir.join("nan.npy")).unwrap()).unwrap();
    let error = load_run(&config, &["data.path=".to_string() + &dir.join("nan.npy").display().to_string()]).unwrap_err().to_string();
    assert!(error.contains("nan.npy"), "{error}");
    let bytes = std::fs::read(dir.join("x.npy")).unwrap();
    std::fs::write(dir.join("short.npy"), &bytes[..bytes.len() / 2]).unwrap();
    let error = load_run(&config, &["data.path=".to_string() + &dir.join("short.npy").display().to_string()]).unwrap_err().to_string();
    assert!(error.contains("short.npy"), "{error}");
}

#[test]
fn a_relative_data_path_resolves_against_the_config_files_folder() {
    let dir = scratch("paths");
    let config = fixture(&dir, "");
    let resolved = load_run(&config, &[]).unwrap();
    let file = resolved.train.data.file().unwrap();
    assert_eq!(file.path, dir.join("x.npy"));
    assert_eq!(file.labels.as_deref(), Some(dir.join("y.npy").as_path()));
    assert!(resolved.data_digest().is_some());
    // The example config names the digits by a path relative to its own folder: it resolves to the repository's data/.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let example = load_run(&root.join("examples/configs/in-practice-digits-mask.toml"), &[]).unwrap();
    let path = &example.train.data.file().unwrap().path;
    let digits = decouple_harness::config_file::normalize(&root.join("data/digits/x.npy"));
    let here = std::env::current_dir().unwrap();
    assert_eq!(here.join(path), here.join(&digits), "{}", path.display());
}

#[test]
fn editing_one_value_of_the_data_makes_the_finished_run_stale() {
    let dir = scratch("stale");
    let config = fixture(&dir, "");
    let out = dir.join("out");
    let (_, first, _) = run_file(&config, &options(&out, &[])).unwrap();
    let weights = std::fs::read(out.join("weights.npy")).unwrap();
    samples(0.5).write_npy(std::fs::File::create(dir.join("x.npy")).unwrap()).unwrap();
    let error = run_file(&config, &options(&out, &[])).unwrap_err();
    assert!(matches!(error, HarnessError::StaleRun { .. }), "{error}");
    assert!(error.to_string().contains("--rerun-stale"), "{error}");
    assert_eq!(std::fs::read(out.join("weights.npy")).unwrap(), weights, "nothing finished is overwritten");
    let mut keep = options(&out, &[]);
    keep.stale = StalePolicy::Accept;
    assert_eq!(run_file(&config, &keep).unwrap().2, RunDone::KeptStale);
    let mut rerun = options(&out, &[]);
    rerun.stale = StalePolicy::Rerun;
    let (_, second, done) = run_file(&config, &rerun).unwrap();
    assert_eq!(done, RunDone::RetrainedOnNewData);
    assert_eq!(first.config_hash, second.config_hash, "the same config, on other data");
    assert_ne!(first.data_digest, second.data_digest);
}

#[test]
fn a_sweep_over_two_preprocessings_of_a_data_file_is_an_ordinary_sweep() {
    let dir = scratch("sweep");
    fixture(&dir, "");
    let sweep = dir.join("sweep.toml");
    std::fs::write(
        &sweep,
        "name = \"files\"\nbase = \"run.toml\"\n[grid]\ndata.preprocess = [{ centre = true, scale = 0.0625 }, { centre = true, whiten = { kind = \"Pca\", epsilon = 0.1 } }]\n",
    )
    .unwrap();
    let out = dir.join("out");
    let mut options = SweepOptions::new(2);
    options.out = Some(out.clone());
    let outcome = run_sweep(&sweep, &options).unwrap();
    assert_eq!((outcome.tally.ok, outcome.tally.failed), (2, 0));
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    let runs: Vec<PathBuf> =
        std::fs::read_dir(out.join("runs")).unwrap().map(|entry| entry.unwrap().path()).filter(|p| p.is_dir()).collect();
    assert_eq!(runs.len(), 2);
    for run in &runs {
        for file in ["config.json", "metrics.jsonl", "progress.json", "summary.json", "checkpoint.json", "weights.npy", "thresholds.npy"] {
            assert!(run.join(file).exists(), "{} {file}", run.display());
        }
    }
    // Resumed: nothing to run.
    let again = run_sweep(&sweep, &options).unwrap();
    assert_eq!(again.tally.ok, 2);
}

#[test]
fn a_run_too_big_for_the_machine_is_refused_before_training_and_a_sweep_goes_on() {
    let dir = scratch("memory");
    let config = dir.join("big.toml");
    std::fs::write(&config, "steps = 20\nbatch_size = 16\n[network]\nwidth = 1000000000\n").unwrap();
    let out = dir.join("big");
    let error = run_file(&config, &options(&out, &[])).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, HarnessError::TooBig { .. }), "{message}");
    assert!(message.contains("network.width"), "the estimate names the fields that drive it: {message}");
    assert!(!out.exists(), "refused before the folder is written");
    let sweep = dir.join("sweep.toml");
    std::fs::write(
        &sweep,
        "name = \"widths\"\n[base]\nsteps = 20\nbatch_size = 16\n[base.data]\nd = 4\nd1 = 16\n[grid]\nnetwork.width = [8, 1000000000]\n[evaluation]\nn_activity = 100\nn_probe_train = 50\nn_probe_test = 50\nn_decoupling = 0\n",
    )
    .unwrap();
    let mut options = SweepOptions::new(1);
    options.out = Some(dir.join("sweep"));
    let outcome = run_sweep(&sweep, &options).unwrap();
    assert_eq!((outcome.tally.ok, outcome.tally.failed), (1, 1));
    let csv = std::fs::read_to_string(dir.join("sweep").join("sweep.csv")).unwrap();
    assert!(csv.contains("refused before training"), "{csv}");
    // A refusal depends on the memory free at the time: the next attempt tries the run again (and is refused again here).
    let again = run_sweep(&sweep, &options).unwrap();
    assert_eq!((again.tally.ok, again.tally.failed), (1, 1));
}

#[test]
fn the_earlier_image_augmentation_key_still_reads() {
    let dir = scratch("legacy-image");
    let config = fixture(&dir, "image_augmentation = { height = 4, width = 4, shift = 1 }\n");
    let loaded = load_run(&config, &[]).unwrap();
    assert!(matches!(loaded.train.augmentation, decouple_train::AugmentationConfig::Image(_)), "{:?}", loaded.train.augmentation);
    let both = fixture(&dir, "image_augmentation = { height = 4, width = 4 }\naugmentation = { kind = \"Identity\" }\n");
    let error = load_run(&both, &[]).unwrap_err().to_string();
    assert!(error.contains("image_augmentation") && error.contains("keep one"), "{error}");
}

#[test]
fn a_second_writer_of_a_run_folder_is_refused() {
    let dir = scratch("lock");
    let config = fixture(&dir, "");
    let out = dir.join("out");
    let held = decouple_harness::folder_lock::FolderLock::acquire(&out).unwrap();
    let error = run_file(&config, &options(&out, &[])).unwrap_err();
    assert!(matches!(error, HarnessError::Locked { holder: Some(_), .. }), "{error}");
    assert!(!out.exists());
    drop(held);
    run_file(&config, &options(&out, &[])).unwrap();
}

#[test]
fn a_byol_run_keeps_its_head_in_the_folder_and_analyze_restores_it() {
    let dir = scratch("byol");
    let config = dir.join("byol.toml");
    std::fs::write(
        &config,
        "steps = 30\nbatch_size = 32\naugmentation = { kind = \"IndependentMask\", keep = 0.5, views = 2 }\n[data]\nd = 4\nd1 = 16\n[network]\nwidth = 8\n[objective]\nkind = \"NonContrastive\"\npredictor = { kind = \"Linear\", lr_multiplier = 10.0 }\ntarget = { kind = \"Ema\", momentum = 0.99 }\nnormalisation = { kind = \"Batch\", affine = true }\nviews = 2\n[evaluation]\nn_activity = 100\nn_probe_train = 50\nn_probe_test = 50\nn_decoupling = 1000\n",
    )
    .unwrap();
    let out = dir.join("out");
    let (_, summary, _) = run_file(&config, &options(&out, &[])).unwrap();
    assert!(summary.report.is_some(), "{:?}", summary.error);
    let checkpoint = decouple_train::Checkpoint::load(&out.join("checkpoint.json")).unwrap();
    assert!(checkpoint.objective_state.tensors.contains_key("predictor"), "{:?}", checkpoint.objective_state.tensors.keys());
    assert!(checkpoint.objective_state.tensors.contains_key("target.weights"));
    for name in checkpoint.objective_state.tensors.keys() {
        let file = decouple_harness::run_folder::state_file(name);
        assert!(out.join(&file).exists() && summary.network_files.contains(&file), "{file}");
    }
    let analysis = decouple_harness::analyze::analyze(&out).unwrap();
    assert_eq!(analysis.state, decouple_harness::analyze::StateCheck::Restored(checkpoint.objective_state.tensors.len()));
    assert_eq!(analysis.same_as_summary, Some(true));
}
