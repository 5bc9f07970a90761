//! Localisation of neurons and heavy tails of their responses, measurable
//! without a dictionary: the participation ratio `PR(w) = (sum_k w_k^2)^2 / sum_k w_k^4`
//! (in `[1, d1]`: 1 for a single coordinate, `d1` for a flat vector), the
//! share of `||w||^2` in the `k` largest coordinates, and the excess kurtosis
//! `E[(u - Eu)^4] / Var(u)^2 - 3` of a response `u = <w, x>` over samples (0 for a Gaussian).

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::AnalysisError;
use crate::error::{check_finite_f32, check_nonempty_2d};

/// Localisation of every neuron (row of the weights) and of the responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Localisation {
    /// `PR(w_i)` per neuron.
    pub participation_ratio: Vec<f64>,
    /// The share of `||w_i||^2` in its `top_k` largest coordinates, per neuron.
    pub top_k_share: Vec<f64>,
    /// The `k` of `top_k_share`.
    pub top_k: usize,
}

/// `(sum w^2)^2 / sum w^4` (0 for the zero vector).
#[must_use]
pub fn participation_ratio(w: &[f64]) -> f64 {
    let (s2, s4) = w.iter().fold((0.0, 0.0), |(s2, s4), v| (s2 + v * v, s4 + v * v * v * v));
    if s4 > 0.0 { s2 * s2 / s4 } else { 0.0 }
}

/// The share of `sum w^2` in the `k` largest `w_k^2` (0 for the zero vector).
#[must_use]
pub fn top_k_energy_share(w: &[f64], k: usize) -> f64 {
    let mut energy: Vec<f64> = w.iter().map(|v| v * v).collect();
    energy.sort_by(|a, b| b.total_cmp(a));
    let total: f64 = energy.iter().sum();
    if total > 0.0 { energy.iter().take(k).sum::<f64>() / total } else { 0.0 }
}

/// Excess kurtosis of `values` (0 when their variance is 0).
#[must_use]
pub fn excess_kurtosis(values: &[f64]) -> f64 {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let (m2, m4) = values.iter().fold((0.0, 0.0), |(m2, m4), v| {
        let d = (v - mean) * (v - mean);
        (m2 + d / n, m4 + d * d / n)
    });
    if m2 > 0.0 { m4 / (m2 * m2) - 3.0 } else { 0.0 }
}

/// [`participation_ratio`] and [`top_k_energy_share`] of every row of `weights` (`m x d1`).
///
/// # Errors
/// Empty or non-finite weights; `top_k = 0`.
pub fn localisation(weights: ArrayView2<'_, f32>, top_k: usize) -> Result<Localisation, AnalysisError> {
    check_nonempty_2d("weights", &weights)?;
    check_finite_f32("weights", &weights)?;
    if top_k == 0 {
        return Err(AnalysisError::InvalidSolverParameter { field: "top_k", value: 0.0, allowed: "[1, d1]" });
    }
    let rows: Vec<Vec<f64>> = weights.rows().into_iter().map(|row| row.iter().map(|v| f64::from(*v)).collect()).collect();
    Ok(Localisation {
        participation_ratio: rows.iter().map(|w| participation_ratio(w)).collect(),
        top_k_share: rows.iter().map(|w| top_k_energy_share(w, top_k)).collect(),
        top_k,
    })
}

/// Excess kurtosis of every response `<w_i, x>` (`weights` `m x d1`, `x` `n x d1`).
///
/// # Errors
/// Empty or non-finite inputs; mismatched widths.
pub fn response_kurtosis(weights: ArrayView2<'_, f32>, x: ArrayView2<'_, f32>) -> Result<Vec<f64>, AnalysisError> {
    check_nonempty_2d("weights", &weights)?;
    check_nonempty_2d("x", &x)?;
    check_finite_f32("weights", &weights)?;
    check_finite_f32("x", &x)?;
    if weights.ncols() != x.ncols() {
        return Err(AnalysisError::ShapeMismatch {
            left: "weights",
            left_shape: weights.shape().to_vec(),
            right: "x",
            right_shape: x.shape().to_vec(),
            requirement: "the same number of columns d1",
        });
    }
    let responses = x.dot(&weights.t());
    Ok(responses.columns().into_iter().map(|column| excess_kurtosis(&column.iter().map(|v| f64::from(*v)).collect::<Vec<_>>())).collect())
}
