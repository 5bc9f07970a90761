//! Image-style augmentations of patch data (samples are `height x width`
//! images, row-major), each view drawn independently per sample:
//! `view(x) = K ⊙ (c T_s x + b 1)` with `T_s` a translation by
//! `s = (dy, dx)` uniform in `[-shift, shift]^2` (vacated pixels 0: a random
//! crop re-padded to the patch), `c = 1 + contrast u`, `b = brightness u'`
//! (`u, u'` uniform in `[-1, 1]`), and `K` a cutout mask zeroing one
//! `cutout x cutout` square at a uniform position inside the patch.
//!
//! Part by part: `view(Mz) = K ⊙ c T_s Mz` and `view(xi) = K ⊙ (c T_s xi + b 1)`
//! (the brightness offset is counted in the dense part, as added noise is),
//! so `view(x) = view(Mz) + view(xi)`. For samples with no decomposition
//! (`Batch::from_samples`) the whole sample is transformed.

use decouple_data::Batch;
use ndarray::{Array2, ArrayView2};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::{Augment, AugmentError, View};

/// Random translation, contrast and brightness jitter, and cutout of image patches.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ImageAugmentation {
    /// Rows of pixels of a sample.
    pub height: usize,
    /// Columns of pixels of a sample.
    pub width: usize,
    /// Largest translation in pixels, `< min(height, width)` (0: none).
    #[serde(default)]
    pub shift: usize,
    /// Contrast jitter `c = 1 + contrast u`, `contrast in [0, 1)` (0: none).
    #[serde(default)]
    pub contrast: f64,
    /// Brightness jitter `b = brightness u'`, `>= 0` (0: none).
    #[serde(default)]
    pub brightness: f64,
    /// Side of the cutout square, `<= min(height, width)` (0: none).
    #[serde(default)]
    pub cutout: usize,
}

/// One view's random draw for one sample.
#[derive(Debug, Clone, Copy)]
struct Draw {
    dy: isize,
    dx: isize,
    contrast: f32,
    brightness: f32,
    top: usize,
    left: usize,
}

impl ImageAugmentation {
    /// No transformation (every view is the sample) on `height x width` images; set fields to add some.
    #[must_use]
    pub fn new(height: usize, width: usize) -> Self {
        Self { height, width, shift: 0, contrast: 0.0, brightness: 0.0, cutout: 0 }
    }

    /// A short label, e.g. `Image(shift 1, contrast 0.4, brightness 0.4, cutout 3)`.
    #[must_use]
    pub fn label(&self) -> String {
        let mut parts = Vec::new();
        if self.shift > 0 {
            parts.push(format!("shift {}", self.shift));
        }
        if self.contrast > 0.0 {
            parts.push(format!("contrast {}", self.contrast));
        }
        if self.brightness > 0.0 {
            parts.push(format!("brightness {}", self.brightness));
        }
        if self.cutout > 0 {
            parts.push(format!("cutout {}", self.cutout));
        }
        format!("Image({})", if parts.is_empty() { "none".to_string() } else { parts.join(", ") })
    }

    fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> Draw {
        let shift = self.shift as i64;
        let mut jitter = |scale: f64| if scale > 0.0 { (scale * rng.random_range(-1.0..=1.0)) as f32 } else { 0.0 };
        let contrast = 1.0 + jitter(self.contrast);
        let brightness = jitter(self.brightness);
        let (dy, dx) =
            if shift > 0 { (rng.random_range(-shift..=shift) as isize, rng.random_range(-shift..=shift) as isize) } else { (0, 0) };
        let (top, left) = if self.cutout > 0 {
            (rng.random_range(0..=self.height - self.cutout), rng.random_range(0..=self.width - self.cutout))
        } else {
            (0, 0)
        };
        Draw { dy, dx, contrast, brightness, top, left }
    }

