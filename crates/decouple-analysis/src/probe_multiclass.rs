//! A multiclass linear probe, one-vs-rest: for each class `k` an
//! L2-regularised logistic probe of `y = k` against the rest (the solver of
//! [`crate::fit_logistic_probe`], on features standardised with training
//! statistics); a sample is assigned the class of the largest score.

use ndarray::{Array1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::AnalysisError;
use crate::error::check_lambda;
use crate::linalg::Standardizer;
use crate::logistic::{NewtonSettings, fit_logistic};
use crate::probe::check_supervised_inputs;

/// Outcome of a multiclass probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MulticlassProbe {
    /// Fraction of test samples classified correctly.
    pub test_accuracy: f64,
    /// Binomial standard error `sqrt(acc (1 - acc) / n_test)`.
    pub test_accuracy_std_error: f64,
    /// Fraction of training samples classified correctly.
    pub train_accuracy: f64,
    /// Training samples.
    pub n_train: usize,
    /// Test samples.
    pub n_test: usize,
    /// Number of classes.
    pub n_classes: usize,
    /// L2 strength of every one-vs-rest probe.
    pub lambda: f64,
}

/// Fits the one-vs-rest probe on `(train_features, train_classes)` and scores it on the test set.
/// Classes are indices `0..n_classes`.
///
/// # Errors
/// Shapes, empty or non-finite features, a class index `>= n_classes`, fewer
/// than two classes, a negative `lambda`.
pub fn fit_multiclass_probe(
    train_features: ArrayView2<'_, f32>,
    train_classes: &[usize],
    test_features: ArrayView2<'_, f32>,
    test_classes: &[usize],
    n_classes: usize,
    lambda: f64,
) -> Result<MulticlassProbe, AnalysisError> {
    check_lambda("lambda", lambda)?;
    check_supervised_inputs(
        &train_features,
        &[train_classes.len()],
        "train_classes",
        &test_features,
        &[test_classes.len()],
        "test_classes",
    )?;
    if n_classes < 2 {
        return Err(AnalysisError::InvalidSolverParameter { field: "n_classes", value: n_classes as f64, allowed: "[2, inf)" });
    }
    if let Some(&class) = train_classes.iter().chain(test_classes).find(|&&c| c >= n_classes) {
        return Err(AnalysisError::InvalidSolverParameter { field: "classes", value: class as f64, allowed: "[0, n_classes)" });
    }
    let standardizer = Standardizer::fit(&train_features);
    let (x_train, x_test) = (standardizer.transform(&train_features), standardizer.transform(&test_features));
    let settings = NewtonSettings { lambda, max_iterations: 100, gradient_tolerance: 1e-8 };
    let mut train_scores = ndarray::Array2::<f64>::from_elem((x_train.nrows(), n_classes), f64::NEG_INFINITY);
    let mut test_scores = ndarray::Array2::<f64>::from_elem((x_test.nrows(), n_classes), f64::NEG_INFINITY);
    for class in 0..n_classes {
        if !train_classes.contains(&class) {
            continue;
        }
        let y: Array1<f64> = train_classes.iter().map(|&c| if c == class { 1.0 } else { -1.0 }).collect();
        let fit = fit_logistic(&x_train, &y, settings);
        train_scores.column_mut(class).assign(&fit.scores(&x_train));
        test_scores.column_mut(class).assign(&fit.scores(&x_test));
    }
    let accuracy = |scores: &ndarray::Array2<f64>, classes: &[usize]| {
        let correct = scores
            .rows()
            .into_iter()
            .zip(classes)
            .filter(|(row, class)| {
                let best = row.iter().enumerate().fold((0, f64::NEG_INFINITY), |best, (k, &s)| if s > best.1 { (k, s) } else { best });
                best.0 == **class
            })
            .count();
        correct as f64 / classes.len().max(1) as f64
    };
    let test_accuracy = accuracy(&test_scores, test_classes);
    Ok(MulticlassProbe {
        test_accuracy,
        test_accuracy_std_error: (test_accuracy * (1.0 - test_accuracy) / test_classes.len().max(1) as f64).sqrt(),
        train_accuracy: accuracy(&train_scores, train_classes),
        n_train: train_classes.len(),
        n_test: test_classes.len(),
        n_classes,
        lambda,
    })
}
