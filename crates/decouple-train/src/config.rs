//! `TrainConfig`: everything one training run depends on, as plain serde data.

use decouple_augment::Augmentation;
use decouple_loss::{Contrastive, InfoNce, Similarity};
use decouple_net::BiasRule;
use serde::{Deserialize, Serialize};

use crate::TrainError;
use crate::data_source::DataSource;
use crate::init::Init;
use crate::noncontrastive::NonContrastive;
use crate::parts::{AugmentationConfig, ObjectiveConfig};

/// The network: width, initialisation scale and bias rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct NetworkConfig {
    /// Number of neurons `m >= 1`.
    pub width: usize,
    /// Initial weights `w_i ~ N(0, sigma0^2 I)`, `sigma0 > 0`.
    pub sigma0: f64,
    /// How thresholds `b_i` are set.
    pub bias: BiasRule,
    /// How the weights start (default `Gaussian {}` with `sigma0`).
    #[serde(default)]
    pub init: Init,
}

/// What is minimised.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
#[non_exhaustive]
pub enum ObjectiveKind {
    /// A contrastive loss on the two views of each sample.
    Contrastive {
        /// The loss.
        loss: Contrastive,
    },
    /// Logistic loss of a linear head on `f(x)` for labels `sign(<a, z>)`
    /// (`a` from the seed's `"task"` stream); no augmentation is used.
    Supervised {},
    /// A non-contrastive objective (SimSiam or BYOL, with a predictor head):
    /// `{ kind = "NonContrastive", predictor = { kind = ... }, target = { kind = ... }, ... }`.
    NonContrastive(NonContrastive),
}

/// Learning-rate schedule `eta(t)` as a multiple of the base rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
#[non_exhaustive]
pub enum Schedule {
    /// `eta(t) = eta`.
    Constant {},
    /// Linear warm-up from 0 over `warmup_steps`, then constant.
    Warmup {
        /// Steps of warm-up.
        warmup_steps: usize,
    },
    /// Linear warm-up, then cosine decay to 0 at the last step.
    Cosine {
        /// Steps of warm-up.
        warmup_steps: usize,
    },
}

impl Schedule {
    /// The multiplier of the base rate at `step` of `total_steps`.
    #[must_use]
    pub fn factor(&self, step: usize, total_steps: usize) -> f64 {
        let warmup = |warmup_steps: usize| if step < warmup_steps { (step + 1) as f64 / warmup_steps as f64 } else { 1.0 };
        match *self {
            Self::Constant {} => 1.0,
            Self::Warmup { warmup_steps } => warmup(warmup_steps),
            Self::Cosine { warmup_steps } => {
                if step < warmup_steps {
                    warmup(warmup_steps)
                } else {
                    let span = total_steps.saturating_sub(warmup_steps).max(1) as f64;
                    let progress = (step - warmup_steps) as f64 / span;
                    0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
                }
            }
        }
    }
}

/// Mini-batch SGD with optional momentum, weight decay and gradient clipping.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OptimizerConfig {
    /// Base learning rate `eta > 0`.
    pub learning_rate: f64,
    /// Heavy-ball momentum `mu in [0, 1)`: `v = mu v + g; w -= eta v`.
    #[serde(default)]
    pub momentum: f64,
    /// L2 weight decay `lambda >= 0` on `W` (added to the gradient as `lambda W`).
    #[serde(default)]
    pub weight_decay: f64,
    /// Rescale the gradient to this global L2 norm when larger (`None`: no clipping).
    #[serde(default)]
    pub clip_norm: Option<f64>,
    /// Learning-rate schedule.
    #[serde(default = "constant")]
    pub schedule: Schedule,
}

fn constant() -> Schedule {
    Schedule::Constant {}
}

/// Where training samples come from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
#[non_exhaustive]
pub enum DataRegime {
    /// A fresh batch from the model at every step (population training).
    Fresh {},
    /// A fixed pool of `n_samples` drawn once, visited in shuffled epochs.
    Pool {
        /// Pool size `>= 1`.
        n_samples: usize,
    },
}

