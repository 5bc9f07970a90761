//! Allocation-free forward and backward passes over reusable buffers.
//!
//! Forward: `S = X W^T` (`B x m`, one `general_mat_mul`), `H = S_b(S)`.
//! Backward, for an upstream gradient `G_out = dL/dH` (`B x m`):
//! `G = G_out ⊙ 1[|S| > b]`, `dL/dW = G^T X` (`m x d1`, one `general_mat_mul`),
//! `dL/db_i = -sum_r sign(S_ri) G_ri`.

use ndarray::{Array1, Array2, ArrayView2, NdFloat, Zip, linalg::general_mat_mul};

use crate::{NetError, SymReluNet};

/// Buffers of one forward pass that the backward pass reuses: the
/// pre-activations `S = X W^T`, the outputs `H = S_b(S)` and the masked
/// upstream gradient (all `B x m`).
///
/// The buffers are reallocated only when the batch size `B` (or `m`) changes,
/// so a training loop with a fixed batch size does not allocate after its
/// first step (the matrix-multiply backend may still use its own scratch space).
#[derive(Debug, Clone, PartialEq)]
pub struct NetWorkspace<F> {
    pre_activations: Array2<F>,
    output: Array2<F>,
    masked_grad: Array2<F>,
}

impl<F: NdFloat> Default for NetWorkspace<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: NdFloat> NetWorkspace<F> {
    /// An empty workspace; buffers are sized by the first forward pass.
    #[must_use]
    pub fn new() -> Self {
        Self::with_shape(0, 0)
    }

    /// A workspace preallocated for batches of `batch` samples through `n_neurons` neurons.
    #[must_use]
    pub fn with_shape(batch: usize, n_neurons: usize) -> Self {
        Self {
            pre_activations: Array2::zeros((batch, n_neurons)),
            output: Array2::zeros((batch, n_neurons)),
            masked_grad: Array2::zeros((batch, n_neurons)),
        }
    }

    /// Pre-activations `S = X W^T` of the last forward pass (`B x m`).
    #[must_use]
    pub fn pre_activations(&self) -> ArrayView2<'_, F> {
        self.pre_activations.view()
    }

    /// Representations `H = S_b(X W^T)` of the last forward pass (`B x m`).
    #[must_use]
    pub fn output(&self) -> ArrayView2<'_, F> {
        self.output.view()
    }

    /// Moves the representations out (the workspace must then be resized by its next use).
    #[must_use]
    pub fn into_output(self) -> Array2<F> {
        self.output
    }

    fn ensure_shape(&mut self, batch: usize, n_neurons: usize) {
        if self.pre_activations.dim() != (batch, n_neurons) || self.output.dim() != (batch, n_neurons) {
            *self = Self::with_shape(batch, n_neurons);
        }
    }
}

/// Gradients of a scalar loss with respect to the parameters:
/// `weights = dL/dW` (`m x d1`) and `bias = dL/db` (`m`).
#[derive(Debug, Clone, PartialEq)]
pub struct NetGradients<F> {
    /// `dL/dW`, `m x d1`.
    pub weights: Array2<F>,
    /// `dL/db`, `m`.
    pub bias: Array1<F>,
}

impl<F: NdFloat> NetGradients<F> {
    /// Zero gradients for a network with `n_neurons` neurons on inputs of dimension `input_dim`.
    #[must_use]
    pub fn zeros(n_neurons: usize, input_dim: usize) -> Self {
        Self { weights: Array2::zeros((n_neurons, input_dim)), bias: Array1::zeros(n_neurons) }
    }

    /// Zero gradients shaped like `net`'s parameters.
    #[must_use]
    pub fn for_net(net: &SymReluNet<F>) -> Self {
        Self::zeros(net.n_neurons(), net.input_dim())
    }

    /// Sets every entry to zero.
    pub fn fill_zero(&mut self) {
        self.weights.fill(F::zero());
        self.bias.fill(F::zero());
    }
}

impl<F: NdFloat> SymReluNet<F> {
    fn check_input(&self, x: ArrayView2<'_, F>) -> Result<(), NetError> {
        if x.ncols() != self.input_dim() {
            return Err(NetError::shape("x", format!("[B, d1 = {}]", self.input_dim()), x.shape()));
        }
        Ok(())
    }

