//! Sign-support recovery against the sparse latent z (the peer's "support" and
//! "false support", docs/model.md §6).
//!
//! Inputs: the representation `F` (B x m) on clean inputs, the latent `z`
//! (B x d, entries in {-1, 0, +1}) of the same samples, and the signed cosines
//! `C` (m x d, [`crate::cosine_matrix`]).
//!
//! 1. Assignment. Neuron i is assigned to `j*(i) = argmax_j |C_ij|` (first index
//!    on ties) with sign `s_i = sign(C_{i j*(i)})`, provided
//!    `|C_{i j*(i)}| > 0` and `|C_{i j*(i)}| >= min_alignment`; otherwise it is
//!    unassigned and ignored.
//! 2. Prediction. For sample b and feature j, the *votes* are the signs
//!    `sign(s_i F_bi)` of the assigned neurons `i` with `j*(i) = j` and
//!    `F_bi != 0` (active).
//! 3. Scores, over the pairs (b, j):
//!    * match rate = `#{z_bj != 0 and some vote == z_bj} / #{z_bj != 0}`;
//!    * wrong-sign rate = `#{z_bj != 0 and some vote == -z_bj} / #{z_bj != 0}`;
//!    * false-support rate = `#{z_bj == 0 and some vote exists} / #{z_bj == 0}`;
//!    * exact rate = fraction of samples b whose votes are, for every j,
//!      exactly `{z_bj}` when `z_bj != 0` and empty when `z_bj == 0`.
//!
//! A rate whose denominator is 0 is reported as 0 (the counts are reported too).

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::error::{AnalysisError, check_finite_f32, check_finite_f64, check_nonempty_2d, check_same_rows, check_threshold};
use crate::recovery::first_argmax;

/// Parameters of [`support_recovery`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SupportConfig {
    /// Neurons whose best alignment `max_j |C_ij|` is below this are not
    /// assigned to any feature; in `[0, 1]`, default 0 (every neuron with a
    /// nonzero weight vector is assigned, as in the peer's measurement).
    pub min_alignment: f64,
}

impl Default for SupportConfig {
    fn default() -> Self {
        Self { min_alignment: 0.0 }
    }
}

impl SupportConfig {
    /// Validates `min_alignment` (`[0, 1]`).
    ///
    /// # Errors
    /// [`AnalysisError::ThresholdOutOfRange`] naming `min_alignment`.
    pub fn check(&self) -> Result<(), AnalysisError> {
        check_threshold("min_alignment", self.min_alignment)
    }
}

/// Result of [`support_recovery`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupportRecovery {
    /// The assignment threshold used.
    pub min_alignment: f64,
    /// Number of samples B.
    pub n_samples: usize,
    /// `j*(i)` for every neuron, `None` when unassigned.
    pub assigned_feature_per_neuron: Vec<Option<usize>>,
    /// `s_i` in {-1, +1} for every neuron, 0 when unassigned.
    pub assigned_sign_per_neuron: Vec<i8>,
    /// Number of features with at least one assigned neuron.
    pub n_features_covered: usize,
    /// `#{(b, j) : z_bj != 0}`.
    pub n_nonzero: usize,
    /// `#{(b, j) : z_bj == 0}`.
    pub n_zero: usize,
    /// `#{(b, j) : z_bj != 0, some vote == z_bj}`.
    pub n_matched: usize,
    /// `#{(b, j) : z_bj != 0, some vote == -z_bj}`.
    pub n_wrong_sign: usize,
    /// `#{(b, j) : z_bj == 0, some vote}`.
    pub n_false_support: usize,
    /// `n_matched / n_nonzero`.
    pub match_rate: f64,
    /// `n_wrong_sign / n_nonzero`.
    pub wrong_sign_rate: f64,
    /// `n_false_support / n_zero`.
    pub false_support_rate: f64,
    /// Fraction of samples whose signed support is recovered exactly.
    pub exact_rate: f64,
}

