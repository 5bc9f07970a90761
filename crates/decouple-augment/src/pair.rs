//! Positive pairs whose views keep their sparse and dense parts.

use decouple_data::Batch;
use ndarray::{Array2, ArrayView2};
use rand::Rng;

use crate::{AugmentError, Augmentation};

/// One view of a batch: its sparse part, dense part, and the view of `x`
/// (each `n x d1`). `x` is the operator applied to `x` itself; it equals
/// `sparse + dense` up to a few float roundings per coordinate (the bound is
/// in `tests/operators.rs`, `views_of_parts_add_up`).
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    sparse: Array2<f32>,
    dense: Array2<f32>,
    x: Array2<f32>,
}

impl View {
    /// A view from its parts (each `n x d1`); `x` is the view of the sample
    /// itself (for a linear augmentation, `sparse + dense`).
    ///
    /// # Errors
    /// `dense` or `x` of another shape than `sparse`.
    pub fn new(sparse: Array2<f32>, dense: Array2<f32>, x: Array2<f32>) -> Result<Self, AugmentError> {
        for (what, array) in [("dense", &dense), ("x", &x)] {
            if array.dim() != sparse.dim() {
                return Err(AugmentError::ShapeMismatch { what, expected: sparse.shape().to_vec(), found: array.shape().to_vec() });
            }
        }
        Ok(Self { sparse, dense, x })
    }

    /// The view of the samples, taken out of the view.
    #[must_use]
    pub fn into_x(self) -> Array2<f32> {
        self.x
    }

    fn zeros(shape: (usize, usize)) -> Self {
        Self { sparse: Array2::zeros(shape), dense: Array2::zeros(shape), x: Array2::zeros(shape) }
    }

    /// The view of the sparse parts `M z`.
    #[must_use]
    pub fn sparse(&self) -> ArrayView2<'_, f32> {
        self.sparse.view()
    }

    /// The view of the dense parts `xi` (plus any added noise).
    #[must_use]
    pub fn dense(&self) -> ArrayView2<'_, f32> {
        self.dense.view()
    }

    /// The view of the samples `x`.
    #[must_use]
    pub fn x(&self) -> ArrayView2<'_, f32> {
        self.x.view()
    }
}

/// The two views `(x+, x++)` of every sample of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct PositivePair {
    /// `x+`.
    pub first: View,
    /// `x++`.
    pub second: View,
}

impl Augmentation {
    /// Both views of every sample of `batch`, part by part.
    ///
    /// # Errors
    /// Invalid parameters (see [`Augmentation::check`]).
    pub fn apply<R: Rng + ?Sized>(&self, batch: &Batch, rng: &mut R) -> Result<PositivePair, AugmentError> {
        self.apply_parts(batch.sparse(), batch.dense(), batch.x(), rng)
    }

    /// Both views from explicit parts (`n x d1` each, `x = sparse + dense`).
    ///
    /// ```
    /// use decouple_augment::Augmentation;
    /// use ndarray::array;
    /// let sparse = array![[1.0f32, 0.0, -1.0, 0.0]];
    /// let dense = array![[0.5f32, 0.5, 0.5, 0.5]];
    /// let x = &sparse + &dense;
    /// let mut rng = decouple_data::rng::stream(0, "augment");
    /// let pair = Augmentation::ComplementaryMask { keep: 0.5 }
    ///     .apply_parts(sparse.view(), dense.view(), x.view(), &mut rng)
    ///     .unwrap();
    /// // The two views split the coordinates: x+ + x++ = 2 x when keep = 1/2.
    /// assert_eq!(&pair.first.x() + &pair.second.x(), &x * 2.0);
    /// ```
    ///
    /// # Errors
    /// Invalid parameters; shapes that differ.
    pub fn apply_parts<'a, R: Rng + ?Sized>(
        &self,
        sparse: ArrayView2<'a, f32>,
        dense: ArrayView2<'a, f32>,
        x: ArrayView2<'a, f32>,
        rng: &mut R,
    ) -> Result<PositivePair, AugmentError> {
        self.check()?;
        for (what, array) in [("dense", dense), ("x", x)] {
            if array.dim() != sparse.dim() {
                return Err(AugmentError::ShapeMismatch { what, expected: sparse.shape().to_vec(), found: array.shape().to_vec() });
            }
        }
        let mut first = View::zeros(sparse.dim());
        let mut second = View::zeros(sparse.dim());
        self.apply_components(
            &[sparse, dense, x],
            &[false, true, true],
            &mut [first.sparse.view_mut(), first.dense.view_mut(), first.x.view_mut()],
            &mut [second.sparse.view_mut(), second.dense.view_mut(), second.x.view_mut()],
            rng,
        );
        Ok(PositivePair { first, second })
    }
}
