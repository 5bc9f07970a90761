//! Invariants of the contrastive losses over random inputs: non-negativity,
//! symmetry in the two views, invariance of the cosine losses under positive
//! rescaling, agreement with a slow reference, f32 against f64, and
//! workspace reuse.

#[path = "../../decouple-net/tests/support/mod.rs"]
mod support;

use decouple_loss::{Contrastive, ContrastiveLoss, InfoNce, LossWorkspace, NtXent, Similarity};
use ndarray::{Array2, ArrayView2};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use support::gaussian;

fn loss_strategy() -> impl Strategy<Value = Contrastive> {
    let similarity = prop_oneof![Just(Similarity::Dot), Just(Similarity::Cosine)];
    (similarity, 0.05f64..2.0, any::<bool>()).prop_map(|(similarity, temperature, nt_xent)| {
        if nt_xent { NtXent { similarity, temperature }.into() } else { InfoNce { similarity, temperature }.into() }
    })
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance * 1f64.max(a.abs()).max(b.abs())
}

/// `-log( exp(S_ii) / sum_j exp(S_ij) )` written out with [`Similarity::between`] (no stabilisation needed at these scales).
fn reference(loss: Contrastive, u: ArrayView2<'_, f64>, v: ArrayView2<'_, f64>) -> f64 {
    let (batch, tau, sim) = (u.nrows(), loss.temperature().expect("a softmax loss"), loss.similarity().expect("a softmax loss"));
    match loss {
        Contrastive::InfoNce(_) => {
            let s = |i: usize, j: usize| sim.between(u.row(i), v.row(j)) / tau;
            let mut total = 0.0;
            for i in 0..batch {
                total -= (s(i, i).exp() / (0..batch).map(|j| s(i, j).exp()).sum::<f64>()).ln();
                total -= (s(i, i).exp() / (0..batch).map(|j| s(j, i).exp()).sum::<f64>()).ln();
            }
            total / (2 * batch) as f64
        }
        Contrastive::NtXent(_) => {
            let z = |a: usize| if a < batch { u.row(a) } else { v.row(a - batch) };
            let s = |a: usize, b: usize| sim.between(z(a), z(b)) / tau;
            let n = 2 * batch;
            let mut total = 0.0;
            for a in 0..n {
                let denominator: f64 = (0..n).filter(|&k| k != a).map(|k| s(a, k).exp()).sum();
                total -= (s(a, (a + batch) % n).exp() / denominator).ln();
            }
            total / n as f64
        }
        other => panic!("no reference written for {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn matches_reference_and_is_nonnegative(
        loss in loss_strategy(), seed: u64, batch in 2usize..8, m in 1usize..6, scale in 0.1f64..2.0,
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (u, v) = (gaussian(&mut rng, batch, m, scale), gaussian(&mut rng, batch, m, scale));
        let value = loss.value(u.view(), v.view())?;
        prop_assert!(value >= 0.0);
        prop_assert!(close(value, reference(loss, u.view(), v.view()), 1e-10), "{value} vs reference");
    }

    #[test]
    fn symmetric_in_the_two_views(
        loss in loss_strategy(), seed: u64, batch in 2usize..8, m in 1usize..6,
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (u, v) = (gaussian(&mut rng, batch, m, 1.0), gaussian(&mut rng, batch, m, 1.0));
        let (forward, backward) = (loss.value(u.view(), v.view())?, loss.value(v.view(), u.view())?);
        prop_assert!(close(forward, backward, 1e-12), "{forward} vs {backward}");
        let (mut gu, mut gv, mut gv_swapped, mut gu_swapped) =
            (Array2::zeros((0, 0)), Array2::zeros((0, 0)), Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        loss.loss_and_grad(u.view(), v.view(), &mut gu, &mut gv)?;
        loss.loss_and_grad(v.view(), u.view(), &mut gv_swapped, &mut gu_swapped)?;
        prop_assert!((&gu - &gu_swapped).iter().chain((&gv - &gv_swapped).iter()).all(|e| e.abs() < 1e-12));
    }

    #[test]
    fn cosine_is_invariant_under_positive_rescaling(
        loss in loss_strategy(), seed: u64, batch in 2usize..8, m in 1usize..6,
        alpha in 0.01f64..100.0, beta in 0.01f64..100.0,
    ) {
        let loss = match loss {
            Contrastive::InfoNce(l) => Contrastive::from(InfoNce { similarity: Similarity::Cosine, ..l }),
            Contrastive::NtXent(l) => NtXent { similarity: Similarity::Cosine, ..l }.into(),
            other => panic!("no cosine form written for {other:?}"),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (u, v) = (gaussian(&mut rng, batch, m, 1.0), gaussian(&mut rng, batch, m, 1.0));
        let value = loss.value(u.view(), v.view())?;
        let scaled_u = u.mapv(|e| e * alpha);
        let scaled_both = loss.value(scaled_u.view(), v.mapv(|e| e * beta).view())?;
        let scaled_one = loss.value(scaled_u.view(), v.view())?;
        prop_assert!(close(value, scaled_both, 1e-10) && close(value, scaled_one, 1e-10));
    }

    #[test]
    fn single_precision_agrees_with_double(
        loss in loss_strategy(), seed: u64, batch in 2usize..8, m in 1usize..6,
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (u, v) = (gaussian(&mut rng, batch, m, 1.0), gaussian(&mut rng, batch, m, 1.0));
        let (mut gu, mut gv) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        let (mut gu32, mut gv32) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        let value = loss.loss_and_grad(u.view(), v.view(), &mut gu, &mut gv)?;
        let (u32, v32) = (u.mapv(|e| e as f32), v.mapv(|e| e as f32));
        let value32 = loss.loss_and_grad(u32.view(), v32.view(), &mut gu32, &mut gv32)?;
        let tolerance = 1e-3 * (1.0 + value.abs());
        prop_assert!((f64::from(value32) - value).abs() < tolerance);
        let scale = gu.iter().chain(gv.iter()).fold(1f64, |s, e| s.max(e.abs()));
        for (a, b) in gu.iter().chain(gv.iter()).zip(gu32.iter().chain(gv32.iter())) {
            prop_assert!((a - f64::from(*b)).abs() < 1e-3 * scale);
        }
    }
}

#[test]
fn workspace_reuse_across_losses_and_batch_sizes() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut workspace = LossWorkspace::new();
    let (mut gu, mut gv) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
    let (mut fresh_u, mut fresh_v) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
    let losses = [
        Contrastive::from(InfoNce { similarity: Similarity::Cosine, temperature: 0.2 }),
        NtXent { similarity: Similarity::Dot, temperature: 0.5 }.into(),
    ];
    for (step, batch) in [4, 4, 7, 2, 4].into_iter().enumerate() {
        let loss = losses[step % 2];
        let (u, v) = (gaussian(&mut rng, batch, 3, 1.0), gaussian(&mut rng, batch, 3, 1.0));
        let reused = loss.loss_and_grad_with(u.view(), v.view(), &mut workspace, &mut gu, &mut gv).unwrap();
        let fresh = loss.loss_and_grad(u.view(), v.view(), &mut fresh_u, &mut fresh_v).unwrap();
        assert_eq!(reused, fresh);
        assert_eq!((&gu, &gv), (&fresh_u, &fresh_v));
        let expected_logits = if step % 2 == 0 { batch } else { 2 * batch };
        assert_eq!(workspace.logits().dim(), (expected_logits, expected_logits));
    }
}
