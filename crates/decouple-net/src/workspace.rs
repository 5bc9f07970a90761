//! Allocation-free forward and backward passes over reusable buffers.
//!
//! Forward: `S = X W^T` (`B x m`, one matrix product), then `H = S_b(S)`.
//! Backward, for an upstream gradient `G_out = dL/dH` (`B x m`):
//! `G = G_out ⊙ 1[|S| > b]`, `dL/dW = G^T X` (`m x d1`),
//! `dL/db_i = -sum_r sign(S_ri) G_ri`.
//!
//! After the thresholds have risen most entries of `G` are zero (a neuron is
//! active on a fraction of the samples), so `dL/dW` is by default computed
//! *sparsely*: row `i` is `sum_{r: G_ri != 0} G_ri x_r`, added in increasing
//! `r` ([`BackwardKernel`]). A dense matrix product is used when more than a
//! fifth of `G` is nonzero.
//!
//! Inside a rayon pool (e.g. under `ThreadPool::install`) the backward pass
//! splits over halves of its 32-column blocks (sparse) or two fixed halves of the
//! columns (dense); every output entry is computed by one thread in the same
//! order, so the results are bit-identical for any number of threads. (The
//! forward pass is one product; a trainer runs the two views side by side.)

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, Axis, NdFloat, linalg::general_mat_mul};

use crate::{NetError, SymReluNet};

/// How the backward pass computes `dL/dW = G^T X`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BackwardKernel {
    /// Sparse when at most a fifth of `G` is nonzero, dense otherwise (the
    /// break-even density of the two kernels, measured by `cargo xtask bench`).
    #[default]
    Auto,
    /// Always one dense matrix product.
    Dense,
    /// Always the sparse sum over the nonzero entries of `G`.
    Sparse,
}

