//! The augmentation operators of SPEC section 2 and their application to a
//! batch, view by view and part by part.
//!
//! | operator | first view `x+` | second view `x++` |
//! |---|---|---|
//! | `Identity` | `x` | `x` |
//! | `ComplementaryMask { keep: q }` | `D x / q` | `(I - D) x / (1 - q)` |
//! | `IndependentMask { keep: q, rescale }` | `D1 x (/ q)` | `D2 x (/ q)` |
//! | `GaussianNoise { sigma_a }` | `x + n1` | `x + n2` |
//!
//! `D = diag(Bernoulli(q))`, drawn afresh for every sample; `n ~ N(0, sigma_a^2 I)`.
//! Masks are linear, so the view of `x` is the view of its sparse part plus
//! the view of its dense part (same mask on every summand); added noise is
//! counted in the dense part.

use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::AugmentError;

/// An augmentation: a random map from a sample to a positive pair.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
pub enum Augmentation {
    /// No augmentation: both views equal `x`.
    Identity,
    /// `x+ = D x / q`, `x++ = (I - D) x / (1 - q)`: the two views split the coordinates.
    ComplementaryMask {
        /// Keep probability `q`, in `(0, 1)`.
        keep: f64,
    },
    /// Two independent masks `D1`, `D2` with keep probability `q`.
    IndependentMask {
        /// Keep probability `q`, in `(0, 1]`.
        keep: f64,
        /// Divide by `q` so that `E[view] = x`.
        #[serde(default = "default_rescale")]
        rescale: bool,
    },
    /// Additive Gaussian noise `N(0, sigma_a^2 I)`, independent for each view (a weak augmentation).
    GaussianNoise {
        /// Standard deviation of the added noise, `>= 0`.
        sigma_a: f64,
    },
}

fn default_rescale() -> bool {
    true
}

impl Default for Augmentation {
    /// `ComplementaryMask { keep: 0.5 }`: the paper's `2 D x`, `2 (I - D) x`.
    fn default() -> Self {
        Self::ComplementaryMask { keep: 0.5 }
    }
}

/// Per-coordinate action on one sample: `view = scale * value + noise`.
#[derive(Debug, Clone, Copy)]
struct CoordinateDraw {
    scale: [f32; 2],
    noise: [f32; 2],
}

impl Augmentation {
    /// Validates the parameters.
    ///
    /// # Errors
    /// `augmentation.keep` outside `(0, 1)` (complementary) or `(0, 1]`
    /// (independent); `augmentation.sigma_a` negative or not finite.
    pub fn check(&self) -> Result<(), AugmentError> {
        match *self {
            Self::Identity => Ok(()),
            Self::ComplementaryMask { keep } if !(keep > 0.0 && keep < 1.0) => {
                Err(AugmentError::OutOfRange { field: "augmentation.keep", value: keep, allowed: "in (0, 1)" })
            }
            Self::IndependentMask { keep, .. } if !(keep > 0.0 && keep <= 1.0) => {
                Err(AugmentError::OutOfRange { field: "augmentation.keep", value: keep, allowed: "in (0, 1]" })
            }
            Self::GaussianNoise { sigma_a } if !(sigma_a.is_finite() && sigma_a >= 0.0) => {
                Err(AugmentError::OutOfRange { field: "augmentation.sigma_a", value: sigma_a, allowed: "finite and >= 0" })
            }
            _ => Ok(()),
        }
    }

    /// A short human-readable label, e.g. `ComplementaryMask(0.5)`.
    #[must_use]
    pub fn label(&self) -> String {
        match *self {
            Self::Identity => "Identity".into(),
            Self::ComplementaryMask { keep } => format!("ComplementaryMask({keep})"),
            Self::IndependentMask { keep, rescale: true } => format!("IndependentMask({keep})"),
            Self::IndependentMask { keep, rescale: false } => format!("IndependentMask({keep}, no rescale)"),
            Self::GaussianNoise { sigma_a } => format!("GaussianNoise({sigma_a})"),
        }
    }

