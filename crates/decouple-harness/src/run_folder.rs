//! One run's folder, written in place so that it can be watched while it
//! trains and never looks complete before it is:
//!
//! 1. before training: `config.json` (the resolved config and the code that
//!    runs it) and `progress.json` (`"state": "incomplete"`, step 0 of N),
//!    written in a hidden partial folder `.NAME.partial-PID` renamed to
//!    `NAME` (so the folder never appears without them);
//! 2. at every logged step: one line appended (and flushed) to
//!    `metrics.jsonl` and `progress.json` rewritten with the step reached,
//!    so `tail -f metrics.jsonl` shows the run and a killed run says how
//!    far it got;
//! 3. at the end: the network (`checkpoint.json`, which `decouple analyze`
//!    reloads, and `weights.npy` `m x d1`, `thresholds.npy` `m`, float32,
//!    for NumPy, with `dictionary.npy` `d1 x d` for a run on the data
//!    model), the objective's state (in the checkpoint, and one
//!    `objective-NAME.npy` per tensor: a predictor, an EMA target, ...),
//!    the plots, then `summary.json`, and last `progress.json` with
//!    `"state": "complete"`.
//!
//! Runs on the data model and on a data file write the same files; in the
//! second, the metrics that need a dictionary are not available (`null` in
//! `metrics.jsonl`, and the summary holds a `sample_report` instead of a
//! `report`). The whole write holds the folder's lock ([`FolderLock`]): a
//! second writer of the same folder is refused at once.
//!
//! Every file but `metrics.jsonl` is written through `write_atomic`. A folder
//! is complete when its `summary.json` parses and carries the expected config
//! hash, its `progress.json` (if any: older folders have none) says complete,
//! `metrics.jsonl` holds the `logged_steps` lines the summary counts and the
//! network files it lists exist; anything else (missing, killed midway,
//! truncated or missing files, another config) is redone by the next attempt.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use decouple_eval::{NetworkReport, SampleReport};
use decouple_plot as svg;
use decouple_train::Checkpoint;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config_file::RunConfig;
use crate::folder_lock::FolderLock;
use crate::training::{Execution, HistoryPoint, RunHooks, RunRecord, RunSpec, metrics_line};
use crate::{CodeVersion, HarnessError, code_version, write_json};

/// `ok`, or `failed` (diverged or could not be evaluated; see `error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum RunStatus {
    /// Trained and evaluated.
    Ok,
    /// Stopped with an error, recorded in the summary.
    Failed,
}

/// `summary.json` of one run: what it was, which code made it and what it learned.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunSummary {
    /// Folder name.
    pub name: String,
    /// [`RunConfig::hash`] of the config it ran.
    pub config_hash: String,
    /// Whether it finished.
    pub status: RunStatus,
    /// The error of a failed run (e.g. the divergence step and its likely cause).
    pub error: Option<String>,
    /// Seed of the run.
    pub seed: u64,
    /// The swept values of a sweep run (dotted field path to value); empty for `decouple run`.
    pub values: BTreeMap<String, Value>,
    /// Wall time of training and evaluation (the only field that differs between reruns).
    pub wall_s: f64,
    /// Training loss at the last logged step.
    pub final_loss: Option<f64>,
    /// The full metric set of docs/model.md §6, if the run on the data model finished.
    pub report: Option<NetworkReport>,
    /// The analysis of a finished run on a data file (no dictionary: see its `not_available`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_report: Option<SampleReport>,
    /// The digest of the data file it trained on (`None` on the data model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_digest: Option<String>,
    /// Plot files in the folder.
    pub plots: Vec<String>,
    /// The decouple version that made it (`None` in folders of versions before it was recorded).
    #[serde(default)]
    pub decouple_version: Option<String>,
    /// The git commit of the code that made it (`-dirty` if the tree had changes; `None` in older folders).
    #[serde(default)]
    pub git_commit: Option<String>,
    /// Lines of `metrics.jsonl` (logged steps); `None` in older folders.
    #[serde(default)]
    pub logged_steps: Option<usize>,
    /// Files of the trained network in the folder (empty for a failed run and in older folders).
    #[serde(default)]
    pub network_files: Vec<String>,
}

impl RunSummary {
    /// The code that made the run, as recorded (`unknown` for older folders).
    #[must_use]
    pub fn code_version(&self) -> CodeVersion {
        CodeVersion {
            version: self.decouple_version.clone().unwrap_or_else(|| "unknown".into()),
            commit: self.git_commit.clone().unwrap_or_else(|| "unknown".into()),
        }
    }

