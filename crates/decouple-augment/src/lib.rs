//! Augmentations that turn a sample into a positive pair `(x+, x++)`, and the
//! feature-decoupling statistics they induce (docs/model.md §2).
//!
//! Every operator here is a random diagonal mask or additive noise, so each
//! view splits into the view of the sparse part `M z` and the view of the dense
//! part `xi` ([`PositivePair`]). Feature decoupling is the statement that a
//! good augmentation keeps `rho_sparse(M_j)` near 1 while sending
//! `rho_dense(w)` to 0 for every `w`; [`decoupling`] gives exact closed forms
//! and a Monte Carlo estimator with its standard error.
//!
//! Your own augmentation plugs into the trainer and the analysis through the
//! [`Augment`] trait, which [`Augmentation`] implements.
//!
//! ```
//! use decouple_augment::{Augmentation, Component};
//! use decouple_data::SecondMoments;
//! // Isotropic dense noise under a complementary mask: rho_dense = 0 for every w.
//! let dense = SecondMoments { quad: 1.0, diag: 1.0, norm2: 1.0 };
//! let moments = Augmentation::ComplementaryMask { keep: 0.5 }.pair_moments(Component::Dense, dense);
//! assert_eq!(moments.correlation(), Some(0.0));
//! ```

mod any;
mod augment;
mod augmentation;
pub mod decoupling;
mod error;
mod image;
mod moments;
mod pair;

pub use any::{AnyAugmentation, DynAugment};
pub use augment::Augment;
pub use augmentation::Augmentation;
pub use decoupling::{CorrelationAccumulator, CorrelationEstimate, DecouplingAccumulator, PairCovariances};
pub use error::AugmentError;
pub use image::ImageAugmentation;
pub use moments::{Component, PairMoments};
pub use pair::{PositivePair, View};
