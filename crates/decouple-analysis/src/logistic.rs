//! Deterministic Newton solver for L2-regularised logistic regression, used by
//! [`crate::fit_logistic_probe`].
//!
//! With `X` (n x p, already standardised), labels `y_b` in {-1, +1}, weights
//! `w` and an unpenalised intercept `c`, scores `s_b = <x_b, w> + c` and
//! margins `u_b = y_b s_b`, it minimises
//! `L(w, c) = (1/n) sum_b log(1 + exp(-u_b)) + (lambda/2) ||w||^2`.
//! Gradient: `(1/n) X_1^T r + lambda [w; 0]` with `r_b = -y_b sigma(-u_b)`;
//! Hessian: `(1/n) X_1^T D X_1 + lambda diag(1, ..., 1, 0)` with
//! `D_bb = sigma(u_b) sigma(-u_b)`, where `X_1 = [X | 1]`. Each Newton step
//! solves the Hessian system by Cholesky (adding a small multiple of the
//! identity only if the factorisation fails, e.g. `lambda = 0` with p >= n) and
//! is followed by an Armijo backtracking line search, so the objective
//! decreases monotonically. Convergence: `max |gradient| <= tolerance`.

use ndarray::{Array1, Array2, Axis, concatenate};

use crate::linalg::{Cholesky, head};

/// Solver settings (validated by [`crate::ProbeConfig::check`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewtonSettings {
    pub(crate) lambda: f64,
    pub(crate) max_iterations: usize,
    pub(crate) gradient_tolerance: f64,
}

/// A fitted logistic model and how the solver ended.
#[derive(Debug, Clone)]
pub(crate) struct LogisticFit {
    /// Weights `w` followed by the intercept `c` (length p + 1).
    pub(crate) coefficients: Array1<f64>,
    pub(crate) iterations: usize,
    pub(crate) converged: bool,
    pub(crate) gradient_max_abs: f64,
    pub(crate) loss: f64,
}

impl LogisticFit {
    /// Scores `s_b = <x_b, w> + c` of the rows of `x` (n x p).
    pub(crate) fn scores(&self, x: &Array2<f64>) -> Array1<f64> {
        let p = x.ncols();
        x.dot(&head(self.coefficients.view(), p)) + self.coefficients[p]
    }
}

/// `log(1 + exp(-u))`, stable for large `|u|`.
pub(crate) fn softplus_neg(u: f64) -> f64 {
    if u > 0.0 { (-u).exp().ln_1p() } else { -u + u.exp().ln_1p() }
}

/// `sigma(-u) = 1 / (1 + exp(u))`, stable for large `|u|`.
fn sigmoid_neg(u: f64) -> f64 {
    if u > 0.0 {
        let e = (-u).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + u.exp())
    }
}

/// Objective value at the coefficients `theta` given the margins `u`.
fn objective(margins: &Array1<f64>, theta: &Array1<f64>, lambda: f64) -> f64 {
    let n = margins.len() as f64;
    let p = theta.len() - 1;
    let w = head(theta.view(), p);
    margins.iter().map(|&u| softplus_neg(u)).sum::<f64>() / n + 0.5 * lambda * w.dot(&w)
}

/// Fits the model on standardised features `x` (n x p) and labels `y` (+-1), from zero.
pub(crate) fn fit_logistic(x: &Array2<f64>, y: &Array1<f64>, settings: NewtonSettings) -> LogisticFit {
    fit_logistic_from(x, y, settings, None)
}

/// [`fit_logistic`] from the coefficients `start` (length p + 1) when given
/// (a warm start along a path of `lambda`s), else from zero.
///
/// With fewer samples than features (`n < p`) and `lambda > 0`, the optimum
/// has `w = -X^T r / (n lambda)` in the row space of `X`, so the problem is
/// solved exactly in an orthonormal basis `Q` (p x r) of that row space, with
/// features `X Q` and weights `beta`, `w = Q beta`: the same objective (since
/// `||Q beta|| = ||beta||`) in `r <= n` dimensions instead of `p`.
pub(crate) fn fit_logistic_from(x: &Array2<f64>, y: &Array1<f64>, settings: NewtonSettings, start: Option<&Array1<f64>>) -> LogisticFit {
    let (n, p) = x.dim();
    if n < p && settings.lambda > 0.0 {
        let basis = row_space_basis(x);
        let r = basis.ncols();
        let reduced_start = start.filter(|start| start.len() == p + 1).map(|start| {
            let mut reduced = Array1::zeros(r + 1);
            reduced.slice_axis_mut(Axis(0), ndarray::Slice::from(..r)).assign(&basis.t().dot(&head(start.view(), p)));
            reduced[r] = start[p];
            reduced
        });
        let fit = fit_in_full(&x.dot(&basis), y, settings, reduced_start.as_ref());
        let mut coefficients = Array1::zeros(p + 1);
        coefficients.slice_axis_mut(Axis(0), ndarray::Slice::from(..p)).assign(&basis.dot(&head(fit.coefficients.view(), r)));
        coefficients[p] = fit.coefficients[r];
        return LogisticFit { coefficients, ..fit };
    }
    fit_in_full(x, y, settings, start)
}