/// Everything that determines a training run; with the seed, bit for bit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TrainConfig {
    /// The data: the sparse-coding model, or a data file.
    pub data: DataSource,
    /// The augmentation producing the views (unused by `Supervised`): a built-in, `Image`, or a registered kind.
    pub augmentation: AugmentationConfig,
    /// The network.
    pub network: NetworkConfig,
    /// What is minimised: a built-in objective or a registered kind.
    pub objective: ObjectiveConfig,
    /// The optimiser.
    pub optimizer: OptimizerConfig,
    /// Fresh samples or a fixed pool of the model (file data are always a pool of all their samples: keep `Fresh`).
    pub regime: DataRegime,
    /// Number of SGD updates `>= 1`.
    pub steps: usize,
    /// Batch size `>= 2` (pairs per step).
    pub batch_size: usize,
    /// Seed of every random stream of the run.
    pub seed: u64,
    /// Metrics are reported every `log_every >= 1` steps (and at the end).
    pub log_every: usize,
}

impl Default for TrainConfig {
    /// docs/model.md §7: d = 32, d1 = 512, p = 2/d, sigma = 0.25, fresh samples,
    /// m = 128, sigma0 = 0.01, NormRamp(0.5, 0.5), InfoNCE cosine tau = 0.2,
    /// SGD lr 0.5, batch 128, 3000 steps, complementary masks with keep 0.5.
    fn default() -> Self {
        Self {
            data: DataSource::default(),
            augmentation: Augmentation::ComplementaryMask { keep: 0.5 }.into(),
            network: NetworkConfig { width: 128, sigma0: 0.01, bias: BiasRule::NormRamp { beta: 0.5, ramp: 0.5 }, init: Init::Gaussian {} },
            objective: ObjectiveKind::Contrastive {
                loss: Contrastive::InfoNce(InfoNce { similarity: Similarity::Cosine, temperature: 0.2 }),
            }
            .into(),
            optimizer: OptimizerConfig {
                learning_rate: 0.5,
                momentum: 0.0,
                weight_decay: 0.0,
                clip_norm: None,
                schedule: Schedule::Constant {},
            },
            regime: DataRegime::Fresh {},
            steps: 3000,
            batch_size: 128,
            seed: 0,
            log_every: 100,
        }
    }
}

fn out_of_range(field: &'static str, value: f64, allowed: &'static str) -> TrainError {
    TrainError::OutOfRange { field, value, allowed }
}

impl TrainConfig {
    /// Validates every field; a registered (not built-in) objective or
    /// augmentation is checked by the registry that makes it.
    ///
    /// # Errors
    /// The first invalid field, named with its allowed range; combinations
    /// that are not supported (a `Pool` with the `Supervised` objective, a
    /// labelled objective or the warm start on a data file).
    pub fn check(&self) -> Result<(), TrainError> {
        match &self.augmentation {
            AugmentationConfig::Builtin(augmentation) => augmentation.check()?,
            AugmentationConfig::Image(image) => decouple_augment::Augment::check(image)?,
            _ => {}
        }
        if let ObjectiveConfig::Builtin(objective) = &self.objective {
            crate::Objective::check(objective)?;
            if matches!(objective, ObjectiveKind::Supervised {}) {
                if matches!(self.regime, DataRegime::Pool { .. }) {
                    return Err(TrainError::Unsupported {
                        field: "regime",
                        reason: "a fixed Pool is not supported with the Supervised objective (labels are drawn with fresh samples); use Fresh",
                    });
                }
                if matches!(self.data, DataSource::File(_)) {
                    return Err(TrainError::Unsupported {
                        field: "objective",
                        reason: "the Supervised objective draws labels sign(<a, z>) from the data model: a data file has none; use a contrastive or non-contrastive objective",
                    });
                }
            }
        }
        self.check_common()
    }

