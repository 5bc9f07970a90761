//! The training loop: one SGD step is fresh batch (or pool batch) ->
//! augmentation into `V` views -> forward on every view -> objective and its
//! gradients -> backward -> update -> bias rule, with a divergence check every step.
//!
//! The trainer is generic over the [`Objective`] and the [`Augment`]ation; the
//! defaults, [`AnyObjective`] and [`AnyAugmentation`], are what the
//! [`TrainConfig`] names, resolved by a [`Registry`] (built-ins, or parts
//! registered by a binary). The data come from the config: the sparse-coding
//! model (fresh batches or a pool), or a data file (a pool of its samples);
//! labelled batches (for [`Inputs::Labelled`]) are drawn by the data source.
//!
//! Random streams (all from the config's seed, see `decouple_data::rng`):
//! `"dictionary"` (the data model), `"init"` (weights), `"data"` (samples),
//! `"pool"` (the fixed pool), `"shuffle"` (epoch order), `"augment"` (masks
//! and noise), `"task"` (the supervised label direction), `"eval"` (the
//! step-0 loss). The loop uses no global state and no OS randomness.
//!
//! Reproducibility: on one machine, a config and its seed reproduce the run
//! bit for bit, on any number of threads (tested). Across machines, the same
//! binary gives the same bits on any x86-64 CPU: the kernels are plain loops
//! in a fixed order, and Rust never fuses multiply-adds or reorders float
//! sums. What may differ is the dense products (`ndarray`'s GEMM,
//! `matrixmultiply`, picks its kernel (SSE2, AVX, FMA, AVX-512) at run time
//! by CPU, and an FMA kernel rounds differently); those differences are of
//! the order of float rounding (`1e-7` relative per product) and grow over a
//! run like any perturbation of SGD: the final loss and metrics then agree
//! to a few digits, not bitwise. `tests/value_stability.rs` pins one short
//! run on the machines we test on.
//!
//! Threads: [`Trainer::with_threads`] runs each step inside a private rayon
//! pool, where sampling, the loss, forward and backward split their work
//! into fixed blocks (of rows, columns or views) that each write their own outputs
//! in a fixed order, and the next step's batch and views are drawn while the
//! current step computes. The thread count is an execution option, not part of the
//! config: the run is bit-identical on 1 or more threads.

use std::collections::BTreeMap;
use std::sync::Arc;

use decouple_augment::{AnyAugmentation, Augment};
use decouple_data::rng::{self, ChaCha8Rng};
use decouple_data::{Batch, Pool, Samples, SignTask, SparseCodingModel, draw_labelled};
use decouple_net::{NetGradients, NetWorkspace, SymReluNet};
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use crate::builtin::{linear_head_of, supervised_task};
use crate::data_source::DataSource;
use crate::dynamic::AnyObjective;
use crate::init::initial_network;
use crate::objective::{Inputs, Objective, ObjectiveInput, ObjectiveState};
use crate::optimizer::{ParameterSlot, Sgd};
use crate::registry::Registry;
use crate::state::SavedState;
use crate::{DataRegime, LinearHead, TrainConfig, TrainError};

/// What is reported every `log_every` steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepMetrics {
    /// Updates done so far (0 = at initialisation).
    pub step: usize,
    /// Mean training loss over the steps since the previous report (at step 0:
    /// the loss of one evaluation batch).
    pub loss: f64,
    /// Learning rate of the last update.
    pub learning_rate: f64,
    /// Global gradient norm of the last update (before clipping).
    pub gradient_norm: f64,
    /// Mean of `||w_i||`.
    pub weight_norm_mean: f64,
    /// Max of `||w_i||`.
    pub weight_norm_max: f64,
    /// Mean threshold `b_i`.
    pub bias_mean: f64,
    /// Max threshold `b_i`.
    pub bias_max: f64,
    /// `beta(t)` of a `NormRamp` rule.
    pub beta: Option<f64>,
    /// Fraction of nonzero activations on the last training batch (first view).
    pub active_fraction: f64,
    /// The objective's own scalars ([`ObjectiveState::metrics`]), by name; omitted when empty.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub objective: BTreeMap<String, f64>,
}

