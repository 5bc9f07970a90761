//! Objectives chosen at run time: [`DynObjective`], the object-safe form of
//! [`Objective`] (every `Objective + Send + Sync` is one, its state boxed),
//! and [`AnyObjective`], a built-in or one of your own behind an `Arc`, which
//! is what a run resolved from a config trains with. A built-in stays a
//! built-in (no boxing, the same bits).

use std::sync::Arc;

use decouple_net::SymReluNet;
use ndarray::Array2;

use crate::builtin::BuiltinState;
use crate::objective::{Inputs, Objective, ObjectiveInput, ObjectiveState};
use crate::optimizer::ParameterSlot;
use crate::state::SavedState;
use crate::{ObjectiveKind, TrainConfig, TrainError};

/// [`Objective`] with its state as `Box<dyn ObjectiveState>`, so that it can
/// be a trait object (`Arc<dyn DynObjective>`). Implemented for every
/// `Objective + Send + Sync`; implement [`Objective`], not this.
pub trait DynObjective: Send + Sync {
    /// [`Objective::label`].
    fn label(&self) -> String;
    /// [`Objective::inputs`].
    fn inputs(&self) -> Inputs;
    /// [`Objective::check`].
    ///
    /// # Errors
    /// As [`Objective::check`].
    fn check(&self) -> Result<(), TrainError>;
    /// [`Objective::start`], boxed.
    ///
    /// # Errors
    /// As [`Objective::start`].
    fn start_dyn(&self, net: &SymReluNet<f32>, config: &TrainConfig) -> Result<Box<dyn ObjectiveState>, TrainError>;
    /// [`Objective::value_and_gradients`] on a state made by [`DynObjective::start_dyn`].
    ///
    /// # Errors
    /// As [`Objective::value_and_gradients`]; a state made by another objective.
    fn value_and_gradients_dyn(
        &self,
        state: &mut dyn ObjectiveState,
        input: &ObjectiveInput<'_>,
        gradients: &mut [Array2<f32>],
    ) -> Result<f64, TrainError>;
    /// [`Objective::value`] on a state made by [`DynObjective::start_dyn`].
    ///
    /// # Errors
    /// As [`Objective::value`]; a state made by another objective.
    fn value_dyn(&self, state: &mut dyn ObjectiveState, input: &ObjectiveInput<'_>) -> Result<f64, TrainError>;
    /// [`Objective::divergence_hint`].
    fn divergence_hint(&self) -> String;
}

fn state_of<S: 'static>(state: &mut dyn ObjectiveState) -> Result<&mut S, TrainError> {
    let any: &mut dyn std::any::Any = state;
    any.downcast_mut::<S>().ok_or(TrainError::Unsupported { field: "objective", reason: "the state was made by another objective" })
}

impl<O: Objective + Send + Sync> DynObjective for O {
    fn label(&self) -> String {
        Objective::label(self)
    }
    fn inputs(&self) -> Inputs {
        Objective::inputs(self)
    }
    fn check(&self) -> Result<(), TrainError> {
        Objective::check(self)
    }
    fn start_dyn(&self, net: &SymReluNet<f32>, config: &TrainConfig) -> Result<Box<dyn ObjectiveState>, TrainError> {
        Ok(Box::new(Objective::start(self, net, config)?))
    }
    fn value_and_gradients_dyn(
        &self,
        state: &mut dyn ObjectiveState,
        input: &ObjectiveInput<'_>,
        gradients: &mut [Array2<f32>],
    ) -> Result<f64, TrainError> {
        Objective::value_and_gradients(self, state_of::<O::State>(state)?, input, gradients)
    }
    fn value_dyn(&self, state: &mut dyn ObjectiveState, input: &ObjectiveInput<'_>) -> Result<f64, TrainError> {
        Objective::value(self, state_of::<O::State>(state)?, input)
    }
    fn divergence_hint(&self) -> String {
        Objective::divergence_hint(self)
    }
}

/// The objective of a run: a built-in [`ObjectiveKind`] or your own.
#[derive(Clone)]
#[non_exhaustive]
pub enum AnyObjective {
    /// A built-in objective.
    Builtin(ObjectiveKind),
    /// Your own (resolved from a config by a [`crate::Registry`], or passed directly).
    Custom(Arc<dyn DynObjective>),
}

