//! The network itself: parameters, validation, initialisation and the
//! allocating convenience forward pass.
//!
//! `f(x) = (h_1(x), ..., h_m(x))` with `h_i(x) = S_{b_i}(<w_i, x>)`, where
//! `S_b(s) = sign(s) max(|s| - b, 0)` is soft-thresholding (docs/model.md §3).

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, NdFloat};
use rand::Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use crate::{NetError, NetWorkspace};

/// Soft-thresholding `S_b(s) = sign(s) max(|s| - b, 0) = ReLU(s - b) - ReLU(-s - b)` for `b >= 0`.
///
/// A NaN `s` gives NaN (it is not silently mapped to 0).
///
/// ```
/// use decouple_net::soft_threshold;
/// assert_eq!(soft_threshold(2.5_f64, 1.0), 1.5);
/// assert_eq!(soft_threshold(-2.5_f64, 1.0), -1.5);
/// assert_eq!(soft_threshold(0.5_f64, 1.0), 0.0);
/// ```
#[inline]
pub fn soft_threshold<F: NdFloat>(s: F, b: F) -> F {
    if s.abs() <= b { F::zero() } else { s - b * s.signum() }
}

/// Converts an `f64` into `F`, saturating to +/- infinity if out of range.
pub(crate) fn from_f64<F: NdFloat>(x: f64) -> F {
    F::from(x).unwrap_or_else(|| if x > 0.0 { F::infinity() } else { F::neg_infinity() })
}

/// Converts an `F` into `f64` (for error messages and schedules).
pub(crate) fn to_f64<F: NdFloat>(x: F) -> f64 {
    x.to_f64().unwrap_or(f64::NAN)
}

/// Symmetric-ReLU network `h_i(x) = ReLU(<w_i,x> - b_i) - ReLU(-<w_i,x> - b_i)`, `W: m x d1`, `b >= 0`.
///
/// Each neuron soft-thresholds its pre-activation `s_i = <w_i, x>`:
/// `h_i = S_{b_i}(s_i) = sign(s_i) max(|s_i| - b_i, 0)`, with derivatives
/// `dh_i/ds_i = 1[|s_i| > b_i]` and `dh_i/db_i = -sign(s_i) 1[|s_i| > b_i]`
/// (docs/model.md §3). Rows of `W` are neurons; inputs are batches `B x d1`
/// (one row per sample) and representations are `B x m`.
///
/// Invariants, checked by [`SymReluNet::new`] and on deserialisation:
/// `m >= 1`, `d1 >= 1`, `bias.len() == m`, every weight finite, every bias
/// finite and `>= 0`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "NetParts<F>", bound(serialize = "F: Serialize", deserialize = "F: NdFloat + Deserialize<'de>"))]
pub struct SymReluNet<F> {
    pub(crate) weights: Array2<F>,
    pub(crate) bias: Array1<F>,
}

/// Unvalidated serialised form of [`SymReluNet`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NetParts<F> {
    weights: Array2<F>,
    bias: Array1<F>,
}

impl<F: NdFloat> TryFrom<NetParts<F>> for SymReluNet<F> {
    type Error = NetError;
    fn try_from(parts: NetParts<F>) -> Result<Self, NetError> {
        Self::new(parts.weights, parts.bias)
    }
}

/// Checks that every entry of `bias` is finite and `>= 0`.
pub(crate) fn check_bias<F: NdFloat>(bias: ArrayView1<'_, F>) -> Result<(), NetError> {
    match bias.iter().position(|&b| !(b.is_finite() && b >= F::zero())) {
        Some(i) => Err(NetError::InvalidEntry { what: "bias", index: vec![i], value: to_f64(bias[i]), allowed: "finite and >= 0" }),
        None => Ok(()),
    }
}

impl<F: NdFloat> SymReluNet<F> {
    /// Builds a network from weights `W` (`m x d1`) and thresholds `b` (`m`).
    ///
    /// # Errors
    /// `m = 0` or `d1 = 0`, `bias.len() != m`, a non-finite weight, a bias
    /// that is negative or not finite.
    pub fn new(weights: Array2<F>, bias: Array1<F>) -> Result<Self, NetError> {
        let (m, d1) = weights.dim();
        if m == 0 || d1 == 0 {
            return Err(NetError::shape("weights", "[m >= 1, d1 >= 1]", weights.shape()));
        }
        if bias.len() != m {
            return Err(NetError::shape("bias", format!("[m = {m}] (one per row of weights)"), bias.shape()));
        }
        if let Some((index, &value)) = weights.indexed_iter().find(|(_, w)| !w.is_finite()) {
            return Err(NetError::InvalidEntry { what: "weights", index: vec![index.0, index.1], value: to_f64(value), allowed: "finite" });
        }
        check_bias(bias.view())?;
        Ok(Self { weights, bias })
    }

