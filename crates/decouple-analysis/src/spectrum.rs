//! The spectrum of a representation: eigenvalues of its covariance and the
//! effective rank that detects (dimensional) collapse.
//!
//! For representations `F` (`n x m`, one row per sample) with covariance
//! `C = (F - mean)^T (F - mean) / n` and eigenvalues `lambda_1 >= ... >= 0`,
//! `p_k = lambda_k / sum lambda`, the effective rank (Roy & Vetterli 2007) is
//! `exp(-sum_k p_k ln p_k)`: `m` for an isotropic representation, 1 when all
//! the variance is along one direction, 0 for a constant representation.

use ndarray::{Array1, ArrayView2, Axis};

use crate::AnalysisError;

/// The symmetric eigendecomposition (cyclic Jacobi rotations), shared with
/// the whitening of real data.
pub use decouple_data::linalg::symmetric_eigen;

/// The eigenvalues of the covariance of `features` (`n x m`), in decreasing order (in `f64`).
///
/// # Errors
/// Fewer than 2 samples or no column.
pub fn covariance_spectrum(features: ArrayView2<'_, f32>) -> Result<Array1<f64>, AnalysisError> {
    let (n, m) = features.dim();
    if m == 0 {
        return Err(AnalysisError::Empty { field: "features", shape: vec![n, m] });
    }
    if n < 2 {
        return Err(AnalysisError::TooFewSamples { what: "features", found: n, needed: 2 });
    }
    let features = features.mapv(f64::from);
    let centred = &features - &features.mean_axis(Axis(0)).expect("n >= 2");
    let covariance = centred.t().dot(&centred) / n as f64;
    Ok(symmetric_eigen(covariance.view()).0.mapv(|lambda| lambda.max(0.0)))
}

/// `exp(-sum_k p_k ln p_k)` with `p_k = lambda_k / sum lambda` (0 when every eigenvalue is 0).
#[must_use]
pub fn effective_rank(eigenvalues: &Array1<f64>) -> f64 {
    let total: f64 = eigenvalues.iter().filter(|&&lambda| lambda > 0.0).sum();
    if total <= 0.0 {
        return 0.0;
    }
    let entropy: f64 = eigenvalues.iter().filter(|&&lambda| lambda > 0.0).map(|&lambda| lambda / total).map(|p| -p * p.ln()).sum();
    entropy.exp()
}

#[cfg(test)]
mod tests {
    use super::{covariance_spectrum, effective_rank, symmetric_eigen};
    use ndarray::{Array1, Array2, array};

    #[test]
    fn effective_rank_of_known_spectra() {
        assert!((effective_rank(&Array1::from_elem(8, 2.0)) - 8.0).abs() < 1e-12);
        assert!((effective_rank(&array![3.0, 0.0, 0.0]) - 1.0).abs() < 1e-12);
        assert_eq!(effective_rank(&Array1::zeros(4)), 0.0);
        // Two equal directions out of three.
        let features = array![[1.0f32, 0.0, 5.0], [-1.0, 0.0, 5.0], [0.0, 1.0, 5.0], [0.0, -1.0, 5.0]];
        let spectrum = covariance_spectrum(features.view()).unwrap();
        assert!((effective_rank(&spectrum) - 2.0).abs() < 1e-9, "{spectrum}");
        assert!(covariance_spectrum(Array2::<f32>::zeros((1, 3)).view()).is_err());
    }

    #[test]
    fn symmetric_eigen_reconstructs_a_matrix() {
        let a = array![[4.0, 1.0, -2.0, 0.5], [1.0, 3.0, 0.0, 1.5], [-2.0, 0.0, 5.0, -1.0], [0.5, 1.5, -1.0, 2.0]];
        let (values, vectors) = symmetric_eigen(a.view());
        let rebuilt = vectors.dot(&Array2::from_diag(&values)).dot(&vectors.t());
        assert!((&rebuilt - &a).iter().all(|e| e.abs() < 1e-10), "{rebuilt}");
        assert!((vectors.t().dot(&vectors) - Array2::<f64>::eye(4)).iter().all(|e| e.abs() < 1e-10));
        assert!(values.windows(2).into_iter().all(|pair| pair[0] >= pair[1]));
    }
}
