//! Invariants of the data model: dictionaries, latents, dense features,
//! batches, pools, tasks and config validation.

use decouple_data::{
    Batch, DataConfig, DataError, DenseFeatures, Dictionary, DictionaryKind, FeatureSignTask, Pool, SignTask, SparseCodingModel,
    SparseLatent, draw_labelled, linalg, rng,
};
use ndarray::{Array1, Array2, Axis};
use proptest::prelude::*;

fn config(d: usize, d1: usize, latent: SparseLatent, dense: DenseFeatures) -> DataConfig {
    edited(DataConfig::default(), |c| {
        c.d = d;
        c.d1 = d1;
        c.dictionary = DictionaryKind::RandomOrthonormal;
        c.latent = latent;
        c.dense = dense;
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// `M^T M = I` within 1e-5 (in f32 and f64) and every entry is below
    /// `3 sqrt(ln d1 / d1)`: for Haar frames, P(|M_kj| > t) <= 2 exp(-d1 t^2 / 2)
    /// roughly, so the bound fails with probability about `2 d d1^{-3.5}`.
    #[test]
    fn random_dictionary_is_orthonormal_and_delocalized(seed in any::<u64>(), d in 1usize..40, extra in 0usize..200) {
        let d1 = d + extra + 16;
        let dictionary = Dictionary::generate(DictionaryKind::RandomOrthonormal, d, d1, &mut rng::stream(seed, "dictionary")).unwrap();
        prop_assert!(linalg::orthonormality_error(dictionary.matrix_f64()) < 1e-10);
        let as_f32 = dictionary.matrix().mapv(f64::from);
        prop_assert!(linalg::orthonormality_error(as_f32.view()) < 1e-5);
        let bound = 3.0 * ((d1 as f64).ln() / d1 as f64).sqrt();
        prop_assert!(dictionary.max_abs_entry() < bound, "max entry {} >= {}", dictionary.max_abs_entry(), bound);
    }

    /// Low-rank dense features live in an orthonormal basis orthogonal to span(M);
    /// off-span noise has no component in span(M).
    #[test]
    fn structured_dense_features_avoid_span_of_m(seed in any::<u64>(), rank in 1usize..8) {
        let data = config(6, 40, SparseLatent::Bernoulli { p: 0.3 }, DenseFeatures::LowRank { rank, sigma: 0.5 });
        let model = SparseCodingModel::from_seed(data, seed).unwrap();
        let basis = model.dense_basis().unwrap();
        prop_assert!(linalg::orthonormality_error(basis) < 1e-10);
        let cross = basis.t().dot(&model.dictionary().matrix_f64());
        prop_assert!(cross.iter().all(|v| v.abs() < 1e-10));
        for dense in [DenseFeatures::LowRank { rank, sigma: 0.5 }, DenseFeatures::OrthogonalComplement { sigma: 0.5 }] {
            let model = SparseCodingModel::from_seed(config(6, 40, SparseLatent::OneHot {}, dense), seed).unwrap();
            let batch = model.sample(16, &mut rng::stream(seed, "data"));
            let in_span = batch.dense().dot(&model.dictionary().matrix());
            prop_assert!(in_span.iter().all(|v| v.abs() < 1e-5), "{:?}", dense);
        }
    }

    /// `x = sparse + dense` exactly, `sparse = z M^T`, and z has the drawn support.
    #[test]
    fn batch_parts_add_up(seed in any::<u64>(), n in 1usize..20) {
        let model = SparseCodingModel::from_seed(config(5, 30, SparseLatent::ExactlyK { k: 2 }, DenseFeatures::IsotropicGaussian { sigma: 0.3 }), seed).unwrap();
        let batch = model.sample(n, &mut rng::stream(seed, "data"));
        for ((x, s), xi) in batch.x().iter().zip(batch.sparse()).zip(batch.dense()) {
            prop_assert_eq!(*x, s + xi);
        }
        let sparse = batch.z().dot(&model.dictionary().matrix().t());
        prop_assert!((&sparse - &batch.sparse()).iter().all(|v| v.abs() < 1e-6));
        for row in batch.z().rows() {
            prop_assert_eq!(row.iter().filter(|v| **v != 0.0).count(), 2);
            prop_assert!(row.iter().all(|v| [-1.0, 0.0, 1.0].contains(v)));
        }
    }
}

/// Activation frequency and sign balance match `p` within 5 standard errors.
#[test]
fn bernoulli_sparsity_matches_p() {
    for (index, &p) in [0.02, 0.0625, 0.3].iter().enumerate() {
        let model = SparseCodingModel::from_seed(config(32, 64, SparseLatent::Bernoulli { p }, DenseFeatures::default()), 3).unwrap();
        let batch = model.sample(20_000, &mut rng::indexed_stream(3, "data", index as u64));
        let n = batch.z().len() as f64;
        let active = batch.z().iter().filter(|v| **v != 0.0).count() as f64;
        let positive = batch.z().iter().filter(|v| **v > 0.0).count() as f64;
        let standard_error = (p * (1.0 - p) / n).sqrt();
        assert!((active / n - p).abs() < 5.0 * standard_error, "p = {p}: measured {}", active / n);
        assert!((positive / active - 0.5).abs() < 5.0 * (0.25 / active).sqrt());
    }
}

/// Monte Carlo variances along random directions match `SecondMoments::quad`
/// and the per-coordinate variances match `diag`, for every component kind.
/// Tolerance: 5 standard errors of the sample second moment (from the sample
/// fourth moment).
#[test]
fn second_moments_match_monte_carlo() {
    let denses = [
        DenseFeatures::IsotropicGaussian { sigma: 0.3 },
        DenseFeatures::LowRank { rank: 3, sigma: 0.3 },
        DenseFeatures::OrthogonalComplement { sigma: 0.3 },
    ];
    for (index, dense) in denses.into_iter().enumerate() {
        let model = SparseCodingModel::from_seed(config(6, 24, SparseLatent::Bernoulli { p: 0.25 }, dense), 11).unwrap();
        let batch = model.sample(40_000, &mut rng::indexed_stream(11, "data", index as u64));
        let mut direction_rng = rng::indexed_stream(11, "directions", index as u64);
        for trial in 0..4 {
            let w: Array1<f64> = if trial == 0 {
                model.dictionary().feature(0).to_owned()
            } else {
                Array1::from_shape_simple_fn(24, || rand::Rng::sample(&mut direction_rng, rand_distr::StandardNormal))
            };
            for (part, moments) in [(batch.sparse(), model.sparse_moments(w.view())), (batch.dense(), model.dense_moments(w.view()))] {
                let part = part.mapv(f64::from);
                let projections = part.dot(&w);
                check_second_moment(projections.view(), moments.quad, "quad");
                let weighted: Array1<f64> = part.mapv(|v| v * v).dot(&w.mapv(|v| v * v));
                let n = weighted.len() as f64;
                let mean = weighted.mean().unwrap();
                let standard_error = (weighted.mapv(|v| (v - mean).powi(2)).sum() / (n - 1.0) / n).sqrt();
                assert!((mean - moments.diag).abs() <= 5.0 * standard_error + 1e-12, "diag {mean} vs {}", moments.diag);
            }
        }
    }
}

fn check_second_moment(projections: ndarray::ArrayView1<'_, f64>, expected: f64, what: &str) {
    let squares = projections.mapv(|v| v * v);
    let n = squares.len() as f64;
    let mean = squares.mean().unwrap();
    let standard_error = (squares.mapv(|v| (v - mean).powi(2)).sum() / (n - 1.0) / n).sqrt();
    assert!((mean - expected).abs() <= 5.0 * standard_error + 1e-12, "{what}: {mean} vs {expected} (se {standard_error})");
}

/// The identity-like dictionary is `[e_1 ... e_d]`, fully localized.
#[test]
fn identity_dictionary_is_localized() {
    let dictionary = Dictionary::generate(DictionaryKind::Identity, 4, 9, &mut rng::stream(0, "dictionary")).unwrap();
    assert_eq!(dictionary.max_abs_entry(), 1.0);
    assert_eq!(dictionary.matrix()[[2, 2]], 1.0);
    assert_eq!(dictionary.matrix().sum(), 4.0);
    assert_eq!(Dictionary::from_matrix(dictionary.matrix_f64().to_owned()).unwrap().kind(), DictionaryKind::Identity);
}

/// Bad dimensions and parameters are typed errors naming the field.
#[test]
fn invalid_configs_name_the_field() {
    let cases: Vec<(DataConfig, &str)> = vec![
        (config(0, 10, SparseLatent::OneHot {}, DenseFeatures::default()), "d = 0"),
        (config(10, 5, SparseLatent::OneHot {}, DenseFeatures::default()), "d1 = 5"),
        (config(4, 10, SparseLatent::Bernoulli { p: 1.5 }, DenseFeatures::default()), "latent.p = 1.5"),
        (config(4, 10, SparseLatent::ExactlyK { k: 5 }, DenseFeatures::default()), "latent.k = 5"),
        (config(4, 10, SparseLatent::OneHot {}, DenseFeatures::IsotropicGaussian { sigma: -1.0 }), "dense.sigma = -1"),
        (config(4, 10, SparseLatent::OneHot {}, DenseFeatures::IsotropicGaussian { sigma: f64::NAN }), "dense.sigma = NaN"),
        (config(4, 10, SparseLatent::OneHot {}, DenseFeatures::LowRank { rank: 7, sigma: 1.0 }), "dense.rank = 7"),
        (config(4, 10, SparseLatent::OneHot {}, DenseFeatures::LowRank { rank: 0, sigma: 1.0 }), "dense.rank = 0"),
    ];
    for (bad, expected) in cases {
        let message = SparseCodingModel::from_seed(bad, 0).unwrap_err().to_string();
        assert!(message.starts_with(expected), "{message:?} should start with {expected:?}");
        assert!(message.contains("must be"), "{message}");
    }
    let not_orthonormal = Dictionary::from_matrix(Array2::from_elem((3, 2), 1.0)).unwrap_err();
    assert!(matches!(not_orthonormal, DataError::NotOrthonormal { .. }));
}

/// Configs are plain serde data; unknown fields are rejected.
#[test]
fn config_serde_round_trip() {
    let data = config(8, 64, SparseLatent::ExactlyK { k: 3 }, DenseFeatures::LowRank { rank: 4, sigma: 0.2 });
    let json = serde_json::to_string(&data).unwrap();
    assert_eq!(serde_json::from_str::<DataConfig>(&json).unwrap(), data);
    assert!(json.contains(r#""latent":{"kind":"ExactlyK","k":3}"#), "{json}");
    let unknown = json.replace(r#""d":8"#, r#""d":8,"dd":1"#);
    assert!(serde_json::from_str::<DataConfig>(&unknown).unwrap_err().to_string().contains("unknown field `dd`"));
    assert!((DataConfig::default().energy_ratio() - 0.25f64.powi(2) * 512.0 / 2.0).abs() < 1e-12);
}

/// A pool visits every sample once per epoch and reshuffles between epochs.
#[test]
fn pool_visits_each_sample_once_per_epoch() {
    let model = SparseCodingModel::from_seed(config(3, 8, SparseLatent::OneHot {}, DenseFeatures::default()), 5).unwrap();
    let samples = model.sample(12, &mut rng::stream(5, "pool"));
    let mut pool = Pool::new(samples.clone());
    let mut shuffle = rng::stream(5, "shuffle");
    let mut out = Batch::zeros(0, 3, 8);
    let mut seen = Vec::new();
    for _ in 0..3 {
        pool.next_batch_into(4, &mut out, &mut shuffle);
        seen.extend(out.x().rows().into_iter().map(|row| row.to_vec()));
    }
    assert_eq!(pool.epoch(), 1);
    let mut expected: Vec<Vec<f32>> = samples.x().rows().into_iter().map(|row| row.to_vec()).collect();
    let key = |a: &Vec<f32>, b: &Vec<f32>| a.partial_cmp(b).unwrap();
    expected.sort_by(key);
    seen.sort_by(key);
    assert_eq!(seen, expected);
    pool.next_batch_into(5, &mut out, &mut shuffle);
    assert_eq!((pool.epoch(), out.n()), (2, 5));
}

/// Labelled sets have the requested size, consistent labels, and no ties.
#[test]
fn downstream_tasks_label_consistently() {
    let model = SparseCodingModel::from_seed(config(8, 32, SparseLatent::Bernoulli { p: 0.1 }, DenseFeatures::default()), 9).unwrap();
    let mut stream = rng::stream(9, "probe");
    let task = SignTask::new(8, &mut stream);
    let set = draw_labelled(&model, &task, 300, &mut stream).unwrap();
    assert_eq!((set.samples.n(), set.labels.len()), (300, 300));
    for (z, &label) in set.samples.z().axis_iter(Axis(0)).zip(&set.labels) {
        assert_eq!(task.direction().dot(&z).signum(), label);
        assert!(z.iter().any(|v| *v != 0.0));
    }
    let feature = FeatureSignTask { feature: 3 };
    let set = draw_labelled(&model, &feature, 100, &mut stream).unwrap();
    assert!(set.samples.z().column(3).iter().zip(&set.labels).all(|(z, y)| z == y));
    let bad = draw_labelled(&model, &FeatureSignTask { feature: 8 }, 10, &mut stream).unwrap_err();
    assert!(bad.to_string().starts_with("task.feature = 8"), "{bad}");
    let silent = SparseCodingModel::from_seed(config(8, 32, SparseLatent::Bernoulli { p: 0.0 }, DenseFeatures::default()), 9).unwrap();
    assert!(matches!(draw_labelled(&silent, &task, 5, &mut stream), Err(DataError::NotEnoughLabels { .. })));
}

/// `value` after `edit` (the config structs are `#[non_exhaustive]`: no struct literals outside their crate).
fn edited<T>(mut value: T, edit: impl FnOnce(&mut T)) -> T {
    edit(&mut value);
    value
}
