//! The non-contrastive head against finite differences in `f64` (batch
//! normalisation, the predictor, the negative cosine through the
//! stop-gradient), its stop-gradient invariant and its edge cases.
//!
//! Finite differences of the whole loss hold the targets fixed at their
//! unperturbed values: that is what the stop-gradient means, and the test
//! `the_target_receives_no_gradient` checks that the analytic gradient with
//! the implicit targets equals the one with those targets passed explicitly.

#[path = "../../decouple-net/tests/support/mod.rs"]
mod support;

use decouple_loss::predictor::{
    BatchNormParameters, HeadGradients, HeadParameters, batch_norm_backward, batch_norm_forward, head_outputs, negative_cosine,
    predictor_loss, predictor_loss_value,
};
use ndarray::{Array1, Array2, ArrayView2};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use support::{FD_STEP, check_close, gaussian, uniform};

/// Central difference of `f` in entry `index` of `values`.
fn central(values: &mut [f64], index: usize, mut f: impl FnMut(&[f64]) -> f64) -> f64 {
    values[index] += FD_STEP;
    let plus = f(values);
    values[index] -= 2.0 * FD_STEP;
    let minus = f(values);
    values[index] += FD_STEP;
    (plus - minus) / (2.0 * FD_STEP)
}

fn min_row_norm(a: &Array2<f64>) -> f64 {
    a.rows().into_iter().map(|row| row.dot(&row).sqrt()).fold(f64::INFINITY, f64::min)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn negative_cosine_gradient(seed: u64, batch in 1usize..6, m in 1usize..6) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (mut p, t) = (gaussian(&mut rng, batch, m, 1.0), gaussian(&mut rng, batch, m, 1.0));
        prop_assume!(min_row_norm(&p) > 0.05);
        let mut grad = Array2::zeros((batch, m));
        negative_cosine(p.view(), t.view(), 1.0, &mut grad);
        for index in 0..batch * m {
            let numeric = central(p.as_slice_mut().unwrap(), index, |values| {
                let p = ArrayView2::from_shape((batch, m), values).unwrap();
                negative_cosine(p, t.view(), 1.0, &mut Array2::zeros((batch, m)))
            });
            check_close(grad.as_slice().unwrap()[index], numeric, &format!("dD/dp[{index}]"))?;
        }
    }

    #[test]
    fn batch_norm_gradients(seed: u64, batch in 2usize..6, m in 1usize..5, affine: bool) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut z = gaussian(&mut rng, batch, m, 1.5);
        let upstream = gaussian(&mut rng, batch, m, 1.0);
        let (mut gamma, mut beta) = (uniform(&mut rng, m, 0.5, 2.0), uniform(&mut rng, m, -1.0, 1.0));
        let objective = |z: ArrayView2<'_, f64>, gamma: &Array1<f64>, beta: &Array1<f64>| {
            let parameters = BatchNormParameters { affine: affine.then(|| (gamma.view(), beta.view())), eps: 1e-3 };
            (batch_norm_forward(z, &parameters).0 * &upstream).sum()
        };
        let parameters = BatchNormParameters { affine: affine.then(|| (gamma.view(), beta.view())), eps: 1e-3 };
        let (_, cache) = batch_norm_forward(z.view(), &parameters);
        let (grad_z, affine_grads) = batch_norm_backward(upstream.view(), &cache, &parameters);
        for index in 0..batch * m {
            let numeric = central(z.as_slice_mut().unwrap(), index, |values| {
                objective(ArrayView2::from_shape((batch, m), values).unwrap(), &gamma, &beta)
            });
            check_close(grad_z.as_slice().unwrap()[index], numeric, &format!("dL/dz[{index}]"))?;
        }
        prop_assert_eq!(affine_grads.is_some(), affine);
        if let Some((grad_gamma, grad_beta)) = affine_grads {
            for j in 0..m {
                let numeric = central(gamma.as_slice_mut().unwrap(), j, |values| objective(z.view(), &Array1::from(values.to_vec()), &beta));
                check_close(grad_gamma[j], numeric, &format!("dL/dgamma[{j}]"))?;
                let numeric = central(beta.as_slice_mut().unwrap(), j, |values| objective(z.view(), &gamma, &Array1::from(values.to_vec())));
                check_close(grad_beta[j], numeric, &format!("dL/dbeta[{j}]"))?;
            }
        }
    }

    #[test]
    fn predictor_loss_gradients(
        seed: u64, batch in 2usize..5, m in 1usize..5, n_views in 2usize..4, batch_norm: bool, affine: bool,
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut views: Vec<Array2<f64>> = (0..n_views).map(|_| gaussian(&mut rng, batch, m, 1.0)).collect();
        let mut predictor = Array2::<f64>::eye(m) + gaussian(&mut rng, m, m, 0.3);
        let (mut gamma, mut beta) = (uniform(&mut rng, m, 0.5, 2.0), uniform(&mut rng, m, -0.5, 0.5));
        let affine_now = (batch_norm && affine).then(|| (gamma.clone(), beta.clone()));
        let evaluate = |views: &[Array2<f64>], targets: &[Array2<f64>], predictor: &Array2<f64>, affine: &Option<(Array1<f64>, Array1<f64>)>| {
            let parameters = batch_norm.then(|| BatchNormParameters { affine: affine.as_ref().map(|(g, b)| (g.view(), b.view())), eps: 1e-3 });
            let head = HeadParameters { predictor: predictor.view(), batch_norm: parameters };
            let online: Vec<_> = views.iter().map(Array2::view).collect();
            let targets: Vec<_> = targets.iter().map(Array2::view).collect();
            predictor_loss_value(&online, Some(&targets), &head).unwrap()
        };
        // The stop-gradient targets: the online head outputs before any perturbation.
        let parameters = batch_norm.then(|| BatchNormParameters { affine: affine_now.as_ref().map(|(g, b)| (g.view(), b.view())), eps: 1e-3 });
        let online: Vec<_> = views.iter().map(Array2::view).collect();
        let targets = head_outputs(&online, parameters.as_ref());
        prop_assume!(targets.iter().all(|t| min_row_norm(t) > 0.05));
        prop_assume!(targets.iter().all(|y| min_row_norm(&y.dot(&predictor.t())) > 0.05));
        let mut grads = vec![Array2::zeros((0, 0)); n_views];
        let mut head_grads = HeadGradients::zeros(m);
        let value = predictor_loss(&online, None, &HeadParameters { predictor: predictor.view(), batch_norm: parameters }, &mut grads, &mut head_grads)?;
        prop_assert!((value - evaluate(&views, &targets, &predictor, &affine_now)).abs() < 1e-12);
        for a in 0..n_views {
            for index in 0..batch * m {
                views[a].as_slice_mut().unwrap()[index] += FD_STEP;
                let plus = evaluate(&views, &targets, &predictor, &affine_now);
                views[a].as_slice_mut().unwrap()[index] -= 2.0 * FD_STEP;
                let minus = evaluate(&views, &targets, &predictor, &affine_now);
                views[a].as_slice_mut().unwrap()[index] += FD_STEP;
                check_close(grads[a].as_slice().unwrap()[index], (plus - minus) / (2.0 * FD_STEP), &format!("dL/dz{a}[{index}]"))?;
            }
        }
        for index in 0..m * m {
            let numeric = central(predictor.as_slice_mut().unwrap(), index, |values| {
                evaluate(&views, &targets, &Array2::from_shape_vec((m, m), values.to_vec()).unwrap(), &affine_now)
            });
            check_close(head_grads.predictor.as_slice().unwrap()[index], numeric, &format!("dL/dP[{index}]"))?;
        }
        if batch_norm && affine {
            for j in 0..m {
                let numeric = central(gamma.as_slice_mut().unwrap(), j, |values| {
                    evaluate(&views, &targets, &predictor, &Some((Array1::from(values.to_vec()), beta.clone())))
                });
                check_close(head_grads.gamma[j], numeric, &format!("dL/dgamma[{j}]"))?;
                let numeric = central(beta.as_slice_mut().unwrap(), j, |values| {
                    evaluate(&views, &targets, &predictor, &Some((gamma.clone(), Array1::from(values.to_vec()))))
                });
                check_close(head_grads.beta[j], numeric, &format!("dL/dbeta[{j}]"))?;
            }
        } else {
            prop_assert!(head_grads.gamma.iter().chain(&head_grads.beta).all(|&g| g == 0.0));
        }
    }
}

