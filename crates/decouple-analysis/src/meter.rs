//! The decoupling meter: for a direction `w`, two views `x+`, `x++` of the
//! same samples (any augmentation, any data) and a threshold `b`, the
//! positive-pair correlation of the projections and of their soft-thresholded
//! versions (docs/model.md §8),
//! `rho(w) = sum_i a_i c_i / sqrt(sum_i a_i^2 sum_i c_i^2)`, `a_i = <w, x+_i>`,
//! `c_i = <w, x++_i>` (uncentred, as §2: the data are centred), and
//! `rho_b(w)` the same with `S_b(a_i)`, `S_b(c_i)`, `S_b(t) = sign(t) max(|t| - b, 0)`;
//! each with a delete-a-block jackknife standard error over `JACKKNIFE_BLOCKS`
//! contiguous blocks of pairs (valid for independent pairs, whatever their distribution).

use ndarray::{ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::AnalysisError;
use crate::error::{check_finite_f32, check_nonempty_2d};

/// Blocks of the jackknife standard error.
pub const JACKKNIFE_BLOCKS: usize = 20;

/// A correlation and its standard error (`NaN` when a side is identically 0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairCorrelation {
    /// `sum a c / sqrt(sum a^2 sum c^2)`.
    pub value: f64,
    /// Jackknife standard error.
    pub std_error: f64,
}

/// The meter of one direction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DirectionMeter {
    /// Correlation of `<w, x+>` and `<w, x++>`.
    pub raw: PairCorrelation,
    /// Correlation of `S_b(<w, x+>)` and `S_b(<w, x++>)`.
    pub thresholded: PairCorrelation,
    /// The threshold `b`.
    pub threshold: f64,
    /// Fraction of the `2n` thresholded values that are nonzero.
    pub active_fraction: f64,
}

/// `S_b(t) = sign(t) max(|t| - b, 0)`.
#[must_use]
pub fn soft_threshold(t: f64, b: f64) -> f64 {
    t.signum() * (t.abs() - b).max(0.0)
}

/// The correlation of paired values and its jackknife standard error over `blocks` contiguous blocks.
#[must_use]
pub fn pair_correlation(a: &[f64], c: &[f64], blocks: usize) -> PairCorrelation {
    let n = a.len().min(c.len());
    let blocks = blocks.clamp(2, n.max(2));
    // Per-block sums of a c, a^2, c^2.
    let mut sums = vec![[0.0f64; 3]; blocks];
    for i in 0..n {
        let block = i * blocks / n.max(1);
        sums[block][0] += a[i] * c[i];
        sums[block][1] += a[i] * a[i];
        sums[block][2] += c[i] * c[i];
    }
    let total = sums.iter().fold([0.0; 3], |t, s| [t[0] + s[0], t[1] + s[1], t[2] + s[2]]);
    let rho = |s: [f64; 3]| s[0] / (s[1] * s[2]).sqrt();
    let value = rho(total);
    let leave_out: Vec<f64> = sums.iter().map(|s| rho([total[0] - s[0], total[1] - s[1], total[2] - s[2]])).collect();
    let k = blocks as f64;
    let mean = leave_out.iter().sum::<f64>() / k;
    let variance = (k - 1.0) / k * leave_out.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>();
    PairCorrelation { value, std_error: variance.sqrt() }
}

/// The meter of every row of `directions` (`k x d1`) on the views `first`,
/// `second` (`n x d1`, row `i` of each a view of sample `i`), with threshold
/// `thresholds[j]` for direction `j`.
///
/// # Errors
/// Empty or non-finite inputs; views of different shapes or another width
/// than the directions; fewer than `2 * JACKKNIFE_BLOCKS` pairs; a threshold
/// count other than `k`, or a negative or non-finite threshold.
pub fn decoupling_meter(
    directions: ArrayView2<'_, f32>,
    thresholds: &[f64],
    first: ArrayView2<'_, f32>,
    second: ArrayView2<'_, f32>,
) -> Result<Vec<DirectionMeter>, AnalysisError> {
    check_nonempty_2d("directions", &directions)?;
    check_nonempty_2d("first", &first)?;
    check_finite_f32("directions", &directions)?;
    check_finite_f32("first", &first)?;
    check_finite_f32("second", &second)?;
    if first.dim() != second.dim() || first.ncols() != directions.ncols() {
        return Err(AnalysisError::ShapeMismatch {
            left: "first",
            left_shape: first.shape().to_vec(),
            right: "second",
            right_shape: second.shape().to_vec(),
            requirement: "both views n x d1, d1 the width of the directions",
        });
    }
    if thresholds.len() != directions.nrows() {
        return Err(AnalysisError::ShapeMismatch {
            left: "thresholds",
            left_shape: vec![thresholds.len()],
            right: "directions",
            right_shape: directions.shape().to_vec(),
            requirement: "one threshold per direction",
        });
    }
    if let Some(&b) = thresholds.iter().find(|b| !(b.is_finite() && **b >= 0.0)) {
        return Err(AnalysisError::InvalidSolverParameter { field: "thresholds", value: b, allowed: "finite and >= 0" });
    }
    if first.nrows() < 2 * JACKKNIFE_BLOCKS {
        return Err(AnalysisError::TooFewSamples { what: "first", found: first.nrows(), needed: 2 * JACKKNIFE_BLOCKS });
    }
    let project = |view: &ArrayView2<'_, f32>| view.dot(&directions.t()).mapv(f64::from);
    let (a, c) = (project(&first), project(&second));
    Ok(directions.rows().into_iter().enumerate().map(|(j, _)| meter_of(a.column(j), c.column(j), thresholds[j])).collect())
}

fn meter_of(a: ArrayView1<'_, f64>, c: ArrayView1<'_, f64>, threshold: f64) -> DirectionMeter {
    let (a, c): (Vec<f64>, Vec<f64>) = (a.to_vec(), c.to_vec());
    let (sa, sc): (Vec<f64>, Vec<f64>) =
        (a.iter().map(|&t| soft_threshold(t, threshold)).collect(), c.iter().map(|&t| soft_threshold(t, threshold)).collect());
    let active = sa.iter().chain(&sc).filter(|v| **v != 0.0).count();
    DirectionMeter {
        raw: pair_correlation(&a, &c, JACKKNIFE_BLOCKS),
        thresholded: pair_correlation(&sa, &sc, JACKKNIFE_BLOCKS),
        threshold,
        active_fraction: active as f64 / (2 * a.len()) as f64,
    }
}
