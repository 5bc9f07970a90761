//! The spectrum of a representation: eigenvalues of its covariance and the
//! effective rank that detects (dimensional) collapse.
//!
//! For representations `F` (`n x m`, one row per sample) with covariance
//! `C = (F - mean)^T (F - mean) / n` and eigenvalues `lambda_1 >= ... >= 0`,
//! `p_k = lambda_k / sum lambda`, the effective rank (Roy & Vetterli 2007) is
//! `exp(-sum_k p_k ln p_k)`: `m` for an isotropic representation, 1 when all
//! the variance is along one direction, 0 for a constant representation.

use ndarray::{Array1, Array2, ArrayView2, Axis};

use crate::AnalysisError;

/// Eigenvalues and eigenvectors of a symmetric matrix by cyclic Jacobi
/// rotations (in `f64`): returns `(lambda, U)` with `A = U diag(lambda) U^T`,
/// eigenvalues in decreasing order, eigenvectors in the columns of `U`.
#[must_use]
pub fn symmetric_eigen(matrix: ArrayView2<'_, f64>) -> (Array1<f64>, Array2<f64>) {
    let n = matrix.nrows();
    let mut a = matrix.to_owned();
    let mut vectors = Array2::<f64>::eye(n);
    for _sweep in 0..100 {
        let off: f64 = (0..n).flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j))).map(|(i, j)| a[[i, j]] * a[[i, j]]).sum();
        let scale: f64 = a.iter().map(|v| v * v).sum::<f64>();
        if off <= 1e-30 * scale.max(f64::MIN_POSITIVE) {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[[p, q]].abs() <= f64::MIN_POSITIVE {
                    continue;
                }
                let theta = (a[[q, q]] - a[[p, p]]) / (2.0 * a[[p, q]]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[[k, p]], a[[k, q]]);
                    a[[k, p]] = c * akp - s * akq;
                    a[[k, q]] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[[p, k]], a[[q, k]]);
                    a[[p, k]] = c * apk - s * aqk;
                    a[[q, k]] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (vectors[[k, p]], vectors[[k, q]]);
                    vectors[[k, p]] = c * vkp - s * vkq;
                    vectors[[k, q]] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| a[[j, j]].total_cmp(&a[[i, i]]));
    let values = Array1::from_iter(order.iter().map(|&i| a[[i, i]]));
    let sorted = Array2::from_shape_fn((n, n), |(row, column)| vectors[[row, order[column]]]);
    (values, sorted)
}

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
