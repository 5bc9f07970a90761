//! The L2 strength of a logistic probe chosen by k-fold cross-validation on
//! the training split only, so that every feature set (learned, raw input,
//! baselines) is regularised as well as its own data allow.
//!
//! For each `lambda` of a log-spaced grid, the training samples are split
//! into `k` folds (a permutation drawn from `seed`, stratified by label); a probe is fitted on
//! `k - 1` folds (standardised with *their* mean and deviation) and scored by
//! the mean log-loss `log(1 + exp(-y s))` on the held-out fold. The `lambda`
//! with the lowest mean validation loss wins (ties go to the larger one, the
//! simpler model); the probe is then refitted on the whole training split
//! with it and scored once on the test split. Test labels enter only that
//! last score. Along the grid each fold's fits are warm-started from the
//! previous (larger) `lambda`, which changes nothing but the iteration count.

use ndarray::{Array1, ArrayView1, ArrayView2, Axis};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{AnalysisError, check_labels, check_lambda};
use crate::linalg::Standardizer;
use crate::logistic::{NewtonSettings, fit_logistic_from, softplus_neg};
use crate::probe::{ProbeConfig, ProbeResult, check_supervised_inputs, fit_logistic_probe};

/// How a probe's L2 strength is set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
#[non_exhaustive]
pub enum LambdaChoice {
    /// The same `lambda` for every feature set.
    Fixed {
        /// L2 strength, finite and `>= 0`.
        lambda: f64,
    },
    /// k-fold cross-validation over `points` log-spaced values from `min` to `max`.
    CrossValidated {
        /// Smallest `lambda` of the grid, finite and `> 0`.
        min: f64,
        /// Largest `lambda`, `>= min`.
        max: f64,
        /// Grid size, `>= 1` (`min` alone when 1).
        points: usize,
        /// Number of folds, `>= 2`.
        folds: usize,
    },
}

impl Default for LambdaChoice {
    /// 5-fold cross-validation over `1e-4, 1e-3, ..., 1e2`.
    fn default() -> Self {
        Self::CrossValidated { min: 1e-4, max: 1e2, points: 7, folds: 5 }
    }
}

impl LambdaChoice {
    /// Validates the fields.
    ///
    /// # Errors
    /// [`AnalysisError::NegativeLambda`] for a fixed `lambda` outside `[0, inf)`;
    /// [`AnalysisError::InvalidSolverParameter`] naming any other field out of range.
    pub fn check(&self) -> Result<(), AnalysisError> {
        let invalid = |field, value: f64, allowed| Err(AnalysisError::InvalidSolverParameter { field, value, allowed });
        match *self {
            Self::Fixed { lambda } => check_lambda("lambda", lambda),
            Self::CrossValidated { min, .. } if !(min.is_finite() && min > 0.0) => invalid("min", min, "(0, inf)"),
            Self::CrossValidated { min, max, .. } if !(max.is_finite() && max >= min) => invalid("max", max, "[min, inf)"),
            Self::CrossValidated { points: 0, .. } => invalid("points", 0.0, "[1, inf)"),
            Self::CrossValidated { folds, .. } if folds < 2 => invalid("folds", folds as f64, "[2, inf)"),
            _ => Ok(()),
        }
    }

    /// The candidate values, ascending.
    #[must_use]
    pub fn grid(&self) -> Vec<f64> {
        match *self {
            Self::Fixed { lambda } => vec![lambda],
            Self::CrossValidated { min, max, points, .. } => {
                // Powers of ten through log10 and powf, so a decade grid is exact (1e-4, 1e-3, ...).
                let (low, high) = (min.log10(), max.log10());
                let step = if points > 1 { (high - low) / (points - 1) as f64 } else { 0.0 };
                (0..points).map(|k| 10f64.powf(low + step * k as f64)).collect()
            }
        }
    }
}

/// A probe with its chosen `lambda` and the validation curve that chose it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TunedProbe {
    /// The probe refitted on the whole training split with the chosen `lambda`, scored on the test split.
    pub probe: ProbeResult,
    /// The grid, ascending (one value for a fixed `lambda`).
    pub grid: Vec<f64>,
    /// Mean held-out log-loss per grid value (empty for a fixed `lambda`).
    pub validation_loss: Vec<f64>,
    /// Mean held-out accuracy per grid value (empty for a fixed `lambda`).
    pub validation_accuracy: Vec<f64>,
}

