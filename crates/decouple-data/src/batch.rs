//! A batch of samples that keeps each sample's parts: `x = sparse + dense`,
//! `sparse = M diag(alpha) z` (row-wise `z diag(alpha) M^T`; `alpha = 1` unless the model has feature strengths).

use ndarray::{Array2, ArrayView2, Axis};
use rand::Rng;
use rand::seq::SliceRandom;

/// `n` samples with their latent `z` (n x d), sparse part `M z`, dense part
/// `xi` and sum `x` (each n x d1). Only the model builds batches, so
/// `x = sparse + dense` holds row by row.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub(crate) z: Array2<f32>,
    pub(crate) sparse: Array2<f32>,
    pub(crate) dense: Array2<f32>,
    pub(crate) x: Array2<f32>,
}

impl Batch {
    /// An all-zero batch of `n` samples (a buffer for `sample_into`).
    #[must_use]
    pub fn zeros(n: usize, d: usize, d1: usize) -> Self {
        Self { z: Array2::zeros((n, d)), sparse: Array2::zeros((n, d1)), dense: Array2::zeros((n, d1)), x: Array2::zeros((n, d1)) }
    }

    /// Number of samples.
    #[must_use]
    pub fn n(&self) -> usize {
        self.z.nrows()
    }

    /// Number of sparse features `d`.
    #[must_use]
    pub fn d(&self) -> usize {
        self.z.ncols()
    }

    /// Ambient dimension `d1`.
    #[must_use]
    pub fn d1(&self) -> usize {
        self.x.ncols()
    }

    /// Latent codes `z` (n x d).
    #[must_use]
    pub fn z(&self) -> ArrayView2<'_, f32> {
        self.z.view()
    }

    /// Sparse parts `M diag(alpha) z` (n x d1).
    #[must_use]
    pub fn sparse(&self) -> ArrayView2<'_, f32> {
        self.sparse.view()
    }

    /// Dense parts `xi` (n x d1).
    #[must_use]
    pub fn dense(&self) -> ArrayView2<'_, f32> {
        self.dense.view()
    }

    /// Samples `x = M z + xi` (n x d1).
    #[must_use]
    pub fn x(&self) -> ArrayView2<'_, f32> {
        self.x.view()
    }

    /// The samples at `indices` (in that order), as a new batch.
    ///
    /// # Panics
    /// If an index is `>= n`.
    #[must_use]
    pub fn select(&self, indices: &[usize]) -> Self {
        Self {
            z: self.z.select(Axis(0), indices),
            sparse: self.sparse.select(Axis(0), indices),
            dense: self.dense.select(Axis(0), indices),
            x: self.x.select(Axis(0), indices),
        }
    }

    /// Copies the samples at `indices` into `out` (no allocation when `out`
    /// already holds `indices.len()` samples of the same dimensions).
    ///
    /// # Panics
    /// If an index is `>= n`.
    pub fn select_into(&self, indices: &[usize], out: &mut Self) {
        if out.n() != indices.len() || out.d() != self.d() || out.d1() != self.d1() {
            *out = Self::zeros(indices.len(), self.d(), self.d1());
        }
        let pairs = [(&self.z, &mut out.z), (&self.sparse, &mut out.sparse), (&self.dense, &mut out.dense), (&self.x, &mut out.x)];
        for (source, target) in pairs {
            let width = source.ncols();
            let source = source.as_slice().expect("batch arrays are contiguous");
            let target = target.as_slice_mut().expect("batch arrays are contiguous");
            for (row, &index) in target.chunks_exact_mut(width.max(1)).zip(indices) {
                row.copy_from_slice(&source[index * width..(index + 1) * width]);
            }
        }
    }
}

/// A fixed pool of samples visited in shuffled mini-batches, epoch by epoch
/// (the peer code's regime).
#[derive(Debug, Clone)]
pub struct Pool {
    samples: Batch,
    order: Vec<usize>,
    cursor: usize,
    epoch: usize,
}

impl Pool {
    /// Wraps a batch as a pool; the first epoch starts on the first call.
    #[must_use]
    pub fn new(samples: Batch) -> Self {
        let n = samples.n();
        Self { samples, order: (0..n).collect(), cursor: n, epoch: 0 }
    }

    /// The samples of the pool.
    #[must_use]
    pub fn samples(&self) -> &Batch {
        &self.samples
    }

    /// The samples of the pool, taken out of it.
    #[must_use]
    pub fn into_samples(self) -> Batch {
        self.samples
    }

    /// Completed-or-started epochs so far.
    #[must_use]
    pub fn epoch(&self) -> usize {
        self.epoch
    }

    /// Fills `out` with the next `batch_size` samples without replacement,
    /// reshuffling (with `rng`) when an epoch ends. A batch never straddles
    /// two epochs: the remainder of an epoch shorter than `batch_size` is
    /// dropped (as PyTorch's `drop_last`), unless the pool is smaller than
    /// one batch, in which case the whole pool is used.
    pub fn next_batch_into<R: Rng + ?Sized>(&mut self, batch_size: usize, out: &mut Batch, rng: &mut R) {
        let size = batch_size.min(self.samples.n());
        if self.cursor + size > self.order.len() {
            self.order.shuffle(rng);
            self.cursor = 0;
            self.epoch += 1;
        }
        let indices = &self.order[self.cursor..self.cursor + size];
        self.samples.select_into(indices, out);
        self.cursor += size;
    }
}

impl Batch {
    /// A batch of real samples `x` (`n x d1`) with no known decomposition:
    /// no latent (`z` is `n x 0`), `sparse = 0` and `dense = x` (with no
    /// dictionary, the whole sample counts as unexplained). Augmentations
    /// then act on the sample as a whole.
    #[must_use]
    pub fn from_samples(x: Array2<f32>) -> Self {
        let (n, d1) = x.dim();
        Self { z: Array2::zeros((n, 0)), sparse: Array2::zeros((n, d1)), dense: x.clone(), x }
    }

    /// A batch from its latents `z` (`n x d`, `d` may be 0) and parts
    /// (`n x d1` each), with `x = sparse + dense`.
    ///
    /// # Errors
    /// [`crate::DataError::ShapeMismatch`] when the parts differ in shape or `z` in rows.
    pub fn from_parts(z: Array2<f32>, sparse: Array2<f32>, dense: Array2<f32>) -> Result<Self, crate::DataError> {
        if dense.dim() != sparse.dim() {
            return Err(crate::DataError::ShapeMismatch {
                what: "dense",
                expected: sparse.shape().to_vec(),
                found: dense.shape().to_vec(),
            });
        }
        if z.nrows() != sparse.nrows() {
            return Err(crate::DataError::ShapeMismatch {
                what: "z",
                expected: vec![sparse.nrows(), z.ncols()],
                found: z.shape().to_vec(),
            });
        }
        let x = &sparse + &dense;
        Ok(Self { z, sparse, dense, x })
    }

    /// The samples `x`, taken out of the batch.
    #[must_use]
    pub fn into_x(self) -> Array2<f32> {
        self.x
    }
}
