//! The dictionary `M` (d1 x d, orthonormal columns) whose columns are the
//! sparse features.
//!
//! * [`DictionaryKind::RandomOrthonormal`]: `M = Q` of the thin QR of a
//!   `d1 x d` standard Gaussian matrix. Its columns are uniformly distributed
//!   orthonormal frames, hence *delocalized*: every entry is
//!   `O(sqrt(log d1 / d1))` with high probability.
//! * [`DictionaryKind::Identity`]: `M = [e_1 ... e_d]`, localized features (a
//!   negative control: coordinate masking destroys them).

use ndarray::{Array2, ArrayView1, ArrayView2};
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::{DataError, linalg};

/// Which dictionary to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DictionaryKind {
    /// Thin QR factor of a Gaussian `d1 x d` matrix (delocalized columns).
    #[default]
    RandomOrthonormal,
    /// The first `d` standard basis vectors of `R^{d1}` (localized columns).
    Identity,
}

/// Tolerance on `max |M^T M - I|` accepted by [`Dictionary::from_matrix`].
pub const ORTHONORMAL_TOLERANCE: f64 = 1e-5;

/// A `d1 x d` matrix with orthonormal columns, stored in `f32` (for sampling)
/// and `f64` (for exact statistics). Not serialised: it is rebuilt from a
/// `DataConfig` and a seed.
#[derive(Debug, Clone, PartialEq)]
pub struct Dictionary {
    kind: DictionaryKind,
    matrix: Array2<f32>,
    matrix_f64: Array2<f64>,
    /// `M^T` (`d x d1`, row `j` = feature `j`), contiguous, for sampling `z M^T` row by row.
    features_f32: Array2<f32>,
}

impl Dictionary {
    /// Draws a dictionary of the given kind; checks `d1 >= d >= 1`.
    ///
    /// # Errors
    /// [`DataError::OutOfRange`] if `d == 0` or `d1 < d`.
    pub fn generate<R: Rng + ?Sized>(kind: DictionaryKind, d: usize, d1: usize, rng: &mut R) -> Result<Self, DataError> {
        check_dimensions(d, d1)?;
        let matrix_f64 = match kind {
            DictionaryKind::Identity => Array2::from_shape_fn((d1, d), |(i, j)| f64::from(u8::from(i == j))),
            DictionaryKind::RandomOrthonormal => loop {
                let mut gaussian = Array2::from_shape_simple_fn((d1, d), || rng.sample::<f64, _>(StandardNormal));
                if linalg::orthonormalize_columns(&mut gaussian, Array2::zeros((d1, 0)).view()) {
                    break gaussian;
                }
            },
        };
        Ok(Self::with_parts(kind, matrix_f64.mapv(|v| v as f32), matrix_f64))
    }

    fn with_parts(kind: DictionaryKind, matrix: Array2<f32>, matrix_f64: Array2<f64>) -> Self {
        let features_f32 = matrix.t().as_standard_layout().into_owned();
        Self { kind, matrix, matrix_f64, features_f32 }
    }

    /// Wraps a user-supplied `d1 x d` matrix after checking its columns are
    /// orthonormal within [`ORTHONORMAL_TOLERANCE`]. Its kind is recorded as
    /// `RandomOrthonormal` unless it equals the identity-like dictionary.
    ///
    /// # Errors
    /// [`DataError::OutOfRange`] for bad dimensions, [`DataError::NotOrthonormal`].
    pub fn from_matrix(matrix: Array2<f64>) -> Result<Self, DataError> {
        let (d1, d) = matrix.dim();
        check_dimensions(d, d1)?;
        let deviation = linalg::orthonormality_error(matrix.view());
        if deviation.is_nan() || deviation > ORTHONORMAL_TOLERANCE {
            return Err(DataError::NotOrthonormal { what: "dictionary", deviation, tolerance: ORTHONORMAL_TOLERANCE });
        }
        let is_identity = matrix.indexed_iter().all(|((i, j), &v)| v == f64::from(u8::from(i == j)));
        let kind = if is_identity { DictionaryKind::Identity } else { DictionaryKind::RandomOrthonormal };
        Ok(Self::with_parts(kind, matrix.mapv(|v| v as f32), matrix))
    }

    /// How this dictionary was made.
    #[must_use]
    pub fn kind(&self) -> DictionaryKind {
        self.kind
    }

    /// Number of sparse features `d`.
    #[must_use]
    pub fn d(&self) -> usize {
        self.matrix.ncols()
    }

    /// Ambient dimension `d1`.
    #[must_use]
    pub fn d1(&self) -> usize {
        self.matrix.nrows()
    }

    /// `M` as `f32` (`d1 x d`).
    #[must_use]
    pub fn matrix(&self) -> ArrayView2<'_, f32> {
        self.matrix.view()
    }

    /// `M^T` as `f32` (`d x d1`, standard layout: row `j` is feature `j`).
    #[must_use]
    pub fn features_f32(&self) -> ArrayView2<'_, f32> {
        self.features_f32.view()
    }

    /// `M` as `f64` (`d1 x d`), for exact statistics.
    #[must_use]
    pub fn matrix_f64(&self) -> ArrayView2<'_, f64> {
        self.matrix_f64.view()
    }

    /// Feature `M_j` (column `j`) in `f64`.
    ///
    /// # Panics
    /// If `j >= d`.
    #[must_use]
    pub fn feature(&self, j: usize) -> ArrayView1<'_, f64> {
        self.matrix_f64.column(j)
    }

    /// `max_{kj} |M_kj|`: about `sqrt(2 log(d1 d) / d1)` for a random dictionary, 1 for identity.
    #[must_use]
    pub fn max_abs_entry(&self) -> f64 {
        self.matrix_f64.iter().fold(0.0, |acc, v| acc.max(v.abs()))
    }

    /// Row norms squared `||M_k.||^2` (the diagonal of `M M^T`), length `d1`.
    #[must_use]
    pub fn leverage(&self) -> ndarray::Array1<f64> {
        self.matrix_f64.rows().into_iter().map(|row| row.dot(&row)).collect()
    }
}

/// Checks `d1 >= d >= 1`.
pub(crate) fn check_dimensions(d: usize, d1: usize) -> Result<(), DataError> {
    if d == 0 {
        return Err(DataError::out_of_range("d", 0.0, ">= 1"));
    }
    if d1 < d {
        return Err(DataError::out_of_range("d1", d1 as f64, format!(">= d = {d}")));
    }
    Ok(())
}
