//! Finite-difference checks of the hand-written backward pass (f64, central
//! differences) over random shapes and seeds.
//!
//! The network is piecewise linear in `W` and `b`, with kinks where
//! `|<w_i, x_r>| = b_i`. Draws with a pre-activation within `KINK_MARGIN` of
//! a kink are rejected explicitly (`prop_assume!`): there the one-sided
//! derivatives differ and central differences straddle the kink. Thresholds
//! are drawn in `[0.05, 0.5]` so that `b - FD_STEP` stays `>= 0`.

mod support;

use decouple_net::{NetGradients, NetWorkspace, SymReluNet};
use ndarray::{Array2, ArrayView2};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use support::{FD_STEP, check_close, gaussian, uniform};

/// Minimum distance of every `|s_ri|` to its threshold `b_i` for a draw to be kept.
const KINK_MARGIN: f64 = 1e-3;

/// `L = sum(G ⊙ f(X))`, a linear functional of the output with `dL/dH = G`.
fn linear_loss(net: &SymReluNet<f64>, x: ArrayView2<'_, f64>, g: ArrayView2<'_, f64>) -> f64 {
    (net.forward(x).expect("valid shapes") * g).sum()
}

fn min_kink_distance(net: &SymReluNet<f64>, x: ArrayView2<'_, f64>) -> f64 {
    let s = x.dot(&net.weights().t());
    let mut min = f64::INFINITY;
    for row in s.rows() {
        for (&s, &b) in row.iter().zip(net.bias()) {
            min = min.min((s.abs() - b).abs());
        }
    }
    min
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn backward_matches_finite_differences(
        seed: u64, batch in 1usize..8, m in 1usize..6, d1 in 1usize..8,
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut net = SymReluNet::new(gaussian(&mut rng, m, d1, 1.0), uniform(&mut rng, m, 0.05, 0.5))?;
        let x = gaussian(&mut rng, batch, d1, 1.0);
        let g = gaussian(&mut rng, batch, m, 1.0);
        prop_assume!(min_kink_distance(&net, x.view()) > KINK_MARGIN, "too close to a kink |s| = b");

        let mut workspace = NetWorkspace::new();
        let mut grads = NetGradients::zeros(m, d1);
        grads.weights.fill(f64::NAN); // must be overwritten, not accumulated
        net.forward_into(x.view(), &mut workspace)?;
        net.backward(x.view(), g.view(), &mut workspace, &mut grads)?;

        for i in 0..m {
            for j in 0..d1 {
                let w = net.weights()[[i, j]];
                net.weights_mut()[[i, j]] = w + FD_STEP;
                let plus = linear_loss(&net, x.view(), g.view());
                net.weights_mut()[[i, j]] = w - FD_STEP;
                let minus = linear_loss(&net, x.view(), g.view());
                net.weights_mut()[[i, j]] = w;
                check_close(grads.weights[[i, j]], (plus - minus) / (2.0 * FD_STEP), &format!("dL/dW[{i},{j}]"))?;
            }
            let b = net.bias()[i];
            net.bias_mut()[i] = b + FD_STEP;
            let plus = linear_loss(&net, x.view(), g.view());
            net.bias_mut()[i] = b - FD_STEP;
            let minus = linear_loss(&net, x.view(), g.view());
            net.bias_mut()[i] = b;
            check_close(grads.bias[i], (plus - minus) / (2.0 * FD_STEP), &format!("dL/db[{i}]"))?;
        }
    }

    #[test]
    fn accumulate_adds_the_two_views(seed: u64, batch in 1usize..8, m in 1usize..6, d1 in 1usize..8) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let net = SymReluNet::new(gaussian(&mut rng, m, d1, 1.0), uniform(&mut rng, m, 0.0, 0.5))?;
        let (x1, x2) = (gaussian(&mut rng, batch, d1, 1.0), gaussian(&mut rng, batch, d1, 1.0));
        let (g1, g2) = (gaussian(&mut rng, batch, m, 1.0), gaussian(&mut rng, batch, m, 1.0));
        let mut workspace = NetWorkspace::new();
        let (mut first, mut second, mut both) =
            (NetGradients::for_net(&net), NetGradients::for_net(&net), NetGradients::for_net(&net));
        net.forward_into(x1.view(), &mut workspace)?;
        net.backward(x1.view(), g1.view(), &mut workspace, &mut first)?;
        net.backward(x1.view(), g1.view(), &mut workspace, &mut both)?;
        net.forward_into(x2.view(), &mut workspace)?;
        net.backward(x2.view(), g2.view(), &mut workspace, &mut second)?;
        net.backward_accumulate(x2.view(), g2.view(), &mut workspace, &mut both)?;
        let sum: Array2<f64> = &first.weights + &second.weights;
        prop_assert!((&both.weights - &sum).iter().all(|e| e.abs() < 1e-12));
        prop_assert!((&both.bias - &(&first.bias + &second.bias)).iter().all(|e| e.abs() < 1e-12));
    }
}