/// Inputs at least this wide split the dense backward product into two column halves.
const DENSE_SPLIT_COLUMNS: usize = 256;
/// Columns of `X` accumulated at once by the sparse kernel.
const SPARSE_COLUMNS: usize = 32;

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
    kernel: BackwardKernel,
    /// Column-compressed `G`: the nonzeros of neuron `i` are entries
    /// `offsets[i]..cursor[i]` of `rows` (sample index) and `values` (`G_ri`), in increasing `r`.
    offsets: Vec<usize>,
    cursor: Vec<usize>,
    rows: Vec<u32>,
    values: Vec<F>,
    /// Column blocks of `X`, copied contiguously for the sparse product.
    packed: Vec<F>,
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
            kernel: BackwardKernel::Auto,
            offsets: Vec::new(),
            cursor: Vec::new(),
            rows: Vec::new(),
            values: Vec::new(),
            packed: Vec::new(),
        }
    }

    /// This workspace with the given backward kernel (the default is [`BackwardKernel::Auto`]).
    #[must_use]
    pub fn with_backward_kernel(mut self, kernel: BackwardKernel) -> Self {
        self.kernel = kernel;
        self
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
            *self = Self::with_shape(batch, n_neurons).with_backward_kernel(self.kernel);
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
        let m = self.n_neurons();
        workspace.ensure_shape(x.nrows(), m);
        general_mat_mul(F::one(), &x, &self.weights.t(), F::zero(), &mut workspace.pre_activations);
        let pre = workspace.pre_activations.as_slice().expect("workspace arrays are contiguous");
        let out = workspace.output.as_slice_mut().expect("workspace arrays are contiguous");
        let bias = self.bias.as_slice().expect("bias is contiguous");
        for (pre_row, out_row) in pre.chunks_exact(m).zip(out.chunks_exact_mut(m)) {
            for ((h, &s), &b) in out_row.iter_mut().zip(pre_row).zip(bias) {
                *h = crate::soft_threshold(s, b);
            }
        }
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
        if !accumulate {
            grads.bias.fill(zero);
        }
        // G = G_out ⊙ 1[|S| > b], dL/db, and the nonzero count per neuron.
        let workspace = &mut *workspace;
        workspace.offsets.clear();
        workspace.offsets.resize(m + 1, 0);
        let counts = &mut workspace.offsets[1..];
        let bias = self.bias.as_slice().expect("bias is contiguous");
        let grad_bias = grads.bias.as_slice_mut().expect("gradients are contiguous");
        let masked = workspace.masked_grad.as_slice_mut().expect("workspace arrays are contiguous");
        let pre = workspace.pre_activations.as_slice().expect("workspace arrays are contiguous");
        for (r, (g_row, s_row)) in masked.chunks_exact_mut(m).zip(pre.chunks_exact(m)).enumerate() {
            let g_out = grad_out.row(r);
            let rows = g_row.iter_mut().zip(s_row).zip(g_out.iter()).zip(bias).zip(grad_bias.iter_mut()).zip(counts.iter_mut());
            // Branch-free: whether a unit is active is a coin flip for the predictor.
            for (((((g, &s), &g_out), &b), db), count) in rows {
                let active = s.abs() > b;
                *g = if active { g_out } else { zero };
                *db -= s.signum() * *g;
                *count += usize::from(*g != zero);
            }
        }
        let nonzero: usize = counts.iter().sum();
        let sparse = match workspace.kernel {
            BackwardKernel::Auto => 5 * nonzero <= batch * m,
            BackwardKernel::Dense => false,
            BackwardKernel::Sparse => true,
        };
        let d1 = self.input_dim();
        if !sparse {
            // Two fixed halves of the columns of dW (each packs its own half of X).
            let g = workspace.masked_grad.view();
            let beta = if accumulate { F::one() } else { zero };
            let mut out = grads.weights.view_mut();
            if d1 >= DENSE_SPLIT_COLUMNS {
                let half = d1 / 2;
                let (x_left, x_right) = x.split_at(Axis(1), half);
                let (mut left, mut right) = out.view_mut().split_at(Axis(1), half);
                let mut left_product = || general_mat_mul(F::one(), &g.t(), &x_left, beta, &mut left);
                let mut right_product = || general_mat_mul(F::one(), &g.t(), &x_right, beta, &mut right);
                if rayon::current_thread_index().is_some() {
                    rayon::join(left_product, right_product);
                } else {
                    left_product();
                    right_product();
                }
            } else {
                general_mat_mul(F::one(), &g.t(), &x, beta, &mut out);
            }
            return Ok(());
        }
        // Column-compress G (entries of each neuron in increasing r). Neuron i
        // owns count_i + 1 slots from offsets[i]: every entry is written
        // (branch-free) and the cursor advances only past nonzeros, so zeros
        // land in the spare slot. Its entries are then offsets[i]..cursor[i].
        let mut next = 0;
        for i in 0..m {
            let count = workspace.offsets[i + 1];
            workspace.offsets[i] = next;
            next += count + 1;
        }
        workspace.offsets[m] = next;
        workspace.cursor.clear();
        workspace.cursor.extend_from_slice(&workspace.offsets[..m]);
        workspace.rows.resize(next, 0);
        workspace.values.resize(next, zero);
        let masked = workspace.masked_grad.as_slice().expect("workspace arrays are contiguous");
        let (cursor, rows, values) = (&mut workspace.cursor, &mut workspace.rows, &mut workspace.values);
        for (r, g_row) in masked.chunks_exact(m).enumerate() {
            for (&g, slot) in g_row.iter().zip(cursor.iter_mut()) {
                rows[*slot] = r as u32;
                values[*slot] = g;
                *slot += usize::from(g != zero);
            }
        }
        workspace.packed.resize(batch * d1, zero);
        let compressed =
            Compressed { starts: &workspace.offsets[..m], ends: &workspace.cursor[..m], rows: &workspace.rows, values: &workspace.values };
        sparse_column_blocks(grads.weights.view_mut(), x, &mut workspace.packed, &compressed, accumulate);
        Ok(())
    }
}

