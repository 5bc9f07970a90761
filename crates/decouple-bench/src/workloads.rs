//! The benchmarked workloads: configurations (docs/model.md §7 default, a large
//! setting, the peer code's setting), whole-run step timings through
//! `Trainer`, the matrix-product ceiling, and a phase-by-phase profile of one
//! step.

use decouple_data::{Batch, SparseCodingModel, SparseLatent, rng};
use decouple_loss::{ContrastiveLoss, LossWorkspace};
use decouple_net::{NetGradients, NetWorkspace};
use decouple_train::{ObjectiveKind, TrainConfig, Trainer};
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis, linalg::general_mat_mul};

use crate::measure::seconds;

/// `step-default`: docs/model.md §7 (B = 128, d1 = 512, m = 128, ComplementaryMask).
pub fn default_config() -> TrainConfig {
    TrainConfig::default()
}

/// `step-large`: d = 64, d1 = 1024, m = 256, B = 256 (p = 2/d), otherwise the default.
pub fn large_config() -> TrainConfig {
    let mut config = TrainConfig::default();
    let data = config.data.model_mut().expect("the data model");
    data.d = 64;
    data.d1 = 1024;
    data.latent = SparseLatent::Bernoulli { p: 2.0 / 64.0 };
    config.network.width = 256;
    config.batch_size = 256;
    config.steps = 1000;
    config
}

/// `peer-epoch`: the peer code's setting, read from `examples/configs/peer.toml`
/// (a pool of 3000 samples, d1 = 50, d = 10 with exactly 2 active, m = 50,
/// batch 512, NT-Xent cosine tau = 0.05, two independent rescaled masks
/// keeping half), cut to 600 steps.
///
/// # Errors
/// The file is missing or invalid.
pub fn peer_config(root: &std::path::Path) -> anyhow::Result<TrainConfig> {
    let file = root.join("examples/configs/peer.toml");
    Ok(decouple_harness::config_file::load_run(&file, &["steps=600".into()])?.train)
}

/// Dense FLOPs of one step's forward and backward passes: `8 B d1 m`
/// (`S = X W^T` and `G^T X` for each of the two views).
pub fn dense_step_flops(config: &TrainConfig) -> f64 {
    8.0 * (config.batch_size * config.data.model().expect("the data model").d1 * config.network.width) as f64
}

/// Seconds per step of every block of `block` consecutive steps over a whole
/// run of `config` (so every phase of the threshold ramp is included).
pub fn step_seconds(config: TrainConfig, threads: usize, block: usize) -> Vec<f64> {
    let mut trainer = Trainer::with_threads(config.clone(), threads).expect("valid bench config");
    let mut blocks = Vec::new();
    while trainer.step() < config.steps {
        let steps = block.min(config.steps - trainer.step());
        let elapsed = seconds(|| {
            for _ in 0..steps {
                trainer.train_step().expect("bench runs do not diverge");
            }
        });
        blocks.push(elapsed / steps as f64);
    }
    blocks
}

/// `C = A B` on `threads` threads (rows of `C` split in equal blocks), with
/// the kernel the workspace uses (ndarray's `general_mat_mul`, i.e. matrixmultiply).
fn gemm(a: ArrayView2<'_, f32>, b: ArrayView2<'_, f32>, mut c: ArrayViewMut2<'_, f32>, threads: usize) {
    if threads <= 1 {
        general_mat_mul(1.0, &a, &b, 0.0, &mut c);
        return;
    }
    let rows = a.nrows().div_ceil(threads);
    std::thread::scope(|scope| {
        for (a, mut c) in a.axis_chunks_iter(Axis(0), rows).zip(c.axis_chunks_iter_mut(Axis(0), rows)) {
            scope.spawn(move || general_mat_mul(1.0, &a, &b, 0.0, &mut c));
        }
    });
}

/// GFLOP/s of `n^3` f32 matrix products, one per repetition.
pub fn gemm_gflops(n: usize, threads: usize, repetitions: usize) -> Vec<f64> {
    let a = Array2::from_shape_fn((n, n), |(i, j)| ((i * 7 + j * 3) % 11) as f32 * 0.1 - 0.5);
    let b = a.t().to_owned();
    let mut c = Array2::zeros((n, n));
    gemm(a.view(), b.view(), c.view_mut(), threads);
    (0..repetitions).map(|_| 2.0 * (n as f64).powi(3) / seconds(|| gemm(a.view(), b.view(), c.view_mut(), threads)) / 1e9).collect()
}