/// A finished run: the trained network, the objective's state and the history.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// The configuration that produced it (with an objective or augmentation
    /// passed directly to [`Trainer::with_parts`], its `objective` and
    /// `augmentation` fields were not used: see `objective` and `augmentation` below).
    pub config: TrainConfig,
    /// The label of the objective that was minimised.
    pub objective: String,
    /// The label of the augmentation that made the views.
    pub augmentation: String,
    /// The data model (dictionary, dense basis) it was trained on; `None`
    /// for a run on real samples, which has no dictionary.
    pub model: Option<SparseCodingModel>,
    /// The real samples it was trained on (after preprocessing), for a run on a data file or on samples.
    pub samples: Option<Samples>,
    /// The trained network.
    pub net: SymReluNet<f32>,
    /// The objective's state at the end ([`ObjectiveState::save`]): its trained head, target network, ...
    pub state: SavedState,
    /// Metrics at steps 0, k, 2k, ... and at the end.
    pub history: Vec<StepMetrics>,
}

impl TrainOutcome {
    /// The linear head of a supervised run.
    #[must_use]
    pub fn linear_head(&self) -> Option<LinearHead> {
        linear_head_of(&self.state)
    }
}

/// A training run in progress; owns every buffer, so steps do not allocate
/// (except the labelled batches of a labelled objective).
pub struct Trainer<O: Objective = AnyObjective, A: Augment = AnyAugmentation> {
    config: TrainConfig,
    objective: O,
    augmentation: A,
    state: O::State,
    net: SymReluNet<f32>,
    step: usize,
    source: InputSource,
    /// The inputs of the current step (the views, or one labelled batch).
    inputs: Vec<Array2<f32>>,
    /// The next step's views, drawn during this step on a second thread
    /// (only with a thread pool); `next_ready` says whether they are drawn.
    next_inputs: Option<Vec<Array2<f32>>>,
    next_ready: bool,
    /// Labels of the current labelled batch.
    labels: Array1<f32>,
    /// One forward workspace per input.
    workspaces: Vec<NetWorkspace<f32>>,
    /// `dL/dz_k`, one per input.
    grad_outputs: Vec<Array2<f32>>,
    grads: NetGradients<f32>,
    sgd: Sgd,
    last_gradient_norm: f64,
    last_learning_rate: f64,
    threads: Option<Arc<rayon::ThreadPool>>,
    /// Asked before every step ([`Trainer::with_stop`]).
    stop: crate::Stop,
}

/// Where batches come from: the data model or the fixed pool (of model
/// samples, or of real samples with no model), the labelled task of a
/// labelled objective, and the random streams of samples, epoch order and
/// augmentation.
struct InputSource {
    model: Option<SparseCodingModel>,
    pool: Option<Pool>,
    /// What real samples carry besides `x` (labels, image shape, name), to hand back in the outcome.
    samples: Option<Samples>,
    /// The labels `sign(<a*, z>)` of a labelled objective (`"task"` stream).
    task: Option<SignTask>,
    /// The last batch drawn (only its views are used by the step).
    batch: Batch,
    data_rng: ChaCha8Rng,
    shuffle_rng: ChaCha8Rng,
    augment_rng: ChaCha8Rng,
}

impl InputSource {
    /// A labelled batch of `n` fresh samples of the model (labels of the run's task), from `rng`.
    fn labelled(
        model: Option<&SparseCodingModel>,
        task: Option<&SignTask>,
        n: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<(Batch, Array1<f32>), TrainError> {
        let (Some(model), Some(task)) = (model, task) else { return Err(no_model("objective")) };
        let set = draw_labelled(model, task, n, rng)?;
        Ok((set.samples, set.labels))
    }

    /// Draws the next batch (fresh, or the pool's next) and writes its views into `views`.
    fn fill<A: Augment>(&mut self, augmentation: &A, batch_size: usize, views: &mut [Array2<f32>]) -> Result<(), TrainError> {
        match (&mut self.pool, &self.model) {
            (Some(pool), _) => pool.next_batch_into(batch_size, &mut self.batch, &mut self.shuffle_rng),
            (None, Some(model)) => model.sample_into(&mut self.batch, &mut self.data_rng),
            (None, None) => return Err(no_model("regime")),
        }
        augmentation.views_of_x_into(&self.batch, views, &mut self.augment_rng)?;
        Ok(())
    }
}

/// The error of a step that needs the data model on a run of real samples.
fn no_model(field: &'static str) -> TrainError {
    TrainError::Unsupported { field, reason: "a run on real samples has no data model: use a contrastive or non-contrastive objective" }
}

impl Trainer {
    /// Validates `config` and sets up the data, network and buffers, with
    /// the config's own objective and augmentation (built-ins only: see
    /// [`Trainer::from_config`] for registered kinds).
    ///
    /// # Errors
    /// Any invalid field; `Supervised` with a `Pool` regime (not supported);
    /// a registered kind (not known to the built-in registry).
    pub fn new(config: TrainConfig) -> Result<Self, TrainError> {
        Self::with_threads(config, 1)
    }