    /// Initialises `w_i ~ N(0, sigma0^2 I_{d1})` i.i.d. and `b = 0`.
    ///
    /// Weights are drawn in `f64` row by row (neuron 0 first), then converted
    /// to `F`, so `f32` and `f64` networks from the same RNG state agree.
    ///
    /// # Errors
    /// `m = 0`, `d1 = 0`, `sigma0` not finite and `> 0`.
    pub fn init<R: Rng + ?Sized>(m: usize, d1: usize, sigma0: f64, rng: &mut R) -> Result<Self, NetError> {
        if m == 0 {
            return Err(NetError::OutOfRange { field: "m", value: 0.0, allowed: ">= 1" });
        }
        if d1 == 0 {
            return Err(NetError::OutOfRange { field: "d1", value: 0.0, allowed: ">= 1" });
        }
        if !(sigma0.is_finite() && sigma0 > 0.0) {
            return Err(NetError::OutOfRange { field: "sigma0", value: sigma0, allowed: "finite and > 0" });
        }
        let normal =
            Normal::new(0.0, sigma0).map_err(|_| NetError::OutOfRange { field: "sigma0", value: sigma0, allowed: "finite and > 0" })?;
        let mut weights = Array2::zeros((m, d1));
        for w in weights.iter_mut() {
            *w = from_f64(normal.sample(rng));
        }
        Ok(Self { weights, bias: Array1::zeros(m) })
    }

    /// Number of neurons `m` (rows of `W`, columns of the representation).
    #[must_use]
    pub fn n_neurons(&self) -> usize {
        self.weights.nrows()
    }

    /// Input dimension `d1` (columns of `W`).
    #[must_use]
    pub fn input_dim(&self) -> usize {
        self.weights.ncols()
    }

    /// The weights `W` (`m x d1`, one row per neuron).
    #[must_use]
    pub fn weights(&self) -> ArrayView2<'_, F> {
        self.weights.view()
    }

    /// The thresholds `b` (`m`, all `>= 0`).
    #[must_use]
    pub fn bias(&self) -> ArrayView1<'_, F> {
        self.bias.view()
    }

    /// Mutable weights, for the optimiser. Keep them finite.
    pub fn weights_mut(&mut self) -> ArrayViewMut2<'_, F> {
        self.weights.view_mut()
    }

    /// Mutable thresholds, for the optimiser.
    ///
    /// The caller must keep every `b_i >= 0` (e.g. with
    /// [`crate::BiasRule::clamp_after_step`]); [`SymReluNet::set_bias`] is the
    /// validated alternative.
    pub fn bias_mut(&mut self) -> ArrayViewMut1<'_, F> {
        self.bias.view_mut()
    }

    /// Both parameters mutably at once `(W, b)`; the same caveat as [`SymReluNet::bias_mut`].
    pub fn parameters_mut(&mut self) -> (ArrayViewMut2<'_, F>, ArrayViewMut1<'_, F>) {
        (self.weights.view_mut(), self.bias.view_mut())
    }

    /// Replaces the thresholds after validation.
    ///
    /// # Errors
    /// Wrong length, or an entry negative or not finite (the network is then unchanged).
    pub fn set_bias(&mut self, bias: ArrayView1<'_, F>) -> Result<(), NetError> {
        if bias.len() != self.n_neurons() {
            return Err(NetError::shape("bias", format!("[m = {}]", self.n_neurons()), bias.shape()));
        }
        check_bias(bias)?;
        self.bias.assign(&bias);
        Ok(())
    }

    /// Consumes the network into `(W, b)`.
    #[must_use]
    pub fn into_parts(self) -> (Array2<F>, Array1<F>) {
        (self.weights, self.bias)
    }

    /// The same network in another float type (e.g. `f32` -> `f64` for analysis).
    #[must_use]
    pub fn cast<G: NdFloat>(&self) -> SymReluNet<G> {
        SymReluNet {
            weights: self.weights.mapv(|w| from_f64(to_f64(w))),
            bias: self.bias.mapv(|b| from_f64::<G>(to_f64(b)).max(G::zero())),
        }
    }

    /// `f(X) = S_b(X W^T)` row-wise: `x` is `B x d1`, the result `B x m`.
    ///
    /// Allocates; the training loop should use [`SymReluNet::forward_into`].
    ///
    /// # Errors
    /// `x` does not have `d1` columns.
    pub fn forward(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>, NetError> {
        let mut workspace = NetWorkspace::new();
        self.forward_into(x, &mut workspace)?;
        Ok(workspace.into_output())
    }
}
