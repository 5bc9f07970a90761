//! Reusable buffers of the contrastive losses, so a training loop with a
//! fixed batch size does not allocate after its first step.
//!
//! Both views are stacked as `Z = [u; v]` (`2B x m`); `Z_hat` holds their
//! normalised rows, the logits matrix is `B x B` (`InfoNce`) or `2B x 2B`
//! (`NtXent`), and `dL/dZ_hat` is mapped back to `dL/du`, `dL/dv` through the
//! normalisation (see [`crate::similarity`]).

use ndarray::{Array1, Array2, ArrayView2, Axis, NdFloat};

use crate::Similarity;

/// Buffers of one contrastive loss evaluation; reallocated only when `B` or `m` changes.
#[derive(Debug, Clone, PartialEq)]
pub struct LossWorkspace<F> {
    /// `Z_hat = [u_hat; v_hat]`, `2B x m`.
    pub(crate) hat: Array2<F>,
    /// `||z_r||` per row of `Z` (cosine only), `2B`.
    pub(crate) norms: Array1<F>,
    /// Logits `S`, `n x n`.
    pub(crate) logits: Array2<F>,
    /// `dL/dS`, `n x n`.
    pub(crate) grad_logits: Array2<F>,
    /// Second `n x n` buffer (`S^T` for the column pass of `InfoNce`).
    pub(crate) scratch: Array2<F>,
    /// `dL/dZ_hat`, `2B x m`.
    pub(crate) grad_hat: Array2<F>,
}

impl<F: NdFloat> Default for LossWorkspace<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: NdFloat> LossWorkspace<F> {
    /// An empty workspace; buffers are sized by the first evaluation.
    #[must_use]
    pub fn new() -> Self {
        Self {
            hat: Array2::zeros((0, 0)),
            norms: Array1::zeros(0),
            logits: Array2::zeros((0, 0)),
            grad_logits: Array2::zeros((0, 0)),
            scratch: Array2::zeros((0, 0)),
            grad_hat: Array2::zeros((0, 0)),
        }
    }

    /// The logits `S` of the last evaluation: `S_ij = sim(u_i, v_j) / tau` (`B x B`) after
    /// `InfoNce`, `sim(z_a, z_b) / tau` over `z = [u; v]` (`2B x 2B`) after `NtXent`, whose
    /// excluded diagonal is set to `-inf`.
    #[must_use]
    pub fn logits(&self) -> ArrayView2<'_, F> {
        self.logits.view()
    }

    /// Copies `[u; v]` into `hat` and normalises its rows.
    pub(crate) fn load(&mut self, similarity: Similarity, u: ArrayView2<'_, F>, v: ArrayView2<'_, F>) {
        let (batch, m) = u.dim();
        if self.hat.dim() != (2 * batch, m) {
            self.hat = Array2::zeros((2 * batch, m));
            self.grad_hat = Array2::zeros((2 * batch, m));
            self.norms = Array1::zeros(2 * batch);
        }
        let (mut u_hat, mut v_hat) = self.hat.view_mut().split_at(Axis(0), batch);
        u_hat.assign(&u);
        v_hat.assign(&v);
        crate::similarity::normalize_rows(similarity, self.hat.view_mut(), self.norms.view_mut());
    }

    /// Sizes the logit buffers to `n x n`.
    pub(crate) fn ensure_logits(&mut self, n: usize) {
        if self.logits.dim() != (n, n) {
            self.logits = Array2::zeros((n, n));
            self.grad_logits = Array2::zeros((n, n));
            self.scratch = Array2::zeros((n, n));
        }
    }

    /// Maps `grad_hat = dL/dZ_hat` to `dL/du` (first `B` rows) and `dL/dv` (last `B` rows).
    pub(crate) fn backward_views(&self, similarity: Similarity, grad_u: &mut Array2<F>, grad_v: &mut Array2<F>) {
        let (two_batch, m) = self.hat.dim();
        let batch = two_batch / 2;
        for grad in [&mut *grad_u, &mut *grad_v] {
            if grad.dim() != (batch, m) {
                *grad = Array2::zeros((batch, m));
            }
        }
        let rows = grad_u.rows_mut().into_iter().chain(grad_v.rows_mut());
        for (r, grad) in rows.enumerate() {
            similarity.backward_row(self.hat.row(r), self.norms[r], self.grad_hat.row(r), grad);
        }
    }
}