    /// As [`Trainer::new`], running every step on `threads` threads (a private
    /// rayon pool; `1` runs on the calling thread). The results are
    /// bit-identical for any `threads`.
    ///
    /// # Errors
    /// As [`Trainer::new`]; `threads = 0`; a pool that cannot be started.
    pub fn with_threads(config: TrainConfig, threads: usize) -> Result<Self, TrainError> {
        Self::from_config(config, &Registry::new(), threads)
    }

    /// A run of `config` with the objective and augmentation it names, made
    /// by `registry`, on `threads` threads.
    ///
    /// # Errors
    /// As [`Trainer::with_threads`]; a kind `registry` does not know (listing those it knows).
    pub fn from_config(config: TrainConfig, registry: &Registry, threads: usize) -> Result<Self, TrainError> {
        config.check()?;
        let objective = registry.objective(&config.objective)?;
        let augmentation = registry.augmentation(&config.augmentation)?;
        Self::with_parts(config, objective, augmentation, threads)
    }
}

impl<O, A> Trainer<O, A>
where
    O: Objective + Send + Sync,
    A: Augment + Send + Sync,
{
    /// A run of `config` that minimises `objective` on the views made by
    /// `augmentation` (the config's own `objective` and `augmentation` fields
    /// are not used), on `threads` threads.
    ///
    /// # Errors
    /// Any invalid field of the config, the objective or the augmentation; an
    /// augmentation that makes another number of views than the objective
    /// takes; a labelled objective with a `Pool` regime; `threads = 0`.
    pub fn with_parts(config: TrainConfig, objective: O, augmentation: A, threads: usize) -> Result<Self, TrainError> {
        let data = match &config.data {
            DataSource::Model(data) => *data,
            DataSource::File(file) => {
                let samples = file.load_checked()?;
                return Self::on_loaded_samples(config, objective, augmentation, threads, samples);
            }
        };
        let (n_inputs, thread_pool) = Self::prepare(&config, &objective, &augmentation, threads)?;
        let seed = config.seed;
        let model = SparseCodingModel::from_seed(data, seed)?;
        let net = initial_network(&config.network, &model, seed)?;
        let pool = match config.regime {
            DataRegime::Pool { n_samples } => Some(Pool::new(model.sample(n_samples, &mut rng::stream(seed, "pool")))),
            _ => None,
        };
        let task = matches!(objective.inputs(), Inputs::Labelled).then(|| supervised_task(data.d, seed));
        let (d, d1) = (data.d, data.d1);
        Self::assemble(config, objective, augmentation, thread_pool, n_inputs, (Some(model), pool, None, task, net), (d, d1))
    }

    /// A run on real samples `x` (`n x d1`, one per row, `n >= batch_size`):
    /// a fixed pool of all of them, visited in shuffled epochs (the
    /// `"shuffle"` stream), whatever `config.regime` and `config.data` say
    /// (neither is used). The network starts Gaussian (`Init::Gaussian`
    /// with `network.sigma0`, the `"init"` stream); the outcome has no model.
    ///
    /// # Errors
    /// As [`Trainer::with_parts`]; a labelled objective or `Init::NearDictionary`
    /// (both need the data model); fewer samples than `batch_size`; non-finite samples.
    pub fn on_samples(config: TrainConfig, objective: O, augmentation: A, threads: usize, x: Array2<f32>) -> Result<Self, TrainError> {
        let samples = Samples::new(x, None, None, "samples")?;
        Self::on_loaded_samples(config, objective, augmentation, threads, samples)
    }

    fn on_loaded_samples(config: TrainConfig, objective: O, augmentation: A, threads: usize, samples: Samples) -> Result<Self, TrainError> {
        let (n_inputs, thread_pool) = Self::prepare(&config, &objective, &augmentation, threads)?;
        if matches!(objective.inputs(), Inputs::Labelled) {
            return Err(no_model("objective"));
        }
        if !matches!(config.network.init, crate::Init::Gaussian {}) {
            return Err(no_model("network.init"));
        }
        let (n, d1) = samples.x.dim();
        if n < config.batch_size || d1 == 0 {
            return Err(TrainError::OutOfRange {
                field: "batch_size",
                value: config.batch_size as f64,
                allowed: "<= the number of samples (and d1 >= 1)",
            });
        }
        let x = &samples.x;
        if !x.as_slice().map_or_else(|| x.iter().all(|v| v.is_finite()), all_finite) {
            return Err(TrainError::Unsupported { field: "data", reason: "the samples hold a non-finite value" });
        }
        let net = SymReluNet::init(config.network.width, d1, config.network.sigma0, &mut rng::stream(config.seed, "init"))?;
        let mut info = samples;
        let pool = Pool::new(Batch::from_samples(std::mem::replace(&mut info.x, Array2::zeros((0, d1)))));
        Self::assemble(config, objective, augmentation, thread_pool, n_inputs, (None, Some(pool), Some(info), None, net), (0, d1))
    }

    /// The checks shared by every constructor: threads, config, objective,
    /// augmentation and their view counts; returns the number of inputs and the thread pool.
    fn prepare(
        config: &TrainConfig,
        objective: &O,
        augmentation: &A,
        threads: usize,
    ) -> Result<(usize, Option<Arc<rayon::ThreadPool>>), TrainError> {
        if threads == 0 {
            return Err(TrainError::OutOfRange { field: "threads", value: 0.0, allowed: ">= 1" });
        }
        config.check_common()?;
        objective.check()?;
        let n_inputs = match objective.inputs() {
            Inputs::Views(n_views) => {
                augmentation.check()?;
                if n_views != augmentation.n_views() || n_views < 2 {
                    return Err(TrainError::ViewCount { objective: n_views, augmentation: augmentation.n_views() });
                }
                n_views
            }
            Inputs::Labelled => {
                if matches!(config.regime, DataRegime::Pool { .. }) {
                    return Err(TrainError::Unsupported {
                        field: "regime",
                        reason: "a fixed Pool is not supported with a labelled objective (labels are drawn with fresh samples); use Fresh",
                    });
                }
                1
            }
        };
        let thread_pool = if threads > 1 {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|index| format!("decouple-train-{index}"))
                .build()
                .map_err(|_| TrainError::Unsupported { field: "threads", reason: "the thread pool could not be started" })?;
            Some(Arc::new(pool))
        } else {
            None
        };
        Ok((n_inputs, thread_pool))
    }

