//! `decouple analyze RUN_DIR`: the analysis of a saved network, redone
//! without training. The network is reloaded from the folder's
//! `checkpoint.json`, the data model re-created from its config and seed, and
//! the full metric set of docs/model.md §6 recomputed (with the folder's
//! `[evaluation]` sample sizes) by the code of this version, so a new metric
//! applies to old runs. It writes `analysis.json` (the report and the code
//! that made it) and redraws the plots; `summary.json` keeps the report made
//! at training time. The evaluation draws from the run seed's named streams:
//! with unchanged code the report equals the one in `summary.json`.

use std::path::{Path, PathBuf};

use decouple_data::SparseCodingModel;
use decouple_eval::{EvaluationConfig, NetworkReport, evaluate};
use decouple_train::Checkpoint;
use serde::Serialize;
use serde_json::Value;

use crate::run_folder::write_plots;
use crate::training::{HistoryPoint, RunRecord, sorted_alignment};
use crate::{CodeVersion, HarnessError, code_version, write_json};

/// What [`analyze`] found.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The run folder.
    pub dir: PathBuf,
    /// The report recomputed now.
    pub report: NetworkReport,
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
    evaluation: &'a EvaluationConfig,
    report: &'a NetworkReport,
}

fn not_analysable(dir: &Path, reason: impl Into<String>) -> HarnessError {
    HarnessError::NotAnalysable { dir: dir.to_path_buf(), reason: reason.into() }
}

/// The metrics history of `metrics.jsonl` (lines that do not parse are skipped).
#[must_use]
pub fn read_history(dir: &Path) -> Vec<HistoryPoint> {
    let text = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap_or_default();
    text.lines().filter_map(|line| serde_json::from_str(line).ok()).collect()
}

/// Recomputes the report and the plots of the run folder `dir` from its saved network.
///
/// # Errors
/// [`HarnessError::NotAnalysable`] when `dir` is not a run folder, has no
/// network (folders written before networks were kept), or its network or
/// sample sizes do not load with this version (each says why and what to
/// do); an unwritable folder; failures of the evaluation.
pub fn analyze(dir: &Path) -> crate::Result<Analysis> {
    let config_path = dir.join("config.json");
    let Ok(text) = std::fs::read_to_string(&config_path) else {
        return Err(not_analysable(dir, "it has no config.json, so it is not a run folder of `decouple run` or `decouple sweep`"));
    };
    let config: Value =
        serde_json::from_str(&text).map_err(|error| not_analysable(dir, format!("config.json does not parse ({error})")))?;
    let field = |name: &str| config.get(name).and_then(Value::as_str).unwrap_or("unknown").to_string();
    let made_by = CodeVersion { version: field("decouple_version"), commit: field("git_commit") };
    let checkpoint_path = dir.join("checkpoint.json");
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
    let evaluation: EvaluationConfig = match config.get("evaluation") {
        None => EvaluationConfig::default(),
        Some(value) => serde_json::from_value(value.clone())
            .map_err(|error| not_analysable(dir, format!("the evaluation sample sizes of its config.json do not load ({error})")))?,
    };
    evaluation.check()?;
    crate::check_writable(dir)?;
    let model = SparseCodingModel::from_seed(checkpoint.config.data, checkpoint.config.seed)
        .map_err(|error| not_analysable(dir, format!("its data model cannot be re-created ({error})")))?;
    let report = evaluate(&checkpoint.config, &model, &checkpoint.net, &evaluation)?;
    let alignment = sorted_alignment(&checkpoint.net, model.dictionary().matrix())
        .map_err(|error| not_analysable(dir, format!("the network does not match its dictionary ({error})")))?;
    let previous = std::fs::read_to_string(dir.join("summary.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .and_then(|summary| summary.get("report").cloned())
        .filter(|report| !report.is_null());
    let printed = serde_json::to_string(&report).ok().and_then(|text| serde_json::from_str::<Value>(&text).ok());
    let same_as_summary = previous.map(|previous| Some(previous) == printed);
    let record = RunRecord {
        label: dir.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default(),
        seed: checkpoint.config.seed,
        config: checkpoint.config,
        wall_s: 0.0,
        error: None,
        report: Some(report.clone()),
        history: read_history(dir),
        alignment,
    };
    let plots = write_plots(dir, &record)?;
    let version = code_version();
    let file = AnalysisFile { decouple_version: &version.version, git_commit: &version.commit, evaluation: &evaluation, report: &report };
    write_json(&dir.join("analysis.json"), &file)?;
    Ok(Analysis { dir: dir.to_path_buf(), report, same_as_summary, plots, made_by })
}
