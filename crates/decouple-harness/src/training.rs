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
use decouple_augment::{AnyAugmentation, Augment as _};
use decouple_net::SymReluNet;
use decouple_train::{Checkpoint, MemoryEstimate, Registry, StepMetrics, TrainConfig, Trainer};
use ndarray::{ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::config_file::Evaluation;
use crate::progress::{PlainLines, Progress};

use decouple_eval::{
    BaselineProbes, EvaluationConfig, EvaluationTimes, NetworkReport, SampleReport, evaluate_samples, evaluate_timed,
    top_principal_components,
};

/// One run to do: a label for tables and a full training config.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// Row label, e.g. `ComplementaryMask(0.5)`.
    pub label: String,
    /// The training configuration (its seed included).
    pub config: TrainConfig,
}

/// The state of a network at one logged step (in a run on a data file, the
/// metrics that need a dictionary are NaN, written `null`).
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
    /// Where that time went.
    #[serde(default)]
    pub times: RunTimes,
    /// Why the run failed (divergence), if it did.
    pub error: Option<String>,
    /// It stopped on request ([`Execution::stop`]) before the end: not trained, its folder is not finished.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stopped: bool,
    /// The metrics of the trained network (runs on the data model).
    pub report: Option<NetworkReport>,
    /// The analysis of the trained network (runs on a data file).
    #[serde(default)]
    pub sample_report: Option<SampleReport>,
    /// Metrics over training.
    pub history: Vec<HistoryPoint>,
    /// `|cos(w_i, M_j)|`, `m x d`, rows sorted by their best feature.
    #[serde(skip)]
    pub alignment: Vec<Vec<f64>>,
    /// The learned filters beside the top principal components (runs on image samples).
    #[serde(skip)]
    pub filters: Option<Filters>,
}

impl RunRecord {
    /// The record of a run that stopped on request before it finished (no report, no history).
    #[must_use]
    pub fn stopped(spec: &RunSpec) -> Self {
        Self {
            label: spec.label.clone(),
            seed: spec.config.seed,
            config: spec.config.clone(),
            wall_s: 0.0,
            times: RunTimes::default(),
            error: Some("stopped on request before it finished".to_string()),
            stopped: true,
            report: None,
            sample_report: None,
            history: Vec::new(),
            alignment: Vec::new(),
            filters: None,
        }
    }
}

/// Where the wall time of runs went, in seconds (summed over runs when it describes several).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RunTimes {
    /// Runs counted.
    pub runs: usize,
    /// The training steps (without the analysis of the logged steps).
    pub train_s: f64,
    /// The analysis of the logged steps (the history: recovery, energy and live neurons at every report).
    pub history_s: f64,
    /// The evaluation of the trained network, and where it went.
    pub evaluation: EvaluationTimes,
}

impl RunTimes {
    /// Adds `other`'s times (and runs) to these.
    pub fn add(&mut self, other: &Self) {
        self.runs += other.runs;
        self.train_s += other.train_s;
        self.history_s += other.history_s;
        self.evaluation.add(&other.evaluation);
    }

    /// `training 1.0 s, history 0.1 s, evaluation 0.5 s (probes 0.3 s, decoupling 0.1 s, other 0.1 s)`.
    #[must_use]
    pub fn describe(&self) -> String {
        let e = &self.evaluation;
        format!(
            "training {:.1} s, history {:.1} s, evaluation {:.1} s (probes {:.1} s, decoupling {:.1} s, other {:.1} s)",
            self.train_s,
            self.history_s,
            e.total_s,
            e.probes_s,
            e.decoupling_s,
            e.other_s()
        )
    }
}

/// Image panels of the learned filters (sorted by norm) and the top principal components.
#[derive(Debug, Clone)]
pub struct Filters {
    /// Image height.
    pub height: usize,
    /// Image width.
    pub width: usize,
    /// The panels.
    pub panels: Vec<decouple_plot::ImagePanel>,
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
    /// What named objectives and augmentations resolve to (the built-ins by default).
    pub registry: Arc<Registry>,
    /// Asked before every step of every run: once requested, the running runs
    /// stop where they are (their folders left incomplete) and no other starts.
    pub stop: decouple_train::Stop,
}

impl std::fmt::Debug for Execution {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Execution").field("cores", &self.cores).field("threads", &self.threads).finish_non_exhaustive()
    }
}

