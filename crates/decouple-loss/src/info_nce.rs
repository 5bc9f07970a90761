//! Symmetric InfoNCE with cross-view negatives (SPEC section 4).
//!
//! `S_ij = sim(u_i, v_j) / tau` (`B x B`),
//! `L = (1/2B) sum_i [ -log softmax_j(S_i.)_i - log softmax_j(S_.i)_i ]`.
//! With `P^row = softmax` along rows and `P^col` along columns,
//! `dL/dS = (P^row + P^col - 2 I) / 2B`, `dL/du_hat = dL/dS v_hat / tau`,
//! `dL/dv_hat = (dL/dS)^T u_hat / tau`.

use ndarray::{Array2, ArrayView2, Axis, NdFloat, Slice, linalg::general_mat_mul};
use serde::{Deserialize, Serialize};

use crate::blocks::for_row_blocks;
use crate::contrastive::{check_temperature, check_views};
use crate::cross_entropy::{column_log_sum_exp, softmax_pair_row};
use crate::similarity::cast;
use crate::workspace::LogitPairs;
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
    /// Logits, their row and column log-sum-exps and `exp(S_ij - max_j S_ij)` into `workspace`; the loss value.
    fn forward<F: NdFloat>(&self, u: ArrayView2<'_, F>, v: ArrayView2<'_, F>, workspace: &mut LossWorkspace<F>) -> Result<F, LossError> {
        self.check()?;
        check_views(u, v)?;
        let batch = u.nrows();
        workspace.load(self.similarity, u, v);
        workspace.logits_and_row_exps(cast(1.0 / self.temperature), LogitPairs::CrossView);
        let logits = workspace.logits.view();
        let column_stats =
            (workspace.column_max.as_slice_mut().expect("contiguous"), workspace.column_lse.as_slice_mut().expect("contiguous"));
        for_row_blocks(column_stats, &|first, (max, lse)| {
            column_log_sum_exp(logits.slice_axis(Axis(1), Slice::from(first..first + max.len())), max, lse);
        });
        let terms = workspace.row_lse.iter().zip(&workspace.column_lse).enumerate();
        let loss = terms.fold(F::zero(), |loss, (i, (&row, &column))| loss + row + column - (logits[(i, i)] + logits[(i, i)]));
        Ok(loss / cast(2.0 * batch as f64))
    }

    /// `dL/dS = (P^row + P^col - 2 I) / 2B` into `workspace.grad_logits`,
    /// `dL/du_hat = dL/dS v_hat / tau` and `dL/dv_hat = dL/dS^T u_hat / tau`
    /// into `workspace.grad_hat`, after [`InfoNce::forward`].
    fn backward<F: NdFloat>(&self, workspace: &mut LossWorkspace<F>) {
        let batch = workspace.logits.nrows();
        let (scale, inv_tau) = (F::one() / cast(2.0 * batch as f64), cast::<F>(1.0 / self.temperature));
        let (logits, (u_hat, v_hat)) = (workspace.logits.view(), workspace.hat.view().split_at(Axis(0), batch));
        let (sums, column_lse) = (workspace.row_sum.as_slice().expect("contiguous"), workspace.column_lse.as_slice().expect("contiguous"));
        let (grad_u_hat, grad_v_hat) = workspace.grad_hat.view_mut().split_at(Axis(0), batch);
        for_row_blocks((workspace.grad_logits.view_mut(), grad_u_hat), &|first, (mut grad, mut grad_u)| {
            for (r, mut grad_row) in grad.rows_mut().into_iter().enumerate() {
                let i = first + r;
                let grad_row = grad_row.as_slice_mut().expect("standard layout");
                softmax_pair_row(grad_row, scale / sums[i], logits.row(i).to_slice().expect("standard layout"), column_lse, scale);
                grad_row[i] -= scale + scale;
            }
            general_mat_mul(inv_tau, &grad, &v_hat, F::zero(), &mut grad_u);
        });
        let grad_logits = workspace.grad_logits.view();
        for_row_blocks(grad_v_hat, &|first, mut grad_v| {
            let columns = grad_logits.slice_axis(Axis(1), Slice::from(first..first + grad_v.nrows()));
            general_mat_mul(inv_tau, &columns.t(), &u_hat, F::zero(), &mut grad_v);
        });
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
        self.backward(workspace);
        workspace.backward_views(self.similarity, grad_u, grad_v);
        Ok(loss)
    }
}
