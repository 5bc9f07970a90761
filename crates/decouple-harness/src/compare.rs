//! `decouple compare RUN_DIR...`: run folders side by side. A table with one
//! column per run: status, seed, the code that made it, the key metrics of
//! its `summary.json`, and every config field whose value differs between the
//! runs (from `config.json`, as dotted paths). And one SVG overlaying their
//! curves over training steps (median best_j solid, norm-weighted sparse
//! energy dashed, from `metrics.jsonl`), plus their loss curves beside it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use decouple_plot::{self as svg, Series};
use serde_json::Value;

use crate::analyze::read_history;
use crate::run_folder::{RunStatus, RunSummary};
use crate::sweep_results::metric;
use crate::training::HistoryPoint;
use crate::{HarnessError, short_commit, write_atomic};

/// Metrics of the table, with their row names.
const ROWS: [(&str, &str); 11] = [
    ("median best_j", "median_best"),
    ("min best_j", "min_best"),
    ("features >= 0.9", "n_recovered"),
    ("features", "n_features"),
    ("sparse energy (weighted)", "sparse_energy_weighted"),
    ("live neurons", "n_live"),
    ("effective rank", "effective_rank"),
    ("probe f(x)", "probe.learned"),
    ("probe raw x", "probe.raw"),
    ("final loss", "final_loss"),
    ("wall time (s)", "wall_s"),
];

/// Rows of the sample analysis, shown when a run is on a data file.
const SAMPLE_ROWS: [(&str, &str); 4] = [
    ("active fraction", "active_fraction"),
    ("dead neurons", "n_dead"),
    ("kurtosis (median)", "kurtosis_median"),
    ("top-k share (median)", "top_k_share_median"),
];

/// What [`compare`] wrote.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The side-by-side table (plain text).
    pub table: String,
    /// The SVG files written.
    pub plots: Vec<PathBuf>,
}

/// One run folder, read.
struct Run {
    name: String,
    summary: RunSummary,
    config: BTreeMap<String, String>,
    history: Vec<HistoryPoint>,
}

/// Leaves of a JSON tree as `dotted.path -> value`.
fn flatten(value: &Value, path: &str, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                flatten(child, &if path.is_empty() { key.clone() } else { format!("{path}.{key}") }, out);
            }
        }
        Value::String(text) => {
            out.insert(path.to_string(), text.clone());
        }
        leaf => {
            out.insert(path.to_string(), leaf.to_string());
        }
    }
}

fn read_run(dir: &Path) -> crate::Result<Run> {
    let path = dir.join("summary.json");
    let text = std::fs::read_to_string(&path)
        .map_err(HarnessError::io("reading", &path))
        .map_err(|error| error.within(format!("{} is not a complete run folder", dir.display())))?;
    let summary: RunSummary = crate::lenient_json::from_str(&text).map_err(|error| {
        let hint = if crate::run_folder::is_earlier_data_file_run(dir) {
            " (a data-file run folder of an earlier decouple: train it again)"
        } else {
            ""
        };
        HarnessError::Json { what: format!("parsing {}{hint}", path.display()), error }
    })?;
    let mut config = BTreeMap::new();
    if let Some(tree) = std::fs::read_to_string(dir.join("config.json")).ok().and_then(|text| serde_json::from_str::<Value>(&text).ok()) {
        for part in ["config", "evaluation"] {
            if let Some(value) = tree.get(part) {
                flatten(value, if part == "config" { "" } else { "evaluation" }, &mut config);
            }
        }
    }
    let name = dir.file_name().map_or_else(|| dir.display().to_string(), |name| name.to_string_lossy().into_owned());
    Ok(Run { name, summary, config, history: read_history(dir) })
}

/// A metric as printed: `n/a` when the run has no value for it (a failed
/// run, or a metric that needs a dictionary in a run on a data file).
fn format_value(value: Option<f64>) -> String {
    match value {
        Some(value) if value.fract() == 0.0 && value.abs() < 1e9 => format!("{value:.0}"),
        Some(value) if value.is_finite() => format!("{value:.4}"),
        _ => "n/a".into(),
    }
}