/// An orthonormal basis (p x r, `r <= n`) of the span of the rows of `x`, by
/// Gram-Schmidt run twice per row; rows already in the span of the earlier
/// ones (relative residual below `1e-10`) add no column.
fn row_space_basis(x: &Array2<f64>) -> Array2<f64> {
    let mut columns: Vec<Array1<f64>> = Vec::new();
    for row in x.rows() {
        let norm = row.dot(&row).sqrt();
        let mut v = row.to_owned();
        for _ in 0..2 {
            for q in &columns {
                let coefficient = q.dot(&v);
                v.scaled_add(-coefficient, q);
            }
        }
        let residual = v.dot(&v).sqrt();
        if residual > 1e-10 * norm && residual > 0.0 {
            columns.push(v / residual);
        }
    }
    let mut basis = Array2::zeros((x.ncols(), columns.len()));
    for (k, column) in columns.iter().enumerate() {
        basis.column_mut(k).assign(column);
    }
    basis
}

/// Newton's method on all `p` features (see the module documentation).
fn fit_in_full(x: &Array2<f64>, y: &Array1<f64>, settings: NewtonSettings, start: Option<&Array1<f64>>) -> LogisticFit {
    let (n, p) = x.dim();
    let nf = n as f64;
    let lambda = settings.lambda;
    let x1 = concatenate(Axis(1), &[x.view(), Array2::ones((n, 1)).view()]).expect("same number of rows");
    let mut theta = start.filter(|start| start.len() == p + 1).cloned().unwrap_or_else(|| Array1::<f64>::zeros(p + 1));
    let margins_of = |theta: &Array1<f64>| x1.dot(theta) * y;
    let mut margins = margins_of(&theta);
    let mut loss = objective(&margins, &theta, lambda);
    let mut iterations = 0;
    loop {
        // Gradient.
        let residual = Array1::from_iter(margins.iter().zip(y.iter()).map(|(&u, &yb)| -yb * sigmoid_neg(u)));
        let mut gradient = x1.t().dot(&residual) / nf;
        for k in 0..p {
            gradient[k] += lambda * theta[k];
        }
        let gradient_max_abs = gradient.iter().fold(0.0_f64, |a, g| a.max(g.abs()));
        if gradient_max_abs <= settings.gradient_tolerance || iterations >= settings.max_iterations {
            return LogisticFit {
                coefficients: theta,
                iterations,
                converged: gradient_max_abs <= settings.gradient_tolerance,
                gradient_max_abs,
                loss,
            };
        }
        iterations += 1;

        // Hessian (1/n) X_1^T D X_1 + lambda diag(1, .., 1, 0), via a scaled copy of X_1.
        let mut scaled = x1.clone();
        for (mut row, &u) in scaled.rows_mut().into_iter().zip(margins.iter()) {
            let q = sigmoid_neg(u);
            row *= (q * (1.0 - q)).sqrt();
        }
        let mut hessian = scaled.t().dot(&scaled) / nf;
        for k in 0..p {
            hessian[[k, k]] += lambda;
        }
        let direction = -newton_solve(hessian, &gradient);

        // Armijo backtracking on the objective.
        let decrement = -gradient.dot(&direction);
        if !(decrement > 0.0 && decrement.is_finite()) {
            // No descent is left at machine precision: report the current point.
            return LogisticFit { coefficients: theta, iterations, converged: false, gradient_max_abs, loss };
        }
        let mut step = 1.0;
        let mut accepted = false;
        for _ in 0..60 {
            let candidate = &theta + &(&direction * step);
            let candidate_margins = margins_of(&candidate);
            let candidate_loss = objective(&candidate_margins, &candidate, lambda);
            if candidate_loss <= loss - 1e-4 * step * decrement {
                theta = candidate;
                margins = candidate_margins;
                loss = candidate_loss;
                accepted = true;
                break;
            }
            step *= 0.5;
        }
        if !accepted {
            return LogisticFit { coefficients: theta, iterations, converged: false, gradient_max_abs, loss };
        }
    }
}