    /// `K ⊙ (c T_s x + offset b 1)` of one sample into `out`.
    fn transform(&self, draw: &Draw, input: &[f32], out: &mut [f32], offset: bool) {
        let (h, w) = (self.height as isize, self.width as isize);
        let brightness = if offset { draw.brightness } else { 0.0 };
        for r in 0..h {
            for c in 0..w {
                let (sr, sc) = (r - draw.dy, c - draw.dx);
                let source = if (0..h).contains(&sr) && (0..w).contains(&sc) { input[(sr * w + sc) as usize] } else { 0.0 };
                let (ru, cu) = (r as usize, c as usize);
                let cut = self.cutout > 0
                    && (draw.top..draw.top + self.cutout).contains(&ru)
                    && (draw.left..draw.left + self.cutout).contains(&cu);
                out[(r * w + c) as usize] = if cut { 0.0 } else { draw.contrast * source + brightness };
            }
        }
    }

    fn check_batch(&self, d1: usize) -> Result<(), AugmentError> {
        if d1 == self.height * self.width {
            Ok(())
        } else {
            Err(AugmentError::ShapeMismatch {
                what: "samples (height x width pixels)",
                expected: vec![self.height * self.width],
                found: vec![d1],
            })
        }
    }

    /// Views of the given parts (each `n x d1`); `offsets[k]` says whether part `k` takes the brightness offset.
    fn views_of<R: Rng + ?Sized, const N: usize>(
        &self,
        parts: [ArrayView2<'_, f32>; N],
        offsets: [bool; N],
        rng: &mut R,
    ) -> Vec<[Array2<f32>; N]> {
        let (n, d1) = parts[0].dim();
        let standard: Vec<Vec<f32>> = parts.iter().map(|part| part.as_standard_layout().iter().copied().collect()).collect();
        (0..2)
            .map(|_| {
                let mut outputs: [Vec<f32>; N] = std::array::from_fn(|_| vec![0.0; n * d1]);
                for i in 0..n {
                    let draw = self.draw(rng);
                    for k in 0..N {
                        self.transform(&draw, &standard[k][i * d1..(i + 1) * d1], &mut outputs[k][i * d1..(i + 1) * d1], offsets[k]);
                    }
                }
                outputs.map(|values| Array2::from_shape_vec((n, d1), values).expect("n x d1 values"))
            })
            .collect()
    }
}

impl Augment for ImageAugmentation {
    fn label(&self) -> String {
        ImageAugmentation::label(self)
    }

    fn check(&self) -> Result<(), AugmentError> {
        let out_of_range = |field, value: f64, allowed| Err(AugmentError::OutOfRange { field, value, allowed });
        if self.height == 0 || self.width == 0 {
            return out_of_range("augmentation.height", (self.height.min(self.width)) as f64, ">= 1 (and width >= 1)");
        }
        let side = self.height.min(self.width);
        if self.shift >= side {
            return out_of_range("augmentation.shift", self.shift as f64, "< min(height, width)");
        }
        if !(0.0..1.0).contains(&self.contrast) {
            return out_of_range("augmentation.contrast", self.contrast, "in [0, 1)");
        }
        if !(self.brightness.is_finite() && self.brightness >= 0.0) {
            return out_of_range("augmentation.brightness", self.brightness, "finite and >= 0");
        }
        if self.cutout > side {
            return out_of_range("augmentation.cutout", self.cutout as f64, "<= min(height, width)");
        }
        Ok(())
    }

    fn views<R: Rng + ?Sized>(&self, batch: &Batch, rng: &mut R) -> Result<Vec<View>, AugmentError> {
        Augment::check(self)?;
        self.check_batch(batch.d1())?;
        self.views_of([batch.sparse(), batch.dense(), batch.x()], [false, true, true], rng)
            .into_iter()
            .map(|[sparse, dense, x]| View::new(sparse, dense, x))
            .collect()
    }

    fn views_of_x_into<R: Rng + ?Sized>(&self, batch: &Batch, out: &mut [Array2<f32>], rng: &mut R) -> Result<(), AugmentError> {
        Augment::check(self)?;
        self.check_batch(batch.d1())?;
        if out.len() != 2 {
            return Err(AugmentError::ShapeMismatch { what: "views", expected: vec![2], found: vec![out.len()] });
        }
        for (buffer, [x]) in out.iter_mut().zip(self.views_of([batch.x()], [true], rng)) {
            *buffer = x;
        }
        Ok(())
    }
}
