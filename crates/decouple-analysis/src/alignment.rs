//! Alignment between neurons and sparse features (docs/model.md §6).
//!
//! For weights `W` (m x d1, one row `w_i` per neuron) and a dictionary `M`
//! (d1 x d, one column `M_j` per feature), the signed cosine matrix is
//! `C_ij = <w_i, M_j> / (||w_i|| ||M_j||)` and the alignment matrix is
//! `A_ij = |C_ij|` (both m x d, accumulated in `f64`). A neuron or a feature
//! with zero norm has cosine 0 with everything (never NaN). The dictionary need
//! not be orthonormal here: each column is normalised on its own.

use ndarray::{Array1, Array2, ArrayView2, Axis};

use crate::error::{AnalysisError, check_finite_f32, check_nonempty_2d};

/// Signed cosines `C_ij = <w_i, M_j> / (||w_i|| ||M_j||)`, an m x d matrix;
/// `C_ij = 0` when `w_i = 0` or `M_j = 0`.
///
/// `weights` is m x d1 (one row per neuron), `dictionary` is d1 x d (one column
/// per feature). The sign is what [`crate::support_recovery`] needs; most
/// metrics use its absolute value, [`alignment_matrix`].
///
/// # Errors
/// [`AnalysisError::ShapeMismatch`] unless `weights.ncols() == dictionary.nrows()`;
/// [`AnalysisError::Empty`] for an input without rows or columns;
/// [`AnalysisError::NonFinite`] for NaN or infinite entries.
pub fn cosine_matrix(weights: ArrayView2<'_, f32>, dictionary: ArrayView2<'_, f32>) -> Result<Array2<f64>, AnalysisError> {
    check_weights_and_basis(&weights, "dictionary", &dictionary)?;
    let w = weights.mapv(f64::from);
    let m = dictionary.mapv(f64::from);
    let mut cos = w.dot(&m);
    let weight_norms = row_norms(&w);
    let feature_norms: Array1<f64> = m.map_axis(Axis(0), |col| col.dot(&col).sqrt());
    for ((i, j), c) in cos.indexed_iter_mut() {
        let denominator = weight_norms[i] * feature_norms[j];
        *c = if denominator > 0.0 { (*c / denominator).clamp(-1.0, 1.0) } else { 0.0 };
    }
    Ok(cos)
}

/// Alignment matrix `A_ij = |cos(w_i, M_j)|`, an m x d matrix with entries in
/// `[0, 1]` (0 for a zero-norm neuron or feature).
///
/// # Errors
/// As [`cosine_matrix`].
///
/// # Example
/// ```
/// use ndarray::array;
/// let weights = array![[2.0_f32, 0.0], [1.0, -1.0], [0.0, 0.0]];
/// let dictionary = array![[1.0_f32], [0.0]];
/// let a = decouple_analysis::alignment_matrix(weights.view(), dictionary.view()).unwrap();
/// assert!((a[[0, 0]] - 1.0).abs() < 1e-12);
/// assert!((a[[1, 0]] - 0.5_f64.sqrt()).abs() < 1e-12);
/// assert_eq!(a[[2, 0]], 0.0);
/// ```
pub fn alignment_matrix(weights: ArrayView2<'_, f32>, dictionary: ArrayView2<'_, f32>) -> Result<Array2<f64>, AnalysisError> {
    Ok(cosine_matrix(weights, dictionary)?.mapv(f64::abs))
}

/// Euclidean norm of every row, in `f64`.
pub(crate) fn row_norms(a: &Array2<f64>) -> Array1<f64> {
    a.map_axis(Axis(1), |row| row.dot(&row).sqrt())
}

/// Checks `weights` (m x d1) against a basis or dictionary (d1 x r).
pub(crate) fn check_weights_and_basis(
    weights: &ArrayView2<'_, f32>,
    basis_field: &'static str,
    basis: &ArrayView2<'_, f32>,
) -> Result<(), AnalysisError> {
    check_nonempty_2d("weights", weights)?;
    check_nonempty_2d(basis_field, basis)?;
    if weights.ncols() != basis.nrows() {
        return Err(AnalysisError::ShapeMismatch {
            left: "weights",
            left_shape: weights.shape().to_vec(),
            right: basis_field,
            right_shape: basis.shape().to_vec(),
            requirement: "weights.ncols() == rows of the dictionary/basis (the input dimension d1)",
        });
    }
    check_finite_f32("weights", weights)?;
    check_finite_f32(basis_field, basis)
}
