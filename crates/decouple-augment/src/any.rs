//! Augmentations chosen at run time: [`DynAugment`], the object-safe form of
//! [`Augment`] (every `Augment + Send + Sync` is one), and [`AnyAugmentation`],
//! a built-in, an image augmentation or one of your own behind an `Arc`,
//! which is what a run resolved from a config trains with.
//!
//! The random stream is handed to a `dyn` augmentation through a forwarding
//! adapter, so a `dyn` augmentation draws exactly the numbers the same
//! augmentation draws when called directly.

use std::sync::Arc;

use decouple_data::{Batch, SecondMoments};
use ndarray::Array2;
use rand::{Rng, RngCore};

use crate::moments::{Component, PairMoments};
use crate::{Augment, AugmentError, Augmentation, ImageAugmentation, View};

/// [`Augment`] with the random stream as `&mut dyn RngCore`, so that it can
/// be a trait object (`Arc<dyn DynAugment>`). Implemented for every
/// `Augment + Send + Sync`; implement [`Augment`], not this.
pub trait DynAugment: Send + Sync {
    /// [`Augment::label`].
    fn label(&self) -> String;
    /// [`Augment::n_views`].
    fn n_views(&self) -> usize;
    /// [`Augment::check`].
    ///
    /// # Errors
    /// As [`Augment::check`].
    fn check(&self) -> Result<(), AugmentError>;
    /// [`Augment::views`].
    ///
    /// # Errors
    /// As [`Augment::views`].
    fn views_dyn(&self, batch: &Batch, rng: &mut dyn RngCore) -> Result<Vec<View>, AugmentError>;
    /// [`Augment::views_of_x_into`].
    ///
    /// # Errors
    /// As [`Augment::views_of_x_into`].
    fn views_of_x_into_dyn(&self, batch: &Batch, out: &mut [Array2<f32>], rng: &mut dyn RngCore) -> Result<(), AugmentError>;
    /// [`Augment::pair_moments`].
    fn pair_moments(&self, component: Component, moments: SecondMoments) -> Option<PairMoments>;

    /// [`Augment::decoupling_pair`] with a dynamic random stream.
    ///
    /// # Errors
    /// As [`Augment::decoupling_pair`].
    fn decoupling_pair_dyn(&self, batch: &Batch, rng: &mut dyn RngCore) -> Result<(View, View), AugmentError>;

    /// [`Augment::is_identity`].
    fn is_identity(&self) -> bool;

    /// [`Augment::has_parts`].
    fn has_parts(&self) -> bool;
}

impl<A: Augment + Send + Sync> DynAugment for A {
    fn label(&self) -> String {
        Augment::label(self)
    }
    fn n_views(&self) -> usize {
        Augment::n_views(self)
    }
    fn check(&self) -> Result<(), AugmentError> {
        Augment::check(self)
    }
    fn views_dyn(&self, batch: &Batch, rng: &mut dyn RngCore) -> Result<Vec<View>, AugmentError> {
        Augment::views(self, batch, rng)
    }
    fn views_of_x_into_dyn(&self, batch: &Batch, out: &mut [Array2<f32>], rng: &mut dyn RngCore) -> Result<(), AugmentError> {
        Augment::views_of_x_into(self, batch, out, rng)
    }
    fn pair_moments(&self, component: Component, moments: SecondMoments) -> Option<PairMoments> {
        Augment::pair_moments(self, component, moments)
    }

    fn decoupling_pair_dyn(&self, batch: &Batch, rng: &mut dyn RngCore) -> Result<(View, View), AugmentError> {
        Augment::decoupling_pair(self, batch, rng)
    }

    fn is_identity(&self) -> bool {
        Augment::is_identity(self)
    }

    fn has_parts(&self) -> bool {
        Augment::has_parts(self)
    }
}

/// Forwards every draw to the wrapped generator (so that a generic `&mut R`
/// can be passed on as `&mut dyn RngCore` without changing the stream).
struct Forward<'a, R: RngCore + ?Sized>(&'a mut R);

impl<R: RngCore + ?Sized> RngCore for Forward<'_, R> {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest);
    }
}

/// The augmentation of a run: a built-in [`Augmentation`], an
/// [`ImageAugmentation`] (patch data), or your own (resolved from a config by
/// a registry of constructors, or passed directly).
#[derive(Clone)]
#[non_exhaustive]
pub enum AnyAugmentation {
    /// One of the built-in [`Augmentation`]s.
    Builtin(Augmentation),
    /// An [`ImageAugmentation`].
    Image(ImageAugmentation),
    /// Your own.
    Custom(Arc<dyn DynAugment>),
}

impl std::fmt::Debug for AnyAugmentation {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Builtin(a) => formatter.debug_tuple("Builtin").field(a).finish(),
            Self::Image(a) => formatter.debug_tuple("Image").field(a).finish(),
            Self::Custom(a) => formatter.debug_tuple("Custom").field(&a.label()).finish(),
        }
    }
}

