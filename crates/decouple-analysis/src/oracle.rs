//! The exact linear oracle of the spectral contrastive loss (docs/theory.md §7)
//! and principal angles between subspaces.
//!
//! For a linear encoder `f(x) = W x` (`W: k x d1`), the population spectral
//! loss is `L(W) = -2 tr(W C W^T) + tr(W A W^T W A W^T)` with the pair's
//! cross-covariance `C = E[x+ x++^T]` and the views' second moment
//! `A = E[x+ x+^T] = E[x++ x++^T]`. Its minimisers have the row space
//! spanned by the generalised eigenvectors `C v = lambda A v` of the `k`
//! largest eigenvalues (those that are positive); the subspace is unique when
//! `lambda_k > lambda_{k+1}` ([`LinearOracle::gap`]). With `A = L L^T`
//! (Cholesky), `K = L^{-1} C L^{-T} = U diag(lambda) U^T` and `V = L^{-T} U`.
//!
//! Principal angles between span(X) and span(Y) (columns) are
//! `acos(sigma_i)` of the singular values of `Q_X^T Q_Y`, with `Q` orthonormal
//! bases of the spans, in degrees, smallest first.

use ndarray::{Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::AnalysisError;
use crate::error::{check_finite_f64, check_nonempty_2d};
use crate::linalg::Cholesky;
use crate::spectrum::symmetric_eigen;

/// Relative tolerance below which a direction counts as linearly dependent
/// (on the eigenvalues of the Gram matrix, relative to the largest).
const RANK_TOLERANCE: f64 = 1e-10;

/// Solves `C v = lambda A v` for symmetric `C` and symmetric positive definite
/// `A` (both `n x n`): eigenvalues in decreasing order and the eigenvectors
/// in the columns (normalised so that `V^T A V = I`).
///
/// # Errors
/// Shapes not square and equal; empty or non-finite inputs;
/// [`AnalysisError::NotSymmetricPositiveDefinite`] when `A` is not.
pub fn generalized_symmetric_eigen(c: ArrayView2<'_, f64>, a: ArrayView2<'_, f64>) -> Result<(Array1<f64>, Array2<f64>), AnalysisError> {
    check_nonempty_2d("cross", &c)?;
    check_finite_f64("cross", &c)?;
    check_finite_f64("second_moment", &a)?;
    let n = c.nrows();
    if c.ncols() != n || a.dim() != (n, n) {
        return Err(AnalysisError::ShapeMismatch {
            left: "cross",
            left_shape: c.shape().to_vec(),
            right: "second_moment",
            right_shape: a.shape().to_vec(),
            requirement: "both square and of the same size",
        });
    }
    let symmetric = (&a + &a.t()) * 0.5;
    let cholesky = Cholesky::factor(symmetric, "second moment").map_err(|error| match error {
        AnalysisError::NotPositiveDefinite { index, pivot, .. } => {
            AnalysisError::NotSymmetricPositiveDefinite { field: "second_moment", index, pivot }
        }
        other => other,
    })?;
    let lower = cholesky.lower();
    // K = L^{-1} C L^{-T}: solve L Y = C, then L K^T = Y^T.
    let y = forward_solve(lower, &((&c + &c.t()) * 0.5));
    let k = forward_solve(lower, &y.t().to_owned());
    let k = (&k + &k.t()) * 0.5;
    let (values, u) = tridiagonal_eigen(k);
    Ok((values, backward_solve_transposed(lower, &u)))
}

/// Eigenvalues (decreasing) and eigenvectors (columns) of a symmetric matrix
/// by Householder reduction to tridiagonal form and the implicit QL
/// iteration with Wilkinson shifts (`tred2` / `tqli` of Numerical Recipes,
/// §11.2–11.3): `O(n^3)` with a small constant, where the cyclic Jacobi
/// rotations of [`symmetric_eigen`] need many sweeps of `O(n^3)` at `n = d1 = 512`.
fn tridiagonal_eigen(mut a: Array2<f64>) -> (Array1<f64>, Array2<f64>) {
    let n = a.nrows();
    let mut d = vec![0.0; n];
    let mut e = vec![0.0; n];
    // tred2: a becomes the orthogonal Q with A = Q T Q^T.
    for i in (1..n).rev() {
        let l = i - 1;
        let mut h = 0.0;
        if l > 0 {
            let scale: f64 = (0..=l).map(|k| a[[i, k]].abs()).sum();
            if scale == 0.0 {
                e[i] = a[[i, l]];
            } else {
                for k in 0..=l {
                    a[[i, k]] /= scale;
                    h += a[[i, k]] * a[[i, k]];
                }
                let f = a[[i, l]];
                let g = if f >= 0.0 { -h.sqrt() } else { h.sqrt() };
                e[i] = scale * g;
                h -= f * g;
                a[[i, l]] = f - g;
                let mut f = 0.0;
                for j in 0..=l {
                    a[[j, i]] = a[[i, j]] / h;
                    let mut g = 0.0;
                    for k in 0..=j {
                        g += a[[j, k]] * a[[i, k]];
                    }
                    for k in j + 1..=l {
                        g += a[[k, j]] * a[[i, k]];
                    }
                    e[j] = g / h;
                    f += e[j] * a[[i, j]];
                }
                let hh = f / (h + h);
                for j in 0..=l {
                    let f = a[[i, j]];
                    let g = e[j] - hh * f;
                    e[j] = g;
                    for k in 0..=j {
                        a[[j, k]] -= f * e[k] + g * a[[i, k]];
                    }
                }
            }
        } else {
            e[i] = a[[i, l]];
        }
        d[i] = h;
    }
    d[0] = 0.0;
    e[0] = 0.0;
    for i in 0..n {
        if d[i] != 0.0 {
            for j in 0..i {
                let mut g = 0.0;
                for k in 0..i {
                    g += a[[i, k]] * a[[k, j]];
                }
                for k in 0..i {
                    a[[k, j]] -= g * a[[k, i]];
                }
            }
        }
        d[i] = a[[i, i]];
        a[[i, i]] = 1.0;
        for j in 0..i {
            a[[j, i]] = 0.0;
            a[[i, j]] = 0.0;
        }
    }
    // tqli on the tridiagonal (d, e), accumulating the rotations into the
    // rows of `z = a^T` (contiguous, where the columns of `a` are strided).
    let mut z = a.t().as_standard_layout().into_owned();
    let z_data = z.as_slice_mut().expect("standard layout");
    for i in 1..n {
        e[i - 1] = e[i];
    }
    if n > 0 {
        e[n - 1] = 0.0;
    }
    for l in 0..n {
        let mut iterations = 0;
        loop {
            let mut m = l;
            while m + 1 < n {
                let dd = d[m].abs() + d[m + 1].abs();
                if e[m].abs() <= f64::EPSILON * dd {
                    break;
                }
                m += 1;
            }
            if m == l || iterations >= 60 {
                break;
            }
            iterations += 1;
            let mut g = (d[l + 1] - d[l]) / (2.0 * e[l]);
            let mut r = g.hypot(1.0);
            g = d[m] - d[l] + e[l] / (g + if g >= 0.0 { r.abs() } else { -r.abs() });
            let (mut s, mut c, mut p) = (1.0, 1.0, 0.0);
            let mut i = m;
            let mut underflow = false;
            while i > l {
                i -= 1;
                let f = s * e[i];
                let b = c * e[i];
                r = f.hypot(g);
                e[i + 1] = r;
                if r == 0.0 {
                    d[i + 1] -= p;
                    e[m] = 0.0;
                    underflow = true;
                    break;
                }
                s = f / r;
                c = g / r;
                g = d[i + 1] - p;
                r = (d[i] - g) * s + 2.0 * c * b;
                p = s * r;
                d[i + 1] = g + p;
                g = c * r - b;
                let (row_i, row_next) = z_data[i * n..(i + 2) * n].split_at_mut(n);
                for (zi, zn) in row_i.iter_mut().zip(row_next.iter_mut()) {
                    let f = *zn;
                    *zn = s * *zi + c * f;
                    *zi = c * *zi - s * f;
                }
            }
            if underflow {
                continue;
            }
            d[l] -= p;
            e[l] = g;
            e[m] = 0.0;
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| d[j].total_cmp(&d[i]));
    let values = Array1::from_iter(order.iter().map(|&i| d[i]));
    let vectors = Array2::from_shape_fn((n, n), |(row, column)| z[[order[column], row]]);
    (values, vectors)
}

/// `L^{-1} B` for lower-triangular `L` (column by column, forward substitution).
fn forward_solve(lower: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
    let n = lower.nrows();
    let mut x = b.clone();
    for i in 0..n {
        for k in 0..i {
            let factor = lower[[i, k]];
            if factor != 0.0 {
                let (head, mut tail) = x.view_mut().split_at(Axis(0), i);
                let source = head.row(k);
                tail.row_mut(0).scaled_add(-factor, &source);
            }
        }
        let pivot = lower[[i, i]];
        x.row_mut(i).mapv_inplace(|e| e / pivot);
    }
    x
}

/// `L^{-T} B` for lower-triangular `L` (backward substitution on `L^T`).
fn backward_solve_transposed(lower: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
    let n = lower.nrows();
    let mut x = b.clone();
    for i in (0..n).rev() {
        for k in i + 1..n {
            let factor = lower[[k, i]];
            if factor != 0.0 {
                let (mut head, tail) = x.view_mut().split_at(Axis(0), k);
                head.row_mut(i).scaled_add(-factor, &tail.row(0));
            }
        }
        let pivot = lower[[i, i]];
        x.row_mut(i).mapv_inplace(|e| e / pivot);
    }
    x
}

/// An orthonormal basis (columns) of the span of the columns of `vectors`
/// (`n x k`): `Q = X V diag(s)^{-1/2}` from the eigenvectors of `X^T X` whose
/// eigenvalues exceed `1e-10` times the largest.
///
/// # Errors
/// Empty or non-finite input; [`AnalysisError::RankDeficient`] for a zero span.
pub fn orthonormal_basis(field: &'static str, vectors: ArrayView2<'_, f64>) -> Result<Array2<f64>, AnalysisError> {
    check_nonempty_2d(field, &vectors)?;
    check_finite_f64(field, &vectors)?;
    let (values, eigenvectors) = symmetric_eigen(vectors.t().dot(&vectors).view());
    let largest = values.first().copied().unwrap_or(0.0);
    let kept: Vec<usize> = (0..values.len()).filter(|&i| largest > 0.0 && values[i] > RANK_TOLERANCE * largest).collect();
    if kept.is_empty() {
        return Err(AnalysisError::RankDeficient { field, rank: 0, needed: 1 });
    }
    let mut basis = Array2::zeros((vectors.nrows(), kept.len()));
    for (column, &i) in kept.iter().enumerate() {
        let direction = vectors.dot(&eigenvectors.column(i)) / values[i].sqrt();
        basis.column_mut(column).assign(&direction);
    }
    // One Gram-Schmidt pass removes the rounding left by the Gram matrix.
    for j in 0..basis.ncols() {
        for i in 0..j {
            let projection = basis.column(i).dot(&basis.column(j));
            let previous = basis.column(i).to_owned();
            basis.column_mut(j).scaled_add(-projection, &previous);
        }
        let norm = basis.column(j).dot(&basis.column(j)).sqrt();
        basis.column_mut(j).mapv_inplace(|e| e / norm);
    }
    Ok(basis)
}

/// The principal angles (degrees, smallest first) between the column spans
/// of `x` (`n x k1`) and `y` (`n x k2`): `min(rank x, rank y)` of them.
///
/// # Errors
/// Different numbers of rows; empty, non-finite or zero inputs.
pub fn principal_angles(x: ArrayView2<'_, f64>, y: ArrayView2<'_, f64>) -> Result<Vec<f64>, AnalysisError> {
    if x.nrows() != y.nrows() {
        return Err(AnalysisError::ShapeMismatch {
            left: "x",
            left_shape: x.shape().to_vec(),
            right: "y",
            right_shape: y.shape().to_vec(),
            requirement: "the same number of rows (the ambient dimension)",
        });
    }
    let (qx, qy) = (orthonormal_basis("x", x)?, orthonormal_basis("y", y)?);
    let overlap = qx.t().dot(&qy);
    let gram = if qx.ncols() <= qy.ncols() { overlap.dot(&overlap.t()) } else { overlap.t().dot(&overlap) };
    let (values, _) = symmetric_eigen(gram.view());
    Ok(values.iter().map(|&s2| s2.clamp(0.0, 1.0).sqrt().acos().to_degrees()).collect())
}

/// The linear optimum of the spectral loss for `k` neurons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearOracle {
    /// Every generalised eigenvalue of `C v = lambda A v`, decreasing.
    pub eigenvalues: Vec<f64>,
    /// The number of neurons `k`.
    pub k: usize,
    /// `lambda_k - lambda_{k+1}` (0 when `k` is the dimension): the subspace is unique when `> 0`.
    pub gap: f64,
    /// Positive eigenvalues among the top `k` (the optimum's rank).
    pub rank: usize,
    /// An orthonormal basis (`d1 x rank`, columns) of the optimal row space of `W`.
    #[serde(skip)]
    pub subspace: Array2<f64>,
}

/// The oracle subspace of a linear encoder with `k` neurons trained with the
/// spectral loss, from the pair's `cross` covariance and the views' `second_moment`.
///
/// # Errors
/// As [`generalized_symmetric_eigen`]; `k` not in `[1, d1]`; no positive eigenvalue.
pub fn linear_oracle(cross: ArrayView2<'_, f64>, second_moment: ArrayView2<'_, f64>, k: usize) -> Result<LinearOracle, AnalysisError> {
    let (values, vectors) = generalized_symmetric_eigen(cross, second_moment)?;
    let n = values.len();
    if k == 0 || k > n {
        return Err(AnalysisError::RankDeficient { field: "cross", rank: n, needed: k.max(1) });
    }
    let rank = values.iter().take(k).filter(|&&lambda| lambda > 0.0).count();
    if rank == 0 {
        return Err(AnalysisError::RankDeficient { field: "positive generalised eigenvalues", rank: 0, needed: 1 });
    }
    let top = vectors.slice_axis(Axis(1), ndarray::Slice::from(..rank)).to_owned();
    let subspace = orthonormal_basis("oracle", top.view())?;
    let gap = if k < n { values[k - 1] - values[k] } else { 0.0 };
    Ok(LinearOracle { eigenvalues: values.to_vec(), k, gap, rank, subspace })
}

/// Where a network's weights lie: principal angles (degrees, smallest first)
/// to the oracle subspace and to span(M).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubspaceAngles {
    /// Angles between span{w_i} and the oracle subspace.
    pub to_oracle: Vec<f64>,
    /// Angles between span{w_i} and span(M).
    pub to_dictionary: Vec<f64>,
}

