//! The error type of `decouple-data`: every variant names the offending field
//! and the range it must lie in.

/// What can go wrong when configuring or using the data model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// A numeric field is outside its allowed range.
    #[error("{field} = {value} is out of range: must be {allowed}")]
    OutOfRange {
        /// Dotted name of the field, e.g. `latent.p`.
        field: &'static str,
        /// The offending value (integers are converted to `f64`).
        value: f64,
        /// The allowed range in words, e.g. `in [0, 1]`.
        allowed: String,
    },
    /// Two arrays that must agree in shape do not.
    #[error("shape mismatch for {what}: expected {expected:?}, found {found:?}")]
    ShapeMismatch {
        /// Which array.
        what: &'static str,
        /// The shape required.
        expected: Vec<usize>,
        /// The shape given.
        found: Vec<usize>,
    },
    /// A matrix that must have orthonormal columns does not.
    #[error("{what} does not have orthonormal columns: max |M^T M - I| = {deviation:e} > {tolerance:e}")]
    NotOrthonormal {
        /// Which matrix.
        what: &'static str,
        /// The largest deviation of `M^T M` from the identity.
        deviation: f64,
        /// The tolerance that was exceeded.
        tolerance: f64,
    },
    /// A task cannot produce labels (e.g. every sample is a tie).
    #[error("{what}: drew {attempts} samples without collecting {wanted} labelled ones; {hint}")]
    NotEnoughLabels {
        /// Which task.
        what: &'static str,
        /// Labelled samples required.
        wanted: usize,
        /// Samples drawn before giving up.
        attempts: usize,
        /// What to change.
        hint: &'static str,
    },
}

impl DataError {
    /// Shorthand for [`DataError::OutOfRange`].
    pub fn out_of_range(field: &'static str, value: f64, allowed: impl Into<String>) -> Self {
        Self::OutOfRange { field, value, allowed: allowed.into() }
    }
}