impl From<Augmentation> for AnyAugmentation {
    fn from(augmentation: Augmentation) -> Self {
        Self::Builtin(augmentation)
    }
}

impl From<ImageAugmentation> for AnyAugmentation {
    fn from(augmentation: ImageAugmentation) -> Self {
        Self::Image(augmentation)
    }
}

impl Augment for AnyAugmentation {
    fn label(&self) -> String {
        match self {
            Self::Builtin(a) => Augment::label(a),
            Self::Image(a) => Augment::label(a),
            Self::Custom(a) => a.label(),
        }
    }

    fn n_views(&self) -> usize {
        match self {
            Self::Builtin(a) => Augment::n_views(a),
            Self::Image(a) => Augment::n_views(a),
            Self::Custom(a) => a.n_views(),
        }
    }

    fn check(&self) -> Result<(), AugmentError> {
        match self {
            Self::Builtin(a) => Augment::check(a),
            Self::Image(a) => Augment::check(a),
            Self::Custom(a) => a.check(),
        }
    }

    fn views<R: Rng + ?Sized>(&self, batch: &Batch, rng: &mut R) -> Result<Vec<View>, AugmentError> {
        match self {
            Self::Builtin(a) => a.views(batch, rng),
            Self::Image(a) => a.views(batch, rng),
            Self::Custom(a) => a.views_dyn(batch, &mut Forward(rng)),
        }
    }

    fn views_of_x_into<R: Rng + ?Sized>(&self, batch: &Batch, out: &mut [Array2<f32>], rng: &mut R) -> Result<(), AugmentError> {
        match self {
            Self::Builtin(a) => a.views_of_x_into(batch, out, rng),
            Self::Image(a) => a.views_of_x_into(batch, out, rng),
            Self::Custom(a) => a.views_of_x_into_dyn(batch, out, &mut Forward(rng)),
        }
    }

    fn pair_moments(&self, component: Component, moments: SecondMoments) -> Option<PairMoments> {
        match self {
            Self::Builtin(a) => Augment::pair_moments(a, component, moments),
            Self::Image(a) => Augment::pair_moments(a, component, moments),
            Self::Custom(a) => a.pair_moments(component, moments),
        }
    }

    fn decoupling_pair<R: Rng + ?Sized>(&self, batch: &Batch, rng: &mut R) -> Result<(View, View), AugmentError> {
        match self {
            Self::Builtin(a) => a.decoupling_pair(batch, rng),
            Self::Image(a) => a.decoupling_pair(batch, rng),
            Self::Custom(a) => a.decoupling_pair_dyn(batch, &mut Forward(rng)),
        }
    }

    fn is_identity(&self) -> bool {
        match self {
            Self::Builtin(a) => Augment::is_identity(a),
            Self::Image(a) => Augment::is_identity(a),
            Self::Custom(a) => a.is_identity(),
        }
    }

    fn has_parts(&self) -> bool {
        match self {
            Self::Builtin(a) => Augment::has_parts(a),
            Self::Image(a) => Augment::has_parts(a),
            Self::Custom(a) => a.has_parts(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use decouple_data::{DataConfig, SparseCodingModel, rng};

    /// A built-in behind `Arc<dyn DynAugment>` draws the same views as the built-in itself.
    #[test]
    fn a_dyn_augmentation_draws_the_same_stream() {
        let mut config = DataConfig::default();
        (config.d, config.d1) = (4, 32);
        let model = SparseCodingModel::from_seed(config, 1).unwrap();
        let batch = model.sample(16, &mut rng::stream(1, "data"));
        let mask = Augmentation::ComplementaryMask { keep: 0.3 };
        let custom = AnyAugmentation::Custom(Arc::new(mask));
        let direct = mask.views(&batch, &mut rng::stream(1, "augment")).unwrap();
        let erased = custom.views(&batch, &mut rng::stream(1, "augment")).unwrap();
        for (a, b) in direct.iter().zip(&erased) {
            assert_eq!(a.x(), b.x());
            assert_eq!(a.sparse(), b.sparse());
        }
        let mut out = vec![Array2::zeros((0, 0)), Array2::zeros((0, 0))];
        custom.views_of_x_into(&batch, &mut out, &mut rng::stream(1, "augment")).unwrap();
        assert_eq!(out[0], direct[0].x());
        assert_eq!(Augment::label(&custom), "ComplementaryMask(0.3)");
        let moments = SecondMoments { quad: 1.0, diag: 0.5, norm2: 1.0 };
        assert_eq!(Augment::pair_moments(&custom, Component::Sparse, moments), Some(mask.pair_moments(Component::Sparse, moments)));
    }
}