    /// The trainer of a prepared run: `(model, pool, initial network)` and `(d, d1)`.
    #[allow(clippy::type_complexity)]
    fn assemble(
        config: TrainConfig,
        objective: O,
        augmentation: A,
        thread_pool: Option<Arc<rayon::ThreadPool>>,
        n_inputs: usize,
        (model, pool, samples, task, net): (Option<SparseCodingModel>, Option<Pool>, Option<Samples>, Option<SignTask>, SymReluNet<f32>),
        (d, d1): (usize, usize),
    ) -> Result<Self, TrainError> {
        let seed = config.seed;
        let state = objective.start(&net, &config)?;
        let (batch_size, width) = (config.batch_size, config.network.width);
        let zeros = |rows: usize, columns: usize| -> Vec<Array2<f32>> { (0..n_inputs).map(|_| Array2::zeros((rows, columns))).collect() };
        let prefetches = thread_pool.is_some() && matches!(objective.inputs(), Inputs::Views(_));
        Ok(Self {
            inputs: zeros(batch_size, d1),
            next_inputs: prefetches.then(|| zeros(batch_size, d1)),
            next_ready: false,
            labels: Array1::zeros(0),
            workspaces: (0..n_inputs).map(|_| NetWorkspace::with_shape(batch_size, width)).collect(),
            grad_outputs: zeros(batch_size, width),
            grads: NetGradients::for_net(&net),
            sgd: Sgd::default(),
            source: InputSource {
                batch: Batch::zeros(batch_size, d, d1),
                model,
                pool,
                samples,
                task,
                data_rng: rng::stream(seed, "data"),
                shuffle_rng: rng::stream(seed, "shuffle"),
                augment_rng: rng::stream(seed, "augment"),
            },
            config,
            objective,
            augmentation,
            state,
            net,
            step: 0,
            last_gradient_norm: 0.0,
            last_learning_rate: 0.0,
            threads: thread_pool,
            stop: crate::Stop::new(),
        })
    }

