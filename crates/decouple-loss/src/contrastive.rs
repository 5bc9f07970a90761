//! The common interface of the contrastive losses, their serde configuration
//! enum and the input validation they share.

use ndarray::{Array2, ArrayView2, NdFloat};
use serde::{Deserialize, Serialize};

use crate::{BarlowTwins, InfoNce, LossError, LossWorkspace, NtXent, Similarity, Spectral};

/// A contrastive loss `L(u, v)` on a batch of `B` positive pairs `(u_i, v_i)`
/// (`u, v: B x m`, one row per pair), with hand-written gradients.
///
/// The `*_with` methods reuse a [`LossWorkspace`] and, once the gradient
/// buffers have the shape of `u`, do not allocate.
pub trait ContrastiveLoss {
    /// Validates the hyperparameters.
    ///
    /// # Errors
    /// `temperature` not finite and `> 0`.
    fn check(&self) -> Result<(), LossError>;

    /// `L(u, v)`, reusing `workspace`.
    ///
    /// # Errors
    /// Invalid hyperparameters, `u` and `v` of different shapes, `m = 0`, `B < 2`.
    fn value_with<F: NdFloat>(&self, u: ArrayView2<'_, F>, v: ArrayView2<'_, F>, workspace: &mut LossWorkspace<F>) -> Result<F, LossError>;

    /// `L(u, v)`; overwrites `grad_u = dL/du` and `grad_v = dL/dv` (resized to `B x m` if needed).
    ///
    /// # Errors
    /// As [`ContrastiveLoss::value_with`]; the gradients are then untouched.
    fn loss_and_grad_with<F: NdFloat>(
        &self,
        u: ArrayView2<'_, F>,
        v: ArrayView2<'_, F>,
        workspace: &mut LossWorkspace<F>,
        grad_u: &mut Array2<F>,
        grad_v: &mut Array2<F>,
    ) -> Result<F, LossError>;

    /// `L(u, v)` with a fresh workspace (allocates).
    ///
    /// # Errors
    /// As [`ContrastiveLoss::value_with`].
    fn value<F: NdFloat>(&self, u: ArrayView2<'_, F>, v: ArrayView2<'_, F>) -> Result<F, LossError> {
        self.value_with(u, v, &mut LossWorkspace::new())
    }

    /// `L(u, v)` and its gradients with a fresh workspace (allocates).
    ///
    /// # Errors
    /// As [`ContrastiveLoss::value_with`].
    fn loss_and_grad<F: NdFloat>(
        &self,
        u: ArrayView2<'_, F>,
        v: ArrayView2<'_, F>,
        grad_u: &mut Array2<F>,
        grad_v: &mut Array2<F>,
    ) -> Result<F, LossError> {
        self.loss_and_grad_with(u, v, &mut LossWorkspace::new(), grad_u, grad_v)
    }
}

/// Which contrastive loss to train with: the serde configuration (`{"kind": "InfoNce", ...}`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
#[non_exhaustive]
pub enum Contrastive {
    /// Symmetric InfoNCE with cross-view negatives.
    InfoNce(InfoNce),
    /// SimCLR's NT-Xent over the `2B` views.
    NtXent(NtXent),
    /// HaoChen et al.'s spectral contrastive loss, with the optional norm clip.
    Spectral(Spectral),
    /// Barlow Twins' redundancy reduction (cross-correlation towards the identity).
    BarlowTwins(BarlowTwins),
}

impl Default for Contrastive {
    /// `InfoNce` with cosine similarity and `tau = 0.2` (docs/model.md §7).
    fn default() -> Self {
        Self::InfoNce(InfoNce::default())
    }
}

impl From<InfoNce> for Contrastive {
    fn from(loss: InfoNce) -> Self {
        Self::InfoNce(loss)
    }
}

impl From<NtXent> for Contrastive {
    fn from(loss: NtXent) -> Self {
        Self::NtXent(loss)
    }
}

impl From<Spectral> for Contrastive {
    fn from(loss: Spectral) -> Self {
        Self::Spectral(loss)
    }
}

impl From<BarlowTwins> for Contrastive {
    fn from(loss: BarlowTwins) -> Self {
        Self::BarlowTwins(loss)
    }
}