impl std::fmt::Debug for AnyObjective {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Builtin(kind) => formatter.debug_tuple("Builtin").field(kind).finish(),
            Self::Custom(objective) => formatter.debug_tuple("Custom").field(&objective.label()).finish(),
        }
    }
}

impl From<ObjectiveKind> for AnyObjective {
    fn from(kind: ObjectiveKind) -> Self {
        Self::Builtin(kind)
    }
}

impl AnyObjective {
    /// Your own objective, type-erased.
    #[must_use]
    pub fn custom(objective: impl Objective + Send + Sync + 'static) -> Self {
        Self::Custom(Arc::new(objective))
    }
}

/// The run state of an [`AnyObjective`].
#[non_exhaustive]
pub enum AnyState {
    /// Of a built-in.
    Builtin(BuiltinState),
    /// Of your own objective.
    Custom(Box<dyn ObjectiveState>),
}

impl ObjectiveState for AnyState {
    fn parameters(&mut self) -> Vec<ParameterSlot<'_>> {
        match self {
            Self::Builtin(state) => state.parameters(),
            Self::Custom(state) => state.parameters(),
        }
    }
    fn after_update(&mut self, net: &SymReluNet<f32>, step: usize) -> Result<(), TrainError> {
        match self {
            Self::Builtin(state) => state.after_update(net, step),
            Self::Custom(state) => state.after_update(net, step),
        }
    }
    fn metrics(&self) -> Vec<(String, f64)> {
        match self {
            Self::Builtin(state) => state.metrics(),
            Self::Custom(state) => state.metrics(),
        }
    }
    fn save(&self) -> SavedState {
        match self {
            Self::Builtin(state) => state.save(),
            Self::Custom(state) => state.save(),
        }
    }
    fn restore(&mut self, saved: &SavedState) -> Result<(), TrainError> {
        match self {
            Self::Builtin(state) => state.restore(saved),
            Self::Custom(state) => state.restore(saved),
        }
    }
}

fn mismatch() -> TrainError {
    TrainError::Unsupported { field: "objective", reason: "the state was made by another objective" }
}

impl Objective for AnyObjective {
    type State = AnyState;

    fn label(&self) -> String {
        match self {
            Self::Builtin(kind) => Objective::label(kind),
            Self::Custom(objective) => objective.label(),
        }
    }

    fn inputs(&self) -> Inputs {
        match self {
            Self::Builtin(kind) => Objective::inputs(kind),
            Self::Custom(objective) => objective.inputs(),
        }
    }

    fn check(&self) -> Result<(), TrainError> {
        match self {
            Self::Builtin(kind) => Objective::check(kind),
            Self::Custom(objective) => objective.check(),
        }
    }

    fn start(&self, net: &SymReluNet<f32>, config: &TrainConfig) -> Result<AnyState, TrainError> {
        Ok(match self {
            Self::Builtin(kind) => AnyState::Builtin(Objective::start(kind, net, config)?),
            Self::Custom(objective) => AnyState::Custom(objective.start_dyn(net, config)?),
        })
    }

    fn value_and_gradients(
        &self,
        state: &mut AnyState,
        input: &ObjectiveInput<'_>,
        gradients: &mut [Array2<f32>],
    ) -> Result<f64, TrainError> {
        match (self, state) {
            (Self::Builtin(kind), AnyState::Builtin(state)) => Objective::value_and_gradients(kind, state, input, gradients),
            (Self::Custom(objective), AnyState::Custom(state)) => objective.value_and_gradients_dyn(&mut **state, input, gradients),
            _ => Err(mismatch()),
        }
    }

    fn value(&self, state: &mut AnyState, input: &ObjectiveInput<'_>) -> Result<f64, TrainError> {
        match (self, state) {
            (Self::Builtin(kind), AnyState::Builtin(state)) => Objective::value(kind, state, input),
            (Self::Custom(objective), AnyState::Custom(state)) => objective.value_dyn(&mut **state, input),
            _ => Err(mismatch()),
        }
    }

    fn divergence_hint(&self) -> String {
        match self {
            Self::Builtin(kind) => Objective::divergence_hint(kind),
            Self::Custom(objective) => objective.divergence_hint(),
        }
    }
}
