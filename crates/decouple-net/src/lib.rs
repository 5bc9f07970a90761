//! Symmetric-ReLU (soft-thresholding) network with hand-written forward and
//! backward passes (docs/model.md §3).
//!
//! # The model
//!
//! A one-layer network `f: R^{d1} -> R^m`, `f(x) = (h_1(x), ..., h_m(x))` with
//!
//! ```text
//! h_i(x) = ReLU(<w_i, x> - b_i) - ReLU(-<w_i, x> - b_i) = S_{b_i}(<w_i, x>),   b_i >= 0,
//! S_b(s) = sign(s) max(|s| - b, 0)                                               (soft-thresholding),
//! dS_b/ds = 1[|s| > b],   dS_b/db = -sign(s) 1[|s| > b].
//! ```
//!
//! Batched, with one row per sample (`X: B x d1`, `W: m x d1`):
//! `S = X W^T` and `H = S_b(S)` (`B x m`). For an upstream gradient
//! `G_out = dL/dH`, let `G = G_out ⊙ 1[|S| > b]`; then
//! `dL/dW = G^T X` and `dL/db_i = -sum_r sign(S_ri) G_ri`.
//!
//! Initialisation: `w_i ~ N(0, sigma0^2 I)`, `b = 0`. The thresholds then
//! follow a [`BiasRule`]: `Fixed`, `Learned` (from `b0`, clamped at 0) or `NormRamp`
//! (`b_i = beta(t) ||w_i||`, no gradient through `b`).
//!
//! This crate knows nothing of data, augmentations or losses.
//!
//! # Example
//!
//! ```
//! use decouple_net::{NetGradients, NetWorkspace, SymReluNet};
//! use ndarray::array;
//!
//! let net = SymReluNet::new(array![[1.0, 0.0], [0.0, 2.0]], array![0.5, 0.0])?;
//! let x = array![[2.0, 1.0], [-0.25, -1.0]];
//! assert_eq!(net.forward(x.view())?, array![[1.5, 2.0], [0.0, -2.0]]);
//!
//! // Allocation-free path: L = sum(H), so dL/dH = 1.
//! let mut workspace = NetWorkspace::new();
//! let mut grads = NetGradients::for_net(&net);
//! net.forward_into(x.view(), &mut workspace)?;
//! let grad_out = ndarray::Array2::ones((2, 2));
//! net.backward(x.view(), grad_out.view(), &mut workspace, &mut grads)?;
//! assert_eq!(grads.weights, array![[2.0, 1.0], [1.75, 0.0]]);
//! assert_eq!(grads.bias, array![-1.0, 0.0]);
//! # Ok::<(), decouple_net::NetError>(())
//! ```

mod bias;
mod error;
mod network;
mod workspace;

pub use bias::{BiasRule, norm_ramp_beta};
pub use error::NetError;
pub use network::{SymReluNet, soft_threshold};
pub use workspace::{BackwardKernel, NetGradients, NetWorkspace};
