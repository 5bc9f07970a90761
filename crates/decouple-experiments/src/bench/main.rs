//! `decouple-bench`: baseline profiler (temporary).

use std::time::Instant;

use decouple_data::{Batch, SparseCodingModel, rng};
use decouple_loss::{ContrastiveLoss, LossWorkspace};
use decouple_net::{NetGradients, NetWorkspace, SymReluNet};
use decouple_train::{Objective, TrainConfig, Trainer};
use ndarray::Array2;

fn large() -> TrainConfig {
    let mut c = TrainConfig::default();
    c.data.d = 64;
    c.data.d1 = 1024;
    c.data.latent = decouple_data::SparseLatent::Bernoulli { p: 2.0 / 64.0 };
    c.network.width = 256;
    c.batch_size = 256;
    c
}

fn profile(name: &str, config: TrainConfig) {
    let model = SparseCodingModel::from_seed(config.data, 0).unwrap();
    let mut net = SymReluNet::<f32>::init(config.network.width, config.data.d1, 0.01, &mut rng::stream(0, "init")).unwrap();
    let (b, d1, m) = (config.batch_size, config.data.d1, config.network.width);
    let mut batch = Batch::zeros(b, config.data.d, d1);
    let mut v1 = Array2::zeros((b, d1));
    let mut v2 = Array2::zeros((b, d1));
    let mut ws = [NetWorkspace::with_shape(b, m), NetWorkspace::with_shape(b, m)];
    let mut lw = LossWorkspace::new();
    let mut gu = Array2::zeros((b, m));
    let mut gv = Array2::zeros((b, m));
    let mut grads = NetGradients::for_net(&net);
    let Objective::Contrastive { loss } = config.objective else { panic!() };
    let mut data_rng = rng::stream(0, "data");
    let mut aug_rng = rng::stream(0, "augment");
    let mut t = [0.0f64; 6];
    let n = 200;
    // set bias ramp to the final state
    config.network.bias.apply_before_step(&mut net, config.steps, config.steps).unwrap();
    for _ in 0..n {
        let t0 = Instant::now();
        model.sample_into(&mut batch, &mut data_rng);
        let t1 = Instant::now();
        config.augmentation.apply_x_into(batch.x(), &mut v1, &mut v2, &mut aug_rng).unwrap();
        let t2 = Instant::now();
        net.forward_into(v1.view(), &mut ws[0]).unwrap();
        net.forward_into(v2.view(), &mut ws[1]).unwrap();
        let t3 = Instant::now();
        loss.loss_and_grad_with(ws[0].output(), ws[1].output(), &mut lw, &mut gu, &mut gv).unwrap();
        let t4 = Instant::now();
        let [w0, w1] = &mut ws;
        net.backward(v1.view(), gu.view(), w0, &mut grads).unwrap();
        net.backward_accumulate(v2.view(), gv.view(), w1, &mut grads).unwrap();
        let t5 = Instant::now();
        for (t, (a, b)) in t.iter_mut().zip([(t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5)]) {
            *t += (b - a).as_secs_f64();
        }
    }
    let names = ["sample", "augment", "forward", "loss", "backward"];
    print!("{name}: ");
    for (nm, t) in names.iter().zip(t) {
        print!("{nm} {:.3} ms  ", t / n as f64 * 1e3);
    }
    let active = ws[0].output().iter().filter(|h| **h != 0.0).count() as f64 / (b * m) as f64;
    println!("active {active:.3}");
    let mut trainer = Trainer::new(TrainConfig { steps: 300, ..config }).unwrap();
    let t0 = Instant::now();
    for _ in 0..300 {
        trainer.train_step().unwrap();
    }
    println!("{name}: trainer {:.3} ms/step", t0.elapsed().as_secs_f64() / 300.0 * 1e3);
}

fn gemm(n: usize) {
    let a = Array2::<f32>::from_shape_fn((n, n), |(i, j)| ((i * 7 + j * 3) % 11) as f32 * 0.1);
    let bm = a.t().to_owned();
    let mut c = Array2::<f32>::zeros((n, n));
    let reps = 5;
    let mut best = f64::INFINITY;
    for _ in 0..reps {
        let t = Instant::now();
        ndarray::linalg::general_mat_mul(1.0, &a, &bm, 0.0, &mut c);
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("gemm {n}: {:.1} GFLOP/s", 2.0 * (n as f64).powi(3) / best / 1e9);
}

fn rngbench() {
    use rand::{Rng, RngCore};
    use rand_distr::StandardNormal;
    let mut r = rng::stream(0, "x");
    let n = 1 << 20;
    let mut buf = vec![0u8; 4 * n];
    let t = Instant::now();
    for _ in 0..10 { r.fill_bytes(&mut buf); }
    println!("chacha8 fill_bytes: {:.2} GB/s", 40.0 * n as f64 / t.elapsed().as_secs_f64() / 1e9);
    let t = Instant::now();
    let mut s = 0u64;
    for _ in 0..n { s = s.wrapping_add(r.next_u64()); }
    println!("chacha8 next_u64: {:.2} ns each ({s})", t.elapsed().as_secs_f64() / n as f64 * 1e9);
    let t = Instant::now();
    let mut acc = 0.0f32;
    for _ in 0..n { acc += r.sample::<f32, _>(StandardNormal); }
    println!("StandardNormal f32: {:.2} ns each ({acc})", t.elapsed().as_secs_f64() / n as f64 * 1e9);
    let t = Instant::now();
    let mut acc = 0u32;
    for _ in 0..n { acc = acc.wrapping_add(r.next_u32()); }
    println!("next_u32: {:.2} ns each ({acc})", t.elapsed().as_secs_f64() / n as f64 * 1e9);
}

fn main() {
    rngbench();
    return;
    gemm(1024);
    gemm(256);
    profile("default", TrainConfig::default());
    profile("large", large());
}
