//! The losses split their passes into row blocks inside a rayon pool; the
//! values and gradients must not depend on that (bit for bit).

use decouple_loss::{ContrastiveLoss, InfoNce, LossWorkspace, NtXent, Similarity};
use ndarray::Array2;
use rand::Rng;
use rand_chacha::{ChaCha8Rng, rand_core::SeedableRng};

/// Sparse-ish representations, as after a soft threshold: most entries zero.
fn representations(batch: usize, width: usize, rng: &mut ChaCha8Rng) -> Array2<f32> {
    Array2::from_shape_simple_fn((batch, width), || if rng.random_bool(0.3) { rng.random_range(-1.0..1.0) } else { 0.0 })
}

fn loss_and_grads<L: ContrastiveLoss>(loss: &L, u: &Array2<f32>, v: &Array2<f32>) -> (f32, Array2<f32>, Array2<f32>) {
    let (mut grad_u, mut grad_v) = (Array2::zeros(u.dim()), Array2::zeros(v.dim()));
    let value = loss.loss_and_grad_with(u.view(), v.view(), &mut LossWorkspace::new(), &mut grad_u, &mut grad_v).unwrap();
    (value, grad_u, grad_v)
}

#[test]
fn losses_do_not_depend_on_threads() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    // Batch sizes below, at and across the 32-row blocks (odd ones split unevenly).
    for batch in [2, 31, 32, 100, 257] {
        let (u, v) = (representations(batch, 24, &mut rng), representations(batch, 24, &mut rng));
        for similarity in [Similarity::Dot, Similarity::Cosine] {
            let info_nce = InfoNce { similarity, temperature: 0.3 };
            let nt_xent = NtXent { similarity, temperature: 0.3 };
            assert_eq!(loss_and_grads(&info_nce, &u, &v), pool.install(|| loss_and_grads(&info_nce, &u, &v)), "InfoNce, B = {batch}");
            assert_eq!(loss_and_grads(&nt_xent, &u, &v), pool.install(|| loss_and_grads(&nt_xent, &u, &v)), "NtXent, B = {batch}");
        }
    }
}