    /// Why the run is stale for code `current` and data digest `digest`:
    /// made by other code (another version or commit, or a folder that
    /// recorded neither), or trained on a data file whose bytes have changed
    /// since; `None` when it is not.
    #[must_use]
    pub fn stale_reason(&self, current: &CodeVersion, digest: Option<&str>) -> Option<String> {
        if self.code_version() != *current {
            return Some(format!("made by other code ({})", self.code_version().short()));
        }
        if self.data_digest.as_deref() != digest {
            let was = self.data_digest.as_deref().unwrap_or("none");
            return Some(format!("trained on other data (digest {was}, now {})", digest.unwrap_or("none")));
        }
        None
    }

    /// Whether the run was refused before training (its memory estimate
    /// exceeded what the machine had then): recorded as failed, and tried
    /// again by the next `run` or sweep, since the memory available changes.
    #[must_use]
    pub fn was_refused(&self) -> bool {
        self.status == RunStatus::Failed && self.error.as_deref().is_some_and(|error| error.starts_with(crate::training::REFUSED))
    }

    /// Whether [`Self::stale_reason`] has a reason.
    #[must_use]
    pub fn is_stale(&self, current: &CodeVersion, digest: Option<&str>) -> bool {
        self.stale_reason(current, digest).is_some()
    }
}

/// Where a run came from, recorded in its `config.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Origin {
    /// The config or sweep file.
    pub file: String,
    /// `--set` edits (run) or the swept values (sweep), in order.
    pub edits: Vec<String>,
    /// The sweep's name, for sweep runs.
    pub sweep: Option<String>,
}

/// Whether a run folder is finished (`progress.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum RunState {
    /// Training, evaluating or saving, or killed while doing so.
    Incomplete,
    /// Every file is written.
    Complete,
}

/// `progress.json`: how far a run got.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RunProgress {
    /// `incomplete` until every file is written.
    pub state: RunState,
    /// Updates done at the last logged step.
    pub step: usize,
    /// Updates the run is to do.
    pub steps: usize,
    /// Training loss at the last logged step (`None` before the first).
    pub loss: Option<f64>,
}

/// What a run folder holds, as far as resuming is concerned.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum FolderState {
    /// No folder.
    Missing,
    /// Not finished: killed (or still running) at `step` of `steps`.
    Incomplete {
        /// Updates done at its last logged step.
        step: usize,
        /// Updates it was to do.
        steps: usize,
    },
    /// Finished files that are missing or do not parse (named in the reason).
    Damaged(String),
    /// A complete run of another config.
    OtherConfig,
    /// Complete, with this summary.
    Complete(Box<RunSummary>),
}

/// What `dir` holds for a run of config hash `hash` (see the module doc).
#[must_use]
pub fn inspect(dir: &Path, hash: &str) -> FolderState {
    if !dir.exists() {
        return FolderState::Missing;
    }
    let progress = std::fs::read_to_string(dir.join("progress.json")).ok().map(|text| serde_json::from_str::<RunProgress>(&text));
    let text = match std::fs::read_to_string(dir.join("summary.json")) {
        Ok(text) => text,
        Err(_) => {
            return match progress {
                Some(Ok(progress)) => FolderState::Incomplete { step: progress.step, steps: progress.steps },
                _ => FolderState::Damaged("no summary.json".into()),
            };
        }
    };
    let summary: RunSummary = match crate::lenient_json::from_str(&text) {
        Ok(summary) => summary,
        Err(error) => return FolderState::Damaged(format!("summary.json does not parse ({error})")),
    };
    if summary.config_hash != hash {
        return FolderState::OtherConfig;
    }
    match progress {
        Some(Ok(progress)) if progress.state != RunState::Complete => {
            return FolderState::Incomplete { step: progress.step, steps: progress.steps };
        }
        Some(Err(error)) => return FolderState::Damaged(format!("progress.json does not parse ({error})")),
        _ => {}
    }
    let Ok(metrics) = std::fs::read_to_string(dir.join("metrics.jsonl")) else {
        return FolderState::Damaged("no metrics.jsonl".into());
    };
    if let Some(expected) = summary.logged_steps {
        let lines = metrics.lines().filter(|line| serde_json::from_str::<Value>(line).is_ok_and(|line| line.is_object())).count();
        if lines != expected || metrics.lines().count() != expected {
            return FolderState::Damaged(format!("metrics.jsonl has {lines} whole lines of {expected}"));
        }
    }
    if let Some(file) = summary.network_files.iter().find(|file| !dir.join(file).is_file()) {
        return FolderState::Damaged(format!("no {file}"));
    }
    FolderState::Complete(Box::new(summary))
}