    /// Stops [`Trainer::run`] before the next step once `stop` is requested
    /// (with [`TrainError::Stopped`]); the network is left as it is.
    #[must_use]
    pub fn with_stop(mut self, stop: crate::Stop) -> Self {
        self.stop = stop;
        self
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The objective being minimised.
    #[must_use]
    pub fn objective(&self) -> &O {
        &self.objective
    }

    /// The objective's run state (its buffers and trained parameters).
    #[must_use]
    pub fn objective_state(&self) -> &O::State {
        &self.state
    }

    /// The data model (`None` on real samples).
    #[must_use]
    pub fn model(&self) -> Option<&SparseCodingModel> {
        self.source.model.as_ref()
    }

    /// The real samples of a run on a data file or on samples, as trained on
    /// (after preprocessing), `n x d1`; `None` on the data model.
    #[must_use]
    pub fn real_samples(&self) -> Option<ndarray::ArrayView2<'_, f32>> {
        match (&self.source.samples, &self.source.pool) {
            (Some(_), Some(pool)) => Some(pool.samples().x()),
            _ => None,
        }
    }

    /// The network in its current state.
    #[must_use]
    pub fn net(&self) -> &SymReluNet<f32> {
        &self.net
    }

    /// Updates done so far.
    #[must_use]
    pub fn step(&self) -> usize {
        self.step
    }

    /// Runs all remaining steps, calling `observer` at step 0, every
    /// `log_every` steps and at the end, with the metrics and the network.
    ///
    /// # Errors
    /// [`TrainError::Diverged`] with the step, if the loss or a parameter
    /// becomes non-finite; [`TrainError::Stopped`] once a stop is requested
    /// ([`Trainer::with_stop`]).
    pub fn run(mut self, mut observer: impl FnMut(&StepMetrics, &SymReluNet<f32>)) -> Result<TrainOutcome, TrainError> {
        let mut history = Vec::new();
        if self.step == 0 {
            let loss = self.initial_loss()?;
            let metrics = self.metrics(loss);
            observer(&metrics, &self.net);
            history.push(metrics);
        }
        let (mut loss_sum, mut loss_count) = (0.0, 0usize);
        while self.step < self.config.steps {
            if self.stop.is_requested() {
                return Err(TrainError::Stopped { step: self.step });
            }
            loss_sum += self.train_step()?;
            loss_count += 1;
            if self.step % self.config.log_every == 0 || self.step == self.config.steps {
                let metrics = self.metrics(loss_sum / loss_count as f64);
                observer(&metrics, &self.net);
                history.push(metrics);
                (loss_sum, loss_count) = (0.0, 0);
            }
        }
        // The samples go back to the caller with what they carry (moved out of the pool, not copied).
        let samples = match (self.source.samples, self.source.pool) {
            (Some(mut info), Some(pool)) => {
                info.x = pool.into_samples().into_x();
                Some(info)
            }
            _ => None,
        };
        Ok(TrainOutcome {
            config: self.config,
            objective: self.objective.label(),
            augmentation: self.augmentation.label(),
            state: self.state.save(),
            model: self.source.model,
            samples,
            net: self.net,
            history,
        })
    }

    /// One SGD update; returns the loss of its batch (before the update).
    ///
    /// # Errors
    /// [`TrainError::Diverged`] if the loss or a parameter becomes non-finite.
    pub fn train_step(&mut self) -> Result<f64, TrainError> {
        match self.threads.clone() {
            Some(pool) => pool.install(|| self.step_inner()),
            None => self.step_inner(),
        }
    }

    fn step_inner(&mut self) -> Result<f64, TrainError> {
        let (step, steps) = (self.step, self.config.steps);
        self.config.network.bias.apply_before_step(&mut self.net, step, steps)?;
        let loss = match self.objective.inputs() {
            Inputs::Labelled => self.labelled_step()?,
            _ => self.views_step()?,
        };
        if !loss.is_finite() {
            return Err(self.diverged("loss"));
        }
        self.update()?;
        self.config.network.bias.clamp_after_step(&mut self.net);
        self.step += 1;
        if !all_finite(self.net.weights().as_slice().expect("weights are contiguous")) {
            return Err(self.diverged("weights"));
        }
        if !all_finite(self.net.bias().as_slice().expect("bias is contiguous")) {
            return Err(self.diverged("bias"));
        }
        self.state.after_update(&self.net, self.step)?;
        Ok(loss)
    }

    fn diverged(&self, quantity: &'static str) -> TrainError {
        let likely_cause = crate::config::divergence_cause(self.config.optimizer.learning_rate, &self.objective);
        TrainError::Diverged { step: self.step, quantity, likely_cause }
    }

