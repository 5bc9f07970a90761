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
//! let data = config.data.model_mut().unwrap();
//! (data.d1, data.d) = (64, 8);
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
mod data_source;
mod dynamic;
mod error;
mod files;
mod init;
pub mod memory;
pub mod noncontrastive;
mod objective;
pub mod optimizer;
mod parts;
mod registry;
mod state;
mod stop;
mod trainer;

pub use builtin::{BuiltinState, LinearHead, SupervisedState, linear_head_of, supervised_task};
pub use checkpoint::Checkpoint;
pub use config::{DataRegime, NetworkConfig, ObjectiveKind, OptimizerConfig, Schedule, TrainConfig};
pub use data_source::DataSource;
pub use dynamic::{AnyObjective, AnyState, DynObjective};
pub use error::TrainError;
pub use files::write_atomic;
pub use init::{Init, initial_network};
pub use memory::{MemoryEstimate, MemoryPart, TooBig};
pub use noncontrastive::{NonContrastive, Normalisation, Predictor, Target};
pub use objective::{Inputs, Objective, ObjectiveInput, ObjectiveState};
pub use parts::{AugmentationConfig, BUILTIN_AUGMENTATIONS, BUILTIN_OBJECTIVES, ObjectiveConfig, PartConfig};
pub use registry::Registry;
pub use state::{SavedState, Tensor, TensorData};
pub use stop::Stop;
pub use trainer::{StepMetrics, TrainOutcome, Trainer, train, train_with, train_with_threads};
