//! Supervised binary logistic loss with a linear head (the supervised baseline).
//!
//! Features `H` (`B x m`), head `a` (`m`), bias `c`, labels `y_i in {-1, +1}`:
//! `z_i = <a, h_i> + c`, `L = (1/B) sum_i softplus(-y_i z_i)` with the stable
//! `softplus(t) = max(t, 0) + ln(1 + exp(-|t|))`. With
//! `r_i = dL/dz_i = -y_i sigmoid(-y_i z_i) / B`:
//! `dL/dH = r a^T`, `dL/da = H^T r`, `dL/dc = sum_i r_i`.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, NdFloat, Zip, linalg::general_mat_vec_mul};
use serde::{Deserialize, Serialize};

use crate::LossError;
use crate::similarity::{cast, to_f64};

/// Logistic loss `L = (1/B) sum_i ln(1 + exp(-y_i (<a, h_i> + c)))`, labels `y_i in {-1, +1}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogisticLoss;

/// Gradients of [`LogisticLoss`]: `dL/dH` (`B x m`), `dL/da` (`m`), `dL/dc`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticGradients<F> {
    /// `dL/dH`, `B x m`.
    pub features: Array2<F>,
    /// `dL/da`, `m`.
    pub weights: Array1<F>,
    /// `dL/dc`.
    pub bias: F,
    /// `r = dL/dz`, `B` (scratch).
    residuals: Array1<F>,
}

impl<F: NdFloat> LogisticGradients<F> {
    /// Zero gradients for a batch of `batch` feature vectors of dimension `dim`.
    #[must_use]
    pub fn zeros(batch: usize, dim: usize) -> Self {
        Self { features: Array2::zeros((batch, dim)), weights: Array1::zeros(dim), bias: F::zero(), residuals: Array1::zeros(batch) }
    }

    /// `dL/dz_i`, the gradient with respect to each logit `z_i = <a, h_i> + c`.
    #[must_use]
    pub fn logit_gradients(&self) -> ArrayView1<'_, F> {
        self.residuals.view()
    }
}

/// `softplus(t) = ln(1 + exp(t))`, stable for large `|t|`.
fn softplus<F: NdFloat>(t: F) -> F {
    t.max(F::zero()) + (-t.abs()).exp().ln_1p()
}

/// `sigmoid(t) = 1 / (1 + exp(-t))`, stable for large `|t|`.
fn sigmoid<F: NdFloat>(t: F) -> F {
    if t >= F::zero() {
        F::one() / (F::one() + (-t).exp())
    } else {
        let e = t.exp();
        e / (F::one() + e)
    }
}

fn check_inputs<F: NdFloat>(features: ArrayView2<'_, F>, weights: ArrayView1<'_, F>, labels: ArrayView1<'_, F>) -> Result<(), LossError> {
    let (batch, dim) = features.dim();
    if batch == 0 {
        return Err(LossError::shape("features", "[B >= 1, m]", features.shape()));
    }
    if weights.len() != dim {
        return Err(LossError::shape("weights", format!("[m = {dim}] (columns of features)"), weights.shape()));
    }
    if labels.len() != batch {
        return Err(LossError::shape("labels", format!("[B = {batch}] (rows of features)"), labels.shape()));
    }
    if let Some(index) = labels.iter().position(|&y| y != F::one() && y != -F::one()) {
        let value = to_f64(labels[index]);
        return Err(LossError::InvalidEntry { what: "labels", index, value, allowed: "-1 or +1" });
    }
    Ok(())
}

impl LogisticLoss {
    /// `L(H, a, c; y)`.
    ///
    /// # Errors
    /// `B = 0`, `a` not of length `m`, `y` not of length `B`, a label other than `+/-1`.
    pub fn value<F: NdFloat>(
        &self,
        features: ArrayView2<'_, F>,
        weights: ArrayView1<'_, F>,
        bias: F,
        labels: ArrayView1<'_, F>,
    ) -> Result<F, LossError> {
        check_inputs(features, weights, labels)?;
        let mut sum = F::zero();
        for (h, &y) in features.outer_iter().zip(labels) {
            sum += softplus(-y * (h.dot(&weights) + bias));
        }
        Ok(sum / cast(features.nrows() as f64))
    }

    /// `L(H, a, c; y)`, overwriting `grads` (resized if `B` or `m` changed; no allocation otherwise).
    ///
    /// # Errors
    /// As [`LogisticLoss::value`]; `grads` are then untouched.
    pub fn loss_and_grad<F: NdFloat>(
        &self,
        features: ArrayView2<'_, F>,
        weights: ArrayView1<'_, F>,
        bias: F,
        labels: ArrayView1<'_, F>,
        grads: &mut LogisticGradients<F>,
    ) -> Result<F, LossError> {
        check_inputs(features, weights, labels)?;
        let (batch, dim) = features.dim();
        if grads.features.dim() != (batch, dim) || grads.residuals.len() != batch || grads.weights.len() != dim {
            *grads = LogisticGradients::zeros(batch, dim);
        }
        let inv_batch = F::one() / cast(batch as f64);
        general_mat_vec_mul(F::one(), &features, &weights, F::zero(), &mut grads.residuals);
        let mut sum = F::zero();
        Zip::from(&mut grads.residuals).and(&labels).for_each(|r, &y| {
            let margin = y * (*r + bias);
            sum += softplus(-margin);
            *r = -y * sigmoid(-margin) * inv_batch;
        });
        let residuals = grads.residuals.view().insert_axis(Axis(1));
        Zip::from(&mut grads.features).and_broadcast(&residuals).and_broadcast(&weights).for_each(|g, &r, &a| *g = r * a);
        general_mat_vec_mul(F::one(), &features.t(), &grads.residuals, F::zero(), &mut grads.weights);
        grads.bias = grads.residuals.sum();
        Ok(sum * inv_batch)
    }
}
