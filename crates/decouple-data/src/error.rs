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

/// What can go wrong when reading a data file: every variant names the file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The file cannot be opened or read.
    #[error("{path}: cannot read the file: {reason}")]
    Unreadable {
        /// The file.
        path: String,
        /// The operating system's reason.
        reason: String,
    },
    /// The file's extension names no supported format.
    #[error("{path}: unsupported data format {extension:?}: use .npy or .csv")]
    Format {
        /// The file.
        path: String,
        /// Its extension.
        extension: String,
    },
    /// The array holds another shape than required.
    #[error("{path}: {what} has shape {found:?}, expected {expected}")]
    Shape {
        /// The file.
        path: String,
        /// Which array (`samples`, `labels`).
        what: &'static str,
        /// The shape found.
        found: Vec<usize>,
        /// The shape required, in words (e.g. `(n, d) with n >= 2`).
        expected: String,
    },
    /// A `.npy` file whose element type is not a real number.
    #[error("{path}: unsupported dtype {dtype}: expected a float (f4, f8) or integer (i1..i8, u1..u8) array")]
    Dtype {
        /// The file.
        path: String,
        /// The dtype descriptor of the header.
        dtype: String,
    },
    /// A file that ends before its header's shape is filled, or has bytes after it.
    #[error("{path}: truncated or damaged: {reason}")]
    Truncated {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The file cannot be parsed (header or CSV text).
    #[error("{path}: {reason}")]
    Parse {
        /// The file.
        path: String,
        /// Where and what, e.g. `line 3, field 2: "x" is not a number`.
        reason: String,
    },
    /// A value that is NaN or infinite.
    #[error("{path}: {what} holds a non-finite value ({value}) at row {row}, column {column}")]
    NonFinite {
        /// The file.
        path: String,
        /// Which array.
        what: &'static str,
        /// 0-based row.
        row: usize,
        /// 0-based column.
        column: usize,
        /// The value.
        value: f64,
    },
    /// Labels that are not integers.
    #[error("{path}: label {value} at row {row} is not an integer")]
    NotInteger {
        /// The file.
        path: String,
        /// 0-based row.
        row: usize,
        /// The value.
        value: f64,
    },
    /// The file's bytes are not the ones the run was configured with (it was edited since).
    #[error(
        "{path}: the file changed since the run was configured (digest {found}, the config records {expected}); \
         resolve the config again to train on the new contents"
    )]
    Changed {
        /// The file.
        path: String,
        /// The digest the config records.
        expected: String,
        /// The digest of the file now.
        found: String,
    },
    /// A preprocessing setting out of range.
    #[error(transparent)]
    Config(#[from] DataError),
}
