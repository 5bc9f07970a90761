//! Dense `f64` linear algebra for the probes, written by hand so the crate
//! needs nothing beyond ndarray: feature standardisation with training-set
//! statistics, and a Cholesky factorisation `A = L L^T` of a symmetric
//! positive definite matrix with its triangular solves.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView2, Axis, Slice};

use crate::error::AnalysisError;

/// Per-column affine map `x -> (x - mean) / scale` fitted on a training set.
///
/// `mean` and `scale` are the training mean and population standard deviation
/// (divisor n) of each column; a column that is constant on the training set
/// (standard deviation 0, or at most `1e-10 |mean|`, i.e. rounding) keeps
/// `scale = 1`, so it maps to 0 there and carries no signal.
#[derive(Debug, Clone)]
pub(crate) struct Standardizer {
    mean: Array1<f64>,
    scale: Array1<f64>,
}

impl Standardizer {
    /// Fits the map on the rows of `train` (n x p, n >= 1).
    pub(crate) fn fit(train: &ArrayView2<'_, f32>) -> Self {
        let n = train.nrows() as f64;
        let x = train.mapv(f64::from);
        let mean = x.sum_axis(Axis(0)) / n;
        let scale = Array1::from_iter(x.columns().into_iter().zip(mean.iter()).map(|(col, &mu)| {
            let std = (col.iter().map(|&v| (v - mu) * (v - mu)).sum::<f64>() / n).sqrt();
            if std == 0.0 || std <= 1e-10 * mu.abs() { 1.0 } else { std }
        }));
        Self { mean, scale }
    }

    /// Applies the map to the rows of `x` (any number of rows, p columns).
    pub(crate) fn transform(&self, x: &ArrayView2<'_, f32>) -> Array2<f64> {
        let mut out = x.mapv(f64::from);
        for mut row in out.rows_mut() {
            row -= &self.mean;
            row /= &self.scale;
        }
        out
    }
}

/// Columns per block of the Cholesky factorisation (the trailing update of each block is one GEMM).
const BLOCK: usize = 48;

/// Lower-triangular Cholesky factor `L` with `A = L L^T`.
#[derive(Debug, Clone)]
pub(crate) struct Cholesky {
    lower: Array2<f64>,
}

impl Cholesky {
    /// Factorises the symmetric matrix `a` (only its lower triangle is read).
    ///
    /// Fails with [`AnalysisError::NotPositiveDefinite`] (naming `system`) when
    /// a pivot is not positive and finite.
    pub(crate) fn factor(mut a: Array2<f64>, system: &'static str) -> Result<Self, AnalysisError> {
        let n = a.nrows();
        debug_assert_eq!(n, a.ncols());
        // Right-looking, in column blocks of `BLOCK`: factor the block's columns
        // (rows below included) against the block itself, then subtract the
        // block's outer product from the trailing matrix with one GEMM.
        for k0 in (0..n).step_by(BLOCK) {
            let k1 = (k0 + BLOCK).min(n);
            let data = a.as_slice_mut().expect("a freshly built matrix is contiguous");
            for j in k0..k1 {
                let row_j = &data[j * n + k0..j * n + j];
                let diagonal = data[j * n + j] - dot(row_j, row_j);
                if !(diagonal > 0.0 && diagonal.is_finite()) {
                    return Err(AnalysisError::NotPositiveDefinite { system, index: j, pivot: diagonal });
                }
                let pivot = diagonal.sqrt();
                data[j * n + j] = pivot;
                // L_ij = (A_ij - sum_{k0 <= t < j} L_it L_jt) / L_jj for the rows below j.
                let (head, tail) = data.split_at_mut((j + 1) * n);
                let row_j = &head[j * n + k0..j * n + j];
                for row_i in tail.chunks_exact_mut(n) {
                    row_i[j] = (row_i[j] - dot(&row_i[k0..j], row_j)) / pivot;
                }
            }
            if k1 < n {
                let panel = a.slice_axis(Axis(0), Slice::from(k1..)).slice_axis(Axis(1), Slice::from(k0..k1)).to_owned();
                let trailing = a.view_mut().slice_axis_move(Axis(0), Slice::from(k1..)).slice_axis_move(Axis(1), Slice::from(k1..));
                general_mat_mul(-1.0, &panel, &panel.t(), 1.0, &mut { trailing });
            }
        }
        // Clear the strict upper triangle so `lower` is exactly L.
        for i in 0..n {
            for j in (i + 1)..n {
                a[[i, j]] = 0.0;
            }
        }
        Ok(Self { lower: a })
    }

