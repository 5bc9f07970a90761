//! Statistical behaviour of the linear probes: chance level on pure noise
//! (even when the training set is memorised), near-perfect accuracy on a
//! linearly separable task, ridge R^2 near 1 on a noiseless linear task and
//! near 0 on noise, and serde round trips of the result structs.

mod common;

use std::time::Instant;

use common::{gaussian_matrix, random_signs, rng};
use decouple_analysis::{
    DEFAULT_PROBE_TEST_SAMPLES, DEFAULT_PROBE_TRAIN_SAMPLES, ProbeConfig, ProbeResult, RidgeConfig, RidgeResult, fit_logistic_probe,
    fit_ridge_regression,
};
use ndarray::{Array1, Array2};

const N_TRAIN: usize = DEFAULT_PROBE_TRAIN_SAMPLES;
const N_TEST: usize = DEFAULT_PROBE_TEST_SAMPLES;

#[test]
fn default_budget_is_1000_train_and_2000_test() {
    assert_eq!((DEFAULT_PROBE_TRAIN_SAMPLES, DEFAULT_PROBE_TEST_SAMPLES), (1000, 2000));
    assert_eq!(ProbeConfig::default().lambda, 1e-3);
}

#[test]
fn noise_features_score_at_chance_on_test() {
    // 4 binomial standard errors of 0.5 with 2000 test samples: 0.0447.
    let tolerance = 4.0 * (0.25 / N_TEST as f64).sqrt();
    for (seed, p) in [(10_u64, 32_usize), (11, 128), (12, 512)] {
        let mut r = rng(seed);
        let x_train = gaussian_matrix(&mut r, N_TRAIN, p, 1.0);
        let x_test = gaussian_matrix(&mut r, N_TEST, p, 1.0);
        let y_train = random_signs(&mut r, N_TRAIN);
        let y_test = random_signs(&mut r, N_TEST);
        let start = Instant::now();
        let result = fit_logistic_probe(x_train.view(), y_train.view(), x_test.view(), y_test.view(), &ProbeConfig::default()).unwrap();
        eprintln!(
            "noise probe p = {p}: train {:.3} test {:.3} in {} Newton steps, {:?}",
            result.train_accuracy,
            result.test_accuracy,
            result.iterations,
            start.elapsed()
        );
        assert!(result.converged);
        assert!((result.test_accuracy - 0.5).abs() < tolerance, "p = {p}: {}", result.test_accuracy);
        assert_eq!((result.n_train, result.n_test, result.n_features), (N_TRAIN, N_TEST, p));
        if p == 512 {
            // The probe memorises its training labels, which says nothing about the test set.
            assert!(result.train_accuracy > 0.75, "train accuracy {}", result.train_accuracy);
        }
    }
}

/// Labels `sign(<a, x>)` of Gaussian features for a fixed random `a`.
fn separable_task(seed: u64, p: usize, n: usize, a: &Array1<f32>) -> (Array2<f32>, Array1<f32>) {
    let mut r = rng(seed);
    let x = gaussian_matrix(&mut r, n, p, 1.0).mapv(|v| 3.0 * v + 1.0);
    let y = x.mapv(|v| v - 1.0).dot(a).mapv(|s| if s >= 0.0 { 1.0 } else { -1.0 });
    (x, y)
}

#[test]
fn separable_task_scores_above_095() {
    for p in [16_usize, 32] {
        let a = gaussian_matrix(&mut rng(20), p, 1, 1.0).column(0).to_owned();
        let (x_train, y_train) = separable_task(21, p, N_TRAIN, &a);
        let (x_test, y_test) = separable_task(22, p, N_TEST, &a);
        let result = fit_logistic_probe(x_train.view(), y_train.view(), x_test.view(), y_test.view(), &ProbeConfig::default()).unwrap();
        eprintln!("separable p = {p}: test {:.3}, {} Newton steps", result.test_accuracy, result.iterations);
        assert!(result.converged);
        assert!(result.test_accuracy > 0.95, "p = {p}: {}", result.test_accuracy);
        assert!(result.train_accuracy > 0.98);
    }
}

#[test]
fn ridge_r2_is_one_on_a_noiseless_linear_task_and_zero_on_noise() {
    let (p, k) = (20, 4);
    let mut r = rng(30);
    let coefficients = gaussian_matrix(&mut r, p, k, 1.0);
    let x_train = gaussian_matrix(&mut r, N_TRAIN, p, 1.0);
    let x_test = gaussian_matrix(&mut r, N_TEST, p, 1.0);
    let y_train = x_train.dot(&coefficients).mapv(|v| v + 0.5);
    let y_test = x_test.dot(&coefficients).mapv(|v| v + 0.5);
    let linear = fit_ridge_regression(x_train.view(), y_train.view(), x_test.view(), y_test.view(), &RidgeConfig::default()).unwrap();
    assert!(linear.mean_test_r2 > 0.999, "{:?}", linear.test_r2_per_target);
    assert_eq!(linear.n_targets, k);

    // Noise targets: expected test R^2 about -p / n = -0.02.
    let noise_train = gaussian_matrix(&mut r, N_TRAIN, k, 1.0);
    let noise_test = gaussian_matrix(&mut r, N_TEST, k, 1.0);
    let noise =
        fit_ridge_regression(x_train.view(), noise_train.view(), x_test.view(), noise_test.view(), &RidgeConfig::default()).unwrap();
    assert!(noise.mean_test_r2.abs() < 0.05, "{:?}", noise.test_r2_per_target);
    assert!(noise.mean_train_r2 > 0.0 && noise.mean_train_r2 < 0.06);
}

#[test]
fn a_dead_feature_column_is_harmless() {
    let mut r = rng(40);
    let mut x_train = gaussian_matrix(&mut r, 200, 5, 1.0);
    x_train.column_mut(2).fill(0.0);
    let x_test = gaussian_matrix(&mut r, 300, 5, 1.0);
    let y_train = x_train.column(0).mapv(|v| if v >= 0.0 { 1.0 } else { -1.0 });
    let y_test = x_test.column(0).mapv(|v| if v >= 0.0 { 1.0 } else { -1.0 });
    let result = fit_logistic_probe(x_train.view(), y_train.view(), x_test.view(), y_test.view(), &ProbeConfig::default()).unwrap();
    assert!(result.converged && result.test_accuracy > 0.97);
}

#[test]
fn results_survive_a_json_round_trip() {
    let mut r = rng(50);
    let x = gaussian_matrix(&mut r, 50, 3, 1.0);
    let y = random_signs(&mut r, 50);
    let probe = fit_logistic_probe(x.view(), y.view(), x.view(), y.view(), &ProbeConfig::default()).unwrap();
    let back: ProbeResult = serde_json::from_str(&serde_json::to_string(&probe).unwrap()).unwrap();
    assert_eq!(back, probe);
    let targets = gaussian_matrix(&mut r, 50, 2, 1.0);
    let ridge = fit_ridge_regression(x.view(), targets.view(), x.view(), targets.view(), &RidgeConfig::default()).unwrap();
    let back: RidgeResult = serde_json::from_str(&serde_json::to_string(&ridge).unwrap()).unwrap();
    assert_eq!(back, ridge);
    let config: ProbeConfig = serde_json::from_str(&serde_json::to_string(&ProbeConfig::default()).unwrap()).unwrap();
    assert_eq!(config, ProbeConfig::default());
}
