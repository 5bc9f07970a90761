//! Finite-difference checks (f64, central differences) of every hand-written
//! gradient of this crate, over random shapes, seeds, similarities and temperatures.
//!
//! The losses are smooth except through the cosine normalisation at `z = 0`;
//! cosine draws with a row norm below `MIN_COSINE_NORM` are rejected explicitly
//! (`prop_assume!`), since there the curvature `~ 1 / ||z||^3` spoils central differences.

#[path = "../../decouple-net/tests/support/mod.rs"]
mod support;

use decouple_loss::{BarlowTwins, ContrastiveLoss, InfoNce, LogisticGradients, LogisticLoss, LossWorkspace, NtXent, Similarity, Spectral};
use ndarray::{Array1, Array2};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use support::{FD_STEP, check_close, gaussian};

const MIN_COSINE_NORM: f64 = 0.05;

fn similarity() -> impl Strategy<Value = Similarity> {
    prop_oneof![Just(Similarity::Dot), Just(Similarity::Cosine)]
}

fn min_row_norm(a: &Array2<f64>) -> f64 {
    a.rows().into_iter().map(|r| r.dot(&r).sqrt()).fold(f64::INFINITY, f64::min)
}

/// Compares `loss_and_grad` on random `u, v` against central differences of `value`.
fn check_contrastive<L: ContrastiveLoss>(
    loss: &L,
    similarity: Similarity,
    seed: u64,
    batch: usize,
    m: usize,
    scale: f64,
) -> Result<(), TestCaseError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let u = gaussian(&mut rng, batch, m, scale);
    let v = gaussian(&mut rng, batch, m, scale);
    if similarity == Similarity::Cosine {
        prop_assume!(min_row_norm(&u).min(min_row_norm(&v)) > MIN_COSINE_NORM, "a row too close to 0");
    }
    check_at(loss, u, v)
}

/// Compares `loss_and_grad` at `u, v` against central differences of `value`.
fn check_at<L: ContrastiveLoss>(loss: &L, mut u: Array2<f64>, mut v: Array2<f64>) -> Result<(), TestCaseError> {
    let (batch, m) = u.dim();
    let mut workspace = LossWorkspace::new();
    let (mut grad_u, mut grad_v) = (Array2::from_elem((batch, m), f64::NAN), Array2::zeros((1, 1)));
    let value = loss.loss_and_grad_with(u.view(), v.view(), &mut workspace, &mut grad_u, &mut grad_v)?;
    prop_assert!((value - loss.value(u.view(), v.view())?).abs() < 1e-12);

    for (which, grad) in [("u", &grad_u), ("v", &grad_v)] {
        for i in 0..batch {
            for j in 0..m {
                let entry = |u: &mut Array2<f64>, v: &mut Array2<f64>, delta: f64| {
                    let target = if which == "u" { u } else { v };
                    target[[i, j]] += delta;
                };
                entry(&mut u, &mut v, FD_STEP);
                let plus = loss.value_with(u.view(), v.view(), &mut workspace)?;
                entry(&mut u, &mut v, -2.0 * FD_STEP);
                let minus = loss.value_with(u.view(), v.view(), &mut workspace)?;
                entry(&mut u, &mut v, FD_STEP);
                check_close(grad[[i, j]], (plus - minus) / (2.0 * FD_STEP), &format!("dL/d{which}[{i},{j}]"))?;
            }
        }
    }
    Ok(())
}

