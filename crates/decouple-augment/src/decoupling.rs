//! Feature decoupling, made measurable (docs/model.md §2, `docs/theory.md`).
//!
//! For a direction `w` and a zero-mean component `c` (the sparse part `M z`
//! or the dense part `xi`) with covariance `Sigma`, an augmentation gives two
//! views `c+`, `c++` and the pair correlation
//! `rho(w) = E[<w,c+><w,c++>] / sqrt(E[<w,c+>^2] E[<w,c++>^2])`.
//! With `a = w^T Sigma w`, `g = sum_k w_k^2 Sigma_kk` and `n = ||w||^2`
//! ([`SecondMoments`]), the moments are exact, for any `Sigma`:
//!
//! | augmentation | cross moment | `E<w,c+>^2` | `E<w,c++>^2` |
//! |---|---|---|---|
//! | `Identity` | `a` | `a` | `a` |
//! | `ComplementaryMask(q)` | `a - g` | `a + (1/q - 1) g` | `a + (1/(1-q) - 1) g` |
//! | `IndependentMask(q)` | `a` | `a + (1/q - 1) g` | same |
//! | `GaussianNoise(s)`, dense part | `a` | `a + s^2 n` | same |
//! | `GaussianNoise(s)`, sparse part | `a` | `a` | `a` |
//!
//! (for an unrescaled independent mask every moment is multiplied by `q^2`,
//! which leaves `rho` unchanged). The Monte Carlo estimator
//! `rho_hat = sum a_i b_i / sqrt(sum a_i^2 sum b_i^2)` (means known to be 0)
//! comes with a delta-method standard error.

use decouple_data::SecondMoments;
use ndarray::{ArrayView2, Axis};
use serde::{Deserialize, Serialize};

pub use crate::moments::{Component, PairMoments};
use crate::{Augment, Augmentation, PositivePair, View};

impl Augmentation {
    /// The exact pair moments of `component` along `w`, from its [`SecondMoments`].
    #[must_use]
    pub fn pair_moments(&self, component: Component, moments: SecondMoments) -> PairMoments {
        let SecondMoments { quad: a, diag: g, norm2 } = moments;
        match (*self, component) {
            (Self::Identity {}, _) | (Self::GaussianNoise { .. }, Component::Sparse) => PairMoments { cross: a, first: a, second: a },
            (Self::ComplementaryMask { keep: q }, _) => {
                PairMoments { cross: a - g, first: a + (1.0 / q - 1.0) * g, second: a + (1.0 / (1.0 - q) - 1.0) * g }
            }
            (Self::IndependentMask { keep: q, rescale, .. }, _) => {
                let scale = if rescale { 1.0 } else { q * q };
                let variance = scale * (a + (1.0 / q - 1.0) * g);
                PairMoments { cross: scale * a, first: variance, second: variance }
            }
            (Self::GaussianNoise { sigma_a }, Component::Dense) => {
                let variance = a + sigma_a * sigma_a * norm2;
                PairMoments { cross: a, first: variance, second: variance }
            }
        }
    }

    /// The large-`d1` value of `rho_sparse(M_j)` for a delocalized dictionary
    /// (docs/model.md §2), where `sum_k w_k^2 ||M_k.||^2 ~ d / d1 =: r`:
    /// complementary `(1 - r) / sqrt((1 + (1/q - 1) r)(1 + (1/(1-q) - 1) r))`
    /// (`(1 - r)/(1 + r)` at `q = 1/2`), independent `1 / (1 + (1/q - 1) r)`,
    /// identity and noise `1`.
    #[must_use]
    pub fn aligned_sparse_correlation_limit(&self, d: usize, d1: usize) -> f64 {
        let r = d as f64 / d1 as f64;
        let moments = SecondMoments { quad: 1.0, diag: r, norm2: 1.0 };
        self.pair_moments(Component::Sparse, moments).correlation().unwrap_or(f64::NAN)
    }
}

/// A Monte Carlo estimate of a pair correlation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CorrelationEstimate {
    /// `rho_hat = sum a b / sqrt(sum a^2 sum b^2)`.
    pub rho: f64,
    /// Delta-method standard error of `rho_hat`.
    pub standard_error: f64,
    /// Number of pairs.
    pub n: u64,
}

