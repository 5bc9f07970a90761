//! The crate's single error type, [`AnalysisError`], and the small validation
//! helpers every metric uses on its inputs (shapes, emptiness, finiteness,
//! thresholds, regularisation strengths, labels).
//!
//! Every message names the offending field and the allowed range or shape, so
//! that a failing experiment says what to fix.

use ndarray::{ArrayView1, ArrayView2};

/// Everything that can go wrong when measuring a network.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AnalysisError {
    /// Two inputs have incompatible shapes.
    #[error("shape mismatch: `{left}` has shape {left_shape:?} but `{right}` has shape {right_shape:?}; required: {requirement}")]
    ShapeMismatch {
        /// Name of the first input.
        left: &'static str,
        /// Shape of the first input.
        left_shape: Vec<usize>,
        /// Name of the second input.
        right: &'static str,
        /// Shape of the second input.
        right_shape: Vec<usize>,
        /// The relation the shapes must satisfy.
        requirement: &'static str,
    },
    /// Too few samples for a statistic.
    #[error("`{what}` has {found} samples (rows); at least {needed} are needed")]
    TooFewSamples {
        /// Name of the input.
        what: &'static str,
        /// Rows given.
        found: usize,
        /// Rows needed.
        needed: usize,
    },
    /// An input has no rows or no columns.
    #[error("`{field}` is empty (shape {shape:?}); it needs at least one row and one column")]
    Empty {
        /// Name of the input.
        field: &'static str,
        /// Its shape.
        shape: Vec<usize>,
    },
    /// An input contains NaN or an infinity.
    #[error("`{field}` contains a non-finite value at index {index:?}; all entries must be finite")]
    NonFinite {
        /// Name of the input.
        field: &'static str,
        /// Position of the first non-finite entry.
        index: Vec<usize>,
    },
    /// A threshold lies outside `[0, 1]` (or is NaN).
    #[error("`{field}` = {value} is outside the allowed range [0, 1]")]
    ThresholdOutOfRange {
        /// Name of the threshold.
        field: &'static str,
        /// The rejected value.
        value: f64,
    },
    /// A regularisation strength is negative or not finite.
    #[error("`{field}` = {value} is outside the allowed range [0, +inf) (finite)")]
    NegativeLambda {
        /// Name of the parameter.
        field: &'static str,
        /// The rejected value.
        value: f64,
    },
    /// A solver parameter (iteration count, tolerance) is outside its range.
    #[error("`{field}` = {value} is outside the allowed range {allowed}")]
    InvalidSolverParameter {
        /// Name of the parameter.
        field: &'static str,
        /// The rejected value.
        value: f64,
        /// The allowed range, spelled out.
        allowed: &'static str,
    },
    /// A binary label is not exactly -1 or +1.
    #[error("`{field}`[{index}] = {value} is not an allowed label; labels must be exactly -1 or +1")]
    InvalidLabel {
        /// Name of the label vector.
        field: &'static str,
        /// Position of the bad label.
        index: usize,
        /// The bad label.
        value: f32,
    },
    /// The training labels contain only one class, so the probe is undefined.
    #[error("`{field}` contains only the label {label}; a probe needs both -1 and +1 in the training set")]
    SingleClass {
        /// Name of the label vector.
        field: &'static str,
        /// The only label present.
        label: f32,
    },
    /// A sparse latent entry is not in {-1, 0, +1}.
    #[error("`{field}`[{row}, {col}] = {value} is not an allowed latent value; entries must be -1, 0 or +1")]
    InvalidLatent {
        /// Name of the latent matrix.
        field: &'static str,
        /// Sample index.
        row: usize,
        /// Feature index.
        col: usize,
        /// The bad value.
        value: f32,
    },
    /// The columns of a basis are not orthonormal.
    #[error("`{field}` does not have orthonormal columns: max |H^T H - I| = {deviation:e} exceeds the tolerance {tolerance:e}")]
    NotOrthonormal {
        /// Name of the basis.
        field: &'static str,
        /// Largest entry of |H^T H - I|.
        deviation: f64,
        /// The allowed deviation.
        tolerance: f64,
    },
    /// A linear system that should be positive definite is not (numerically).
    #[error("the {system} is not numerically positive definite (pivot {index} = {pivot:e}); increase `lambda` above 0")]
    NotPositiveDefinite {
        /// Which system failed.
        system: &'static str,
        /// Index of the failing pivot.
        index: usize,
        /// Value of the failing pivot.
        pivot: f64,
    },
    /// A matrix that must be symmetric positive definite is not (numerically).
    #[error("`{field}` must be symmetric positive definite, but Cholesky pivot {index} = {pivot:e}")]
    NotSymmetricPositiveDefinite {
        /// Name of the matrix.
        field: &'static str,
        /// Index of the failing pivot.
        index: usize,
        /// Value of the failing pivot.
        pivot: f64,
    },
    /// A set of vectors spans fewer dimensions than required.
    #[error("`{field}` spans {rank} dimensions; {needed} are needed")]
    RankDeficient {
        /// Name of the input.
        field: &'static str,
        /// The numerical rank found.
        rank: usize,
        /// The rank required.
        needed: usize,
    },
}

