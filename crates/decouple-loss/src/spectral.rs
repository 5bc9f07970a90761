//! The spectral contrastive loss of HaoChen, Wei, Gaidon & Ma (NeurIPS 2021,
//! "Provable guarantees for self-supervised deep learning with spectral
//! contrastive loss"), docs/model.md §4.
//!
//! With `u_hat`, `v_hat` the representations after the optional norm clip
//! `z_hat = z min(1, sqrt(mu) / ||z||)` of the authors' code (so
//! `||z_hat|| <= sqrt(mu)`) and `S = u_hat v_hat^T` (`B x B`):
//!
//! ```text
//! L = -(2/B) sum_i S_ii + (1/(B (B - 1))) sum_{i != j} S_ij^2
//! ```
//!
//! an unbiased estimate of `-2 E[f(x+)^T f(x++)] + E[(f(x+)^T f(x'++))^2]`
//! with `x, x'` independent samples (the off-diagonal pairs of the batch), as
//! in the authors' code (which also divides the loss by `mu`; this crate does
//! not, a constant factor).
//! Gradient: `dL/dS_ii = -2/B`, `dL/dS_ij = 2 S_ij / (B (B - 1))` (`i != j`),
//! `dL/du_hat = dL/dS v_hat`, `dL/dv_hat = dL/dS^T u_hat`, and through a
//! clipped row (`||z|| > sqrt(mu)`, `e = z / ||z||`):
//! `dL/dz = sqrt(mu) (g - e <g, e>) / ||z||` with `g = dL/dz_hat`.

use ndarray::{Array2, ArrayView2, Axis, NdFloat, linalg::general_mat_mul};
use serde::{Deserialize, Serialize};

use crate::contrastive::check_views;
use crate::similarity::cast;
use crate::{ContrastiveLoss, LossError, LossWorkspace};

/// The spectral contrastive loss: `L = -(2/B) sum_i <u_i, v_i> + (1/(B(B-1))) sum_{i != j} <u_i, v_j>^2`,
/// on representations clipped to `||z|| <= sqrt(mu)` when `mu` is set.
///
/// Without the clip, the population loss of a linear encoder is minimised on
/// the top generalised eigenspace of docs/theory.md §7 (on a single batch with
/// `B <= m` it is unbounded below: orthogonal, growing rows).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spectral {
    /// `mu` of the norm clip `||f|| <= sqrt(mu)` (finite and `> 0`), or `None` for no clip (the default).
    #[serde(default)]
    pub mu: Option<f64>,
}

impl Spectral {
    /// `u_hat`, `v_hat` into `workspace.hat` (norms in `workspace.norms`), `S` into `workspace.logits`; the value.
    fn forward<F: NdFloat>(&self, u: ArrayView2<'_, F>, v: ArrayView2<'_, F>, workspace: &mut LossWorkspace<F>) -> Result<F, LossError> {
        ContrastiveLoss::check(self)?;
        check_views(u, v)?;
        let batch = u.nrows();
        workspace.load(crate::Similarity::Dot, u, v);
        if let Some(mu) = self.mu {
            let radius = cast::<F>(mu.sqrt());
            for (mut row, norm) in workspace.hat.rows_mut().into_iter().zip(workspace.norms.iter_mut()) {
                *norm = row.dot(&row).sqrt();
                if *norm > radius {
                    let factor = radius / *norm;
                    row.mapv_inplace(|e| e * factor);
                }
            }
        }
        if workspace.logits.dim() != (batch, batch) {
            workspace.logits = Array2::zeros((batch, batch));
            workspace.grad_logits = Array2::zeros((batch, batch));
        }
        let (u_hat, v_hat) = workspace.hat.view().split_at(Axis(0), batch);
        general_mat_mul(F::one(), &u_hat, &v_hat.t(), F::zero(), &mut workspace.logits);
        let (mut positive, mut negative) = (F::zero(), F::zero());
        for ((i, j), &s) in workspace.logits.indexed_iter() {
            if i == j {
                positive += s;
            } else {
                negative += s * s;
            }
        }
        let b = cast::<F>(batch as f64);
        Ok(-(positive + positive) / b + negative / (b * (b - F::one())))
    }
}

impl ContrastiveLoss for Spectral {
    fn check(&self) -> Result<(), LossError> {
        match self.mu {
            Some(mu) if !(mu.is_finite() && mu > 0.0) => Err(LossError::OutOfRange { field: "mu", value: mu, allowed: "finite and > 0" }),
            _ => Ok(()),
        }
    }

    fn value_with<F: NdFloat>(&self, u: ArrayView2<'_, F>, v: ArrayView2<'_, F>, workspace: &mut LossWorkspace<F>) -> Result<F, LossError> {
        self.forward(u, v, workspace)
    }

    fn loss_and_grad_with<F: NdFloat>(
        &self,
        u: ArrayView2<'_, F>,
        v: ArrayView2<'_, F>,
        workspace: &mut LossWorkspace<F>,
        grad_u: &mut Array2<F>,
        grad_v: &mut Array2<F>,
    ) -> Result<F, LossError> {
        let loss = self.forward(u, v, workspace)?;
        let (batch, m) = u.dim();
        let b = cast::<F>(batch as f64);
        let (diagonal, off) = (cast::<F>(-2.0) / b, (F::one() + F::one()) / (b * (b - F::one())));
        for ((i, j), g) in workspace.grad_logits.indexed_iter_mut() {
            *g = if i == j { diagonal } else { off * workspace.logits[(i, j)] };
        }
        let (u_hat, v_hat) = workspace.hat.view().split_at(Axis(0), batch);
        let (mut grad_u_hat, mut grad_v_hat) = workspace.grad_hat.view_mut().split_at(Axis(0), batch);
        general_mat_mul(F::one(), &workspace.grad_logits, &v_hat, F::zero(), &mut grad_u_hat);
        general_mat_mul(F::one(), &workspace.grad_logits.t(), &u_hat, F::zero(), &mut grad_v_hat);
        for grad in [&mut *grad_u, &mut *grad_v] {
            if grad.dim() != (batch, m) {
                *grad = Array2::zeros((batch, m));
            }
        }
        let radius = self.mu.map(|mu| cast::<F>(mu.sqrt()));
        let rows = grad_u.rows_mut().into_iter().chain(grad_v.rows_mut());
        for (r, mut grad) in rows.enumerate() {
            let g = workspace.grad_hat.row(r);
            match radius {
                Some(radius) if workspace.norms[r] > radius => {
                    // z_hat = radius e, e = z / ||z||: dL/dz = radius (g - e <g, e>) / ||z||.
                    let norm = workspace.norms[r];
                    let hat = workspace.hat.row(r);
                    let projection = g.dot(&hat) / (radius * radius);
                    let factor = radius / norm;
                    ndarray::Zip::from(&mut grad).and(&g).and(&hat).for_each(|d, &g, &h| *d = (g - h * projection) * factor);
                }
                _ => grad.assign(&g),
            }
        }
        Ok(loss)
    }
}
