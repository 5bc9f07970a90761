//! The fast `f32` ziggurat sampler: its table satisfies the ziggurat
//! recurrence, its draws have the normal's moments and tail probabilities,
//! and batches drawn on a 2-thread pool equal batches drawn sequentially.

use decouple_data::{DataConfig, DenseFeatures, SparseCodingModel, ZIGGURAT_F, ZIGGURAT_X, fill_normal, rng};

/// Layer area of the 256-layer ziggurat of `exp(-x^2/2)`.
const V: f64 = 4.928_673_233_99e-3;

fn density(x: f64) -> f64 {
    (-0.5 * x * x).exp()
}

#[test]
fn ziggurat_table_satisfies_its_recurrence() {
    let r = ZIGGURAT_X[1];
    assert!((ZIGGURAT_X[0] - V / density(r)).abs() < 1e-12);
    // The tail beyond R plus the rectangle under f(R) has area V.
    let tail = (std::f64::consts::PI / 2.0).sqrt() * libm_erfc(r / std::f64::consts::SQRT_2);
    assert!((r * density(r) + tail - V).abs() < 1e-9, "base layer area {}", r * density(r) + tail);
    for i in 1..255 {
        let next = (-2.0 * (V / ZIGGURAT_X[i] + density(ZIGGURAT_X[i])).ln()).sqrt();
        assert!((ZIGGURAT_X[i + 1] - next).abs() < 1e-12 * next.max(1.0), "layer {i}");
    }
    assert_eq!(ZIGGURAT_X[256], 0.0);
    for (x, f) in ZIGGURAT_X.iter().zip(ZIGGURAT_F) {
        assert!((density(*x) - f).abs() < 1e-15);
    }
}

/// `erfc` by its continued fraction (accurate to ~1e-12 for x > 2).
fn libm_erfc(x: f64) -> f64 {
    let mut fraction = 0.0;
    for k in (1..200).rev() {
        fraction = f64::from(k) / 2.0 / (x + fraction);
    }
    (-x * x).exp() / std::f64::consts::PI.sqrt() / (x + fraction)
}

#[test]
fn draws_have_normal_moments_and_tails() {
    let n = 4_000_000;
    let mut draws = vec![0.0f32; n];
    fill_normal(&mut draws, 1.0, &mut rng::stream(11, "normal"));
    let mean = draws.iter().map(|&x| f64::from(x)).sum::<f64>() / n as f64;
    let variance = draws.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / n as f64;
    let fourth = draws.iter().map(|&x| f64::from(x).powi(4)).sum::<f64>() / n as f64;
    let se = 1.0 / (n as f64).sqrt();
    assert!(mean.abs() < 5.0 * se, "mean {mean}");
    assert!((variance - 1.0).abs() < 5.0 * 2f64.sqrt() * se, "variance {variance}");
    assert!((fourth - 3.0).abs() < 5.0 * 96f64.sqrt() * se, "fourth moment {fourth}");
    // P(|x| > t) = erfc(t / sqrt 2), including the tail beyond R = 3.654.
    for t in [0.5, 1.0, 2.0, 3.0, ZIGGURAT_X[1], 4.5] {
        let expected = libm_erfc_any(t / std::f64::consts::SQRT_2);
        let count = draws.iter().filter(|&&x| f64::from(x).abs() > t).count() as f64;
        let sd = (n as f64 * expected * (1.0 - expected)).sqrt();
        assert!((count - n as f64 * expected).abs() < 5.0 * sd + 3.0, "P(|x| > {t}): {count} vs {}", n as f64 * expected);
    }
}

/// `erfc` for any `x >= 0`: the series of `erf` below 2, the continued fraction above.
fn libm_erfc_any(x: f64) -> f64 {
    if x > 2.0 {
        return libm_erfc(x);
    }
    let (mut term, mut sum) = (x, x);
    for k in 1..200 {
        term *= -x * x / f64::from(k);
        sum += term / f64::from(2 * k + 1);
    }
    1.0 - 2.0 / std::f64::consts::PI.sqrt() * sum
}

#[test]
fn batches_do_not_depend_on_threads() {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    for dense in [
        DenseFeatures::IsotropicGaussian { sigma: 0.25 },
        DenseFeatures::LowRank { rank: 5, sigma: 0.25 },
        DenseFeatures::OrthogonalComplement { sigma: 0.25 },
    ] {
        let config = DataConfig { d: 8, d1: 70, dense, ..DataConfig::default() };
        let model = SparseCodingModel::from_seed(config, 3).unwrap();
        let sequential = model.sample(37, &mut rng::stream(3, "data"));
        let parallel = pool.install(|| model.sample(37, &mut rng::stream(3, "data")));
        assert_eq!(sequential, parallel, "{dense:?}");
    }
}