/// The summary of a complete run folder with config hash `hash`, if `dir` is one ([`inspect`]).
#[must_use]
pub fn completed(dir: &Path, hash: &str) -> Option<RunSummary> {
    match inspect(dir, hash) {
        FolderState::Complete(summary) => Some(*summary),
        _ => None,
    }
}

fn partial_prefix(dir: &Path) -> String {
    format!(".{}.partial-", dir.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default())
}

/// Removes partial folders left by killed attempts at `dir` (runs being started, merges).
///
/// # Errors
/// I/O failure.
pub fn remove_partials(dir: &Path) -> crate::Result<()> {
    let Some(parent) = dir.parent().filter(|parent| parent.is_dir()) else { return Ok(()) };
    let prefix = partial_prefix(dir);
    for entry in std::fs::read_dir(parent).map_err(HarnessError::io("reading", parent))? {
        let path = entry.map_err(HarnessError::io("reading", parent))?.path();
        if path.file_name().is_some_and(|name| name.to_string_lossy().starts_with(&prefix)) {
            std::fs::remove_dir_all(&path).map_err(HarnessError::io("removing", &path))?;
        }
    }
    Ok(())
}

/// A run folder being written (see the module doc); it holds the folder's lock until finished or dropped.
#[derive(Debug)]
pub struct RunFolder {
    dir: PathBuf,
    digest: Option<String>,
    _lock: FolderLock,
    metrics: std::fs::File,
    label: String,
    seed: u64,
    steps: usize,
    hash: String,
}

/// `config.json` of a run.
#[derive(Serialize)]
struct ConfigFile<'a> {
    name: &'a str,
    config_hash: &'a str,
    config: &'a decouple_train::TrainConfig,
    evaluation: &'a crate::config_file::Evaluation,
    origin: &'a Origin,
    decouple_version: &'a str,
    git_commit: &'a str,
    toolchain: &'a str,
}

fn folder_name(dir: &Path) -> String {
    dir.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default()
}

fn other_error(action: &'static str, path: &Path, error: impl std::fmt::Display) -> HarnessError {
    HarnessError::Io { action, path: path.to_path_buf(), error: std::io::Error::other(error.to_string()) }
}

impl RunFolder {
    /// Starts the folder `dir` of a run of `config` (before training): writes
    /// `config.json`, `progress.json` (incomplete, step 0) and an empty
    /// `metrics.jsonl` into a hidden partial folder beside it, then renames
    /// that to `dir` (moving an old run folder there aside first), so the
    /// folder never appears without them; partial folders of killed
    /// attempts are removed.
    ///
    /// # Errors
    /// [`HarnessError::Locked`] when another writer holds the folder; `dir`
    /// exists and is not a run folder (it is then left as it is); I/O failure.
    pub fn begin(dir: &Path, config: &RunConfig, origin: &Origin, label: &str) -> crate::Result<Self> {
        Self::start(dir, config, origin, label, false)
    }

    /// [`RunFolder::begin`], replacing a complete, current run of the same
    /// config (`run --force`, or a stale run redone).
    ///
    /// # Errors
    /// As [`RunFolder::begin`].
    pub fn begin_replacing(dir: &Path, config: &RunConfig, origin: &Origin, label: &str) -> crate::Result<Self> {
        Self::start(dir, config, origin, label, true)
    }

