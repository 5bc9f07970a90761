//! The error type of `decouple-train`.

use decouple_augment::AugmentError;
use decouple_data::DataError;
use decouple_loss::LossError;
use decouple_net::NetError;

/// What can stop a training run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// A training hyperparameter is out of range.
    #[error("{field} = {value} is out of range: must be {allowed}")]
    OutOfRange {
        /// Dotted field name.
        field: &'static str,
        /// The offending value.
        value: f64,
        /// The allowed range.
        allowed: &'static str,
    },
    /// A combination of settings this trainer does not support.
    #[error("{field}: {reason}")]
    Unsupported {
        /// Dotted field name.
        field: &'static str,
        /// Why, and what to use instead.
        reason: &'static str,
    },
    /// The augmentation makes another number of views than the objective takes.
    #[error("the objective takes {objective} views but the augmentation makes {augmentation} (both must be equal and >= 2)")]
    ViewCount {
        /// Views the objective takes.
        objective: usize,
        /// Views the augmentation makes.
        augmentation: usize,
    },
    /// Invalid data configuration.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Invalid augmentation.
    #[error(transparent)]
    Augment(#[from] AugmentError),
    /// Invalid network or bias rule.
    #[error(transparent)]
    Net(#[from] NetError),
    /// Invalid loss.
    #[error(transparent)]
    Loss(#[from] LossError),
    /// A non-finite loss or parameter: the run diverged.
    #[error("training diverged at step {step}: {quantity} is not finite; likely cause: {likely_cause}")]
    Diverged {
        /// The step at which it was detected (number of updates done).
        step: usize,
        /// What became non-finite (`loss`, `weights`, `bias`, `head`).
        quantity: &'static str,
        /// The likely cause, with the values of the suspect hyperparameters.
        likely_cause: String,
    },
    /// Reading or writing a checkpoint failed.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
}
