//! The closed forms of docs/model.md §2 (derived in docs/theory.md) against
//! Monte Carlo, over a grid of (d, d1, keep, sigma, dense kind, dictionary).
//!
//! Tolerance: `|rho_hat - rho| <= 5 se + 1e-5`, with `se` the delta-method
//! standard error of `rho_hat` computed from the same samples (so it scales as
//! `1/sqrt(n)`); the `1e-5` covers f32 rounding of the views. With about 600
//! checks a false failure at 5 se has probability below 1e-3, and every draw
//! is seeded, so the outcome is reproducible.

use decouple_augment::{Augmentation, Component, decoupling};
use decouple_data::{DataConfig, DenseFeatures, DictionaryKind, SparseCodingModel, SparseLatent, rng};
use ndarray::{Array1, Array2};
use rand::Rng;
use rand_distr::StandardNormal;

const Z_SCORE: f64 = 5.0;

fn augmentations(keep: f64) -> [Augmentation; 5] {
    [
        Augmentation::Identity {},
        Augmentation::ComplementaryMask { keep },
        Augmentation::IndependentMask { keep, rescale: true, views: 2 },
        Augmentation::IndependentMask { keep, rescale: false, views: 2 },
        Augmentation::GaussianNoise { sigma_a: 0.5 },
    ]
}

/// Directions: two features, one random direction, one coordinate axis, and
/// (for low-rank dense features) one dense direction.
fn directions(model: &SparseCodingModel, seed: u64) -> Array2<f64> {
    let d1 = model.config().d1;
    let mut rows: Vec<Array1<f64>> = vec![model.dictionary().feature(0).to_owned(), model.dictionary().feature(1).to_owned()];
    let mut direction_rng = rng::stream(seed, "directions");
    rows.push(Array1::from_shape_simple_fn(d1, || direction_rng.sample(StandardNormal)));
    let mut axis = Array1::zeros(d1);
    axis[0] = 1.0;
    rows.push(axis);
    if let Some(basis) = model.dense_basis() {
        rows.push(basis.column(0).to_owned());
    }
    let mut out = Array2::zeros((rows.len(), d1));
    for (i, row) in rows.iter().enumerate() {
        out.row_mut(i).assign(row);
    }
    out
}

#[test]
fn closed_forms_match_monte_carlo_over_a_grid() {
    let grid = [
        (8, 32, 0.5, 0.25, DictionaryKind::RandomOrthonormal),
        (8, 64, 0.3, 0.1, DictionaryKind::RandomOrthonormal),
        (16, 64, 0.7, 0.4, DictionaryKind::RandomOrthonormal),
        (6, 24, 0.5, 0.3, DictionaryKind::Identity),
    ];
    let mut checks = 0;
    for (case, &(d, d1, keep, sigma, dictionary)) in grid.iter().enumerate() {
        let denses = [
            DenseFeatures::IsotropicGaussian { sigma },
            DenseFeatures::LowRank { rank: 4, sigma },
            DenseFeatures::OrthogonalComplement { sigma },
        ];
        for (kind, dense) in denses.into_iter().enumerate() {
            let config = edited(DataConfig::default(), |c| {
                c.d = d;
                c.d1 = d1;
                c.dictionary = dictionary;
                c.latent = SparseLatent::Bernoulli { p: 2.0 / d as f64 };
                c.dense = dense;
            });
            let seed = (case * 10 + kind) as u64;
            let model = SparseCodingModel::from_seed(config, seed).unwrap();
            let directions = directions(&model, seed);
            for (index, augmentation) in augmentations(keep).iter().enumerate() {
                let mut stream = rng::indexed_stream(seed, "monte-carlo", index as u64);
                let accumulator = decoupling::monte_carlo(&model, augmentation, directions.view(), 20_000, &mut stream).unwrap();
                for component in [Component::Sparse, Component::Dense] {
                    for (row, estimate) in accumulator.estimates(component).into_iter().enumerate() {
                        let w = directions.row(row);
                        let moments = decoupling::component_moments(&model, component, w);
                        let theory = augmentation.pair_moments(component, moments).correlation();
                        match (theory, estimate) {
                            (Some(rho), Some(measured)) => {
                                let tolerance = Z_SCORE * measured.standard_error + 1e-5;
                                assert!(
                                    (measured.rho - rho).abs() <= tolerance,
                                    "{config:?} {augmentation:?} {component:?} direction {row}: measured {} (se {}), theory {rho}",
                                    measured.rho,
                                    measured.standard_error
                                );
                                checks += 1;
                            }
                            // No variance along w in theory: w must carry no signal (the
                            // estimate then measures rounding noise only and is not compared).
                            (None, _) => assert!(moments.quad.abs() < 1e-12 || matches!(augmentation, Augmentation::Identity {})),
                            (Some(rho), None) => panic!("{augmentation:?} {component:?} {row}: theory {rho} but no variance measured"),
                        }
                    }
                }
            }
        }
    }
    assert!(checks > 400, "only {checks} checks ran");
}