    /// The factor `L`.
    pub(crate) fn lower(&self) -> &Array2<f64> {
        &self.lower
    }

    /// Solves `A x = b` by forward then backward substitution.
    pub(crate) fn solve(&self, b: &Array1<f64>) -> Array1<f64> {
        let n = self.lower.nrows();
        let l = &self.lower;
        let mut y = b.clone();
        for i in 0..n {
            let row = l.row(i);
            let s = head(row, i).dot(&head(y.view(), i));
            y[i] = (y[i] - s) / row[i];
        }
        for i in (0..n).rev() {
            let mut s = y[i];
            for k in (i + 1)..n {
                s -= l[[k, i]] * y[k];
            }
            y[i] = s / l[[i, i]];
        }
        y
    }
}

/// The first `len` entries of a vector (ndarray's `s!` macro is avoided: it
/// expands to an `allow(unsafe_code)` that the workspace's `forbid` rejects).
pub(crate) fn head(v: ndarray::ArrayView1<'_, f64>, len: usize) -> ndarray::ArrayView1<'_, f64> {
    v.slice_axis_move(ndarray::Axis(0), ndarray::Slice::from(..len))
}

/// `sum_k a_k b_k` over eight interleaved partial sums (which the compiler
/// vectorises; a single running sum cannot be reordered), then the tail.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a_blocks, b_blocks) = (a[..n].chunks_exact(8), b[..n].chunks_exact(8));
    let tail: f64 = a_blocks.remainder().iter().zip(b_blocks.remainder()).map(|(x, y)| x * y).sum();
    let mut partial = [0.0f64; 8];
    for (x, y) in a_blocks.zip(b_blocks) {
        for lane in 0..8 {
            partial[lane] += x[lane] * y[lane];
        }
    }
    partial.iter().sum::<f64>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn cholesky_solves_a_small_spd_system() {
        let a = array![[4.0, 2.0, 0.6], [2.0, 5.0, 1.0], [0.6, 1.0, 3.0]];
        let x_true = array![1.0, -2.0, 0.5];
        let b = a.dot(&x_true);
        let chol = Cholesky::factor(a.clone(), "test").unwrap();
        let l = &chol.lower;
        let reconstructed = l.dot(&l.t());
        for (r, e) in reconstructed.iter().zip(a.iter()) {
            assert!((r - e).abs() < 1e-12);
        }
        let x = chol.solve(&b);
        for (x, e) in x.iter().zip(x_true.iter()) {
            assert!((x - e).abs() < 1e-12);
        }
    }

    #[test]
    fn cholesky_rejects_an_indefinite_matrix() {
        let a = array![[1.0, 2.0], [2.0, 1.0]];
        let err = Cholesky::factor(a, "test").unwrap_err();
        assert!(matches!(err, AnalysisError::NotPositiveDefinite { index: 1, .. }));
    }

    #[test]
    fn standardizer_uses_training_statistics_and_keeps_constant_columns_at_zero() {
        let train = array![[1.0_f32, 5.0], [3.0, 5.0]];
        let s = Standardizer::fit(&train.view());
        let t = s.transform(&train.view());
        assert_eq!(t, array![[-1.0, 0.0], [1.0, 0.0]]);
        let test = array![[5.0_f32, 6.0]];
        assert_eq!(s.transform(&test.view()), array![[3.0, 1.0]]);
    }
}
