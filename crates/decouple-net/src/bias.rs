//! Threshold (bias) rules of docs/model.md §3: how `b` evolves during training.
//!
//! - `Fixed { b }`: `b_i = b` for every neuron and every step.
//! - `Learned { b0, lr_multiplier }`: `b_i = b0` before the first step, then `b`
//!   follows its gradient `dL/db_i = -sum sign(s) 1[|s| > b] dL/dh_i` with the
//!   learning rate `lr_multiplier eta(t)`, and is clamped at 0 after each step.
//! - `NormRamp { beta, ramp }`: `b_i = beta(t) ||w_i||` with
//!   `beta(t) = beta min(1, t / (ramp T))`, recomputed before every step and
//!   treated as a constant (no gradient flows through `b`).

use ndarray::NdFloat;
use serde::{Deserialize, Serialize};

use crate::network::from_f64;
use crate::{NetError, SymReluNet};

/// How the thresholds `b` are set during training (docs/model.md §3).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
pub enum BiasRule {
    /// `b_i = b` for every neuron, at every step.
    Fixed {
        /// The threshold, finite and `>= 0`.
        b: f64,
    },
    /// `b` is a parameter: `b_i = b0` before the first step, then gradient
    /// steps at `lr_multiplier` times the learning rate, clamped to `b >= 0`.
    Learned {
        /// The initial threshold of every neuron, finite and `>= 0` (default 0).
        #[serde(default)]
        b0: f64,
        /// The thresholds' learning rate as a multiple of the weights', finite and `>= 0` (default 1).
        #[serde(default = "one")]
        lr_multiplier: f64,
    },
    /// `b_i = beta(t) ||w_i||`, `beta(t) = beta min(1, t / (ramp T))`, no gradient through `b`.
    NormRamp {
        /// Final ratio of threshold to weight norm, finite and `>= 0`.
        beta: f64,
        /// Fraction of the `T` steps over which `beta(t)` rises linearly from 0, in `[0, 1]`
        /// (`0` means `beta` from the first step).
        ramp: f64,
    },
}

fn one() -> f64 {
    1.0
}

impl Default for BiasRule {
    /// `NormRamp { beta: 0.5, ramp: 0.5 }`, the default setting of docs/model.md §7.
    fn default() -> Self {
        Self::NormRamp { beta: 0.5, ramp: 0.5 }
    }
}

/// `beta(t) = beta min(1, t / (ramp T))` for step `t = step` of `T = total_steps`; `beta` if `ramp T = 0`.
///
/// ```
/// use decouple_net::norm_ramp_beta;
/// assert_eq!(norm_ramp_beta(0.5, 0.5, 0, 100), 0.0);
/// assert_eq!(norm_ramp_beta(0.5, 0.5, 25, 100), 0.25);
/// assert_eq!(norm_ramp_beta(0.5, 0.5, 80, 100), 0.5);
/// assert_eq!(norm_ramp_beta(0.5, 0.0, 0, 100), 0.5);
/// ```
#[must_use]
pub fn norm_ramp_beta(beta: f64, ramp: f64, step: usize, total_steps: usize) -> f64 {
    let ramp_steps = ramp * total_steps as f64;
    if ramp_steps <= 0.0 { beta } else { beta * (step as f64 / ramp_steps).min(1.0) }
}

impl BiasRule {
    /// Validates the parameters.
    ///
    /// # Errors
    /// `Fixed`: `b` not finite or `< 0`. `Learned`: `b0` or `lr_multiplier` not finite or `< 0`.
    /// `NormRamp`: `beta` not finite or `< 0`, `ramp` outside `[0, 1]`.
    pub fn check(&self) -> Result<(), NetError> {
        match *self {
            Self::Learned { b0, .. } if !(b0.is_finite() && b0 >= 0.0) => {
                Err(NetError::OutOfRange { field: "bias_rule.b0", value: b0, allowed: "finite and >= 0" })
            }
            Self::Learned { lr_multiplier, .. } if !(lr_multiplier.is_finite() && lr_multiplier >= 0.0) => {
                Err(NetError::OutOfRange { field: "bias_rule.lr_multiplier", value: lr_multiplier, allowed: "finite and >= 0" })
            }
            Self::Fixed { b } if !(b.is_finite() && b >= 0.0) => {
                Err(NetError::OutOfRange { field: "bias_rule.b", value: b, allowed: "finite and >= 0" })
            }
            Self::NormRamp { beta, .. } if !(beta.is_finite() && beta >= 0.0) => {
                Err(NetError::OutOfRange { field: "bias_rule.beta", value: beta, allowed: "finite and >= 0" })
            }
            Self::NormRamp { ramp, .. } if !(0.0..=1.0).contains(&ramp) => {
                Err(NetError::OutOfRange { field: "bias_rule.ramp", value: ramp, allowed: "in [0, 1]" })
            }
            _ => Ok(()),
        }
    }

    /// Whether `b` is trained by gradient descent (only `Learned`).
    #[must_use]
    pub fn learns_bias(&self) -> bool {
        matches!(self, Self::Learned { .. })
    }

    /// The thresholds' learning rate as a multiple of the weights' (`Learned`); `None` for other rules.
    #[must_use]
    pub fn bias_learning_rate_multiplier(&self) -> Option<f64> {
        match *self {
            Self::Learned { lr_multiplier, .. } => Some(lr_multiplier),
            _ => None,
        }
    }

    /// `beta(t)` of `NormRamp` at `step` of `total_steps` (see [`norm_ramp_beta`]); `None` for other rules.
    #[must_use]
    pub fn ramp_beta(&self, step: usize, total_steps: usize) -> Option<f64> {
        match *self {
            Self::NormRamp { beta, ramp } => Some(norm_ramp_beta(beta, ramp, step, total_steps)),
            _ => None,
        }
    }

    /// Sets the thresholds before step `step` of `total_steps`:
    /// `Fixed`: `b_i = b`; `NormRamp`: `b_i = beta(t) ||w_i||`; `Learned`: `b_i = b0` at
    /// step 0, unchanged afterwards.
    ///
    /// Allocation-free.
    ///
    /// # Errors
    /// The rule fails [`BiasRule::check`] (the network is then unchanged).
    pub fn apply_before_step<F: NdFloat>(&self, net: &mut SymReluNet<F>, step: usize, total_steps: usize) -> Result<(), NetError> {
        self.check()?;
        match *self {
            Self::Fixed { b } => net.bias.fill(from_f64(b)),
            Self::Learned { b0, .. } if step == 0 => net.bias.fill(from_f64(b0)),
            Self::Learned { .. } => {}
            Self::NormRamp { beta, ramp } => {
                let beta_t: F = from_f64(norm_ramp_beta(beta, ramp, step, total_steps));
                for (b, w) in net.bias.iter_mut().zip(net.weights.rows()) {
                    *b = beta_t * w.dot(&w).sqrt();
                }
            }
        }
        Ok(())
    }

    /// Restores `b >= 0` after an optimiser step: `Learned`: `b_i = max(b_i, 0)`; other rules: unchanged.
    pub fn clamp_after_step<F: NdFloat>(&self, net: &mut SymReluNet<F>) {
        if self.learns_bias() {
            net.bias.mapv_inplace(|b| if b < F::zero() { F::zero() } else { b });
        }
    }
}
