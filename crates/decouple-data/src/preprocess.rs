//! The preprocessing of vision work, fitted on a sample matrix `X` (`n x d1`)
//! and applied in this order:
//! 1. per-sample contrast normalisation `x <- (x - mean(x) 1) / sqrt(var(x) + eps)`
//!    (mean and variance over the coordinates of the sample);
//! 2. centring `x <- x - mu` (`mu` the mean sample);
//! 3. whitening with the eigendecomposition `C = U diag(lambda) U^T` of the
//!    covariance: PCA `x <- diag(lambda + eps lambda_bar)^{-1/2} U^T x`
//!    (coordinates in the eigenbasis) or ZCA `x <- U diag(lambda + eps lambda_bar)^{-1/2} U^T x`
//!    (back in pixel space), `lambda_bar = tr(C) / d1`: the epsilon is
//!    relative, so the setting does not depend on the data's units;
//! 4. scaling `x <- x sqrt(v / v')`, `v'` the mean variance per coordinate
//!    `tr(C') / d1` after the steps before, so that it becomes the target `v`.
//!
//! Whitening centres first (whether or not `centre` is set).

use ndarray::{Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::DataError;
use crate::eigen::symmetric_eigen;

/// Whitening of the centred samples.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
#[non_exhaustive]
pub enum Whitening {
    /// No whitening.
    #[default]
    None,
    /// `diag(lambda + eps lambda_bar)^{-1/2} U^T x`: decorrelated coordinates in the eigenbasis.
    Pca {
        /// Relative regulariser `eps >= 0` (added to every eigenvalue as `eps * tr(C) / d1`).
        epsilon: f64,
    },
    /// `U diag(lambda + eps lambda_bar)^{-1/2} U^T x`: whitened, in the original coordinates.
    Zca {
        /// Relative regulariser `eps >= 0`.
        epsilon: f64,
    },
}

/// Which preprocessing steps run (all off by default).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Preprocess {
    /// Per-sample contrast normalisation with this `eps >= 0` (in the data's squared units).
    #[serde(default)]
    pub contrast: Option<f64>,
    /// Subtract the mean sample.
    #[serde(default)]
    pub centre: bool,
    /// Rescale (last) so that the mean variance per coordinate, `tr(C) / d1`, is this value `> 0`.
    #[serde(default)]
    pub scale: Option<f64>,
    /// PCA or ZCA whitening.
    #[serde(default)]
    pub whiten: Whitening,
}

/// A preprocessing fitted on samples: apply it to the same or to new samples.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedPreprocess {
    contrast: Option<f64>,
    mean: Option<Array1<f64>>,
    /// The final linear map `x -> A x` (row-wise `x A^T`), if any.
    linear: Option<Array2<f64>>,
}

impl Preprocess {
    /// Validates every field.
    ///
    /// # Errors
    /// An epsilon that is negative or not finite.
    pub fn check(&self) -> Result<(), DataError> {
        if let Some(eps) = self.contrast {
            if !(eps.is_finite() && eps >= 0.0) {
                return Err(DataError::out_of_range("preprocess.contrast", eps, "finite and >= 0"));
            }
        }
        if let Whitening::Pca { epsilon } | Whitening::Zca { epsilon } = self.whiten {
            if !(epsilon.is_finite() && epsilon >= 0.0) {
                return Err(DataError::out_of_range("preprocess.whiten.epsilon", epsilon, "finite and >= 0"));
            }
        }
        if let Some(target) = self.scale {
            if !(target.is_finite() && target > 0.0) {
                return Err(DataError::out_of_range("preprocess.scale", target, "finite and > 0"));
            }
        }
        Ok(())
    }

    /// Fits the steps on `x` (`n x d1`).
    ///
    /// # Errors
    /// Invalid settings; whitening with `epsilon = 0` of data whose covariance is singular.
    pub fn fit(&self, x: ArrayView2<'_, f32>) -> Result<FittedPreprocess, DataError> {
        self.check()?;
        let contrast = self.contrast;
        let mut data = x.mapv(f64::from);
        if let Some(eps) = contrast {
            contrast_normalise(&mut data, eps);
        }
        let whitening = !matches!(self.whiten, Whitening::None);
        let mean = (self.centre || whitening).then(|| data.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(data.ncols())));
        if let Some(mean) = &mean {
            data -= mean;
        }
        let d1 = data.ncols();
        let linear = if self.scale.is_some() || whitening {
            let n = data.nrows().max(1) as f64;
            let centred = match &mean {
                Some(_) => data.clone(),
                None => &data - &data.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(d1)),
            };
            let covariance = centred.t().dot(&centred) / n;
            let mut linear = Array2::<f64>::eye(d1);
            if let Whitening::Pca { epsilon } | Whitening::Zca { epsilon } = self.whiten {
                let (lambda, u) = symmetric_eigen(covariance.view());
                let floor = epsilon * covariance.diag().sum() / d1 as f64;
                let mut inverse_root = Array1::zeros(d1);
                for (k, &value) in lambda.iter().enumerate() {
                    let value = value.max(0.0) + floor;
                    if value <= 0.0 {
                        return Err(DataError::out_of_range("preprocess.whiten.epsilon", epsilon, "> 0: the covariance is singular"));
                    }
                    inverse_root[k] = 1.0 / value.sqrt();
                }
                let pca = &u.t() * &inverse_root.insert_axis(Axis(1));
                linear = if matches!(self.whiten, Whitening::Zca { .. }) { u.dot(&pca) } else { pca };
            }
            if let Some(target) = self.scale {
                let mapped = linear.dot(&covariance).dot(&linear.t());
                let variance = mapped.diag().sum() / d1 as f64;
                if variance > 0.0 {
                    linear *= (target / variance).sqrt();
                }
            }
            Some(linear)
        } else {
            None
        };
        Ok(FittedPreprocess { contrast, mean, linear })
    }
}

impl FittedPreprocess {
    /// The fitted steps applied to `x` (`n x d1`).
    #[must_use]
    pub fn apply(&self, x: ArrayView2<'_, f32>) -> Array2<f32> {
        let mut data = x.mapv(f64::from);
        if let Some(eps) = self.contrast {
            contrast_normalise(&mut data, eps);
        }
        if let Some(mean) = &self.mean {
            data -= mean;
        }
        if let Some(linear) = &self.linear {
            data = data.dot(&linear.t());
        }
        data.mapv(|v| v as f32)
    }
}

/// Row by row: `x <- (x - mean(x)) / sqrt(var(x) + eps)`.
fn contrast_normalise(data: &mut Array2<f64>, eps: f64) {
    for mut row in data.rows_mut() {
        let d = row.len().max(1) as f64;
        let mean = row.sum() / d;
        row -= mean;
        let variance = row.dot(&row) / d;
        let scale = (variance + eps).sqrt();
        if scale > 0.0 {
            row /= scale;
        }
    }
}
