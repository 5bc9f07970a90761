//! The [`Objective`] trait: what one training step minimises, so that users
//! can train with their own objective.
//!
//! At every step the trainer makes the inputs of the objective (the `V` views
//! of a batch, or a labelled batch drawn by the data source), runs the
//! network on each, and hands the objective an [`ObjectiveInput`]: the
//! inputs, the representations `z_k = f(x_k)`, the labels and the network.
//! The objective returns `L` and `dL/dz_k` for every view; the trainer
//! back-propagates these through the network.
//!
//! Everything that changes during a run lives in the objective's
//! [`ObjectiveState`] (made by [`Objective::start`]): buffers, trainable
//! parameters of its own (a linear head, a predictor), which it exposes to
//! the optimiser as named [`ParameterSlot`]s, what it does after every update
//! (move a target network), the scalars it reports, and how it is saved in a
//! checkpoint and restored from one ([`SavedState`]).
//!
//! Every [`decouple_loss::ViewLoss`] (every contrastive loss, and any loss a
//! user writes on the representations of the views) is an `Objective` as it
//! is. The built-in [`crate::ObjectiveKind`] implements the trait and keeps
//! its config form.

use std::any::Any;

use decouple_loss::{LossWorkspace, ViewLoss};
use decouple_net::{NetWorkspace, SymReluNet};
use ndarray::{Array2, ArrayView1, ArrayView2};

use crate::optimizer::ParameterSlot;
use crate::state::SavedState;
use crate::{TrainConfig, TrainError};

/// What an objective is computed on.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inputs {
    /// `V >= 2` augmented views of every sample of a batch (the augmentation
    /// must make exactly `V` views).
    Views(usize),
    /// One labelled batch (labels `sign(<a*, z>)` of the run's task), without
    /// augmentation; drawn by the data source, so it needs the data model.
    Labelled,
}

/// Where the representations of an [`ObjectiveInput`] are.
#[derive(Clone, Copy)]
enum Representations<'a> {
    /// In the trainer's forward workspaces.
    Workspaces(&'a [NetWorkspace<f32>]),
    /// In arrays of the caller's.
    Arrays(&'a [Array2<f32>]),
}

/// What an objective sees at one step: the inputs the network ran on, the
/// representations it produced, the labels (for [`Inputs::Labelled`]) and the
/// network itself.
///
/// ```
/// use decouple_net::SymReluNet;
/// use decouple_train::ObjectiveInput;
/// use ndarray::Array2;
/// let net = SymReluNet::<f32>::init(3, 5, 0.1, &mut decouple_data::rng::stream(0, "init")).unwrap();
/// let inputs = vec![Array2::<f32>::zeros((4, 5)), Array2::zeros((4, 5))];
/// let representations = vec![Array2::<f32>::ones((4, 3)), Array2::zeros((4, 3))];
/// let input = ObjectiveInput::new(&inputs, &representations, &net).at_step(10, 100);
/// assert_eq!((input.n_inputs(), input.representation(0).dim(), input.step()), (2, (4, 3), 10));
/// ```
pub struct ObjectiveInput<'a> {
    inputs: &'a [Array2<f32>],
    representations: Representations<'a>,
    labels: Option<ArrayView1<'a, f32>>,
    net: &'a SymReluNet<f32>,
    step: usize,
    total_steps: usize,
}

impl<'a> ObjectiveInput<'a> {
    /// The input of a step on `inputs` (one `B x d1` array per view) whose
    /// representations are `representations` (one `B x m` array per view),
    /// made by `net`; at step 0 of 1, without labels (see [`Self::at_step`],
    /// [`Self::with_labels`]). What a unit test of an objective builds.
    ///
    /// # Panics
    /// If the two slices differ in length.
    #[must_use]
    pub fn new(inputs: &'a [Array2<f32>], representations: &'a [Array2<f32>], net: &'a SymReluNet<f32>) -> Self {
        assert_eq!(inputs.len(), representations.len(), "one representation per input");
        Self { inputs, representations: Representations::Arrays(representations), labels: None, net, step: 0, total_steps: 1 }
    }

    /// The trainer's input: representations in its forward workspaces.
    pub(crate) fn of_workspaces(inputs: &'a [Array2<f32>], workspaces: &'a [NetWorkspace<f32>], net: &'a SymReluNet<f32>) -> Self {
        Self { inputs, representations: Representations::Workspaces(workspaces), labels: None, net, step: 0, total_steps: 1 }
    }

    /// The same input at update `step` of `total_steps`.
    #[must_use]
    pub fn at_step(mut self, step: usize, total_steps: usize) -> Self {
        (self.step, self.total_steps) = (step, total_steps);
        self
    }

    /// The same input with the labels `y_i in {-1, +1}` of a labelled batch.
    #[must_use]
    pub fn with_labels(mut self, labels: ArrayView1<'a, f32>) -> Self {
        self.labels = Some(labels);
        self
    }

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
        match self.representations {
            Representations::Workspaces(workspaces) => workspaces[k].output(),
            Representations::Arrays(arrays) => arrays[k].view(),
        }
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
/// the representations of the inputs.
///
/// The objective itself is plain, immutable configuration; everything that
/// changes during a run lives in its [`Objective::State`], made once by
/// [`Objective::start`] (see [`ObjectiveState`] for trained parameters,
/// after-update hooks, reported scalars and checkpoints).
pub trait Objective {
    /// Buffers, trainable parameters and anything else of the objective that changes during one run.
    type State: ObjectiveState;

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

    /// Hyperparameters of the objective that may cause a divergence, as a
    /// phrase appended to "learning rate ... too large" (default: none).
    fn divergence_hint(&self) -> String {
        String::new()
    }
}

/// The run state of an objective: what the optimiser trains, what happens
/// after every update, what is reported, and what a checkpoint keeps. Every
/// method has a default for a state that is only scratch buffers.
pub trait ObjectiveState: Send + Any {
    /// The objective's own trainable tensors and their gradients (from the last
    /// [`Objective::value_and_gradients`]), each under a name that is stable
    /// across steps; updated by the optimiser with the network's (default: none).
    fn parameters(&mut self) -> Vec<ParameterSlot<'_>> {
        Vec::new()
    }

    /// Called after every update of the network and of [`ObjectiveState::parameters`],
    /// with the updated network and the number of updates done (default: nothing).
    ///
    /// # Errors
    /// A non-finite or otherwise invalid state.
    fn after_update(&mut self, _net: &SymReluNet<f32>, _step: usize) -> Result<(), TrainError> {
        Ok(())
    }

    /// Named scalars of the state, recorded at every report in
    /// [`crate::StepMetrics::objective`] (e.g. the off-diagonal mass of a
    /// predictor; default: none). Names are `snake_case` and stable across steps.
    fn metrics(&self) -> Vec<(String, f64)> {
        Vec::new()
    }

    /// What a checkpoint keeps of the state: its trained tensors by name (default: nothing).
    fn save(&self) -> SavedState {
        SavedState::default()
    }

    /// Puts back what [`ObjectiveState::save`] kept, into a state just made by
    /// [`Objective::start`] (default: accepts only an empty state).
    ///
    /// # Errors
    /// [`TrainError::State`] for a missing tensor, another shape, or a tensor this state does not have.
    fn restore(&mut self, saved: &SavedState) -> Result<(), TrainError> {
        saved.check_names(&[])
    }
}

/// The scratch buffers of a loss: nothing to train, report or save.
impl ObjectiveState for LossWorkspace<f32> {}

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
