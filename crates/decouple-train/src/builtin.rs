//! The built-in objectives as an [`Objective`]: the config enum
//! [`ObjectiveKind`] (a contrastive loss on two views, the supervised
//! logistic loss of a linear head `y_hat = <a, f(x)> + c` on labels
//! `sign(<a*, z>)` drawn by the data source, or a non-contrastive objective).

use decouple_data::SignTask;
use decouple_data::rng;
use decouple_loss::{Contrastive, LogisticGradients, LogisticLoss, LossWorkspace, Similarity};
use decouple_net::SymReluNet;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use crate::noncontrastive::NonContrastiveState;
use crate::objective::{Inputs, Objective, ObjectiveInput, ObjectiveState};
use crate::optimizer::ParameterSlot;
use crate::state::SavedState;
use crate::{ObjectiveKind, TrainConfig, TrainError};

/// A linear head `y_hat = <a, f(x)> + c` (the supervised objective).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearHead {
    /// `a`, one weight per neuron.
    pub weights: Array1<f32>,
    /// `c`.
    pub bias: f32,
}

/// The label direction `a*` of a labelled objective on a model with `d`
/// features (`"task"` stream of the seed): labels `sign(<a*, z>)`.
#[must_use]
pub fn supervised_task(d: usize, seed: u64) -> SignTask {
    SignTask::new(d, &mut rng::stream(seed, "task"))
}

/// The run state of an [`ObjectiveKind`].
pub enum BuiltinState {
    /// A contrastive loss's scratch buffers.
    Contrastive(Box<LossWorkspace<f32>>),
    /// The supervised objective's task, head and gradients.
    Supervised(Box<SupervisedState>),
    /// A non-contrastive objective's predictor, normalisation and target network.
    NonContrastive(Box<NonContrastiveState>),
}

/// The linear head being trained and its gradients.
pub struct SupervisedState {
    head: LinearHead,
    gradients: LogisticGradients<f32>,
    /// `[dL/dc]`, as a slice for the optimiser.
    bias_gradient: [f32; 1],
}

impl ObjectiveKind {
    /// The contrastive loss, if this is a contrastive objective.
    #[must_use]
    pub fn contrastive_loss(&self) -> Option<Contrastive> {
        match *self {
            Self::Contrastive { loss } => Some(loss),
            Self::Supervised {} | Self::NonContrastive(_) => None,
        }
    }
}

impl Objective for ObjectiveKind {
    type State = BuiltinState;

    fn label(&self) -> String {
        match self {
            Self::Contrastive { loss } => loss.label(),
            Self::Supervised {} => "Supervised".into(),
            Self::NonContrastive(objective) => objective.label(),
        }
    }

    fn inputs(&self) -> Inputs {
        match self {
            Self::Contrastive { .. } => Inputs::Views(2),
            Self::Supervised {} => Inputs::Labelled,
            Self::NonContrastive(objective) => objective.inputs(),
        }
    }

    fn check(&self) -> Result<(), TrainError> {
        match self {
            Self::Contrastive { loss } => Ok(decouple_loss::ContrastiveLoss::check(loss)?),
            Self::Supervised {} => Ok(()),
            Self::NonContrastive(objective) => objective.check(),
        }
    }

    fn start(&self, net: &SymReluNet<f32>, config: &TrainConfig) -> Result<Self::State, TrainError> {
        Ok(match self {
            Self::Contrastive { .. } => BuiltinState::Contrastive(Box::new(LossWorkspace::new())),
            Self::Supervised {} => BuiltinState::Supervised(Box::new(SupervisedState {
                head: LinearHead { weights: Array1::zeros(net.n_neurons()), bias: 0.0 },
                gradients: LogisticGradients::zeros(config.batch_size, net.n_neurons()),
                bias_gradient: [0.0],
            })),
            Self::NonContrastive(objective) => BuiltinState::NonContrastive(Box::new(objective.start(net, config)?)),
        })
    }

    fn value_and_gradients(
        &self,
        state: &mut Self::State,
        input: &ObjectiveInput<'_>,
        gradients: &mut [Array2<f32>],
    ) -> Result<f64, TrainError> {
        match (self, state) {
            (Self::Contrastive { loss }, BuiltinState::Contrastive(workspace)) => {
                Objective::value_and_gradients(loss, workspace, input, gradients)
            }
            (Self::Supervised {}, BuiltinState::Supervised(supervised)) => {
                let labels = input.labels().ok_or(missing_labels())?;
                let SupervisedState { head, gradients: head_gradients, bias_gradient, .. } = &mut **supervised;
                let value = LogisticLoss.loss_and_grad(input.representation(0), head.weights.view(), head.bias, labels, head_gradients)?;
                *bias_gradient = [head_gradients.bias];
                gradients[0].assign(&head_gradients.features);
                Ok(f64::from(value))
            }
            (Self::NonContrastive(objective), BuiltinState::NonContrastive(state)) => {
                objective.value_and_gradients(state, input, gradients)
            }
            _ => Err(state_mismatch()),
        }
    }

