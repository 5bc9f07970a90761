//! Explicit edge cases: the values at equal representations, zero vectors
//! under cosine, huge representations, the logistic loss at known points, and
//! every input error.

#[path = "../../decouple-net/tests/support/mod.rs"]
mod support;

use decouple_loss::{
    BarlowTwins, Contrastive, ContrastiveLoss, InfoNce, LogisticGradients, LogisticLoss, LossError, NtXent, Similarity, Spectral,
};
use ndarray::{Array1, Array2, array};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use support::gaussian;

const SIMILARITIES: [Similarity; 2] = [Similarity::Dot, Similarity::Cosine];

fn all_losses(temperature: f64) -> Vec<Contrastive> {
    SIMILARITIES
        .iter()
        .flat_map(|&similarity| [InfoNce { similarity, temperature }.into(), NtXent { similarity, temperature }.into()])
        .collect()
}

fn all_finite(a: &Array2<f64>) -> bool {
    a.iter().all(|e| e.is_finite())
}

#[test]
fn equal_representations_give_log_of_the_number_of_candidates() {
    for batch in [2, 3, 8] {
        let same = Array2::from_elem((batch, 4), 0.7);
        for loss in all_losses(0.3) {
            let value = loss.value(same.view(), same.view()).unwrap();
            let expected = match loss {
                Contrastive::InfoNce(_) => (batch as f64).ln(),
                Contrastive::NtXent(_) => (2.0 * batch as f64 - 1.0).ln(),
                other => panic!("no expected value written for {other:?}"),
            };
            assert!((value - expected).abs() < 1e-12, "{loss:?} B = {batch}: {value} vs {expected}");
        }
    }
}

#[test]
fn zero_vector_under_cosine_is_finite() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut u = gaussian(&mut rng, 4, 3, 1.0);
    let v = gaussian(&mut rng, 4, 3, 1.0);
    u.row_mut(1).fill(0.0);
    for loss in [Contrastive::from(InfoNce::default()), NtXent::default().into()] {
        let (mut gu, mut gv) = (Array2::zeros((4, 3)), Array2::zeros((4, 3)));
        let value = loss.loss_and_grad(u.view(), v.view(), &mut gu, &mut gv).unwrap();
        assert!(value.is_finite() && all_finite(&gu) && all_finite(&gv), "{loss:?}");
        let zeros = Array2::zeros((4, 3));
        let value = loss.loss_and_grad(zeros.view(), zeros.view(), &mut gu, &mut gv).unwrap();
        assert!(value.is_finite() && all_finite(&gu) && all_finite(&gv), "{loss:?}");
    }
}

#[test]
fn huge_representations_with_dot_and_small_temperature_are_finite() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let (u, v) = (gaussian(&mut rng, 8, 5, 1e4), gaussian(&mut rng, 8, 5, 1e4));
    for loss in [
        Contrastive::from(InfoNce { similarity: Similarity::Dot, temperature: 0.01 }),
        NtXent { similarity: Similarity::Dot, temperature: 0.01 }.into(),
    ] {
        let (mut gu, mut gv) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        let value = loss.loss_and_grad(u.view(), v.view(), &mut gu, &mut gv).unwrap();
        assert!(value.is_finite() && value >= 0.0 && all_finite(&gu) && all_finite(&gv), "{loss:?}: {value}");
        let (u32, v32) = (u.mapv(|e| e as f32), v.mapv(|e| e as f32));
        let (mut gu32, mut gv32) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        let value32 = loss.loss_and_grad(u32.view(), v32.view(), &mut gu32, &mut gv32).unwrap();
        assert!(value32.is_finite() && gu32.iter().chain(gv32.iter()).all(|e| e.is_finite()), "{loss:?} f32");
    }
}

#[test]
fn gradient_buffers_are_resized() {
    let u = array![[1.0, 2.0], [0.5, -1.0], [0.0, 1.0]];
    let (mut gu, mut gv) = (Array2::zeros((1, 7)), Array2::zeros((0, 0)));
    InfoNce::default().loss_and_grad(u.view(), u.view(), &mut gu, &mut gv).unwrap();
    assert_eq!((gu.dim(), gv.dim()), ((3, 2), (3, 2)));
}

#[test]
fn bad_temperatures_are_errors() {
    let u = Array2::<f64>::ones((3, 2));
    for temperature in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        for loss in all_losses(temperature) {
            let err = loss.value(u.view(), u.view()).unwrap_err();
            assert!(matches!(err, LossError::OutOfRange { field: "temperature", .. }), "{err}");
            assert_eq!(loss.check().unwrap_err().to_string(), err.to_string());
        }
    }
    let err = InfoNce { similarity: Similarity::Dot, temperature: -1.0 }.check().unwrap_err();
    assert_eq!(err.to_string(), "temperature = -1 must be finite and > 0");
    assert!(InfoNce::default().check().is_ok() && Contrastive::default().check().is_ok());
}

