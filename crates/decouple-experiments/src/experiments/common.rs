//! Shared pieces of the training experiments: the default run, grouping
//! records by label, statistics over seeds, the standard metrics table and
//! the writing of an experiment's files.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use decouple_train::TrainConfig;
use serde::Serialize;

use decouple_eval::NetworkReport;
use decouple_harness::training::{RunRecord, RunSpec, execute_watched, metrics_line, write_metrics};
use decouple_harness::{write_atomic, write_json};
use decouple_plot as svg;

use crate::RunContext;
use crate::report::{Claim, SeedValue, Summary};

/// The docs/model.md §7 default with `seed`, logging every 100 steps.
#[must_use]
// Field by field, not a struct literal: `TrainConfig` is becoming `#[non_exhaustive]`.
#[allow(clippy::field_reassign_with_default)]
pub fn default_config(seed: u64) -> TrainConfig {
    let mut config = TrainConfig::default();
    config.seed = seed;
    config.log_every = 100;
    config
}

/// The seeds of this invocation.
#[must_use]
pub fn seeds(context: &RunContext) -> Vec<u64> {
    (0..context.seeds).collect()
}

/// One spec per seed for `config` (its seed replaced).
#[must_use]
pub fn over_seeds(context: &RunContext, label: &str, config: TrainConfig) -> Vec<RunSpec> {
    seeds(context)
        .into_iter()
        .map(|seed| {
            let mut config = config.clone();
            config.seed = seed;
            RunSpec { label: label.into(), config }
        })
        .collect()
}

/// Runs `specs`, writes `config.json` and `metrics.jsonl` into `dir`.
///
/// # Errors
/// I/O failure.
pub fn run_and_record(context: &RunContext, id: &str, dir: &Path, specs: &[RunSpec]) -> anyhow::Result<Vec<RunRecord>> {
    #[derive(Serialize)]
    struct Config<'a> {
        experiment: &'a str,
        runs: Vec<(&'a str, &'a TrainConfig)>,
        context: &'a RunContext,
    }
    write_json(
        &dir.join("config.json"),
        &Config { experiment: id, runs: specs.iter().map(|s| (s.label.as_str(), &s.config)).collect(), context },
    )?;
    // Lines are appended (and flushed) as runs log, so `tail -f` shows a long
    // experiment progress; when every run is done the file is rewritten in run order.
    let path = dir.join("metrics.jsonl");
    let live = std::sync::Mutex::new(std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?);
    let records = execute_watched(id, specs, context.jobs, &context.cache, &|spec, point| {
        if let Ok(line) = metrics_line(&spec.label, spec.config.seed, point) {
            let mut file = live.lock().expect("metrics file lock");
            let _ = writeln!(file, "{line}").and_then(|()| file.flush());
        }
    });
    // Runs stopped on request are not results: nothing is written from them (the last complete files stay).
    if context.cache.execution().stop.is_requested() {
        anyhow::bail!("`{id}` stopped on request before its runs finished");
    }
    write_metrics(&path, &records)?;
    write_json(&dir.join("runs.json"), &records)?;
    Ok(records)
}

/// The records with `label`, in seed order.
#[must_use]
pub fn with_label<'a>(records: &'a [RunRecord], label: &str) -> Vec<&'a RunRecord> {
    records.iter().filter(|record| record.label == label).collect()
}

/// Mean and sample standard deviation.
#[must_use]
pub fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mean = values.iter().sum::<f64>() / n;
    let sd = if values.len() > 1 { (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() } else { 0.0 };
    (mean, sd)
}

/// `metric` of every successful run in `runs`.
pub fn values(runs: &[&RunRecord], metric: impl Fn(&NetworkReport) -> f64) -> Vec<f64> {
    runs.iter().filter_map(|run| run.report.as_ref()).map(metric).collect()
}

/// `metric` of every run, by seed, for [`Claim::over_seeds`]: NaN for a
/// failed run (no report), so that it fails every claim on it.
pub fn per_seed(runs: &[&RunRecord], metric: impl Fn(&NetworkReport) -> f64) -> Vec<SeedValue> {
    per_seed_of(runs, |run| run.report.as_ref().map_or(f64::NAN, &metric))
}

/// `value` of every run, by seed (for statistics that read more than the report).
pub fn per_seed_of(runs: &[&RunRecord], value: impl Fn(&RunRecord) -> f64) -> Vec<SeedValue> {
    runs.iter().map(|run| SeedValue { seed: run.seed, value: value(run) }).collect()
}

/// The worst value of `per_seed` (the minimum when `lower_is_worse`, else the maximum; NaN if any is NaN).
pub fn worst(per_seed: &[SeedValue], lower_is_worse: bool) -> f64 {
    worst_of(per_seed.iter().map(|seed| seed.value), lower_is_worse)
}

