//! The sparse-coding model `x = M z + xi` and its configuration.

use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut2, linalg::general_mat_mul};
use rand::Rng;
use rand_distr::StandardNormal;

use crate::normal::fill_normal;
use serde::{Deserialize, Serialize};

use crate::dictionary::check_dimensions;
use crate::{
    Batch, DataError, DenseFeatures, Dictionary, DictionaryKind, FeatureStrengths, SecondMoments, SparseLatent, linalg, parallel, rng,
};

/// Everything that defines the data distribution (plain serde data).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DataConfig {
    /// Number of sparse features `d >= 1`.
    pub d: usize,
    /// Ambient dimension `d1 >= d`.
    pub d1: usize,
    /// How the dictionary is drawn.
    #[serde(default)]
    pub dictionary: DictionaryKind,
    /// Distribution of the sparse latent `z`.
    pub latent: SparseLatent,
    /// Distribution of the dense features `xi`.
    pub dense: DenseFeatures,
    /// Per-feature strengths `alpha_j` (sparse part `M diag(alpha) z`; default uniform).
    #[serde(default)]
    pub strengths: FeatureStrengths,
}

impl Default for DataConfig {
    /// docs/model.md §7: `d = 32`, `d1 = 512`, `p = 2/d`, isotropic `sigma = 0.25`.
    fn default() -> Self {
        Self {
            d: 32,
            d1: 512,
            dictionary: DictionaryKind::RandomOrthonormal,
            latent: SparseLatent::default(),
            dense: DenseFeatures::default(),
            strengths: FeatureStrengths::Uniform {},
        }
    }
}

impl DataConfig {
    /// Validates every field.
    ///
    /// # Errors
    /// The first field out of range, named.
    pub fn check(&self) -> Result<(), DataError> {
        check_dimensions(self.d, self.d1)?;
        self.latent.check(self.d)?;
        self.dense.check(self.d, self.d1)?;
        self.strengths.check(self.d)
    }

    /// The dense-to-sparse energy ratio `E||xi||^2 / E||M diag(alpha) z||^2`
    /// (`sigma^2 d1 / (c sum_j alpha_j^2)`; `sigma^2 d1 / (p d)` for isotropic noise and unit strengths).
    #[must_use]
    pub fn energy_ratio(&self) -> f64 {
        self.dense.expected_energy(self.d, self.d1) / (self.latent.second_moment(self.d) * self.strengths.sum_of_squares(self.d))
    }
}

/// A realised data model: the config with its dictionary (and dense basis);
/// rebuilt from its `DataConfig` and seed rather than serialised.
#[derive(Debug, Clone, PartialEq)]
pub struct SparseCodingModel {
    config: DataConfig,
    dictionary: Dictionary,
    /// `H` (d1 x rank) for `LowRank` dense features, orthogonal to span(M).
    dense_basis: Option<Array2<f64>>,
    dense_basis_f32: Option<Array2<f32>>,
    /// `diag(alpha) M^T` (d x d1, the rows added to a sample's sparse part).
    scaled_features: Array2<f32>,
}

impl SparseCodingModel {
    /// Draws the dictionary (and, for `LowRank`, the dense basis) from `rng`.
    ///
    /// # Errors
    /// Any invalid field of `config`.
    pub fn new<R: Rng + ?Sized>(config: DataConfig, rng: &mut R) -> Result<Self, DataError> {
        config.check()?;
        let dictionary = Dictionary::generate(config.dictionary, config.d, config.d1, rng)?;
        let dense_basis = match config.dense {
            DenseFeatures::LowRank { rank, .. } => Some(loop {
                let mut gaussian = Array2::from_shape_simple_fn((config.d1, rank), || rng.sample::<f64, _>(StandardNormal));
                if linalg::orthonormalize_columns(&mut gaussian, dictionary.matrix_f64()) {
                    break gaussian;
                }
            }),
            _ => None,
        };
        let dense_basis_f32 = dense_basis.as_ref().map(|basis| basis.mapv(|v| v as f32));
        let mut scaled_features = dictionary.features_f32().to_owned();
        if !config.strengths.is_uniform() {
            for (j, mut row) in scaled_features.rows_mut().into_iter().enumerate() {
                let alpha = config.strengths.alpha(j);
                row.zip_mut_with(&dictionary.feature(j), |value, &exact| *value = (alpha * exact) as f32);
            }
        }
        Ok(Self { config, dictionary, dense_basis, dense_basis_f32, scaled_features })
    }

    /// [`SparseCodingModel::new`] with the `"dictionary"` stream of `seed`.
    ///
    /// # Errors
    /// Any invalid field of `config`.
    pub fn from_seed(config: DataConfig, seed: u64) -> Result<Self, DataError> {
        Self::new(config, &mut rng::stream(seed, "dictionary"))
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &DataConfig {
        &self.config
    }

    /// The dictionary `M`.
    #[must_use]
    pub fn dictionary(&self) -> &Dictionary {
        &self.dictionary
    }

    /// The dense basis `H` (d1 x rank) of `LowRank` dense features.
    #[must_use]
    pub fn dense_basis(&self) -> Option<ArrayView2<'_, f64>> {
        self.dense_basis.as_ref().map(Array2::view)
    }

    /// The strength `alpha_j` of every feature.
    #[must_use]
    pub fn strengths(&self) -> Vec<f64> {
        self.config.strengths.alphas(self.config.d)
    }

    /// Second moments of the sparse part `M diag(alpha) z` along `w` (`Sigma = c M diag(alpha^2) M^T`).
    #[must_use]
    pub fn sparse_moments(&self, w: ArrayView1<'_, f64>) -> SecondMoments {
        let c = self.config.latent.second_moment(self.config.d);
        if self.config.strengths.is_uniform() {
            SecondMoments::of_projector(c, self.dictionary.matrix_f64(), w)
        } else {
            let weights: Vec<f64> = self.strengths().iter().map(|alpha| alpha * alpha).collect();
            SecondMoments::of_weighted_columns(c, self.dictionary.matrix_f64(), &weights, w)
        }
    }