#[test]
fn the_target_receives_no_gradient() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let views: Vec<Array2<f64>> = (0..3).map(|_| gaussian(&mut rng, 4, 3, 1.0)).collect();
    let predictor = Array2::<f64>::eye(3) + gaussian(&mut rng, 3, 3, 0.2);
    let parameters = Some(BatchNormParameters { affine: None, eps: 1e-5 });
    let head = HeadParameters { predictor: predictor.view(), batch_norm: parameters };
    let online: Vec<_> = views.iter().map(Array2::view).collect();
    let targets = head_outputs(&online, parameters.as_ref());
    let target_views: Vec<_> = targets.iter().map(Array2::view).collect();
    let (mut implicit, mut explicit) = (vec![Array2::zeros((0, 0)); 3], vec![Array2::zeros((0, 0)); 3]);
    let (mut head_implicit, mut head_explicit) = (HeadGradients::zeros(3), HeadGradients::zeros(3));
    let a = predictor_loss(&online, None, &head, &mut implicit, &mut head_implicit).unwrap();
    let b = predictor_loss(&online, Some(&target_views), &head, &mut explicit, &mut head_explicit).unwrap();
    assert_eq!(a, b);
    assert_eq!(implicit, explicit);
    assert_eq!(head_implicit, head_explicit);
}