/// The qualitative statements of docs/model.md §2, from the exact closed forms.
#[test]
fn decoupling_statements_hold_at_the_default_setting() {
    let model = SparseCodingModel::from_seed(DataConfig::default(), 0).unwrap();
    let (d, d1) = (32, 512);
    let feature = model.dictionary().feature(3);
    let half = Augmentation::ComplementaryMask { keep: 0.5 };
    let sparse = decoupling::closed_form(&model, &half, Component::Sparse, feature);
    let dense = decoupling::closed_form(&model, &half, Component::Dense, feature);
    // g = sum_k M_kj^2 ||M_k.||^2 = r + O(1/d1), so rho = (1-r)/(1+r) + O(1/d1).
    let limit = half.aligned_sparse_correlation_limit(d, d1);
    assert!((limit - (1.0 - 1.0 / 16.0) / (1.0 + 1.0 / 16.0)).abs() < 1e-12);
    assert!((sparse.unwrap() - limit).abs() < 8.0 / d1 as f64, "{sparse:?} vs {limit}");
    assert_eq!(dense, Some(0.0));
    let random: Array1<f64> = Array1::from_shape_simple_fn(d1, {
        let mut stream = rng::stream(0, "random-w");
        move || stream.sample(StandardNormal)
    });
    let sparse_random = decoupling::closed_form(&model, &half, Component::Sparse, random.view());
    assert!(sparse_random.unwrap().abs() < 0.3, "random w keeps {sparse_random:?}");
    let independent = Augmentation::IndependentMask { keep: 0.5, rescale: true, views: 2 };
    let sparse_independent = decoupling::closed_form(&model, &independent, Component::Sparse, random.view());
    let dense_independent = decoupling::closed_form(&model, &independent, Component::Dense, random.view());
    assert!((dense_independent.unwrap() - 0.5).abs() < 1e-12);
    assert!(sparse_independent.unwrap() < sparse_random.unwrap().abs() + 0.6);
    let noise = Augmentation::GaussianNoise { sigma_a: 0.5 };
    let sparse_noise = decoupling::closed_form(&model, &noise, Component::Sparse, random.view());
    let dense_noise = decoupling::closed_form(&model, &noise, Component::Dense, random.view());
    assert_eq!(sparse_noise, Some(1.0));
    assert!((dense_noise.unwrap() - 0.0625 / (0.0625 + 0.25)).abs() < 1e-12);
    // A localized dictionary loses every sparse correlation under complementary masks.
    let localized = edited(DataConfig::default(), |c| {
        c.dictionary = DictionaryKind::Identity;
    });
    let localized = SparseCodingModel::from_seed(localized, 0).unwrap();
    let sparse_localized = decoupling::closed_form(&localized, &half, Component::Sparse, localized.dictionary().feature(0));
    assert_eq!(sparse_localized, Some(0.0));
    // Low-rank dense features keep their correlation along their own directions:
    // there g / a = rank / d1 < d / d1, so they are kept even better than features.
    let low_rank = edited(DataConfig::default(), |c| {
        c.dense = DenseFeatures::LowRank { rank: 8, sigma: 0.25 };
    });
    let low_rank = SparseCodingModel::from_seed(low_rank, 0).unwrap();
    let h = low_rank.dense_basis().unwrap().column(0).to_owned();
    let dense_low_rank = decoupling::closed_form(&low_rank, &half, Component::Dense, h.view());
    assert!(dense_low_rank.unwrap() >= limit, "{dense_low_rank:?} < {limit}");
}

/// `value` after `edit` (the config structs are `#[non_exhaustive]`: no struct literals outside their crate).
fn edited<T>(mut value: T, edit: impl FnOnce(&mut T)) -> T {
    edit(&mut value);
    value
}

