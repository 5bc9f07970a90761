//! Energy of each neuron's weight vector inside a subspace (docs/model.md §6).
//!
//! For an orthonormal basis `H` (d1 x r, `H^T H = I_r`) the fraction of the
//! energy of `w_i` inside span(H) is `e_i = ||H^T w_i||^2 / ||w_i||^2`. With
//! `H = M` (the dictionary) this is the *sparse-energy fraction*; with the
//! low-rank dense directions it measures how much a neuron learned the dense
//! features. A uniformly random direction has `E e_i = r / d1` (its `e_i` is
//! Beta(r/2, (d1-r)/2)), which every result reports as `random_baseline`.

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::alignment::{check_weights_and_basis, row_norms};
use crate::error::AnalysisError;
use crate::stats::summarize;

/// Largest allowed entry of `|H^T H - I|` for a basis (loose enough for `f32`
/// data from a QR or Gram–Schmidt, tight enough to catch a non-orthonormal one).
pub const ORTHONORMALITY_TOLERANCE: f64 = 1e-3;

/// Energy fractions of the neurons inside span(H).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubspaceEnergy {
    /// Ambient dimension d1.
    pub ambient_dim: usize,
    /// Subspace dimension r (d for the dictionary).
    pub subspace_dim: usize,
    /// Number of neurons m.
    pub n_neurons: usize,
    /// `e_i = ||H^T w_i||^2 / ||w_i||^2`, one entry per neuron (0 for `w_i = 0`).
    pub energy_per_neuron: Vec<f64>,
    /// Mean of `e_i` over neurons with `w_i != 0` (0 if none).
    pub mean: f64,
    /// Median of `e_i` over neurons with `w_i != 0` (0 if none).
    pub median: f64,
    /// Norm-weighted mean `sum_i ||H^T w_i||^2 / sum_i ||w_i||^2` (0 if all `w_i = 0`).
    pub weighted_mean: f64,
    /// What a random direction gets in expectation: `r / d1`.
    pub random_baseline: f64,
    /// Number of neurons with `w_i = 0` (left out of `mean` and `median`).
    pub n_zero_norm: usize,
}

/// Energy fraction `e_i = ||H^T w_i||^2 / ||w_i||^2` of every neuron in span(H),
/// for weights `W` (m x d1) and an orthonormal basis `H` (d1 x r).
///
/// # Errors
/// [`AnalysisError::ShapeMismatch`] unless `weights.ncols() == basis.nrows()`;
/// [`AnalysisError::Empty`]; [`AnalysisError::NonFinite`];
/// [`AnalysisError::NotOrthonormal`] when `max |H^T H - I| > ORTHONORMALITY_TOLERANCE`.
pub fn subspace_energy(weights: ArrayView2<'_, f32>, basis: ArrayView2<'_, f32>) -> Result<SubspaceEnergy, AnalysisError> {
    energy_in_span(weights, "basis", basis)
}

/// Sparse-energy fraction `e_i = ||M^T w_i||^2 / ||w_i||^2` for weights `W`
/// (m x d1) and the dictionary `M` (d1 x d, orthonormal columns); the random
/// baseline is `d / d1`. This is [`subspace_energy`] with `H = M`.
///
/// # Errors
/// As [`subspace_energy`], naming `dictionary`.
pub fn sparse_energy(weights: ArrayView2<'_, f32>, dictionary: ArrayView2<'_, f32>) -> Result<SubspaceEnergy, AnalysisError> {
    energy_in_span(weights, "dictionary", dictionary)
}

fn energy_in_span(
    weights: ArrayView2<'_, f32>,
    basis_field: &'static str,
    basis: ArrayView2<'_, f32>,
) -> Result<SubspaceEnergy, AnalysisError> {
    check_weights_and_basis(&weights, basis_field, &basis)?;
    let h = basis.mapv(f64::from);
    check_orthonormal(basis_field, &h)?;
    let w = weights.mapv(f64::from);
    let projected = w.dot(&h);
    let inside = row_norms(&projected).mapv(|n| n * n);
    let total = row_norms(&w).mapv(|n| n * n);
    let mut energy_per_neuron = Vec::with_capacity(w.nrows());
    let mut nonzero = Vec::with_capacity(w.nrows());
    for (&e_in, &e_total) in inside.iter().zip(total.iter()) {
        if e_total > 0.0 {
            let fraction = (e_in / e_total).min(1.0);
            energy_per_neuron.push(fraction);
            nonzero.push(fraction);
        } else {
            energy_per_neuron.push(0.0);
        }
    }
    let sum_total: f64 = total.sum();
    let weighted_mean = if sum_total > 0.0 { (inside.sum() / sum_total).min(1.0) } else { 0.0 };
    let summary = summarize(&nonzero);
    let (ambient_dim, subspace_dim) = h.dim();
    Ok(SubspaceEnergy {
        ambient_dim,
        subspace_dim,
        n_neurons: w.nrows(),
        n_zero_norm: w.nrows() - nonzero.len(),
        energy_per_neuron,
        mean: summary.mean,
        median: summary.median,
        weighted_mean,
        random_baseline: subspace_dim as f64 / ambient_dim as f64,
    })
}

/// Rejects a basis with `max |H^T H - I| > ORTHONORMALITY_TOLERANCE`.
fn check_orthonormal(field: &'static str, h: &Array2<f64>) -> Result<(), AnalysisError> {
    let gram = h.t().dot(h);
    let deviation = gram.indexed_iter().map(|((i, j), &g)| (g - if i == j { 1.0 } else { 0.0 }).abs()).fold(0.0, f64::max);
    if deviation > ORTHONORMALITY_TOLERANCE {
        return Err(AnalysisError::NotOrthonormal { field, deviation, tolerance: ORTHONORMALITY_TOLERANCE });
    }
    Ok(())
}
