//! The symmetric eigendecomposition the whitening needs: cyclic Jacobi
//! rotations in `f64` (the same algorithm as `decouple_analysis::symmetric_eigen`;
//! this crate depends on no other decouple crate, docs/architecture.md).
//! Cost about `10 * 3 d^3` flops for a `d x d` matrix: instant at `d = 64`,
//! seconds at `d = 784`.

use ndarray::{Array1, Array2, ArrayView2};

/// Eigenvalues and eigenvectors of a symmetric matrix by cyclic Jacobi
/// rotations (in `f64`): returns `(lambda, U)` with `A = U diag(lambda) U^T`,
/// eigenvalues in decreasing order, eigenvectors in the columns of `U`.
#[must_use]
pub(crate) fn symmetric_eigen(matrix: ArrayView2<'_, f64>) -> (Array1<f64>, Array2<f64>) {
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

#[cfg(test)]
mod tests {
    use super::symmetric_eigen;
    use ndarray::{Array2, array};

    #[test]
    fn reconstructs_the_matrix_with_orthonormal_vectors_in_decreasing_order() {
        let a = array![[4.0, 1.0, 0.5], [1.0, 3.0, -0.2], [0.5, -0.2, 1.0]];
        let (values, vectors) = symmetric_eigen(a.view());
        assert!(values[0] >= values[1] && values[1] >= values[2]);
        let rebuilt = vectors.dot(&Array2::from_diag(&values)).dot(&vectors.t());
        assert!((&rebuilt - &a).iter().all(|d| d.abs() < 1e-10));
        let gram = vectors.t().dot(&vectors);
        assert!((&gram - &Array2::<f64>::eye(3)).iter().all(|d| d.abs() < 1e-10));
    }
}
