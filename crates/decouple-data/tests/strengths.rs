//! Per-feature strengths `alpha_j`: the samples, the closed-form second
//! moments and the energy ratio against Monte Carlo, and validation.

use decouple_data::{DataConfig, DataError, DenseFeatures, FeatureStrengths, SparseCodingModel, SparseLatent, rng};
use ndarray::Array1;

fn two_groups() -> DataConfig {
    let mut config = DataConfig::default();
    config.d = 6;
    config.d1 = 24;
    config.latent = SparseLatent::Bernoulli { p: 0.3 };
    config.dense = DenseFeatures::IsotropicGaussian { sigma: 0.2 };
    config.strengths = FeatureStrengths::TwoGroups { strong: 2, alpha_strong: 1.5, alpha_weak: 0.4 };
    config
}

/// `sparse = z diag(alpha) M^T` exactly (up to f32 rounding of `alpha M`), row by row.
#[test]
fn sparse_part_is_the_scaled_dictionary_times_z() {
    let model = SparseCodingModel::from_seed(two_groups(), 3).unwrap();
    let batch = model.sample(50, &mut rng::stream(3, "data"));
    let alphas = model.strengths();
    assert_eq!(alphas, vec![1.5, 1.5, 0.4, 0.4, 0.4, 0.4]);
    for (z, sparse) in batch.z().rows().into_iter().zip(batch.sparse().rows()) {
        for k in 0..24 {
            let expected: f64 = (0..6).map(|j| f64::from(z[j]) * alphas[j] * model.dictionary().feature(j)[k]).sum();
            assert!((f64::from(sparse[k]) - expected).abs() < 1e-5, "{} vs {expected}", sparse[k]);
        }
    }
}

/// `quad = c sum_j alpha_j^2 <m_j, w>^2` and `diag = c sum_k w_k^2 sum_j alpha_j^2 M_kj^2`
/// match the sample second moments within 5 standard errors, along a strong
/// feature, a weak feature and random directions.
#[test]
fn weighted_second_moments_match_monte_carlo() {
    let model = SparseCodingModel::from_seed(two_groups(), 8).unwrap();
    let batch = model.sample(60_000, &mut rng::stream(8, "data"));
    let sparse = batch.sparse().mapv(f64::from);
    let mut direction_rng = rng::stream(8, "directions");
    for trial in 0..5 {
        let w: Array1<f64> = match trial {
            0 => model.dictionary().feature(0).to_owned(),
            1 => model.dictionary().feature(4).to_owned(),
            _ => Array1::from_shape_simple_fn(24, || rand::Rng::sample(&mut direction_rng, rand_distr::StandardNormal)),
        };
        let moments = model.sparse_moments(w.view());
        let projections = sparse.dot(&w).mapv(|v| v * v);
        let weighted = sparse.mapv(|v| v * v).dot(&w.mapv(|v| v * v));
        for (samples, expected, what) in [(projections, moments.quad, "quad"), (weighted, moments.diag, "diag")] {
            let n = samples.len() as f64;
            let mean = samples.mean().unwrap();
            let standard_error = (samples.mapv(|v| (v - mean).powi(2)).sum() / (n - 1.0) / n).sqrt();
            assert!((mean - expected).abs() <= 5.0 * standard_error, "trial {trial} {what}: {mean} vs {expected} (se {standard_error})");
        }
    }
    // Along a feature the closed form is exactly c alpha_j^2.
    let strong = model.sparse_moments(model.dictionary().feature(1));
    assert!((strong.quad - 0.3 * 1.5 * 1.5).abs() < 1e-12);
}

/// `E||xi||^2 / E||M diag(alpha) z||^2 = sigma^2 d1 / (c sum_j alpha_j^2)`, also by Monte Carlo.
#[test]
fn energy_ratio_uses_the_strengths() {
    let config = two_groups();
    let expected = 0.04 * 24.0 / (0.3 * (2.0 * 2.25 + 4.0 * 0.16));
    assert!((config.energy_ratio() - expected).abs() < 1e-12);
    let model = SparseCodingModel::from_seed(config, 1).unwrap();
    let batch = model.sample(40_000, &mut rng::stream(1, "data"));
    let energy = |part: ndarray::ArrayView2<'_, f32>| part.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>();
    let measured = energy(batch.dense()) / energy(batch.sparse());
    assert!((measured / expected - 1.0).abs() < 0.03, "{measured} vs {expected}");
}

/// Uniform strengths (explicit or as equal groups of 1) draw exactly the unscaled
/// model; a config without the field (written before it existed) reads as uniform.
#[test]
fn unit_strengths_are_the_plain_model() {
    let plain = DataConfig::default();
    let mut ones = plain;
    ones.strengths = FeatureStrengths::TwoGroups { strong: 5, alpha_strong: 1.0, alpha_weak: 1.0 };
    let a = SparseCodingModel::from_seed(plain, 2).unwrap().sample(64, &mut rng::stream(2, "data"));
    let b = SparseCodingModel::from_seed(ones, 2).unwrap().sample(64, &mut rng::stream(2, "data"));
    assert_eq!(a.x(), b.x());
    let json = serde_json::to_string(&plain).unwrap();
    assert!(json.contains(r#""strengths":{"kind":"Uniform"}"#), "{json}");
    let old = json.replace(r#","strengths":{"kind":"Uniform"}"#, "");
    assert_eq!(serde_json::from_str::<DataConfig>(&old).unwrap(), plain);
    let json = serde_json::to_string(&two_groups()).unwrap();
    assert!(json.contains(r#""strengths":{"kind":"TwoGroups","strong":2,"alpha_strong":1.5,"alpha_weak":0.4}"#), "{json}");
    assert_eq!(serde_json::from_str::<DataConfig>(&json).unwrap(), two_groups());
}

/// Out-of-range strengths are typed errors naming the field.
#[test]
fn invalid_strengths_name_the_field() {
    let cases = [
        (FeatureStrengths::TwoGroups { strong: 7, alpha_strong: 1.0, alpha_weak: 0.5 }, "strengths.strong"),
        (FeatureStrengths::TwoGroups { strong: 2, alpha_strong: 0.0, alpha_weak: 0.5 }, "strengths.alpha_strong"),
        (FeatureStrengths::TwoGroups { strong: 2, alpha_strong: 1.0, alpha_weak: f64::NAN }, "strengths.alpha_weak"),
    ];
    for (strengths, field) in cases {
        let mut config = two_groups();
        config.strengths = strengths;
        match config.check() {
            Err(DataError::OutOfRange { field: found, .. }) => assert_eq!(found, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}
