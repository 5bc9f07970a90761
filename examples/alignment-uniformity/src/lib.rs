//! The alignment + uniformity loss of Wang & Isola (ICML 2020, "Understanding
//! contrastive representation learning through alignment and uniformity on
//! the hypersphere"), written outside decouple as a user would: a type that
//! implements [`decouple_loss::ViewLoss`], generic over the float type so
//! that its gradient is checked against finite differences in `f64`
//! (`tests/gradient_check.rs`), while training runs in `f32`.
//!
//! With `h = z / max(||z||, eps)` the normalised representations of the two
//! views (`B` rows each):
//!
//! ```text
//! L_align = (1/B) sum_i ||h1_i - h2_i||^2
//! L_unif(h) = log( (1 / (B (B - 1))) sum_{i != j} exp(-t ||h_i - h_j||^2) )
//! L = L_align + lambda (L_unif(h1) + L_unif(h2)) / 2
//! ```
//!
//! Gradients: `dL_align/dh1_i = (2/B) (h1_i - h2_i)` (and the opposite for
//! `h2_i`); with `K_ij = exp(-t ||h_i - h_j||^2)` and `S = sum_{i != j} K_ij`,
//! `dL_unif/dh_i = -(4 t / S) sum_{j != i} K_ij (h_i - h_j)`; through the
//! normalisation, `dL/dz = (g - h <g, h>) / max(||z||, eps)` with `g = dL/dh`
//! (the second term only when `||z|| > eps`).

use decouple_loss::{LossError, LossWorkspace, ViewLoss};
use ndarray::{Array1, Array2, ArrayView2, Axis, NdFloat};

/// Below this norm a representation is not normalised (`h = z / eps`).
pub const EPS: f64 = 1e-8;

/// `L = L_align + lambda (L_unif(h1) + L_unif(h2)) / 2` (alignment exponent 2).
///
/// Its serde form is its config table: `objective = { kind =
/// "AlignmentUniformity", t = 2.0, lambda = 1.0 }` once registered
/// ([`registry`]); a missing field takes its default, an unknown one is an error.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlignmentUniformity {
    /// Uniformity temperature `t > 0` (the paper's default: 2).
    pub t: f64,
    /// Weight `lambda >= 0` of the uniformity term (the paper's default: 1).
    pub lambda: f64,
}

impl Default for AlignmentUniformity {
    fn default() -> Self {
        Self { t: 2.0, lambda: 1.0 }
    }
}

/// The registry of the built-in parts plus `AlignmentUniformity`, under
/// that kind: what the example's binary hands the harness's command line.
///
/// # Errors
/// Never in practice (the name is not a built-in's and is registered once).
pub fn registry() -> Result<decouple_train::Registry, decouple_train::TrainError> {
    let mut registry = decouple_train::Registry::default();
    registry.register_objective::<AlignmentUniformity>("AlignmentUniformity")?;
    Ok(registry)
}

fn float<F: NdFloat>(value: f64) -> F {
    F::from(value).expect("representable")
}

/// `h = z / max(||z||, eps)` row by row, and the row norms.
fn normalise<F: NdFloat>(z: ArrayView2<'_, F>) -> (Array2<F>, Array1<F>) {
    let norms = z.map_axis(Axis(1), |row| row.dot(&row).sqrt());
    let mut h = z.to_owned();
    for (mut row, &norm) in h.rows_mut().into_iter().zip(&norms) {
        let scale = norm.max(float(EPS));
        row.mapv_inplace(|value| value / scale);
    }
    (h, norms)
}

/// `L_unif(h)`, and `dL_unif/dh` added (times `weight`) into `grad`.
///
/// With the Gram matrix `G = h h^T`, `||h_i - h_j||^2 = G_ii + G_jj - 2 G_ij`,
/// and `sum_{j != i} K_ij (h_i - h_j) = h_i sum_j K_ij - (K h)_i` (`K_ii = 0`).
fn uniformity<F: NdFloat>(h: &Array2<F>, t: F, weight: F, grad: &mut Array2<F>) -> F {
    let batch = h.nrows();
    let gram = h.dot(&h.t());
    let mut kernel = Array2::<F>::zeros((batch, batch));
    for i in 0..batch {
        for j in 0..batch {
            if i != j {
                let distance = (gram[[i, i]] + gram[[j, j]] - float::<F>(2.0) * gram[[i, j]]).max(F::zero());
                kernel[[i, j]] = (-t * distance).exp();
            }
        }
    }
    let total = kernel.sum();
    let scale = weight * float::<F>(-4.0) * t / total;
    let row_sums = kernel.sum_axis(Axis(1));
    let kernel_h = kernel.dot(h);
    for (((mut grad, h), kernel_h), &row_sum) in grad.rows_mut().into_iter().zip(h.rows()).zip(kernel_h.rows()).zip(&row_sums) {
        grad.zip_mut_with(&h, |g, &h| *g += scale * h * row_sum);
        grad.zip_mut_with(&kernel_h, |g, &kh| *g -= scale * kh);
    }
    (total / float((batch * (batch - 1)) as f64)).ln()
}

