//! The error type of `decouple-augment`.

/// What can go wrong when configuring or applying an augmentation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AugmentError {
    /// A parameter is outside its allowed range.
    #[error("{field} = {value} is out of range: must be {allowed}")]
    OutOfRange {
        /// Dotted field name, e.g. `augmentation.keep`.
        field: &'static str,
        /// The offending value.
        value: f64,
        /// The allowed range in words.
        allowed: &'static str,
    },
    /// Two arrays that must agree in shape do not.
    #[error("shape mismatch: {what} has shape {found:?}, expected {expected:?}")]
    ShapeMismatch {
        /// Which array.
        what: &'static str,
        /// The required shape.
        expected: Vec<usize>,
        /// The given shape.
        found: Vec<usize>,
    },
    /// An augmentation of your own failed (e.g. a Python function raised).
    #[error("the augmentation `{label}` failed: {message}")]
    Failed {
        /// The augmentation's label.
        label: String,
        /// What went wrong.
        message: String,
    },
}