#[test]
fn bad_shapes_are_errors() {
    let (mut gu, mut gv) = (Array2::<f64>::zeros((3, 2)), Array2::zeros((3, 2)));
    for loss in all_losses(0.5) {
        let err = loss.loss_and_grad(Array2::ones((3, 2)).view(), Array2::ones((3, 3)).view(), &mut gu, &mut gv);
        assert_eq!(err.unwrap_err().to_string(), "shape mismatch for v: expected [B = 3, m = 2] (the shape of u), found [3, 3]");
        let err = loss.value(Array2::<f64>::ones((1, 2)).view(), Array2::ones((1, 2)).view()).unwrap_err();
        assert_eq!(err, LossError::BatchTooSmall { batch: 1 });
        assert!(err.to_string().starts_with("batch size B = 1 must be >= 2"));
        assert!(loss.value(Array2::<f64>::ones((0, 2)).view(), Array2::ones((0, 2)).view()).is_err());
        assert!(loss.value(Array2::<f64>::ones((3, 0)).view(), Array2::ones((3, 0)).view()).is_err());
    }
    assert_eq!((gu.dim(), gv.dim()), ((3, 2), (3, 2)));
}

#[test]
fn logistic_known_values_and_stability() {
    let loss = LogisticLoss;
    let zero = Array2::<f64>::zeros((3, 2));
    let labels = array![1.0, -1.0, 1.0];
    let value = loss.value(zero.view(), array![0.5, -2.0].view(), 0.0, labels.view()).unwrap();
    assert!((value - 2f64.ln()).abs() < 1e-15);

    let mut grads = LogisticGradients::zeros(3, 2);
    let features = array![[1e4, 0.0], [0.0, 1e4], [-1e4, 0.0]];
    let weights = array![1.0, 1.0];
    let value = loss.loss_and_grad(features.view(), weights.view(), 0.0, labels.view(), &mut grads).unwrap();
    // margins +1e4, -1e4, -1e4: softplus(-1e4) = 0, softplus(1e4) = 1e4.
    assert!((value - 2e4 / 3.0).abs() < 1e-9, "{value}");
    assert!(grads.features.iter().chain(grads.weights.iter()).all(|e| e.is_finite()) && grads.bias.is_finite());
    assert_eq!(grads.logit_gradients(), array![-0.0, 1.0 / 3.0, -1.0 / 3.0]);
}

#[test]
fn logistic_input_errors() {
    let loss = LogisticLoss;
    let features = Array2::<f64>::ones((3, 2));
    let weights = array![1.0, 1.0];
    let err = loss.value(features.view(), weights.view(), 0.0, array![1.0, 0.0, -1.0].view()).unwrap_err();
    assert_eq!(err.to_string(), "labels[1] = 0 must be -1 or +1");
    let err = loss.value(features.view(), weights.view(), 0.0, array![1.0, -1.0].view()).unwrap_err();
    assert!(err.to_string().contains("labels") && err.to_string().contains("[2]"), "{err}");
    let err = loss.value(features.view(), array![1.0].view(), 0.0, array![1.0, -1.0, 1.0].view()).unwrap_err();
    assert!(err.to_string().contains("weights"), "{err}");
    let empty = Array2::<f64>::zeros((0, 2));
    assert!(loss.value(empty.view(), weights.view(), 0.0, Array1::zeros(0).view()).is_err());
    let mut grads = LogisticGradients::zeros(3, 2);
    let labels = array![1.0, -1.0, f64::NAN];
    assert!(loss.loss_and_grad(features.view(), weights.view(), 0.0, labels.view(), &mut grads).is_err());
}

