//! `decouple analyze RUN_DIR`: the analysis of a saved network, redone
//! without training. The network is reloaded from the folder's
//! `checkpoint.json`, the data model re-created from its config and seed, and
//! the full metric set of docs/model.md §6 recomputed (with the folder's
//! `[evaluation]` sample sizes) by the code of this version, so a new metric
//! applies to old runs. It writes `analysis.json` (the report and the code
//! that made it) and redraws the plots; `summary.json` keeps the report made
//! at training time. The evaluation draws from the run seed's named streams:
//! with unchanged code the report equals the one in `summary.json`.
//!
//! A run on a data file is analysed the same way, on its data file (which
//! must still have the digest it was trained on) with the sample analysis.
//! The objective's state saved in the checkpoint (a predictor, an EMA
//! target, ...) is restored into the objective the registry makes, so a
//! checkpoint whose state does not fit its objective is reported.

use std::path::{Path, PathBuf};

use decouple_data::SparseCodingModel;
use decouple_eval::{EvaluationConfig, NetworkReport, SampleEvaluation, SampleReport, evaluate, evaluate_samples};
use decouple_train::{Checkpoint, Objective as _, ObjectiveState as _, Registry};
use serde::Serialize;
use serde_json::Value;

use crate::run_folder::write_plots;
use crate::training::{HistoryPoint, RunRecord, sorted_alignment};
use crate::{CodeVersion, HarnessError, code_version, write_json};

/// The report [`analyze`] recomputed: the metric set of a run on the data
/// model, or the sample analysis of a run on a data file.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Report {
    /// docs/model.md §6.
    Network(Box<NetworkReport>),
    /// Without a dictionary.
    Samples(Box<SampleReport>),
}

impl Report {
    /// The metric set, for a run on the data model.
    #[must_use]
    pub fn network(&self) -> Option<&NetworkReport> {
        match self {
            Self::Network(report) => Some(report),
            Self::Samples(_) => None,
        }
    }

    /// The sample analysis, for a run on a data file.
    #[must_use]
    pub fn samples(&self) -> Option<&SampleReport> {
        match self {
            Self::Samples(report) => Some(report),
            Self::Network(_) => None,
        }
    }
}

/// The objective's state of a checkpoint, as [`analyze`] found it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateCheck {
    /// Restored into the objective the registry makes (this many tensors; 0
    /// for an objective without state, or a checkpoint written before the state was kept).
    Restored(usize),
    /// The objective is not registered here (a user's binary registers it): the state is kept, not read.
    NotRegistered {
        /// The objective's kind.
        kind: String,
        /// Tensors in the checkpoint.
        tensors: usize,
    },
}

/// What [`analyze`] found.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The run folder.
    pub dir: PathBuf,
    /// The report recomputed now.
    pub report: Report,
    /// What became of the objective's state saved in the checkpoint.
    pub state: StateCheck,
    /// Whether the report equals the one `summary.json` holds (`None` if it holds none),
    /// compared as printed (so as the files would be).
    pub same_as_summary: Option<bool>,
    /// Plots redrawn.
    pub plots: Vec<String>,
    /// The code that made the run (from `config.json`).
    pub made_by: CodeVersion,
}

/// `analysis.json`.
#[derive(Serialize)]
struct AnalysisFile<'a> {
    decouple_version: &'a str,
    git_commit: &'a str,
    evaluation: &'a Value,
    report: &'a Report,
}

fn not_analysable(dir: &Path, reason: impl Into<String>) -> HarnessError {
    HarnessError::NotAnalysable { dir: dir.to_path_buf(), reason: reason.into() }
}

/// The metrics history of `metrics.jsonl` (lines that do not parse are skipped).
#[must_use]
pub fn read_history(dir: &Path) -> Vec<HistoryPoint> {
    let text = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap_or_default();
    text.lines().filter_map(|line| crate::lenient_json::from_str(line).ok()).collect()
}

/// Recomputes the report and the plots of the run folder `dir` from its saved network.
///
/// # Errors
/// [`HarnessError::NotAnalysable`] when `dir` is not a run folder, has no
/// network (folders written before networks were kept), or its network or
/// sample sizes do not load with this version (each says why and what to
/// do); an unwritable folder; failures of the evaluation.
pub fn analyze(dir: &Path) -> crate::Result<Analysis> {
    analyze_with(dir, &Registry::default())
}

