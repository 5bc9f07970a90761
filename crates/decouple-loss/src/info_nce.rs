//! Symmetric InfoNCE with cross-view negatives (SPEC section 4).
//!
//! `S_ij = sim(u_i, v_j) / tau` (`B x B`),
//! `L = (1/2B) sum_i [ -log softmax_j(S_i.)_i - log softmax_j(S_.i)_i ]`.
//! With `P^row = softmax` along rows and `P^col` along columns,
//! `dL/dS = (P^row + P^col - 2 I) / 2B`, `dL/du_hat = dL/dS v_hat / tau`,
//! `dL/dv_hat = (dL/dS)^T u_hat / tau`.

use ndarray::{Array2, ArrayView2, Axis, NdFloat, Zip, linalg::general_mat_mul};
use serde::{Deserialize, Serialize};

use crate::contrastive::{check_temperature, check_views};
use crate::cross_entropy::cross_entropy_in_place;
use crate::similarity::cast;
use crate::{ContrastiveLoss, LossError, LossWorkspace, Similarity};

/// Symmetric InfoNCE: `L = (1/2B) sum_i [-log softmax_j(S_i.)_i - log softmax_j(S_.i)_i]`, `S_ij = sim(u_i, v_j) / tau`.
///
/// `L >= 0`, `L(u, v) = L(v, u)`, and `L = ln B` when all representations are equal.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InfoNce {
    /// Dot product or cosine.
    pub similarity: Similarity,
    /// Temperature `tau`, finite and `> 0`.
    pub temperature: f64,
}

impl Default for InfoNce {
    /// Cosine similarity, `tau = 0.2` (SPEC section 7).
    fn default() -> Self {
        Self { similarity: Similarity::Cosine, temperature: 0.2 }
    }
}

impl InfoNce {
    /// Logits, loss value and `dL/dS` into `workspace`.
    fn forward<F: NdFloat>(&self, u: ArrayView2<'_, F>, v: ArrayView2<'_, F>, workspace: &mut LossWorkspace<F>) -> Result<F, LossError> {
        self.check()?;
        check_views(u, v)?;
        let batch = u.nrows();
        workspace.load(self.similarity, u, v);
        workspace.ensure_logits(batch);
        let (u_hat, v_hat) = workspace.hat.view().split_at(Axis(0), batch);
        general_mat_mul(cast(1.0 / self.temperature), &u_hat, &v_hat.t(), F::zero(), &mut workspace.logits);

        // Row pass on a copy of S, column pass on a copy of S^T (both contiguous rows).
        workspace.grad_logits.assign(&workspace.logits);
        workspace.scratch.assign(&workspace.logits.t());
        let mut loss = F::zero();
        for i in 0..batch {
            loss += cross_entropy_in_place(workspace.grad_logits.row_mut(i), i);
            loss += cross_entropy_in_place(workspace.scratch.row_mut(i), i);
        }
        let scale = F::one() / cast(2.0 * batch as f64);
        Zip::from(&mut workspace.grad_logits).and(&workspace.scratch.t()).for_each(|g, &c| *g = (*g + c) * scale);
        Ok(loss * scale)
    }
}

impl ContrastiveLoss for InfoNce {
    fn check(&self) -> Result<(), LossError> {
        check_temperature(self.temperature)
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
        let batch = u.nrows();
        let inv_tau = cast(1.0 / self.temperature);
        let (u_hat, v_hat) = workspace.hat.view().split_at(Axis(0), batch);
        let (mut grad_u_hat, mut grad_v_hat) = workspace.grad_hat.view_mut().split_at(Axis(0), batch);
        let grad_logits = &workspace.grad_logits;
        general_mat_mul(inv_tau, grad_logits, &v_hat, F::zero(), &mut grad_u_hat);
        general_mat_mul(inv_tau, &grad_logits.t(), &u_hat, F::zero(), &mut grad_v_hat);
        workspace.backward_views(self.similarity, grad_u, grad_v);
        Ok(loss)
    }
}