    fn start(dir: &Path, config: &RunConfig, origin: &Origin, label: &str, replace: bool) -> crate::Result<Self> {
        let lock = FolderLock::acquire(dir)?;
        check_replaceable(dir)?;
        // Another writer may have finished this very run between the caller's look and the lock.
        if !replace {
            if let Some(summary) = completed(dir, &config.hash()) {
                if !summary.was_refused() && !summary.is_stale(code_version(), config.data_digest()) {
                    return Err(HarnessError::FinishedMeanwhile { dir: dir.to_path_buf() });
                }
            }
        }
        remove_partials(dir)?;
        let staging = stage(dir)?;
        let (name, hash) = (folder_name(dir), config.hash());
        let version = code_version();
        let toolchain = {
            static TOOLCHAIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
            TOOLCHAIN.get_or_init(crate::toolchain)
        };
        let file = ConfigFile {
            name: &name,
            config_hash: &hash,
            config: &config.train,
            evaluation: &config.evaluation,
            origin,
            decouple_version: &version.version,
            git_commit: &version.commit,
            toolchain,
        };
        write_json(&staging.join("config.json"), &file)?;
        let steps = config.train.steps;
        write_json(&staging.join("progress.json"), &RunProgress { state: RunState::Incomplete, step: 0, steps, loss: None })?;
        let path = staging.join("metrics.jsonl");
        // The handle follows the file through the rename of its folder.
        let metrics = std::fs::File::create(&path).map_err(HarnessError::io("creating", &path))?;
        publish(&staging, dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            digest: config.data_digest().map(str::to_string),
            _lock: lock,
            metrics,
            label: label.to_string(),
            seed: config.train.seed,
            steps,
            hash,
        })
    }

    /// The folder.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends `point` to `metrics.jsonl` (written through at once) and records the step in `progress.json`.
    ///
    /// # Errors
    /// I/O failure.
    pub fn log(&mut self, point: &HistoryPoint) -> crate::Result<()> {
        let path = self.dir.join("metrics.jsonl");
        let mut line =
            metrics_line(&self.label, self.seed, point).map_err(|error| HarnessError::Json { what: path.display().to_string(), error })?;
        line.push('\n');
        self.metrics.write_all(line.as_bytes()).and_then(|()| self.metrics.flush()).map_err(HarnessError::io("appending to", &path))?;
        let progress = RunProgress { state: RunState::Incomplete, step: point.step, steps: self.steps, loss: Some(point.loss) };
        write_json(&self.dir.join("progress.json"), &progress)
    }

    /// Writes the network (if it trained to the end), the plots, `summary.json`
    /// and, last, `progress.json` complete; returns the summary.
    ///
    /// # Errors
    /// I/O failure.
    pub fn finish(self, values: BTreeMap<String, Value>, record: &RunRecord, network: Option<&Checkpoint>) -> crate::Result<RunSummary> {
        let network_files = match network {
            Some(network) => write_network(&self.dir, network)?,
            None => Vec::new(),
        };
        let plots = write_plots(&self.dir, record)?;
        let version = code_version();
        let summary = RunSummary {
            name: folder_name(&self.dir),
            config_hash: self.hash.clone(),
            status: if record.report.is_some() || record.sample_report.is_some() { RunStatus::Ok } else { RunStatus::Failed },
            error: record.error.clone(),
            seed: record.seed,
            values,
            wall_s: record.wall_s,
            final_loss: record.history.last().map(|point| point.loss),
            report: record.report.clone(),
            sample_report: record.sample_report.clone(),
            data_digest: self.digest.clone(),
            plots,
            decouple_version: Some(version.version.clone()),
            git_commit: Some(version.commit.clone()),
            logged_steps: Some(record.history.len()),
            network_files,
        };
        write_json(&self.dir.join("summary.json"), &summary)?;
        let step = record.history.last().map_or(0, |point| point.step);
        let progress = RunProgress { state: RunState::Complete, step, steps: self.steps, loss: summary.final_loss };
        write_json(&self.dir.join("progress.json"), &progress)?;
        Ok(summary)
    }
}

/// `.npy` bytes of `array`.
fn npy<A: ndarray_npy::WriteNpyExt>(array: &A, path: &Path) -> crate::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    array.write_npy(&mut bytes).map_err(|error| other_error("encoding", path, error))?;
    Ok(bytes)
}

/// `.npy` bytes of the tensor of `shape` holding `values` (row-major), without copying them.
fn tensor_npy<T: ndarray_npy::WritableElement>(shape: &[usize], values: &[T], path: &Path) -> crate::Result<Vec<u8>> {
    npy(&ndarray::ArrayViewD::from_shape(shape, values).map_err(|error| other_error("encoding", path, error))?, path)
}

/// The file of the objective's state tensor `name`: `objective-NAME.npy` (`.` and `/` as `-`).
#[must_use]
pub fn state_file(name: &str) -> String {
    format!("objective-{}.npy", name.replace(['.', '/', '\\'], "-"))
}

