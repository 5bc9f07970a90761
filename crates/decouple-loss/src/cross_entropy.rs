//! Softmax cross-entropy of one row of logits, shared by `InfoNce` and `NtXent`.
//!
//! `l = -log( exp(s_t) / sum_j exp(s_j) ) = lse(s) - s_t`, with the
//! log-sum-exp stabilised by subtracting `max_j s_j`; its gradient is
//! `dl/ds_j = softmax(s)_j - 1[j = t]`. An entry equal to `-inf` (the
//! excluded self-similarity of `NtXent`) has probability 0 and gradient 0.

use std::any::TypeId;

use ndarray::{ArrayViewMut1, NdFloat};

/// Replaces the logits `row` by the gradient `softmax(row) - e_target` and
/// returns `-log softmax(row)_target`. Contiguous rows take ndarray's fast paths.
pub(crate) fn cross_entropy_in_place<F: NdFloat>(mut row: ArrayViewMut1<'_, F>, target: usize) -> F {
    let max = row.fold(F::neg_infinity(), |max, &s| max.max(s));
    let target_logit = row[target];
    exp_shifted_in_place(row.view_mut(), max);
    let sum = row.sum();
    let inv = F::one() / sum;
    row.mapv_inplace(|p| p * inv);
    row[target] -= F::one();
    max + sum.ln() - target_logit
}

/// `s <- exp(s - shift)` for every entry; `f32` rows use the vectorisable [`exp_f32`].
fn exp_shifted_in_place<F: NdFloat>(mut row: ArrayViewMut1<'_, F>, shift: F) {
    if TypeId::of::<F>() == TypeId::of::<f32>() {
        if let Some(values) = row.as_slice_mut() {
            // For F = f32 these conversions are the identity and compile away.
            let shift = shift.to_f32().unwrap_or(f32::NAN);
            for value in values {
                let s = value.to_f32().unwrap_or(f32::NAN);
                *value = F::from(exp_f32(s - shift)).unwrap_or_else(F::nan);
            }
            return;
        }
    }
    row.mapv_inplace(|s| (s - shift).exp());
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
    let n = (clamped * LOG2_E + ROUND) - ROUND;
    let r = (clamped - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let exp_r = p * (r * r) + r + 1.0;
    let scale = f32::from_bits(((n as i32 + 127) as u32) << 23);
    let value = exp_r * scale;
    if x > 88.0 {
        f32::INFINITY
    } else if x < -87.0 {
        0.0
    } else {
        // NaN falls through every comparison and stays NaN here.
        value
    }
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
