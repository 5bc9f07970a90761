//! [`ViewLoss`]: a loss on the representations of `V >= 2` views of a batch,
//! the interface through which users bring their own objective.
//!
//! A batch of `B` samples seen through `V` views gives representations
//! `z_1, ..., z_V` (each `B x m`, one row per sample). A `ViewLoss` returns
//! `L(z_1, ..., z_V)` and every gradient `dL/dz_k`. Every
//! [`ContrastiveLoss`] is a `ViewLoss` on two views (`z_1 = u`, `z_2 = v`).
//! The methods are generic over the float type so that gradients can be
//! checked against finite differences in `f64` while training runs in `f32`.

use ndarray::{Array2, ArrayView2, NdFloat};

use crate::{ContrastiveLoss, LossError, LossWorkspace};

/// A loss on the representations of the views of a batch, with its gradients.
///
/// ```
/// use decouple_loss::{LossError, LossWorkspace, ViewLoss};
/// use ndarray::{Array2, ArrayView2, NdFloat, array};
///
/// /// Alignment only: `L = (1/B) sum_i ||z1_i - z2_i||^2`.
/// struct Alignment;
///
/// impl ViewLoss for Alignment {
///     fn value_and_gradients_of_views<F: NdFloat>(
///         &self,
///         views: &[ArrayView2<'_, F>],
///         _workspace: &mut LossWorkspace<F>,
///         gradients: &mut [Array2<F>],
///     ) -> Result<F, LossError> {
///         let batch = F::from(views[0].nrows()).unwrap();
///         let difference = &views[0] - &views[1];
///         gradients[0] = difference.mapv(|e| e * F::from(2.0).unwrap() / batch);
///         gradients[1] = gradients[0].mapv(|g| -g);
///         Ok(difference.mapv(|e| e * e).sum() / batch)
///     }
/// }
///
/// let (u, v) = (array![[1.0_f64, 0.0], [0.0, 1.0]], array![[0.0, 0.0], [0.0, 1.0]]);
/// let mut gradients = vec![Array2::zeros((2, 2)), Array2::zeros((2, 2))];
/// let value = Alignment.value_and_gradients_of_views(&[u.view(), v.view()], &mut LossWorkspace::new(), &mut gradients)?;
/// assert_eq!(value, 0.5);
/// assert_eq!(gradients[0], array![[1.0, 0.0], [0.0, 0.0]]);
/// # Ok::<(), LossError>(())
/// ```
pub trait ViewLoss {
    /// Number of views `V >= 2` the loss takes (default 2).
    fn n_views(&self) -> usize {
        2
    }

    /// Validates the hyperparameters (default: nothing to check).
    ///
    /// # Errors
    /// A hyperparameter out of range, named with its allowed range.
    fn check(&self) -> Result<(), LossError> {
        Ok(())
    }

    /// `L(z_1, ..., z_V)`; overwrites `gradients[k] = dL/dz_k` (one per view,
    /// resized to `B x m` if needed). `workspace` holds reusable scratch
    /// buffers for the built-in losses; other losses may ignore it.
    ///
    /// # Errors
    /// Invalid hyperparameters; views of different shapes or of the wrong count.
    fn value_and_gradients_of_views<F: NdFloat>(
        &self,
        views: &[ArrayView2<'_, F>],
        workspace: &mut LossWorkspace<F>,
        gradients: &mut [Array2<F>],
    ) -> Result<F, LossError>;

    /// `L(z_1, ..., z_V)` alone. The default computes the gradients too, into scratch buffers.
    ///
    /// # Errors
    /// As [`ViewLoss::value_and_gradients_of_views`].
    fn value_of_views<F: NdFloat>(&self, views: &[ArrayView2<'_, F>], workspace: &mut LossWorkspace<F>) -> Result<F, LossError> {
        let mut scratch: Vec<Array2<F>> = views.iter().map(|view| Array2::zeros(view.dim())).collect();
        self.value_and_gradients_of_views(views, workspace, &mut scratch)
    }
}

/// Exactly `expected` views (or gradient buffers).
fn check_count(what: &'static str, expected: usize, found: usize) -> Result<(), LossError> {
    if expected == found { Ok(()) } else { Err(LossError::shape(what, format!("[{expected}] (one per view)"), &[found])) }
}

impl<L: ContrastiveLoss> ViewLoss for L {
    fn check(&self) -> Result<(), LossError> {
        ContrastiveLoss::check(self)
    }

    fn value_and_gradients_of_views<F: NdFloat>(
        &self,
        views: &[ArrayView2<'_, F>],
        workspace: &mut LossWorkspace<F>,
        gradients: &mut [Array2<F>],
    ) -> Result<F, LossError> {
        check_count("views", 2, views.len())?;
        match gradients {
            [grad_u, grad_v] => self.loss_and_grad_with(views[0], views[1], workspace, grad_u, grad_v),
            _ => Err(LossError::shape("gradients", "[2] (one per view)", &[gradients.len()])),
        }
    }

    fn value_of_views<F: NdFloat>(&self, views: &[ArrayView2<'_, F>], workspace: &mut LossWorkspace<F>) -> Result<F, LossError> {
        check_count("views", 2, views.len())?;
        self.value_with(views[0], views[1], workspace)
    }
}
