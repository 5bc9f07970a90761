//! Linear probes: how much of a downstream label a representation makes
//! linearly readable with a realistic label budget (docs/model.md §1 and §6).
//!
//! The caller draws a training set and a *disjoint, fresh* test set (default
//! budget: [`DEFAULT_PROBE_TRAIN_SAMPLES`] = 1000 and
//! [`DEFAULT_PROBE_TEST_SAMPLES`] = 2000 labelled samples) and passes them
//! separately, so test labels never reach the fit. Features are standardised
//! with the *training* mean and standard deviation (a column constant on the
//! training set is only centred), the model is L2-regularised logistic
//! regression fitted by Newton's method (see the `logistic` module), and
//! accuracy is the fraction of samples with `sign(score) == label`, a score of
//! exactly 0 predicting +1.

use ndarray::{Array1, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::error::{AnalysisError, check_finite_f32, check_labels, check_lambda, check_nonempty_2d, check_same_rows};
use crate::linalg::Standardizer;
use crate::logistic::{NewtonSettings, fit_logistic};

/// Default number of labelled training samples a probe gets (docs/model.md §1).
pub const DEFAULT_PROBE_TRAIN_SAMPLES: usize = 1000;
/// Default number of fresh test samples a probe is scored on (docs/model.md §1).
pub const DEFAULT_PROBE_TEST_SAMPLES: usize = 2000;

/// Settings of [`fit_logistic_probe`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProbeConfig {
    /// L2 strength `lambda` on the weights (not the intercept) of the objective
    /// `(1/n) sum_b log(1 + exp(-y_b s_b)) + (lambda/2) ||w||^2`, on
    /// standardised features; `>= 0`, default `1e-3`. At n = 1000 this equals
    /// the common default `C = 1` of `C sum_b loss_b + ||w||^2 / 2`
    /// (`lambda = 1 / (C n)`).
    pub lambda: f64,
    /// Maximum number of Newton steps; `>= 1`, default 100.
    pub max_iterations: usize,
    /// Convergence when `max |gradient| <= gradient_tolerance`; `> 0`, default `1e-8`.
    pub gradient_tolerance: f64,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        Self { lambda: 1e-3, max_iterations: 100, gradient_tolerance: 1e-8 }
    }
}

impl ProbeConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`AnalysisError::NegativeLambda`] for `lambda` not in `[0, inf)`;
    /// [`AnalysisError::InvalidSolverParameter`] for `max_iterations == 0` or a
    /// non-positive `gradient_tolerance`.
    pub fn check(&self) -> Result<(), AnalysisError> {
        check_lambda("lambda", self.lambda)?;
        if self.max_iterations == 0 {
            return Err(AnalysisError::InvalidSolverParameter { field: "max_iterations", value: 0.0, allowed: "[1, inf)" });
        }
        if !(self.gradient_tolerance > 0.0 && self.gradient_tolerance.is_finite()) {
            return Err(AnalysisError::InvalidSolverParameter {
                field: "gradient_tolerance",
                value: self.gradient_tolerance,
                allowed: "(0, inf)",
            });
        }
        Ok(())
    }
}

/// Outcome of a logistic probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeResult {
    /// Fraction of training samples classified correctly.
    pub train_accuracy: f64,
    /// Fraction of test samples classified correctly.
    pub test_accuracy: f64,
    /// Binomial standard error of `test_accuracy`, `sqrt(acc (1 - acc) / n_test)`.
    pub test_accuracy_std_error: f64,
    /// Number of training samples used.
    pub n_train: usize,
    /// Number of test samples used.
    pub n_test: usize,
    /// Number of features p.
    pub n_features: usize,
    /// The L2 strength used.
    pub lambda: f64,
    /// Regularised training objective at the solution.
    pub train_loss: f64,
    /// Newton steps taken.
    pub iterations: usize,
    /// Whether `max |gradient| <= gradient_tolerance` was reached.
    pub converged: bool,
    /// `max |gradient|` at the solution.
    pub gradient_max_abs: f64,
}