    /// One step's gradients on the views of a batch. With a thread pool, the
    /// next step's batch and views are drawn at the same time on another
    /// thread: the streams are consumed in the same order, so the run is unchanged.
    fn views_step(&mut self) -> Result<f64, TrainError> {
        match &mut self.next_inputs {
            Some(next) if self.next_ready => std::mem::swap(&mut self.inputs, next),
            _ => self.source.fill(&self.augmentation, self.config.batch_size, &mut self.inputs)?,
        }
        self.next_ready = false;
        let next = self.next_inputs.as_mut().filter(|_| self.step + 1 < self.config.steps);
        let Some(next) = next else {
            return self.gradients();
        };
        let (source, augmentation, batch_size) = (&mut self.source, &self.augmentation, self.config.batch_size);
        let mut step = StepBuffers {
            objective: &self.objective,
            state: &mut self.state,
            net: &self.net,
            inputs: &self.inputs,
            labels: None,
            workspaces: &mut self.workspaces,
            grad_outputs: &mut self.grad_outputs,
            grads: &mut self.grads,
            step: self.step,
            total_steps: self.config.steps,
        };
        let (drawn, value) = rayon::join(|| source.fill(augmentation, batch_size, next), || step.gradients());
        drawn?;
        self.next_ready = true;
        value
    }

    /// One step's gradients on a labelled batch.
    fn labelled_step(&mut self) -> Result<f64, TrainError> {
        let source = &mut self.source;
        let (batch, labels) =
            InputSource::labelled(source.model.as_ref(), source.task.as_ref(), self.config.batch_size, &mut source.data_rng)?;
        self.inputs[0].assign(&batch.x());
        self.labels = labels;
        self.gradients()
    }

    /// Forward, objective and backward on the current inputs, on this thread's pool.
    fn gradients(&mut self) -> Result<f64, TrainError> {
        let labelled = matches!(self.objective.inputs(), Inputs::Labelled);
        StepBuffers {
            objective: &self.objective,
            state: &mut self.state,
            net: &self.net,
            inputs: &self.inputs,
            labels: labelled.then_some(&self.labels),
            workspaces: &mut self.workspaces,
            grad_outputs: &mut self.grad_outputs,
            grads: &mut self.grads,
            step: self.step,
            total_steps: self.config.steps,
        }
        .gradients()
    }

    fn update(&mut self) -> Result<(), TrainError> {
        let optimizer = self.config.optimizer;
        let learning_rate = optimizer.learning_rate * optimizer.schedule.factor(self.step, self.config.steps);
        let bias_rule = self.config.network.bias;
        let (weights, bias) = self.net.parameters_mut();
        let mut weights = ParameterSlot::new(
            "net.weights",
            weights.into_slice().expect("weights are contiguous"),
            self.grads.weights.as_slice().expect("gradients are contiguous"),
        );
        weights.decay = true;
        // Thresholds that do not train this run get no slot.
        let bias = bias_rule.bias_learning_rate_multiplier().map(|multiplier| {
            let mut slot = ParameterSlot::new(
                "net.bias",
                bias.into_slice().expect("bias is contiguous"),
                self.grads.bias.as_slice().expect("contiguous"),
            );
            slot.lr_multiplier = multiplier as f32;
            slot
        });
        // The objective's own tensors follow the network's; without any (the
        // contrastive losses), the step stays free of allocation.
        let own = self.state.parameters();
        self.last_gradient_norm = match (bias, own.is_empty()) {
            (Some(bias), true) => self.sgd.step(&optimizer, learning_rate, &mut [weights, bias])?,
            (None, true) => self.sgd.step(&optimizer, learning_rate, &mut [weights])?,
            (bias, false) => {
                let mut slots = vec![weights];
                slots.extend(bias);
                slots.extend(own);
                self.sgd.step(&optimizer, learning_rate, &mut slots)?
            }
        };
        self.last_learning_rate = learning_rate;
        Ok(())
    }