#[test]
fn edge_cases_are_finite_or_typed_errors() {
    let head_identity = Array2::<f64>::eye(3);
    // Constant representations (zero variance) through batch normalisation, a batch of 2.
    let constant = Array2::from_elem((2, 3), 0.7);
    let parameters = Some(BatchNormParameters { affine: None, eps: 1e-5 });
    let head = HeadParameters { predictor: head_identity.view(), batch_norm: parameters };
    let mut grads = vec![Array2::zeros((0, 0)); 2];
    let mut head_grads = HeadGradients::zeros(3);
    let value = predictor_loss(&[constant.view(), constant.view()], None, &head, &mut grads, &mut head_grads).unwrap();
    assert!(value.is_finite() && grads.iter().all(|g| g.iter().all(|e| e.is_finite())), "{value}");
    // Zero representations without normalisation: finite (the norm floor).
    let zeros = Array2::<f64>::zeros((2, 3));
    let head = HeadParameters { predictor: head_identity.view(), batch_norm: None };
    let value = predictor_loss(&[zeros.view(), zeros.view()], None, &head, &mut grads, &mut head_grads).unwrap();
    assert!(value.is_finite() && grads.iter().all(|g| g.iter().all(|e| e.is_finite())));
    // Typed errors: one view, a batch of one, a wrong predictor shape.
    let err = predictor_loss(&[zeros.view()], None, &head, &mut grads[..1], &mut head_grads).unwrap_err();
    assert!(err.to_string().contains("views"), "{err}");
    let one = Array2::<f64>::zeros((1, 3));
    let err = predictor_loss(&[one.view(), one.view()], None, &head, &mut grads, &mut head_grads).unwrap_err();
    assert!(err.to_string().contains("batch"), "{err}");
    let wrong = Array2::<f64>::eye(2);
    let head = HeadParameters { predictor: wrong.view(), batch_norm: None };
    let err = predictor_loss(&[zeros.view(), zeros.view()], None, &head, &mut grads, &mut head_grads).unwrap_err();
    assert!(err.to_string().contains("predictor"), "{err}");
}