/// `checkpoint.json`, `weights.npy`, `thresholds.npy`, `dictionary.npy` (runs
/// on the data model) and one `objective-NAME.npy` per tensor of the
/// objective's state, of `network` in `dir`.
fn write_network(dir: &Path, network: &Checkpoint) -> crate::Result<Vec<String>> {
    let checkpoint = dir.join("checkpoint.json");
    network.save(&checkpoint).map_err(|error| other_error("writing", &checkpoint, error))?;
    let mut arrays: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, array) in [("weights.npy", network.net.weights().into_dyn()), ("thresholds.npy", network.net.bias().into_dyn())] {
        arrays.push((name.to_string(), npy(&array.as_standard_layout(), &dir.join(name))?));
    }
    if let Some(data) = network.config.data.model() {
        let path = dir.join("dictionary.npy");
        let model = decouple_data::SparseCodingModel::from_seed(*data, network.config.seed)
            .map_err(|error| other_error("re-creating the dictionary for", &path, error))?;
        arrays.push(("dictionary.npy".to_string(), npy(&model.dictionary().matrix().as_standard_layout(), &path)?));
    }
    let mut written = std::collections::BTreeSet::new();
    for (name, tensor) in &network.objective_state.tensors {
        let file = state_file(name);
        let path = dir.join(&file);
        if !written.insert(file.clone()) {
            return Err(other_error("writing", &path, format!("two tensors of the objective's state map to {file}; rename `{name}`")));
        }
        let bytes = match &tensor.data {
            decouple_train::TensorData::F32(values) => tensor_npy(&tensor.shape, values, &path)?,
            decouple_train::TensorData::F64(values) => tensor_npy(&tensor.shape, values, &path)?,
        };
        arrays.push((file, bytes));
    }
    let mut files = vec!["checkpoint.json".to_string()];
    for (name, bytes) in arrays {
        let path = dir.join(&name);
        decouple_train::write_atomic(&path, &bytes).map_err(HarnessError::io("writing", &path))?;
        files.push(name);
    }
    Ok(files)
}

/// The run hooks that write each run's folder as it goes (see [`RunFolder`]);
/// runs whose folder cannot be started or saved are reported in `failures`.
pub(crate) struct FolderHooks<'a> {
    /// The folder, config, origin and swept values of each run, by index.
    pub(crate) targets: &'a (dyn Fn(usize) -> (PathBuf, RunConfig, Origin, BTreeMap<String, Value>) + Sync),
    /// Label of each run, by index.
    pub(crate) labels: &'a (dyn Fn(usize) -> String + Sync),
    folders: std::sync::Mutex<BTreeMap<usize, RunFolder>>,
    /// `name: error` of every run that could not be written.
    pub(crate) failures: std::sync::Mutex<Vec<String>>,
}

impl<'a> FolderHooks<'a> {
    pub(crate) fn new(
        targets: &'a (dyn Fn(usize) -> (PathBuf, RunConfig, Origin, BTreeMap<String, Value>) + Sync),
        labels: &'a (dyn Fn(usize) -> String + Sync),
    ) -> Self {
        Self { targets, labels, folders: std::sync::Mutex::default(), failures: std::sync::Mutex::default() }
    }

    fn fail(&self, index: usize, error: &HarnessError) {
        self.failures.lock().expect("failures lock").push(format!("{}: {error}", (self.labels)(index)));
    }
}

impl RunHooks for FolderHooks<'_> {
    fn started(&self, index: usize) -> bool {
        let (dir, config, origin, _) = (self.targets)(index);
        match RunFolder::begin(&dir, &config, &origin, &(self.labels)(index)) {
            Ok(folder) => {
                self.folders.lock().expect("folders lock").insert(index, folder);
                true
            }
            // Another writer (an overlapping shard) finished it meanwhile: nothing to do.
            Err(HarnessError::FinishedMeanwhile { .. }) => false,
            Err(error) => {
                self.fail(index, &error);
                false
            }
        }
    }

    fn logged(&self, index: usize, point: &HistoryPoint) {
        let result = self.folders.lock().expect("folders lock").get_mut(&index).map(|folder| folder.log(point));
        if let Some(Err(error)) = result {
            self.fail(index, &error);
        }
    }

    fn finished(&self, index: usize, record: RunRecord, network: Option<&Checkpoint>) {
        let Some(folder) = self.folders.lock().expect("folders lock").remove(&index) else { return };
        let (_, _, _, values) = (self.targets)(index);
        if let Err(error) = folder.finish(values, &record, network) {
            self.fail(index, &error);
        }
    }
}

/// What a resumed sweep (or `run`) does with stale complete runs: made by
/// other code (another decouple version or git commit), or on a data file
/// that changed since. Never mix them silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum StalePolicy {
    /// Stop before training, saying how many are stale ([`HarnessError::Stale`]).
    #[default]
    Refuse,
    /// Redo them (`--rerun-stale`).
    Rerun,
    /// Keep them beside the new runs (`--accept-stale`); `sweep.csv` names each run's commit.
    Accept,
}

/// Where `decouple run` writes a config: `out`, or `results/runs/STEM-HASH8`.
#[derive(Debug, Clone)]
pub struct RunPlan {
    /// The resolved config.
    pub config: RunConfig,
    /// Its hash.
    pub hash: String,
    /// The run folder.
    pub dir: PathBuf,
}

