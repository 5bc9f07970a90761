//! The error type of `decouple-train`.

use decouple_augment::AugmentError;
use decouple_data::{DataError, FileError};
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
    /// The run was asked to stop ([`crate::Stop`]) and stopped before step `step`; not a failure of the run.
    #[error("stopped at step {step} (a stop was requested)")]
    Stopped {
        /// Updates done when it stopped.
        step: usize,
    },
    /// A data file that cannot be used (missing, truncated, non-finite, changed since the run was configured).
    #[error(transparent)]
    File(#[from] FileError),
    /// A `kind` no registry entry has.
    #[error(
        "{field}.kind = `{kind}` is not registered; registered kinds: {}; a binary adds its own with \
         decouple_train::Registry::register_{field} (docs/architecture.md, \"Extension points\")",
        registered.join(", ")
    )]
    UnknownKind {
        /// `objective` or `augmentation`.
        field: &'static str,
        /// The kind asked for.
        kind: String,
        /// Every kind the registry knows (built-ins first).
        registered: Vec<String>,
    },
    /// The parameters of a registered part that its constructor refuses.
    #[error("{field} (kind `{kind}`): {message}")]
    PartParameters {
        /// `objective` or `augmentation`.
        field: &'static str,
        /// The registered kind.
        kind: String,
        /// What is wrong, naming the parameter (e.g. `unknown field `lamda`, expected `t` or `lambda``).
        message: String,
    },
    /// An objective's output the trainer cannot use (gradients of the wrong shape, non-finite gradients).
    #[error("objective {objective} at step {step}: {reason}")]
    ObjectiveOutput {
        /// The objective's label.
        objective: String,
        /// The step (updates done).
        step: usize,
        /// What is wrong.
        reason: String,
    },
    /// A parameter tensor the optimiser cannot update.
    #[error("parameter tensor `{name}`: {reason}")]
    Parameter {
        /// Its name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A saved objective state that does not fit the objective.
    #[error("objective state: tensor `{tensor}` {reason}")]
    State {
        /// The tensor's name.
        tensor: String,
        /// What is wrong.
        reason: String,
    },
    /// A run whose estimated memory exceeds what the machine has.
    #[error("{0}")]
    TooBig(Box<crate::memory::TooBig>),
    /// Reading or writing a checkpoint failed.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
}