/// Smallest distance of a row norm of `u` or `v` to `radius` (where the norm clip has its kink).
fn distance_to_clip(u: &Array2<f64>, v: &Array2<f64>, radius: f64) -> f64 {
    u.rows().into_iter().chain(v.rows()).map(|r| (r.dot(&r).sqrt() - radius).abs()).fold(f64::INFINITY, f64::min)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn spectral_gradients_without_clip(seed: u64, batch in 2usize..8, m in 1usize..6, scale in 0.2f64..3.0) {
        check_contrastive(&Spectral { mu: None }, Similarity::Dot, seed, batch, m, scale)?;
    }

    /// The clip `||z|| <= sqrt(mu)` is active on some rows and not on others
    /// (rows within 0.05 of the radius, where `z_hat` has a kink, are rejected).
    #[test]
    fn spectral_gradients_with_clip(seed: u64, batch in 2usize..8, m in 1usize..6, scale in 0.2f64..3.0, mu in 0.05f64..4.0) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (u, v) = (gaussian(&mut rng, batch, m, scale), gaussian(&mut rng, batch, m, scale));
        prop_assume!(distance_to_clip(&u, &v, mu.sqrt()) > 0.05, "a row norm at the clip's kink");
        check_at(&Spectral { mu: Some(mu) }, u, v)?;
    }

    /// Barlow Twins through the batch normalisation, with `eps` small and large
    /// against the column variances, and columns made constant at random.
    #[test]
    fn barlow_twins_gradients(
        seed: u64, batch in 2usize..8, m in 1usize..6, scale in 0.2f64..3.0,
        lambda in 0.0f64..2.0, eps in prop_oneof![Just(1e-5), 0.01f64..1.0], constant_column in any::<bool>(),
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (mut u, v) = (gaussian(&mut rng, batch, m, scale), gaussian(&mut rng, batch, m, scale));
        if constant_column {
            u.column_mut(0).fill(0.7);
        }
        check_at(&BarlowTwins { lambda, eps }, u, v)?;
    }

    #[test]
    fn info_nce_gradients(
        seed: u64, batch in 2usize..8, m in 1usize..6, similarity in similarity(),
        temperature in 0.1f64..2.0, scale in 0.2f64..3.0,
    ) {
        check_contrastive(&InfoNce { similarity, temperature }, similarity, seed, batch, m, scale)?;
    }

    #[test]
    fn nt_xent_gradients(
        seed: u64, batch in 2usize..8, m in 1usize..6, similarity in similarity(),
        temperature in 0.1f64..2.0, scale in 0.2f64..3.0,
    ) {
        check_contrastive(&NtXent { similarity, temperature }, similarity, seed, batch, m, scale)?;
    }

    #[test]
    fn logistic_gradients(seed: u64, batch in 1usize..8, m in 1usize..6, scale in 0.2f64..3.0) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut features = gaussian(&mut rng, batch, m, scale);
        let mut weights = gaussian(&mut rng, 1, m, 1.0).remove_axis(ndarray::Axis(0));
        let bias = gaussian(&mut rng, 1, 1, 1.0)[[0, 0]];
        let labels = Array1::from_shape_fn(batch, |_| if rng.random_bool(0.5) { 1.0 } else { -1.0 });
        let loss = LogisticLoss;
        let mut grads = LogisticGradients::zeros(0, 0);
        let value = loss.loss_and_grad(features.view(), weights.view(), bias, labels.view(), &mut grads)?;
        prop_assert!((value - loss.value(features.view(), weights.view(), bias, labels.view())?).abs() < 1e-12);
        let numeric = |features: &Array2<f64>, weights: &Array1<f64>, bias: f64| {
            loss.value(features.view(), weights.view(), bias, labels.view()).expect("valid inputs")
        };
        let h = FD_STEP;
        for i in 0..batch {
            for j in 0..m {
                features[[i, j]] += h;
                let plus = numeric(&features, &weights, bias);
                features[[i, j]] -= 2.0 * h;
                let minus = numeric(&features, &weights, bias);
                features[[i, j]] += h;
                check_close(grads.features[[i, j]], (plus - minus) / (2.0 * h), &format!("dL/dH[{i},{j}]"))?;
            }
        }
        for j in 0..m {
            weights[j] += h;
            let plus = numeric(&features, &weights, bias);
            weights[j] -= 2.0 * h;
            let minus = numeric(&features, &weights, bias);
            weights[j] += h;
            check_close(grads.weights[j], (plus - minus) / (2.0 * h), &format!("dL/da[{j}]"))?;
        }
        let (plus, minus) = (numeric(&features, &weights, bias + h), numeric(&features, &weights, bias - h));
        check_close(grads.bias, (plus - minus) / (2.0 * h), "dL/dc")?;
    }
}