/// Loads `file` with the `--set` edits (named parts through `registry`) and
/// picks the folder (what `run --dry-run` prints).
///
/// # Errors
/// Invalid config.
pub fn plan_run(file: &Path, sets: &[String], out: Option<PathBuf>, registry: &decouple_train::Registry) -> crate::Result<RunPlan> {
    let config = crate::config_file::load_run_with(file, sets, registry)?;
    let hash = config.hash();
    let stem = file.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_else(|| "run".into());
    let dir = out.unwrap_or_else(|| PathBuf::from("results").join("runs").join(format!("{stem}-{}", &hash[..8])));
    Ok(RunPlan { config, hash, dir })
}

/// How `decouple run` went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunDone {
    /// Trained now.
    Trained,
    /// The folder already held this config complete, made by this code: kept.
    AlreadyComplete,
    /// The folder held this config complete, made by other code: trained again.
    ReplacedStale,
    /// The folder held this config complete on data that changed since, trained again (`--rerun-stale`).
    RetrainedOnNewData,
    /// The folder held this config complete on data that changed since, kept (`--accept-stale`).
    KeptStale,
}

/// Options of `decouple run`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunOptions {
    /// The `--set` edits, in order.
    pub sets: Vec<String>,
    /// The folder (default `results/runs/STEM-HASH8`).
    pub out: Option<PathBuf>,
    /// Train again even if the folder is complete.
    pub force: bool,
    /// What to do with a complete run trained on data that changed since.
    pub stale: StalePolicy,
    /// Threads, progress and the registry of named parts.
    pub execution: Execution,
}

impl RunOptions {
    /// No edits, the default folder, no `--force`, stale data refused, the default execution.
    #[must_use]
    pub fn new() -> Self {
        Self { sets: Vec::new(), out: None, force: false, stale: StalePolicy::Refuse, execution: Execution::default() }
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        Self::new()
    }
}

/// `decouple run`: loads `file` with the `--set` edits, checks that the
/// folder can be written and that the machine can hold the run, trains and
/// evaluates on `execution`'s threads and writes the folder as it goes (see
/// the module doc). A complete folder with the same config hash, made by
/// this code on the same data, is kept as it is unless `force`; one made by
/// other code is run again; one trained on data that changed since is
/// refused unless `options.stale` says to redo or keep it. Returns the
/// folder, the summary and what was done.
///
/// # Errors
/// Invalid config, unwritable or locked folder, a run too big for the
/// machine, changed data under [`StalePolicy::Refuse`], I/O
/// failure. A diverged run is not an error here: it is recorded with status `failed`.
pub fn run_file(file: &Path, options: &RunOptions) -> crate::Result<(PathBuf, RunSummary, RunDone)> {
    let execution = &options.execution;
    let RunPlan { config, dir, .. } = plan_run(file, &options.sets, options.out.clone(), &execution.registry)?;
    let mut done = RunDone::Trained;
    if let Some(summary) = completed(&dir, &config.hash()).filter(|summary| !summary.was_refused()) {
        let digest = config.data_digest();
        if !options.force {
            if summary.code_version() != *code_version() {
                done = RunDone::ReplacedStale;
            } else if let Some(reason) = summary.stale_reason(code_version(), digest) {
                match options.stale {
                    StalePolicy::Refuse => return Err(HarnessError::StaleRun { dir, reason }),
                    StalePolicy::Accept => return Ok((dir, summary, RunDone::KeptStale)),
                    StalePolicy::Rerun => done = RunDone::RetrainedOnNewData,
                }
            } else {
                crate::folder_lock::clear_unheld(&dir);
                return Ok((dir, summary, RunDone::AlreadyComplete));
            }
        }
    }
    check_replaceable(&dir)?;
    if !options.force && is_earlier_data_file_run(&dir) {
        let message = format!(
            "{} holds a data-file run of an earlier decouple (report.json, bias.npy): pass --force to replace it, or choose another --out",
            dir.display()
        );
        return Err(HarnessError::invalid("--out", message));
    }
    crate::check_writable(dir.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new(".")))?;
    let augmentation = execution
        .registry
        .augmentation(&config.train.augmentation)
        .map_err(|error| HarnessError::invalid("augmentation", error.to_string()))?;
    let shape = match config.train.data.file() {
        Some(file) => Some(crate::config_file::check_data_file(file)?.1),
        None => None,
    };
    crate::training::check_memory(&config.train, &config.evaluation, decouple_augment::Augment::n_views(&augmentation), shape)
        .map_err(|error| HarnessError::TooBig { dir: dir.clone(), error: Box::new(error) })?;
    let name = folder_name(&dir);
    let origin = Origin { file: file.display().to_string(), edits: options.sets.clone(), sweep: None };
    // Started here, not in the hook, so that an unwritable or locked folder is an error before training.
    let folder = RunFolder::begin_replacing(&dir, &config, &origin, &name)?;
    let spec = RunSpec { label: name, config: config.train.clone() };
    struct Single {
        folder: std::sync::Mutex<Option<RunFolder>>,
        result: std::sync::Mutex<Option<crate::Result<RunSummary>>>,
        error: std::sync::Mutex<Option<HarnessError>>,
    }
    impl RunHooks for Single {
        fn logged(&self, _: usize, point: &HistoryPoint) {
            if let Some(Err(error)) = self.folder.lock().expect("folder lock").as_mut().map(|folder| folder.log(point)) {
                self.error.lock().expect("error lock").get_or_insert(error);
            }
        }
        fn finished(&self, _: usize, record: RunRecord, network: Option<&Checkpoint>) {
            let folder = self.folder.lock().expect("folder lock").take().expect("the folder is started before training");
            *self.result.lock().expect("result lock") = Some(folder.finish(BTreeMap::new(), &record, network));
        }
    }
    let single = Single { folder: std::sync::Mutex::new(Some(folder)), result: Default::default(), error: Default::default() };
    crate::training::execute_each("run", std::slice::from_ref(&spec), &[0], &|_| config.evaluation.clone(), 1, execution, &single);
    if let Some(error) = single.error.into_inner().expect("error lock") {
        return Err(error);
    }
    // Without a result the run stopped on request; its folder (dropped with `single`) stays incomplete.
    let Some(summary) = single.result.into_inner().expect("result lock") else {
        return Err(HarnessError::Stopped { dir });
    };
    let summary = summary?;
    Ok((dir, summary, done))
}

