//! The hand-written gradient of the alignment + uniformity loss against
//! central finite differences in `f64`, over random batches, widths, scales
//! and hyperparameters; and its edge cases (typed errors, no NaN).
//!
//! Rows with a norm below 0.05 are rejected (`prop_assume!`): near `z = 0` the
//! normalisation's curvature `~ 1/||z||^3` spoils central differences.

use alignment_uniformity::AlignmentUniformity;
use decouple_loss::{LossError, LossWorkspace, ViewLoss};
use ndarray::{Array2, ArrayView2};
use proptest::prelude::*;
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const STEP: f64 = 1e-6;

fn gaussian(rng: &mut ChaCha8Rng, rows: usize, columns: usize, scale: f64) -> Array2<f64> {
    // Box-Muller, so the test needs no distribution crate.
    Array2::from_shape_fn((rows, columns), |_| {
        let (a, b): (f64, f64) = (rng.random::<f64>().max(1e-300), rng.random());
        scale * (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
    })
}

fn value(loss: &AlignmentUniformity, u: &Array2<f64>, v: &Array2<f64>) -> f64 {
    loss.value_of_views(&[u.view(), v.view()], &mut LossWorkspace::new()).unwrap()
}

fn min_row_norm(a: ArrayView2<'_, f64>) -> f64 {
    a.rows().into_iter().map(|row| row.dot(&row).sqrt()).fold(f64::INFINITY, f64::min)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn gradient_matches_finite_differences(
        seed: u64, batch in 2usize..7, m in 1usize..6, scale in 0.1f64..5.0, t in 0.2f64..4.0, lambda in 0.0f64..3.0,
    ) {
        let loss = AlignmentUniformity { t, lambda };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut views = [gaussian(&mut rng, batch, m, scale), gaussian(&mut rng, batch, m, scale)];
        prop_assume!(views.iter().all(|view| min_row_norm(view.view()) > 0.05), "a row too close to 0");
        let mut gradients = vec![Array2::from_elem((1, 1), f64::NAN), Array2::zeros((1, 1))];
        let analytic = loss.value_and_gradients_of_views(&[views[0].view(), views[1].view()], &mut LossWorkspace::new(), &mut gradients)?;
        prop_assert!((analytic - value(&loss, &views[0], &views[1])).abs() < 1e-12);
        for k in 0..2 {
            for i in 0..batch {
                for j in 0..m {
                    views[k][[i, j]] += STEP;
                    let plus = value(&loss, &views[0], &views[1]);
                    views[k][[i, j]] -= 2.0 * STEP;
                    let minus = value(&loss, &views[0], &views[1]);
                    views[k][[i, j]] += STEP;
                    let numeric = (plus - minus) / (2.0 * STEP);
                    let tolerance = 1e-6 * (1.0 + numeric.abs()) / min_row_norm(views[k].view()).min(1.0);
                    prop_assert!(
                        (gradients[k][[i, j]] - numeric).abs() < tolerance,
                        "dL/dz{}[{i},{j}]: analytic {} vs numeric {numeric}", k + 1, gradients[k][[i, j]]
                    );
                }
            }
        }
    }
}

#[test]
fn identical_unit_views_have_zero_alignment_and_a_known_uniformity() {
    // Two orthogonal unit rows: ||h_0 - h_1||^2 = 2, so L_unif = -2t in each view.
    let u = ndarray::array![[1.0_f64, 0.0], [0.0, 1.0]];
    let loss = AlignmentUniformity { t: 2.0, lambda: 1.0 };
    assert!((value(&loss, &u, &u) - (-4.0)).abs() < 1e-12);
}

#[test]
fn edge_cases_give_finite_values_or_typed_errors() {
    let loss = AlignmentUniformity::default();
    // Constant (here zero) representations: finite value, finite gradients.
    let zeros = Array2::<f64>::zeros((3, 4));
    let mut gradients = vec![Array2::zeros((3, 4)), Array2::zeros((3, 4))];
    let value = loss.value_and_gradients_of_views(&[zeros.view(), zeros.view()], &mut LossWorkspace::new(), &mut gradients).unwrap();
    assert!(value.is_finite() && gradients.iter().all(|g| g.iter().all(|e| e.is_finite())), "{value} {gradients:?}");
    // A batch of one, a shape mismatch, a bad hyperparameter: typed errors.
    let one = Array2::<f64>::ones((1, 4));
    let err = loss.value_of_views(&[one.view(), one.view()], &mut LossWorkspace::new()).unwrap_err();
    assert!(matches!(err, LossError::BatchTooSmall { batch: 1 }), "{err}");
    let other = Array2::<f64>::ones((3, 5));
    let err = loss.value_of_views(&[zeros.view(), other.view()], &mut LossWorkspace::new()).unwrap_err();
    assert!(matches!(err, LossError::ShapeMismatch { what: "v", .. }), "{err}");
    let err =
        AlignmentUniformity { t: 0.0, lambda: 1.0 }.value_of_views(&[zeros.view(), zeros.view()], &mut LossWorkspace::new()).unwrap_err();
    assert!(err.to_string().contains("t = 0"), "{err}");
}