/// The column-compressed nonzeros of `G`: those of neuron `i` are
/// `(rows[e], values[e])` for `e` in `starts[i]..ends[i]`, in increasing row.
struct Compressed<'a, F> {
    starts: &'a [usize],
    ends: &'a [usize],
    rows: &'a [u32],
    values: &'a [F],
}

/// `dW (+)= G^T X` on a range of columns (`dw`: `m x c`, `x`: `B x c`), by
/// blocks of [`SPARSE_COLUMNS`] columns: each block of `X` is first copied into
/// `packed` (contiguous `B x 32`, so that its rows do not collide in the cache
/// as rows `d1` floats apart do), then every neuron accumulates its nonzeros
/// in registers. Entry `dW_ij` starts from 0 (or its value, if `accumulate`)
/// and adds the terms `G_ri X_rj` in increasing `r`. Inside a rayon pool,
/// halves of the blocks run side by side (the same blocks, computed the same way).
fn sparse_column_blocks<F: NdFloat>(
    mut dw: ArrayViewMut2<'_, F>,
    x: ArrayView2<'_, F>,
    packed: &mut [F],
    g: &Compressed<'_, F>,
    accumulate: bool,
) {
    let (batch, columns) = x.dim();
    let blocks = columns.div_ceil(SPARSE_COLUMNS);
    if blocks > 1 && rayon::current_thread_index().is_some() {
        let middle = blocks / 2 * SPARSE_COLUMNS;
        let (dw_left, dw_right) = dw.split_at(Axis(1), middle);
        let (x_left, x_right) = x.split_at(Axis(1), middle);
        let (packed_left, packed_right) = packed.split_at_mut(batch * middle);
        rayon::join(
            || sparse_column_blocks(dw_left, x_left, packed_left, g, accumulate),
            || sparse_column_blocks(dw_right, x_right, packed_right, g, accumulate),
        );
        return;
    }
    for block in 0..blocks {
        let start = block * SPARSE_COLUMNS;
        let width = SPARSE_COLUMNS.min(columns - start);
        let panel = &mut packed[batch * start..batch * (start + width)];
        for (r, panel_row) in panel.chunks_exact_mut(width).enumerate() {
            let x_row = x.row(r);
            match x_row.as_slice() {
                Some(x_row) => panel_row.copy_from_slice(&x_row[start..start + width]),
                None => panel_row.iter_mut().zip(x_row.iter().skip(start)).for_each(|(p, &v)| *p = v),
            }
        }
        let panel = &*panel;
        for (i, mut dw_row) in dw.rows_mut().into_iter().enumerate() {
            let entries = g.starts[i]..g.ends[i];
            let out = dw_row.as_slice_mut().expect("rows of a column range are contiguous");
            let out = &mut out[start..start + width];
            if width == SPARSE_COLUMNS {
                let out: &mut [F; SPARSE_COLUMNS] = out.try_into().expect("full block");
                let mut acc = if accumulate { *out } else { [F::zero(); SPARSE_COLUMNS] };
                for e in entries {
                    let value = g.values[e];
                    let r = g.rows[e] as usize;
                    let x_row: &[F; SPARSE_COLUMNS] = panel[r * SPARSE_COLUMNS..][..SPARSE_COLUMNS].try_into().expect("full block");
                    for (a, &x) in acc.iter_mut().zip(x_row) {
                        *a += value * x;
                    }
                }
                *out = acc;
            } else {
                if !accumulate {
                    out.fill(F::zero());
                }
                for e in entries {
                    let value = g.values[e];
                    let r = g.rows[e] as usize;
                    for (a, &x) in out.iter_mut().zip(&panel[r * width..(r + 1) * width]) {
                        *a += value * x;
                    }
                }
            }
        }
    }
}