/// Writes the folder of a run trained elsewhere ([`crate::training::train_one`]),
/// the same files `decouple run` writes, replacing a folder already at `dir`
/// (under its lock); returns the summary.
///
/// # Errors
/// A folder another writer holds; I/O failure.
pub fn write_run(
    dir: &Path,
    config: &RunConfig,
    origin: &Origin,
    record: &RunRecord,
    network: Option<&Checkpoint>,
) -> crate::Result<RunSummary> {
    let mut folder = RunFolder::begin_replacing(dir, config, origin, &folder_name(dir))?;
    for point in &record.history {
        folder.log(point)?;
    }
    folder.finish(BTreeMap::new(), record, network)
}

/// Whether `dir` is a data-file run folder of an earlier decouple, which
/// wrote `report.json`, `weights.npy` and `bias.npy` and no checkpoint.
#[must_use]
pub fn is_earlier_data_file_run(dir: &Path) -> bool {
    dir.join("report.json").is_file() && dir.join("bias.npy").is_file() && !dir.join("checkpoint.json").is_file()
}

/// Fails if `dir` exists, is not empty and is not a run folder (so it is never replaced).
///
/// # Errors
/// As said, or I/O failure.
pub fn check_replaceable(dir: &Path) -> crate::Result<()> {
    if dir.exists()
        && !dir.join("config.json").is_file()
        && std::fs::read_dir(dir).map_err(HarnessError::io("reading", dir))?.next().is_some()
    {
        let message = format!("{} exists and is not a run folder; choose another --out", dir.display());
        return Err(HarnessError::invalid("--out", message));
    }
    Ok(())
}

/// Creates the empty partial folder of `dir` (`.NAME.partial-PID` beside it).
///
/// # Errors
/// I/O failure.
pub fn stage(dir: &Path) -> crate::Result<PathBuf> {
    let parent = dir.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&parent).map_err(HarnessError::io("creating", &parent))?;
    let temporary = parent.join(format!("{}{}", partial_prefix(dir), std::process::id()));
    if temporary.exists() {
        std::fs::remove_dir_all(&temporary).map_err(HarnessError::io("removing", &temporary))?;
    }
    std::fs::create_dir_all(&temporary).map_err(HarnessError::io("creating", &temporary))?;
    Ok(temporary)
}