    /// Forward pass `H = S_b(X W^T)` into `workspace` (read it with [`NetWorkspace::output`]).
    ///
    /// `x` is `B x d1`; buffers are resized only if `B` changed since the last call.
    ///
    /// # Errors
    /// `x` does not have `d1` columns.
    pub fn forward_into(&self, x: ArrayView2<'_, F>, workspace: &mut NetWorkspace<F>) -> Result<(), NetError> {
        self.check_input(x)?;
        workspace.ensure_shape(x.nrows(), self.n_neurons());
        general_mat_mul(F::one(), &x, &self.weights.t(), F::zero(), &mut workspace.pre_activations);
        Zip::from(&mut workspace.output)
            .and(&workspace.pre_activations)
            .and_broadcast(&self.bias)
            .for_each(|h, &s, &b| *h = crate::soft_threshold(s, b));
        Ok(())
    }

    /// Backward pass, overwriting `grads` with `dL/dW = G^T X` and
    /// `dL/db_i = -sum_r sign(S_ri) G_ri`, where `G = grad_out ⊙ 1[|S| > b]`.
    ///
    /// `workspace` must hold the forward pass of this network on this same `x`
    /// (call [`SymReluNet::forward_into`] first and do not change the
    /// parameters in between). `grad_out = dL/dH` is `B x m`. At the kinks
    /// `|s| = b` the derivative is taken as 0.
    ///
    /// # Errors
    /// Shapes of `x`, `grad_out`, the workspace or `grads` that do not match.
    pub fn backward(
        &self,
        x: ArrayView2<'_, F>,
        grad_out: ArrayView2<'_, F>,
        workspace: &mut NetWorkspace<F>,
        grads: &mut NetGradients<F>,
    ) -> Result<(), NetError> {
        self.backward_impl(x, grad_out, workspace, grads, false)
    }

    /// As [`SymReluNet::backward`] but adds to `grads` instead of overwriting
    /// them, e.g. to sum the contributions of the two views of a positive pair.
    ///
    /// # Errors
    /// As [`SymReluNet::backward`].
    pub fn backward_accumulate(
        &self,
        x: ArrayView2<'_, F>,
        grad_out: ArrayView2<'_, F>,
        workspace: &mut NetWorkspace<F>,
        grads: &mut NetGradients<F>,
    ) -> Result<(), NetError> {
        self.backward_impl(x, grad_out, workspace, grads, true)
    }

    fn backward_impl(
        &self,
        x: ArrayView2<'_, F>,
        grad_out: ArrayView2<'_, F>,
        workspace: &mut NetWorkspace<F>,
        grads: &mut NetGradients<F>,
        accumulate: bool,
    ) -> Result<(), NetError> {
        self.check_input(x)?;
        let (batch, m) = (x.nrows(), self.n_neurons());
        let expected = || format!("[B = {batch}, m = {m}]");
        if grad_out.dim() != (batch, m) {
            return Err(NetError::shape("grad_out", expected(), grad_out.shape()));
        }
        if workspace.pre_activations.dim() != (batch, m) || workspace.masked_grad.dim() != (batch, m) {
            let found = workspace.pre_activations.shape().to_vec();
            return Err(NetError::shape("workspace (run forward_into on the same x first)", expected(), &found));
        }
        if grads.weights.dim() != self.weights.dim() {
            let expected = format!("[m = {m}, d1 = {}]", self.input_dim());
            return Err(NetError::shape("grads.weights", expected, grads.weights.shape()));
        }
        if grads.bias.len() != m {
            return Err(NetError::shape("grads.bias", format!("[m = {m}]"), grads.bias.shape()));
        }

        let zero = F::zero();
        Zip::from(&mut workspace.masked_grad)
            .and(&workspace.pre_activations)
            .and(&grad_out)
            .and_broadcast(&self.bias)
            .for_each(|g, &s, &g_out, &b| *g = if s.abs() > b { g_out } else { zero });

        let beta = if accumulate { F::one() } else { zero };
        general_mat_mul(F::one(), &workspace.masked_grad.t(), &x, beta, &mut grads.weights);
        if !accumulate {
            grads.bias.fill(zero);
        }
        for (g_row, s_row) in workspace.masked_grad.rows().into_iter().zip(workspace.pre_activations.rows()) {
            Zip::from(&mut grads.bias).and(&g_row).and(&s_row).for_each(|db, &g, &s| {
                if g != zero {
                    *db -= s.signum() * g;
                }
            });
        }
        Ok(())
    }
}
