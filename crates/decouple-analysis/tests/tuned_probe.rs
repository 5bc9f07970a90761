//! The cross-validated probe: it chooses strong regularisation on pure noise
//! and weak regularisation on a strong, many-feature signal; the test labels
//! never reach the choice; a fixed `lambda` is the plain probe; folds depend
//! only on the seed; bad settings are named errors.

mod common;

use common::{gaussian_matrix, random_signs, rng};
use decouple_analysis::{AnalysisError, LambdaChoice, ProbeConfig, fit_logistic_probe, fit_tuned_probe};
use ndarray::{Array1, Array2, ArrayView1};

/// Labels `sign(<x, a>)` with a fraction `flip` of them flipped.
fn linear_labels(x: &Array2<f32>, a: &Array1<f32>, flip: f64, seed: u64) -> Array1<f32> {
    let flips = random_signs(&mut rng(seed), x.nrows());
    let mut flipped = 0usize;
    Array1::from_iter(x.rows().into_iter().zip(&flips).map(|(row, &coin)| {
        let label = if row.dot(a) >= 0.0 { 1.0 } else { -1.0 };
        // `coin` is +-1 with probability 1/2: flip on -1 for the first `flip` share of draws.
        let flip_this = coin < 0.0 && (flipped as f64) < flip * x.nrows() as f64;
        if flip_this {
            flipped += 1;
            -label
        } else {
            label
        }
    }))
}

fn tuned(
    x: &Array2<f32>,
    y: ArrayView1<'_, f32>,
    x_test: &Array2<f32>,
    y_test: ArrayView1<'_, f32>,
    seed: u64,
) -> decouple_analysis::TunedProbe {
    fit_tuned_probe(x.view(), y, x_test.view(), y_test, &LambdaChoice::default(), &ProbeConfig::default(), seed).unwrap()
}

/// Pure noise (labels independent of 100 features, 300 samples): every
/// weakly regularised fit memorises the training folds and loses on the held-out
/// one, so the choice is strong regularisation (`lambda >= 1`, where the probe is
/// nearly constant and the held-out loss is within 0.005 of `ln 2`).
#[test]
fn pure_noise_gets_strong_regularisation() {
    let mut r = rng(1);
    let (x, x_test) = (gaussian_matrix(&mut r, 300, 100, 1.0), gaussian_matrix(&mut r, 500, 100, 1.0));
    let (y, y_test) = (random_signs(&mut r, 300), random_signs(&mut r, 500));
    let result = tuned(&x, y.view(), &x_test, y_test.view(), 7);
    assert_eq!(result.grid.len(), 7);
    assert!(result.probe.lambda >= 1.0, "chose {} from {:?}", result.probe.lambda, result.validation_loss);
    let chosen = result.grid.iter().position(|g| *g == result.probe.lambda).unwrap();
    assert!((result.validation_loss[chosen] - 2f64.ln()).abs() < 0.005);
    assert!(result.validation_loss[0] > 1.0, "the weakest fit overfits: {:?}", result.validation_loss);
    assert!((result.probe.test_accuracy - 0.5).abs() < 4.0 * (0.25f64 / 500.0).sqrt());
}

/// A noiseless linear rule on 20 features with 1000 samples: regularisation only
/// costs, so the choice is one of the two weakest values, and the tuned probe is
/// at least as accurate on the test split as a strongly regularised one.
#[test]
fn a_clean_linear_rule_gets_weak_regularisation() {
    let mut r = rng(2);
    let a = Array1::from_iter(gaussian_matrix(&mut r, 1, 20, 1.0).iter().copied());
    let (x, x_test) = (gaussian_matrix(&mut r, 1000, 20, 1.0), gaussian_matrix(&mut r, 1000, 20, 1.0));
    let (y, y_test) = (linear_labels(&x, &a, 0.0, 3), linear_labels(&x_test, &a, 0.0, 4));
    let result = tuned(&x, y.view(), &x_test, y_test.view(), 7);
    assert!(result.probe.lambda <= 1e-3, "chose {} from {:?}", result.probe.lambda, result.validation_loss);
    let strong =
        fit_logistic_probe(x.view(), y.view(), x_test.view(), y_test.view(), &ProbeConfig { lambda: 10.0, ..ProbeConfig::default() })
            .unwrap();
    assert!(result.probe.test_accuracy >= strong.test_accuracy, "{} vs {}", result.probe.test_accuracy, strong.test_accuracy);
    assert!(result.probe.test_accuracy > 0.95);
}

