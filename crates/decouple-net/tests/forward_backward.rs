//! Explicit edge cases of the forward and backward passes: exact
//! soft-threshold values, gradient signs, buffer reuse and shape errors.

mod support;

use decouple_net::{NetError, NetGradients, NetWorkspace, SymReluNet, soft_threshold};
use ndarray::{Array1, Array2, array};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use support::{gaussian, uniform};

#[test]
fn soft_threshold_exact_values() {
    assert_eq!(soft_threshold(2.5_f64, 1.0), 1.5);
    assert_eq!(soft_threshold(-2.5_f64, 1.0), -1.5);
    assert_eq!(soft_threshold(1.0_f64, 1.0), 0.0);
    assert_eq!(soft_threshold(-1.0_f64, 1.0), 0.0);
    assert_eq!(soft_threshold(0.3_f64, 1.0), 0.0);
    assert_eq!(soft_threshold(-0.7_f32, 0.0), -0.7);
    assert_eq!(soft_threshold(0.0_f64, 0.0), 0.0);
    assert!(soft_threshold(f64::NAN, 1.0).is_nan());
}

#[test]
fn forward_equals_difference_of_relus() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let net = SymReluNet::new(gaussian(&mut rng, 5, 7, 1.0), uniform(&mut rng, 5, 0.0, 1.0)).unwrap();
    let x = gaussian(&mut rng, 6, 7, 1.0);
    let h = net.forward(x.view()).unwrap();
    let relu = |t: f64| t.max(0.0);
    for r in 0..6 {
        for i in 0..5 {
            let s: f64 = (0..7).map(|j| net.weights()[[i, j]] * x[[r, j]]).sum();
            let b = net.bias()[i];
            assert!((h[[r, i]] - (relu(s - b) - relu(-s - b))).abs() < 1e-12);
        }
    }
}

#[test]
fn forward_known_batch() {
    let net = SymReluNet::new(array![[1.0, -1.0], [0.5, 0.5], [0.0, 1.0]], array![1.0, 0.0, 3.0]).unwrap();
    let x = array![[3.0, 1.0], [0.0, 2.0], [-4.0, 0.0]];
    let expected = array![[1.0, 2.0, 0.0], [-1.0, 1.0, 0.0], [-3.0, -2.0, 0.0]];
    assert_eq!(net.forward(x.view()).unwrap(), expected);
    let f32_net: SymReluNet<f32> = net.cast();
    assert_eq!(f32_net.forward(x.mapv(|v| v as f32).view()).unwrap(), expected.mapv(|v| v as f32));
}

/// One neuron `w = 1`, input `x`, `L = h`: `dL/db = -sign(s)` above threshold, 0 below.
fn single_neuron_grads(x: f64, b: f64) -> (f64, f64) {
    let net = SymReluNet::new(array![[1.0]], array![b]).unwrap();
    let x = array![[x]];
    let mut workspace = NetWorkspace::new();
    let mut grads = NetGradients::for_net(&net);
    net.forward_into(x.view(), &mut workspace).unwrap();
    net.backward(x.view(), array![[1.0]].view(), &mut workspace, &mut grads).unwrap();
    (grads.weights[[0, 0]], grads.bias[0])
}

#[test]
fn bias_gradient_sign() {
    assert_eq!(single_neuron_grads(2.0, 0.5), (2.0, -1.0));
    assert_eq!(single_neuron_grads(-2.0, 0.5), (-2.0, 1.0));
    assert_eq!(single_neuron_grads(0.3, 0.5), (0.0, 0.0));
    assert_eq!(single_neuron_grads(0.5, 0.5), (0.0, 0.0)); // kink: derivative taken as 0
}

#[test]
fn workspace_is_reused_and_resized_with_the_batch() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let net = SymReluNet::new(gaussian(&mut rng, 4, 3, 1.0), uniform(&mut rng, 4, 0.0, 0.5)).unwrap();
    let mut workspace = NetWorkspace::with_shape(3, 4);
    for batch in [3, 5, 3, 1] {
        let x = gaussian(&mut rng, batch, 3, 1.0);
        net.forward_into(x.view(), &mut workspace).unwrap();
        assert_eq!(workspace.output(), net.forward(x.view()).unwrap());
        assert_eq!(workspace.pre_activations(), x.dot(&net.weights().t()));
    }
}