/// Prints `dirs` side by side and writes the overlaid curves to `svg_out`
/// (and the losses to `STEM-loss.svg` beside it).
///
/// # Errors
/// A folder without a readable `summary.json` (named); I/O failure.
pub fn compare(dirs: &[PathBuf], svg_out: &Path) -> crate::Result<Comparison> {
    if dirs.is_empty() {
        return Err(HarnessError::invalid("", "give at least one run folder"));
    }
    let runs: Vec<Run> = dirs.iter().map(|dir| read_run(dir)).collect::<crate::Result<_>>()?;
    let mut rows: Vec<(String, Vec<String>)> = vec![
        ("run".into(), runs.iter().map(|run| run.name.clone()).collect()),
        (
            "status".into(),
            runs.iter()
                .map(|run| match run.summary.status {
                    RunStatus::Ok => "ok".into(),
                    _ => "failed".into(),
                })
                .collect(),
        ),
        ("seed".into(), runs.iter().map(|run| run.summary.seed.to_string()).collect()),
        ("decouple".into(), runs.iter().map(|run| run.summary.code_version().version).collect()),
        ("commit".into(), runs.iter().map(|run| short_commit(&run.summary.code_version().commit)).collect()),
    ];
    for (row, name) in ROWS {
        rows.push((row.into(), runs.iter().map(|run| format_value(metric(&run.summary, name))).collect()));
    }
    if runs.iter().any(|run| run.summary.sample_report.is_some()) {
        for (row, name) in SAMPLE_ROWS {
            rows.push((row.into(), runs.iter().map(|run| format_value(metric(&run.summary, name))).collect()));
        }
    }
    let paths: BTreeSet<&String> = runs.iter().flat_map(|run| run.config.keys()).collect();
    for path in paths {
        let values: Vec<String> = runs.iter().map(|run| run.config.get(path).cloned().unwrap_or_else(|| "-".into())).collect();
        if values.iter().any(|value| value != &values[0]) && path != "seed" {
            rows.push((path.clone(), values));
        }
    }
    let first = rows.iter().map(|(name, _)| name.chars().count()).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..runs.len()).map(|column| rows.iter().map(|(_, cells)| cells[column].chars().count()).max().unwrap_or(0)).collect();
    let mut table = String::new();
    for (name, cells) in &rows {
        let _ = write!(table, "{name:<first$}");
        for (cell, width) in cells.iter().zip(&widths) {
            let _ = write!(table, "  {cell:>width$}");
        }
        table.push('\n');
    }
    let plots = write_curves(&runs, svg_out)?;
    Ok(Comparison { table, plots })
}

/// The overlaid curves of `runs` over the union of their logged steps.
fn write_curves(runs: &[Run], svg_out: &Path) -> crate::Result<Vec<PathBuf>> {
    let steps: BTreeSet<usize> = runs.iter().flat_map(|run| run.history.iter().map(|point| point.step)).collect();
    let x: Vec<f64> = steps.iter().map(|&step| step as f64).collect();
    let series = |suffix: &str, pick: fn(&HistoryPoint) -> f64| -> Vec<Series> {
        runs.iter()
            .map(|run| {
                let by_step: BTreeMap<usize, f64> = run.history.iter().map(|point| (point.step, pick(point))).collect();
                Series {
                    name: format!("{} {suffix}", run.name),
                    values: steps.iter().map(|step| by_step.get(step).copied().unwrap_or(f64::NAN)).collect(),
                }
            })
            .collect()
    };
    let mut curves = series("median best_j", |point| point.median_best);
    curves.extend(series("sparse energy", |point| point.sparse_energy_weighted));
    let title = format!("{} runs: median best_j (solid) and sparse energy (dashed)", runs.len());
    if let Some(parent) = svg_out.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(HarnessError::io("creating", parent))?;
    }
    write_atomic(svg_out, &svg::lines(&title, "step", "value", &x, &curves, (0.0, 1.0), runs.len()))?;
    let losses = series("loss", |point| point.loss);
    let finite: Vec<f64> = losses.iter().flat_map(|one| one.values.iter().copied()).filter(|value| value.is_finite()).collect();
    let (low, high) = finite.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), &value| (low.min(value), high.max(value)));
    let range = if low < high {
        (low, high)
    } else if low.is_finite() {
        (low - 0.5, low + 0.5)
    } else {
        (0.0, 1.0)
    };
    let stem = svg_out.file_stem().map_or_else(|| "compare".into(), |stem| stem.to_string_lossy().into_owned());
    let loss_out = svg_out.with_file_name(format!("{stem}-loss.svg"));
    write_atomic(&loss_out, &svg::lines(&format!("{} runs: training loss", runs.len()), "step", "loss", &x, &losses, range, usize::MAX))?;
    Ok(vec![svg_out.to_path_buf(), loss_out])
}
