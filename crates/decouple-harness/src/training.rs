//! Training runs for experiments: run a list of configs (in parallel with
//! `--jobs`, results in list order and identical for any job count), evaluate
//! each trained network, record its history, and cache finished runs so that
//! experiments sharing a configuration train it once per invocation.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use decouple_analysis as analysis;
use decouple_train::{TrainConfig, train};
use serde::{Deserialize, Serialize};

use decouple_eval::{EvaluationConfig, NetworkReport, evaluate};

/// One run to do: a label for tables and a full training config.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// Row label, e.g. `ComplementaryMask(0.5)`.
    pub label: String,
    /// The training configuration (its seed included).
    pub config: TrainConfig,
}

/// The state of a network at one logged step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HistoryPoint {
    /// Updates done.
    pub step: usize,
    /// Training loss (mean since the last log).
    pub loss: f64,
    /// Median over features of `best_j`.
    pub median_best: f64,
    /// Min over features of `best_j`.
    pub min_best: f64,
    /// Norm-weighted sparse energy.
    pub sparse_energy_weighted: f64,
    /// Live neurons (active on some of [`HISTORY_ACTIVITY_SAMPLES`] clean samples), beside the energy they weigh.
    pub n_live: usize,
    /// Mean `||w_i||`.
    pub weight_norm_mean: f64,
    /// Mean threshold.
    pub bias_mean: f64,
    /// Fraction of nonzero activations on the training batch.
    pub active_fraction: f64,
    /// `best_j` of every feature `j` (for per-feature or per-group curves).
    #[serde(default)]
    pub best_per_feature: Vec<f64>,
    /// The objective's own scalars ([`decouple_train::StepMetrics::objective`]), e.g. the predictor's off-diagonal mass.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub objective: std::collections::BTreeMap<String, f64>,
}

/// A finished run: its report, history and the alignment matrix (for heatmaps).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    /// Row label.
    pub label: String,
    /// Seed of the run.
    pub seed: u64,
    /// The configuration.
    pub config: TrainConfig,
    /// Wall time of training and evaluation.
    pub wall_s: f64,
    /// Why the run failed (divergence), if it did.
    pub error: Option<String>,
    /// The metrics of the trained network.
    pub report: Option<NetworkReport>,
    /// Metrics over training.
    pub history: Vec<HistoryPoint>,
    /// `|cos(w_i, M_j)|`, `m x d`, rows sorted by their best feature.
    #[serde(skip)]
    pub alignment: Vec<Vec<f64>>,
}

/// Finished runs of this invocation, by config JSON.
#[derive(Debug, Default)]
pub struct RunCache {
    runs: Mutex<HashMap<String, RunRecord>>,
}

fn key(config: &TrainConfig) -> String {
    serde_json::to_string(config).expect("configs serialise")
}

/// Clean samples (stream `"history-activity"` of the run's seed) on which the
/// live neurons of every logged step are counted.
pub const HISTORY_ACTIVITY_SAMPLES: usize = 500;

type BoxedError = Box<dyn std::error::Error + Send + Sync>;

fn run_one(spec: &RunSpec, evaluation: &EvaluationConfig) -> RunRecord {
    let start = Instant::now();
    let config = spec.config;
    let mut history = Vec::new();
    let model = decouple_data::SparseCodingModel::from_seed(config.data, config.seed);
    let outcome = model.map_err(BoxedError::from).and_then(|model| -> Result<_, BoxedError> {
        let dictionary = model.dictionary().matrix().to_owned();
        let clean = model.sample(HISTORY_ACTIVITY_SAMPLES, &mut decouple_data::rng::stream(config.seed, "history-activity"));
        let trained = train(config, |metrics, net| {
            let alignment = analysis::alignment_matrix(net.weights(), dictionary.view());
            let energy = analysis::sparse_energy(net.weights(), dictionary.view());
            let activity = net.forward(clean.x()).ok().and_then(|features| analysis::activity_stats(features.view()).ok());
            if let (Ok(alignment), Ok(energy), Some(activity)) = (alignment, energy, activity) {
                if let Ok(recovery) = analysis::feature_recovery(alignment.view(), &analysis::RecoveryConfig::default()) {
                    history.push(HistoryPoint {
                        step: metrics.step,
                        loss: metrics.loss,
                        median_best: recovery.median,
                        min_best: recovery.min,
                        sparse_energy_weighted: energy.weighted_mean,
                        n_live: activity.n_neurons - activity.n_dead,
                        weight_norm_mean: metrics.weight_norm_mean,
                        bias_mean: metrics.bias_mean,
                        active_fraction: metrics.active_fraction,
                        objective: metrics.objective.clone(),
                        best_per_feature: recovery.best_per_feature,
                    });
                }
            }
        })?;
        let report = evaluate(&config, &model, &trained.net, evaluation)?;
        let mut alignment: Vec<Vec<f64>> =
            analysis::alignment_matrix(trained.net.weights(), dictionary.view())?.rows().into_iter().map(|row| row.to_vec()).collect();
        let best = |row: &Vec<f64>| row.iter().enumerate().fold((0usize, 0.0f64), |acc, (j, &v)| if v > acc.1 { (j, v) } else { acc });
        alignment.sort_by(|a, b| best(a).0.cmp(&best(b).0).then(best(b).1.total_cmp(&best(a).1)));
        Ok((report, alignment))
    });
    let (report, alignment, error) = match outcome {
        Ok((report, alignment)) => (Some(report), alignment, None),
        Err(error) => (None, Vec::new(), Some(crate::chain(&*error))),
    };
    RunRecord {
        label: spec.label.clone(),
        seed: config.seed,
        config,
        wall_s: start.elapsed().as_secs_f64(),
        error,
        report,
        history,
        alignment,
    }
}

