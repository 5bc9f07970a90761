//! The non-contrastive head: batch normalisation of the representations, a
//! linear predictor, and the negative cosine against a stop-gradient target
//! (SimSiam, Chen & He 2021; BYOL, Grill et al. 2020), with hand-written
//! gradients generic over the float type.
//!
//! For `V >= 2` views with online representations `z_a` (`B x m` each):
//!
//! ```text
//! y_a = BN(z_a)                 (optional; per column over the batch:
//!                                y = gamma (z - mu) / sqrt(var + eps) + beta)
//! p_a = y_a P^T                 (predictor P, m x m)
//! t_b = target representation   (y_b itself, or a target network's, BN'd);
//!                                no gradient flows into it (stop-gradient)
//! D(p, t) = -(1/B) sum_i <p_i, t_i> / (max(||p_i||, eps) max(||t_i||, eps))
//! L = (1 / (V (V - 1))) sum_{a != b} D(p_a, t_b)
//! ```
//!
//! Gradients: `dD/dp_i = -(1/B) (t_hat_i - p_hat_i <p_hat_i, t_hat_i>) / max(||p_i||, eps)`
//! (the second term only when `||p_i|| > eps`); `dL/dy_a = dL/dp_a P`,
//! `dL/dP = sum_a (dL/dp_a)^T y_a`; through batch normalisation with
//! `x_hat = (z - mu) / s`, `s = sqrt(var + eps)`, `g' = gamma dL/dy`:
//! `dL/dz = (g' - mean(g') - x_hat mean(g' x_hat)) / s` per column,
//! `dL/dgamma = sum_i dL/dy_i x_hat_i`, `dL/dbeta = sum_i dL/dy_i`.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, NdFloat};

use crate::{COSINE_EPS, LossError};

fn cast<F: NdFloat>(value: f64) -> F {
    F::from(value).expect("representable")
}

/// Batch normalisation's parameters: `y = gamma x_hat + beta`, `eps > 0` in the variance.
#[derive(Debug, Clone, Copy)]
pub struct BatchNormParameters<'a, F> {
    /// `gamma` and `beta` (`m` each), or `None` for `y = x_hat`.
    pub affine: Option<(ArrayView1<'a, F>, ArrayView1<'a, F>)>,
    /// Added to the batch variance, `> 0`.
    pub eps: F,
}

/// What the backward pass of batch normalisation needs from the forward pass.
#[derive(Debug, Clone)]
pub struct BatchNormCache<F> {
    /// `x_hat = (z - mu) / s`, `B x m`.
    pub normalised: Array2<F>,
    /// `1 / s` per column.
    pub inverse_std: Array1<F>,
}

/// `y = gamma (z - mu) / sqrt(var + eps) + beta` with the batch mean and
/// (biased) variance of every column, and the cache of the backward pass.
#[must_use]
pub fn batch_norm_forward<F: NdFloat>(z: ArrayView2<'_, F>, parameters: &BatchNormParameters<'_, F>) -> (Array2<F>, BatchNormCache<F>) {
    let batch = cast::<F>(z.nrows() as f64);
    let mean = z.sum_axis(Axis(0)) / batch;
    let mut normalised = &z - &mean;
    let variance = normalised.mapv(|e| e * e).sum_axis(Axis(0)) / batch;
    let inverse_std = variance.mapv(|v| F::one() / (v + parameters.eps).sqrt());
    normalised *= &inverse_std;
    let output = match parameters.affine {
        Some((gamma, beta)) => &normalised * &gamma + beta,
        None => normalised.clone(),
    };
    (output, BatchNormCache { normalised, inverse_std })
}

/// `(dL/dgamma, dL/dbeta)` of an affine batch normalisation.
pub type AffineGradients<F> = (Array1<F>, Array1<F>);

/// `dL/dz` from `dL/dy`, and `(dL/dgamma, dL/dbeta)` when affine.
#[must_use]
pub fn batch_norm_backward<F: NdFloat>(
    grad_output: ArrayView2<'_, F>,
    cache: &BatchNormCache<F>,
    parameters: &BatchNormParameters<'_, F>,
) -> (Array2<F>, Option<AffineGradients<F>>) {
    let batch = cast::<F>(grad_output.nrows() as f64);
    let (scaled, affine_grads) = match parameters.affine {
        Some((gamma, _)) => {
            let grad_gamma = (&grad_output * &cache.normalised).sum_axis(Axis(0));
            let grad_beta = grad_output.sum_axis(Axis(0));
            (&grad_output * &gamma, Some((grad_gamma, grad_beta)))
        }
        None => (grad_output.to_owned(), None),
    };
    let mean_grad = scaled.sum_axis(Axis(0)) / batch;
    let mean_grad_x = (&scaled * &cache.normalised).sum_axis(Axis(0)) / batch;
    let grad_input = (&scaled - &mean_grad - &(&cache.normalised * &mean_grad_x)) * &cache.inverse_std;
    (grad_input, affine_grads)
}