    /// The loss at initialisation on one batch of the `"eval"` stream (no
    /// update); on real samples, on their first `batch_size` rows (views from the `"eval"` stream).
    fn initial_loss(&mut self) -> Result<f64, TrainError> {
        let mut eval = rng::stream(self.config.seed, "eval");
        self.config.network.bias.apply_before_step(&mut self.net, 0, self.config.steps)?;
        let labelled = match self.objective.inputs() {
            Inputs::Labelled => {
                let source = &self.source;
                let (batch, labels) =
                    InputSource::labelled(source.model.as_ref(), source.task.as_ref(), self.config.batch_size, &mut eval)?;
                self.inputs[0].assign(&batch.x());
                self.labels = labels;
                true
            }
            _ => {
                let batch = match (&self.source.model, &self.source.pool) {
                    (Some(model), _) => model.sample(self.config.batch_size, &mut eval),
                    // On real samples: the first batch_size samples of the pool.
                    (None, Some(pool)) => pool.samples().select(&(0..self.config.batch_size.min(pool.samples().n())).collect::<Vec<_>>()),
                    (None, None) => return Err(no_model("regime")),
                };
                self.augmentation.views_of_x_into(&batch, &mut self.inputs, &mut eval)?;
                false
            }
        };
        // Through the step's own buffers, so the step-0 metrics see this forward pass.
        for (input, workspace) in self.inputs.iter().zip(&mut self.workspaces) {
            self.net.forward_into(input.view(), workspace)?;
        }
        let mut input = ObjectiveInput::of_workspaces(&self.inputs, &self.workspaces, &self.net).at_step(0, self.config.steps);
        if labelled {
            input = input.with_labels(self.labels.view());
        }
        self.objective.value(&mut self.state, &input)
    }

    fn metrics(&self, loss: f64) -> StepMetrics {
        let norms: Vec<f64> = self.net.weights().rows().into_iter().map(|row| f64::from(row.dot(&row)).sqrt()).collect();
        let bias = self.net.bias();
        let output = self.workspaces[0].output();
        let active = output.iter().filter(|h| **h != 0.0).count();
        StepMetrics {
            step: self.step,
            loss,
            learning_rate: self.last_learning_rate,
            gradient_norm: self.last_gradient_norm,
            weight_norm_mean: norms.iter().sum::<f64>() / norms.len() as f64,
            weight_norm_max: norms.iter().copied().fold(0.0, f64::max),
            bias_mean: bias.iter().map(|b| f64::from(*b)).sum::<f64>() / bias.len() as f64,
            bias_max: bias.iter().map(|b| f64::from(*b)).fold(0.0, f64::max),
            beta: self.config.network.bias.ramp_beta(self.step, self.config.steps),
            active_fraction: if output.is_empty() { 0.0 } else { active as f64 / output.len() as f64 },
            objective: self.state.metrics().into_iter().collect(),
        }
    }
}

/// The buffers one step's gradient computation borrows (so that the next
/// batch can be drawn from the source at the same time).
struct StepBuffers<'a, O: Objective> {
    objective: &'a O,
    state: &'a mut O::State,
    net: &'a SymReluNet<f32>,
    inputs: &'a [Array2<f32>],
    labels: Option<&'a Array1<f32>>,
    workspaces: &'a mut [NetWorkspace<f32>],
    grad_outputs: &'a mut [Array2<f32>],
    grads: &'a mut NetGradients<f32>,
    step: usize,
    total_steps: usize,
}

impl<O: Objective + Sync> StepBuffers<'_, O> {
    /// Forward on every input, the objective and its gradients, and the
    /// backward pass into `grads` (summed over inputs in order); returns the loss.
    fn gradients(&mut self) -> Result<f64, TrainError> {
        let net = self.net;
        forward_all(net, self.inputs, self.workspaces)?;
        let mut input = ObjectiveInput::of_workspaces(self.inputs, self.workspaces, net).at_step(self.step, self.total_steps);
        if let Some(labels) = self.labels {
            input = input.with_labels(labels.view());
        }
        let value = self.objective.value_and_gradients(self.state, &input, self.grad_outputs)?;
        check_gradients(self.objective, self.step, self.workspaces, self.grad_outputs, value.is_finite())?;
        if !value.is_finite() {
            // A diverged run: the caller reports `Diverged` (loss) with the likely cause.
            return Ok(value);
        }
        let parts = self.inputs.iter().zip(self.grad_outputs.iter()).zip(self.workspaces.iter_mut());
        for (k, ((input, grad_output), workspace)) in parts.enumerate() {
            if k == 0 {
                net.backward(input.view(), grad_output.view(), workspace, self.grads)?;
            } else {
                net.backward_accumulate(input.view(), grad_output.view(), workspace, self.grads)?;
            }
        }
        Ok(value)
    }
}