/// The choice never sees the test split: shuffling (or flipping) the test labels
/// leaves the chosen lambda and the validation curve unchanged.
#[test]
fn test_labels_do_not_reach_the_choice() {
    let mut r = rng(3);
    let a = Array1::from_iter(gaussian_matrix(&mut r, 1, 30, 1.0).iter().copied());
    let (x, x_test) = (gaussian_matrix(&mut r, 400, 30, 1.0), gaussian_matrix(&mut r, 400, 30, 1.0));
    let (y, y_test) = (linear_labels(&x, &a, 0.2, 5), linear_labels(&x_test, &a, 0.2, 6));
    let reference = tuned(&x, y.view(), &x_test, y_test.view(), 11);
    let mut shuffled = y_test.to_vec();
    shuffled.rotate_left(137);
    let flipped = y_test.mapv(|label| -label);
    for other in [Array1::from(shuffled), flipped] {
        let result = tuned(&x, y.view(), &x_test, other.view(), 11);
        assert_eq!(result.probe.lambda, reference.probe.lambda);
        assert_eq!(result.validation_loss, reference.validation_loss);
        assert_eq!(result.validation_accuracy, reference.validation_accuracy);
        assert_eq!(result.probe.train_accuracy, reference.probe.train_accuracy);
    }
}

/// Same seed, same folds, same result (bit for bit); the fixed choice is the plain probe.
#[test]
fn folds_come_from_the_seed_and_fixed_is_the_plain_probe() {
    let mut r = rng(4);
    let a = Array1::from_iter(gaussian_matrix(&mut r, 1, 10, 1.0).iter().copied());
    let (x, x_test) = (gaussian_matrix(&mut r, 200, 10, 1.0), gaussian_matrix(&mut r, 200, 10, 1.0));
    let (y, y_test) = (linear_labels(&x, &a, 0.3, 7), linear_labels(&x_test, &a, 0.3, 8));
    assert_eq!(tuned(&x, y.view(), &x_test, y_test.view(), 5), tuned(&x, y.view(), &x_test, y_test.view(), 5));
    let other_seed = tuned(&x, y.view(), &x_test, y_test.view(), 6);
    assert_ne!(other_seed.validation_loss, tuned(&x, y.view(), &x_test, y_test.view(), 5).validation_loss);
    // The same call from another thread gives the same bits (nothing depends on the thread).
    let (xc, yc, xtc, ytc) = (x.clone(), y.clone(), x_test.clone(), y_test.clone());
    let from_thread = std::thread::spawn(move || tuned(&xc, yc.view(), &xtc, ytc.view(), 5)).join().unwrap();
    assert_eq!(from_thread, tuned(&x, y.view(), &x_test, y_test.view(), 5));

    let fixed = fit_tuned_probe(
        x.view(),
        y.view(),
        x_test.view(),
        y_test.view(),
        &LambdaChoice::Fixed { lambda: 0.01 },
        &ProbeConfig::default(),
        5,
    )
    .unwrap();
    let plain =
        fit_logistic_probe(x.view(), y.view(), x_test.view(), y_test.view(), &ProbeConfig { lambda: 0.01, ..ProbeConfig::default() })
            .unwrap();
    assert_eq!(fixed.probe, plain);
    assert!(fixed.validation_loss.is_empty());
}

#[test]
fn bad_settings_are_named_errors() {
    let mut r = rng(5);
    let (x, y) = (gaussian_matrix(&mut r, 4, 3, 1.0), Array1::from(vec![1.0f32, -1.0, 1.0, -1.0]));
    let run = |choice: LambdaChoice| fit_tuned_probe(x.view(), y.view(), x.view(), y.view(), &choice, &ProbeConfig::default(), 0);
    let field_of = |error: AnalysisError| match error {
        AnalysisError::InvalidSolverParameter { field, .. } => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(field_of(run(LambdaChoice::CrossValidated { min: 1e-4, max: 1e2, points: 7, folds: 1 }).unwrap_err()), "folds");
    assert_eq!(field_of(run(LambdaChoice::CrossValidated { min: 0.0, max: 1e2, points: 7, folds: 2 }).unwrap_err()), "min");
    assert_eq!(field_of(run(LambdaChoice::CrossValidated { min: 1.0, max: 0.5, points: 7, folds: 2 }).unwrap_err()), "max");
    assert!(matches!(run(LambdaChoice::Fixed { lambda: -1.0 }).unwrap_err(), AnalysisError::NegativeLambda { field: "lambda", .. }));
    assert!(matches!(
        run(LambdaChoice::CrossValidated { min: 1e-4, max: 1e2, points: 7, folds: 5 }).unwrap_err(),
        AnalysisError::TooFewSamples { found: 4, needed: 5, .. }
    ));
    let grid = LambdaChoice::default().grid();
    assert_eq!(grid.len(), 7);
    assert_eq!(grid, vec![1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0]);
}