/// `dL/dz = (g - h <g, h>) / max(||z||, eps)`, in place of `g`.
fn through_normalisation<F: NdFloat>(grad: &mut Array2<F>, h: &Array2<F>, norms: &Array1<F>) {
    for ((mut g, h), &norm) in grad.rows_mut().into_iter().zip(h.rows()).zip(norms) {
        let eps = float::<F>(EPS);
        let projection = if norm > eps { g.dot(&h) } else { F::zero() };
        let scale = norm.max(eps);
        g.zip_mut_with(&h, |g, &h| *g = (*g - h * projection) / scale);
    }
}

impl ViewLoss for AlignmentUniformity {
    fn check(&self) -> Result<(), LossError> {
        if !(self.t.is_finite() && self.t > 0.0) {
            return Err(LossError::OutOfRange { field: "t", value: self.t, allowed: "finite and > 0" });
        }
        if !(self.lambda.is_finite() && self.lambda >= 0.0) {
            return Err(LossError::OutOfRange { field: "lambda", value: self.lambda, allowed: "finite and >= 0" });
        }
        Ok(())
    }

    fn value_and_gradients_of_views<F: NdFloat>(
        &self,
        views: &[ArrayView2<'_, F>],
        _workspace: &mut LossWorkspace<F>,
        gradients: &mut [Array2<F>],
    ) -> Result<F, LossError> {
        ViewLoss::check(self)?;
        let n_gradients = gradients.len();
        let ([u, v], [grad_u, grad_v]) = (views, gradients) else {
            let found = vec![views.len(), n_gradients];
            return Err(LossError::ShapeMismatch { what: "views and gradients", expected: "[2, 2]".into(), found });
        };
        if v.dim() != u.dim() {
            return Err(LossError::ShapeMismatch {
                what: "v",
                expected: format!("{:?} (the shape of u)", u.shape()),
                found: v.shape().to_vec(),
            });
        }
        if u.nrows() < 2 {
            return Err(LossError::BatchTooSmall { batch: u.nrows() });
        }
        let batch = float::<F>(u.nrows() as f64);
        let ((h1, norms1), (h2, norms2)) = (normalise(*u), normalise(*v));
        let difference = &h1 - &h2;
        let alignment = difference.mapv(|e| e * e).sum() / batch;
        *grad_u = difference.mapv(|e| e * float::<F>(2.0) / batch);
        *grad_v = grad_u.mapv(|g| -g);
        let (t, half_lambda) = (float::<F>(self.t), float::<F>(self.lambda / 2.0));
        let uniform = uniformity(&h1, t, half_lambda, grad_u) + uniformity(&h2, t, half_lambda, grad_v);
        through_normalisation(grad_u, &h1, &norms1);
        through_normalisation(grad_v, &h2, &norms2);
        Ok(alignment + half_lambda * uniform)
    }
}

#[cfg(test)]
mod tests {
    use decouple_net::SymReluNet;
    use decouple_train::{Objective, ObjectiveInput};
    use ndarray::Array2;

    use super::AlignmentUniformity;

    /// The objective on hand-made representations, as the trainer would call
    /// it (`ObjectiveInput::new`): two identical views of points spread on
    /// the circle have no alignment term, and the gradients are per view, of
    /// the representations' shape.
    #[test]
    fn identical_views_cost_only_their_uniformity() {
        let net = SymReluNet::<f32>::init(2, 3, 0.1, &mut decouple_data::rng::stream(0, "init")).unwrap();
        let inputs = vec![Array2::<f32>::zeros((4, 3)), Array2::zeros((4, 3))];
        let circle = Array2::from_shape_fn((4, 2), |(i, k)| {
            let angle = std::f32::consts::FRAC_PI_2 * i as f32;
            if k == 0 { angle.cos() } else { angle.sin() }
        });
        let representations = vec![circle.clone(), circle];
        let objective = AlignmentUniformity { t: 2.0, lambda: 0.0 };
        let config = decouple_train::TrainConfig::default();
        let mut state = objective.start(&net, &config).unwrap();
        let input = ObjectiveInput::new(&inputs, &representations, &net).at_step(0, 1);
        let mut gradients = vec![Array2::<f32>::zeros((4, 2)), Array2::zeros((4, 2))];
        let value = objective.value_and_gradients(&mut state, &input, &mut gradients).unwrap();
        assert!(value.abs() < 1e-6, "no alignment term and lambda = 0: {value}");
        assert!(gradients.iter().all(|g| g.dim() == (4, 2) && g.iter().all(|v| v.abs() < 1e-6)), "{gradients:?}");
        let with_uniformity = AlignmentUniformity { t: 2.0, lambda: 1.0 };
        let mut state = with_uniformity.start(&net, &config).unwrap();
        let value = with_uniformity.value_and_gradients(&mut state, &input, &mut gradients).unwrap();
        // Four points at right angles: ||h_i - h_j||^2 is 2 (two neighbours) or 4 (one opposite); t = 2.
        let expected = ((2.0 * (-4.0f64).exp() + (-8.0f64).exp()) / 3.0).ln();
        assert!((value - expected).abs() < 1e-4, "{value} vs {expected}");
    }

    #[test]
    fn a_config_table_with_an_unknown_field_is_refused() {
        let registry = super::registry().unwrap();
        let config: decouple_train::ObjectiveConfig = serde_json::from_str(r#"{"kind": "AlignmentUniformity", "lamda": 2.0}"#).unwrap();
        let error = registry.objective(&config).unwrap_err().to_string();
        assert!(error.contains("AlignmentUniformity") && error.contains("lamda"), "{error}");
    }
}