/// Streaming sums for [`CorrelationEstimate`] (zero means known).
///
/// With `m_ab, m_aa, m_bb` the sample moments and
/// `psi_i = a_i b_i / sqrt(m_aa m_bb) - rho a_i^2 / (2 m_aa) - rho b_i^2 / (2 m_bb)`
/// the influence of pair `i`, `se = sd(psi) / sqrt(n)`; `E[psi^2]` expands
/// into the fourth-order sums kept here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CorrelationAccumulator {
    n: u64,
    ab: f64,
    aa: f64,
    bb: f64,
    aabb: f64,
    aaaa: f64,
    bbbb: f64,
    aaab: f64,
    abbb: f64,
}

impl CorrelationAccumulator {
    /// Adds one pair of projections.
    pub fn push(&mut self, a: f64, b: f64) {
        let (a2, b2) = (a * a, b * b);
        self.n += 1;
        self.ab += a * b;
        self.aa += a2;
        self.bb += b2;
        self.aabb += a2 * b2;
        self.aaaa += a2 * a2;
        self.bbbb += b2 * b2;
        self.aaab += a2 * a * b;
        self.abbb += a * b2 * b;
    }

    /// The estimate, or `None` before any pair with nonzero variance.
    #[must_use]
    pub fn estimate(&self) -> Option<CorrelationEstimate> {
        let n = self.n as f64;
        if self.n < 2 || self.aa <= 0.0 || self.bb <= 0.0 {
            return None;
        }
        let (m_ab, m_aa, m_bb) = (self.ab / n, self.aa / n, self.bb / n);
        let rho = m_ab / (m_aa * m_bb).sqrt();
        let alpha = 1.0 / (m_aa * m_bb).sqrt();
        let beta = rho / (2.0 * m_aa);
        let gamma = rho / (2.0 * m_bb);
        let psi_squared = (alpha * alpha * self.aabb + beta * beta * self.aaaa + gamma * gamma * self.bbbb
            - 2.0 * alpha * beta * self.aaab
            - 2.0 * alpha * gamma * self.abbb
            + 2.0 * beta * gamma * self.aabb)
            / n;
        let standard_error = (psi_squared.max(0.0) / n).sqrt();
        Some(CorrelationEstimate { rho, standard_error, n: self.n })
    }
}

/// Accumulates `rho_sparse(w)` and `rho_dense(w)` for many directions `w`
/// over batches of positive pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecouplingAccumulator {
    sparse: Vec<CorrelationAccumulator>,
    dense: Vec<CorrelationAccumulator>,
}

impl DecouplingAccumulator {
    /// An empty accumulator for `n_directions` directions.
    #[must_use]
    pub fn new(n_directions: usize) -> Self {
        Self { sparse: vec![CorrelationAccumulator::default(); n_directions], dense: vec![CorrelationAccumulator::default(); n_directions] }
    }

    /// Adds the projections of every pair of `pair` on each row of `directions` (`k x d1`).
    ///
    /// # Panics
    /// If `directions` does not have `k` rows of length `d1`.
    pub fn push(&mut self, pair: &PositivePair, directions: ArrayView2<'_, f64>) {
        self.push_views(&pair.first, &pair.second, directions);
    }

    /// Adds the projections of every sample's two views `first`, `second` on each row of `directions` (`k x d1`).
    ///
    /// # Panics
    /// If `directions` does not have `k` rows of length `d1`.
    pub fn push_views(&mut self, first: &View, second: &View, directions: ArrayView2<'_, f64>) {
        assert_eq!(directions.nrows(), self.sparse.len(), "one accumulator per direction");
        let project = |view: ArrayView2<'_, f32>| view.mapv(f64::from).dot(&directions.t());
        for (component, accumulators) in [(Component::Sparse, &mut self.sparse), (Component::Dense, &mut self.dense)] {
            let (first, second) = match component {
                Component::Sparse => (project(first.sparse()), project(second.sparse())),
                Component::Dense => (project(first.dense()), project(second.dense())),
            };
            for (row_first, row_second) in first.axis_iter(Axis(0)).zip(second.axis_iter(Axis(0))) {
                for ((accumulator, &a), &b) in accumulators.iter_mut().zip(&row_first).zip(&row_second) {
                    accumulator.push(a, b);
                }
            }
        }
    }