/// [`analyze`], with the run's named objective and augmentation made by `registry`.
///
/// # Errors
/// As [`analyze`]; a part the registry does not know.
pub fn analyze_with(dir: &Path, registry: &Registry) -> crate::Result<Analysis> {
    let config_path = dir.join("config.json");
    let Ok(text) = std::fs::read_to_string(&config_path) else {
        return Err(not_analysable(dir, "it has no config.json, so it is not a run folder of `decouple run` or `decouple sweep`"));
    };
    let config: Value =
        serde_json::from_str(&text).map_err(|error| not_analysable(dir, format!("config.json does not parse ({error})")))?;
    let field = |name: &str| config.get(name).and_then(Value::as_str).unwrap_or("unknown").to_string();
    let made_by = CodeVersion { version: field("decouple_version"), commit: field("git_commit") };
    let checkpoint_path = dir.join("checkpoint.json");
    if crate::run_folder::is_earlier_data_file_run(dir) {
        let file = config.pointer("/origin/file").and_then(Value::as_str).unwrap_or("CONFIG");
        return Err(not_analysable(
            dir,
            format!(
                "it is a data-file run folder of an earlier decouple (report.json, weights.npy and bias.npy, no checkpoint.json): \
                 its report.json stays valid as it is; to analyse it, train it again with this version, which writes the same \
                 folder for every run: decouple run --config {file} --out {} --force",
                dir.display()
            ),
        ));
    }
    if !checkpoint_path.is_file() {
        let file = config.pointer("/origin/file").and_then(Value::as_str).unwrap_or("CONFIG");
        return Err(not_analysable(
            dir,
            format!(
                "it has no checkpoint.json: it was written by decouple {}, which did not keep trained networks (or its run failed), \
                 so there is no network to analyse; its summary.json and plots stay valid as they are; to analyse it, train it again \
                 with this version: decouple run --config {file} --out {} --force",
                made_by.short(),
                dir.display()
            ),
        ));
    }
    let checkpoint = Checkpoint::load(&checkpoint_path).map_err(|error| {
        not_analysable(
            dir,
            format!(
                "its checkpoint.json (written by decouple {}) does not load with decouple {}: {}",
                made_by.short(),
                code_version().short(),
                crate::chain(&error)
            ),
        )
    })?;
    crate::check_writable(dir)?;
    // It rewrites the folder's plots and analysis.json: not while a run is writing the folder.
    let _lock = crate::folder_lock::FolderLock::acquire(dir)?;
    let train = &checkpoint.config;
    let unknown_part = |error: decouple_train::TrainError| not_analysable(dir, format!("its parts cannot be made ({error})"));
    let augmentation = registry.augmentation(&train.augmentation).map_err(|error| {
        not_analysable(dir, format!("its augmentation cannot be made here ({error}); analyse it with the binary that registers it"))
    })?;
    // The analysis does not need the objective: one this registry does not know keeps its state unread.
    let state_tensors = checkpoint.objective_state.tensors.len();
    let state = match registry.objective(&train.objective) {
        // Checkpoints written before the objective's state was kept hold none.
        Ok(_) if checkpoint.objective_state.tensors.is_empty() => StateCheck::Restored(0),
        Ok(objective) => {
            let mut state = objective.start(&checkpoint.net, train).map_err(unknown_part)?;
            state.restore(&checkpoint.objective_state).map_err(|error| {
                not_analysable(dir, format!("the objective state of its checkpoint does not fit its objective ({})", crate::chain(&error)))
            })?;
            StateCheck::Restored(state_tensors)
        }
        Err(decouple_train::TrainError::UnknownKind { kind, .. }) => StateCheck::NotRegistered { kind, tensors: state_tensors },
        Err(error) => return Err(unknown_part(error)),
    };
    let evaluation_tree = config.get("evaluation").cloned();
    let (report, alignment, filters) = match (train.data.model(), train.data.file()) {
        (Some(data), _) => {
            let evaluation: EvaluationConfig = match &evaluation_tree {
                None => EvaluationConfig::default(),
                Some(value) => serde_json::from_value(value.clone()).map_err(|error| {
                    not_analysable(dir, format!("the evaluation sample sizes of its config.json do not load ({error})"))
                })?,
            };
            evaluation.check()?;
            let model = SparseCodingModel::from_seed(*data, train.seed)
                .map_err(|error| not_analysable(dir, format!("its data model cannot be re-created ({error})")))?;
            let report = evaluate(train, &model, &checkpoint.net, &augmentation, &evaluation)?;
            let alignment = sorted_alignment(&checkpoint.net, model.dictionary().matrix())
                .map_err(|error| not_analysable(dir, format!("the network does not match its dictionary ({error})")))?;
            (Report::Network(Box::new(report)), alignment, None)
        }
        (None, file) => {
            let file = file.ok_or_else(|| not_analysable(dir, "its data source is not known to this version"))?;
            let evaluation: SampleEvaluation = match &evaluation_tree {
                None => SampleEvaluation::default(),
                Some(value) => serde_json::from_value(value.clone())
                    .map_err(|error| not_analysable(dir, format!("the analysis settings of its config.json do not load ({error})")))?,
            };
            let samples = file.load_checked().map_err(|error| not_analysable(dir, format!("its data file cannot be used ({error})")))?;
            let report = evaluate_samples(&checkpoint.net, &samples, &augmentation, &evaluation, train.seed)?;
            let outcome_filters =
                crate::training::sample_filters(&checkpoint.net, &samples, &decouple_augment::Augment::label(&augmentation))
                    .map_err(|error| not_analysable(dir, format!("its filters cannot be drawn ({error})")))?;
            (Report::Samples(Box::new(report)), Vec::new(), outcome_filters)
        }
    };
    let previous = std::fs::read_to_string(dir.join("summary.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .and_then(|summary| summary.get(if report.network().is_some() { "report" } else { "sample_report" }).cloned())
        .filter(|report| !report.is_null());
    let printed = serde_json::to_string(&report).ok().and_then(|text| serde_json::from_str::<Value>(&text).ok());
    let same_as_summary = previous.map(|previous| Some(previous) == printed);
    let record = RunRecord {
        label: dir.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default(),
        seed: train.seed,
        config: train.clone(),
        wall_s: 0.0,
        times: crate::training::RunTimes::default(),
        error: None,
        stopped: false,
        report: report.network().cloned(),
        sample_report: report.samples().cloned(),
        history: read_history(dir),
        alignment,
        filters,
    };
    let plots = write_plots(dir, &record)?;
    let version = code_version();
    let evaluation = evaluation_tree.unwrap_or(Value::Null);
    let file = AnalysisFile { decouple_version: &version.version, git_commit: &version.commit, evaluation: &evaluation, report: &report };
    write_json(&dir.join("analysis.json"), &file)?;
    Ok(Analysis { dir: dir.to_path_buf(), report, state, same_as_summary, plots, made_by })
}
