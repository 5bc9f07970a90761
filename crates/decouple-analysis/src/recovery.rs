//! Feature recovery and neuron purity, both read off the alignment matrix
//! `A_ij = |cos(w_i, M_j)|` (m neurons x d features, see [`crate::alignment_matrix`]).
//!
//! * Feature recovery (per feature, a column maximum): `best_j = max_i A_ij`;
//!   feature j counts as recovered when `best_j >= t` (default `t = 0.9`, the
//!   threshold of docs/model.md §6 and the peer's "Max/Med/Min Wo_dot_M").
//! * Neuron purity (per neuron, a row maximum): `purity_i = max_j A_ij`, and the
//!   number of features the neuron is aligned with, `k_i = #{j : A_ij >= t}`
//!   (default `t = 0.3`, our choice; see [`PurityConfig`]).

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::error::{AnalysisError, check_finite_f64, check_nonempty_2d, check_threshold};
use crate::stats::summarize;

/// Threshold of [`feature_recovery`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RecoveryConfig {
    /// Feature j is recovered when `best_j >= threshold`; in `[0, 1]`, default 0.9 (docs/model.md §6).
    pub threshold: f64,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        Self { threshold: 0.9 }
    }
}

impl RecoveryConfig {
    /// Validates the threshold (`[0, 1]`).
    ///
    /// # Errors
    /// [`AnalysisError::ThresholdOutOfRange`] naming `threshold`.
    pub fn check(&self) -> Result<(), AnalysisError> {
        check_threshold("threshold", self.threshold)
    }
}

/// How well each sparse feature is represented by its best neuron.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureRecovery {
    /// The recovery threshold used.
    pub threshold: f64,
    /// Number of features d.
    pub n_features: usize,
    /// Number of neurons m.
    pub n_neurons: usize,
    /// `best_j = max_i A_ij`, one entry per feature.
    pub best_per_feature: Vec<f64>,
    /// `argmax_i A_ij` (first index on ties), one entry per feature.
    pub best_neuron_per_feature: Vec<usize>,
    /// `max_j best_j`.
    pub max: f64,
    /// Median of `best_j` over features (mean of the two middle values for even d).
    pub median: f64,
    /// `min_j best_j`.
    pub min: f64,
    /// Mean of `best_j` over features.
    pub mean: f64,
    /// `#{j : best_j >= threshold}`.
    pub n_recovered: usize,
}

/// Feature recovery `best_j = max_i A_ij` from an alignment matrix `A` (m x d).
///
/// # Errors
/// [`AnalysisError::ThresholdOutOfRange`], [`AnalysisError::Empty`],
/// [`AnalysisError::NonFinite`].
pub fn feature_recovery(alignment: ArrayView2<'_, f64>, config: &RecoveryConfig) -> Result<FeatureRecovery, AnalysisError> {
    config.check()?;
    check_nonempty_2d("alignment", &alignment)?;
    check_finite_f64("alignment", &alignment)?;
    let (n_neurons, n_features) = alignment.dim();
    let mut best_per_feature = Vec::with_capacity(n_features);
    let mut best_neuron_per_feature = Vec::with_capacity(n_features);
    for column in alignment.columns() {
        let (neuron, value) = first_argmax(column.iter().copied());
        best_per_feature.push(value);
        best_neuron_per_feature.push(neuron);
    }
    let summary = summarize(&best_per_feature);
    let n_recovered = best_per_feature.iter().filter(|&&b| b >= config.threshold).count();
    Ok(FeatureRecovery {
        threshold: config.threshold,
        n_features,
        n_neurons,
        best_per_feature,
        best_neuron_per_feature,
        max: summary.max,
        median: summary.median,
        min: summary.min,
        mean: summary.mean,
        n_recovered,
    })
}

/// Threshold of [`neuron_purity`].
///
/// Default `t = 0.3`, our choice: with an orthonormal dictionary
/// `sum_j A_ij^2 <= 1`, so at most `1/t^2 = 11` features can pass, leaving room
/// to see a neuron mixing a few features, while the largest cosine between a
/// random direction and any of d features, about `sqrt(2 ln(2d) / d1)` (0.13 at
/// d = 32, d1 = 512), stays far below it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PurityConfig {
    /// Feature j counts for neuron i when `A_ij >= threshold`; in `[0, 1]`, default 0.3.
    pub threshold: f64,
}

impl Default for PurityConfig {
    fn default() -> Self {
        Self { threshold: 0.3 }
    }
}