/// Runs every spec (reusing cached runs), `jobs` at a time, printing progress
/// for `experiment`; returns the records in the order of `specs`.
#[must_use]
pub fn execute(experiment: &str, specs: &[RunSpec], jobs: usize, cache: &RunCache) -> Vec<RunRecord> {
    let evaluation = EvaluationConfig::default();
    let cached: Vec<Option<RunRecord>> = specs
        .iter()
        .map(|spec| {
            let cached = cache.runs.lock().expect("cache lock").get(&key(&spec.config)).cloned();
            cached.map(|record| RunRecord { label: spec.label.clone(), ..record })
        })
        .collect();
    let pending: Vec<usize> = (0..specs.len()).filter(|&index| cached[index].is_none()).collect();
    let results: Vec<Mutex<Option<RunRecord>>> = cached.into_iter().map(Mutex::new).collect();
    execute_each(experiment, specs, &pending, &|_| evaluation, jobs, &|index, record| {
        cache.runs.lock().expect("cache lock").insert(key(&specs[index].config), record.clone());
        *results[index].lock().expect("lock") = Some(record);
    });
    results.into_iter().map(|slot| slot.into_inner().expect("lock").expect("every run finished")).collect()
}

/// Runs the specs at the indices `pending` (the others count as already done
/// in the progress line), `jobs` at a time, each evaluated with
/// `evaluation(index)`; hands every record to `on_finish(index, record)` as
/// soon as it is done (from a worker thread), so callers can save it at once.
pub fn execute_each(
    experiment: &str,
    specs: &[RunSpec],
    pending: &[usize],
    evaluation: &(dyn Fn(usize) -> EvaluationConfig + Sync),
    jobs: usize,
    on_finish: &(dyn Fn(usize, RunRecord) + Sync),
) {
    let total = specs.len();
    let cached = total - pending.len();
    let done = AtomicUsize::new(cached);
    let start = Instant::now();
    let terminal = std::io::stdout().is_terminal();
    let report_progress = |record: &RunRecord| {
        let finished = done.fetch_add(1, Ordering::SeqCst) + 1;
        let elapsed = start.elapsed().as_secs_f64();
        let eta = elapsed / (finished - cached) as f64 * (total - finished) as f64;
        let status = match (&record.report, &record.error) {
            (Some(report), _) => format!("median best_j {:.3}", report.median_best),
            (None, Some(error)) => format!("failed: {error}"),
            (None, None) => String::new(),
        };
        let line = format!(
            "    [{experiment}] {finished}/{total} runs, {elapsed:.0} s elapsed, ETA {eta:.0} s | {} seed {}: {status}",
            record.label, record.seed
        );
        let mut out = std::io::stdout().lock();
        if terminal {
            let _ = write!(out, "\r\x1b[2K{line}");
            if finished == total {
                let _ = writeln!(out);
            }
        } else {
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
    };
    crate::for_each_job(pending.len(), jobs, &|position| {
        let index = pending[position];
        let record = run_one(&specs[index], &evaluation(index));
        report_progress(&record);
        on_finish(index, record);
    });
}

/// Writes one JSON line per (run, logged step) to `metrics.jsonl`.
///
/// # Errors
/// I/O failure.
pub fn write_metrics(path: &std::path::Path, records: &[RunRecord]) -> crate::Result<()> {
    #[derive(Serialize)]
    struct Line<'a> {
        label: &'a str,
        seed: u64,
        #[serde(flatten)]
        point: &'a HistoryPoint,
    }
    let mut text = String::new();
    for record in records {
        for point in &record.history {
            let line = serde_json::to_string(&Line { label: &record.label, seed: record.seed, point })
                .map_err(|error| crate::HarnessError::Json { what: path.display().to_string(), error })?;
            text.push_str(&line);
            text.push('\n');
        }
    }
    crate::write_atomic(path, &text)
}
