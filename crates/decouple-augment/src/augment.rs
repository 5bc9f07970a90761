//! The [`Augment`] trait: what the trainer and the analysis need from an
//! augmentation, so that users can bring their own.
//!
//! An augmentation is a random map from a batch to `V >= 2` views of every
//! sample (`V = 2` for a positive pair `(x+, x++)`). It makes each view part by
//! part: the view of the sparse parts `M z`, of the dense parts `xi`, and of
//! `x` itself, so that the decoupling statistics `rho_sparse(w)`,
//! `rho_dense(w)` (docs/model.md §2) can be measured for any augmentation. For
//! a linear augmentation (masks, rotations, ...) `view(x) = view(Mz) + view(xi)`;
//! added noise is counted in the dense part.
//!
//! The built-in [`Augmentation`] enum implements the trait and keeps its
//! config form (`{ kind = "ComplementaryMask", keep = 0.5 }`).

use decouple_data::Batch;
use ndarray::Array2;
use rand::Rng;

use crate::{AugmentError, Augmentation, View};

/// An augmentation the trainer is generic over: `n_views()` views of every
/// sample of a batch, made part by part (sparse, dense, sum).
///
/// Implement [`Augment::views`]; override [`Augment::views_of_x_into`] when
/// the training path (views of `x` only, into reused buffers) can be made
/// faster. Both must consume `rng` in the same way, so that the views of `x`
/// agree between the two.
///
/// ```
/// use decouple_augment::{Augment, AugmentError, View};
/// use decouple_data::{Batch, DataConfig, SparseCodingModel};
/// use rand::Rng;
///
/// /// Flips the sign of the whole second view with probability 1/2.
/// struct SignFlip;
///
/// impl Augment for SignFlip {
///     fn label(&self) -> String {
///         "SignFlip".into()
///     }
///     fn views<R: Rng + ?Sized>(&self, batch: &Batch, rng: &mut R) -> Result<Vec<View>, AugmentError> {
///         let sign = if rng.random::<bool>() { -1.0 } else { 1.0 };
///         let first = View::new(batch.sparse().to_owned(), batch.dense().to_owned(), batch.x().to_owned())?;
///         let second = View::new(batch.sparse().mapv(|v| sign * v), batch.dense().mapv(|v| sign * v), batch.x().mapv(|v| sign * v))?;
///         Ok(vec![first, second])
///     }
/// }
///
/// let model = SparseCodingModel::from_seed(DataConfig::default(), 0)?;
/// let mut rng = decouple_data::rng::stream(0, "example");
/// let batch = model.sample(4, &mut rng);
/// let views = SignFlip.views(&batch, &mut rng)?;
/// assert_eq!(views.len(), SignFlip.n_views());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Augment {
    /// A short human-readable label, e.g. `ComplementaryMask(0.5)`.
    fn label(&self) -> String;

    /// Number of views made of every sample, `>= 2` (default 2).
    fn n_views(&self) -> usize {
        2
    }

    /// Validates the parameters (default: nothing to check).
    ///
    /// # Errors
    /// A parameter out of range, named with its allowed range.
    fn check(&self) -> Result<(), AugmentError> {
        Ok(())
    }

    /// The `n_views()` views of every sample of `batch`, part by part (each part `n x d1`).
    ///
    /// # Errors
    /// Invalid parameters.
    fn views<R: Rng + ?Sized>(&self, batch: &Batch, rng: &mut R) -> Result<Vec<View>, AugmentError>;

    /// The views of `x` only (the training path), written into `out` (one
    /// buffer per view, resized if needed). The default goes through
    /// [`Augment::views`] and allocates.
    ///
    /// # Errors
    /// Invalid parameters; `out.len() != n_views()`.
    fn views_of_x_into<R: Rng + ?Sized>(&self, batch: &Batch, out: &mut [Array2<f32>], rng: &mut R) -> Result<(), AugmentError> {
        check_view_count(self.n_views(), out.len())?;
        let views = self.views(batch, rng)?;
        check_view_count(out.len(), views.len())?;
        for (buffer, view) in out.iter_mut().zip(views) {
            *buffer = view.into_x();
        }
        Ok(())
    }
}

/// `found` views where `expected` are needed.
fn check_view_count(expected: usize, found: usize) -> Result<(), AugmentError> {
    if expected == found {
        Ok(())
    } else {
        Err(AugmentError::ShapeMismatch { what: "views", expected: vec![expected], found: vec![found] })
    }
}

impl Augment for Augmentation {
    fn label(&self) -> String {
        Augmentation::label(self)
    }

    fn check(&self) -> Result<(), AugmentError> {
        Augmentation::check(self)
    }

    fn views<R: Rng + ?Sized>(&self, batch: &Batch, rng: &mut R) -> Result<Vec<View>, AugmentError> {
        let pair = self.apply(batch, rng)?;
        Ok(vec![pair.first, pair.second])
    }

    /// The same views of `x` as [`Augment::views`], without the parts and without allocating.
    fn views_of_x_into<R: Rng + ?Sized>(&self, batch: &Batch, out: &mut [Array2<f32>], rng: &mut R) -> Result<(), AugmentError> {
        let [first, second] = out else {
            return check_view_count(2, out.len());
        };
        self.apply_x_into(batch.x(), first, second, rng)
    }
}
