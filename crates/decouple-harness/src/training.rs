//! Training runs for experiments, sweeps and `decouple run`: run a list of
//! configs (up to `--jobs` in parallel, each on its share of the cores or on
//! `--threads`; results in list order and identical for any split), evaluate
//! each trained network, record its history, tell a [`Progress`] sink and the
//! caller's [`RunHooks`] as runs go, and cache finished runs so that
//! experiments sharing a configuration train it once per invocation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use decouple_analysis as analysis;
use decouple_net::SymReluNet;
use decouple_train::{Checkpoint, StepMetrics, TrainConfig, train_with_threads};
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::progress::{PlainLines, Progress};

use decouple_eval::{BaselineProbes, EvaluationConfig, NetworkReport, evaluate_with};

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

/// How runs execute: the cores to share between parallel runs and the
/// threads of each, and where their progress goes. Results never depend on it.
#[derive(Clone)]
pub struct Execution {
    /// Cores shared by the runs in parallel (`jobs`) and their threads.
    pub cores: usize,
    /// Threads of each run; `None` gives each of the `j` runs in parallel `cores / j` (at least 1).
    pub threads: Option<usize>,
    /// Where progress goes.
    pub progress: Arc<dyn Progress>,
}

impl std::fmt::Debug for Execution {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Execution").field("cores", &self.cores).field("threads", &self.threads).finish_non_exhaustive()
    }
}

impl Default for Execution {
    /// All available cores, split automatically; plain progress lines.
    fn default() -> Self {
        Self { cores: crate::available_cores(), threads: None, progress: Arc::new(PlainLines::default()) }
    }
}

impl Execution {
    /// `(jobs, threads)` for `pending` runs with at most `jobs` in parallel:
    /// `min(jobs, pending)` runs (at least 1), each on the explicit thread
    /// count or on its share of the cores, `cores / runs` (at least 1).
    #[must_use]
    pub fn split(&self, jobs: usize, pending: usize) -> (usize, usize) {
        let jobs = jobs.clamp(1, pending.max(1));
        (jobs, self.threads.unwrap_or(self.cores / jobs).max(1))
    }
}

/// Finished runs of this invocation, by config JSON, and how runs execute.
#[derive(Debug, Default)]
pub struct RunCache {
    runs: Mutex<HashMap<String, RunRecord>>,
    execution: Execution,
}

impl RunCache {
    /// An empty cache whose runs execute as `execution` says.
    #[must_use]
    pub fn new(execution: Execution) -> Self {
        Self { runs: Mutex::default(), execution }
    }

    /// How its runs execute.
    #[must_use]
    pub fn execution(&self) -> &Execution {
        &self.execution
    }
}

fn key(config: &TrainConfig) -> String {
    serde_json::to_string(config).expect("configs serialise")
}

/// Clean samples (stream `"history-activity"` of the run's seed) on which the
/// live neurons of every logged step are counted.
pub const HISTORY_ACTIVITY_SAMPLES: usize = 500;

type BoxedError = Box<dyn std::error::Error + Send + Sync>;

/// The probes of the baseline feature sets (raw `x`, initial and ideal
/// networks), shared by every run of this process that has the same data,
/// seed and evaluation settings (a memo: results are the same without it).
static BASELINE_PROBES: std::sync::LazyLock<BaselineProbes> = std::sync::LazyLock::new(BaselineProbes::default);

/// `|cos(w_i, M_j)|` as rows (`m x d`), sorted by each neuron's best feature
/// (then by decreasing alignment with it): the rows of the alignment heatmap.
///
/// # Errors
/// Shapes that do not match.
pub fn sorted_alignment(net: &SymReluNet<f32>, dictionary: ArrayView2<'_, f32>) -> Result<Vec<Vec<f64>>, analysis::AnalysisError> {
    let mut alignment: Vec<Vec<f64>> =
        analysis::alignment_matrix(net.weights(), dictionary)?.rows().into_iter().map(|row| row.to_vec()).collect();
    let best = |row: &Vec<f64>| row.iter().enumerate().fold((0usize, 0.0f64), |acc, (j, &v)| if v > acc.1 { (j, v) } else { acc });
    alignment.sort_by(|a, b| best(a).0.cmp(&best(b).0).then(best(b).1.total_cmp(&best(a).1)));
    Ok(alignment)
}