    /// Estimates for `component`, one per direction.
    #[must_use]
    pub fn estimates(&self, component: Component) -> Vec<Option<CorrelationEstimate>> {
        let accumulators = match component {
            Component::Sparse => &self.sparse,
            Component::Dense => &self.dense,
        };
        accumulators.iter().map(CorrelationAccumulator::estimate).collect()
    }
}

/// Monte Carlo pair correlations of `model`'s samples under `augmentation`
/// (any [`Augment`]; its [`Augment::decoupling_pair`]) along each row of
/// `directions` (`k x d1`), from `n_samples` fresh samples (drawn in batches
/// of at most 1024, each with a fresh augmentation draw).
///
/// # Errors
/// Invalid augmentation parameters; an augmentation that makes fewer than two views.
///
/// # Panics
/// If `directions` does not have `d1` columns.
pub fn monte_carlo<A: Augment + ?Sized, R: rand::Rng + ?Sized>(
    model: &decouple_data::SparseCodingModel,
    augmentation: &A,
    directions: ArrayView2<'_, f64>,
    n_samples: usize,
    rng: &mut R,
) -> Result<DecouplingAccumulator, crate::AugmentError> {
    augmentation.check()?;
    let mut accumulator = DecouplingAccumulator::new(directions.nrows());
    let mut remaining = n_samples;
    while remaining > 0 {
        let size = remaining.min(1024);
        let batch = model.sample(size, rng);
        let (first, second) = augmentation.decoupling_pair(&batch, rng)?;
        accumulator.push_views(&first, &second, directions);
        remaining -= size;
    }
    Ok(accumulator)
}

/// The [`SecondMoments`] of `model`'s `component` (`M z` or `xi`) along `w`.
#[must_use]
pub fn component_moments(model: &decouple_data::SparseCodingModel, component: Component, w: ndarray::ArrayView1<'_, f64>) -> SecondMoments {
    match component {
        Component::Sparse => model.sparse_moments(w),
        Component::Dense => model.dense_moments(w),
    }
}

/// The exact `rho_sparse(w)` or `rho_dense(w)` of `model` under
/// `augmentation`, from the pair moments it provides ([`Augment::pair_moments`]);
/// `None` without variance along `w`, or when the augmentation has no closed form.
#[must_use]
pub fn closed_form<A: Augment + ?Sized>(
    model: &decouple_data::SparseCodingModel,
    augmentation: &A,
    component: Component,
    w: ndarray::ArrayView1<'_, f64>,
) -> Option<f64> {
    augmentation.pair_moments(component, component_moments(model, component, w))?.correlation()
}

/// The second-moment matrices of a positive pair (`d1 x d1`): the matrix
/// form of [`PairMoments`], `w^T cross w = PairMoments::cross` for every `w`.
#[derive(Debug, Clone, PartialEq)]
pub struct PairCovariances {
    /// `E[c+ c++^T]` (symmetric for every built-in augmentation).
    pub cross: ndarray::Array2<f64>,
    /// `E[c+ c+^T]`.
    pub first: ndarray::Array2<f64>,
    /// `E[c++ c++^T]`.
    pub second: ndarray::Array2<f64>,
}

impl PairCovariances {
    /// `(first + second) / 2`: the second moment of a view drawn at random
    /// (equal to both unless a complementary mask has `keep != 1/2`).
    #[must_use]
    pub fn view_second_moment(&self) -> ndarray::Array2<f64> {
        (&self.first + &self.second) * 0.5
    }
}