/// The spectral loss and Barlow Twins at the edges: a batch of 2, constant
/// representations (zero variance in every column), zero representations,
/// huge representations, one constant column: finite values and gradients.
#[test]
fn spectral_and_barlow_twins_are_finite_at_the_edges() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let mut one_constant_column = gaussian(&mut rng, 5, 3, 1.0);
    one_constant_column.column_mut(1).fill(-2.0);
    let cases: Vec<(&str, Array2<f64>, Array2<f64>)> = vec![
        ("batch of 2", gaussian(&mut rng, 2, 3, 1.0), gaussian(&mut rng, 2, 3, 1.0)),
        ("constant", Array2::from_elem((4, 3), 0.7), Array2::from_elem((4, 3), 0.7)),
        ("zero", Array2::zeros((4, 3)), Array2::zeros((4, 3))),
        ("huge", gaussian(&mut rng, 4, 3, 1e4), gaussian(&mut rng, 4, 3, 1e4)),
        ("one constant column", one_constant_column.clone(), one_constant_column),
    ];
    let losses = [Contrastive::from(Spectral { mu: None }), Spectral { mu: Some(1.0) }.into(), BarlowTwins::default().into()];
    for (name, u, v) in &cases {
        for loss in losses {
            let (mut gu, mut gv) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
            let value = loss.loss_and_grad(u.view(), v.view(), &mut gu, &mut gv).unwrap();
            assert!(value.is_finite() && all_finite(&gu) && all_finite(&gv), "{loss:?} on {name}: {value}");
            let (u32, v32) = (u.mapv(|e| e as f32), v.mapv(|e| e as f32));
            let (mut gu32, mut gv32) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
            let value32 = loss.loss_and_grad(u32.view(), v32.view(), &mut gu32, &mut gv32).unwrap();
            assert!(value32.is_finite() && gu32.iter().chain(gv32.iter()).all(|e| e.is_finite()), "{loss:?} f32 on {name}");
        }
    }
}

#[test]
fn spectral_and_barlow_twins_known_values() {
    // Spectral at u = v = I_2 (B = m = 2): -(2/2) (1 + 1) + 0 = -2.
    let identity = array![[1.0_f64, 0.0], [0.0, 1.0]];
    assert_eq!(Spectral { mu: None }.value(identity.view(), identity.view()).unwrap(), -2.0);
    // Clipped to ||z|| <= sqrt(0.25) = 0.5: S = 0.25 I, L = -(2/2) 0.5 = -0.5.
    let doubled = identity.mapv(|e| 2.0 * e);
    assert!((Spectral { mu: Some(0.25) }.value(doubled.view(), doubled.view()).unwrap() + 0.5).abs() < 1e-15);
    // Equal rows: S_ij = ||a||^2 = 2 for all i, j (B = 3): -(2/3) 6 + (1/6) 6 * 4 = 0.
    let same = Array2::from_elem((3, 2), 1.0_f64);
    assert!(Spectral { mu: None }.value(same.view(), same.view()).unwrap().abs() < 1e-12);
    // Barlow Twins: constant columns give C = 0 and L = m; a column and its copy give C_ii ~ 1.
    let loss = BarlowTwins { lambda: 0.5, eps: 1e-12 };
    assert_eq!(loss.value(same.view(), same.view()).unwrap(), 2.0);
    let decorrelated = array![[1.0_f64, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]];
    // Columns with mean 0, variance 1, uncorrelated: C = I, L = 0.
    assert!(loss.value(decorrelated.view(), decorrelated.view()).unwrap().abs() < 1e-10);
    // Swapping the views' columns: C = [[0, 1], [1, 0]], L = 2 + 0.5 * 2 = 3.
    let swapped = array![[1.0_f64, 1.0], [-1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]];
    assert!((loss.value(decorrelated.view(), swapped.view()).unwrap() - 3.0).abs() < 1e-10);
}

#[test]
fn spectral_and_barlow_twins_errors_name_the_field() {
    let u = Array2::<f64>::ones((3, 2));
    for mu in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let err = Spectral { mu: Some(mu) }.value(u.view(), u.view()).unwrap_err();
        assert!(matches!(err, LossError::OutOfRange { field: "mu", .. }), "{err}");
    }
    assert_eq!(Spectral { mu: Some(-1.0) }.check().unwrap_err().to_string(), "mu = -1 must be finite and > 0");
    for lambda in [-0.1, f64::NAN, f64::INFINITY] {
        let err = BarlowTwins { lambda, eps: 1e-5 }.value(u.view(), u.view()).unwrap_err();
        assert!(matches!(err, LossError::OutOfRange { field: "lambda", .. }), "{err}");
    }
    for eps in [0.0, -1.0, f64::NAN] {
        let err = BarlowTwins { lambda: 0.1, eps }.check().unwrap_err();
        assert!(matches!(err, LossError::OutOfRange { field: "eps", .. }), "{err}");
    }
    for loss in [Contrastive::from(Spectral::default()), BarlowTwins::default().into()] {
        let err = loss.value(Array2::<f64>::ones((1, 2)).view(), Array2::ones((1, 2)).view()).unwrap_err();
        assert_eq!(err, LossError::BatchTooSmall { batch: 1 });
        let err = loss.value(Array2::<f64>::ones((3, 2)).view(), Array2::ones((3, 3)).view()).unwrap_err();
        assert!(matches!(err, LossError::ShapeMismatch { what: "v", .. }), "{err}");
        assert!(loss.value(Array2::<f64>::ones((3, 0)).view(), Array2::ones((3, 0)).view()).is_err());
        assert_eq!(loss.similarity(), None);
        assert_eq!(loss.temperature(), None);
    }
}
