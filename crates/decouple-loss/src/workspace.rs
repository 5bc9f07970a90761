//! Reusable buffers of the contrastive losses, so a training loop with a
//! fixed batch size does not allocate after its first step.
//!
//! Both views are stacked as `Z = [u; v]` (`2B x m`); `Z_hat` holds their
//! normalised rows, the logits matrix is `B x B` (`InfoNce`) or `2B x 2B`
//! (`NtXent`), and `dL/dZ_hat` is mapped back to `dL/du`, `dL/dv` through the
//! normalisation (see [`crate::similarity`]).

use ndarray::{Array1, Array2, ArrayView2, Axis, NdFloat, Slice, linalg::general_mat_mul};

use crate::blocks::for_row_blocks;
use crate::cross_entropy::{column_log_sum_exp, exp_row_into, softmax_pair_row};

use crate::Similarity;

/// Which similarities the logits hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogitPairs {
    /// `S_ij = <u_hat_i, v_hat_j> / tau`, `B x B` (`InfoNce`).
    CrossView,
    /// `S_ab = <z_hat_a, z_hat_b> / tau` over `z = [u; v]`, `2B x 2B`, with `S_aa = -inf` (`NtXent`).
    AllViews,
}

impl LogitPairs {
    /// The column of row `i`'s positive among `n` rows: `i` (`CrossView`) or the partner `p(i) = i + B mod 2B` (`AllViews`).
    pub(crate) fn target(self, i: usize, n: usize) -> usize {
        match self {
            Self::CrossView => i,
            Self::AllViews => (i + n / 2) % n,
        }
    }
}

/// Buffers of one contrastive loss evaluation; reallocated only when `B` or `m` changes.
#[derive(Debug, Clone, PartialEq)]
pub struct LossWorkspace<F> {
    /// `Z_hat = [u_hat; v_hat]`, `2B x m`.
    pub(crate) hat: Array2<F>,
    /// `||z_r||` per row of `Z` (cosine only), `2B`.
    pub(crate) norms: Array1<F>,
    /// Logits `S`, `n x n`.
    pub(crate) logits: Array2<F>,
    /// `exp(S_ij - max_j S_ij)` after the forward pass, then `dL/dS` (`InfoNce`)
    /// or `dL/dS + dL/dS^T` (`NtXent`), `n x n`.
    pub(crate) grad_logits: Array2<F>,
    /// Log-sum-exp of every row of `S`, `n`.
    pub(crate) row_lse: Array1<F>,
    /// `sum_j exp(S_ij - max_j S_ij)` of every row, `n`.
    pub(crate) row_sum: Array1<F>,
    /// Log-sum-exp of every column of `S` (`InfoNce`), `n`.
    pub(crate) column_lse: Array1<F>,
    /// Maximum of every column of `S` (`InfoNce`), `n`.
    pub(crate) column_max: Array1<F>,
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
            row_lse: Array1::zeros(0),
            row_sum: Array1::zeros(0),
            column_lse: Array1::zeros(0),
            column_max: Array1::zeros(0),
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

    /// The logits of `pairs` (`inv_tau = 1 / tau`) after [`LossWorkspace::load`], and per row
    /// `lse`, `sum_j exp(S_ij - max_j S_ij)` and `exp(S_ij - max_j S_ij)` (into `grad_logits`);
    /// for `CrossView` also the log-sum-exp of every column. In row (and column) blocks.
    pub(crate) fn forward(&mut self, inv_tau: F, pairs: LogitPairs) {
        let n = match pairs {
            LogitPairs::CrossView => self.hat.nrows() / 2,
            LogitPairs::AllViews => self.hat.nrows(),
        };
        self.ensure_logits(n);
        let (left, right) = logit_factors(&self.hat, pairs, n);
        let row_stats = (self.row_lse.as_slice_mut().expect("contiguous"), self.row_sum.as_slice_mut().expect("contiguous"));
        let outputs = (self.logits.view_mut(), (self.grad_logits.view_mut(), row_stats));
        for_row_blocks(outputs, &|first, (mut logits, (mut exps, (lse, sum)))| {
            let rows = left.slice_axis(Axis(0), Slice::from(first..first + logits.nrows()));
            general_mat_mul(inv_tau, &rows, &right.t(), F::zero(), &mut logits);
            let rows = logits.rows_mut().into_iter().zip(exps.rows_mut()).zip(lse.iter_mut().zip(sum));
            for (r, ((mut row, mut exp_row), (lse, sum))) in rows.enumerate() {
                if pairs == LogitPairs::AllViews {
                    // The self-similarity S_aa is excluded: -inf gives it probability 0.
                    row[first + r] = F::neg_infinity();
                }
                let row = row.into_slice().expect("standard layout");
                (*lse, *sum) = exp_row_into(row, exp_row.as_slice_mut().expect("standard layout"));
            }
        });
        if pairs == LogitPairs::CrossView {
            let logits = self.logits.view();
            let column_stats = (self.column_max.as_slice_mut().expect("contiguous"), self.column_lse.as_slice_mut().expect("contiguous"));
            for_row_blocks(column_stats, &|first, (max, lse)| {
                column_log_sum_exp(logits.slice_axis(Axis(1), Slice::from(first..first + max.len())), max, lse);
            });
        }
    }

