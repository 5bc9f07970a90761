//! Mini-batch SGD training of the symmetric-ReLU network (docs/model.md §5).
//!
//! A contrastive step minimises `L(f(x+), f(x++))` over a batch of positive
//! pairs; a supervised step minimises the logistic loss of a linear head on
//! `f(x)`. The update is `w <- w - eta(t) v`, `v <- mu v + g + lambda w`
//! (optionally clipped to a global gradient norm). One [`TrainConfig`] and
//! its seed determine the run bit for bit.
//!
//! ```
//! use decouple_train::{TrainConfig, train};
//! let mut config = TrainConfig::default();
//! config.data.d1 = 64;
//! config.data.d = 8;
//! config.network.width = 16;
//! config.steps = 20;
//! config.batch_size = 16;
//! config.log_every = 10;
//! let outcome = train(config, |_, _| {}).unwrap();
//! assert_eq!(outcome.history.len(), 3); // steps 0, 10, 20
//! ```

mod builtin;
mod checkpoint;
mod config;
mod error;
mod files;
mod init;
pub mod noncontrastive;
mod objective;
pub mod optimizer;
mod trainer;

pub use builtin::{BuiltinState, LinearHead, SupervisedState, supervised_task};
pub use checkpoint::Checkpoint;
pub use config::{DataRegime, NetworkConfig, ObjectiveKind, OptimizerConfig, Schedule, TrainConfig};
pub use error::TrainError;
pub use files::write_atomic;
pub use init::{Init, initial_network};
pub use noncontrastive::{NonContrastive, Normalisation, Predictor, Target};
pub use objective::{Inputs, Objective, ObjectiveInput};
pub use trainer::{StepMetrics, TrainOutcome, Trainer, train, train_with, train_with_threads};
