//! The training loop: one SGD step is fresh batch (or pool batch) ->
//! augmentation -> forward on both views -> loss and its gradient ->
//! backward -> update -> bias rule, with a divergence check every step.
//!
//! Random streams (all from the config's seed, see `decouple_data::rng`):
//! `"dictionary"` (the data model), `"init"` (weights), `"data"` (samples),
//! `"pool"` (the fixed pool), `"shuffle"` (epoch order), `"augment"` (masks
//! and noise), `"task"` (the supervised label direction), `"eval"` (the
//! step-0 loss). The loop uses no global state, so a config reproduces its run
//! bit for bit wherever it runs.
//!
//! Threads: [`Trainer::with_threads`] runs each step inside a private rayon
//! pool, where sampling, the loss, forward and backward split their work
//! into fixed blocks (of rows, columns or the two views) that each write their own outputs
//! in a fixed order, and the next step's batch and views are drawn while the
//! current step computes. The thread count is an execution option, not part of the
//! config: the run is bit-identical on 1 or more threads.

use std::sync::Arc;

use decouple_data::rng::{self, ChaCha8Rng};
use decouple_data::{Batch, LabelledSet, Pool, SignTask, SparseCodingModel, draw_labelled};
use decouple_loss::{ContrastiveLoss, LogisticGradients, LogisticLoss, LossWorkspace};
use decouple_net::{NetGradients, NetWorkspace, SymReluNet};
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use crate::optimizer::{ParameterSlot, Sgd};
use crate::{DataRegime, Objective, TrainConfig, TrainError};

/// A linear head `y_hat = <a, f(x)> + c` (the supervised objective).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearHead {
    /// `a`, one weight per neuron.
    pub weights: Array1<f32>,
    /// `c`.
    pub bias: f32,
}

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
}

/// A finished run: the trained network and its history.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// The configuration that produced it.
    pub config: TrainConfig,
    /// The data model (dictionary, dense basis) it was trained on.
    pub model: SparseCodingModel,
    /// The trained network.
    pub net: SymReluNet<f32>,
    /// The linear head of a supervised run.
    pub head: Option<LinearHead>,
    /// Metrics at steps 0, k, 2k, ... and at the end.
    pub history: Vec<StepMetrics>,
}

/// A training run in progress; owns every buffer, so steps do not allocate
/// (except the labelled batches of the supervised objective).
pub struct Trainer {
    config: TrainConfig,
    net: SymReluNet<f32>,
    head: Option<LinearHead>,
    task: Option<SignTask>,
    step: usize,
    source: InputSource,
    /// The views of the current step.
    inputs: Views,
    /// The next step's inputs, drawn during this step on a second thread
    /// (only with a thread pool); `next_ready` says whether they are drawn.
    next_inputs: Option<Views>,
    next_ready: bool,
    buffers: ContrastiveBuffers,
    grads: NetGradients<f32>,
    logistic_grads: LogisticGradients<f32>,
    sgd: Sgd,
    last_gradient_norm: f64,
    last_learning_rate: f64,
    threads: Option<Arc<rayon::ThreadPool>>,
}

/// Where batches come from: the data model or the fixed pool, and the random
/// streams of samples, epoch order and augmentation.
struct InputSource {
    model: SparseCodingModel,
    pool: Option<Pool>,
    /// The last batch drawn (only its views are used by the step).
    batch: Batch,
    data_rng: ChaCha8Rng,
    shuffle_rng: ChaCha8Rng,
    augment_rng: ChaCha8Rng,
}

/// One contrastive step's inputs: the two augmented views of a batch.
type Views = [Array2<f32>; 2];

/// The forward and loss buffers of a contrastive step (`workspaces[0]` also
/// serves the supervised objective).
struct ContrastiveBuffers {
    workspaces: [NetWorkspace<f32>; 2],
    loss_workspace: LossWorkspace<f32>,
    grad_outputs: [Array2<f32>; 2],
}

