//! Mini-batch SGD over a list of parameter tensors (as flat slices):
//! `g <- g + lambda w` (weight decay), `g <- g min(1, c / ||g||)` (global-norm
//! clipping), `v <- mu v + g`, `w <- w - s eta(t) v` with a per-tensor
//! learning-rate multiplier `s` (1 for the network's weights).

use crate::OptimizerConfig;

/// One parameter tensor and its gradient, flattened, whether weight decay
/// applies, and its learning-rate multiplier.
pub struct ParameterSlot<'a> {
    /// The parameters, updated in place.
    pub value: &'a mut [f32],
    /// Their gradient (same length).
    pub grad: &'a [f32],
    /// Apply weight decay to this tensor.
    pub decay: bool,
    /// This tensor's learning rate as a multiple of the base rate `eta(t)`.
    pub lr_multiplier: f32,
}

impl<'a> ParameterSlot<'a> {
    /// A tensor trained at the base learning rate, without weight decay.
    #[must_use]
    pub fn new(value: &'a mut [f32], grad: &'a [f32]) -> Self {
        Self { value, grad, decay: false, lr_multiplier: 1.0 }
    }

    /// A tensor that does not train this run (a no-op in the update).
    #[must_use]
    pub fn empty() -> Self {
        Self::new(&mut [], &[])
    }
}

/// The momentum buffers of one run (one per parameter tensor).
#[derive(Debug, Clone, Default)]
pub struct Sgd {
    velocity: Vec<Vec<f32>>,
}

impl Sgd {
    /// Applies one update with learning rate `learning_rate` to every slot
    /// and returns the global gradient norm before clipping.
    pub fn step(&mut self, config: &OptimizerConfig, learning_rate: f64, slots: &mut [ParameterSlot<'_>]) -> f64 {
        let (lambda, mu, eta) = (config.weight_decay as f32, config.momentum as f32, learning_rate as f32);
        let norm = slots.iter().map(|slot| squared_norm(slot.value, slot.grad, if slot.decay { lambda } else { 0.0 })).sum::<f64>().sqrt();
        let clip_scale = match config.clip_norm {
            Some(clip) if norm > clip => (clip / norm) as f32,
            _ => 1.0,
        };
        if self.velocity.len() != slots.len() {
            self.velocity = slots.iter().map(|slot| vec![0.0; if mu > 0.0 { slot.value.len() } else { 0 }]).collect();
        }
        for (slot, velocity) in slots.iter_mut().zip(&mut self.velocity) {
            let decay = if slot.decay { lambda } else { 0.0 };
            // `eta * 1.0 == eta` exactly, so a multiplier of 1 changes no bit.
            let eta = eta * slot.lr_multiplier;
            if mu > 0.0 {
                for ((w, &g), v) in slot.value.iter_mut().zip(slot.grad).zip(velocity.iter_mut()) {
                    *v = mu * *v + clip_scale * (g + decay * *w);
                    *w -= eta * *v;
                }
            } else {
                for (w, &g) in slot.value.iter_mut().zip(slot.grad) {
                    *w -= eta * clip_scale * (g + decay * *w);
                }
            }
        }
        norm
    }
}

/// `sum_k (g_k + decay w_k)^2` in `f64`, over eight interleaved partial sums
/// (a fixed order, so the result is deterministic) that vectorise.
fn squared_norm(value: &[f32], grad: &[f32], decay: f32) -> f64 {
    const LANES: usize = 8;
    let mut partial = [0.0f64; LANES];
    let (value_blocks, grad_blocks) = (value.chunks_exact(LANES), grad.chunks_exact(LANES));
    let tail: f64 = value_blocks.remainder().iter().zip(grad_blocks.remainder()).map(|(&w, &g)| f64::from(g + decay * w).powi(2)).sum();
    for (w, g) in value_blocks.zip(grad_blocks) {
        for lane in 0..LANES {
            let e = f64::from(g[lane] + decay * w[lane]);
            partial[lane] += e * e;
        }
    }
    partial.iter().sum::<f64>() + tail
}
