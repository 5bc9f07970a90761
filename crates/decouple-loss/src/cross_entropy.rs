//! Log-sum-exp and softmax-gradient passes over contiguous rows, shared by
//! `InfoNce` and `NtXent`.
//!
//! A row of logits `s` with target `t` has the cross-entropy
//! `l = lse(s) - s_t`, `lse(s) = max_j s_j + ln sum_j exp(s_j - max_j s_j)`,
//! and `dl/ds_j = exp(s_j - lse(s)) - 1[j = t]`. The row pass keeps
//! `exp(s_j - max s)` and its sum; with the log-sum-exp `c_j` of every column
//! (`InfoNce`) or of every row (`NtXent`, whose `S` is symmetric), the
//! symmetrised gradient is one elementwise pass over the logits:
//! `exp(S_ij - max_i) / sum_i + exp(S_ij - c_j)`, with no transposed copy of `S`. An entry
//! equal to `-inf` (the excluded self-similarity of `NtXent`) gets
//! probability 0 and gradient 0. The loops keep eight independent partial
//! results so that the compiler vectorises them.

use std::any::TypeId;

use ndarray::{ArrayView2, NdFloat};

/// Independent accumulators per reduction (one AVX register of `f32`).
const LANES: usize = 8;

/// `exp(x)`, through the vectorisable [`exp_f32`] for `f32`.
#[inline]
fn exp_of<F: NdFloat>(x: F) -> F {
    if TypeId::of::<F>() == TypeId::of::<f32>() {
        // For F = f32 these conversions are the identity and compile away.
        F::from(exp_f32(x.to_f32().unwrap_or(f32::NAN))).unwrap_or_else(F::nan)
    } else {
        x.exp()
    }
}

/// `max_j s_j` (`-inf` for an empty slice; NaN entries are skipped, and show up in the sum instead).
fn max_of<F: NdFloat>(values: &[F]) -> F {
    let mut lanes = [F::neg_infinity(); LANES];
    let chunks = values.chunks_exact(LANES);
    let mut max = chunks.remainder().iter().fold(F::neg_infinity(), |max, &s| max.max(s));
    for chunk in chunks {
        for (lane, &s) in lanes.iter_mut().zip(chunk) {
            *lane = lane.max(s);
        }
    }
    for lane in lanes {
        max = max.max(lane);
    }
    max
}

/// `exps_j = exp(s_j - max_k s_k)`; returns `(lse(s), sum_j exps_j)`, with
/// `lse(s) = max_k s_k + ln sum_j exp(s_j - max_k s_k)`.
pub(crate) fn exp_row_into<F: NdFloat>(row: &[F], exps: &mut [F]) -> (F, F) {
    let max = max_of(row);
    let mut lanes = [F::zero(); LANES];
    let (mut exp_chunks, mut row_chunks) = (exps.chunks_exact_mut(LANES), row.chunks_exact(LANES));
    for (exp_chunk, row_chunk) in (&mut exp_chunks).zip(&mut row_chunks) {
        for ((lane, e), &s) in lanes.iter_mut().zip(exp_chunk).zip(row_chunk) {
            *e = exp_of(s - max);
            *lane += *e;
        }
    }
    let mut sum = F::zero();
    for (e, &s) in exp_chunks.into_remainder().iter_mut().zip(row_chunks.remainder()) {
        *e = exp_of(s - max);
        sum += *e;
    }
    for lane in lanes {
        sum += lane;
    }
    (max + sum.ln(), sum)
}

/// The log-sum-exp of every column of a `logits` block (rows contiguous) into
/// `lse` (`max` is scratch of the same length), one row at a time.
pub(crate) fn column_log_sum_exp<F: NdFloat>(logits: ArrayView2<'_, F>, max: &mut [F], lse: &mut [F]) {
    max.fill(F::neg_infinity());
    for row in logits.rows() {
        let row = row.to_slice().expect("rows are contiguous");
        for (max, &s) in max.iter_mut().zip(row) {
            *max = max.max(s);
        }
    }
    lse.fill(F::zero());
    for row in logits.rows() {
        let row = row.to_slice().expect("rows are contiguous");
        for ((sum, &max), &s) in lse.iter_mut().zip(&*max).zip(row) {
            *sum += exp_of(s - max);
        }
    }
    for (lse, &max) in lse.iter_mut().zip(&*max) {
        *lse = max + lse.ln();
    }
}

/// One row of the gradient of the row-softmax plus the column-softmax
/// cross-entropies (without the `-1` of the targets): `grad` holds
/// `exp(s_j - max)` from [`exp_row_into`] and becomes
/// `grad_j row_factor + scale exp(s_j - column_lse_j)`, where
/// `row_factor = scale / sum_j exp(s_j - max)`.
pub(crate) fn softmax_pair_row<F: NdFloat>(grad: &mut [F], row_factor: F, logits: &[F], column_lse: &[F], scale: F) {
    for ((g, &s), &column) in grad.iter_mut().zip(logits).zip(column_lse) {
        *g = *g * row_factor + scale * exp_of(s - column);
    }
}

/// `exp(x)` in `f32` without branches or calls, so that loops over it vectorise
/// (Cephes' `expf`: `x = n ln 2 + r`, `|r| <= ln(2)/2`, a degree-7 polynomial
/// for `exp(r)` and the exponent `n` written into the float's bits).
///
/// Relative error below `2^-22` (about 2 ulp) for `x` in `[-87, 88]`; `0` below
/// `-87` (`exp(-87) < 2^-125`, so also `exp(-inf) = 0`), `+inf` above `88`,
/// and NaN for NaN.
#[inline]
pub(crate) fn exp_f32(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split in a part exact in a few bits and a correction.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5 * 2^23: adding and subtracting it rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    // `clamp` keeps NaN (as NaN).
    let clamped = x.clamp(-87.0, 88.0);
    // `shifted = ROUND + n` exactly, so its low bits are the integer `n`
    // (no float-to-int cast, whose saturation stops vectorisation).
    let shifted = clamped * LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = (clamped - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let exp_r = p * (r * r) + r + 1.0;
    // 2^n = the float with biased exponent n + 127 (n is in [-126, 127]).
    let exponent = shifted.to_bits().wrapping_sub(ROUND.to_bits()).wrapping_add(127);
    let value = exp_r * f32::from_bits(exponent << 23);
    let value = if x > 88.0 { f32::INFINITY } else { value };
    // NaN fails both comparisons and stays NaN (`exp_r` is NaN).
    if x < -87.0 { 0.0 } else { value }
}

#[cfg(test)]
mod tests {
    use super::exp_f32;

    #[test]
    fn fast_exp_is_within_two_ulp_of_exp() {
        let mut worst = 0.0f64;
        for k in -870_000..=880_000 {
            let x = k as f32 * 1e-4;
            let exact = f64::from(x).exp();
            let relative = ((f64::from(exp_f32(x)) - exact) / exact).abs();
            worst = worst.max(relative);
        }
        assert!(worst < 2.4e-7, "max relative error {worst}");
    }

    #[test]
    fn fast_exp_edge_cases() {
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_f32(-100.0), 0.0);
        assert_eq!(exp_f32(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp_f32(100.0), f32::INFINITY);
        assert!(exp_f32(f32::NAN).is_nan());
    }
}