/// Trains and evaluates one run on `threads` threads; `on_log` sees every
/// logged step (updates since the previous report, the metrics and the
/// history point, if the analysis of that step succeeded).
fn run_one(
    spec: &RunSpec,
    evaluation: &EvaluationConfig,
    threads: usize,
    on_log: &mut dyn FnMut(u64, &StepMetrics, Option<&HistoryPoint>),
) -> (RunRecord, Option<Checkpoint>) {
    let start = Instant::now();
    let config = spec.config;
    let mut history = Vec::new();
    let model = decouple_data::SparseCodingModel::from_seed(config.data, config.seed);
    let outcome = model.map_err(BoxedError::from).and_then(|model| -> Result<_, BoxedError> {
        let dictionary = model.dictionary().matrix().to_owned();
        let clean = model.sample(HISTORY_ACTIVITY_SAMPLES, &mut decouple_data::rng::stream(config.seed, "history-activity"));
        let mut last_step = 0;
        let trained = train_with_threads(config, threads, |metrics, net| {
            let alignment = analysis::alignment_matrix(net.weights(), dictionary.view());
            let energy = analysis::sparse_energy(net.weights(), dictionary.view());
            let activity = net.forward(clean.x()).ok().and_then(|features| analysis::activity_stats(features.view()).ok());
            let mut point = None;
            if let (Ok(alignment), Ok(energy), Some(activity)) = (alignment, energy, activity) {
                if let Ok(recovery) = analysis::feature_recovery(alignment.view(), &analysis::RecoveryConfig::default()) {
                    point = Some(HistoryPoint {
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
            on_log((metrics.step - last_step) as u64, metrics, point.as_ref());
            last_step = metrics.step;
            history.extend(point);
        })?;
        let report = evaluate_with(&config, &model, &trained.net, evaluation, &BASELINE_PROBES)?;
        let alignment = sorted_alignment(&trained.net, dictionary.view())?;
        Ok((report, alignment, Checkpoint::of(&trained)))
    });
    let (report, alignment, checkpoint, error) = match outcome {
        Ok((report, alignment, checkpoint)) => (Some(report), alignment, Some(checkpoint), None),
        Err(error) => (None, Vec::new(), None, Some(crate::chain(&*error))),
    };
    let record = RunRecord {
        label: spec.label.clone(),
        seed: config.seed,
        config,
        wall_s: start.elapsed().as_secs_f64(),
        error,
        report,
        history,
        alignment,
    };
    (record, checkpoint)
}

/// Runs every spec (reusing cached runs), up to `jobs` at a time as the
/// cache's [`Execution`] says, telling its progress sink under the name
/// `experiment`; returns the records in the order of `specs`.
#[must_use]
pub fn execute(experiment: &str, specs: &[RunSpec], jobs: usize, cache: &RunCache) -> Vec<RunRecord> {
    execute_watched(experiment, specs, jobs, cache, &|_, _| {})
}

/// [`execute`], calling `on_log(spec, point)` at every logged step of every
/// run it trains (from the worker thread; not for runs taken from the cache).
#[must_use]
pub fn execute_watched(
    experiment: &str,
    specs: &[RunSpec],
    jobs: usize,
    cache: &RunCache,
    on_log: &(dyn Fn(&RunSpec, &HistoryPoint) + Sync),
) -> Vec<RunRecord> {
    struct Collect<'a> {
        specs: &'a [RunSpec],
        cache: &'a RunCache,
        results: Vec<Mutex<Option<RunRecord>>>,
        on_log: &'a (dyn Fn(&RunSpec, &HistoryPoint) + Sync),
    }
    impl RunHooks for Collect<'_> {
        fn logged(&self, index: usize, point: &HistoryPoint) {
            (self.on_log)(&self.specs[index], point);
        }

        fn finished(&self, index: usize, record: RunRecord, _: Option<&Checkpoint>) {
            self.cache.runs.lock().expect("cache lock").insert(key(&self.specs[index].config), record.clone());
            *self.results[index].lock().expect("lock") = Some(record);
        }
    }
    let evaluation = EvaluationConfig::default();
    let cached: Vec<Option<RunRecord>> = specs
        .iter()
        .map(|spec| {
            let cached = cache.runs.lock().expect("cache lock").get(&key(&spec.config)).cloned();
            cached.map(|record| RunRecord { label: spec.label.clone(), ..record })
        })
        .collect();
    let pending: Vec<usize> = (0..specs.len()).filter(|&index| cached[index].is_none()).collect();
    let collect = Collect { specs, cache, results: cached.into_iter().map(Mutex::new).collect(), on_log };
    execute_each(experiment, specs, &pending, &|_| evaluation, jobs, &cache.execution, &collect);
    collect.results.into_iter().map(|slot| slot.into_inner().expect("lock").expect("every run finished")).collect()
}

/// What [`execute_each`] tells its caller about each run, from the worker
/// thread that runs it (so a caller can write its files as it goes).
pub trait RunHooks: Sync {
    /// Run `index` is about to train; `false` skips it (e.g. its folder cannot be made).
    fn started(&self, _index: usize) -> bool {
        true
    }

    /// Run `index` logged `point` (every `log_every` steps, at step 0 and at the end).
    fn logged(&self, _index: usize, _point: &HistoryPoint) {}

    /// Run `index` finished: its record and, if it trained to the end, its network.
    fn finished(&self, index: usize, record: RunRecord, network: Option<&Checkpoint>);
}

/// Runs the specs at the indices `pending` (the others count as already done
/// in the progress), each evaluated with `evaluation(index)`, up to `jobs`
/// at a time on the threads [`Execution::split`] gives; tells `hooks` of
/// every start, logged step and finish, and `execution.progress` of the
/// steps done.
pub fn execute_each(
    experiment: &str,
    specs: &[RunSpec],
    pending: &[usize],
    evaluation: &(dyn Fn(usize) -> EvaluationConfig + Sync),
    jobs: usize,
    execution: &Execution,
    hooks: &dyn RunHooks,
) {
    let (jobs, threads) = execution.split(jobs, pending.len());
    let progress = &*execution.progress;
    let steps: u64 = pending.iter().map(|&index| specs[index].config.steps as u64).sum();
    progress.begin(experiment, specs.len(), specs.len() - pending.len(), steps);
    crate::for_each_job(pending.len(), jobs, &|position| {
        let index = pending[position];
        if !hooks.started(index) {
            progress.advance(specs[index].config.steps as u64, f64::NAN);
            return;
        }
        let mut logged = 0;
        let (record, network) = run_one(&specs[index], &evaluation(index), threads, &mut |steps, metrics, point| {
            logged += steps;
            progress.advance(steps, metrics.loss);
            if let Some(point) = point {
                hooks.logged(index, point);
            }
        });
        // A diverged run stops early: count its remaining steps as done.
        progress.advance((specs[index].config.steps as u64).saturating_sub(logged), f64::NAN);
        let status = match (&record.report, &record.error) {
            (Some(report), _) => format!("median best_j {:.3}", report.median_best),
            (None, Some(error)) => format!("failed: {error}"),
            (None, None) => String::new(),
        };
        progress.finished(&format!("{} seed {}: {status}", record.label, record.seed));
        hooks.finished(index, record, network.as_ref());
    });
    progress.end();
}

/// One line of `metrics.jsonl`: the run's label and seed, then the point's fields.
///
/// # Errors
/// A value that does not serialise (never for finite or NaN floats: NaN is written as `null`).
pub fn metrics_line(label: &str, seed: u64, point: &HistoryPoint) -> Result<String, serde_json::Error> {
    #[derive(Serialize)]
    struct Line<'a> {
        label: &'a str,
        seed: u64,
        #[serde(flatten)]
        point: &'a HistoryPoint,
    }
    serde_json::to_string(&Line { label, seed, point })
}

/// Writes one JSON line per (run, logged step) to `metrics.jsonl`.
///
/// # Errors
/// I/O failure.
pub fn write_metrics(path: &std::path::Path, records: &[RunRecord]) -> crate::Result<()> {
    let mut text = String::new();
    for record in records {
        for point in &record.history {
            let line = metrics_line(&record.label, record.seed, point)
                .map_err(|error| crate::HarnessError::Json { what: path.display().to_string(), error })?;
            text.push_str(&line);
            text.push('\n');
        }
    }
    crate::write_atomic(path, &text)
}