/// Solves `H d = g` by Cholesky, adding `mu I` with growing `mu` if `H` is not
/// numerically positive definite.
fn newton_solve(hessian: Array2<f64>, gradient: &Array1<f64>) -> Array1<f64> {
    let scale = hessian.diag().iter().fold(1e-300_f64, |a, &h| a.max(h.abs()));
    let mut damping = 0.0;
    for _ in 0..40 {
        let mut h = hessian.clone();
        if damping > 0.0 {
            h.diag_mut().mapv_inplace(|v| v + damping);
        }
        match Cholesky::factor(h, "logistic Hessian") {
            Ok(chol) => return chol.solve(gradient),
            Err(_) => damping = if damping == 0.0 { 1e-12 * scale } else { damping * 100.0 },
        }
    }
    // Unreachable for finite inputs (the damping ends up dominating); fall back
    // to a scaled gradient step so the line search still decides.
    gradient / scale
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn stable_at_extreme_margins() {
        for u in [-1e4, -50.0, 0.0, 50.0, 1e4] {
            assert!(softplus_neg(u).is_finite() && softplus_neg(u) >= 0.0);
            let q = sigmoid_neg(u);
            assert!((0.0..=1.0).contains(&q));
        }
        assert!((softplus_neg(0.0) - 2.0_f64.ln()).abs() < 1e-15);
        assert!((softplus_neg(-1e4) - 1e4).abs() < 1e-9);
    }

    #[test]
    fn unregularised_separable_data_stops_without_nan() {
        // lambda = 0 on separable data: the optimum is at infinity; the solver
        // must stop at max_iterations with finite coefficients and a perfect fit.
        let x = array![[-2.0], [-1.0], [1.0], [2.0]];
        let y = array![-1.0, -1.0, 1.0, 1.0];
        let settings = NewtonSettings { lambda: 0.0, max_iterations: 50, gradient_tolerance: 1e-300 };
        let fit = fit_logistic(&x, &y, settings);
        assert!(fit.coefficients.iter().all(|c| c.is_finite()));
        assert!(fit.loss.is_finite());
        let scores = fit.scores(&x);
        assert!(scores.iter().zip(y.iter()).all(|(s, y)| s * y > 0.0));
    }

    /// With fewer samples than features, the fit in the row-space basis is the
    /// fit on all features: the same weights (to solver precision) and scores.
    #[test]
    fn row_space_fit_equals_the_full_fit() {
        let (n, p) = (12, 30);
        let x = Array2::from_shape_fn((n, p), |(i, j)| ((i * 31 + j * 17) % 23) as f64 / 11.0 - 1.0 + 0.01 * (i * j) as f64);
        let y = Array1::from_shape_fn(n, |i| if (i * 7) % 5 < 2 { 1.0 } else { -1.0 });
        for lambda in [0.01, 0.1, 10.0] {
            let settings = NewtonSettings { lambda, max_iterations: 200, gradient_tolerance: 1e-10 };
            let reduced = fit_logistic(&x, &y, settings);
            let full = fit_in_full(&x, &y, settings, None);
            assert!(reduced.converged && full.converged, "lambda {lambda}");
            let difference = (&reduced.coefficients - &full.coefficients).iter().fold(0.0f64, |a, v| a.max(v.abs()));
            assert!(difference < 1e-8, "lambda {lambda}: {difference}");
            assert!((reduced.loss - full.loss).abs() < 1e-12);
        }
        assert!(row_space_basis(&x).ncols() <= n);
    }

    #[test]
    fn gradient_vanishes_at_the_solution() {
        let x = array![[0.3, -1.2], [1.5, 0.2], [-0.7, 0.9], [0.1, -0.4], [-1.1, -0.8], [0.6, 1.3]];
        let y = array![1.0, 1.0, -1.0, 1.0, -1.0, -1.0];
        let lambda = 0.1;
        let settings = NewtonSettings { lambda, max_iterations: 100, gradient_tolerance: 1e-12 };
        let fit = fit_logistic(&x, &y, settings);
        assert!(fit.converged);
        let c = &fit.coefficients;
        let mut gradient = [0.0; 3];
        for b in 0..6 {
            let s = x[[b, 0]] * c[0] + x[[b, 1]] * c[1] + c[2];
            let r = -y[b] / (1.0 + (y[b] * s).exp()) / 6.0;
            gradient[0] += r * x[[b, 0]];
            gradient[1] += r * x[[b, 1]];
            gradient[2] += r;
        }
        gradient[0] += lambda * c[0];
        gradient[1] += lambda * c[1];
        assert!(gradient.iter().all(|g| g.abs() < 1e-10), "{gradient:?}");
    }
}