/// The matrix forms (`pair_covariances`, `component_covariance`) agree with
/// the per-direction closed forms `pair_moments` (themselves checked against
/// Monte Carlo above) along every direction, for every dense kind and augmentation.
#[test]
fn pair_covariances_agree_with_the_closed_forms() {
    let mut checks = 0;
    for (kind, dense) in [
        DenseFeatures::IsotropicGaussian { sigma: 0.3 },
        DenseFeatures::LowRank { rank: 4, sigma: 0.3 },
        DenseFeatures::OrthogonalComplement { sigma: 0.3 },
    ]
    .into_iter()
    .enumerate()
    {
        let config = edited(DataConfig::default(), |c| {
            c.d = 8;
            c.d1 = 32;
            c.latent = SparseLatent::Bernoulli { p: 0.25 };
            c.dense = dense;
        });
        let model = SparseCodingModel::from_seed(config, kind as u64).unwrap();
        let directions = directions(&model, kind as u64);
        for augmentation in augmentations(0.3) {
            let mut total = [0.0f64; 3];
            for component in [Component::Sparse, Component::Dense] {
                let covariances = augmentation.pair_covariances(component, decoupling::component_covariance(&model, component).view());
                for w in directions.rows() {
                    let moments = augmentation.pair_moments(component, decoupling::component_moments(&model, component, w));
                    let quad = |matrix: &Array2<f64>| w.dot(&matrix.dot(&w));
                    for (matrix, expected) in
                        [(&covariances.cross, moments.cross), (&covariances.first, moments.first), (&covariances.second, moments.second)]
                    {
                        assert!(
                            (quad(matrix) - expected).abs() <= 1e-10 * (1.0 + expected.abs()),
                            "{augmentation:?} {component:?}: {} vs {expected}",
                            quad(matrix)
                        );
                        checks += 1;
                    }
                }
                let w = directions.row(2);
                for (sum, matrix) in total.iter_mut().zip([&covariances.cross, &covariances.first, &covariances.second]) {
                    *sum += w.dot(&matrix.dot(&w));
                }
            }
            // The covariances of x are the sum of the parts'.
            let of_x = decoupling::pair_covariances_of_x(&model, &augmentation);
            let w = directions.row(2);
            for (sum, matrix) in total.iter().zip([&of_x.cross, &of_x.first, &of_x.second]) {
                assert!((w.dot(&matrix.dot(&w)) - sum).abs() <= 1e-10 * (1.0 + sum.abs()));
            }
        }
    }
    assert!(checks >= 3 * 5 * 2 * 4 * 3, "only {checks} checks ran");
}

/// A direct Monte Carlo estimate of the matrices of `x` under a complementary
/// mask (`keep = 0.3`, so the two views differ) matches them entry by entry
/// (tolerance: 5 standard errors of each entry's mean, plus f32 rounding).
#[test]
fn pair_covariances_of_x_match_monte_carlo() {
    let config = edited(DataConfig::default(), |c| {
        c.d = 4;
        c.d1 = 8;
        c.latent = SparseLatent::Bernoulli { p: 0.5 };
        c.dense = DenseFeatures::IsotropicGaussian { sigma: 0.3 };
    });
    let model = SparseCodingModel::from_seed(config, 3).unwrap();
    let augmentation = Augmentation::ComplementaryMask { keep: 0.3 };
    let exact = decoupling::pair_covariances_of_x(&model, &augmentation);
    let mut stream = rng::stream(3, "matrix-monte-carlo");
    let n = 200_000;
    let batch = model.sample(n, &mut stream);
    let pair = augmentation.apply(&batch, &mut stream).unwrap();
    let (first, second) = (pair.first.x().mapv(f64::from), pair.second.x().mapv(f64::from));
    for (name, left, right, matrix) in
        [("cross", &first, &second, &exact.cross), ("first", &first, &first, &exact.first), ("second", &second, &second, &exact.second)]
    {
        for k in 0..8 {
            for l in 0..8 {
                let products: Vec<f64> = left.column(k).iter().zip(right.column(l)).map(|(a, b)| a * b).collect();
                let mean = products.iter().sum::<f64>() / n as f64;
                let sd = (products.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
                let tolerance = Z_SCORE * sd / (n as f64).sqrt() + 1e-5;
                assert!((mean - matrix[[k, l]]).abs() <= tolerance, "{name}[{k},{l}]: measured {mean} vs {}", matrix[[k, l]]);
            }
        }
    }
}
