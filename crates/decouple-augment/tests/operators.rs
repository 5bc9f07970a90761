//! Invariants of the augmentation operators: partition, unbiasedness,
//! linearity over parts, agreement of the x-only path, mask rates, validation.

use decouple_augment::{AugmentError, Augmentation};
use decouple_data::{DataConfig, DenseFeatures, SparseCodingModel, SparseLatent, rng};
use ndarray::{Array2, array};
use proptest::prelude::*;

fn small_model(seed: u64) -> SparseCodingModel {
    let config = edited(DataConfig::default(), |c| {
        c.d = 4;
        c.d1 = 16;
        c.latent = SparseLatent::Bernoulli { p: 0.5 };
        c.dense = DenseFeatures::IsotropicGaussian { sigma: 0.5 };
    });
    SparseCodingModel::from_seed(config, seed).unwrap()
}

fn any_augmentation() -> impl Strategy<Value = Augmentation> {
    prop_oneof![
        Just(Augmentation::Identity {}),
        (0.05f64..0.95).prop_map(|keep| Augmentation::ComplementaryMask { keep }),
        (0.05f64..1.0, any::<bool>()).prop_map(|(keep, rescale)| Augmentation::IndependentMask { keep, rescale, views: 2 }),
        (0.0f64..2.0).prop_map(|sigma_a| Augmentation::GaussianNoise { sigma_a }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Each view of x is the view of its sparse part plus the view of its dense
    /// part, up to one f32 rounding per term; the x-only path gives the same x views.
    #[test]
    fn views_of_parts_add_up(seed in any::<u64>(), augmentation in any_augmentation(), n in 1usize..12) {
        let model = small_model(seed);
        let batch = model.sample(n, &mut rng::stream(seed, "data"));
        let pair = augmentation.apply(&batch, &mut rng::stream(seed, "augment")).unwrap();
        // Rounding: x = fl(s + xi) in the batch, then one operation per view;
        // added noise n = xi_view - xi enters the bound through |xi| + |xi_view|.
        for view in [&pair.first, &pair.second] {
            let originals = batch.x().iter().zip(batch.dense()).map(|(x, xi)| x.abs() + xi.abs()).collect::<Vec<_>>();
            for (((x, s), xi), original) in view.x().iter().zip(view.sparse()).zip(view.dense()).zip(originals) {
                let tolerance = 4.0 * f32::EPSILON * (s.abs() + 2.0 * xi.abs() + x.abs() + original);
                prop_assert!((x - (s + xi)).abs() <= tolerance, "{} vs {} + {}", x, s, xi);
            }
        }
        let (mut first, mut second) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        augmentation.apply_x_into(batch.x(), &mut first, &mut second, &mut rng::stream(seed, "augment")).unwrap();
        prop_assert_eq!(first, pair.first.x().to_owned());
        prop_assert_eq!(second, pair.second.x().to_owned());
    }

    /// Complementary masks partition the coordinates: each coordinate is kept
    /// by exactly one view, and `q x+ + (1 - q) x++ = x`.
    #[test]
    fn complementary_masks_partition_coordinates(seed in any::<u64>(), keep in 0.05f64..0.95) {
        let x = Array2::from_shape_fn((3, 16), |(i, k)| 1.0 + (i * 16 + k) as f32);
        let augmentation = Augmentation::ComplementaryMask { keep };
        let (mut first, mut second) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        augmentation.apply_x_into(x.view(), &mut first, &mut second, &mut rng::stream(seed, "augment")).unwrap();
        for ((a, b), original) in first.iter().zip(&second).zip(&x) {
            prop_assert!((*a == 0.0) != (*b == 0.0), "coordinate kept by both or neither");
            let recombined = keep * f64::from(*a) + (1.0 - keep) * f64::from(*b);
            let original = f64::from(*original);
            prop_assert!((recombined - original).abs() <= 4.0 * f64::from(f32::EPSILON) * original.abs());
        }
    }
}

/// Rescaled masks are unbiased: the mean view over N draws is x within 5
/// standard errors (`|x_k| sqrt((1/q - 1) / N)` per coordinate for one mask).
#[test]
fn rescaled_masks_are_unbiased() {
    let x = array![[1.0f32, -2.0, 0.5, 3.0, -0.25, 1.5]];
    let draws = 20_000;
    for (index, &keep) in [0.3, 0.5, 0.8].iter().enumerate() {
        for augmentation in [Augmentation::ComplementaryMask { keep }, Augmentation::IndependentMask { keep, rescale: true, views: 2 }] {
            let mut stream = rng::indexed_stream(1, "unbiased", index as u64);
            let (mut sums_first, mut sums_second) = (Array2::<f64>::zeros(x.dim()), Array2::<f64>::zeros(x.dim()));
            let (mut first, mut second) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
            for _ in 0..draws {
                augmentation.apply_x_into(x.view(), &mut first, &mut second, &mut stream).unwrap();
                sums_first += &first.mapv(f64::from);
                sums_second += &second.mapv(f64::from);
            }
            let keeps = match augmentation {
                Augmentation::ComplementaryMask { .. } => [keep, 1.0 - keep],
                _ => [keep, keep],
            };
            for (sums, q) in [(&sums_first, keeps[0]), (&sums_second, keeps[1])] {
                for (sum, &value) in sums.iter().zip(&x) {
                    let value = f64::from(value);
                    let standard_error = value.abs() * ((1.0 / q - 1.0) / draws as f64).sqrt();
                    assert!(
                        (sum / draws as f64 - value).abs() <= 5.0 * standard_error,
                        "{augmentation:?}: mean {} vs {value}",
                        sum / draws as f64
                    );
                }
            }
        }
    }
}

/// Out-of-range parameters and shape mismatches are typed errors naming the field.
#[test]
fn invalid_parameters_are_errors() {
    let x = Array2::<f32>::zeros((2, 3));
    let cases = [
        (Augmentation::ComplementaryMask { keep: 0.0 }, "augmentation.keep = 0 is out of range: must be in (0, 1)"),
        (Augmentation::ComplementaryMask { keep: 1.0 }, "augmentation.keep = 1 is out of range: must be in (0, 1)"),
        (Augmentation::ComplementaryMask { keep: f64::NAN }, "augmentation.keep = NaN is out of range: must be in (0, 1)"),
        (
            Augmentation::IndependentMask { keep: 1.5, rescale: true, views: 2 },
            "augmentation.keep = 1.5 is out of range: must be in (0, 1]",
        ),
        (Augmentation::GaussianNoise { sigma_a: -0.1 }, "augmentation.sigma_a = -0.1 is out of range: must be finite and >= 0"),
    ];
    for (augmentation, message) in cases {
        let (mut first, mut second) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        let error = augmentation.apply_x_into(x.view(), &mut first, &mut second, &mut rng::stream(0, "a")).unwrap_err();
        assert_eq!(error.to_string(), message);
    }
    let wrong = Array2::<f32>::zeros((2, 4));
    let error = Augmentation::Identity {}.apply_parts(x.view(), wrong.view(), x.view(), &mut rng::stream(0, "a")).unwrap_err();
    assert_eq!(error, AugmentError::ShapeMismatch { what: "dense", expected: vec![2, 3], found: vec![2, 4] });
    let json = r#"{"kind":"IndependentMask","keep":0.5}"#;
    assert_eq!(serde_json::from_str::<Augmentation>(json).unwrap(), Augmentation::IndependentMask { keep: 0.5, rescale: true, views: 2 });
    let unknown = r#"{"kind":"ComplementaryMask","keep":0.5,"kep":1}"#;
    assert!(serde_json::from_str::<Augmentation>(unknown).unwrap_err().to_string().contains("unknown field `kep`"));
}

#[test]
fn masks_keep_coordinates_with_probability_keep() {
    let x = Array2::<f32>::ones((200, 333));
    for keep in [0.5, 0.25, 0.3, 0.9] {
        let augmentation = Augmentation::IndependentMask { keep, rescale: false, views: 2 };
        let (mut first, mut second) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        augmentation.apply_x_into(x.view(), &mut first, &mut second, &mut rng::stream(9, "augment")).unwrap();
        for view in [&first, &second] {
            let n = view.len() as f64;
            let kept = view.iter().filter(|&&v| v != 0.0).count() as f64;
            let sd = (n * keep * (1.0 - keep)).sqrt();
            assert!((kept - n * keep).abs() < 5.0 * sd, "keep {keep}: {kept} of {n}");
        }
    }
}

#[test]
fn many_independent_masks_make_consistent_independent_views() {
    use decouple_augment::Augment;
    let model = small_model(4);
    let batch = model.sample(400, &mut rng::stream(4, "data"));
    let augmentation = Augmentation::IndependentMask { keep: 0.3, rescale: true, views: 4 };
    assert_eq!(augmentation.n_views(), 4);
    assert_eq!(augmentation.label(), "IndependentMask(0.3, 4 views)");
    let views = augmentation.views(&batch, &mut rng::stream(4, "augment")).unwrap();
    let mut fast = vec![Array2::zeros((0, 0)); 4];
    augmentation.views_of_x_into(&batch, &mut fast, &mut rng::stream(4, "augment")).unwrap();
    let masks: Vec<Array2<bool>> = views.iter().map(|view| view.x().mapv(|v| v != 0.0)).collect();
    for (view, x) in views.iter().zip(&fast) {
        // The same stream gives the same views of x; the parts add up to x; kept coordinates are x / q.
        assert_eq!(view.x(), x.view());
        let sum = &view.sparse() + &view.dense();
        assert!(sum.iter().zip(view.x()).all(|(s, x)| (s - x).abs() <= 1e-5 * (1.0 + x.abs())));
        let kept: Vec<f32> = view.x().iter().zip(batch.x()).filter(|(v, _)| **v != 0.0).map(|(v, x)| v / x).collect();
        assert!(kept.iter().all(|ratio| (ratio - 1.0 / 0.3).abs() < 1e-4));
    }
    // Each view keeps about q of the coordinates, and two views share about q^2 of them.
    let n = masks[0].len() as f64;
    for a in 0..4 {
        let rate = masks[a].iter().filter(|&&k| k).count() as f64 / n;
        assert!((rate - 0.3).abs() < 0.01, "view {a} keeps {rate}");
        for b in a + 1..4 {
            let both = masks[a].iter().zip(&masks[b]).filter(|(x, y)| **x && **y).count() as f64 / n;
            assert!((both - 0.09).abs() < 0.01, "views {a}, {b} share {both}");
        }
    }
    let one = Augmentation::IndependentMask { keep: 0.3, rescale: true, views: 1 };
    assert!(one.check().unwrap_err().to_string().contains("augmentation.views = 1"));
    let parsed: Augmentation = serde_json::from_str(r#"{ "kind": "IndependentMask", "keep": 0.3, "views": 4 }"#).unwrap();
    assert_eq!(parsed, augmentation);
}

/// `value` after `edit` (the config structs are `#[non_exhaustive]`: no struct literals outside their crate).
fn edited<T>(mut value: T, edit: impl FnOnce(&mut T)) -> T {
    edit(&mut value);
    value
}
