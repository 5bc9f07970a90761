//! One run's folder, written so that nothing is lost and nothing half-written
//! looks complete: `config.json`, `metrics.jsonl`, SVG plots and, last,
//! `summary.json` are written into a hidden temporary folder
//! `.NAME.partial-PID` beside the final one, which is then renamed to `NAME`.
//! A folder counts as complete when its `summary.json` parses and carries
//! the expected config hash; a killed run leaves only a hidden partial folder,
//! which the next attempt removes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use decouple_eval::NetworkReport;
use decouple_plot as svg;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config_file::RunConfig;
use crate::training::{RunRecord, write_metrics};
use crate::{HarnessError, write_json};

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

/// `summary.json` of one run: what it was and what it learned.
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
    /// The full metric set of docs/model.md §6, if the run finished.
    pub report: Option<NetworkReport>,
    /// Plot files in the folder.
    pub plots: Vec<String>,
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

/// The summary of a complete run folder with config hash `hash`, if `dir` is one.
#[must_use]
pub fn completed(dir: &Path, hash: &str) -> Option<RunSummary> {
    let text = std::fs::read_to_string(dir.join("summary.json")).ok()?;
    serde_json::from_str::<RunSummary>(&text).ok().filter(|summary| summary.config_hash == hash)
}

fn partial_prefix(dir: &Path) -> String {
    format!(".{}.partial-", dir.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default())
}

/// Removes partial folders left by killed attempts at `dir`.
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

/// Writes `record` as the run folder `dir` (atomically, see the module doc) and returns its summary.
///
/// # Errors
/// I/O failure, or `dir` exists and is not a run folder (it is never deleted then).
pub fn write_run(
    dir: &Path,
    config: &RunConfig,
    origin: &Origin,
    values: BTreeMap<String, Value>,
    record: &RunRecord,
) -> crate::Result<RunSummary> {
    #[derive(Serialize)]
    struct ConfigFile<'a> {
        name: &'a str,
        config_hash: &'a str,
        config: &'a decouple_train::TrainConfig,
        evaluation: &'a decouple_eval::EvaluationConfig,
        origin: &'a Origin,
        git_commit: String,
        toolchain: String,
    }
    fn provenance() -> &'static (String, String) {
        static PROVENANCE: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
        PROVENANCE.get_or_init(|| (crate::git_commit(std::path::Path::new(".")), crate::toolchain()))
    }
    let name = dir.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let hash = config.hash();
    check_replaceable(dir)?;
    let temporary = stage(dir)?;
    let provenance = ConfigFile {
        name: &name,
        config_hash: &hash,
        config: &config.train,
        evaluation: &config.evaluation,
        origin,
        git_commit: provenance().0.clone(),
        toolchain: provenance().1.clone(),
    };
    write_json(&temporary.join("config.json"), &provenance)?;
    write_metrics(&temporary.join("metrics.jsonl"), std::slice::from_ref(record))?;
    let plots = write_plots(&temporary, record)?;
    let summary = RunSummary {
        name,
        config_hash: hash,
        status: if record.report.is_some() { RunStatus::Ok } else { RunStatus::Failed },
        error: record.error.clone(),
        seed: record.seed,
        values,
        wall_s: record.wall_s,
        final_loss: record.history.last().map(|point| point.loss),
        report: record.report.clone(),
        plots,
    };
    write_json(&temporary.join("summary.json"), &summary)?;
    publish(&temporary, dir)?;
    Ok(summary)
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

/// `decouple run`: loads `file` with the `--set` edits, trains and evaluates
/// it, and writes its folder (default `results/runs/STEM-HASH8`). A complete
/// folder with the same config hash is kept as it is unless `force`. Returns
/// the folder, the summary and whether it was already complete.
///
/// # Errors
/// Invalid config or I/O failure. A diverged run is not an error here: it is
/// recorded with status `failed`.
pub fn run_file(file: &Path, sets: &[String], out: Option<PathBuf>, force: bool) -> crate::Result<(PathBuf, RunSummary, bool)> {
    let config = crate::config_file::load_run(file, sets)?;
    let hash = config.hash();
    let stem = file.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_else(|| "run".into());
    let dir = out.unwrap_or_else(|| PathBuf::from("results").join("runs").join(format!("{stem}-{}", &hash[..8])));
    if !force {
        if let Some(summary) = completed(&dir, &hash) {
            return Ok((dir, summary, true));
        }
    }
    check_replaceable(&dir)?;
    remove_partials(&dir)?;
    let name = dir.file_name().map_or_else(|| stem.clone(), |name| name.to_string_lossy().into_owned());
    let spec = crate::training::RunSpec { label: name, config: config.train };
    let slot = std::sync::Mutex::new(None);
    crate::training::execute_each("run", std::slice::from_ref(&spec), &[0], &|_| config.evaluation, 1, &|_, record| {
        *slot.lock().expect("run slot lock") = Some(record);
    });
    let record = slot.into_inner().expect("run slot lock").expect("execute_each runs every pending spec");
    let origin = Origin { file: file.display().to_string(), edits: sets.to_vec(), sweep: None };
    let summary = write_run(&dir, &config, &origin, BTreeMap::new(), &record)?;
    Ok((dir, summary, false))
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

/// Copies the run folder `source` to `dir` (atomically, like [`write_run`]).
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

/// Alignment heatmap, training curves and the sparse-energy histogram.
fn write_plots(dir: &Path, record: &RunRecord) -> crate::Result<Vec<String>> {
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
        let series = [
            curve("median best_j", |point| point.median_best),
            curve("min best_j", |point| point.min_best),
            curve("sparse energy", |point| point.sparse_energy_weighted),
            curve("active fraction", |point| point.active_fraction),
        ];
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
    Ok(plots)
}
