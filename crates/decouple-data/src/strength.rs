//! Per-feature strengths `alpha_j`: the sparse part becomes
//! `M diag(alpha) z`, so feature `j` carries energy `c alpha_j^2`.
//!
//! * `Uniform {}`: every `alpha_j = 1` (the default, the model of Wen & Li 2021).
//! * `TwoGroups { strong, alpha_strong, alpha_weak }`: features `0..strong`
//!   have `alpha_strong`, the others `alpha_weak` (the strong and weak
//!   features of Wen & Li 2022, "The mechanism of prediction head").

use serde::{Deserialize, Serialize};

use crate::DataError;

/// How strong each sparse feature is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
#[non_exhaustive]
pub enum FeatureStrengths {
    /// `alpha_j = 1` for every feature.
    Uniform {},
    /// `alpha_j = alpha_strong` for `j < strong`, `alpha_weak` otherwise.
    TwoGroups {
        /// Number of strong features, in `[0, d]` (the first ones).
        strong: usize,
        /// Strength of the strong features, finite and `> 0`.
        alpha_strong: f64,
        /// Strength of the weak features, finite and `> 0`.
        alpha_weak: f64,
    },
}

impl Default for FeatureStrengths {
    /// `Uniform {}`.
    fn default() -> Self {
        Self::Uniform {}
    }
}

impl FeatureStrengths {
    /// Whether every `alpha_j = 1` (then the model is exactly the unscaled one).
    #[must_use]
    pub fn is_uniform(&self) -> bool {
        match *self {
            Self::Uniform {} => true,
            Self::TwoGroups { alpha_strong, alpha_weak, .. } => alpha_strong == 1.0 && alpha_weak == 1.0,
        }
    }

    /// Validates against the number of features `d`.
    ///
    /// # Errors
    /// `strengths.strong > d`; an `alpha` that is not finite and `> 0`.
    pub fn check(&self, d: usize) -> Result<(), DataError> {
        if let Self::TwoGroups { strong, alpha_strong, alpha_weak } = *self {
            if strong > d {
                return Err(DataError::out_of_range("strengths.strong", strong as f64, format!("in [0, d = {d}]")));
            }
            for (field, alpha) in [("strengths.alpha_strong", alpha_strong), ("strengths.alpha_weak", alpha_weak)] {
                if !(alpha.is_finite() && alpha > 0.0) {
                    return Err(DataError::out_of_range(field, alpha, "finite and > 0"));
                }
            }
        }
        Ok(())
    }

    /// `alpha_j` of feature `j`.
    #[must_use]
    pub fn alpha(&self, j: usize) -> f64 {
        match *self {
            Self::Uniform {} => 1.0,
            Self::TwoGroups { strong, alpha_strong, alpha_weak } => {
                if j < strong {
                    alpha_strong
                } else {
                    alpha_weak
                }
            }
        }
    }

    /// `(alpha_0, ..., alpha_{d-1})`.
    #[must_use]
    pub fn alphas(&self, d: usize) -> Vec<f64> {
        (0..d).map(|j| self.alpha(j)).collect()
    }

    /// `sum_j alpha_j^2` over `d` features (`d` when uniform).
    #[must_use]
    pub fn sum_of_squares(&self, d: usize) -> f64 {
        (0..d).map(|j| self.alpha(j).powi(2)).sum()
    }
}
