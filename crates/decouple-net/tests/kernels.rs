//! The sparse backward kernel (sum over the nonzeros of `G`) equals the dense
//! matrix product within float rounding, with and without accumulation and
//! for widths that are not multiples of its block; every kernel gives
//! bit-identical results on a 2-thread rayon pool and on the calling thread.

use decouple_net::{BackwardKernel, NetGradients, NetWorkspace, SymReluNet};
use ndarray::{Array1, Array2, NdFloat};

/// A network whose thresholds leave about `active` of the units on.
fn setting<F: NdFloat>(batch: usize, d1: usize, m: usize, active: f64) -> (SymReluNet<F>, Array2<F>, Array2<F>) {
    let value = |i: usize, salt: usize| F::from((((i * 2_654_435_761 + salt) % 10_007) as f64 / 10_007.0) - 0.5).unwrap();
    let weights = Array2::from_shape_fn((m, d1), |(i, k)| value(i * d1 + k, 1));
    let x = Array2::from_shape_fn((batch, d1), |(r, k)| if (r * 31 + k * 17) % 2 == 0 { value(r * d1 + k, 2) } else { F::zero() });
    let grad_out = Array2::from_shape_fn((batch, m), |(r, i)| value(r * m + i, 3));
    let net = SymReluNet::new(weights, Array1::zeros(m)).unwrap();
    let mut workspace = NetWorkspace::new();
    net.forward_into(x.view(), &mut workspace).unwrap();
    let mut magnitudes: Vec<F> = workspace.pre_activations().iter().map(|s| s.abs()).collect();
    magnitudes.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let threshold = magnitudes[(((1.0 - active) * magnitudes.len() as f64) as usize).min(magnitudes.len() - 1)];
    let net = SymReluNet::new(net.weights().to_owned(), Array1::from_elem(m, threshold)).unwrap();
    (net, x, grad_out)
}

/// dW of two views (`backward` then `backward_accumulate`) with `kernel`.
fn gradients<F: NdFloat>(net: &SymReluNet<F>, x: &Array2<F>, grad_out: &Array2<F>, kernel: BackwardKernel) -> NetGradients<F> {
    let x_second = x.mapv(|v| v * F::from(0.5).unwrap());
    let mut grads = NetGradients::for_net(net);
    let mut workspace = NetWorkspace::new().with_backward_kernel(kernel);
    net.forward_into(x.view(), &mut workspace).unwrap();
    net.backward(x.view(), grad_out.view(), &mut workspace, &mut grads).unwrap();
    net.forward_into(x_second.view(), &mut workspace).unwrap();
    net.backward_accumulate(x_second.view(), grad_out.view(), &mut workspace, &mut grads).unwrap();
    grads
}

#[test]
fn sparse_and_dense_kernels_agree() {
    for (batch, d1, m, active) in [(16, 45, 7, 0.2), (32, 300, 20, 0.15), (8, 64, 5, 1.0), (12, 33, 9, 0.0)] {
        let (net, x, grad_out) = setting::<f64>(batch, d1, m, active);
        let dense = gradients(&net, &x, &grad_out, BackwardKernel::Dense);
        let sparse = gradients(&net, &x, &grad_out, BackwardKernel::Sparse);
        let scale = dense.weights.iter().fold(1e-300f64, |acc, v| acc.max(v.abs()));
        for (a, b) in dense.weights.iter().zip(&sparse.weights) {
            assert!((a - b).abs() <= 1e-13 * scale, "f64 {batch}x{d1}x{m}: {a} vs {b}");
        }
        assert_eq!(dense.bias, sparse.bias);

        // f32: the sums differ only in rounding (order and fused multiply-adds).
        let (net, x, grad_out) = setting::<f32>(batch, d1, m, active);
        let dense = gradients(&net, &x, &grad_out, BackwardKernel::Dense);
        let sparse = gradients(&net, &x, &grad_out, BackwardKernel::Sparse);
        let auto = gradients(&net, &x, &grad_out, BackwardKernel::Auto);
        let bound = 4.0 * f32::EPSILON * batch as f32 * x.iter().fold(0.0f32, |acc, v| acc.max(v.abs())) * 0.5;
        for ((a, b), c) in dense.weights.iter().zip(&sparse.weights).zip(&auto.weights) {
            assert!((a - b).abs() <= bound, "f32 {batch}x{d1}x{m}: {a} vs {b}");
            assert!(c == a || c == b);
        }
    }
}

#[test]
fn kernels_do_not_depend_on_threads() {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    for (batch, d1, m, active) in [(24, 300, 20, 0.2), (24, 300, 20, 0.9), (10, 45, 6, 0.3)] {
        let (net, x, grad_out) = setting::<f32>(batch, d1, m, active);
        for kernel in [BackwardKernel::Dense, BackwardKernel::Sparse, BackwardKernel::Auto] {
            let sequential = gradients(&net, &x, &grad_out, kernel);
            let parallel = pool.install(|| gradients(&net, &x, &grad_out, kernel));
            assert_eq!(sequential, parallel, "{kernel:?} {batch}x{d1}x{m}");
        }
    }
}