impl SubspaceAngles {
    /// The largest angle to the oracle subspace (NaN if none).
    #[must_use]
    pub fn max_to_oracle(&self) -> f64 {
        self.to_oracle.iter().copied().fold(f64::NAN, f64::max)
    }

    /// The largest angle to span(M) (NaN if none).
    #[must_use]
    pub fn max_to_dictionary(&self) -> f64 {
        self.to_dictionary.iter().copied().fold(f64::NAN, f64::max)
    }
}

/// The principal angles between the span of the rows of `weights` (`m x d1`)
/// and the `oracle` subspace, and between it and the columns of `dictionary` (`d1 x d`).
///
/// # Errors
/// Shapes that disagree on `d1`; empty, non-finite or zero weights.
pub fn subspace_angles(
    weights: ArrayView2<'_, f32>,
    oracle: &LinearOracle,
    dictionary: ArrayView2<'_, f32>,
) -> Result<SubspaceAngles, AnalysisError> {
    let rows = weights.t().mapv(f64::from);
    if rows.nrows() != oracle.subspace.nrows() {
        return Err(AnalysisError::ShapeMismatch {
            left: "weights",
            left_shape: weights.shape().to_vec(),
            right: "oracle",
            right_shape: oracle.subspace.shape().to_vec(),
            requirement: "weights.ncols() == oracle.nrows() (= d1)",
        });
    }
    let to_oracle = principal_angles(rows.view(), oracle.subspace.view())?;
    let to_dictionary = principal_angles(rows.view(), dictionary.mapv(f64::from).view())?;
    Ok(SubspaceAngles { to_oracle, to_dictionary })
}

