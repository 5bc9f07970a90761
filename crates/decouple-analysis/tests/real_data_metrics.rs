//! The dictionary-free metrics: the decoupling meter against its closed form
//! (Monte Carlo), its jackknife standard error against the spread of
//! independent replicates, localisation and kurtosis on known vectors, and
//! the multiclass probe on separable clusters.

use decouple_analysis::{
    decoupling_meter, excess_kurtosis, fit_multiclass_probe, localisation, pair_correlation, participation_ratio, soft_threshold,
    top_k_energy_share,
};
use ndarray::{Array2, array};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

fn gaussian(rng: &mut ChaCha8Rng, n: usize, d: usize, scale: f64) -> Array2<f32> {
    Array2::from_shape_simple_fn((n, d), || (scale * rng.sample::<f64, _>(StandardNormal)) as f32)
}

/// Views `x + s g1`, `x + s g2` of `x ~ N(0, sigma^2 I)`: `rho = sigma^2 / (sigma^2 + s^2)` along any `w`.
#[test]
fn meter_matches_the_gaussian_noise_closed_form() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (n, d, sigma, s) = (20_000, 6, 1.0, 0.7);
    let x = gaussian(&mut rng, n, d, sigma);
    let first = &x + &gaussian(&mut rng, n, d, s);
    let second = &x + &gaussian(&mut rng, n, d, s);
    let directions = array![[1.0f32, 0.0, 0.0, 0.0, 0.0, 0.0], [0.3, -0.4, 0.5, 0.1, 0.0, 0.2]];
    let meters = decoupling_meter(directions.view(), &[0.0, 0.5], first.view(), second.view()).unwrap();
    let expected = sigma * sigma / (sigma * sigma + s * s);
    for meter in &meters {
        assert!((meter.raw.value - expected).abs() < 4.0 * meter.raw.std_error, "{meter:?} vs {expected}");
        assert!(meter.raw.std_error > 0.0 && meter.raw.std_error < 0.02);
    }
    // Threshold 0 leaves the projections unchanged.
    assert_eq!(meters[0].raw, meters[0].thresholded);
    assert!((meters[0].active_fraction - 1.0).abs() < 1e-12);
    assert!(meters[1].active_fraction < 1.0);
}

#[test]
fn jackknife_error_matches_the_spread_of_replicates() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (n, replicates) = (2000, 200);
    let mut values = Vec::new();
    let mut errors = Vec::new();
    for _ in 0..replicates {
        // Heavy-tailed shared signal (Laplace-like) plus noise, thresholded.
        let shared: Vec<f64> = (0..n).map(|_| rng.sample::<f64, _>(StandardNormal) * rng.sample::<f64, _>(StandardNormal)).collect();
        let a: Vec<f64> = shared.iter().map(|v| soft_threshold(v + 0.5 * rng.sample::<f64, _>(StandardNormal), 0.5)).collect();
        let c: Vec<f64> = shared.iter().map(|v| soft_threshold(v + 0.5 * rng.sample::<f64, _>(StandardNormal), 0.5)).collect();
        let correlation = pair_correlation(&a, &c, 20);
        values.push(correlation.value);
        errors.push(correlation.std_error);
    }
    let mean = values.iter().sum::<f64>() / replicates as f64;
    let spread = (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (replicates - 1) as f64).sqrt();
    let typical_error = errors.iter().sum::<f64>() / replicates as f64;
    assert!((typical_error / spread - 1.0).abs() < 0.25, "jackknife {typical_error} vs spread {spread}");
}

#[test]
fn meter_rejects_bad_inputs() {
    let x = Array2::<f32>::ones((100, 3));
    let w = Array2::<f32>::ones((2, 3));
    assert!(decoupling_meter(w.view(), &[0.0], x.view(), x.view()).is_err());
    assert!(decoupling_meter(w.view(), &[0.0, -1.0], x.view(), x.view()).is_err());
    let short = Array2::<f32>::ones((10, 3));
    assert!(decoupling_meter(w.view(), &[0.0, 0.0], short.view(), short.view()).is_err());
    let wide = Array2::<f32>::ones((100, 4));
    assert!(decoupling_meter(w.view(), &[0.0, 0.0], x.view(), wide.view()).is_err());
}

#[test]
fn localisation_of_known_vectors() {
    assert!((participation_ratio(&[0.0, 3.0, 0.0]) - 1.0).abs() < 1e-12);
    assert!((participation_ratio(&[1.0; 8]) - 8.0).abs() < 1e-12);
    assert!((participation_ratio(&[1.0, 1.0, 0.0, 0.0]) - 2.0).abs() < 1e-12);
    assert!((top_k_energy_share(&[3.0, -4.0, 0.0], 1) - 16.0 / 25.0).abs() < 1e-12);
    assert!((top_k_energy_share(&[1.0; 8], 2) - 0.25).abs() < 1e-12);
    let weights = array![[1.0f32, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]];
    let result = localisation(weights.view(), 1).unwrap();
    assert_eq!(result.participation_ratio, vec![1.0, 4.0]);
    assert_eq!(result.top_k_share, vec![1.0, 0.25]);
    assert!(localisation(weights.view(), 0).is_err());
}

#[test]
fn kurtosis_of_gaussian_and_laplace_samples() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let gaussian: Vec<f64> = (0..200_000).map(|_| rng.sample::<f64, _>(StandardNormal)).collect();
    let laplace: Vec<f64> = (0..200_000)
        .map(|_| {
            let u: f64 = rng.random::<f64>() - 0.5;
            -u.signum() * (1.0 - 2.0 * u.abs()).ln()
        })
        .collect();
    assert!(excess_kurtosis(&gaussian).abs() < 0.1, "{}", excess_kurtosis(&gaussian));
    assert!((excess_kurtosis(&laplace) - 3.0).abs() < 0.3, "{}", excess_kurtosis(&laplace));
}

#[test]
fn multiclass_probe_separates_clusters() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let centres = array![[4.0f32, 0.0], [0.0, 4.0], [-4.0, -4.0]];
    let draw = |rng: &mut ChaCha8Rng, n: usize| {
        let classes: Vec<usize> = (0..n).map(|i| i % 3).collect();
        let mut x = gaussian(rng, n, 2, 1.0);
        for (mut row, &class) in x.rows_mut().into_iter().zip(&classes) {
            row += &centres.row(class);
        }
        (x, classes)
    };
    let (train, train_classes) = draw(&mut rng, 300);
    let (test, test_classes) = draw(&mut rng, 600);
    let probe = fit_multiclass_probe(train.view(), &train_classes, test.view(), &test_classes, 3, 1e-3).unwrap();
    assert!(probe.test_accuracy > 0.95, "{probe:?}");
    assert!(fit_multiclass_probe(train.view(), &train_classes, test.view(), &test_classes, 2, 1e-3).is_err());
}