    /// After [`LossWorkspace::forward`]: the symmetrised softmax gradient into `grad_logits`,
    /// `(P^row + P^col - 2 I) / 2B` (`CrossView`) or `(P + P^T - 2 Y) / 2B` (`AllViews`, where
    /// `P^T_ab = exp(S_ab - lse_b)` as `S` is symmetric), then `dL/dZ_hat` (`G v_hat / tau` and
    /// `G^T u_hat / tau`, or `G Z_hat / tau`) and through the normalisation `dL/du`, `dL/dv`.
    pub(crate) fn backward(
        &mut self,
        inv_tau: F,
        pairs: LogitPairs,
        similarity: Similarity,
        grad_u: &mut Array2<F>,
        grad_v: &mut Array2<F>,
    ) {
        let n = self.logits.nrows();
        let scale = F::one() / F::from(self.hat.nrows()).expect("a row count is a float");
        let (left, right) = logit_factors(&self.hat, pairs, n);
        let column_lse = match pairs {
            LogitPairs::CrossView => self.column_lse.as_slice().expect("contiguous"),
            LogitPairs::AllViews => self.row_lse.as_slice().expect("contiguous"),
        };
        let (logits, sums) = (self.logits.view(), self.row_sum.as_slice().expect("contiguous"));
        let (grad_rows, grad_columns) = self.grad_hat.view_mut().split_at(Axis(0), n);
        for_row_blocks((self.grad_logits.view_mut(), grad_rows), &|first, (mut grad, mut grad_rows)| {
            for (r, mut grad_row) in grad.rows_mut().into_iter().enumerate() {
                let i = first + r;
                let grad_row = grad_row.as_slice_mut().expect("standard layout");
                softmax_pair_row(grad_row, scale / sums[i], logits.row(i).to_slice().expect("standard layout"), column_lse, scale);
                grad_row[pairs.target(i, n)] -= scale + scale;
            }
            general_mat_mul(inv_tau, &grad, &right, F::zero(), &mut grad_rows);
        });
        if pairs == LogitPairs::CrossView {
            let grad_logits = self.grad_logits.view();
            for_row_blocks(grad_columns, &|first, mut grad_v| {
                let columns = grad_logits.slice_axis(Axis(1), Slice::from(first..first + grad_v.nrows()));
                general_mat_mul(inv_tau, &columns.t(), &left, F::zero(), &mut grad_v);
            });
        }
        self.backward_views(similarity, grad_u, grad_v);
    }

    /// Sizes the logit buffers to `n x n`.
    fn ensure_logits(&mut self, n: usize) {
        if self.logits.dim() != (n, n) {
            self.logits = Array2::zeros((n, n));
            self.grad_logits = Array2::zeros((n, n));
            self.row_lse = Array1::zeros(n);
            self.row_sum = Array1::zeros(n);
            self.column_lse = Array1::zeros(n);
            self.column_max = Array1::zeros(n);
        }
    }

    /// Maps `grad_hat = dL/dZ_hat` to `dL/du` (first `B` rows) and `dL/dv` (last `B` rows).
    fn backward_views(&self, similarity: Similarity, grad_u: &mut Array2<F>, grad_v: &mut Array2<F>) {
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

/// The two factors of the logits, `S = left right^T / tau`: `(u_hat, v_hat)` or `(Z_hat, Z_hat)` (`n` rows of `S`).
fn logit_factors<F>(hat: &Array2<F>, pairs: LogitPairs, n: usize) -> (ArrayView2<'_, F>, ArrayView2<'_, F>) {
    match pairs {
        LogitPairs::CrossView => hat.view().split_at(Axis(0), n),
        LogitPairs::AllViews => (hat.view(), hat.view()),
    }
}