impl Default for Execution {
    /// All available cores, split automatically; plain progress lines.
    fn default() -> Self {
        Self {
            cores: crate::available_cores(),
            threads: None,
            progress: Arc::new(PlainLines::default()),
            registry: Arc::new(Registry::default()),
            stop: decouple_train::Stop::new(),
        }
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

/// Finished runs of this invocation, by config JSON, how runs execute, and
/// where the time of the runs each caller (experiment) trained went.
#[derive(Debug, Default)]
pub struct RunCache {
    runs: Mutex<HashMap<String, RunRecord>>,
    execution: Execution,
    times: Mutex<HashMap<String, RunTimes>>,
}

impl RunCache {
    /// An empty cache whose runs execute as `execution` says.
    #[must_use]
    pub fn new(execution: Execution) -> Self {
        Self { runs: Mutex::default(), execution, times: Mutex::default() }
    }

    /// The times of the runs trained (not taken from the cache) under the name `experiment`, summed.
    #[must_use]
    pub fn times(&self, experiment: &str) -> RunTimes {
        self.times.lock().expect("times lock").get(experiment).copied().unwrap_or_default()
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

/// Clean samples (stream `"history-activity"` of the run's seed; on a data
/// file, its first samples) on which the live neurons of every logged step are counted.
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

/// How the error of a run refused by the memory check starts.
pub const REFUSED: &str = "refused before training";

/// Adds the evaluation's sample sets to `estimate` (`m` neurons, `d1` inputs).
fn push_evaluation(estimate: &mut MemoryEstimate, evaluation: &Evaluation, m: usize, d1: usize, n_samples: usize) {
    use decouple_train::memory::product;
    match evaluation {
        Evaluation::Model(config) => {
            let samples = config.n_activity.saturating_add(config.n_probe_train).saturating_add(config.n_probe_test);
            let fields = "evaluation.n_activity + n_probe_train + n_probe_test x (data.d1 + network.width)";
            estimate.push("evaluation samples and their features", fields, product(&[samples, d1.saturating_mul(3).saturating_add(m), 4]));
            let fields = "evaluation.n_decoupling x data.d1";
            estimate.push("decoupling statistics' views", fields, product(&[config.n_decoupling.min(4096), d1, 6, 8]));
        }
        Evaluation::Samples(_) => {
            estimate.push("analysis of the samples", "the file's n x (d1 + network.width)", product(&[n_samples, d1.saturating_add(m), 8]));
        }
    }
}

/// The run's memory estimate (training and evaluation), refused when it
/// exceeds what the machine has ([`crate::available_memory`]).
///
/// # Errors
/// [`decouple_train::TrainError::TooBig`], naming the estimate, what is
/// available and the fields that drive the largest parts.
pub fn check_memory(
    config: &TrainConfig,
    evaluation: &Evaluation,
    n_views: usize,
    samples: Option<(usize, usize)>,
) -> Result<(), decouple_train::TrainError> {
    let mut estimate = config.memory_estimate(n_views, samples);
    let (n, d1) = match (config.data.model(), samples) {
        (_, Some(shape)) => shape,
        (Some(data), None) => (0, data.d1),
        (None, None) => (0, 0),
    };
    push_evaluation(&mut estimate, evaluation, config.network.width, d1, n);
    match crate::available_memory() {
        Some(available) => estimate.check_fits(available),
        None => Ok(()),
    }
}

/// The learned filters of `net` (sorted by norm, titled `title`) beside the
/// top principal components of the samples, if the samples are images.
///
/// # Errors
/// Too few samples for the principal components.
pub fn sample_filters(
    net: &SymReluNet<f32>,
    samples: &decouple_data::Samples,
    title: &str,
) -> Result<Option<Filters>, decouple_eval::EvalError> {
    let Some(shape) = samples.image else { return Ok(None) };
    let weights = net.weights();
    let mut order: Vec<usize> = (0..weights.nrows()).collect();
    let norm = |i: usize| weights.row(i).dot(&weights.row(i));
    order.sort_by(|&a, &b| norm(b).total_cmp(&norm(a)));
    let images = |rows: ArrayView2<'_, f32>| -> Vec<Vec<f64>> {
        rows.rows().into_iter().map(|r| r.iter().map(|v| f64::from(*v)).collect()).collect()
    };
    let pcs = top_principal_components(samples.x.view(), weights.nrows())?;
    let panels = vec![
        decouple_plot::ImagePanel { title: format!("top {} PCs", pcs.nrows()), images: images(pcs.view()) },
        decouple_plot::ImagePanel { title: title.to_string(), images: images(weights.select(Axis(0), &order).view()) },
    ];
    Ok(Some(Filters { height: shape.height, width: shape.width, panels }))
}

/// What one trained run gives: the report of either kind, the alignment rows, the filters and the network.
type Trained = (Option<NetworkReport>, Option<SampleReport>, Vec<Vec<f64>>, Option<Filters>, Checkpoint);

/// Trains and evaluates one run on `threads` threads, its named parts
/// resolved through `registry`; `on_log` sees every logged step (updates
/// since the previous report, the metrics and the history point, if the
/// analysis of that step succeeded). The memory the run needs is checked
/// first: a run the machine cannot hold is refused before training and
/// recorded as failed.
fn run_one(
    spec: &RunSpec,
    evaluation: &Evaluation,
    registry: &Registry,
    stop: &decouple_train::Stop,
    threads: usize,
    on_log: &mut dyn FnMut(u64, &StepMetrics, Option<&HistoryPoint>),
) -> (RunRecord, Option<Checkpoint>) {
    let start = Instant::now();
    let config = spec.config.clone();
    let mut history = Vec::new();
    let mut times = RunTimes { runs: 1, ..RunTimes::default() };
    let outcome = (|| -> Result<Trained, BoxedError> {
        let objective = registry.objective(&config.objective)?;
        let augmentation: AnyAugmentation = registry.augmentation(&config.augmentation)?;
        let shape = match config.data.file() {
            Some(file) => Some(crate::config_file::check_data_file(file)?.1),
            None => None,
        };
        check_memory(&config, evaluation, augmentation.n_views(), shape).map_err(|error| format!("{REFUSED}: {error}"))?;
        let trainer = Trainer::with_parts(config.clone(), objective, augmentation.clone(), threads)?.with_stop(stop.clone());
        let dictionary = trainer.model().map(|model| model.dictionary().matrix().to_owned());
        // Live neurons at every logged step: on clean samples of the model, or on the first samples of the file.
        let clean = match (trainer.model(), trainer.real_samples()) {
            (Some(model), _) => {
                model.sample(HISTORY_ACTIVITY_SAMPLES, &mut decouple_data::rng::stream(config.seed, "history-activity")).x().to_owned()
            }
            (None, Some(x)) => x.slice_axis(Axis(0), ndarray::Slice::from(0..HISTORY_ACTIVITY_SAMPLES.min(x.nrows()))).to_owned(),
            (None, None) => ndarray::Array2::zeros((0, 0)),
        };
        let mut last_step = 0;
        let training = Instant::now();
        let trained = trainer.run(|metrics, net| {
            let analysed = Instant::now();
            let activity = net.forward(clean.view()).ok().and_then(|features| analysis::activity_stats(features.view()).ok());
            let mut point = None;
            if let Some(activity) = activity {
                let dictionary_metrics = match &dictionary {
                    Some(dictionary) => {
                        let alignment = analysis::alignment_matrix(net.weights(), dictionary.view());
                        let energy = analysis::sparse_energy(net.weights(), dictionary.view());
                        match (alignment, energy) {
                            (Ok(alignment), Ok(energy)) => {
                                analysis::feature_recovery(alignment.view(), &analysis::RecoveryConfig::default())
                                    .ok()
                                    .map(|recovery| (recovery.median, recovery.min, energy.weighted_mean, recovery.best_per_feature))
                            }
                            _ => None,
                        }
                    }
                    None => Some((f64::NAN, f64::NAN, f64::NAN, Vec::new())),
                };
                if let Some((median_best, min_best, sparse_energy_weighted, best_per_feature)) = dictionary_metrics {
                    point = Some(HistoryPoint {
                        step: metrics.step,
                        loss: metrics.loss,
                        median_best,
                        min_best,
                        sparse_energy_weighted,
                        n_live: activity.n_neurons - activity.n_dead,
                        weight_norm_mean: metrics.weight_norm_mean,
                        bias_mean: metrics.bias_mean,
                        active_fraction: metrics.active_fraction,
                        objective: metrics.objective.clone(),
                        best_per_feature,
                    });
                }
            }
            times.history_s += analysed.elapsed().as_secs_f64();
            on_log((metrics.step - last_step) as u64, metrics, point.as_ref());
            last_step = metrics.step;
            history.extend(point);
        })?;
        times.train_s = training.elapsed().as_secs_f64() - times.history_s;
        match (evaluation, &trained.model, &trained.samples, &dictionary) {
            (Evaluation::Model(settings), Some(model), _, Some(dictionary)) => {
                let report =
                    evaluate_timed(&config, model, &trained.net, &augmentation, settings, &BASELINE_PROBES, &mut times.evaluation)?;
                let alignment = sorted_alignment(&trained.net, dictionary.view())?;
                Ok((Some(report), None, alignment, None, Checkpoint::of(&trained)))
            }
            (Evaluation::Samples(settings), None, Some(samples), _) => {
                let evaluating = Instant::now();
                let report = evaluate_samples(&trained.net, samples, &augmentation, settings, config.seed)?;
                times.evaluation.total_s += evaluating.elapsed().as_secs_f64();
                let filters = sample_filters(&trained.net, samples, &augmentation.label())?;
                Ok((None, Some(report), Vec::new(), filters, Checkpoint::of(&trained)))
            }
            _ => Err(
                "the [evaluation] table does not fit the data: the full metric set needs the data model, the sample analysis a data file"
                    .into(),
            ),
        }
    })();
    let (report, sample_report, alignment, filters, checkpoint, error) = match outcome {
        Ok((report, sample_report, alignment, filters, checkpoint)) => (report, sample_report, alignment, filters, Some(checkpoint), None),
        Err(error) => (None, None, Vec::new(), None, None, Some(crate::chain(&*error))),
    };
    // A run that fails while a stop is requested (a user's part that raised, Ctrl-C) counts as stopped.
    let stopped = error.is_some() && stop.is_requested();
    let record = RunRecord {
        label: spec.label.clone(),
        seed: config.seed,
        config,
        wall_s: start.elapsed().as_secs_f64(),
        times,
        error,
        stopped,
        report,
        sample_report,
        history,
        alignment,
        filters,
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
        experiment: &'a str,
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
            self.cache.times.lock().expect("times lock").entry(self.experiment.to_string()).or_default().add(&record.times);
            self.cache.runs.lock().expect("cache lock").insert(key(&self.specs[index].config), record.clone());
            *self.results[index].lock().expect("lock") = Some(record);
        }
    }
    let evaluation = Evaluation::Model(EvaluationConfig::default());
    let cached: Vec<Option<RunRecord>> = specs
        .iter()
        .map(|spec| {
            let cached = cache.runs.lock().expect("cache lock").get(&key(&spec.config)).cloned();
            cached.map(|record| RunRecord { label: spec.label.clone(), ..record })
        })
        .collect();
    let pending: Vec<usize> = (0..specs.len()).filter(|&index| cached[index].is_none()).collect();
    let collect = Collect { experiment, specs, cache, results: cached.into_iter().map(Mutex::new).collect(), on_log };
    execute_each(experiment, specs, &pending, &|_| evaluation.clone(), jobs, &cache.execution, &collect);
    // Every run finishes unless a stop was requested; those that did not are recorded as stopped.
    collect
        .results
        .into_iter()
        .zip(specs)
        .map(|(slot, spec)| slot.into_inner().expect("lock").unwrap_or_else(|| RunRecord::stopped(spec)))
        .collect()
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
    evaluation: &(dyn Fn(usize) -> Evaluation + Sync),
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
        if execution.stop.is_requested() || !hooks.started(index) {
            progress.advance(specs[index].config.steps as u64, f64::NAN);
            return;
        }
        let mut logged = 0;
        let (record, network) =
            run_one(&specs[index], &evaluation(index), &execution.registry, &execution.stop, threads, &mut |steps, metrics, point| {
                logged += steps;
                progress.advance(steps, metrics.loss);
                if let Some(point) = point {
                    hooks.logged(index, point);
                }
            });
        // A diverged run stops early: count its remaining steps as done.
        progress.advance((specs[index].config.steps as u64).saturating_sub(logged), f64::NAN);
        let status = match (&record.report, &record.sample_report, &record.error) {
            (Some(report), _, _) => format!("median best_j {:.3}", report.median_best),
            (None, Some(report), _) => format!("effective rank {:.1}, {} dead neurons", report.effective_rank, report.n_dead),
            (None, None, Some(error)) => format!("failed: {error}"),
            (None, None, None) => String::new(),
        };
        if record.stopped {
            // Not finished: its folder stays incomplete, for the next attempt to redo.
            progress.finished(&format!("{} seed {}: stopped", record.label, record.seed));
            return;
        }
        progress.finished(&format!("{} seed {}: {status}", record.label, record.seed));
        hooks.finished(index, record, network.as_ref());
    });
    progress.end();
}

/// Trains and evaluates one run in memory on `execution`'s threads (all its
/// cores unless it names a count), as `decouple run` does but without a
/// folder (`write_run` of the run-folder module writes one from the result);
/// `on_log` sees every logged step. A failed run is a record with its
/// `error`; one that stopped on request has `stopped` set.
#[must_use]
pub fn train_one(
    spec: &RunSpec,
    evaluation: &Evaluation,
    execution: &Execution,
    on_log: &mut dyn FnMut(&HistoryPoint),
) -> (RunRecord, Option<Checkpoint>) {
    let threads = execution.threads.unwrap_or(execution.cores).max(1);
    let progress = &*execution.progress;
    progress.begin(&spec.label, 1, 0, spec.config.steps as u64);
    let (record, network) = run_one(spec, evaluation, &execution.registry, &execution.stop, threads, &mut |steps, metrics, point| {
        progress.advance(steps, metrics.loss);
        if let Some(point) = point {
            on_log(point);
        }
    });
    progress.end();
    (record, network)
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
