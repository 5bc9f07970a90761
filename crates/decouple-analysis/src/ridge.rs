//! Ridge regression probe: how well targets (e.g. every latent coordinate
//! `z_j`) can be read linearly from a representation, as test-set R^2.
//!
//! Features are standardised with training statistics (as in
//! [`crate::fit_logistic_probe`]); targets are centred with their training
//! mean, which serves as the (unpenalised) intercept. For every target column
//! `y` the coefficients solve
//! `min_beta (1/n) ||y - mean(y) - X beta||^2 + lambda ||beta||^2`, i.e.
//! `(X^T X / n + lambda I) beta = X^T (y - mean(y)) / n`, by one Cholesky
//! factorisation shared by all targets. On a set with targets `y` and
//! predictions `yhat`, `R^2 = 1 - sum (y - yhat)^2 / sum (y - mean_set(y))^2`
//! where `mean_set` is the mean over that same set; a target that is constant
//! on the set gets `R^2 = 1` if predicted exactly and 0 otherwise.

use ndarray::{Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::error::{AnalysisError, check_finite_f32, check_lambda};
use crate::linalg::{Cholesky, Standardizer};
use crate::probe::check_supervised_inputs;

/// Settings of [`fit_ridge_regression`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RidgeConfig {
    /// L2 strength on standardised features (see the module formula); `>= 0`,
    /// default `1e-3`. With `lambda = 0` the normal equations must be positive
    /// definite (more independent samples than features).
    pub lambda: f64,
}

impl Default for RidgeConfig {
    fn default() -> Self {
        Self { lambda: 1e-3 }
    }
}

impl RidgeConfig {
    /// Validates `lambda` (`[0, inf)`).
    ///
    /// # Errors
    /// [`AnalysisError::NegativeLambda`] naming `lambda`.
    pub fn check(&self) -> Result<(), AnalysisError> {
        check_lambda("lambda", self.lambda)
    }
}

/// Outcome of a ridge probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RidgeResult {
    /// The L2 strength used.
    pub lambda: f64,
    /// Number of training samples.
    pub n_train: usize,
    /// Number of test samples.
    pub n_test: usize,
    /// Number of features p.
    pub n_features: usize,
    /// Number of target columns k.
    pub n_targets: usize,
    /// Test R^2 of every target column.
    pub test_r2_per_target: Vec<f64>,
    /// Mean of `test_r2_per_target`.
    pub mean_test_r2: f64,
    /// Training R^2 of every target column.
    pub train_r2_per_target: Vec<f64>,
    /// Mean of `train_r2_per_target`.
    pub mean_train_r2: f64,
}

/// Fits ridge regression of `train_targets` (n x k) on `train_features`
/// (n x p) and reports R^2 on the disjoint test set.
///
/// # Errors
/// [`AnalysisError::ShapeMismatch`] (rows of features vs targets, columns of
/// train vs test features or targets); [`AnalysisError::Empty`];
/// [`AnalysisError::NonFinite`]; [`AnalysisError::NegativeLambda`];
/// [`AnalysisError::NotPositiveDefinite`] when `lambda = 0` and the features
/// are collinear.
pub fn fit_ridge_regression(
    train_features: ArrayView2<'_, f32>,
    train_targets: ArrayView2<'_, f32>,
    test_features: ArrayView2<'_, f32>,
    test_targets: ArrayView2<'_, f32>,
    config: &RidgeConfig,
) -> Result<RidgeResult, AnalysisError> {
    config.check()?;
    check_supervised_inputs(&train_features, train_targets.shape(), "train_targets", &test_features, test_targets.shape(), "test_targets")?;
    crate::error::check_nonempty_2d("train_targets", &train_targets)?;
    if train_targets.ncols() != test_targets.ncols() {
        return Err(AnalysisError::ShapeMismatch {
            left: "train_targets",
            left_shape: train_targets.shape().to_vec(),
            right: "test_targets",
            right_shape: test_targets.shape().to_vec(),
            requirement: "the same number of columns (targets)",
        });
    }
    check_finite_f32("train_targets", &train_targets)?;
    check_finite_f32("test_targets", &test_targets)?;

    let standardizer = Standardizer::fit(&train_features);
    let x_train = standardizer.transform(&train_features);
    let x_test = standardizer.transform(&test_features);
    let n = x_train.nrows() as f64;
    let y_train = train_targets.mapv(f64::from);
    let y_mean = y_train.sum_axis(Axis(0)) / n;
    let y_centred = &y_train - &y_mean;

    let mut gram = x_train.t().dot(&x_train) / n;
    gram.diag_mut().mapv_inplace(|g| g + config.lambda);
    let chol = Cholesky::factor(gram, "ridge normal equations (X^T X / n + lambda I)")?;
    let right_hand_sides = x_train.t().dot(&y_centred) / n;
    let mut coefficients = Array2::<f64>::zeros(right_hand_sides.dim());
    for (rhs, mut column) in right_hand_sides.columns().into_iter().zip(coefficients.columns_mut()) {
        column.assign(&chol.solve(&rhs.to_owned()));
    }

    let predict = |x: &Array2<f64>| x.dot(&coefficients) + &y_mean;
    let train_r2_per_target = r_squared(&y_train, &predict(&x_train));
    let test_r2_per_target = r_squared(&test_targets.mapv(f64::from), &predict(&x_test));
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    Ok(RidgeResult {
        lambda: config.lambda,
        n_train: train_features.nrows(),
        n_test: test_features.nrows(),
        n_features: train_features.ncols(),
        n_targets: train_targets.ncols(),
        mean_test_r2: mean(&test_r2_per_target),
        mean_train_r2: mean(&train_r2_per_target),
        test_r2_per_target,
        train_r2_per_target,
    })
}

/// Column-wise `R^2 = 1 - SS_res / SS_tot` around the set's own mean.
fn r_squared(targets: &Array2<f64>, predictions: &Array2<f64>) -> Vec<f64> {
    let means: Array1<f64> = targets.mean_axis(Axis(0)).expect("at least one row");
    targets
        .columns()
        .into_iter()
        .zip(predictions.columns())
        .zip(means.iter())
        .map(|((y, yhat), &mu)| {
            let ss_res: f64 = y.iter().zip(yhat.iter()).map(|(a, b)| (a - b) * (a - b)).sum();
            let ss_tot: f64 = y.iter().map(|a| (a - mu) * (a - mu)).sum();
            if ss_tot > 0.0 {
                1.0 - ss_res / ss_tot
            } else if ss_res == 0.0 {
                1.0
            } else {
                0.0
            }
        })
        .collect()
}
