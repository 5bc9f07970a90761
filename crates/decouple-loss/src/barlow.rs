//! Barlow Twins (Zbontar, Jing, Misra, LeCun & Deny, ICML 2021, "Barlow
//! Twins: Self-Supervised Learning via Redundancy Reduction"), docs/model.md §4.
//!
//! Each view is batch-normalised per neuron without affine parameters, as the
//! authors' code does (`n = (z - mean) / sqrt(var + eps)`, biased variance),
//! and the cross-correlation `C = n_u^T n_v / B` (`m x m`) is pushed towards
//! the identity:
//!
//! ```text
//! L = sum_i (1 - C_ii)^2 + lambda sum_{i != j} C_ij^2
//! ```
//!
//! Gradient: `G = dL/dC` with `G_ii = -2 (1 - C_ii)`, `G_ij = 2 lambda C_ij`;
//! `dL/dn_u = n_v G^T / B`, `dL/dn_v = n_u G / B`; through the normalisation
//! (per column, `s = sqrt(var + eps)`, `g = dL/dn`):
//! `dL/dz = (g - mean(g) - n mean(g n)) / s`. A constant column has `n = 0`
//! and `s = sqrt(eps)`: the value stays finite (`L = m` when every column is
//! constant), and so does the gradient.

use ndarray::{Array2, ArrayView2, NdFloat, linalg::general_mat_mul};
use serde::{Deserialize, Serialize};

use crate::contrastive::check_views;
use crate::predictor::{BatchNormCache, BatchNormParameters, batch_norm_backward, batch_norm_forward};
use crate::similarity::cast;
use crate::{ContrastiveLoss, LossError, LossWorkspace};

/// Barlow Twins: `L = sum_i (1 - C_ii)^2 + lambda sum_{i != j} C_ij^2`, `C = BN(u)^T BN(v) / B`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BarlowTwins {
    /// Weight `lambda` of the off-diagonal (redundancy) term, finite and `>= 0`.
    pub lambda: f64,
    /// Added to the batch variance in the normalisation, finite and `> 0`.
    #[serde(default = "default_eps")]
    pub eps: f64,
}

fn default_eps() -> f64 {
    1e-5
}

impl Default for BarlowTwins {
    /// `lambda = 5e-3` (the paper's value) and `eps = 1e-5` (PyTorch's `BatchNorm1d`, which the authors' code uses).
    fn default() -> Self {
        Self { lambda: 5e-3, eps: default_eps() }
    }
}

/// The normalised views and `C`, kept for the backward pass.
struct Forward<F> {
    u: (Array2<F>, BatchNormCache<F>),
    v: (Array2<F>, BatchNormCache<F>),
    correlation: Array2<F>,
}

impl BarlowTwins {
    fn forward<F: NdFloat>(&self, u: ArrayView2<'_, F>, v: ArrayView2<'_, F>) -> Result<(F, Forward<F>), LossError> {
        ContrastiveLoss::check(self)?;
        check_views(u, v)?;
        let (batch, m) = u.dim();
        let parameters = BatchNormParameters { affine: None, eps: cast::<F>(self.eps) };
        let (u, v) = (batch_norm_forward(u, &parameters), batch_norm_forward(v, &parameters));
        let mut correlation = Array2::zeros((m, m));
        general_mat_mul(F::one() / cast::<F>(batch as f64), &u.0.t(), &v.0, F::zero(), &mut correlation);
        let lambda = cast::<F>(self.lambda);
        let mut value = F::zero();
        for ((i, j), &c) in correlation.indexed_iter() {
            value += if i == j { (F::one() - c) * (F::one() - c) } else { lambda * c * c };
        }
        Ok((value, Forward { u, v, correlation }))
    }
}

impl ContrastiveLoss for BarlowTwins {
    fn check(&self) -> Result<(), LossError> {
        if !(self.lambda.is_finite() && self.lambda >= 0.0) {
            return Err(LossError::OutOfRange { field: "lambda", value: self.lambda, allowed: "finite and >= 0" });
        }
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return Err(LossError::OutOfRange { field: "eps", value: self.eps, allowed: "finite and > 0" });
        }
        Ok(())
    }

    fn value_with<F: NdFloat>(
        &self,
        u: ArrayView2<'_, F>,
        v: ArrayView2<'_, F>,
        _workspace: &mut LossWorkspace<F>,
    ) -> Result<F, LossError> {
        Ok(self.forward(u, v)?.0)
    }

    fn loss_and_grad_with<F: NdFloat>(
        &self,
        u: ArrayView2<'_, F>,
        v: ArrayView2<'_, F>,
        _workspace: &mut LossWorkspace<F>,
        grad_u: &mut Array2<F>,
        grad_v: &mut Array2<F>,
    ) -> Result<F, LossError> {
        let (value, Forward { u: (n_u, cache_u), v: (n_v, cache_v), correlation }) = self.forward(u, v)?;
        let (batch, m) = u.dim();
        let two = F::one() + F::one();
        let lambda = cast::<F>(self.lambda);
        let grad_c = Array2::from_shape_fn((m, m), |(i, j)| {
            let c = correlation[(i, j)];
            if i == j { -two * (F::one() - c) } else { two * lambda * c }
        });
        let inv_batch = F::one() / cast::<F>(batch as f64);
        let (mut grad_n_u, mut grad_n_v) = (Array2::zeros((batch, m)), Array2::zeros((batch, m)));
        general_mat_mul(inv_batch, &n_v, &grad_c.t(), F::zero(), &mut grad_n_u);
        general_mat_mul(inv_batch, &n_u, &grad_c, F::zero(), &mut grad_n_v);
        let parameters = BatchNormParameters { affine: None, eps: cast::<F>(self.eps) };
        *grad_u = batch_norm_backward(grad_n_u.view(), &cache_u, &parameters).0;
        *grad_v = batch_norm_backward(grad_n_v.view(), &cache_v, &parameters).0;
        Ok(value)
    }
}
