//! Non-contrastive objectives on the same network: SimSiam (a predictor on
//! the online branch, a stop-gradient target; Chen & He 2021) and BYOL (the
//! target is an exponential moving average of the online encoder; Grill et
//! al. 2020), with optional batch normalisation of the encoder output and
//! `V >= 2` views (the loss averaged over ordered view pairs).
//!
//! The loss and its gradients are [`decouple_loss::predictor`]:
//! `L = (1/(V(V-1))) sum_{a != b} -mean_i cos(p_a,i, sg(t_b,i))` with
//! `p_a = BN(f(x_a)) P^T` and `t_b = BN(f(x_b))` (SimSiam) or
//! `BN_target(f_target(x_b))` (BYOL). Predictor variants:
//!
//! | `predictor` | `P` |
//! |---|---|
//! | `Identity` | `I`, fixed (the peer code's non-contrastive loss without a predictor) |
//! | `Linear { lr_multiplier }` | trainable, starts at `I` |
//! | `OffDiagonal { lr_multiplier }` | `I + E`, `E` trainable with a zero diagonal, starts at 0 (Wen & Li 2022) |
//! | `DirectPred { every, rho, eps }` | `U diag(sqrt(s / s_max) + eps) U^T` from `F_hat = rho F_hat + (1 - rho) mean_a y_a^T y_a / B = U diag(s) U^T`, recomputed every `every` steps (Tian, Chen & Ganguli 2021) |
//!
//! The EMA target is `theta_target <- tau theta_target + (1 - tau) theta` after
//! every update, for the weights, the thresholds and the affine
//! normalisation parameters; it starts equal to the online network.

use decouple_analysis::symmetric_eigen;
use decouple_loss::predictor::{BatchNormParameters, HeadGradients, HeadParameters, head_outputs, predictor_loss};
use decouple_net::{NetWorkspace, SymReluNet};
use ndarray::{Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::objective::{Inputs, Objective, ObjectiveInput, ObjectiveState};
use crate::optimizer::ParameterSlot;
use crate::state::SavedState;
use crate::{TrainConfig, TrainError};

/// The predictor head `P` of a non-contrastive objective.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
pub enum Predictor {
    /// `P = I`, fixed.
    Identity {},
    /// `P` trainable (starts at `I`), at `lr_multiplier` times the learning rate.
    Linear {
        /// Learning rate of `P` as a multiple of the network's, finite and `>= 0` (default 1).
        #[serde(default = "one")]
        lr_multiplier: f64,
    },
    /// `P = I + E` with `E` trainable and zero on the diagonal (starts at 0).
    OffDiagonal {
        /// Learning rate of `E` as a multiple of the network's, finite and `>= 0` (default 1).
        #[serde(default = "one")]
        lr_multiplier: f64,
    },
    /// `P` set from the eigendecomposition of a running estimate of the output correlation.
    DirectPred {
        /// Recompute `P` every `every >= 1` steps (default 1).
        #[serde(default = "one_step")]
        every: usize,
        /// Moving-average rate of the correlation estimate, in `[0, 1)` (default 0.3).
        #[serde(default = "default_rho")]
        rho: f64,
        /// Floor added to every normalised eigenvalue, finite and `>= 0` (default 0.1).
        #[serde(default = "default_eps")]
        eps: f64,
    },
}

/// Where the targets `t_b` come from.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
pub enum Target {
    /// The online network itself, without gradient (SimSiam).
    StopGradient {},
    /// A moving average of the online network, `theta_t <- momentum theta_t + (1 - momentum) theta` (BYOL).
    Ema {
        /// `tau`, in `[0, 1]` (default 0.99; 0 copies the online network every step, 1 freezes it).
        #[serde(default = "default_momentum")]
        momentum: f64,
    },
}

/// Batch normalisation of the encoder output (both branches).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
pub enum Normalisation {
    /// None.
    None {},
    /// Per neuron over the batch: `y = gamma (z - mu) / sqrt(var + eps) + beta`.
    Batch {
        /// Train `gamma` (from 1) and `beta` (from 0); otherwise `y = x_hat` (default false).
        #[serde(default)]
        affine: bool,
        /// Added to the batch variance, finite and `> 0` (default 1e-5).
        #[serde(default = "default_bn_eps")]
        eps: f64,
    },
}

fn one() -> f64 {
    1.0
}
fn one_step() -> usize {
    1
}
fn default_rho() -> f64 {
    0.3
}
fn default_eps() -> f64 {
    0.1
}
fn default_momentum() -> f64 {
    0.99
}
fn default_bn_eps() -> f64 {
    1e-5
}
fn two() -> usize {
    2
}
fn identity() -> Predictor {
    Predictor::Identity {}
}
fn stop_gradient() -> Target {
    Target::StopGradient {}
}
fn no_normalisation() -> Normalisation {
    Normalisation::None {}
}

/// A non-contrastive objective: its predictor, target, normalisation and number of views.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NonContrastive {
    /// The predictor head (default `Identity`).
    #[serde(default = "identity")]
    pub predictor: Predictor,
    /// The target branch (default `StopGradient`).
    #[serde(default = "stop_gradient")]
    pub target: Target,
    /// Normalisation of the encoder output (default `None`).
    #[serde(default = "no_normalisation")]
    pub normalisation: Normalisation,
    /// Views per sample, `>= 2` (default 2); the augmentation must make as many.
    #[serde(default = "two")]
    pub views: usize,
}

