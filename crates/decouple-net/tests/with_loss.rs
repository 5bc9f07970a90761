//! End-to-end gradient check of a network composed with a contrastive loss:
//! `L(W, b) = loss(f(x+), f(x++))`, with `dL/dW` and `dL/db` obtained by the
//! chain rule (loss gradients -> `backward` on the first view ->
//! `backward_accumulate` on the second), against central differences.
//!
//! Draws with a pre-activation within `KINK_MARGIN` of a kink `|s| = b` are
//! rejected, and so are cosine draws with a representation row of norm in
//! `(0, MIN_COSINE_NORM)` (a row that is exactly 0 is locally constant and kept).

mod support;

use decouple_loss::{Contrastive, ContrastiveLoss, InfoNce, LossWorkspace, NtXent, Similarity};
use decouple_net::{NetGradients, NetWorkspace, SymReluNet};
use ndarray::{Array2, ArrayView2};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use support::{FD_STEP, check_close, gaussian, uniform};

const KINK_MARGIN: f64 = 1e-3;
const MIN_COSINE_NORM: f64 = 0.05;

fn loss_strategy() -> impl Strategy<Value = Contrastive> {
    let similarity = prop_oneof![Just(Similarity::Dot), Just(Similarity::Cosine)];
    (similarity, 0.1f64..2.0, any::<bool>()).prop_map(|(similarity, temperature, nt_xent)| {
        if nt_xent { NtXent { similarity, temperature }.into() } else { InfoNce { similarity, temperature }.into() }
    })
}

fn composed_loss(net: &SymReluNet<f64>, loss: &Contrastive, x1: ArrayView2<'_, f64>, x2: ArrayView2<'_, f64>) -> f64 {
    let (u, v) = (net.forward(x1).expect("valid x+"), net.forward(x2).expect("valid x++"));
    loss.value(u.view(), v.view()).expect("valid representations")
}

fn acceptable(net: &SymReluNet<f64>, loss: &Contrastive, x: ArrayView2<'_, f64>) -> bool {
    let s = x.dot(&net.weights().t());
    let far_from_kinks = s.rows().into_iter().all(|row| row.iter().zip(net.bias()).all(|(&s, &b)| (s.abs() - b).abs() > KINK_MARGIN));
    let h = net.forward(x).expect("valid x");
    let norms_ok = loss.similarity() != Some(Similarity::Cosine)
        || h.rows().into_iter().all(|r| {
            let norm = r.dot(&r).sqrt();
            norm == 0.0 || norm > MIN_COSINE_NORM
        });
    far_from_kinks && norms_ok
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn network_through_contrastive_loss(
        loss in loss_strategy(), seed: u64, batch in 2usize..8, m in 1usize..6, d1 in 1usize..8,
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut net = SymReluNet::new(gaussian(&mut rng, m, d1, 1.0), uniform(&mut rng, m, 0.05, 0.5))?;
        let (x1, x2) = (gaussian(&mut rng, batch, d1, 1.0), gaussian(&mut rng, batch, d1, 1.0));
        prop_assume!(acceptable(&net, &loss, x1.view()) && acceptable(&net, &loss, x2.view()));

        let (mut ws1, mut ws2) = (NetWorkspace::new(), NetWorkspace::new());
        let mut loss_workspace = LossWorkspace::new();
        let (mut grad_u, mut grad_v) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        let mut grads = NetGradients::for_net(&net);
        net.forward_into(x1.view(), &mut ws1)?;
        net.forward_into(x2.view(), &mut ws2)?;
        let value = loss.loss_and_grad_with(ws1.output(), ws2.output(), &mut loss_workspace, &mut grad_u, &mut grad_v)?;
        net.backward(x1.view(), grad_u.view(), &mut ws1, &mut grads)?;
        net.backward_accumulate(x2.view(), grad_v.view(), &mut ws2, &mut grads)?;
        prop_assert!((value - composed_loss(&net, &loss, x1.view(), x2.view())).abs() < 1e-12);

        for i in 0..m {
            for j in 0..d1 {
                let w = net.weights()[[i, j]];
                net.weights_mut()[[i, j]] = w + FD_STEP;
                let plus = composed_loss(&net, &loss, x1.view(), x2.view());
                net.weights_mut()[[i, j]] = w - FD_STEP;
                let minus = composed_loss(&net, &loss, x1.view(), x2.view());
                net.weights_mut()[[i, j]] = w;
                check_close(grads.weights[[i, j]], (plus - minus) / (2.0 * FD_STEP), &format!("dL/dW[{i},{j}]"))?;
            }
            let b = net.bias()[i];
            net.bias_mut()[i] = b + FD_STEP;
            let plus = composed_loss(&net, &loss, x1.view(), x2.view());
            net.bias_mut()[i] = b - FD_STEP;
            let minus = composed_loss(&net, &loss, x1.view(), x2.view());
            net.bias_mut()[i] = b;
            check_close(grads.bias[i], (plus - minus) / (2.0 * FD_STEP), &format!("dL/db[{i}]"))?;
        }
    }
}
