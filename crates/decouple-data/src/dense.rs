//! Dense features `xi in R^{d1}`, the part of each sample we do *not* want
//! the network to learn.
//!
//! * `IsotropicGaussian { sigma }`: `xi ~ N(0, sigma^2 I_{d1})`.
//! * `LowRank { rank, sigma }`: `xi = H zeta`, `H` (d1 x rank) orthonormal and
//!   orthogonal to span(M), `zeta ~ N(0, sigma^2 (d1/rank) I_rank)`: the same
//!   total energy `sigma^2 d1` concentrated on `rank` directions.
//! * `OrthogonalComplement { sigma }`: `xi = (I - M M^T) g`, `g ~ N(0, sigma^2 I)`;
//!   its coordinates are correlated, which breaks decoupling by masks.

use serde::{Deserialize, Serialize};

use crate::DataError;

/// Distribution of the dense features.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
#[non_exhaustive]
pub enum DenseFeatures {
    /// `xi ~ N(0, sigma^2 I)`.
    IsotropicGaussian {
        /// Per-coordinate standard deviation, `>= 0`.
        sigma: f64,
    },
    /// `xi = H zeta` on `rank` directions orthogonal to span(M).
    LowRank {
        /// Number of dense directions, in `[1, d1 - d]`.
        rank: usize,
        /// Noise level with the energy of isotropic noise of this level, `>= 0`.
        sigma: f64,
    },
    /// Isotropic noise projected off span(M).
    OrthogonalComplement {
        /// Per-coordinate standard deviation before projection, `>= 0`.
        sigma: f64,
    },
}

impl Default for DenseFeatures {
    /// `IsotropicGaussian { sigma: 0.25 }` (docs/model.md §7).
    fn default() -> Self {
        Self::IsotropicGaussian { sigma: 0.25 }
    }
}

impl DenseFeatures {
    /// The noise level `sigma`.
    #[must_use]
    pub fn sigma(&self) -> f64 {
        match *self {
            Self::IsotropicGaussian { sigma } | Self::LowRank { sigma, .. } | Self::OrthogonalComplement { sigma } => sigma,
        }
    }

    /// Validates against the dimensions.
    ///
    /// # Errors
    /// `dense.sigma` negative or not finite; `dense.rank` outside `[1, d1 - d]`.
    pub fn check(&self, d: usize, d1: usize) -> Result<(), DataError> {
        let sigma = self.sigma();
        if !(sigma.is_finite() && sigma >= 0.0) {
            return Err(DataError::out_of_range("dense.sigma", sigma, "finite and >= 0"));
        }
        if let Self::LowRank { rank, .. } = *self {
            if rank == 0 || rank > d1 - d {
                return Err(DataError::out_of_range("dense.rank", rank as f64, format!("in [1, d1 - d = {}]", d1 - d)));
            }
        }
        Ok(())
    }

    /// `E ||xi||^2`: `sigma^2 d1`, or `sigma^2 (d1 - d)` off span(M).
    #[must_use]
    pub fn expected_energy(&self, d: usize, d1: usize) -> f64 {
        let sigma = self.sigma();
        match self {
            Self::IsotropicGaussian { .. } | Self::LowRank { .. } => sigma * sigma * d1 as f64,
            Self::OrthogonalComplement { .. } => sigma * sigma * (d1 - d) as f64,
        }
    }
}