/// A logistic probe whose `lambda` is set by `choice` (cross-validated on the
/// training split, folds from `seed`), then scored on the test split.
///
/// # Errors
/// The errors of [`fit_logistic_probe`] and [`LambdaChoice::check`];
/// [`AnalysisError::TooFewSamples`] with fewer training samples than folds;
/// [`AnalysisError::SingleClass`] when a fold's training part has one class.
pub fn fit_tuned_probe(
    train_features: ArrayView2<'_, f32>,
    train_labels: ArrayView1<'_, f32>,
    test_features: ArrayView2<'_, f32>,
    test_labels: ArrayView1<'_, f32>,
    choice: &LambdaChoice,
    solver: &ProbeConfig,
    seed: u64,
) -> Result<TunedProbe, AnalysisError> {
    choice.check()?;
    solver.check()?;
    let grid = choice.grid();
    let (lambda, validation_loss, validation_accuracy) = match *choice {
        LambdaChoice::Fixed { lambda } => (lambda, Vec::new(), Vec::new()),
        LambdaChoice::CrossValidated { folds, .. } => {
            check_supervised_inputs(
                &train_features,
                train_labels.shape(),
                "train_labels",
                &test_features,
                test_labels.shape(),
                "test_labels",
            )?;
            check_labels("train_labels", &train_labels)?;
            let (loss, accuracy) = cross_validate(train_features, train_labels, &grid, folds, solver, seed)?;
            // Lowest loss; on a tie the larger lambda (the grid is ascending, so scan from the top).
            let best = (0..grid.len()).rev().fold(grid.len() - 1, |best, k| if loss[k] < loss[best] { k } else { best });
            (grid[best], loss, accuracy)
        }
    };
    let probe = fit_logistic_probe(train_features, train_labels, test_features, test_labels, &ProbeConfig { lambda, ..*solver })?;
    Ok(TunedProbe { probe, grid, validation_loss, validation_accuracy })
}

/// Mean held-out log-loss and accuracy per `lambda` of `grid` over `folds` folds.
fn cross_validate(
    features: ArrayView2<'_, f32>,
    labels: ArrayView1<'_, f32>,
    grid: &[f64],
    folds: usize,
    solver: &ProbeConfig,
    seed: u64,
) -> Result<(Vec<f64>, Vec<f64>), AnalysisError> {
    let n = features.nrows();
    if n < folds {
        return Err(AnalysisError::TooFewSamples { what: "probe cross-validation (training samples per fold)", found: n, needed: folds });
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    // Stratified: the r-th sample of each class (in shuffled order) goes to fold r mod k, so every
    // fold's training part holds both classes whenever each class has two samples or more.
    let (mut positives, mut negatives) = (0usize, 0usize);
    let fold_of: Vec<usize> = order
        .iter()
        .map(|&index| {
            let count = if labels[index] > 0.0 { &mut positives } else { &mut negatives };
            *count += 1;
            (*count - 1) % folds
        })
        .collect();
    let (mut loss, mut accuracy) = (vec![0.0; grid.len()], vec![0.0; grid.len()]);
    for fold in 0..folds {
        let held_out: Vec<usize> = order.iter().zip(&fold_of).filter(|&(_, &f)| f == fold).map(|(&index, _)| index).collect();
        let kept: Vec<usize> = order.iter().zip(&fold_of).filter(|&(_, &f)| f != fold).map(|(&index, _)| index).collect();
        let fit_labels = labels.select(Axis(0), &kept);
        let first = fit_labels[0];
        if fit_labels.iter().all(|&l| l == first) {
            return Err(AnalysisError::SingleClass { field: "train_labels (a cross-validation fold)", label: first });
        }
        let fit_features = features.select(Axis(0), &kept);
        let standardizer = Standardizer::fit(&fit_features.view());
        let x_fit = standardizer.transform(&fit_features.view());
        let x_held = standardizer.transform(&features.select(Axis(0), &held_out).view());
        let y_fit: Array1<f64> = fit_labels.mapv(f64::from);
        let y_held: Array1<f64> = labels.select(Axis(0), &held_out).mapv(f64::from);
        let mut start: Option<Array1<f64>> = None;
        for (k, &lambda) in grid.iter().enumerate().rev() {
            let settings = NewtonSettings { lambda, max_iterations: solver.max_iterations, gradient_tolerance: solver.gradient_tolerance };
            let fit = fit_logistic_from(&x_fit, &y_fit, settings, start.as_ref());
            let scores = fit.scores(&x_held);
            let held = scores.len() as f64 * folds as f64;
            loss[k] += scores.iter().zip(&y_held).map(|(&s, &y)| softplus_neg(y * s)).sum::<f64>() / held;
            // A score of exactly 0 predicts +1, as in the probe's own accuracy.
            accuracy[k] += scores.iter().zip(&y_held).filter(|&(&s, &y)| (s >= 0.0) == (y > 0.0)).count() as f64 / held;
            start = Some(fit.coefficients);
        }
    }
    Ok((loss, accuracy))
}
