//! The augmentation operators of docs/model.md §2 and their application to a
//! batch, view by view and part by part.
//!
//! | operator | first view `x+` | second view `x++` |
//! |---|---|---|
//! | `Identity` | `x` | `x` |
//! | `ComplementaryMask { keep: q }` | `D x / q` | `(I - D) x / (1 - q)` |
//! | `IndependentMask { keep: q, rescale, views: V }` | `D1 x (/ q)` | `D2 x (/ q)` (and `D3 x`, ... up to `V` views) |
//! | `GaussianNoise { sigma_a }` | `x + n1` | `x + n2` |
//!
//! `D = diag(Bernoulli(q))`, drawn afresh for every sample; `n ~ N(0, sigma_a^2 I)`.
//! A Bernoulli(`q`) draw is one `u32` compared with `q 2^32`.
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
#[non_exhaustive]
pub enum Augmentation {
    /// No augmentation: both views equal `x`.
    Identity {},
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
        /// Number of views `V >= 2`, each with its own mask (default 2; the peer code's `n_aug`).
        #[serde(default = "default_views")]
        views: usize,
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

fn default_views() -> usize {
    2
}

impl Default for Augmentation {
    /// `ComplementaryMask { keep: 0.5 }`: the paper's `2 D x`, `2 (I - D) x`.
    fn default() -> Self {
        Self::ComplementaryMask { keep: 0.5 }
    }
}

impl Augmentation {
    /// Validates the parameters.
    ///
    /// # Errors
    /// `augmentation.keep` outside `(0, 1)` (complementary) or `(0, 1]`
    /// (independent); `augmentation.sigma_a` negative or not finite.
    pub fn check(&self) -> Result<(), AugmentError> {
        match *self {
            Self::Identity {} => Ok(()),
            Self::ComplementaryMask { keep } if !(keep > 0.0 && keep < 1.0) => {
                Err(AugmentError::OutOfRange { field: "augmentation.keep", value: keep, allowed: "in (0, 1)" })
            }
            Self::IndependentMask { keep, .. } if !(keep > 0.0 && keep <= 1.0) => {
                Err(AugmentError::OutOfRange { field: "augmentation.keep", value: keep, allowed: "in (0, 1]" })
            }
            Self::IndependentMask { views, .. } if views < 2 => {
                Err(AugmentError::OutOfRange { field: "augmentation.views", value: views as f64, allowed: ">= 2" })
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
            Self::Identity {} => "Identity".into(),
            Self::ComplementaryMask { keep } => format!("ComplementaryMask({keep})"),
            Self::IndependentMask { keep, rescale: true, views: 2 } => format!("IndependentMask({keep})"),
            Self::IndependentMask { keep, rescale: false, views: 2 } => format!("IndependentMask({keep}, no rescale)"),
            Self::IndependentMask { keep, rescale, views } => {
                format!("IndependentMask({keep}{}, {views} views)", if rescale { "" } else { ", no rescale" })
            }
            Self::GaussianNoise { sigma_a } => format!("GaussianNoise({sigma_a})"),
        }
    }

    /// The two views of `x` only (the training path), written into `first`
    /// and `second` (resized if needed, so no allocation once sized).
    ///
    /// Draws, coordinate by coordinate in row-major order (the same stream as
    /// [`Augmentation::apply_parts`], so both give the same views of `x`):
    /// one `u32` per mask (compared with `q 2^32`), or two
    /// `rand_distr::StandardNormal` draws for `GaussianNoise`. Random words are
    /// taken from the generator in blocks, which gives the same words as one
    /// call per coordinate.
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
            if buffer.dim() != x.dim() || !buffer.is_standard_layout() {
                *buffer = Array2::zeros(x.dim());
            }
        }
        let x = x.as_standard_layout();
        let x = x.as_slice().expect("standard layout");
        let first = first.as_slice_mut().expect("standard layout");
        let second = second.as_slice_mut().expect("standard layout");
        let plan = RowPlan::new(*self);
        let mut factors = ChunkFactors::new();
        for start in (0..x.len()).step_by(CHUNK) {
            let end = (start + CHUNK).min(x.len());
            plan.draw(end - start, &mut factors, rng);
            let views = first[start..end].iter_mut().zip(&mut second[start..end]).zip(&x[start..end]);
            for (c, ((first, second), &x)) in views.enumerate() {
                *first = factors.scale[0][c] * x + factors.noise[0][c];
                *second = factors.scale[1][c] * x + factors.noise[1][c];
            }
        }
        Ok(())
    }

