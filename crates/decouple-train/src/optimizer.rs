//! Mini-batch SGD over a list of named parameter tensors (as flat slices):
//! `g <- g + lambda w` (weight decay), `g <- g min(1, c / ||g||)` (global-norm
//! clipping), `v <- mu v + g`, `w <- w - s eta(t) v` with a per-tensor
//! learning-rate multiplier `s` (1 for the network's weights). The momentum
//! buffer of a tensor is kept under its name, and every length is checked.

use crate::{OptimizerConfig, TrainError};

/// One named parameter tensor and its gradient, flattened, whether weight
/// decay applies, and its learning-rate multiplier.
pub struct ParameterSlot<'a> {
    /// A name that is stable across steps and unique in the run (`net.weights`, `predictor`, ...).
    pub name: &'a str,
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
    /// The tensor `name`, trained at the base learning rate, without weight decay.
    #[must_use]
    pub fn new(name: &'a str, value: &'a mut [f32], grad: &'a [f32]) -> Self {
        Self { name, value, grad, decay: false, lr_multiplier: 1.0 }
    }
}

/// The momentum buffers of one run, by tensor name.
#[derive(Debug, Clone, Default)]
pub struct Sgd {
    velocity: Vec<(String, Vec<f32>)>,
}

impl Sgd {
    /// Applies one update with learning rate `learning_rate` to every slot
    /// and returns the global gradient norm before clipping.
    ///
    /// # Errors
    /// [`TrainError::Parameter`] (and nothing is updated) when a slot's
    /// gradient and value differ in length, two slots share a name, or a
    /// tensor changed its length since an earlier step.
    pub fn step(&mut self, config: &OptimizerConfig, learning_rate: f64, slots: &mut [ParameterSlot<'_>]) -> Result<f64, TrainError> {
        let (lambda, mu, eta) = (config.weight_decay as f32, config.momentum as f32, learning_rate as f32);
        let mut buffers = [usize::MAX; 8];
        let mut more = Vec::new();
        for (k, slot) in slots.iter().enumerate() {
            let fail = |reason: String| Err(TrainError::Parameter { name: slot.name.to_string(), reason });
            if slot.grad.len() != slot.value.len() {
                return fail(format!("its gradient has {} values for {} parameters", slot.grad.len(), slot.value.len()));
            }
            if slots[..k].iter().any(|other| other.name == slot.name) {
                return fail("two parameter tensors have this name".into());
            }
            let length = if mu > 0.0 { slot.value.len() } else { 0 };
            let index = match self.velocity.iter().position(|(name, _)| name == slot.name) {
                Some(index) if self.velocity[index].1.len() != length => {
                    return fail(format!("it had {} values at an earlier step and has {} now", self.velocity[index].1.len(), length));
                }
                Some(index) => index,
                None => {
                    self.velocity.push((slot.name.to_string(), vec![0.0; length]));
                    self.velocity.len() - 1
                }
            };
            match buffers.get_mut(k) {
                Some(buffer) => *buffer = index,
                None => more.push(index),
            }
        }
        let norm = slots.iter().map(|slot| squared_norm(slot.value, slot.grad, if slot.decay { lambda } else { 0.0 })).sum::<f64>().sqrt();
        let clip_scale = match config.clip_norm {
            Some(clip) if norm > clip => (clip / norm) as f32,
            _ => 1.0,
        };
        for (k, slot) in slots.iter_mut().enumerate() {
            let index = buffers.get(k).copied().unwrap_or_else(|| more[k - buffers.len()]);
            let velocity = &mut self.velocity[index].1;
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
        Ok(norm)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(momentum: f64) -> OptimizerConfig {
        let mut config = crate::TrainConfig::default().optimizer;
        config.momentum = momentum;
        config
    }

    #[test]
    fn momentum_follows_the_name_not_the_position() {
        let (mut a, mut b) = (vec![1.0f32; 3], vec![1.0f32; 2]);
        let (ga, gb) = (vec![1.0f32; 3], vec![2.0f32; 2]);
        let mut sgd = Sgd::default();
        sgd.step(&config(0.5), 0.1, &mut [ParameterSlot::new("a", &mut a, &ga), ParameterSlot::new("b", &mut b, &gb)]).unwrap();
        // The same tensors in the other order: each keeps its own velocity.
        sgd.step(&config(0.5), 0.1, &mut [ParameterSlot::new("b", &mut b, &gb), ParameterSlot::new("a", &mut a, &ga)]).unwrap();
        // a: v = 1, then 1.5: 1 - 0.1 - 0.15; b: v = 2, then 3: 1 - 0.2 - 0.3.
        assert!((a[0] - 0.75).abs() < 1e-6 && (b[0] - 0.5).abs() < 1e-6, "{a:?} {b:?}");
    }

    #[test]
    fn mismatched_lengths_and_names_are_typed_errors_that_update_nothing() {
        let (mut a, grad) = (vec![1.0f32; 3], vec![1.0f32; 2]);
        let mut sgd = Sgd::default();
        let error = sgd.step(&config(0.0), 0.1, &mut [ParameterSlot::new("head", &mut a, &grad)]).unwrap_err();
        assert_eq!(error.to_string(), "parameter tensor `head`: its gradient has 2 values for 3 parameters");
        assert_eq!(a, vec![1.0; 3]);
        let (mut b, mut c, g) = (vec![1.0f32; 2], vec![1.0f32; 2], vec![1.0f32; 2]);
        let error =
            sgd.step(&config(0.0), 0.1, &mut [ParameterSlot::new("x", &mut b, &g), ParameterSlot::new("x", &mut c, &g)]).unwrap_err();
        assert!(error.to_string().contains("two parameter tensors have this name"), "{error}");
        let (mut d, gd) = (vec![1.0f32; 2], vec![1.0f32; 2]);
        sgd.step(&config(0.9), 0.1, &mut [ParameterSlot::new("p", &mut d, &gd)]).unwrap();
        let (mut e, ge) = (vec![1.0f32; 4], vec![1.0f32; 4]);
        let error = sgd.step(&config(0.9), 0.1, &mut [ParameterSlot::new("p", &mut e, &ge)]).unwrap_err();
        assert!(error.to_string().contains("had 2 values at an earlier step and has 4 now"), "{error}");
    }
}
