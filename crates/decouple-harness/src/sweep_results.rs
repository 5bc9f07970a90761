//! The table and plots of a sweep, rebuilt from its run folders: `sweep.csv`
//! (one row per run: name, swept values, seed, status, key metrics, wall
//! time, config hash, the git commit that made it, error) and, for every plotted metric, a heatmap over the two plot
//! axes and a line (or bar) plot along x, each cell the mean over seeds (and
//! over any other axes). Used by `sweep` and by `merge`.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use decouple_plot::{self as svg, Series};

use crate::config_file::label;
use crate::manifest::SweepManifest;
use crate::run_folder::{RunStatus, RunSummary, completed};
use crate::write_atomic;

/// Metrics a sweep can tabulate and plot: fields of the run's report
/// (`probe.learned` is a nested one) or, for a run on a data file, of its
/// sample report (the last five), plus `final_loss` and `wall_s`. A metric
/// a run does not have (one that needs a dictionary, in a run on a data
/// file) is an empty cell: not available.
pub const METRICS: [&str; 30] = [
    "median_best",
    "min_best",
    "max_best",
    "n_recovered",
    "n_features",
    "mean_purity",
    "mean_features_per_neuron",
    "sparse_energy_mean",
    "sparse_energy_weighted",
    "n_live",
    "dense_span_energy_weighted",
    "n_dead",
    "zero_fraction",
    "effective_rank",
    "support_match_rate",
    "support_false_rate",
    "probe.learned",
    "probe.raw",
    "probe.init",
    "probe.ideal",
    "probe.learned_r2",
    "rho_sparse_learned",
    "rho_dense_learned",
    "final_loss",
    "wall_s",
    "active_fraction",
    "kurtosis_median",
    "participation_ratio_median",
    "top_k_share_median",
    "kappa",
];

/// The metric columns every `sweep.csv` has (the live neurons beside the
/// norm-weighted sparse energy, which a few large live neurons can dominate).
const COLUMNS: [&str; 11] = [
    "median_best",
    "min_best",
    "n_recovered",
    "n_features",
    "sparse_energy_weighted",
    "n_live",
    "probe.learned",
    "probe.raw",
    "probe.ideal",
    "final_loss",
    "wall_s",
];

/// Statuses of the runs of a table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Finished runs.
    pub ok: usize,
    /// Runs recorded as failed (e.g. diverged).
    pub failed: usize,
    /// Runs with no complete folder.
    pub missing: usize,
}

/// `metric` of a run (`None` if the run failed or the metric does not apply).
#[must_use]
pub fn metric(summary: &RunSummary, metric: &str) -> Option<f64> {
    match metric {
        "wall_s" => Some(summary.wall_s),
        "final_loss" => summary.final_loss,
        path => {
            let report = match (&summary.report, &summary.sample_report) {
                (Some(report), _) => serde_json::to_value(report).ok()?,
                (None, Some(report)) => serde_json::to_value(report).ok()?,
                (None, None) => return None,
            };
            path.split('.').try_fold(&report, |node, key| node.get(key)).and_then(Value::as_f64).filter(|value| value.is_finite())
        }
    }
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_string() }
}

/// Writes the table `out/table` for the runs `indices` of `manifest` (and
/// the plots if `plots`), reading each run's `out/runs/NAME/summary.json`.
///
/// # Errors
/// I/O failure.
pub fn write(out: &Path, manifest: &SweepManifest, indices: &[usize], table: &str, plots: bool) -> crate::Result<Tally> {
    let mut tally = Tally::default();
    let summaries: Vec<Option<RunSummary>> = indices
        .iter()
        .map(|&index| {
            let run = &manifest.runs[index];
            let summary = completed(&out.join("runs").join(&run.name), &run.config_hash);
            match summary.as_ref().map(|summary| summary.status) {
                Some(RunStatus::Ok) => tally.ok += 1,
                Some(RunStatus::Failed) => tally.failed += 1,
                None => tally.missing += 1,
            }
            summary
        })
        .collect();
    let mut columns: Vec<&str> = COLUMNS.to_vec();
    columns.extend(manifest.plot.metrics.iter().map(String::as_str).filter(|name| !COLUMNS.contains(name)));
    let mut csv = String::from("run,");
    for axis in &manifest.axes {
        let _ = write!(csv, "{},", csv_field(&axis.path));
    }
    let _ = writeln!(csv, "seed,status,{},config_hash,git_commit,error", columns.join(","));
    for (&index, summary) in indices.iter().zip(&summaries) {
        let run = &manifest.runs[index];
        let _ = write!(csv, "{},", csv_field(&run.name));
        for (axis, &coord) in manifest.axes.iter().zip(&run.coords) {
            let _ = write!(csv, "{},", csv_field(&label(&axis.values[coord])));
        }
        let status = match summary.as_ref().map(|summary| summary.status) {
            Some(RunStatus::Ok) => "ok",
            Some(RunStatus::Failed) => "failed",
            None => "missing",
        };
        let _ = write!(csv, "{},{status},", run.seed);
        for column in &columns {
            let value = summary.as_ref().and_then(|summary| metric(summary, column));
            let _ = write!(csv, "{},", value.map(|value| value.to_string()).unwrap_or_default());
        }
        let error = summary.as_ref().and_then(|summary| summary.error.clone()).unwrap_or_default();
        let commit = summary.as_ref().and_then(|summary| summary.git_commit.clone()).unwrap_or_default();
        let _ = writeln!(csv, "{},{},{}", run.config_hash, csv_field(&commit), csv_field(&error));
    }
    write_atomic(&out.join(table), &csv)?;
    if plots && !manifest.axes.is_empty() {
        let runs: Vec<(&[usize], &RunSummary)> = indices
            .iter()
            .zip(&summaries)
            .filter_map(|(&index, summary)| summary.as_ref().map(|summary| (manifest.runs[index].coords.as_slice(), summary)))
            .collect();
        for name in &manifest.plot.metrics {
            plot_metric(out, manifest, &runs, name)?;
        }
    }
    Ok(tally)
}