impl Default for NonContrastive {
    /// SimSiam without a predictor: `P = I`, stop-gradient, no normalisation, two views.
    fn default() -> Self {
        Self { predictor: identity(), target: stop_gradient(), normalisation: no_normalisation(), views: 2 }
    }
}

fn out_of_range(field: &'static str, value: f64, allowed: &'static str) -> TrainError {
    TrainError::OutOfRange { field, value, allowed }
}

fn check_rate(field: &'static str, value: f64) -> Result<(), TrainError> {
    if value.is_finite() && value >= 0.0 { Ok(()) } else { Err(out_of_range(field, value, "finite and >= 0")) }
}

/// The trained head and the target network of a non-contrastive run.
pub struct NonContrastiveState {
    /// The objective it belongs to.
    objective: NonContrastive,
    /// `P` (`m x m`).
    pub predictor: Array2<f32>,
    /// `gamma`, `beta` of an affine normalisation (ones and zeros otherwise).
    pub gamma: Array1<f32>,
    /// See `gamma`.
    pub beta: Array1<f32>,
    /// The last step's gradients of `P`, `gamma` and `beta`.
    gradients: HeadGradients<f32>,
    /// The EMA target network and its normalisation parameters (BYOL only).
    pub target: Option<TargetNetwork>,
    /// The running correlation estimate `F_hat` (DirectPred only).
    pub correlation: Option<Array2<f64>>,
    /// This step's batch correlation `mean_a y_a^T y_a / B` (DirectPred only).
    batch_correlation: Option<Array2<f64>>,
}

/// A moving-average copy of the encoder.
pub struct TargetNetwork {
    /// The target encoder.
    pub net: SymReluNet<f32>,
    /// Its `gamma`.
    pub gamma: Array1<f32>,
    /// Its `beta`.
    pub beta: Array1<f32>,
    workspaces: Vec<NetWorkspace<f32>>,
}

impl NonContrastive {
    fn batch_norm<'a>(&self, gamma: &'a Array1<f32>, beta: &'a Array1<f32>) -> Option<BatchNormParameters<'a, f32>> {
        match self.normalisation {
            Normalisation::Batch { affine, eps } => {
                Some(BatchNormParameters { affine: affine.then(|| (gamma.view(), beta.view())), eps: eps as f32 })
            }
            _ => None,
        }
    }

    /// The EMA target's representations of the step's inputs, normalised.
    fn target_representations(&self, target: &mut TargetNetwork, input: &ObjectiveInput<'_>) -> Result<Vec<Array2<f32>>, TrainError> {
        let TargetNetwork { net, gamma, beta, workspaces } = target;
        if workspaces.len() != input.n_inputs() {
            *workspaces = (0..input.n_inputs()).map(|_| NetWorkspace::new()).collect();
        }
        for (k, workspace) in workspaces.iter_mut().enumerate() {
            net.forward_into(input.input(k), workspace)?;
        }
        let outputs: Vec<ArrayView2<'_, f32>> = workspaces.iter().map(NetWorkspace::output).collect();
        Ok(head_outputs(&outputs, self.batch_norm(gamma, beta).as_ref()))
    }

