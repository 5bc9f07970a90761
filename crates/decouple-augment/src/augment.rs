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

use decouple_data::{Batch, SecondMoments};
use ndarray::Array2;
use rand::Rng;

use crate::augmentation::{CHUNK, keep_threshold};
use crate::moments::{Component, PairMoments};
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

    /// The exact second moments of the first two views of `component` along a
    /// direction `w`, from the component's [`SecondMoments`] along `w`, when
    /// the augmentation has a closed form (default: `None`; the decoupling
    /// statistics are then measured by Monte Carlo only, and their closed
    /// forms reported as not available).
    fn pair_moments(&self, _component: Component, _moments: SecondMoments) -> Option<PairMoments> {
        None
    }

    /// The two views whose pair correlations are the decoupling statistics,
    /// part by part (default: the first two of [`Augment::views`]).
    ///
    /// # Errors
    /// Invalid parameters; fewer than two views.
    fn decoupling_pair<R: Rng + ?Sized>(&self, batch: &Batch, rng: &mut R) -> Result<(View, View), AugmentError> {
        let mut views = self.views(batch, rng)?.into_iter();
        match (views.next(), views.next()) {
            (Some(first), Some(second)) => Ok((first, second)),
            _ => Err(AugmentError::ShapeMismatch { what: "views", expected: vec![2], found: vec![self.n_views()] }),
        }
    }

    /// Whether every view is the sample itself (default `false`): a pair of
    /// identical views has no decoupling to measure, so it is not reported.
    fn is_identity(&self) -> bool {
        false
    }

    /// Whether its views carry their sparse and dense parts (default `true`);
    /// without them the decoupling statistics are not reported.
    fn has_parts(&self) -> bool {
        true
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

    fn n_views(&self) -> usize {
        match *self {
            Self::IndependentMask { views, .. } => views,
            _ => 2,
        }
    }

    fn check(&self) -> Result<(), AugmentError> {
        Augmentation::check(self)
    }

    fn views<R: Rng + ?Sized>(&self, batch: &Batch, rng: &mut R) -> Result<Vec<View>, AugmentError> {
        if let Self::IndependentMask { keep, rescale, views } = *self {
            if views > 2 {
                self.check()?;
                let parts = [batch.sparse(), batch.dense(), batch.x()];
                let mut masked = independent_masks(keep, rescale, views, &parts, rng).into_iter();
                return masked.by_ref().map(|[sparse, dense, x]| View::new(sparse, dense, x)).collect();
            }
        }
        let pair = self.apply(batch, rng)?;
        Ok(vec![pair.first, pair.second])
    }

    /// The same views of `x` as [`Augment::views`], without the parts (and, for two views, without allocating).
    fn views_of_x_into<R: Rng + ?Sized>(&self, batch: &Batch, out: &mut [Array2<f32>], rng: &mut R) -> Result<(), AugmentError> {
        check_view_count(self.n_views(), out.len())?;
        if let Self::IndependentMask { keep, rescale, views } = *self {
            if views > 2 {
                self.check()?;
                for (buffer, [x]) in out.iter_mut().zip(independent_masks(keep, rescale, views, &[batch.x()], rng)) {
                    *buffer = x;
                }
                return Ok(());
            }
        }
        let [first, second] = out else {
            return check_view_count(2, out.len());
        };
        self.apply_x_into(batch.x(), first, second, rng)
    }

    /// The table of docs/model.md §2 ([`Augmentation::pair_moments`]), for every built-in.
    fn pair_moments(&self, component: Component, moments: SecondMoments) -> Option<PairMoments> {
        Some(Augmentation::pair_moments(self, component, moments))
    }

    /// The positive pair of [`Augmentation::apply`] (two views, whatever `views` is).
    fn decoupling_pair<R: Rng + ?Sized>(&self, batch: &Batch, rng: &mut R) -> Result<(View, View), AugmentError> {
        let pair = self.apply(batch, rng)?;
        Ok((pair.first, pair.second))
    }

    /// `Identity` only.
    fn is_identity(&self) -> bool {
        matches!(self, Self::Identity {})
    }
}

/// `V` views of each of the `N` arrays `parts` (the same masks for every
/// part): view `v` of coordinate `c` keeps it when the `v`-th of `V` fresh
/// `u32` words is below `keep 2^32`, scaled by `1/keep` if `rescale`. Words are
/// drawn in blocks of 256 coordinates, view by view within a coordinate, as
/// the two-view kernel draws them.
fn independent_masks<R: Rng + ?Sized, const N: usize>(
    keep: f64,
    rescale: bool,
    views: usize,
    parts: &[ndarray::ArrayView2<'_, f32>; N],
    rng: &mut R,
) -> Vec<[Array2<f32>; N]> {
    let threshold = keep_threshold(keep);
    let scale = if rescale { (1.0 / keep) as f32 } else { 1.0 };
    let standard: Vec<Vec<f32>> = parts.iter().map(|part| part.as_standard_layout().iter().copied().collect()).collect();
    let total = standard[0].len();
    let mut outputs: Vec<[Vec<f32>; N]> = (0..views).map(|_| std::array::from_fn(|_| vec![0.0; total])).collect();
    let mut words = vec![0u32; views * CHUNK];
    for start in (0..total).step_by(CHUNK) {
        let len = CHUNK.min(total - start);
        rng.fill(&mut words[..views * len]);
        for c in 0..len {
            for (v, output) in outputs.iter_mut().enumerate() {
                let factor = if u64::from(words[c * views + v]) < threshold { scale } else { 0.0 };
                for (out, part) in output.iter_mut().zip(&standard) {
                    out[start + c] = factor * part[start + c];
                }
            }
        }
    }
    let shape = parts[0].dim();
    outputs
        .into_iter()
        .map(|output| output.map(|values| Array2::from_shape_vec(shape, values).expect("one value per coordinate")))
        .collect()
}