/// The minimum (`lower_is_worse`) or maximum of `values`; NaN if any is NaN
/// (an undefined measurement fails its claim instead of being skipped).
pub fn worst_of(values: impl IntoIterator<Item = f64>, lower_is_worse: bool) -> f64 {
    let pick = if lower_is_worse { f64::min } else { f64::max };
    let start = if lower_is_worse { f64::INFINITY } else { f64::NEG_INFINITY };
    values.into_iter().fold(start, |worst, value| if value.is_nan() || worst.is_nan() { f64::NAN } else { pick(worst, value) })
}

/// A probe accuracy cell with the L2 strength each seed's cross-validation chose, e.g. `0.912 ± 0.004 (λ 0.1, 0.1, 1)`.
pub fn probe_cell(runs: &[&RunRecord], accuracy: fn(&NetworkReport) -> f64, lambda: fn(&decouple_eval::ProbeLambdas) -> f64) -> String {
    let lambdas: Vec<String> =
        runs.iter().filter_map(|run| run.report.as_ref()?.probe.lambda.as_ref().map(lambda)).map(|value| format!("{value}")).collect();
    let chosen = if lambdas.is_empty() { String::new() } else { format!(" (λ {})", lambdas.join(", ")) };
    format!("{}{chosen}", cell(runs, accuracy, 3))
}

/// Writes `file`: probe test accuracy against the number of labelled training
/// samples (log scale), mean over seeds, for the learned features of each
/// label and for raw `x` and the ideal network of the first label; returns
/// the file name, or `None` when no run measured the curves.
///
/// # Errors
/// I/O failure.
pub fn label_efficiency_plot(
    dir: &Path,
    file: &str,
    title: &str,
    records: &[RunRecord],
    labels: &[String],
) -> anyhow::Result<Option<String>> {
    let curve = |runs: &[&RunRecord], pick: fn(&decouple_eval::LabelEfficiencyPoint) -> f64| -> (Vec<f64>, Vec<f64>) {
        let curves: Vec<&Vec<decouple_eval::LabelEfficiencyPoint>> = runs
            .iter()
            .filter_map(|run| run.report.as_ref())
            .map(|report| &report.probe.label_efficiency)
            .filter(|c| !c.is_empty())
            .collect();
        let Some(first) = curves.first() else { return (Vec::new(), Vec::new()) };
        let sizes: Vec<f64> = first.iter().map(|point| (point.n as f64).log10()).collect();
        let values = (0..first.len()).map(|k| mean_sd(&curves.iter().filter_map(|c| c.get(k)).map(pick).collect::<Vec<_>>()).0).collect();
        (sizes, values)
    };
    let mut x = Vec::new();
    let mut series = Vec::new();
    for label in labels {
        let (sizes, values) = curve(&with_label(records, label), |point| point.learned);
        if sizes.is_empty() {
            continue;
        }
        x = sizes;
        series.push(svg::Series { name: format!("{label}: f(x)"), values });
    }
    let Some(first) = labels.first() else { return Ok(None) };
    if series.is_empty() {
        return Ok(None);
    }
    let solid = series.len();
    let runs = with_label(records, first);
    series.push(svg::Series { name: "raw x".into(), values: curve(&runs, |point| point.raw).1 });
    series.push(svg::Series { name: "ideal network".into(), values: curve(&runs, |point| point.ideal).1 });
    write_atomic(
        &dir.join(file),
        &svg::lines(title, "log10(labelled training samples)", "probe test accuracy (mean over seeds)", &x, &series, (0.4, 1.0), solid),
    )?;
    Ok(Some(file.to_string()))
}

/// `mean ± sd` of `metric` over the successful runs (the mean alone for one run).
pub fn cell(runs: &[&RunRecord], metric: impl Fn(&NetworkReport) -> f64, digits: usize) -> String {
    let (mean, sd) = mean_sd(&values(runs, metric));
    if runs.len() > 1 { format!("{mean:.digits$} ± {sd:.digits$}") } else { format!("{mean:.digits$}") }
}