    fn online_views<'a>(input: &ObjectiveInput<'a>) -> Vec<ArrayView2<'a, f32>> {
        (0..input.n_inputs()).map(|k| input.representation(k)).collect()
    }
}

impl Objective for NonContrastive {
    type State = NonContrastiveState;

    fn label(&self) -> String {
        let predictor = match self.predictor {
            Predictor::Identity {} => "no predictor".to_string(),
            Predictor::Linear { .. } => "linear predictor".into(),
            Predictor::OffDiagonal { .. } => "I + off-diagonal predictor".into(),
            Predictor::DirectPred { .. } => "DirectPred".into(),
        };
        let target = match self.target {
            Target::StopGradient {} => "SimSiam".to_string(),
            Target::Ema { momentum } => format!("BYOL (EMA {momentum})"),
        };
        let norm = if matches!(self.normalisation, Normalisation::Batch { .. }) { ", BN" } else { "" };
        format!("{target}, {predictor}{norm}")
    }

    fn inputs(&self) -> Inputs {
        Inputs::Views(self.views)
    }

    fn check(&self) -> Result<(), TrainError> {
        if self.views < 2 {
            return Err(out_of_range("objective.views", self.views as f64, ">= 2"));
        }
        match self.predictor {
            Predictor::Linear { lr_multiplier } | Predictor::OffDiagonal { lr_multiplier } => {
                check_rate("objective.predictor.lr_multiplier", lr_multiplier)?;
            }
            Predictor::DirectPred { every, rho, eps } => {
                if every == 0 {
                    return Err(out_of_range("objective.predictor.every", 0.0, ">= 1"));
                }
                if !(0.0..1.0).contains(&rho) {
                    return Err(out_of_range("objective.predictor.rho", rho, "in [0, 1)"));
                }
                check_rate("objective.predictor.eps", eps)?;
            }
            Predictor::Identity {} => {}
        }
        if let Target::Ema { momentum } = self.target {
            if !(0.0..=1.0).contains(&momentum) {
                return Err(out_of_range("objective.target.momentum", momentum, "in [0, 1]"));
            }
        }
        if let Normalisation::Batch { eps, .. } = self.normalisation {
            if !(eps.is_finite() && eps > 0.0) {
                return Err(out_of_range("objective.normalisation.eps", eps, "finite and > 0"));
            }
        }
        Ok(())
    }

    fn start(&self, net: &SymReluNet<f32>, _config: &TrainConfig) -> Result<Self::State, TrainError> {
        let m = net.n_neurons();
        let (gamma, beta) = (Array1::ones(m), Array1::zeros(m));
        Ok(NonContrastiveState {
            objective: *self,
            predictor: Array2::eye(m),
            gradients: HeadGradients::zeros(m),
            target: matches!(self.target, Target::Ema { .. }).then(|| TargetNetwork {
                net: net.clone(),
                gamma: gamma.clone(),
                beta: beta.clone(),
                workspaces: Vec::new(),
            }),
            correlation: None,
            batch_correlation: None,
            gamma,
            beta,
        })
    }

    fn value_and_gradients(
        &self,
        state: &mut Self::State,
        input: &ObjectiveInput<'_>,
        gradients: &mut [Array2<f32>],
    ) -> Result<f64, TrainError> {
        let targets = match &mut state.target {
            Some(target) => Some(self.target_representations(target, input)?),
            None => None,
        };
        let online = Self::online_views(input);
        let head = HeadParameters { predictor: state.predictor.view(), batch_norm: self.batch_norm(&state.gamma, &state.beta) };
        let target_views: Option<Vec<ArrayView2<'_, f32>>> = targets.as_ref().map(|targets| targets.iter().map(Array2::view).collect());
        let value = predictor_loss(&online, target_views.as_deref(), &head, gradients, &mut state.gradients)?;
        if let Predictor::DirectPred { .. } = self.predictor {
            state.batch_correlation = Some(batch_correlation(&online, head.batch_norm.as_ref()));
        }
        if let Predictor::OffDiagonal { .. } = self.predictor {
            state.gradients.predictor.diag_mut().fill(0.0);
        }
        Ok(f64::from(value))
    }