/// Fails unless every `dL/dz_k` has the shape of `z_k` and, when
/// `check_finite` (the loss is finite), is finite (an objective of one's own
/// may get either wrong; the error names it and the step). With a non-finite
/// loss the run diverged, and non-finite gradients are expected: that is
/// reported as [`TrainError::Diverged`] with its likely cause, not as an error of the objective.
fn check_gradients<O: Objective>(
    objective: &O,
    step: usize,
    workspaces: &[NetWorkspace<f32>],
    gradients: &[Array2<f32>],
    check_finite: bool,
) -> Result<(), TrainError> {
    for (k, (workspace, gradient)) in workspaces.iter().zip(gradients).enumerate() {
        let expected = workspace.output().dim();
        let reason = if gradient.dim() != expected {
            format!("dL/dz of view {k} has shape {:?}, expected {expected:?} (batch x width)", gradient.dim())
        } else if check_finite && !gradient.as_slice().map_or_else(|| gradient.iter().all(|v| v.is_finite()), all_finite) {
            format!("dL/dz of view {k} holds a non-finite value")
        } else {
            continue;
        };
        return Err(TrainError::ObjectiveOutput { objective: objective.label(), step, reason });
    }
    Ok(())
}

/// The forward pass of every input; on a pool's threads the inputs are split
/// in two halves computed side by side (each input is one product).
fn forward_all(net: &SymReluNet<f32>, inputs: &[Array2<f32>], workspaces: &mut [NetWorkspace<f32>]) -> Result<(), TrainError> {
    if inputs.len() > 1 && rayon::current_thread_index().is_some() {
        let middle = inputs.len() / 2;
        let (first_inputs, second_inputs) = inputs.split_at(middle);
        let (first_workspaces, second_workspaces) = workspaces.split_at_mut(middle);
        let (first, second) =
            rayon::join(|| forward_all(net, first_inputs, first_workspaces), || forward_all(net, second_inputs, second_workspaces));
        return first.and(second);
    }
    for (input, workspace) in inputs.iter().zip(workspaces) {
        net.forward_into(input.view(), workspace)?;
    }
    Ok(())
}

/// Whether every entry is finite: no entry has the all-ones exponent of NaN
/// and the infinities (an integer OR per block, which vectorises; a float
/// sum would not, since float additions may not be reordered).
fn all_finite(values: &[f32]) -> bool {
    const EXPONENT: u32 = 0x7f80_0000;
    values.chunks(256).all(|block| block.iter().fold(0u32, |any, v| any | u32::from(v.to_bits() & EXPONENT == EXPONENT)) == 0)
}

/// Trains `config` to the end, calling `observer` at every report.
///
/// # Errors
/// Invalid config, or divergence (with the step).
pub fn train(config: TrainConfig, observer: impl FnMut(&StepMetrics, &SymReluNet<f32>)) -> Result<TrainOutcome, TrainError> {
    Trainer::new(config)?.run(observer)
}

/// As [`train`], on `threads` threads (bit-identical results; see [`Trainer::with_threads`]).
///
/// # Errors
/// As [`train`]; `threads = 0`.
pub fn train_with_threads(
    config: TrainConfig,
    threads: usize,
    observer: impl FnMut(&StepMetrics, &SymReluNet<f32>),
) -> Result<TrainOutcome, TrainError> {
    Trainer::with_threads(config, threads)?.run(observer)
}

/// Trains with your own `objective` and `augmentation` (see [`Trainer::with_parts`]).
///
/// # Errors
/// As [`Trainer::with_parts`]; divergence (with the step).
pub fn train_with<O: Objective + Send + Sync, A: Augment + Send + Sync>(
    config: TrainConfig,
    objective: O,
    augmentation: A,
    threads: usize,
    observer: impl FnMut(&StepMetrics, &SymReluNet<f32>),
) -> Result<TrainOutcome, TrainError> {
    Trainer::with_parts(config, objective, augmentation, threads)?.run(observer)
}

#[cfg(test)]
mod tests {
    use super::all_finite;

    #[test]
    fn all_finite_finds_nan_and_infinities_anywhere() {
        let mut values = vec![1.0f32; 1000];
        assert!(all_finite(&values));
        for bad in [f32::NAN, -f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            for at in [0, 255, 256, 999] {
                values[at] = bad;
                assert!(!all_finite(&values), "{bad} at {at}");
                values[at] = f32::MAX;
                assert!(all_finite(&values));
            }
        }
        assert!(all_finite(&[f32::MIN_POSITIVE / 2.0, -0.0, f32::MIN]));
        assert!(all_finite(&[]));
    }
}