/// `D(p, t) = -(1/B) sum_i cos(p_i, t_i)`; adds `scale dD/dp` into `grad_p` (`t` gets no gradient).
pub fn negative_cosine<F: NdFloat>(p: ArrayView2<'_, F>, t: ArrayView2<'_, F>, scale: F, grad_p: &mut Array2<F>) -> F {
    let eps = cast::<F>(COSINE_EPS);
    let batch = cast::<F>(p.nrows() as f64);
    let mut total = F::zero();
    for ((p_row, t_row), mut grad_row) in p.rows().into_iter().zip(t.rows()).zip(grad_p.rows_mut()) {
        let (p_norm, t_norm) = (p_row.dot(&p_row).sqrt(), t_row.dot(&t_row).sqrt());
        let (p_scale, t_scale) = (p_norm.max(eps), t_norm.max(eps));
        let cosine = p_row.dot(&t_row) / (p_scale * t_scale);
        total -= cosine;
        // d cos / dp = t / (|p| |t|) - cos p / |p|^2 (the second term only where the norm is not floored).
        let along_p = if p_norm > eps { cosine / (p_scale * p_scale) } else { F::zero() };
        let coefficient = -scale / batch;
        for ((g, &pv), &tv) in grad_row.iter_mut().zip(p_row).zip(t_row) {
            *g += coefficient * (tv / (p_scale * t_scale) - along_p * pv);
        }
    }
    total / batch
}

/// The parameters of the online head: the predictor `P` (`m x m`) and batch normalisation.
#[derive(Debug, Clone, Copy)]
pub struct HeadParameters<'a, F> {
    /// `P`, `m x m`: `p = y P^T`.
    pub predictor: ArrayView2<'a, F>,
    /// Batch normalisation of the representations before the predictor, if any.
    pub batch_norm: Option<BatchNormParameters<'a, F>>,
}

/// The gradients of [`HeadParameters`].
#[derive(Debug, Clone, PartialEq)]
pub struct HeadGradients<F> {
    /// `dL/dP`.
    pub predictor: Array2<F>,
    /// `dL/dgamma` (zeros without affine batch normalisation).
    pub gamma: Array1<F>,
    /// `dL/dbeta` (zeros without affine batch normalisation).
    pub beta: Array1<F>,
}

impl<F: NdFloat> HeadGradients<F> {
    /// Zero gradients for width `m`.
    #[must_use]
    pub fn zeros(m: usize) -> Self {
        Self { predictor: Array2::zeros((m, m)), gamma: Array1::zeros(m), beta: Array1::zeros(m) }
    }

    /// Zero gradients for width `m`, in place when already of that width.
    fn reset(&mut self, m: usize) {
        if self.gamma.len() == m {
            self.predictor.fill(F::zero());
            self.gamma.fill(F::zero());
            self.beta.fill(F::zero());
        } else {
            *self = Self::zeros(m);
        }
    }
}