/// [`label`], with a long kind abbreviated to its capitals so that it fits a
/// legend (`ComplementaryMask(0.5)` is `CM(0.5)`; `sweep.csv` has the full label).
fn plot_label(value: &Value) -> String {
    let full = label(value);
    match value.get("kind").and_then(Value::as_str) {
        Some(kind) if full.chars().count() > 18 => {
            full.replacen(kind, &kind.chars().filter(char::is_ascii_uppercase).collect::<String>(), 1)
        }
        _ => full,
    }
}

fn axis_index(manifest: &SweepManifest, wanted: Option<&String>, fallback: usize) -> Option<usize> {
    match wanted {
        Some(wanted) => manifest.axes.iter().position(|axis| &axis.path == wanted || &axis.short == wanted),
        None => (fallback < manifest.axes.len()).then_some(fallback),
    }
}

/// Heatmap (two or more axes) and lines or bars along x for one metric.
fn plot_metric(out: &Path, manifest: &SweepManifest, runs: &[(&[usize], &RunSummary)], name: &str) -> crate::Result<()> {
    let Some(x) = axis_index(manifest, manifest.plot.x.as_ref(), 0) else { return Ok(()) };
    let y = axis_index(manifest, manifest.plot.y.as_ref(), usize::from(x == 0)).filter(|&y| y != x);
    let x_axis = &manifest.axes[x];
    let rows = y.map_or(1, |y| manifest.axes[y].values.len());
    let mut sums = vec![vec![(0.0, 0usize); x_axis.values.len()]; rows];
    for (coords, summary) in runs {
        if let Some(value) = metric(summary, name).filter(|value| value.is_finite()) {
            let cell = &mut sums[y.map_or(0, |y| coords[y])][coords[x]];
            cell.0 += value;
            cell.1 += 1;
        }
    }
    let means: Vec<Vec<f64>> =
        sums.iter().map(|row| row.iter().map(|&(sum, count)| if count == 0 { f64::NAN } else { sum / count as f64 }).collect()).collect();
    let finite: Vec<f64> = means.iter().flatten().copied().filter(|value| value.is_finite()).collect();
    let (low, high) = finite.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), &value| (low.min(value), high.max(value)));
    let range = if finite.is_empty() || (low >= 0.0 && high <= 1.0) {
        (0.0, 1.0)
    } else if low < high {
        (low, high)
    } else {
        (low - 1.0, high + 1.0)
    };
    let others: Vec<&str> = manifest
        .axes
        .iter()
        .enumerate()
        .filter(|(index, _)| *index != x && Some(*index) != y)
        .map(|(_, axis)| axis.short.as_str())
        .collect();
    let averaged = if others.is_empty() { "mean over seeds".to_string() } else { format!("mean over seeds and {}", others.join(", ")) };
    let title = format!("{}: {name} ({averaged})", manifest.name);
    let (heatmap_title, lines_title) = match y {
        Some(y) => (
            format!("{title}; rows {}, columns {}", manifest.axes[y].short, x_axis.short),
            format!("{title}; one line per {}", manifest.axes[y].short),
        ),
        None => (title.clone(), title),
    };
    let x_labels: Vec<String> = x_axis.values.iter().map(plot_label).collect();
    let row_names: Vec<String> = match y {
        Some(y) => manifest.axes[y].values.iter().map(plot_label).collect(),
        None => vec![name.to_string()],
    };
    let file = name.replace(|c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '_', "-");
    if y.is_some() {
        write_atomic(
            &out.join(format!("{file}-heatmap.svg")),
            &svg::heatmap_in(&heatmap_title, &row_names, &x_labels, &means, true, range),
        )?;
    }
    let series: Vec<Series> =
        row_names.iter().zip(&means).map(|(row, values)| Series { name: row.clone(), values: values.clone() }).collect();
    let numeric: Option<Vec<f64>> = x_axis.values.iter().map(Value::as_f64).collect();
    match numeric {
        Some(positions) if positions.len() > 1 => {
            let mut order: Vec<usize> = (0..positions.len()).collect();
            order.sort_by(|&a, &b| positions[a].total_cmp(&positions[b]));
            let sorted: Vec<f64> = order.iter().map(|&index| positions[index]).collect();
            let series: Vec<Series> = series
                .iter()
                .map(|one| Series { name: one.name.clone(), values: order.iter().map(|&index| one.values[index]).collect() })
                .collect();
            write_atomic(
                &out.join(format!("{file}-lines.svg")),
                &svg::line_plot(&lines_title, &x_axis.path, name, &sorted, &series, range),
            )?;
        }
        _ => {
            write_atomic(
                &out.join(format!("{file}-bars.svg")),
                &svg::grouped_bars(&lines_title, name, &x_labels, &series, (range.0.min(0.0), range.1)),
            )?;
        }
    }
    Ok(())
}