    /// Second moments of the dense part `xi` along `w`.
    #[must_use]
    pub fn dense_moments(&self, w: ArrayView1<'_, f64>) -> SecondMoments {
        let (d1, sigma) = (self.config.d1 as f64, self.config.dense.sigma());
        match self.config.dense {
            DenseFeatures::IsotropicGaussian { .. } => SecondMoments::of_isotropic(sigma * sigma, w),
            DenseFeatures::LowRank { rank, .. } => {
                let basis = self.dense_basis.as_ref().expect("LowRank model has a dense basis");
                SecondMoments::of_projector(sigma * sigma * d1 / rank as f64, basis.view(), w)
            }
            DenseFeatures::OrthogonalComplement { .. } => SecondMoments::of_complement(sigma * sigma, self.dictionary.matrix_f64(), w),
        }
    }

    /// Draws `n` fresh samples.
    pub fn sample<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Batch {
        let mut batch = Batch::zeros(n, self.config.d, self.config.d1);
        self.sample_into(&mut batch, rng);
        batch
    }

    /// Overwrites every sample of `batch` with a fresh draw (no allocation for
    /// isotropic dense features and `Bernoulli` or `OneHot` latents).
    ///
    /// Draw order, per batch: all of `z` row by row, then all of the dense
    /// noise in row-major blocks ([`fill_normal`]; pinned by the
    /// value-stability test). `z M^T` is computed from the nonzero entries of
    /// `z` only (rows in parallel inside a rayon pool; the same result).
    ///
    /// # Panics
    /// If `batch` was not made for this model's `d` and `d1`.
    pub fn sample_into<R: Rng + ?Sized>(&self, batch: &mut Batch, rng: &mut R) {
        assert_eq!((batch.d(), batch.d1()), (self.config.d, self.config.d1), "batch shape does not match the model");
        self.config.latent.sample_into(batch.z.view_mut(), rng);
        let (d, d1) = (self.config.d, self.config.d1);
        let Batch { z, sparse, dense, x } = batch;
        let z = z.as_slice().expect("batch arrays are contiguous");
        let features = self.scaled_features.view();
        // sparse = z diag(alpha) M^T row by row; z is in {-1, 0, +1}, so only its
        // nonzero entries contribute (added in increasing j, as the dense product did).
        parallel::for_chunks(contiguous(sparse), CHUNK_ROWS * d1, |chunk, rows| {
            for (local, row) in rows.chunks_mut(d1).enumerate() {
                let r = chunk * CHUNK_ROWS + local;
                row.fill(0.0);
                for (j, &z_rj) in z[r * d..(r + 1) * d].iter().enumerate() {
                    if z_rj != 0.0 {
                        let feature = features.row(j);
                        let feature = feature.as_slice().expect("M^T is contiguous");
                        row.iter_mut().zip(feature).for_each(|(s, &m)| *s += z_rj * m);
                    }
                }
            }
        });
        self.sample_dense_into(dense.view_mut(), rng);
        let (sparse, dense) = (sparse.as_slice().expect("contiguous"), dense.as_slice().expect("contiguous"));
        parallel::for_chunks(contiguous(x), CHUNK_ROWS * d1, |chunk, rows| {
            let start = chunk * CHUNK_ROWS * d1;
            for ((x, &s), &xi) in rows.iter_mut().zip(&sparse[start..]).zip(&dense[start..]) {
                *x = s + xi;
            }
        });
    }

    fn sample_dense_into<R: Rng + ?Sized>(&self, mut dense: ArrayViewMut2<'_, f32>, rng: &mut R) {
        let (d1, sigma) = (self.config.d1 as f32, self.config.dense.sigma() as f32);
        match self.config.dense {
            DenseFeatures::IsotropicGaussian { .. } => fill_gaussian(dense.view_mut(), sigma, rng),
            DenseFeatures::LowRank { rank, .. } => {
                let basis = self.dense_basis_f32.as_ref().expect("LowRank model has a dense basis");
                let mut zeta = Array2::<f32>::zeros((dense.nrows(), rank));
                fill_gaussian(zeta.view_mut(), sigma * (d1 / rank as f32).sqrt(), rng);
                general_mat_mul(1.0, &zeta, &basis.t(), 0.0, &mut dense);
            }
            DenseFeatures::OrthogonalComplement { .. } => {
                fill_gaussian(dense.view_mut(), sigma, rng);
                let m = self.dictionary.matrix();
                let coefficients = dense.dot(&m);
                general_mat_mul(-1.0, &coefficients, &m.t(), 1.0, &mut dense);
            }
        }
    }
}

/// Rows per parallel task when sampling a batch (a fixed split: results do not depend on threads).
const CHUNK_ROWS: usize = 8;

fn contiguous(array: &mut Array2<f32>) -> &mut [f32] {
    array.as_slice_mut().expect("batch arrays are contiguous")
}

/// Fills `out` with independent `N(0, sigma^2)` draws in row-major order,
/// by [`fill_normal`]'s blocked Box–Muller transform.
pub fn fill_gaussian<R: Rng + ?Sized>(mut out: ArrayViewMut2<'_, f32>, sigma: f32, rng: &mut R) {
    if let Some(values) = out.as_slice_mut() {
        fill_normal(values, sigma, rng);
    } else {
        let mut values = vec![0.0; out.len()];
        fill_normal(&mut values, sigma, rng);
        out.iter_mut().zip(values).for_each(|(out, value)| *out = value);
    }
}
