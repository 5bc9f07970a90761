//! Second moments of a zero-mean component along a direction `w`.
//!
//! For a component with covariance `Sigma` and a direction `w`, the linear
//! augmentations of `decouple-augment` need only three numbers:
//! `quad = w^T Sigma w`, `diag = sum_k w_k^2 Sigma_kk` and `norm2 = ||w||^2`.
//! Every component of the data model has `Sigma = s P_B` or `s (I - P_B)`
//! for an orthonormal basis `B` (`P_B = B B^T`), so these are computed from
//! `B^T w` and the row norms of `B` without forming `Sigma`.

use ndarray::{ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

/// `w^T Sigma w`, `sum_k w_k^2 Sigma_kk` and `||w||^2` for one direction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SecondMoments {
    /// `w^T Sigma w`: the variance of `<w, component>`.
    pub quad: f64,
    /// `sum_k w_k^2 Sigma_kk`: the part of that variance a coordinate mask cannot share between views.
    pub diag: f64,
    /// `||w||^2`.
    pub norm2: f64,
}

impl SecondMoments {
    /// Moments of `Sigma = scale * B B^T` along `w`.
    #[must_use]
    pub fn of_projector(scale: f64, basis: ArrayView2<'_, f64>, w: ArrayView1<'_, f64>) -> Self {
        let projected = basis.t().dot(&w);
        let diag = w.iter().zip(basis.rows()).map(|(wk, row)| wk * wk * row.dot(&row)).sum::<f64>();
        Self { quad: scale * projected.dot(&projected), diag: scale * diag, norm2: w.dot(&w) }
    }

    /// Moments of `Sigma = scale * B diag(weights) B^T` along `w` (`weights[j] >= 0`,
    /// one per column of `B`; `of_projector` when every weight is 1).
    ///
    /// # Panics
    /// If `weights` does not have one entry per column of `basis`.
    #[must_use]
    pub fn of_weighted_columns(scale: f64, basis: ArrayView2<'_, f64>, weights: &[f64], w: ArrayView1<'_, f64>) -> Self {
        assert_eq!(weights.len(), basis.ncols(), "one weight per column");
        let projected = basis.t().dot(&w);
        let quad = projected.iter().zip(weights).map(|(p, s)| s * p * p).sum::<f64>();
        let diag =
            w.iter().zip(basis.rows()).map(|(wk, row)| wk * wk * row.iter().zip(weights).map(|(b, s)| s * b * b).sum::<f64>()).sum::<f64>();
        Self { quad: scale * quad, diag: scale * diag, norm2: w.dot(&w) }
    }

    /// Moments of `Sigma = scale * (I - B B^T)` along `w`.
    #[must_use]
    pub fn of_complement(scale: f64, basis: ArrayView2<'_, f64>, w: ArrayView1<'_, f64>) -> Self {
        let inside = Self::of_projector(1.0, basis, w);
        let norm2 = inside.norm2;
        // `w` inside span(B) must give exactly 0, not cancellation noise.
        let flush = |value: f64| if value.abs() <= 1e-12 * norm2 { 0.0 } else { value };
        Self { quad: scale * flush(norm2 - inside.quad), diag: scale * flush(norm2 - inside.diag), norm2 }
    }

    /// Moments of `Sigma = scale * I` along `w`.
    #[must_use]
    pub fn of_isotropic(scale: f64, w: ArrayView1<'_, f64>) -> Self {
        let norm2 = w.dot(&w);
        Self { quad: scale * norm2, diag: scale * norm2, norm2 }
    }
}