/// Fits an L2-regularised logistic probe on `(train_features, train_labels)`
/// and scores it on the disjoint `(test_features, test_labels)`.
///
/// Features are n x p (rows = samples, the same p columns in both sets);
/// labels are exactly -1 or +1, one per row.
///
/// # Errors
/// [`AnalysisError::ShapeMismatch`] (rows vs labels, or train vs test columns);
/// [`AnalysisError::Empty`]; [`AnalysisError::NonFinite`];
/// [`AnalysisError::InvalidLabel`]; [`AnalysisError::SingleClass`] when the
/// training labels are all equal; the errors of [`ProbeConfig::check`].
pub fn fit_logistic_probe(
    train_features: ArrayView2<'_, f32>,
    train_labels: ArrayView1<'_, f32>,
    test_features: ArrayView2<'_, f32>,
    test_labels: ArrayView1<'_, f32>,
    config: &ProbeConfig,
) -> Result<ProbeResult, AnalysisError> {
    config.check()?;
    check_supervised_inputs(&train_features, train_labels.shape(), "train_labels", &test_features, test_labels.shape(), "test_labels")?;
    check_labels("train_labels", &train_labels)?;
    check_labels("test_labels", &test_labels)?;
    let first = train_labels[0];
    if train_labels.iter().all(|&l| l == first) {
        return Err(AnalysisError::SingleClass { field: "train_labels", label: first });
    }

    let standardizer = Standardizer::fit(&train_features);
    let x_train = standardizer.transform(&train_features);
    let x_test = standardizer.transform(&test_features);
    let y_train: Array1<f64> = train_labels.mapv(f64::from);
    let fit = fit_logistic(
        &x_train,
        &y_train,
        NewtonSettings { lambda: config.lambda, max_iterations: config.max_iterations, gradient_tolerance: config.gradient_tolerance },
    );
    let accuracy = |scores: Array1<f64>, labels: &ArrayView1<'_, f32>| {
        let correct = scores.iter().zip(labels.iter()).filter(|&(&s, &l)| (s >= 0.0) == (l > 0.0)).count();
        correct as f64 / labels.len() as f64
    };
    let train_accuracy = accuracy(fit.scores(&x_train), &train_labels);
    let test_accuracy = accuracy(fit.scores(&x_test), &test_labels);
    let n_test = test_labels.len();
    Ok(ProbeResult {
        train_accuracy,
        test_accuracy,
        test_accuracy_std_error: (test_accuracy * (1.0 - test_accuracy) / n_test as f64).sqrt(),
        n_train: train_labels.len(),
        n_test,
        n_features: train_features.ncols(),
        lambda: config.lambda,
        train_loss: fit.loss,
        iterations: fit.iterations,
        converged: fit.converged,
        gradient_max_abs: fit.gradient_max_abs,
    })
}

/// Shared checks of a supervised train/test problem: non-empty, finite
/// features with the same columns, and one target row per feature row.
pub(crate) fn check_supervised_inputs(
    train_features: &ArrayView2<'_, f32>,
    train_targets_shape: &[usize],
    train_targets_field: &'static str,
    test_features: &ArrayView2<'_, f32>,
    test_targets_shape: &[usize],
    test_targets_field: &'static str,
) -> Result<(), AnalysisError> {
    check_nonempty_2d("train_features", train_features)?;
    check_nonempty_2d("test_features", test_features)?;
    if train_features.ncols() != test_features.ncols() {
        return Err(AnalysisError::ShapeMismatch {
            left: "train_features",
            left_shape: train_features.shape().to_vec(),
            right: "test_features",
            right_shape: test_features.shape().to_vec(),
            requirement: "the same number of columns (features)",
        });
    }
    check_same_rows("train_features", train_features.shape(), train_targets_field, train_targets_shape)?;
    check_same_rows("test_features", test_features.shape(), test_targets_field, test_targets_shape)?;
    check_finite_f32("train_features", train_features)?;
    check_finite_f32("test_features", test_features)
}
