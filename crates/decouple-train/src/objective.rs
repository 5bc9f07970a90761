//! The [`Objective`] trait: what one training step minimises, so that users
//! can train with their own objective.
//!
//! At every step the trainer makes the inputs of the objective (the `V` views
//! of a batch, or a labelled batch), runs the network on each, and hands the
//! objective the inputs, the representations `z_k = f(x_k)` and the network.
//! The objective returns `L` and `dL/dz_k` for every view; the trainer
//! back-propagates these through the network. An objective may own trainable
//! parameters of its own (a linear head, a predictor): it exposes them to the
//! optimiser as [`ParameterSlot`]s with their gradients, and it is told after
//! every update (to move a target network, for instance).
//!
//! Every [`decouple_loss::ViewLoss`] (every contrastive loss, and any loss a
//! user writes on the representations of the views) is an `Objective` as it
//! is. The built-in [`crate::ObjectiveKind`] implements the trait and keeps
//! its config form.

use decouple_data::rng::ChaCha8Rng;
use decouple_data::{LabelledSet, SparseCodingModel};
use decouple_loss::{LossWorkspace, ViewLoss};
use decouple_net::{NetWorkspace, SymReluNet};
use ndarray::{Array2, ArrayView1, ArrayView2};

use crate::optimizer::ParameterSlot;
use crate::{LinearHead, TrainConfig, TrainError};

/// What an objective is computed on.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inputs {
    /// `V >= 2` augmented views of every sample of a batch (the augmentation
    /// must make exactly `V` views).
    Views(usize),
    /// One labelled batch drawn by [`Objective::labelled_batch`], without augmentation.
    Labelled,
}

/// What an objective sees at one step: the inputs the network ran on, the
/// representations it produced, the labels (for [`Inputs::Labelled`]) and the
/// network itself.
pub struct ObjectiveInput<'a> {
    pub(crate) inputs: &'a [Array2<f32>],
    pub(crate) workspaces: &'a [NetWorkspace<f32>],
    pub(crate) labels: Option<ArrayView1<'a, f32>>,
    pub(crate) net: &'a SymReluNet<f32>,
    pub(crate) step: usize,
    pub(crate) total_steps: usize,
}

impl<'a> ObjectiveInput<'a> {
    /// Number of inputs (views, or 1 for a labelled batch).
    #[must_use]
    pub fn n_inputs(&self) -> usize {
        self.inputs.len()
    }

    /// Input `k` as the network saw it, `B x d1`.
    #[must_use]
    pub fn input(&self, k: usize) -> ArrayView2<'a, f32> {
        self.inputs[k].view()
    }

    /// The representation `z_k = f(x_k)` of input `k`, `B x m`.
    #[must_use]
    pub fn representation(&self, k: usize) -> ArrayView2<'a, f32> {
        self.workspaces[k].output()
    }

    /// The labels `y_i in {-1, +1}` of a labelled batch.
    #[must_use]
    pub fn labels(&self) -> Option<ArrayView1<'a, f32>> {
        self.labels
    }

    /// The network being trained (the online encoder), before this step's update.
    #[must_use]
    pub fn net(&self) -> &'a SymReluNet<f32> {
        self.net
    }

    /// Updates done so far.
    #[must_use]
    pub fn step(&self) -> usize {
        self.step
    }

    /// The run's total number of updates `T`.
    #[must_use]
    pub fn total_steps(&self) -> usize {
        self.total_steps
    }
}

/// What a training step minimises: a value and its gradients with respect to
/// the representations of the inputs (and to the objective's own parameters).
///
/// The objective itself is plain, immutable configuration; everything that
/// changes during a run (buffers, trained parameters, a target network) lives
/// in its [`Objective::State`], made once by [`Objective::start`].
pub trait Objective {
    /// Buffers and trainable parameters of the objective during one run.
    type State: Send;

    /// A short human-readable label, e.g. `InfoNce(Cosine, tau 0.2)`.
    fn label(&self) -> String;

    /// What the objective is computed on (default: two views).
    fn inputs(&self) -> Inputs {
        Inputs::Views(2)
    }

    /// Validates the hyperparameters (default: nothing to check).
    ///
    /// # Errors
    /// A hyperparameter out of range, named with its allowed range.
    fn check(&self) -> Result<(), TrainError> {
        Ok(())
    }

    /// The state of a new run, given the initial network and the run's config
    /// (its seed, for objectives that draw their own parameters).
    ///
    /// # Errors
    /// Settings the objective cannot run with.
    fn start(&self, net: &SymReluNet<f32>, config: &TrainConfig) -> Result<Self::State, TrainError>;