    fn value(&self, state: &mut Self::State, input: &ObjectiveInput<'_>) -> Result<f64, TrainError> {
        match (self, state) {
            (Self::Contrastive { loss }, BuiltinState::Contrastive(workspace)) => Objective::value(loss, &mut **workspace, input),
            (Self::Supervised {}, BuiltinState::Supervised(supervised)) => {
                let labels = input.labels().ok_or(missing_labels())?;
                let head = &supervised.head;
                Ok(f64::from(LogisticLoss.value(input.representation(0), head.weights.view(), head.bias, labels)?))
            }
            (Self::NonContrastive(objective), BuiltinState::NonContrastive(state)) => objective.value(state, input),
            _ => Err(state_mismatch()),
        }
    }

    fn divergence_hint(&self) -> String {
        if let Self::NonContrastive(objective) = self {
            return objective.divergence_hint();
        }
        let Some(loss) = self.contrastive_loss() else { return String::new() };
        let (Some(temperature), Some(similarity)) = (loss.temperature(), loss.similarity()) else { return String::new() };
        let mut hint = format!(" or temperature {temperature} too small");
        if similarity == Similarity::Dot {
            hint.push_str(" (dot-product similarity is unbounded; try Cosine)");
        }
        hint
    }
}

impl ObjectiveState for BuiltinState {
    fn parameters(&mut self) -> Vec<ParameterSlot<'_>> {
        match self {
            Self::Contrastive(_) => Vec::new(),
            Self::NonContrastive(state) => state.parameters(),
            Self::Supervised(supervised) => {
                let SupervisedState { head, gradients, bias_gradient, .. } = &mut **supervised;
                vec![
                    ParameterSlot::new(
                        "head.weights",
                        head.weights.as_slice_mut().expect("contiguous"),
                        gradients.weights.as_slice().expect("contiguous"),
                    ),
                    ParameterSlot::new("head.bias", std::slice::from_mut(&mut head.bias), bias_gradient),
                ]
            }
        }
    }

    fn after_update(&mut self, net: &SymReluNet<f32>, step: usize) -> Result<(), TrainError> {
        match self {
            Self::NonContrastive(state) => state.after_update(net, step),
            _ => Ok(()),
        }
    }

    fn metrics(&self) -> Vec<(String, f64)> {
        match self {
            Self::NonContrastive(state) => state.metrics(),
            _ => Vec::new(),
        }
    }

    /// The supervised head as `head.weights` (`m`) and `head.bias` (`[1]`); a non-contrastive state's tensors.
    fn save(&self) -> SavedState {
        match self {
            Self::Contrastive(_) => SavedState::default(),
            Self::NonContrastive(state) => state.save(),
            Self::Supervised(supervised) => {
                let mut saved = SavedState::default();
                saved.insert_f32("head.weights", &[supervised.head.weights.len()], supervised.head.weights.iter().copied());
                saved.insert_f32("head.bias", &[1], [supervised.head.bias]);
                saved
            }
        }
    }

    fn restore(&mut self, saved: &SavedState) -> Result<(), TrainError> {
        match self {
            Self::Contrastive(_) => saved.check_names(&[]),
            Self::NonContrastive(state) => state.restore(saved),
            Self::Supervised(supervised) => {
                saved.check_names(&["head.weights", "head.bias"])?;
                let m = supervised.head.weights.len();
                supervised.head.weights = saved.f32_array("head.weights", &[m])?.into_iter().collect();
                supervised.head.bias = saved.f32_array("head.bias", &[1])?[[0]];
                Ok(())
            }
        }
    }
}

impl BuiltinState {
    /// The trained linear head of a supervised run.
    #[must_use]
    pub fn linear_head(&self) -> Option<LinearHead> {
        match self {
            Self::Supervised(supervised) => Some(supervised.head.clone()),
            _ => None,
        }
    }
}

/// The linear head of a supervised run's saved state (`head.weights`, `head.bias`), if it has one.
#[must_use]
pub fn linear_head_of(saved: &SavedState) -> Option<LinearHead> {
    let weights = saved.tensors.get("head.weights")?;
    let m = *weights.shape.first()?;
    Some(LinearHead {
        weights: saved.f32_array("head.weights", &[m]).ok()?.into_iter().collect(),
        bias: saved.f32_array("head.bias", &[1]).ok()?[[0]],
    })
}

fn missing_labels() -> TrainError {
    TrainError::Unsupported { field: "objective", reason: "the supervised objective needs a labelled batch" }
}

fn state_mismatch() -> TrainError {
    TrainError::Unsupported { field: "objective", reason: "the state was made by another objective" }
}