#[cfg(test)]
mod tests {
    use super::{generalized_symmetric_eigen, linear_oracle, principal_angles};
    use ndarray::{Array2, array};

    #[test]
    fn generalized_eigen_solves_the_pencil() {
        let c = array![[2.0, 0.5, 0.0], [0.5, -1.0, 0.3], [0.0, 0.3, 0.7]];
        let a = array![[3.0, 1.0, 0.2], [1.0, 2.0, 0.1], [0.2, 0.1, 1.5]];
        let (values, vectors) = generalized_symmetric_eigen(c.view(), a.view()).unwrap();
        for (i, &lambda) in values.iter().enumerate() {
            let v = vectors.column(i);
            let residual = c.dot(&v) - a.dot(&v) * lambda;
            assert!(residual.iter().all(|e| e.abs() < 1e-10), "{residual}");
        }
        let normalisation = vectors.t().dot(&a).dot(&vectors);
        assert!((normalisation - Array2::<f64>::eye(3)).iter().all(|e| e.abs() < 1e-10));
        assert!(values.windows(2).into_iter().all(|w| w[0] >= w[1]));
        let indefinite = array![[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        assert!(generalized_symmetric_eigen(c.view(), indefinite.view()).is_err());
    }

    #[test]
    fn tridiagonal_eigen_matches_jacobi() {
        let n = 40;
        let b = Array2::from_shape_fn((n, n), |(i, j)| ((i * 7 + j * 13) % 11) as f64 - 5.0 + if i == j { 3.0 } else { 0.0 });
        let a = &b + &b.t();
        let (values, vectors) = super::tridiagonal_eigen(a.clone());
        let (reference, _) = crate::spectrum::symmetric_eigen(a.view());
        assert!((&values - &reference).iter().all(|e| e.abs() < 1e-9), "{values} vs {reference}");
        let rebuilt = vectors.dot(&Array2::from_diag(&values)).dot(&vectors.t());
        assert!((&rebuilt - &a).iter().all(|e| e.abs() < 1e-9));
        assert!((vectors.t().dot(&vectors) - Array2::<f64>::eye(n)).iter().all(|e| e.abs() < 1e-10));
        let (values, vectors) = super::tridiagonal_eigen(Array2::<f64>::eye(3) * 2.0);
        assert_eq!(values.to_vec(), vec![2.0, 2.0, 2.0]);
        assert_eq!(vectors, Array2::<f64>::eye(3));
    }

    #[test]
    fn principal_angles_of_known_subspaces() {
        // span(e1, e2) against span(e1, cos t e2 + sin t e3): angles 0 and t.
        let t = 0.3f64;
        let x = array![[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]];
        let y = array![[2.0, 0.0], [0.0, t.cos()], [0.0, t.sin()]];
        let angles = principal_angles(x.view(), y.view()).unwrap();
        assert!(angles[0].abs() < 1e-6 && (angles[1] - t.to_degrees()).abs() < 1e-9, "{angles:?}");
        // Dependent columns count once.
        let z = array![[1.0, 2.0], [0.0, 0.0], [0.0, 0.0]];
        assert_eq!(principal_angles(z.view(), x.view()).unwrap().len(), 1);
        assert!(principal_angles(Array2::zeros((3, 2)).view(), x.view()).is_err());
    }

    #[test]
    fn oracle_of_a_diagonal_pencil_is_the_top_coordinates() {
        // C = diag(3, -1, 2, 0.5), A = I: the top 2 are e1 and e3, gap 2 - 0.5.
        let c = Array2::from_diag(&array![3.0, -1.0, 2.0, 0.5]);
        let oracle = linear_oracle(c.view(), Array2::<f64>::eye(4).view(), 2).unwrap();
        assert_eq!((oracle.rank, oracle.gap), (2, 1.5));
        let expected = array![[1.0, 0.0], [0.0, 0.0], [0.0, 1.0], [0.0, 0.0]];
        let angles = principal_angles(oracle.subspace.view(), expected.view()).unwrap();
        assert!(angles.iter().all(|a| a.abs() < 1e-6), "{angles:?}");
        // Only positive eigenvalues count: k = 4 keeps e1, e3, e4.
        assert_eq!(linear_oracle(c.view(), Array2::<f64>::eye(4).view(), 4).unwrap().rank, 3);
    }
}
