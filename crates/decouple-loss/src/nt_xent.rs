//! SimCLR's NT-Xent over the `2B` views (SPEC section 4).
//!
//! `z = [u; v]` (`2B x m`), `S_ab = sim(z_a, z_b) / tau`, partner `p(a) = a + B mod 2B`:
//! `L = (1/2B) sum_a -log( exp(S_a,p(a)) / sum_{k != a} exp(S_ak) )`.
//! With `P` the row softmax over `k != a` (`P_aa = 0`) and `Y` the partner
//! indicator, `dL/dS = (P - Y) / 2B` and, `S` being symmetric in `z_hat`,
//! `dL/dz_hat = (dL/dS + dL/dS^T) z_hat / tau`.

use ndarray::{Array2, ArrayView2, NdFloat, linalg::general_mat_mul};
use serde::{Deserialize, Serialize};

use crate::contrastive::{check_temperature, check_views};
use crate::cross_entropy::cross_entropy_in_place;
use crate::similarity::cast;
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
    /// Logits, loss value and `dL/dS` into `workspace`.
    fn forward<F: NdFloat>(&self, u: ArrayView2<'_, F>, v: ArrayView2<'_, F>, workspace: &mut LossWorkspace<F>) -> Result<F, LossError> {
        self.check()?;
        check_views(u, v)?;
        let batch = u.nrows();
        let n_views = 2 * batch;
        workspace.load(self.similarity, u, v);
        workspace.ensure_logits(n_views);
        let hat = &workspace.hat;
        general_mat_mul(cast(1.0 / self.temperature), hat, &hat.t(), F::zero(), &mut workspace.logits);

        // The self-similarity S_aa is excluded: -inf gives it probability 0.
        workspace.logits.diag_mut().fill(F::neg_infinity());
        workspace.grad_logits.assign(&workspace.logits);
        let mut loss = F::zero();
        for a in 0..n_views {
            loss += cross_entropy_in_place(workspace.grad_logits.row_mut(a), (a + batch) % n_views);
        }
        let scale = F::one() / cast(n_views as f64);
        workspace.grad_logits.mapv_inplace(|g| g * scale);
        Ok(loss * scale)
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
        let inv_tau = cast(1.0 / self.temperature);
        // One product with the symmetrised dL/dS + dL/dS^T instead of two.
        workspace.scratch.assign(&workspace.grad_logits);
        workspace.scratch += &workspace.grad_logits.t();
        general_mat_mul(inv_tau, &workspace.scratch, &workspace.hat, F::zero(), &mut workspace.grad_hat);
        workspace.backward_views(self.similarity, grad_u, grad_v);
        Ok(loss)
    }
}
