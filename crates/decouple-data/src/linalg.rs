//! Small dense linear algebra in `f64`: orthonormalisation of columns.
//!
//! The thin QR factor `Q` of a `n x k` matrix is computed by modified
//! Gram-Schmidt applied twice ("twice is enough", Giraud et al. 2005), which
//! gives orthonormality to working precision for the well-conditioned Gaussian
//! matrices this crate factors. Columns can also be made orthogonal to a given
//! orthonormal basis first, which yields bases of orthogonal complements.

use ndarray::{Array2, ArrayView2, Axis};

/// Orthonormalises the columns of `a` in place against `against` (orthonormal
/// columns, may have zero columns) and against each other.
///
/// Returns `false` if a column became numerically zero (rank deficiency).
pub fn orthonormalize_columns(a: &mut Array2<f64>, against: ArrayView2<'_, f64>) -> bool {
    let k = a.ncols();
    for j in 0..k {
        let original_norm = a.column(j).dot(&a.column(j)).sqrt();
        for _pass in 0..2 {
            for basis in against.axis_iter(Axis(1)) {
                let coefficient = basis.dot(&a.column(j));
                a.column_mut(j).scaled_add(-coefficient, &basis);
            }
            for i in 0..j {
                let (done, mut rest) = a.view_mut().split_at(Axis(1), j);
                let coefficient = done.column(i).dot(&rest.column(0));
                rest.column_mut(0).scaled_add(-coefficient, &done.column(i));
            }
        }
        let norm = a.column(j).dot(&a.column(j)).sqrt();
        if norm.is_nan() || norm <= 1e-10 * original_norm.max(f64::MIN_POSITIVE) {
            return false;
        }
        a.column_mut(j).mapv_inplace(|value| value / norm);
    }
    true
}

/// `max_{ij} |(Q^T Q - I)_{ij}|`, the departure of `q` from orthonormal columns.
#[must_use]
pub fn orthonormality_error(q: ArrayView2<'_, f64>) -> f64 {
    let gram = q.t().dot(&q);
    gram.indexed_iter().map(|((i, j), &value)| (value - if i == j { 1.0 } else { 0.0 }).abs()).fold(0.0, f64::max)
}
