//! Similarity functions between representations and the shared pieces of
//! their backward pass.
//!
//! `sim(a, b) = <a, b>` (`Dot`) or `<a, b> / (max(||a||, eps) max(||b||, eps))`
//! (`Cosine`, `eps = COSINE_EPS`). Both are computed as an inner product of
//! "hat" vectors, `z_hat = z` or `z_hat = z / max(||z||, eps)`, so a batch of
//! similarities is one matrix product of hat matrices. Backward through the
//! normalisation: `dL/dz = (g - z_hat <g, z_hat>) / ||z||` if `||z|| > eps`,
//! and `g / eps` otherwise, where `g = dL/dz_hat`.

use ndarray::{ArrayView1, ArrayViewMut1, ArrayViewMut2, NdFloat, Zip};
use serde::{Deserialize, Serialize};

/// Floor of the norm in the cosine similarity: `z_hat = z / max(||z||, COSINE_EPS)`.
///
/// A zero representation (every neuron below threshold) therefore has
/// `z_hat = 0`, similarity 0 to everything, and a finite gradient.
pub const COSINE_EPS: f64 = 1e-8;

/// The similarity `sim(u_i, v_j)` that contrastive logits `S_ij = sim(u_i, v_j) / tau` are built on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Similarity {
    /// Inner product `<a, b>`.
    Dot,
    /// Cosine `<a, b> / (max(||a||, eps) max(||b||, eps))`, `eps =` [`COSINE_EPS`].
    #[default]
    Cosine,
}

pub(crate) fn cast<F: NdFloat>(x: f64) -> F {
    F::from(x).unwrap_or_else(|| if x > 0.0 { F::infinity() } else { F::neg_infinity() })
}

pub(crate) fn to_f64<F: NdFloat>(x: F) -> f64 {
    x.to_f64().unwrap_or(f64::NAN)
}

impl Similarity {
    /// `sim(a, b)` of two vectors of equal length (a slow, allocation-free reference).
    ///
    /// ```
    /// use decouple_loss::Similarity;
    /// use ndarray::array;
    /// let (a, b) = (array![3.0_f64, 4.0], array![6.0, 8.0]);
    /// assert_eq!(Similarity::Dot.between(a.view(), b.view()), 50.0);
    /// assert!((Similarity::Cosine.between(a.view(), b.view()) - 1.0).abs() < 1e-15);
    /// ```
    #[must_use]
    pub fn between<F: NdFloat>(self, a: ArrayView1<'_, F>, b: ArrayView1<'_, F>) -> F {
        let dot = a.dot(&b);
        match self {
            Self::Dot => dot,
            Self::Cosine => {
                let eps = cast::<F>(COSINE_EPS);
                dot / (a.dot(&a).sqrt().max(eps) * b.dot(&b).sqrt().max(eps))
            }
        }
    }

    /// Turns a row `z` into `z_hat` in place and returns `||z||` (`Cosine`), or leaves it (`Dot`, returns 1).
    pub(crate) fn normalize_row<F: NdFloat>(self, mut z: ArrayViewMut1<'_, F>) -> F {
        match self {
            Self::Dot => F::one(),
            Self::Cosine => {
                let norm = z.dot(&z).sqrt();
                let inv = F::one() / norm.max(cast(COSINE_EPS));
                z.mapv_inplace(|e| e * inv);
                norm
            }
        }
    }

    /// Maps `g = dL/dz_hat` to `dL/dz` given `z_hat` and `||z||` (from [`Similarity::normalize_row`]).
    pub(crate) fn backward_row<F: NdFloat>(
        self,
        hat: ArrayView1<'_, F>,
        norm: F,
        grad_hat: ArrayView1<'_, F>,
        mut grad: ArrayViewMut1<'_, F>,
    ) {
        match self {
            Self::Dot => grad.assign(&grad_hat),
            Self::Cosine => {
                let eps = cast::<F>(COSINE_EPS);
                if norm > eps {
                    let projection = grad_hat.dot(&hat);
                    let inv = F::one() / norm;
                    Zip::from(&mut grad).and(&grad_hat).and(&hat).for_each(|d, &g, &h| *d = (g - h * projection) * inv);
                } else {
                    let inv = F::one() / eps;
                    Zip::from(&mut grad).and(&grad_hat).for_each(|d, &g| *d = g * inv);
                }
            }
        }
    }
}

/// Normalises every row of `hat` in place, storing the row norms in `norms`.
pub(crate) fn normalize_rows<F: NdFloat>(similarity: Similarity, mut hat: ArrayViewMut2<'_, F>, norms: ArrayViewMut1<'_, F>) {
    for (row, norm) in hat.rows_mut().into_iter().zip(norms) {
        *norm = similarity.normalize_row(row);
    }
}