impl Augmentation {
    /// The exact pair covariances of a zero-mean component with covariance
    /// `sigma` (`d1 x d1`), as the code draws the views (docs/theory.md §7):
    /// with `G = diag(sigma)`,
    ///
    /// | augmentation | cross | first | second |
    /// |---|---|---|---|
    /// | `Identity` | `S` | `S` | `S` |
    /// | `ComplementaryMask(q)` | `S - G` | `S + (1/q - 1) G` | `S + (1/(1-q) - 1) G` |
    /// | `IndependentMask(q)` | `S` | `S + (1/q - 1) G` | same |
    /// | `GaussianNoise(s)`, dense part | `S` | `S + s^2 I` | same |
    /// | `GaussianNoise(s)`, sparse part | `S` | `S` | `S` |
    ///
    /// (times `q^2` for an unrescaled independent mask).
    #[must_use]
    pub fn pair_covariances(&self, component: Component, sigma: ArrayView2<'_, f64>) -> PairCovariances {
        let n = sigma.nrows();
        let diagonal = ndarray::Array2::from_diag(&sigma.diag());
        let plus_diagonal = |factor: f64| &sigma + &(&diagonal * factor);
        match (*self, component) {
            (Self::Identity {}, _) | (Self::GaussianNoise { .. }, Component::Sparse) => {
                PairCovariances { cross: sigma.to_owned(), first: sigma.to_owned(), second: sigma.to_owned() }
            }
            (Self::ComplementaryMask { keep: q }, _) => PairCovariances {
                cross: &sigma - &diagonal,
                first: plus_diagonal(1.0 / q - 1.0),
                second: plus_diagonal(1.0 / (1.0 - q) - 1.0),
            },
            (Self::IndependentMask { keep: q, rescale, .. }, _) => {
                let scale = if rescale { 1.0 } else { q * q };
                let variance = plus_diagonal(1.0 / q - 1.0) * scale;
                PairCovariances { cross: sigma.mapv(|e| e * scale), first: variance.clone(), second: variance }
            }
            (Self::GaussianNoise { sigma_a }, Component::Dense) => {
                let variance = &sigma + &(ndarray::Array2::<f64>::eye(n) * (sigma_a * sigma_a));
                PairCovariances { cross: sigma.to_owned(), first: variance.clone(), second: variance }
            }
        }
    }
}

/// The covariance (`d1 x d1`) of `model`'s `component`: `c M M^T` for the
/// sparse part (`c` the latent second moment); `sigma^2 I`,
/// `sigma^2 (d1 / rank) H H^T` or `sigma^2 (I - M M^T)` for the dense part.
#[must_use]
pub fn component_covariance(model: &decouple_data::SparseCodingModel, component: Component) -> ndarray::Array2<f64> {
    use decouple_data::DenseFeatures;
    let config = model.config();
    let (d1, sigma) = (config.d1, config.dense.sigma());
    let dictionary = model.dictionary().matrix_f64();
    let projector = |basis: ArrayView2<'_, f64>| basis.dot(&basis.t());
    match component {
        Component::Sparse => projector(dictionary) * config.latent.second_moment(config.d),
        Component::Dense => match config.dense {
            DenseFeatures::LowRank { rank, .. } => {
                let basis = model.dense_basis().expect("a LowRank model has a dense basis");
                projector(basis) * (sigma * sigma * d1 as f64 / rank as f64)
            }
            DenseFeatures::OrthogonalComplement { .. } => (ndarray::Array2::<f64>::eye(d1) - projector(dictionary)) * (sigma * sigma),
            _ => ndarray::Array2::<f64>::eye(d1) * (sigma * sigma),
        },
    }
}

/// The pair covariances of `x = M z + xi` under `augmentation`: the sum of
/// those of the sparse and the dense part (independent and zero-mean, under
/// the same mask, so their cross terms vanish).
#[must_use]
pub fn pair_covariances_of_x(model: &decouple_data::SparseCodingModel, augmentation: &Augmentation) -> PairCovariances {
    let sparse = augmentation.pair_covariances(Component::Sparse, component_covariance(model, Component::Sparse).view());
    let dense = augmentation.pair_covariances(Component::Dense, component_covariance(model, Component::Dense).view());
    PairCovariances { cross: sparse.cross + dense.cross, first: sparse.first + dense.first, second: sparse.second + dense.second }
}