impl Contrastive {
    /// The similarity the softmax logits are built on (`None` for the losses without logits: spectral, Barlow Twins).
    #[must_use]
    pub fn similarity(&self) -> Option<Similarity> {
        match self {
            Self::InfoNce(loss) => Some(loss.similarity),
            Self::NtXent(loss) => Some(loss.similarity),
            Self::Spectral(_) | Self::BarlowTwins(_) => None,
        }
    }

    /// The temperature `tau` (`None` for the losses without one: spectral, Barlow Twins).
    #[must_use]
    pub fn temperature(&self) -> Option<f64> {
        match self {
            Self::InfoNce(loss) => Some(loss.temperature),
            Self::NtXent(loss) => Some(loss.temperature),
            Self::Spectral(_) | Self::BarlowTwins(_) => None,
        }
    }

    /// A short label with the hyperparameters, e.g. `InfoNce(Cosine, tau 0.2)`, `Spectral(mu 1)`, `BarlowTwins(lambda 0.005)`.
    #[must_use]
    pub fn label(&self) -> String {
        match self {
            Self::InfoNce(loss) => format!("InfoNce({:?}, tau {})", loss.similarity, loss.temperature),
            Self::NtXent(loss) => format!("NtXent({:?}, tau {})", loss.similarity, loss.temperature),
            Self::Spectral(Spectral { mu: None }) => "Spectral".into(),
            Self::Spectral(Spectral { mu: Some(mu) }) => format!("Spectral(mu {mu})"),
            Self::BarlowTwins(loss) => format!("BarlowTwins(lambda {})", loss.lambda),
        }
    }
}

impl ContrastiveLoss for Contrastive {
    fn check(&self) -> Result<(), LossError> {
        match self {
            Self::InfoNce(loss) => loss.check(),
            Self::NtXent(loss) => loss.check(),
            Self::Spectral(loss) => loss.check(),
            Self::BarlowTwins(loss) => loss.check(),
        }
    }

    fn value_with<F: NdFloat>(&self, u: ArrayView2<'_, F>, v: ArrayView2<'_, F>, workspace: &mut LossWorkspace<F>) -> Result<F, LossError> {
        match self {
            Self::InfoNce(loss) => loss.value_with(u, v, workspace),
            Self::NtXent(loss) => loss.value_with(u, v, workspace),
            Self::Spectral(loss) => loss.value_with(u, v, workspace),
            Self::BarlowTwins(loss) => loss.value_with(u, v, workspace),
        }
    }

    fn loss_and_grad_with<F: NdFloat>(
        &self,
        u: ArrayView2<'_, F>,
        v: ArrayView2<'_, F>,
        workspace: &mut LossWorkspace<F>,
        grad_u: &mut Array2<F>,
        grad_v: &mut Array2<F>,
    ) -> Result<F, LossError> {
        match self {
            Self::InfoNce(loss) => loss.loss_and_grad_with(u, v, workspace, grad_u, grad_v),
            Self::NtXent(loss) => loss.loss_and_grad_with(u, v, workspace, grad_u, grad_v),
            Self::Spectral(loss) => loss.loss_and_grad_with(u, v, workspace, grad_u, grad_v),
            Self::BarlowTwins(loss) => loss.loss_and_grad_with(u, v, workspace, grad_u, grad_v),
        }
    }
}

/// `temperature` must be finite and `> 0`.
pub(crate) fn check_temperature(temperature: f64) -> Result<(), LossError> {
    if temperature.is_finite() && temperature > 0.0 {
        Ok(())
    } else {
        Err(LossError::OutOfRange { field: "temperature", value: temperature, allowed: "finite and > 0" })
    }
}

/// `u` and `v` must both be `B x m` with `B >= 2` and `m >= 1`.
pub(crate) fn check_views<F>(u: ArrayView2<'_, F>, v: ArrayView2<'_, F>) -> Result<(), LossError> {
    if u.ncols() == 0 {
        return Err(LossError::shape("u", "[B >= 2, m >= 1]", u.shape()));
    }
    if v.dim() != u.dim() {
        let expected = format!("[B = {}, m = {}] (the shape of u)", u.nrows(), u.ncols());
        return Err(LossError::shape("v", expected, v.shape()));
    }
    if u.nrows() < 2 {
        return Err(LossError::BatchTooSmall { batch: u.nrows() });
    }
    Ok(())
}