/// Sign-support recovery of the latent `z` (B x d) from the representation `F`
/// (B x m) through the neuron-to-feature assignment given by the signed
/// cosines `C` (m x d); see the module documentation for the exact rules.
///
/// # Errors
/// [`AnalysisError::ShapeMismatch`] unless `features` and `latent` have the
/// same rows, `features.ncols() == cosines.nrows()` and
/// `latent.ncols() == cosines.ncols()`; [`AnalysisError::Empty`];
/// [`AnalysisError::NonFinite`]; [`AnalysisError::InvalidLatent`] for a latent
/// entry outside {-1, 0, +1}; [`AnalysisError::ThresholdOutOfRange`].
pub fn support_recovery(
    features: ArrayView2<'_, f32>,
    latent: ArrayView2<'_, f32>,
    cosines: ArrayView2<'_, f64>,
    config: &SupportConfig,
) -> Result<SupportRecovery, AnalysisError> {
    config.check()?;
    check_inputs(&features, &latent, &cosines)?;
    let (n_samples, n_features) = latent.dim();

    let mut assigned_feature_per_neuron = Vec::with_capacity(cosines.nrows());
    let mut assigned_sign_per_neuron = Vec::with_capacity(cosines.nrows());
    let mut covered = vec![false; n_features];
    for row in cosines.rows() {
        let (j, best) = first_argmax(row.iter().map(|c| c.abs()));
        if best > 0.0 && best >= config.min_alignment {
            assigned_feature_per_neuron.push(Some(j));
            assigned_sign_per_neuron.push(if row[j] > 0.0 { 1 } else { -1 });
            covered[j] = true;
        } else {
            assigned_feature_per_neuron.push(None);
            assigned_sign_per_neuron.push(0);
        }
    }

    let (mut n_nonzero, mut n_matched, mut n_wrong_sign, mut n_false_support, mut n_exact) = (0, 0, 0, 0, 0);
    // Per feature: a positive vote, a negative vote.
    let mut positive = vec![false; n_features];
    let mut negative = vec![false; n_features];
    for (f_row, z_row) in features.rows().into_iter().zip(latent.rows()) {
        positive.fill(false);
        negative.fill(false);
        for (i, &activation) in f_row.iter().enumerate() {
            if let (Some(j), true) = (assigned_feature_per_neuron[i], activation != 0.0) {
                let vote = f32::from(assigned_sign_per_neuron[i]) * activation;
                if vote > 0.0 {
                    positive[j] = true;
                } else {
                    negative[j] = true;
                }
            }
        }
        let mut exact = true;
        for (j, &z) in z_row.iter().enumerate() {
            let (agree, disagree) = if z > 0.0 { (positive[j], negative[j]) } else { (negative[j], positive[j]) };
            if z != 0.0 {
                n_nonzero += 1;
                n_matched += usize::from(agree);
                n_wrong_sign += usize::from(disagree);
                exact &= agree && !disagree;
            } else if positive[j] || negative[j] {
                n_false_support += 1;
                exact = false;
            }
        }
        n_exact += usize::from(exact);
    }
    let n_zero = n_samples * n_features - n_nonzero;
    let rate = |count: usize, total: usize| {
        if total == 0 { 0.0 } else { count as f64 / total as f64 }
    };
    Ok(SupportRecovery {
        min_alignment: config.min_alignment,
        n_samples,
        n_features_covered: covered.iter().filter(|&&c| c).count(),
        assigned_feature_per_neuron,
        assigned_sign_per_neuron,
        n_nonzero,
        n_zero,
        n_matched,
        n_wrong_sign,
        n_false_support,
        match_rate: rate(n_matched, n_nonzero),
        wrong_sign_rate: rate(n_wrong_sign, n_nonzero),
        false_support_rate: rate(n_false_support, n_zero),
        exact_rate: rate(n_exact, n_samples),
    })
}

fn check_inputs(features: &ArrayView2<'_, f32>, latent: &ArrayView2<'_, f32>, cosines: &ArrayView2<'_, f64>) -> Result<(), AnalysisError> {
    check_nonempty_2d("features", features)?;
    check_nonempty_2d("latent", latent)?;
    check_nonempty_2d("cosines", cosines)?;
    check_same_rows("features", features.shape(), "latent", latent.shape())?;
    if features.ncols() != cosines.nrows() {
        return Err(AnalysisError::ShapeMismatch {
            left: "features",
            left_shape: features.shape().to_vec(),
            right: "cosines",
            right_shape: cosines.shape().to_vec(),
            requirement: "features.ncols() == cosines.nrows() (one column of F per neuron)",
        });
    }
    if latent.ncols() != cosines.ncols() {
        return Err(AnalysisError::ShapeMismatch {
            left: "latent",
            left_shape: latent.shape().to_vec(),
            right: "cosines",
            right_shape: cosines.shape().to_vec(),
            requirement: "latent.ncols() == cosines.ncols() (one column of z per feature)",
        });
    }
    check_finite_f32("features", features)?;
    check_finite_f64("cosines", cosines)?;
    if let Some(((row, col), &value)) = latent.indexed_iter().find(|(_, v)| **v != -1.0 && **v != 0.0 && **v != 1.0) {
        return Err(AnalysisError::InvalidLatent { field: "latent", row, col, value });
    }
    Ok(())
}
