//! Contrastive losses (InfoNCE, NT-Xent, spectral), the redundancy-reduction
//! loss of Barlow Twins and a supervised logistic loss, with hand-written
//! gradients (docs/model.md §4).
//!
//! # The maths
//!
//! A batch of `B` positive pairs gives representations `u_i = f(x_i+)`,
//! `v_i = f(x_i++)` (`u, v: B x m`, one row per pair). With
//! `sim(a, b) = <a, b>` or the cosine `<a, b> / (max(||a||, eps) max(||b||, eps))`
//! ([`COSINE_EPS`] `= 1e-8`) and a temperature `tau > 0`:
//!
//! ```text
//! InfoNce: S_ij = sim(u_i, v_j) / tau,
//!          L = (1/2B) sum_i [ -log softmax_j(S_i.)_i - log softmax_j(S_.i)_i ]
//! NtXent:  z = [u; v], S_ab = sim(z_a, z_b) / tau, partner p(a) = a + B mod 2B,
//!          L = (1/2B) sum_a -log( exp(S_a,p(a)) / sum_{k != a} exp(S_ak) )
//! ```
//!
//! Gradients: `dl/ds = softmax(s) - e_target` per row (log-sum-exp with the
//! row maximum subtracted), `dL/du_hat = dL/dS v_hat / tau`,
//! `dL/dv_hat = dL/dS^T u_hat / tau` (InfoNce; NtXent uses `(dL/dS + dL/dS^T) z_hat / tau`),
//! and through the cosine normalisation `z_hat = z / ||z||`:
//! `dL/dz = (g - z_hat <g, z_hat>) / ||z||` with `g = dL/dz_hat`.
//!
//! The spectral contrastive loss ([`Spectral`], HaoChen et al. 2021) is
//! `L = -(2/B) sum_i <u_i, v_i> + (1/(B(B-1))) sum_{i != j} <u_i, v_j>^2` on
//! representations optionally clipped to `||z|| <= sqrt(mu)`; Barlow Twins
//! ([`BarlowTwins`], Zbontar et al. 2021) is
//! `L = sum_i (1 - C_ii)^2 + lambda sum_{i != j} C_ij^2` with `C` the
//! cross-correlation of the batch-normalised views. Both are variants of
//! [`Contrastive`], so a config selects them as `loss = { kind = "Spectral" }`.
//!
//! The non-contrastive head (batch normalisation, a linear predictor and the
//! negative cosine against a stop-gradient target, SimSiam / BYOL) is in
//! [`predictor`].
//!
//! The supervised [`LogisticLoss`] is `L = (1/B) sum_i ln(1 + exp(-y_i (<a, h_i> + c)))`.
//!
//! Your own loss plugs into the trainer through the [`ViewLoss`] trait (a
//! loss on the representations of `V >= 2` views, with its gradients); every
//! [`ContrastiveLoss`] is one.
//!
//! This crate knows nothing of the network: it sees representations only.
//!
//! # Example
//!
//! ```
//! use decouple_loss::{ContrastiveLoss, InfoNce, LossWorkspace, Similarity};
//! use ndarray::{Array2, array};
//!
//! let loss = InfoNce { similarity: Similarity::Cosine, temperature: 0.5 };
//! let u = array![[1.0_f64, 0.0], [0.0, 1.0]];
//! let v = array![[2.0, 0.0], [0.0, 3.0]];
//! let (mut grad_u, mut grad_v) = (Array2::zeros((2, 2)), Array2::zeros((2, 2)));
//! let mut workspace = LossWorkspace::new();
//! let value = loss.loss_and_grad_with(u.view(), v.view(), &mut workspace, &mut grad_u, &mut grad_v)?;
//! // Aligned positives, orthogonal negatives: L = ln(1 + exp(-1 / tau)).
//! assert!((value - (1.0 + (-2.0f64).exp()).ln()).abs() < 1e-12);
//! // Equal representations carry no signal: L = ln B.
//! let same = Array2::<f64>::ones((2, 2));
//! assert!((loss.value(same.view(), same.view())? - 2f64.ln()).abs() < 1e-12);
//! # Ok::<(), decouple_loss::LossError>(())
//! ```

mod barlow;
mod blocks;
mod contrastive;
mod cross_entropy;
mod error;
mod info_nce;
mod logistic;
mod nt_xent;
pub mod predictor;
mod similarity;
mod spectral;
mod views;
mod workspace;

pub use barlow::BarlowTwins;
pub use contrastive::{Contrastive, ContrastiveLoss};
pub use error::LossError;
pub use info_nce::InfoNce;
pub use logistic::{LogisticGradients, LogisticLoss};
pub use nt_xent::NtXent;
pub use similarity::{COSINE_EPS, Similarity};
pub use spectral::Spectral;
pub use views::ViewLoss;
pub use workspace::LossWorkspace;
