//! The error type of `decouple-net`: every variant names the offending field
//! (or array) and the range or shape it must have.

/// What can go wrong when building, configuring or running a [`crate::SymReluNet`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// A scalar parameter is outside its allowed range.
    #[error("{field} = {value} must be {allowed}")]
    OutOfRange {
        /// Name of the field, e.g. `sigma0` or `bias_rule.ramp`.
        field: &'static str,
        /// The offending value (integers are converted to `f64`).
        value: f64,
        /// The allowed range in words, e.g. `finite and > 0`.
        allowed: &'static str,
    },
    /// One entry of an array is outside its allowed range.
    #[error("{what}{index:?} = {value} must be {allowed}")]
    InvalidEntry {
        /// Which array, e.g. `bias`.
        what: &'static str,
        /// Index of the first offending entry.
        index: Vec<usize>,
        /// The offending value.
        value: f64,
        /// The allowed range in words.
        allowed: &'static str,
    },
    /// Two arrays that must agree in shape do not.
    #[error("shape mismatch for {what}: expected {expected}, found {found:?}")]
    ShapeMismatch {
        /// Which array, e.g. `x` or `grad_out`.
        what: &'static str,
        /// The shape required, e.g. `[B, d1 = 8]`.
        expected: String,
        /// The shape given.
        found: Vec<usize>,
    },
}

impl NetError {
    /// Shorthand for [`NetError::ShapeMismatch`].
    pub(crate) fn shape(what: &'static str, expected: impl Into<String>, found: &[usize]) -> Self {
        Self::ShapeMismatch { what, expected: expected.into(), found: found.to_vec() }
    }
}