/// Renames the finished partial folder `temporary` to `dir`, replacing an old `dir`.
///
/// # Errors
/// I/O failure.
pub fn publish(temporary: &Path, dir: &Path) -> crate::Result<()> {
    if dir.exists() {
        let old = temporary.with_file_name(format!("{}old-{}", partial_prefix(dir), std::process::id()));
        std::fs::rename(dir, &old).map_err(HarnessError::io("moving aside the old", dir))?;
        std::fs::rename(temporary, dir).map_err(HarnessError::io("renaming into", dir))?;
        std::fs::remove_dir_all(&old).map_err(HarnessError::io("removing", &old))?;
    } else {
        std::fs::rename(temporary, dir).map_err(HarnessError::io("renaming into", dir))?;
    }
    Ok(())
}

/// Copies the run folder `source` to `dir` (into a partial folder renamed into place, as [`RunFolder::begin`] starts one).
///
/// # Errors
/// I/O failure.
pub fn copy_run(source: &Path, dir: &Path) -> crate::Result<()> {
    let temporary = stage(dir)?;
    for entry in std::fs::read_dir(source).map_err(HarnessError::io("reading", source))? {
        let path = entry.map_err(HarnessError::io("reading", source))?.path();
        if path.is_file() {
            std::fs::copy(&path, temporary.join(path.file_name().unwrap_or_default())).map_err(HarnessError::io("copying", &path))?;
        }
    }
    publish(&temporary, dir)
}

/// Alignment heatmap, training curves and the sparse-energy histogram of
/// `record` into `dir`; returns the file names.
pub(crate) fn write_plots(dir: &Path, record: &RunRecord) -> crate::Result<Vec<String>> {
    let mut plots = Vec::new();
    if let Some(first) = record.alignment.first() {
        let neurons = vec![String::new(); record.alignment.len()];
        let every = first.len().div_ceil(8).max(1);
        let features: Vec<String> = (0..first.len()).map(|j| if j % every == 0 { format!("M{j}") } else { String::new() }).collect();
        let title = format!("|cos(w_i, M_j)| of seed {} (rows: neurons sorted by best feature)", record.seed);
        crate::write_atomic(&dir.join("alignment.svg"), &svg::heatmap(&title, &neurons, &features, &record.alignment, false))?;
        plots.push("alignment.svg".to_string());
    }
    if record.history.len() > 1 {
        let steps: Vec<f64> = record.history.iter().map(|point| point.step as f64).collect();
        let curve = |title: &str, pick: fn(&crate::training::HistoryPoint) -> f64| svg::Series {
            name: title.to_string(),
            values: record.history.iter().map(pick).collect(),
        };
        let mut series = vec![
            curve("median best_j", |point| point.median_best),
            curve("min best_j", |point| point.min_best),
            curve("sparse energy", |point| point.sparse_energy_weighted),
        ];
        // A run on a data file has no dictionary: only what does not need one.
        series.retain(|one| one.values.iter().any(|value| value.is_finite()));
        series.push(curve("active fraction", |point| point.active_fraction));
        let training = svg::lines("Feature learning over training", "step", "value", &steps, &series, (0.0, 1.0), usize::MAX);
        crate::write_atomic(&dir.join("training.svg"), &training)?;
        let losses = [curve("loss", |point| point.loss)];
        let (low, high) = losses[0]
            .values
            .iter()
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let range = if low < high { (low, high) } else { (low - 0.5, low + 0.5) };
        crate::write_atomic(&dir.join("loss.svg"), &svg::lines("Training loss", "step", "loss", &steps, &losses, range, usize::MAX))?;
        plots.extend(["training.svg".to_string(), "loss.svg".to_string()]);
    }
    if let Some(report) = &record.report {
        let energies = [("neurons".to_string(), report.sparse_energy_per_neuron.clone())];
        let title = format!(
            "Sparse energy ||M^T w_i||^2 / ||w_i||^2 of the neurons ({} of {} live; random direction: {:.3})",
            report.n_live, report.n_neurons, report.sparse_energy_random
        );
        crate::write_atomic(&dir.join("sparse-energy.svg"), &svg::histograms(&title, "sparse energy", &energies, (0.0, 1.0), 20))?;
        plots.push("sparse-energy.svg".to_string());
    }
    if let Some(filters) = &record.filters {
        let columns = (filters.panels.last().map_or(1, |panel| panel.images.len()) as f64).sqrt().ceil() as usize;
        let title = "Learned filters (sorted by norm) beside the top principal components";
        crate::write_atomic(
            &dir.join("filters.svg"),
            &svg::image_grid(title, &filters.panels, filters.height, filters.width, columns.max(1)),
        )?;
        plots.push("filters.svg".to_string());
    }
    Ok(plots)
}