/// The standard table: one row per label, mean ± sd over seeds.
#[must_use]
pub fn metrics_table(records: &[RunRecord], labels: &[String]) -> String {
    let mut table = String::from(
        "| run | seeds | median best_j | min best_j | features >= 0.9 | purity | features/neuron | sparse energy (weighted) | live neurons | effective rank | probe f(x) | probe raw x | probe init | probe ideal | R^2 z f(x) | R^2 z raw | rho_sparse(w_i) | rho_dense(w_i) |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for label in labels {
        let runs = with_label(records, label);
        let failures: Vec<&str> = runs.iter().filter_map(|run| run.error.as_deref()).collect();
        let rho = |pick: fn(&NetworkReport) -> Option<f64>, theory: fn(&NetworkReport) -> Option<f64>| {
            let measured: Vec<f64> = runs.iter().filter_map(|run| run.report.as_ref().and_then(pick)).collect();
            let closed: Vec<f64> = runs.iter().filter_map(|run| run.report.as_ref().and_then(theory)).collect();
            if measured.is_empty() { "–".to_string() } else { format!("{:.2} / {:.2}", mean_sd(&measured).0, mean_sd(&closed).0) }
        };
        let _ = writeln!(
            table,
            "| {label} | {} | {} | {} | {} | {} | {} | {} (random {:.3}) | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            runs.len(),
            cell(&runs, |r| r.median_best, 3),
            cell(&runs, |r| r.min_best, 3),
            cell(&runs, |r| r.n_recovered as f64, 1),
            cell(&runs, |r| r.mean_purity, 2),
            cell(&runs, |r| r.mean_features_per_neuron, 2),
            cell(&runs, |r| r.sparse_energy_weighted, 3),
            runs.first().and_then(|run| run.report.as_ref()).map_or(f64::NAN, |r| r.sparse_energy_random),
            cell(&runs, |r| r.n_live as f64, 1),
            cell(&runs, |r| r.effective_rank, 1),
            probe_cell(&runs, |r| r.probe.learned, |l| l.learned),
            probe_cell(&runs, |r| r.probe.raw, |l| l.raw),
            probe_cell(&runs, |r| r.probe.init, |l| l.init),
            probe_cell(&runs, |r| r.probe.ideal, |l| l.ideal),
            cell(&runs, |r| r.probe.learned_r2, 2),
            cell(&runs, |r| r.probe.raw_r2, 2),
            rho(|r| r.rho_sparse_learned, |r| r.rho_sparse_learned_theory),
            rho(|r| r.rho_dense_learned, |r| r.rho_dense_learned_theory),
        );
        for failure in failures {
            let _ = writeln!(table, "\n(run failed: {failure})\n");
        }
    }
    let sizes = decouple_eval::EvaluationConfig::default();
    let _ = writeln!(
        table,
        "\nbest_j = max_i |cos(w_i, M_j)|; purity = mean over alive neurons of max_j |cos(w_i, M_j)|; features/neuron counts |cos| >= 0.3; \
         live neurons: active on some clean evaluation sample (of m = {}; a claim on the sparse energy fails if fewer than half are live); \
         probes: logistic regression on sign(<a,z>), {} training and {} test samples, test accuracy, L2 strength λ chosen per seed by \
         5-fold cross-validation on the training samples over 1e-4 .. 1e2 (docs/model.md §6); rho: mean pair correlation of \
         alive learned directions under the run's augmentation, Monte Carlo ({} samples) / closed form; – for Identity, where both are 1.",
        records.first().and_then(|run| run.report.as_ref()).map_or(0, |r| r.n_neurons),
        sizes.n_probe_train,
        sizes.n_probe_test,
        sizes.n_decoupling
    );
    table
}

/// Assembles, writes and returns the summary (a `Finding` when there are no claims),
/// with the wall time since `start`.
///
/// # Errors
/// I/O failure.
#[allow(clippy::too_many_arguments)]
pub fn finish(
    dir: &Path,
    id: &str,
    claims: Vec<Claim>,
    start: Instant,
    claim: &str,
    setting: String,
    tables: String,
    plots: Vec<String>,
    notes: String,
) -> anyhow::Result<Summary> {
    let (verdict, wall_s) = (Summary::verdict_of(&claims), start.elapsed().as_secs_f64());
    let summary =
        Summary { experiment: id.into(), verdict, claims, wall_s, time: None, claim: claim.into(), setting, tables, plots, notes };
    write_json(&dir.join("summary.json"), &summary)?;
    Ok(summary)
}

/// The default setting in words, with the context's seeds.
#[must_use]
pub fn default_setting(context: &RunContext) -> String {
    default_setting_with_seeds(context, &seeds(context))
}

/// The default setting in words, for an experiment that runs `seeds`.
#[must_use]
pub fn default_setting_with_seeds(context: &RunContext, seeds: &[u64]) -> String {
    format!(
        "docs/model.md §7 default: d = 32, d1 = 512, p = 2/d, isotropic sigma = 0.25, fresh samples, m = 128, sigma0 = 0.01, \
         NormRamp(beta 0.5, ramp 0.5), InfoNCE cosine tau = 0.2, SGD lr 0.5, batch 128, 3000 steps, f32; seeds {seeds:?}{}.",
        if context.quick { " (quick: fewer seeds and configurations, thresholds as stated)" } else { "" }
    )
}

/// Writes `file`: grouped bars of median best_j, sparse energy and probe
/// accuracy (means over seeds) for each label; returns the file name.
///
/// # Errors
/// I/O failure.
pub fn summary_bars(dir: &Path, file: &str, title: &str, records: &[RunRecord], labels: &[String]) -> anyhow::Result<String> {
    let mean_of = |metric: fn(&NetworkReport) -> f64| -> Vec<f64> {
        labels.iter().map(|label| mean_sd(&values(&with_label(records, label), metric)).0).collect()
    };
    let series = [
        svg::Series { name: "median best_j".into(), values: mean_of(|r| r.median_best) },
        svg::Series { name: "sparse energy".into(), values: mean_of(|r| r.sparse_energy_weighted) },
        svg::Series { name: "probe accuracy".into(), values: mean_of(|r| r.probe.learned) },
    ];
    write_atomic(&dir.join(file), &svg::grouped_bars(title, "value (mean over seeds)", labels, &series, (0.0, 1.0)))?;
    Ok(file.to_string())
}
