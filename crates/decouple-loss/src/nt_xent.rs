//! SimCLR's NT-Xent over the `2B` views (docs/model.md §4).
//!
//! `z = [u; v]` (`2B x m`), `S_ab = sim(z_a, z_b) / tau`, partner `p(a) = a + B mod 2B`:
//! `L = (1/2B) sum_a -log( exp(S_a,p(a)) / sum_{k != a} exp(S_ak) )`.
//! With `P` the row softmax over `k != a` (`P_aa = 0`) and `Y` the partner
//! indicator, `dL/dS = (P - Y) / 2B` and, `S` being symmetric in `z_hat`,
//! `dL/dz_hat = (dL/dS + dL/dS^T) z_hat / tau`. By the same symmetry
//! `P_ba = exp(S_ab - lse_b)`, so `dL/dS + dL/dS^T` is one elementwise pass,
//! `(exp(S_ab - lse_a) + exp(S_ab - lse_b) - 2 Y_ab) / 2B`, with no transpose.

use ndarray::{Array2, ArrayView2, NdFloat};
use serde::{Deserialize, Serialize};

use crate::contrastive::{check_temperature, check_views};
use crate::similarity::cast;
use crate::workspace::LogitPairs;
use crate::{ContrastiveLoss, LossError, LossWorkspace, Similarity};

/// NT-Xent: `L = (1/2B) sum_a -log( exp(S_a,p(a)) / sum_{k != a} exp(S_ak) )` over `z = [u; v]`, `S = sim / tau`.
///
/// `L >= 0`, and `L = ln(2B - 1)` when all representations are equal.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NtXent {
    /// Dot product or cosine.
    pub similarity: Similarity,
    /// Temperature `tau`, finite and `> 0`.
    pub temperature: f64,
}

impl Default for NtXent {
    /// Cosine similarity, `tau = 0.2` (as [`crate::InfoNce`]).
    fn default() -> Self {
        Self { similarity: Similarity::Cosine, temperature: 0.2 }
    }
}

impl NtXent {
    /// Logits, their row log-sum-exps and `exp(S_ab - max_b S_ab)` into `workspace`; the loss value.
    fn forward<F: NdFloat>(&self, u: ArrayView2<'_, F>, v: ArrayView2<'_, F>, workspace: &mut LossWorkspace<F>) -> Result<F, LossError> {
        self.check()?;
        check_views(u, v)?;
        let n_views = 2 * u.nrows();
        workspace.load(self.similarity, u, v);
        workspace.forward(cast(1.0 / self.temperature), LogitPairs::AllViews);
        let logits = &workspace.logits;
        let positive = |a| logits[(a, LogitPairs::AllViews.target(a, n_views))];
        let loss = workspace.row_lse.iter().enumerate().fold(F::zero(), |loss, (a, &lse)| loss + lse - positive(a));
        Ok(loss / cast(n_views as f64))
    }
}

impl ContrastiveLoss for NtXent {
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
        workspace.backward(cast(1.0 / self.temperature), LogitPairs::AllViews, self.similarity, grad_u, grad_v);
        Ok(loss)
    }
}