    /// Applies the augmentation to each row of every array in `inputs`
    /// (all `n x d1`), writing views into `first[c]` and `second[c]`. The
    /// same random draw acts on every array; additive noise is added only to
    /// the arrays with `receives_noise[c]`. Random numbers are drawn per
    /// coordinate in row-major order, independently of how many arrays are
    /// transformed, so the x-only and the part-by-part paths agree.
    pub(crate) fn apply_components<R: Rng + ?Sized>(
        &self,
        inputs: &[ArrayView2<'_, f32>],
        receives_noise: &[bool],
        first: &mut [ArrayViewMut2<'_, f32>],
        second: &mut [ArrayViewMut2<'_, f32>],
        rng: &mut R,
    ) {
        let (n, d1) = inputs[0].dim();
        let sampler = CoordinateSampler::new(*self);
        for row in 0..n {
            for column in 0..d1 {
                let draw = sampler.draw(rng);
                for (component, input) in inputs.iter().enumerate() {
                    let value = input[[row, column]];
                    let noisy = receives_noise[component];
                    first[component][[row, column]] = draw.scale[0] * value + if noisy { draw.noise[0] } else { 0.0 };
                    second[component][[row, column]] = draw.scale[1] * value + if noisy { draw.noise[1] } else { 0.0 };
                }
            }
        }
    }

    /// The two views of `x` only (the training path), written into `first`
    /// and `second` (resized if needed, so no allocation once sized).
    ///
    /// # Errors
    /// Invalid parameters (see [`Augmentation::check`]).
    pub fn apply_x_into<R: Rng + ?Sized>(
        &self,
        x: ArrayView2<'_, f32>,
        first: &mut Array2<f32>,
        second: &mut Array2<f32>,
        rng: &mut R,
    ) -> Result<(), AugmentError> {
        self.check()?;
        for buffer in [&mut *first, &mut *second] {
            if buffer.dim() != x.dim() {
                *buffer = Array2::zeros(x.dim());
            }
        }
        self.apply_components(&[x], &[true], &mut [first.view_mut()], &mut [second.view_mut()], rng);
        Ok(())
    }
}

/// Draws the per-coordinate action of an augmentation.
struct CoordinateSampler {
    augmentation: Augmentation,
    /// `keep` as a threshold on a uniform `u32`.
    threshold: u64,
    scale_kept: [f32; 2],
}

impl CoordinateSampler {
    fn new(augmentation: Augmentation) -> Self {
        let (keep, scale_kept) = match augmentation {
            Augmentation::ComplementaryMask { keep } => (keep, [(1.0 / keep) as f32, (1.0 / (1.0 - keep)) as f32]),
            Augmentation::IndependentMask { keep, rescale } => {
                let scale = if rescale { (1.0 / keep) as f32 } else { 1.0 };
                (keep, [scale, scale])
            }
            Augmentation::Identity | Augmentation::GaussianNoise { .. } => (1.0, [1.0, 1.0]),
        };
        let threshold = (keep * 4_294_967_296.0).round() as u64;
        Self { augmentation, threshold, scale_kept }
    }

    /// `P(bit) = keep`, from one `u32`.
    fn bernoulli<R: Rng + ?Sized>(&self, rng: &mut R) -> bool {
        u64::from(rng.next_u32()) < self.threshold
    }

    fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> CoordinateDraw {
        let none = CoordinateDraw { scale: [1.0, 1.0], noise: [0.0, 0.0] };
        match self.augmentation {
            Augmentation::Identity => none,
            Augmentation::ComplementaryMask { .. } => {
                let kept = self.bernoulli(rng);
                let scale = if kept { [self.scale_kept[0], 0.0] } else { [0.0, self.scale_kept[1]] };
                CoordinateDraw { scale, ..none }
            }
            Augmentation::IndependentMask { .. } => {
                let scale = [
                    if self.bernoulli(rng) { self.scale_kept[0] } else { 0.0 },
                    if self.bernoulli(rng) { self.scale_kept[1] } else { 0.0 },
                ];
                CoordinateDraw { scale, ..none }
            }
            Augmentation::GaussianNoise { sigma_a } => {
                let sigma = sigma_a as f32;
                let noise = [sigma * rng.sample::<f32, _>(StandardNormal), sigma * rng.sample::<f32, _>(StandardNormal)];
                CoordinateDraw { noise, ..none }
            }
        }
    }
}