#[test]
fn init_is_seeded_and_scaled() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let net = SymReluNet::<f64>::init(64, 64, 0.01, &mut rng).unwrap();
    let again = SymReluNet::<f64>::init(64, 64, 0.01, &mut ChaCha8Rng::seed_from_u64(3)).unwrap();
    let single = SymReluNet::<f32>::init(64, 64, 0.01, &mut ChaCha8Rng::seed_from_u64(3)).unwrap();
    assert_eq!(net, again);
    assert_eq!(single, net.cast());
    assert_eq!((net.n_neurons(), net.input_dim()), (64, 64));
    assert!(net.bias().iter().all(|&b| b == 0.0));
    let std = (net.weights().mapv(|w| w * w).sum() / 4096.0).sqrt();
    assert!((std / 0.01 - 1.0).abs() < 0.05, "sample std {std}");
}

#[test]
fn init_rejects_bad_parameters() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let err = SymReluNet::<f64>::init(4, 4, -1.0, &mut rng).unwrap_err();
    assert_eq!(err.to_string(), "sigma0 = -1 must be finite and > 0");
    for sigma0 in [0.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(SymReluNet::<f64>::init(4, 4, sigma0, &mut rng), Err(NetError::OutOfRange { field: "sigma0", .. })));
    }
    assert_eq!(SymReluNet::<f64>::init(0, 4, 0.1, &mut rng).unwrap_err().to_string(), "m = 0 must be >= 1");
    assert_eq!(SymReluNet::<f64>::init(4, 0, 0.1, &mut rng).unwrap_err().to_string(), "d1 = 0 must be >= 1");
}

#[test]
fn new_rejects_bad_parameters() {
    let w = Array2::<f64>::ones((2, 3));
    let err = SymReluNet::new(w.clone(), array![0.0, -0.5]).unwrap_err();
    assert_eq!(err.to_string(), "bias[1] = -0.5 must be finite and >= 0");
    assert!(SymReluNet::new(w.clone(), array![f64::NAN, 0.0]).is_err());
    assert!(SymReluNet::new(w.clone(), array![f64::INFINITY, 0.0]).is_err());
    let err = SymReluNet::new(w.clone(), array![0.0, 0.0, 0.0]).unwrap_err();
    assert!(err.to_string().contains("bias") && err.to_string().contains("[3]"), "{err}");
    let mut bad = w.clone();
    bad[[1, 2]] = f64::NAN;
    assert!(SymReluNet::new(bad, array![0.0, 0.0]).unwrap_err().to_string().starts_with("weights[1, 2] = NaN"));
    assert!(SymReluNet::new(Array2::<f64>::zeros((0, 3)), Array1::zeros(0)).is_err());

    let mut net = SymReluNet::new(w, array![0.1, 0.2]).unwrap();
    assert!(net.set_bias(array![0.3, -1.0].view()).is_err());
    assert!(net.set_bias(array![0.3].view()).is_err());
    assert_eq!(net.bias(), array![0.1, 0.2]);
    net.set_bias(array![0.3, 0.0].view()).unwrap();
    assert_eq!(net.bias(), array![0.3, 0.0]);
}

#[test]
fn shape_mismatches_are_errors() {
    let net = SymReluNet::new(Array2::<f64>::ones((2, 3)), Array1::zeros(2)).unwrap();
    let x = Array2::<f64>::ones((4, 3));
    let err = net.forward(Array2::<f64>::ones((4, 5)).view()).unwrap_err();
    assert_eq!(err.to_string(), "shape mismatch for x: expected [B, d1 = 3], found [4, 5]");

    let mut workspace = NetWorkspace::new();
    let mut grads = NetGradients::for_net(&net);
    let grad_out = Array2::<f64>::ones((4, 2));
    // backward before any forward pass
    assert!(net.backward(x.view(), grad_out.view(), &mut workspace, &mut grads).is_err());
    net.forward_into(x.view(), &mut workspace).unwrap();
    let err = net.backward(x.view(), Array2::ones((4, 3)).view(), &mut workspace, &mut grads).unwrap_err();
    assert!(err.to_string().contains("grad_out"), "{err}");
    let err = net.backward(x.view(), grad_out.view(), &mut workspace, &mut NetGradients::zeros(2, 4)).unwrap_err();
    assert!(err.to_string().contains("grads.weights"), "{err}");
    let err = net.backward(Array2::ones((3, 3)).view(), grad_out.view(), &mut workspace, &mut grads).unwrap_err();
    assert!(matches!(err, NetError::ShapeMismatch { .. }));
    net.backward(x.view(), grad_out.view(), &mut workspace, &mut grads).unwrap();
}