    fn divergence_hint(&self) -> String {
        match self.predictor {
            Predictor::Linear { lr_multiplier } | Predictor::OffDiagonal { lr_multiplier } => {
                format!(" or predictor lr_multiplier {lr_multiplier} too large")
            }
            _ => String::new(),
        }
    }
}

/// The names of the saved tensors: the predictor `P` (`m x m`), the
/// normalisation's `gamma` and `beta` (`m`), BYOL's target network and its
/// normalisation, DirectPred's running correlation (`f64`, `m x m`).
const SAVED: [&str; 8] =
    ["predictor", "bn.gamma", "bn.beta", "target.weights", "target.bias", "target.bn.gamma", "target.bn.beta", "directpred.correlation"];

impl ObjectiveState for NonContrastiveState {
    fn parameters(&mut self) -> Vec<ParameterSlot<'_>> {
        let mut slots = Vec::new();
        if let Predictor::Linear { lr_multiplier } | Predictor::OffDiagonal { lr_multiplier } = self.objective.predictor {
            let mut slot = ParameterSlot::new(
                "predictor",
                self.predictor.as_slice_mut().expect("contiguous"),
                self.gradients.predictor.as_slice().expect("contiguous"),
            );
            slot.lr_multiplier = lr_multiplier as f32;
            slots.push(slot);
        }
        if let Normalisation::Batch { affine: true, .. } = self.objective.normalisation {
            slots.push(ParameterSlot::new(
                "bn.gamma",
                self.gamma.as_slice_mut().expect("contiguous"),
                self.gradients.gamma.as_slice().expect("contiguous"),
            ));
            slots.push(ParameterSlot::new(
                "bn.beta",
                self.beta.as_slice_mut().expect("contiguous"),
                self.gradients.beta.as_slice().expect("contiguous"),
            ));
        }
        slots
    }

    fn after_update(&mut self, net: &SymReluNet<f32>, step: usize) -> Result<(), TrainError> {
        if let (Target::Ema { momentum }, Some(target)) = (self.objective.target, &mut self.target) {
            ema_update(target, net, &self.gamma, &self.beta, momentum as f32);
        }
        if let Predictor::DirectPred { every, rho, eps } = self.objective.predictor {
            if let Some(batch) = self.batch_correlation.take() {
                let running = match self.correlation.take() {
                    Some(running) => running * rho + batch * (1.0 - rho),
                    None => batch,
                };
                if step % every == 0 {
                    self.predictor = direct_pred(running.view(), eps);
                }
                self.correlation = Some(running);
            }
        }
        Ok(())
    }

    /// For a trained predictor: `predictor_off_diagonal = ||P - diag(P)||_F`,
    /// `predictor_diagonal_mean = tr(P) / m`.
    fn metrics(&self) -> Vec<(String, f64)> {
        if matches!(self.objective.predictor, Predictor::Identity {}) {
            return Vec::new();
        }
        let p = &self.predictor;
        let (mut off, mut diagonal) = (0.0, 0.0);
        for ((i, j), &value) in p.indexed_iter() {
            if i == j {
                diagonal += f64::from(value);
            } else {
                off += f64::from(value).powi(2);
            }
        }
        vec![("predictor_off_diagonal".into(), off.sqrt()), ("predictor_diagonal_mean".into(), diagonal / p.nrows().max(1) as f64)]
    }

    fn save(&self) -> SavedState {
        let mut saved = SavedState::default();
        let m = self.gamma.len();
        saved.insert_array("predictor", self.predictor.view().into_dyn());
        saved.insert_f32("bn.gamma", &[m], self.gamma.iter().copied());
        saved.insert_f32("bn.beta", &[m], self.beta.iter().copied());
        if let Some(target) = &self.target {
            saved.insert_array("target.weights", target.net.weights().into_dyn());
            saved.insert_array("target.bias", target.net.bias().into_dyn());
            saved.insert_f32("target.bn.gamma", &[m], target.gamma.iter().copied());
            saved.insert_f32("target.bn.beta", &[m], target.beta.iter().copied());
        }
        if let Some(correlation) = &self.correlation {
            saved.insert_f64("directpred.correlation", &[m, m], correlation.iter().copied());
        }
        saved
    }

    fn restore(&mut self, saved: &SavedState) -> Result<(), TrainError> {
        saved.check_names(&SAVED)?;
        let m = self.gamma.len();
        let matrix = |name: &str| -> Result<Array2<f32>, TrainError> {
            Ok(saved.f32_array(name, &[m, m])?.into_dimensionality().expect("two dimensions"))
        };
        let vector = |name: &str| -> Result<Array1<f32>, TrainError> { Ok(saved.f32_array(name, &[m])?.into_iter().collect()) };
        self.predictor = matrix("predictor")?;
        self.gamma = vector("bn.gamma")?;
        self.beta = vector("bn.beta")?;
        if let Some(target) = &mut self.target {
            let d1 = target.net.input_dim();
            let weights: Array2<f32> = saved.f32_array("target.weights", &[m, d1])?.into_dimensionality().expect("two dimensions");
            target.net = SymReluNet::new(weights, vector("target.bias")?)?;
            target.gamma = vector("target.bn.gamma")?;
            target.beta = vector("target.bn.beta")?;
        } else if saved.tensors.contains_key("target.weights") {
            return Err(TrainError::State {
                tensor: "target.weights".into(),
                reason: "is saved, but this objective has no EMA target".into(),
            });
        }
        self.correlation = match saved.tensors.get("directpred.correlation") {
            Some(_) => Some(saved.f64_array("directpred.correlation", &[m, m])?.into_dimensionality().expect("two dimensions")),
            None => None,
        };
        Ok(())
    }
}