    /// Views of several `n x d1` arrays under one draw (the part-by-part path):
    /// `view = scale * value + noise`, the noise only for `receives_noise`.
    pub(crate) fn apply_components<R: Rng + ?Sized>(
        &self,
        inputs: &[ArrayView2<'_, f32>],
        receives_noise: &[bool],
        first: &mut [ArrayViewMut2<'_, f32>],
        second: &mut [ArrayViewMut2<'_, f32>],
        rng: &mut R,
    ) {
        let plan = RowPlan::new(*self);
        let mut factors = ChunkFactors::new();
        let total = inputs[0].len();
        let mut coordinates = inputs[0].indexed_iter().map(|(index, _)| index);
        for start in (0..total).step_by(CHUNK) {
            let len = CHUNK.min(total - start);
            plan.draw(len, &mut factors, rng);
            for c in 0..len {
                let index = coordinates.next().expect("one index per coordinate");
                for (component, input) in inputs.iter().enumerate() {
                    let value = input[index];
                    let noisy = receives_noise[component];
                    first[component][index] = factors.scale[0][c] * value + if noisy { factors.noise[0][c] } else { 0.0 };
                    second[component][index] = factors.scale[1][c] * value + if noisy { factors.noise[1][c] } else { 0.0 };
                }
            }
        }
    }
}

/// Coordinates drawn per block.
pub(crate) const CHUNK: usize = 256;

/// `keep 2^32`: a `u32` word below it keeps a coordinate (probability `keep`).
pub(crate) fn keep_threshold(keep: f64) -> u64 {
    (keep * 4_294_967_296.0).round() as u64
}

/// The action on a block of coordinates: `view = scale * value + noise`.
struct ChunkFactors {
    scale: [[f32; CHUNK]; 2],
    noise: [[f32; CHUNK]; 2],
    words: [u32; 2 * CHUNK],
}

impl ChunkFactors {
    fn new() -> Self {
        Self { scale: [[1.0; CHUNK]; 2], noise: [[0.0; CHUNK]; 2], words: [0; 2 * CHUNK] }
    }
}

/// How an augmentation acts on a coordinate, with its constants precomputed.
#[derive(Debug, Clone, Copy)]
enum RowPlan {
    Identity,
    /// Kept (one `u32 < threshold`): `x+ = x * scale[0]`, `x++ = 0`; else `x+ = 0`, `x++ = x * scale[1]`.
    Complementary {
        threshold: u64,
        scale: [f32; 2],
    },
    /// Two draws per coordinate, first view then second view.
    Independent {
        threshold: u64,
        scale: f32,
    },
    /// `x+ = x + n1`, `x++ = x + n2`, `n ~ N(0, sigma^2)`, drawn `n1` then `n2`.
    Noise {
        sigma: f32,
    },
}

impl RowPlan {
    fn new(augmentation: Augmentation) -> Self {
        match augmentation {
            Augmentation::Identity {} => Self::Identity,
            Augmentation::ComplementaryMask { keep } => {
                Self::Complementary { threshold: keep_threshold(keep), scale: [(1.0 / keep) as f32, (1.0 / (1.0 - keep)) as f32] }
            }
            Augmentation::IndependentMask { keep, rescale, .. } => {
                Self::Independent { threshold: keep_threshold(keep), scale: if rescale { (1.0 / keep) as f32 } else { 1.0 } }
            }
            Augmentation::GaussianNoise { sigma_a } => Self::Noise { sigma: sigma_a as f32 },
        }
    }

    /// The factors of the next `len` coordinates (at most [`CHUNK`]).
    fn draw<R: Rng + ?Sized>(&self, len: usize, factors: &mut ChunkFactors, rng: &mut R) {
        // `word < threshold` as the sign bit of `word - threshold` (both < 2^33):
        // arithmetic, not a branch that mispredicts on coin flips.
        let kept = |word: u32, threshold: u64| (u64::from(word).wrapping_sub(threshold) >> 63) as f32;
        let ChunkFactors { scale, noise, words } = factors;
        match *self {
            Self::Identity => {}
            Self::Complementary { threshold, scale: kept_scale } => {
                rng.fill(&mut words[..len]);
                let [first, second] = scale;
                for ((first, second), &word) in first[..len].iter_mut().zip(&mut second[..len]).zip(&words[..len]) {
                    let k = kept(word, threshold);
                    *first = k * kept_scale[0];
                    *second = (1.0 - k) * kept_scale[1];
                }
            }
            Self::Independent { threshold, scale: kept_scale } => {
                rng.fill(&mut words[..2 * len]);
                let [first, second] = scale;
                for ((first, second), pair) in first[..len].iter_mut().zip(&mut second[..len]).zip(words.chunks_exact(2)) {
                    *first = kept(pair[0], threshold) * kept_scale;
                    *second = kept(pair[1], threshold) * kept_scale;
                }
            }
            Self::Noise { sigma } => {
                let [first, second] = noise;
                for (first, second) in first[..len].iter_mut().zip(&mut second[..len]) {
                    *first = sigma * rng.sample::<f32, _>(StandardNormal);
                    *second = sigma * rng.sample::<f32, _>(StandardNormal);
                }
            }
        }
    }
}