/// Milliseconds per step spent in each phase of the step pipeline (replayed
/// with the crates' public functions on the network of a run trained to
/// `fraction` of its steps), and the fraction of active units there.
pub struct Profile {
    /// `(phase, ms per step)`.
    pub phases: Vec<(&'static str, f64)>,
    /// Fraction of nonzero representations.
    pub active_fraction: f64,
}

/// Profiles `config` after training it for `fraction` of its steps (1 thread).
pub fn profile(config: TrainConfig, fraction: f64, repetitions: usize) -> Profile {
    let mut trainer = Trainer::new(config.clone()).expect("valid bench config");
    let warm = (config.steps as f64 * fraction) as usize;
    for _ in 0..warm {
        trainer.train_step().expect("bench runs do not diverge");
    }
    let mut net = trainer.net().clone();
    let data = *config.data.model().expect("bench configs use the data model");
    let model = SparseCodingModel::from_seed(data, config.seed).expect("valid");
    let Some(&ObjectiveKind::Contrastive { loss }) = config.objective.builtin() else { unreachable!("bench configs are contrastive") };
    let augmentation = *config.augmentation.builtin().expect("bench configs use a built-in augmentation");
    let (batch, d1, width) = (config.batch_size, data.d1, config.network.width);
    let mut samples = Batch::zeros(batch, data.d, d1);
    let (mut first, mut second) = (Array2::zeros((batch, d1)), Array2::zeros((batch, d1)));
    let mut workspaces = [NetWorkspace::with_shape(batch, width), NetWorkspace::with_shape(batch, width)];
    let mut loss_workspace = LossWorkspace::new();
    let (mut grad_u, mut grad_v) = (Array2::zeros((batch, width)), Array2::zeros((batch, width)));
    let mut grads = NetGradients::for_net(&net);
    let (mut data_rng, mut augment_rng) = (rng::stream(1, "data"), rng::stream(1, "augment"));
    let mut totals = [0.0f64; 6];
    for _ in 0..repetitions {
        let timings = [
            seconds(|| config.network.bias.apply_before_step(&mut net, warm, config.steps).expect("valid")),
            seconds(|| model.sample_into(&mut samples, &mut data_rng)),
            seconds(|| augmentation.apply_x_into(samples.x(), &mut first, &mut second, &mut augment_rng).expect("valid")),
            seconds(|| {
                net.forward_into(first.view(), &mut workspaces[0]).expect("shapes");
                net.forward_into(second.view(), &mut workspaces[1]).expect("shapes");
            }),
            seconds(|| {
                loss.loss_and_grad_with(workspaces[0].output(), workspaces[1].output(), &mut loss_workspace, &mut grad_u, &mut grad_v)
                    .expect("valid");
            }),
            seconds(|| {
                let [u, v] = &mut workspaces;
                net.backward(first.view(), grad_u.view(), u, &mut grads).expect("shapes");
                net.backward_accumulate(second.view(), grad_v.view(), v, &mut grads).expect("shapes");
            }),
        ];
        for (total, time) in totals.iter_mut().zip(timings) {
            *total += time;
        }
    }
    let names = ["thresholds", "sample", "augment", "forward", "loss", "backward"];
    let output = workspaces[0].output();
    let active = output.iter().filter(|h| **h != 0.0).count() as f64 / output.len() as f64;
    Profile {
        phases: names.iter().zip(totals).map(|(&name, total)| (name, total / repetitions as f64 * 1e3)).collect(),
        active_fraction: active,
    }
}

/// Steps of the loss check's runs (the default setting cut to this many steps).
pub const LOSS_CHECK_STEPS: usize = 300;
/// The loss check averages the training loss over this many last steps.
pub const LOSS_CHECK_WINDOW: usize = 20;

/// The loss check's seed-free statistic for one seed: the mean training loss
/// over steps 281-300 of a 300-step run of the default setting (1 thread),
/// i.e. the `loss` of the last line of `cargo xtask run --config
/// examples/configs/default.toml --set steps=300 --set log_every=20`.
/// `benches/reference/torch_step.py` computes the same for PyTorch.
pub fn loss_statistic(seed: u64) -> f64 {
    let mut config = default_config();
    config.steps = LOSS_CHECK_STEPS;
    config.seed = seed;
    let mut trainer = Trainer::new(config).expect("valid bench config");
    let losses: Vec<f64> = (0..LOSS_CHECK_STEPS).map(|_| trainer.train_step().expect("bench runs do not diverge")).collect();
    losses[LOSS_CHECK_STEPS - LOSS_CHECK_WINDOW..].iter().sum::<f64>() / LOSS_CHECK_WINDOW as f64
}