/// `theta_t <- tau theta_t + (1 - tau) theta` for the weights, thresholds and normalisation parameters.
pub fn ema_update(target: &mut TargetNetwork, net: &SymReluNet<f32>, gamma: &Array1<f32>, beta: &Array1<f32>, momentum: f32) {
    let mix = |target: &mut f32, online: f32| *target = momentum * *target + (1.0 - momentum) * online;
    target.net.weights_mut().zip_mut_with(&net.weights(), |t, &o| mix(t, o));
    target.net.bias_mut().zip_mut_with(&net.bias(), |t, &o| mix(t, o));
    target.gamma.zip_mut_with(gamma, |t, &o| mix(t, o));
    target.beta.zip_mut_with(beta, |t, &o| mix(t, o));
}

/// `mean_a y_a^T y_a / B` (in `f64`) of the online outputs, normalised as the head normalises them.
fn batch_correlation(online: &[ArrayView2<'_, f32>], batch_norm: Option<&BatchNormParameters<'_, f32>>) -> Array2<f64> {
    let m = online[0].ncols();
    let mut total = Array2::<f64>::zeros((m, m));
    for y in head_outputs(online, batch_norm) {
        let y = y.mapv(f64::from);
        total += &(y.t().dot(&y) / y.nrows() as f64);
    }
    total / online.len() as f64
}

/// DirectPred's `P = U diag(sqrt(s_j / s_max) + eps) U^T` from `F_hat = U diag(s) U^T`.
#[must_use]
pub fn direct_pred(correlation: ArrayView2<'_, f64>, eps: f64) -> Array2<f32> {
    let (values, vectors) = symmetric_eigen(correlation);
    let largest = values.iter().copied().fold(0.0f64, f64::max);
    let scales = values.mapv(|s| if largest > 0.0 { (s.max(0.0) / largest).sqrt() } else { 0.0 } + eps);
    let scaled = &vectors * &scales.insert_axis(Axis(0));
    scaled.dot(&vectors.t()).mapv(|v| v as f32)
}
