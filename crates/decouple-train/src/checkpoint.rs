//! Saving and loading trained networks with the config that produced them
//! (JSON). The only file-system access of this crate.

use std::path::Path;

use decouple_net::SymReluNet;
use serde::{Deserialize, Serialize};

use crate::{LinearHead, TrainConfig, TrainError, TrainOutcome};

/// A trained network, its head (if supervised) and the config that made it.
/// The data model is re-created from `config.data` and `config.seed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// The configuration of the run.
    pub config: TrainConfig,
    /// Updates done.
    pub steps_done: usize,
    /// The network.
    pub net: SymReluNet<f32>,
    /// The linear head of a supervised run.
    pub head: Option<LinearHead>,
}

impl Checkpoint {
    /// The checkpoint of a finished run.
    #[must_use]
    pub fn of(outcome: &TrainOutcome) -> Self {
        Self { config: outcome.config, steps_done: outcome.config.steps, net: outcome.net.clone(), head: outcome.head.clone() }
    }

    /// Writes JSON to `path` through [`crate::write_atomic`] (a per-process
    /// temporary file renamed into place).
    ///
    /// # Errors
    /// [`TrainError::Checkpoint`] on I/O or serialisation failure.
    pub fn save(&self, path: &Path) -> Result<(), TrainError> {
        let fail = |message: String| TrainError::Checkpoint { path: path.display().to_string(), message };
        let text = serde_json::to_string(self).map_err(|error| fail(error.to_string()))?;
        crate::write_atomic(path, text).map_err(|error| fail(error.to_string()))
    }

    /// Reads JSON from `path`, validating the config and the network.
    ///
    /// # Errors
    /// [`TrainError::Checkpoint`] on I/O or parse failure; invalid contents.
    pub fn load(path: &Path) -> Result<Self, TrainError> {
        let fail = |message: String| TrainError::Checkpoint { path: path.display().to_string(), message };
        let text = std::fs::read_to_string(path).map_err(|error| fail(error.to_string()))?;
        let checkpoint: Self = serde_json::from_str(&text).map_err(|error| fail(error.to_string()))?;
        checkpoint.config.check()?;
        if checkpoint.net.input_dim() != checkpoint.config.data.d1 || checkpoint.net.n_neurons() != checkpoint.config.network.width {
            return Err(fail("network shape does not match the config".into()));
        }
        Ok(checkpoint)
    }
}