fn zero_views(config: &TrainConfig) -> Views {
    let shape = (config.batch_size, config.data.d1);
    [Array2::zeros(shape), Array2::zeros(shape)]
}

impl InputSource {
    /// Draws the next batch (fresh, or the pool's next) and writes its two views into `views`.
    fn fill(&mut self, config: &TrainConfig, views: &mut Views) -> Result<(), TrainError> {
        match &mut self.pool {
            None => self.model.sample_into(&mut self.batch, &mut self.data_rng),
            Some(pool) => pool.next_batch_into(config.batch_size, &mut self.batch, &mut self.shuffle_rng),
        }
        let [first, second] = views;
        config.augmentation.apply_x_into(self.batch.x(), first, second, &mut self.augment_rng)?;
        Ok(())
    }
}

impl ContrastiveBuffers {
    /// Forward on both views, the loss and its gradient, and the backward pass
    /// into `grads`; returns the loss.
    fn gradients<L: ContrastiveLoss>(
        &mut self,
        loss: &L,
        net: &SymReluNet<f32>,
        views: &[Array2<f32>; 2],
        grads: &mut NetGradients<f32>,
    ) -> Result<f64, TrainError> {
        let ([first, second], [first_workspace, second_workspace]) = (views, &mut self.workspaces);
        let mut forward_first = || net.forward_into(first.view(), first_workspace);
        let mut forward_second = || net.forward_into(second.view(), second_workspace);
        // The two views side by side on a pool's threads (each is one product).
        let (first_result, second_result) = if rayon::current_thread_index().is_some() {
            rayon::join(forward_first, forward_second)
        } else {
            (forward_first(), forward_second())
        };
        first_result?;
        second_result?;
        let [grad_u, grad_v] = &mut self.grad_outputs;
        let [workspace_u, workspace_v] = &mut self.workspaces;
        let value = loss.loss_and_grad_with(workspace_u.output(), workspace_v.output(), &mut self.loss_workspace, grad_u, grad_v)?;
        net.backward(first.view(), grad_u.view(), workspace_u, grads)?;
        net.backward_accumulate(second.view(), grad_v.view(), workspace_v, grads)?;
        Ok(f64::from(value))
    }
}