    /// `L` on `input`; overwrites `gradients[k] = dL/dz_k` (one `B x m` buffer
    /// per input) and the gradients of the objective's own parameters in `state`.
    ///
    /// # Errors
    /// Invalid inputs (shapes, counts).
    fn value_and_gradients(
        &self,
        state: &mut Self::State,
        input: &ObjectiveInput<'_>,
        gradients: &mut [Array2<f32>],
    ) -> Result<f64, TrainError>;

    /// `L` on `input` alone (the step-0 report). The default computes the gradients too, into scratch buffers.
    ///
    /// # Errors
    /// As [`Objective::value_and_gradients`].
    fn value(&self, state: &mut Self::State, input: &ObjectiveInput<'_>) -> Result<f64, TrainError> {
        let mut scratch: Vec<Array2<f32>> = (0..input.n_inputs()).map(|k| Array2::zeros(input.representation(k).dim())).collect();
        self.value_and_gradients(state, input, &mut scratch)
    }

    /// The objective's own trainable parameters and their gradients, updated
    /// by the optimiser with the network's (default: none).
    fn parameters<'s>(&self, _state: &'s mut Self::State) -> Vec<ParameterSlot<'s>> {
        Vec::new()
    }

    /// Called after every update of the network and of [`Objective::parameters`],
    /// with the updated network and the number of updates done (default: nothing).
    ///
    /// # Errors
    /// A non-finite or otherwise invalid state.
    fn after_update(&self, _state: &mut Self::State, _net: &SymReluNet<f32>, _step: usize) -> Result<(), TrainError> {
        Ok(())
    }

    /// A labelled batch of `n` samples of `model` (only for [`Inputs::Labelled`]).
    ///
    /// # Errors
    /// The default: [`TrainError::Unsupported`] (the objective takes views).
    fn labelled_batch(
        &self,
        _state: &Self::State,
        _model: &SparseCodingModel,
        _n: usize,
        _rng: &mut ChaCha8Rng,
    ) -> Result<LabelledSet, TrainError> {
        Err(TrainError::Unsupported { field: "objective", reason: "this objective takes views, not labelled batches" })
    }

    /// The trained linear head, for objectives that have one (default: none).
    fn linear_head(&self, _state: &Self::State) -> Option<LinearHead> {
        None
    }

    /// Named scalars of the objective's state, recorded at every report in
    /// [`crate::StepMetrics::objective`] (e.g. the off-diagonal mass of a
    /// predictor; default: none). Names are `snake_case` and stable across steps.
    fn metrics(&self, _state: &Self::State) -> Vec<(&'static str, f64)> {
        Vec::new()
    }

    /// Hyperparameters of the objective that may cause a divergence, as a
    /// phrase appended to "learning rate ... too large" (default: none).
    fn divergence_hint(&self) -> String {
        String::new()
    }
}

/// Every loss on the representations of the views is an objective; its state
/// is the loss's scratch buffers.
impl<L: ViewLoss> Objective for L {
    type State = LossWorkspace<f32>;

    fn label(&self) -> String {
        std::any::type_name::<L>().rsplit("::").next().unwrap_or("ViewLoss").to_string()
    }

    fn inputs(&self) -> Inputs {
        Inputs::Views(self.n_views())
    }

    fn check(&self) -> Result<(), TrainError> {
        Ok(ViewLoss::check(self)?)
    }

    fn start(&self, _net: &SymReluNet<f32>, _config: &TrainConfig) -> Result<Self::State, TrainError> {
        Ok(LossWorkspace::new())
    }

    fn value_and_gradients(
        &self,
        workspace: &mut Self::State,
        input: &ObjectiveInput<'_>,
        gradients: &mut [Array2<f32>],
    ) -> Result<f64, TrainError> {
        with_representations(input, |views| Ok(f64::from(self.value_and_gradients_of_views(views, workspace, gradients)?)))
    }

    fn value(&self, workspace: &mut Self::State, input: &ObjectiveInput<'_>) -> Result<f64, TrainError> {
        with_representations(input, |views| Ok(f64::from(self.value_of_views(views, workspace)?)))
    }
}

/// Calls `body` with the representations of `input` as a slice of views
/// (on the stack for up to 4 views, so the common case does not allocate).
fn with_representations<T>(input: &ObjectiveInput<'_>, body: impl FnOnce(&[ArrayView2<'_, f32>]) -> T) -> T {
    let n = input.n_inputs();
    if n <= 4 {
        let empty = ArrayView2::from_shape((0, 0), &[]).expect("an empty view");
        let mut views = [empty; 4];
        for (k, view) in views.iter_mut().enumerate().take(n) {
            *view = input.representation(k);
        }
        body(&views[..n])
    } else {
        let views: Vec<_> = (0..n).map(|k| input.representation(k)).collect();
        body(&views)
    }
}
