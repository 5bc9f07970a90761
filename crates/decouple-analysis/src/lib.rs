//! Measurements of what a trained network learned: alignment, feature
//! recovery, purity, sparse energy, activation sparsity, sign-support recovery
//! and linear probes (docs/model.md §6).
//!
//! Every metric is a plain function of plain arrays (it never trains and knows
//! nothing of the other decouple crates) returning a serde result struct, or
//! a matrix (`alignment_matrix`, `cosine_matrix`).
//! Conventions: weights `W` are m x d1 (row `w_i` per neuron), the dictionary
//! `M` is d1 x d (column `M_j` per feature, `x = z M^T + xi` row-wise),
//! representations `F = f(X)` are B x m, latents `z` are B x d; data arrive as
//! `f32` and every statistic accumulates in `f64`.
//!
//! # The maths
//!
//! | metric | formula | function |
//! |---|---|---|
//! | alignment | `A_ij = \|cos(w_i, M_j)\|` (0 for a zero vector) | [`alignment_matrix`], [`cosine_matrix`] |
//! | feature recovery | `best_j = max_i A_ij`; recovered if `best_j >= 0.9` | [`feature_recovery`] |
//! | neuron purity | `max_j A_ij`; `k_i = #{j : A_ij >= 0.3}` over alive neurons | [`neuron_purity`] |
//! | sparse energy | `e_i = \|\|M^T w_i\|\|^2 / \|\|w_i\|\|^2`, random baseline `d / d1` | [`sparse_energy`] |
//! | subspace energy | `e_i = \|\|H^T w_i\|\|^2 / \|\|w_i\|\|^2` for orthonormal `H` (d1 x r), baseline `r / d1` | [`subspace_energy`] |
//! | activity | dead: `F_bi = 0` for all b; sparsity `#{F_bi = 0} / (B m)` | [`activity_stats`] |
//! | support | neuron i votes `sign(s_i F_bi)` for `j*(i) = argmax_j A_ij` | [`support_recovery`] |
//! | logistic probe | `min (1/n) sum log(1 + e^{-y s}) + (lambda/2) \|\|w\|\|^2` | [`fit_logistic_probe`] |
//! | tuned probe | `lambda` minimising the k-fold held-out log-loss on the training split | [`fit_tuned_probe`] |
//! | effective rank | `exp(-sum_k p_k ln p_k)`, `p_k = lambda_k / sum lambda` of `cov(F)` | [`covariance_spectrum`], [`effective_rank`] |
//! | linear oracle | top-`k` generalised eigenvectors of `C v = lambda A v` (spectral loss, linear encoder) | [`linear_oracle`] |
//! | principal angles | `acos` of the singular values of `Q_X^T Q_Y`, degrees | [`principal_angles`], [`subspace_angles`] |
//! | ridge probe | `min (1/n) \|\|y - X beta\|\|^2 + lambda \|\|beta\|\|^2`, test `R^2` | [`fit_ridge_regression`] |
//!
//! A uniformly random unit vector in `R^{d1}` has `E e_i = d / d1` and, against
//! m such neurons, `best_j` of order `sqrt(2 ln(2m) / d1)`; an ideal network
//! (`W = M^T`) has `best_j = 1`, `e_i = 1` and one feature per neuron.
//!
//! # Example
//! ```
//! use decouple_analysis::{
//!     RecoveryConfig, alignment_matrix, feature_recovery, sparse_energy,
//! };
//! use ndarray::array;
//!
//! // d1 = 3, d = 2: the dictionary is two standard basis vectors.
//! let dictionary = array![[1.0_f32, 0.0], [0.0, 1.0], [0.0, 0.0]];
//! // Neuron 0 learned feature 0, neuron 1 learned -feature 1 plus some noise.
//! let weights = array![[2.0_f32, 0.0, 0.0], [0.0, -1.0, 1.0]];
//!
//! let a = alignment_matrix(weights.view(), dictionary.view()).unwrap();
//! let recovery = feature_recovery(a.view(), &RecoveryConfig::default()).unwrap();
//! assert_eq!(recovery.n_recovered, 1); // best_1 = 1/sqrt(2) < 0.9
//! assert!((recovery.best_per_feature[1] - 0.5_f64.sqrt()).abs() < 1e-12);
//!
//! let energy = sparse_energy(weights.view(), dictionary.view()).unwrap();
//! assert!((energy.energy_per_neuron[1] - 0.5).abs() < 1e-12);
//! assert!((energy.random_baseline - 2.0 / 3.0).abs() < 1e-12);
//! ```

mod activity;
mod alignment;
mod energy;
mod error;
mod linalg;
mod localisation;
mod logistic;
mod meter;
mod oracle;
mod probe;
mod probe_cv;
mod probe_multiclass;
mod recovery;
mod ridge;
mod spectrum;
mod stats;
mod support;

pub use activity::{ActivityStats, activity_stats};
pub use alignment::{alignment_matrix, cosine_matrix};
pub use energy::{ORTHONORMALITY_TOLERANCE, SubspaceEnergy, sparse_energy, subspace_energy};
pub use error::AnalysisError;
pub use localisation::{Localisation, excess_kurtosis, localisation, participation_ratio, response_kurtosis, top_k_energy_share};
pub use meter::{DirectionMeter, JACKKNIFE_BLOCKS, PairCorrelation, decoupling_meter, pair_correlation, soft_threshold};
pub use oracle::{
    LinearOracle, SubspaceAngles, generalized_symmetric_eigen, linear_oracle, orthonormal_basis, principal_angles, subspace_angles,
};
pub use probe::{DEFAULT_PROBE_TEST_SAMPLES, DEFAULT_PROBE_TRAIN_SAMPLES, ProbeConfig, ProbeResult, fit_logistic_probe};
pub use probe_cv::{LambdaChoice, TunedProbe, fit_tuned_probe};
pub use probe_multiclass::{MulticlassProbe, fit_multiclass_probe};
pub use recovery::{FeatureRecovery, NeuronPurity, PurityConfig, RecoveryConfig, feature_recovery, neuron_purity};
pub use ridge::{RidgeConfig, RidgeResult, fit_ridge_regression};
pub use spectrum::{covariance_spectrum, effective_rank, symmetric_eigen};
pub use stats::median;
pub use support::{SupportConfig, SupportRecovery, support_recovery};
