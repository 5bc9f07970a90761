//! The error type of `decouple-loss`: every variant names the offending field
//! (or array) and the range or shape it must have.

/// What can go wrong when configuring or evaluating a loss.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LossError {
    /// A scalar hyperparameter is outside its allowed range.
    #[error("{field} = {value} must be {allowed}")]
    OutOfRange {
        /// Name of the field, e.g. `temperature`.
        field: &'static str,
        /// The offending value.
        value: f64,
        /// The allowed range in words, e.g. `finite and > 0`.
        allowed: &'static str,
    },
    /// An input array does not have the shape the loss needs.
    #[error("shape mismatch for {what}: expected {expected}, found {found:?}")]
    ShapeMismatch {
        /// Which array, e.g. `v` or `labels`.
        what: &'static str,
        /// The shape required, e.g. `[B = 4, m = 3] (the shape of u)`.
        expected: String,
        /// The shape given.
        found: Vec<usize>,
    },
    /// A contrastive loss needs at least one negative per anchor.
    #[error("batch size B = {batch} must be >= 2: a contrastive loss needs at least one negative per anchor")]
    BatchTooSmall {
        /// The batch size given.
        batch: usize,
    },
    /// One entry of an input array is outside its allowed set.
    #[error("{what}[{index}] = {value} must be {allowed}")]
    InvalidEntry {
        /// Which array, e.g. `labels`.
        what: &'static str,
        /// Index of the first offending entry.
        index: usize,
        /// The offending value.
        value: f64,
        /// The allowed values in words, e.g. `-1 or +1`.
        allowed: &'static str,
    },
}

impl LossError {
    /// Shorthand for [`LossError::ShapeMismatch`].
    pub(crate) fn shape(what: &'static str, expected: impl Into<String>, found: &[usize]) -> Self {
        Self::ShapeMismatch { what, expected: expected.into(), found: found.to_vec() }
    }
}