    /// Validates every field except `objective` and `augmentation` (which a
    /// run with its own objective and augmentation does not use).
    ///
    /// # Errors
    /// The first invalid field, named with its allowed range.
    pub fn check_common(&self) -> Result<(), TrainError> {
        match &self.data {
            DataSource::Model(data) => data.check()?,
            DataSource::File(file) => {
                if file.path.as_os_str().is_empty() {
                    return Err(TrainError::Unsupported { field: "data.path", reason: "the samples file (.npy or .csv) is required" });
                }
                file.preprocess.check()?;
                if !matches!(self.network.init, Init::Gaussian {}) {
                    return Err(TrainError::Unsupported {
                        field: "network.init",
                        reason: "the warm start next to the dictionary needs the data model: a data file has no dictionary; use Gaussian",
                    });
                }
                if matches!(self.regime, DataRegime::Pool { .. }) {
                    return Err(TrainError::Unsupported {
                        field: "regime",
                        reason: "a data file is always a pool of all its samples: leave regime at Fresh",
                    });
                }
            }
        }
        self.network.bias.check()?;
        self.network.init.check()?;
        let network = &self.network;
        if network.width == 0 {
            return Err(out_of_range("network.width", 0.0, ">= 1"));
        }
        if !(network.sigma0.is_finite() && network.sigma0 > 0.0) {
            return Err(out_of_range("network.sigma0", network.sigma0, "finite and > 0"));
        }
        let optimizer = &self.optimizer;
        if !(optimizer.learning_rate.is_finite() && optimizer.learning_rate > 0.0) {
            return Err(out_of_range("optimizer.learning_rate", optimizer.learning_rate, "finite and > 0"));
        }
        if !(0.0..1.0).contains(&optimizer.momentum) {
            return Err(out_of_range("optimizer.momentum", optimizer.momentum, "in [0, 1)"));
        }
        if !(optimizer.weight_decay.is_finite() && optimizer.weight_decay >= 0.0) {
            return Err(out_of_range("optimizer.weight_decay", optimizer.weight_decay, "finite and >= 0"));
        }
        if let Some(clip) = optimizer.clip_norm {
            if !(clip.is_finite() && clip > 0.0) {
                return Err(out_of_range("optimizer.clip_norm", clip, "finite and > 0"));
            }
        }
        if let DataRegime::Pool { n_samples } = self.regime {
            if n_samples == 0 {
                return Err(out_of_range("regime.n_samples", 0.0, ">= 1"));
            }
        }
        if self.steps == 0 {
            return Err(out_of_range("steps", 0.0, ">= 1"));
        }
        if self.batch_size < 2 {
            return Err(out_of_range("batch_size", self.batch_size as f64, ">= 2"));
        }
        if self.log_every == 0 {
            return Err(out_of_range("log_every", 0.0, ">= 1"));
        }
        Ok(())
    }

    /// The sparse-coding model's config.
    ///
    /// # Errors
    /// [`TrainError::Unsupported`] for a run on a data file (`field` names what needs the model).
    pub fn model_data(&self, field: &'static str) -> Result<&decouple_data::DataConfig, TrainError> {
        self.data.model().ok_or(TrainError::Unsupported { field, reason: "needs the sparse-coding model, and this run is on a data file" })
    }

    /// The likely cause of a divergence, naming the suspect hyperparameters.
    #[must_use]
    pub fn divergence_hint(&self) -> String {
        match &self.objective {
            ObjectiveConfig::Builtin(objective) => divergence_cause(self.optimizer.learning_rate, objective),
            _ => format!("learning rate {} too large", self.optimizer.learning_rate),
        }
    }
}

/// "learning rate ... too large", followed by the objective's own suspects.
pub(crate) fn divergence_cause<O: crate::Objective>(learning_rate: f64, objective: &O) -> String {
    format!("learning rate {learning_rate} too large{}", objective.divergence_hint())
}
