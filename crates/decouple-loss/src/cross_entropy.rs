//! Softmax cross-entropy of one row of logits, shared by `InfoNce` and `NtXent`.
//!
//! `l = -log( exp(s_t) / sum_j exp(s_j) ) = lse(s) - s_t`, with the
//! log-sum-exp stabilised by subtracting `max_j s_j`; its gradient is
//! `dl/ds_j = softmax(s)_j - 1[j = t]`. An entry equal to `-inf` (the
//! excluded self-similarity of `NtXent`) has probability 0 and gradient 0.

use ndarray::{ArrayViewMut1, NdFloat};

/// Replaces the logits `row` by the gradient `softmax(row) - e_target` and
/// returns `-log softmax(row)_target`. Contiguous rows take ndarray's fast paths.
pub(crate) fn cross_entropy_in_place<F: NdFloat>(mut row: ArrayViewMut1<'_, F>, target: usize) -> F {
    let max = row.fold(F::neg_infinity(), |max, &s| max.max(s));
    let target_logit = row[target];
    row.mapv_inplace(|s| (s - max).exp());
    let sum = row.sum();
    let inv = F::one() / sum;
    row.mapv_inplace(|p| p * inv);
    row[target] -= F::one();
    max + sum.ln() - target_logit
}
