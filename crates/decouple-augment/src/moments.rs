//! The pair moments of an augmentation along a direction: what the closed
//! forms of the decoupling statistics are made of (docs/model.md §2).

use serde::{Deserialize, Serialize};

/// Which part of a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Component {
    /// The sparse part `M z`.
    Sparse,
    /// The dense part `xi` (plus any noise an augmentation adds).
    Dense,
}

/// Second moments of `<w, c+>` and `<w, c++>` over samples and augmentation draws.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairMoments {
    /// `E[<w,c+><w,c++>]`.
    pub cross: f64,
    /// `E[<w,c+>^2]`.
    pub first: f64,
    /// `E[<w,c++>^2]`.
    pub second: f64,
}

impl PairMoments {
    /// `cross / sqrt(first * second)`, or `None` if a view has zero variance along `w`.
    #[must_use]
    pub fn correlation(&self) -> Option<f64> {
        let denominator = (self.first * self.second).sqrt();
        (denominator > 0.0).then(|| self.cross / denominator)
    }
}