/// The representations `y_a` the head passes on (batch-normalised if it normalises).
#[must_use]
pub fn head_outputs<F: NdFloat>(online: &[ArrayView2<'_, F>], batch_norm: Option<&BatchNormParameters<'_, F>>) -> Vec<Array2<F>> {
    online
        .iter()
        .map(|z| match batch_norm {
            Some(parameters) => batch_norm_forward(*z, parameters).0,
            None => z.to_owned(),
        })
        .collect()
}

/// `L` of the module docs and its gradients: `grads[a] = dL/dz_a` (overwritten,
/// resized), `head_grads` overwritten (resized if needed). `targets`: the target representations
/// `t_b` (stop-gradient), or `None` for `t_b = y_b` (SimSiam: the online
/// representations themselves, without gradient through them).
///
/// # Errors
/// Fewer than 2 views; views, targets or `P` of inconsistent shapes; `B < 2`.
pub fn predictor_loss<F: NdFloat>(
    online: &[ArrayView2<'_, F>],
    targets: Option<&[ArrayView2<'_, F>]>,
    head: &HeadParameters<'_, F>,
    grads: &mut [Array2<F>],
    head_grads: &mut HeadGradients<F>,
) -> Result<F, LossError> {
    check_inputs(online, targets, head, grads.len())?;
    let (n_views, m) = (online.len(), online[0].ncols());
    let forward: Vec<(Array2<F>, Option<BatchNormCache<F>>)> = online
        .iter()
        .map(|z| match &head.batch_norm {
            Some(parameters) => {
                let (y, cache) = batch_norm_forward(*z, parameters);
                (y, Some(cache))
            }
            None => (z.to_owned(), None),
        })
        .collect();
    let predictions: Vec<Array2<F>> = forward.iter().map(|(y, _)| y.dot(&head.predictor.t())).collect();
    let weight = F::one() / cast::<F>((n_views * (n_views - 1)) as f64);
    let mut total = F::zero();
    head_grads.reset(m);
    for a in 0..n_views {
        let mut grad_p = Array2::zeros(predictions[a].dim());
        for b in (0..n_views).filter(|&b| b != a) {
            let target = match targets {
                Some(targets) => targets[b].view(),
                None => forward[b].0.view(),
            };
            total += weight * negative_cosine(predictions[a].view(), target, weight, &mut grad_p);
        }
        let (y, cache) = &forward[a];
        head_grads.predictor += &grad_p.t().dot(y);
        let grad_y = grad_p.dot(&head.predictor);
        grads[a] = match (&head.batch_norm, cache) {
            (Some(parameters), Some(cache)) => {
                let (grad_z, affine) = batch_norm_backward(grad_y.view(), cache, parameters);
                if let Some((grad_gamma, grad_beta)) = affine {
                    head_grads.gamma += &grad_gamma;
                    head_grads.beta += &grad_beta;
                }
                grad_z
            }
            _ => grad_y,
        };
    }
    Ok(total)
}

/// `L` alone (see [`predictor_loss`]).
///
/// # Errors
/// As [`predictor_loss`].
pub fn predictor_loss_value<F: NdFloat>(
    online: &[ArrayView2<'_, F>],
    targets: Option<&[ArrayView2<'_, F>]>,
    head: &HeadParameters<'_, F>,
) -> Result<F, LossError> {
    let mut grads: Vec<Array2<F>> = online.iter().map(|_| Array2::zeros((0, 0))).collect();
    let mut head_grads = HeadGradients::zeros(online.first().map_or(0, |z| z.ncols()));
    predictor_loss(online, targets, head, &mut grads, &mut head_grads)
}

fn check_inputs<F: NdFloat>(
    online: &[ArrayView2<'_, F>],
    targets: Option<&[ArrayView2<'_, F>]>,
    head: &HeadParameters<'_, F>,
    n_grads: usize,
) -> Result<(), LossError> {
    if online.len() < 2 || n_grads != online.len() {
        return Err(LossError::shape("views", format!("[>= 2 views, as many gradient buffers], got {n_grads} buffers"), &[online.len()]));
    }
    let shape = online[0].dim();
    if shape.1 == 0 {
        return Err(LossError::shape("views[0]", "[B >= 2, m >= 1]", online[0].shape()));
    }
    if shape.0 < 2 {
        return Err(LossError::BatchTooSmall { batch: shape.0 });
    }
    let shapes = online.iter().map(|view| view.shape()).chain(targets.unwrap_or(&[]).iter().map(|view| view.shape()));
    for found in shapes {
        if found != online[0].shape() {
            return Err(LossError::shape("views", format!("{:?} (the shape of views[0])", online[0].shape()), found));
        }
    }
    if let Some(targets) = targets {
        if targets.len() != online.len() {
            return Err(LossError::shape("targets", format!("[{}] (one per view)", online.len()), &[targets.len()]));
        }
    }
    if head.predictor.dim() != (shape.1, shape.1) {
        return Err(LossError::shape("predictor", format!("[{m}, {m}]", m = shape.1), head.predictor.shape()));
    }
    if let Some(batch_norm) = &head.batch_norm {
        if batch_norm.eps.is_nan() || batch_norm.eps <= F::zero() {
            return Err(LossError::OutOfRange {
                field: "batch_norm.eps",
                value: batch_norm.eps.to_f64().unwrap_or(f64::NAN),
                allowed: "> 0",
            });
        }
        if let Some((gamma, beta)) = batch_norm.affine {
            if gamma.len() != shape.1 || beta.len() != shape.1 {
                return Err(LossError::shape("batch_norm.gamma / beta", format!("[{}]", shape.1), gamma.shape()));
            }
        }
    }
    Ok(())
}
