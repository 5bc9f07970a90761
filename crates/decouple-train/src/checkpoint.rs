//! Saving and loading trained networks with the config that produced them
//! and the objective's state (JSON). The only file-system access of this
//! crate (with [`crate::write_atomic`]).

use std::path::Path;

use decouple_net::SymReluNet;
use serde::{Deserialize, Serialize};

use crate::state::SavedState;
use crate::{LinearHead, TrainConfig, TrainError, TrainOutcome};

/// A trained network, the objective's state (its head, target network, ...)
/// and the config that made it. The data model is re-created from
/// `config.data` and `config.seed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// The configuration of the run.
    pub config: TrainConfig,
    /// Updates done.
    pub steps_done: usize,
    /// The network.
    pub net: SymReluNet<f32>,
    /// The objective's state ([`crate::ObjectiveState::save`]; empty in checkpoints written before it was kept).
    #[serde(default)]
    pub objective_state: SavedState,
    /// The linear head of a supervised run, as checkpoints written before the
    /// objective's state was kept recorded it (read into `objective_state`, never written).
    #[serde(default, skip_serializing, rename = "head")]
    legacy_head: Option<LinearHead>,
}

impl Checkpoint {
    /// The checkpoint of a finished run.
    #[must_use]
    pub fn of(outcome: &TrainOutcome) -> Self {
        Self {
            config: outcome.config.clone(),
            steps_done: outcome.config.steps,
            net: outcome.net.clone(),
            objective_state: outcome.state.clone(),
            legacy_head: None,
        }
    }

    /// The linear head of a supervised run.
    #[must_use]
    pub fn linear_head(&self) -> Option<LinearHead> {
        crate::builtin::linear_head_of(&self.objective_state)
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

    /// Reads JSON from `path`, validating the config and the network's shape.
    ///
    /// # Errors
    /// [`TrainError::Checkpoint`] on I/O or parse failure; invalid contents.
    pub fn load(path: &Path) -> Result<Self, TrainError> {
        let fail = |message: String| TrainError::Checkpoint { path: path.display().to_string(), message };
        let text = std::fs::read_to_string(path).map_err(|error| fail(error.to_string()))?;
        let mut checkpoint: Self = serde_json::from_str(&text).map_err(|error| fail(error.to_string()))?;
        checkpoint.config.check()?;
        let d1 = checkpoint.config.data.model().map(|data| data.d1);
        if d1.is_some_and(|d1| checkpoint.net.input_dim() != d1) || checkpoint.net.n_neurons() != checkpoint.config.network.width {
            return Err(fail("network shape does not match the config".into()));
        }
        if let Some(head) = checkpoint.legacy_head.take() {
            if checkpoint.objective_state.is_empty() {
                checkpoint.objective_state.insert_f32("head.weights", &[head.weights.len()], head.weights.iter().copied());
                checkpoint.objective_state.insert_f32("head.bias", &[1], [head.bias]);
            }
        }
        Ok(checkpoint)
    }
}
