//! Symmetric InfoNCE with cross-view negatives (docs/model.md §4).
//!
//! `S_ij = sim(u_i, v_j) / tau` (`B x B`),
//! `L = (1/2B) sum_i [ -log softmax_j(S_i.)_i - log softmax_j(S_.i)_i ]`.
//! With `P^row = softmax` along rows and `P^col` along columns,
//! `dL/dS = (P^row + P^col - 2 I) / 2B`, `dL/du_hat = dL/dS v_hat / tau`,
//! `dL/dv_hat = (dL/dS)^T u_hat / tau`.

use ndarray::{Array2, ArrayView2, NdFloat};
use serde::{Deserialize, Serialize};

use crate::contrastive::{check_temperature, check_views};
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
    /// Cosine similarity, `tau = 0.2` (docs/model.md §7).
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
        workspace.forward(cast(1.0 / self.temperature), LogitPairs::CrossView);
        let logits = &workspace.logits;
        let terms = workspace.row_lse.iter().zip(&workspace.column_lse).enumerate();
        let loss = terms.fold(F::zero(), |loss, (i, (&row, &column))| loss + row + column - (logits[(i, i)] + logits[(i, i)]));
        Ok(loss / cast(2.0 * batch as f64))
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
        workspace.backward(cast(1.0 / self.temperature), LogitPairs::CrossView, self.similarity, grad_u, grad_v);
        Ok(loss)
    }
}