impl PurityConfig {
    /// Validates the threshold (`[0, 1]`).
    ///
    /// # Errors
    /// [`AnalysisError::ThresholdOutOfRange`] naming `threshold`.
    pub fn check(&self) -> Result<(), AnalysisError> {
        check_threshold("threshold", self.threshold)
    }
}

/// How many features each neuron mixes (theory: O(1), ideally one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeuronPurity {
    /// The threshold used for `features_per_neuron`.
    pub threshold: f64,
    /// Number of neurons m.
    pub n_neurons: usize,
    /// Number of neurons counted as alive (those the summary runs over).
    pub n_alive: usize,
    /// `purity_i = max_j A_ij`, one entry per neuron (alive or not).
    pub purity_per_neuron: Vec<f64>,
    /// `argmax_j A_ij` (first index on ties), one entry per neuron.
    pub best_feature_per_neuron: Vec<usize>,
    /// `k_i = #{j : A_ij >= threshold}`, one entry per neuron.
    pub features_per_neuron: Vec<usize>,
    /// Mean of `purity_i` over alive neurons (0 if none).
    pub mean_purity: f64,
    /// Median of `purity_i` over alive neurons (0 if none).
    pub median_purity: f64,
    /// Mean of `k_i` over alive neurons (0 if none).
    pub mean_features_per_neuron: f64,
    /// Number of alive neurons with `k_i == 1`.
    pub n_single_feature: usize,
}

/// Neuron purity `purity_i = max_j A_ij` and features per neuron
/// `k_i = #{j : A_ij >= t}`, summarised over alive neurons.
///
/// `alive` marks the neurons to summarise (one entry per neuron, e.g.
/// [`crate::ActivityStats::alive`]); with `None`, a neuron is alive when its
/// alignment row is not all zero (a zero-norm neuron has an all-zero row).
///
/// # Errors
/// [`AnalysisError::ThresholdOutOfRange`], [`AnalysisError::Empty`],
/// [`AnalysisError::NonFinite`], and [`AnalysisError::ShapeMismatch`] when
/// `alive` does not have one entry per row of `alignment`.
pub fn neuron_purity(alignment: ArrayView2<'_, f64>, alive: Option<&[bool]>, config: &PurityConfig) -> Result<NeuronPurity, AnalysisError> {
    config.check()?;
    check_nonempty_2d("alignment", &alignment)?;
    check_finite_f64("alignment", &alignment)?;
    let n_neurons = alignment.nrows();
    if let Some(mask) = alive {
        if mask.len() != n_neurons {
            return Err(AnalysisError::ShapeMismatch {
                left: "alignment",
                left_shape: alignment.shape().to_vec(),
                right: "alive",
                right_shape: vec![mask.len()],
                requirement: "alive.len() == alignment.nrows() (one entry per neuron)",
            });
        }
    }
    let mut purity_per_neuron = Vec::with_capacity(n_neurons);
    let mut best_feature_per_neuron = Vec::with_capacity(n_neurons);
    let mut features_per_neuron = Vec::with_capacity(n_neurons);
    let mut alive_purity = Vec::new();
    let mut alive_counts = Vec::new();
    for (i, row) in alignment.rows().into_iter().enumerate() {
        let (feature, purity) = first_argmax(row.iter().copied());
        let count = row.iter().filter(|&&a| a >= config.threshold).count();
        let is_alive = match alive {
            Some(mask) => mask[i],
            None => row.iter().any(|&a| a != 0.0),
        };
        if is_alive {
            alive_purity.push(purity);
            alive_counts.push(count);
        }
        purity_per_neuron.push(purity);
        best_feature_per_neuron.push(feature);
        features_per_neuron.push(count);
    }
    let summary = summarize(&alive_purity);
    let n_alive = alive_purity.len();
    let mean_features_per_neuron = if n_alive == 0 { 0.0 } else { alive_counts.iter().sum::<usize>() as f64 / n_alive as f64 };
    Ok(NeuronPurity {
        threshold: config.threshold,
        n_neurons,
        n_alive,
        purity_per_neuron,
        best_feature_per_neuron,
        features_per_neuron,
        mean_purity: summary.mean,
        median_purity: summary.median,
        mean_features_per_neuron,
        n_single_feature: alive_counts.iter().filter(|&&k| k == 1).count(),
    })
}

/// Index and value of the first maximum of a non-empty sequence.
pub(crate) fn first_argmax(values: impl Iterator<Item = f64>) -> (usize, f64) {
    let mut best = (0, f64::NEG_INFINITY);
    for (index, value) in values.enumerate() {
        if value > best.1 {
            best = (index, value);
        }
    }
    best
}