impl Trainer {
    /// Validates `config` and sets up the model, network and buffers.
    ///
    /// # Errors
    /// Any invalid field; `Supervised` with a `Pool` regime (not supported).
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
        if threads == 0 {
            return Err(TrainError::OutOfRange { field: "threads", value: 0.0, allowed: ">= 1" });
        }
        config.check()?;
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
        let seed = config.seed;
        let model = SparseCodingModel::from_seed(config.data, seed)?;
        let net = SymReluNet::init(config.network.width, config.data.d1, config.network.sigma0, &mut rng::stream(seed, "init"))?;
        let (head, task) = match config.objective {
            Objective::Supervised => {
                (Some(LinearHead { weights: Array1::zeros(config.network.width), bias: 0.0 }), Some(supervised_task(&config)))
            }
            Objective::Contrastive { .. } => (None, None),
        };
        let pool = match config.regime {
            DataRegime::Fresh => None,
            DataRegime::Pool { n_samples } => Some(Pool::new(model.sample(n_samples, &mut rng::stream(seed, "pool")))),
        };
        let (batch_size, width) = (config.batch_size, config.network.width);
        let prefetches = thread_pool.is_some() && matches!(config.objective, Objective::Contrastive { .. });
        Ok(Self {
            inputs: zero_views(&config),
            next_inputs: prefetches.then(|| zero_views(&config)),
            next_ready: false,
            buffers: ContrastiveBuffers {
                workspaces: [NetWorkspace::with_shape(batch_size, width), NetWorkspace::with_shape(batch_size, width)],
                loss_workspace: LossWorkspace::new(),
                grad_outputs: [Array2::zeros((batch_size, width)), Array2::zeros((batch_size, width))],
            },
            grads: NetGradients::for_net(&net),
            logistic_grads: LogisticGradients::zeros(batch_size, width),
            sgd: Sgd::default(),
            source: InputSource {
                batch: Batch::zeros(batch_size, config.data.d, config.data.d1),
                model,
                pool,
                data_rng: rng::stream(seed, "data"),
                shuffle_rng: rng::stream(seed, "shuffle"),
                augment_rng: rng::stream(seed, "augment"),
            },
            config,
            net,
            head,
            task,
            step: 0,
            last_gradient_norm: 0.0,
            last_learning_rate: 0.0,
            threads: thread_pool,
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The data model.
    #[must_use]
    pub fn model(&self) -> &SparseCodingModel {
        &self.source.model
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
    /// becomes non-finite.
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
            loss_sum += self.train_step()?;
            loss_count += 1;
            if self.step % self.config.log_every == 0 || self.step == self.config.steps {
                let metrics = self.metrics(loss_sum / loss_count as f64);
                observer(&metrics, &self.net);
                history.push(metrics);
                (loss_sum, loss_count) = (0.0, 0);
            }
        }
        Ok(TrainOutcome { config: self.config, model: self.source.model, net: self.net, head: self.head, history })
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
        let loss = match self.config.objective {
            Objective::Contrastive { loss } => self.contrastive_step(&loss)?,
            Objective::Supervised => self.supervised_forward_backward()?,
        };
        if !loss.is_finite() {
            return Err(self.diverged("loss"));
        }
        self.update();
        self.config.network.bias.clamp_after_step(&mut self.net);
        self.step += 1;
        if !all_finite(self.net.weights().as_slice().expect("weights are contiguous")) {
            return Err(self.diverged("weights"));
        }
        if !all_finite(self.net.bias().as_slice().expect("bias is contiguous")) {
            return Err(self.diverged("bias"));
        }
        Ok(loss)
    }

    fn diverged(&self, quantity: &'static str) -> TrainError {
        TrainError::Diverged { step: self.step, quantity, likely_cause: self.config.divergence_hint() }
    }

    /// One contrastive step's gradients. With a thread pool, the next step's
    /// batch and views are drawn at the same time on another thread: the
    /// streams are consumed in the same order, so the run is unchanged.
    fn contrastive_step<L: ContrastiveLoss + Sync>(&mut self, loss: &L) -> Result<f64, TrainError> {
        match &mut self.next_inputs {
            Some(next) if self.next_ready => std::mem::swap(&mut self.inputs, next),
            _ => self.source.fill(&self.config, &mut self.inputs)?,
        }
        self.next_ready = false;
        let (net, inputs, grads) = (&self.net, &self.inputs, &mut self.grads);
        let next = self.next_inputs.as_mut().filter(|_| self.step + 1 < self.config.steps);
        let Some(next) = next else {
            return self.buffers.gradients(loss, net, inputs, grads);
        };
        let (source, config) = (&mut self.source, &self.config);
        let (drawn, value) = rayon::join(|| source.fill(config, next), || self.buffers.gradients(loss, net, inputs, grads));
        drawn?;
        self.next_ready = true;
        value
    }

    fn supervised_forward_backward(&mut self) -> Result<f64, TrainError> {
        let task = self.task.as_ref().expect("supervised runs have a task");
        let LabelledSet { samples, labels } = draw_labelled(&self.source.model, task, self.config.batch_size, &mut self.source.data_rng)?;
        let head = self.head.as_ref().expect("supervised runs have a head");
        let workspace = &mut self.buffers.workspaces[0];
        self.net.forward_into(samples.x(), workspace)?;
        let value =
            LogisticLoss.loss_and_grad(workspace.output(), head.weights.view(), head.bias, labels.view(), &mut self.logistic_grads)?;
        self.net.backward(samples.x(), self.logistic_grads.features.view(), workspace, &mut self.grads)?;
        Ok(f64::from(value))
    }

    fn update(&mut self) {
        let optimizer = self.config.optimizer;
        let learning_rate = optimizer.learning_rate * optimizer.schedule.factor(self.step, self.config.steps);
        let learns_bias = self.config.network.bias.learns_bias();
        let (weights, bias) = self.net.parameters_mut();
        let weights = ParameterSlot {
            value: weights.into_slice().expect("weights are contiguous"),
            grad: self.grads.weights.as_slice().expect("gradients are contiguous"),
            decay: true,
        };
        // Parameters that do not train this run get empty slots (a no-op).
        let empty = || ParameterSlot { value: &mut [], grad: &[], decay: false };
        let bias = if learns_bias {
            ParameterSlot {
                value: bias.into_slice().expect("bias is contiguous"),
                grad: self.grads.bias.as_slice().expect("contiguous"),
                decay: false,
            }
        } else {
            empty()
        };
        let head_bias_grad = [self.logistic_grads.bias];
        let (head_weights, head_bias) = match &mut self.head {
            Some(head) => (
                ParameterSlot {
                    value: head.weights.as_slice_mut().expect("contiguous"),
                    grad: self.logistic_grads.weights.as_slice().expect("contiguous"),
                    decay: false,
                },
                ParameterSlot { value: std::slice::from_mut(&mut head.bias), grad: &head_bias_grad, decay: false },
            ),
            None => (empty(), empty()),
        };
        self.last_gradient_norm = self.sgd.step(&optimizer, learning_rate, &mut [weights, bias, head_weights, head_bias]);
        self.last_learning_rate = learning_rate;
    }

    /// The loss at initialisation on one batch of the `"eval"` stream (no update).
    fn initial_loss(&mut self) -> Result<f64, TrainError> {
        let mut eval = rng::stream(self.config.seed, "eval");
        self.config.network.bias.apply_before_step(&mut self.net, 0, self.config.steps)?;
        match self.config.objective {
            Objective::Contrastive { loss } => {
                let batch = self.source.model.sample(self.config.batch_size, &mut eval);
                let [first, second] = &mut self.inputs;
                self.config.augmentation.apply_x_into(batch.x(), first, second, &mut eval)?;
                // Through the step's own buffers, so the step-0 metrics see this forward pass.
                let [u, v] = &mut self.buffers.workspaces;
                self.net.forward_into(first.view(), u)?;
                self.net.forward_into(second.view(), v)?;
                Ok(f64::from(loss.value_with(u.output(), v.output(), &mut self.buffers.loss_workspace)?))
            }
            Objective::Supervised => {
                let task = self.task.as_ref().expect("supervised runs have a task");
                let set = draw_labelled(&self.source.model, task, self.config.batch_size, &mut eval)?;
                let head = self.head.as_ref().expect("supervised runs have a head");
                let workspace = &mut self.buffers.workspaces[0];
                self.net.forward_into(set.samples.x(), workspace)?;
                Ok(f64::from(LogisticLoss.value(workspace.output(), head.weights.view(), head.bias, set.labels.view())?))
            }
        }
    }

    fn metrics(&self, loss: f64) -> StepMetrics {
        let norms: Vec<f64> = self.net.weights().rows().into_iter().map(|row| f64::from(row.dot(&row)).sqrt()).collect();
        let bias = self.net.bias();
        let output = self.buffers.workspaces[0].output();
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
        }
    }
}

/// Whether every entry is finite (NaN and infinities poison a block's sum of `0 * v`).
fn all_finite(values: &[f32]) -> bool {
    values.chunks(256).all(|block| block.iter().fold(0.0f32, |acc, &v| acc + v * 0.0) == 0.0)
}

/// The label direction `a` of the supervised objective (`"task"` stream of the seed).
#[must_use]
pub fn supervised_task(config: &TrainConfig) -> SignTask {
    SignTask::new(config.data.d, &mut rng::stream(config.seed, "task"))
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