/// Rejects an array with no rows or no columns.
pub(crate) fn check_nonempty_2d<T>(field: &'static str, a: &ArrayView2<'_, T>) -> Result<(), AnalysisError> {
    if a.nrows() == 0 || a.ncols() == 0 {
        return Err(AnalysisError::Empty { field, shape: a.shape().to_vec() });
    }
    Ok(())
}

/// Rejects a non-finite entry of an `f32` matrix.
pub(crate) fn check_finite_f32(field: &'static str, a: &ArrayView2<'_, f32>) -> Result<(), AnalysisError> {
    if let Some(((r, c), _)) = a.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(AnalysisError::NonFinite { field, index: vec![r, c] });
    }
    Ok(())
}

/// Rejects a non-finite entry of an `f64` matrix.
pub(crate) fn check_finite_f64(field: &'static str, a: &ArrayView2<'_, f64>) -> Result<(), AnalysisError> {
    if let Some(((r, c), _)) = a.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(AnalysisError::NonFinite { field, index: vec![r, c] });
    }
    Ok(())
}

/// Rejects a threshold outside `[0, 1]` (NaN included).
pub(crate) fn check_threshold(field: &'static str, value: f64) -> Result<(), AnalysisError> {
    if !(0.0..=1.0).contains(&value) {
        return Err(AnalysisError::ThresholdOutOfRange { field, value });
    }
    Ok(())
}

/// Rejects a negative or non-finite regularisation strength.
pub(crate) fn check_lambda(field: &'static str, value: f64) -> Result<(), AnalysisError> {
    if !(value.is_finite() && value >= 0.0) {
        return Err(AnalysisError::NegativeLambda { field, value });
    }
    Ok(())
}

/// Requires `a.nrows() == b.nrows()` (same samples).
pub(crate) fn check_same_rows(
    left: &'static str,
    left_shape: &[usize],
    right: &'static str,
    right_shape: &[usize],
) -> Result<(), AnalysisError> {
    if left_shape[0] != right_shape[0] {
        return Err(AnalysisError::ShapeMismatch {
            left,
            left_shape: left_shape.to_vec(),
            right,
            right_shape: right_shape.to_vec(),
            requirement: "the same number of rows (samples)",
        });
    }
    Ok(())
}

/// Rejects labels that are not exactly -1 or +1.
pub(crate) fn check_labels(field: &'static str, labels: &ArrayView1<'_, f32>) -> Result<(), AnalysisError> {
    if let Some((index, &value)) = labels.iter().enumerate().find(|(_, v)| **v != 1.0 && **v != -1.0) {
        return Err(AnalysisError::InvalidLabel { field, index, value });
    }
    Ok(())
}
