//! The open training core: the trainer runs with objectives and augmentations
//! written outside the crates (more than two views, an objective with its own
//! trained parameter and an after-update hook), checks that their view counts
//! agree, and stays bit-identical on two threads.

mod support;

use decouple_augment::{Augment, AugmentError, Augmentation, View};
use decouple_data::Batch;
use decouple_loss::{ContrastiveLoss, InfoNce, LossError, LossWorkspace, Similarity, ViewLoss};
use decouple_net::{BiasRule, SymReluNet};
use decouple_train::optimizer::ParameterSlot;
use decouple_train::{Objective, ObjectiveInput, TrainConfig, TrainError, Trainer, train_with};
use ndarray::{Array2, ArrayView2};
use rand::Rng;

/// The small test setting with 150 steps.
fn small() -> TrainConfig {
    let mut config = support::small();
    config.steps = 150;
    config.log_every = 50;
    config
}

/// `V` views, each an independent Bernoulli(1/2) mask scaled by 2 (part by part).
struct IndependentMasks(usize);

impl Augment for IndependentMasks {
    fn label(&self) -> String {
        format!("IndependentMasks x{}", self.0)
    }

    fn n_views(&self) -> usize {
        self.0
    }

    fn views<R: Rng + ?Sized>(&self, batch: &Batch, rng: &mut R) -> Result<Vec<View>, AugmentError> {
        (0..self.0)
            .map(|_| {
                let mask = Array2::from_shape_fn(batch.x().dim(), |_| if rng.random::<bool>() { 2.0f32 } else { 0.0 });
                View::new(&mask * &batch.sparse(), &mask * &batch.dense(), &mask * &batch.x())
            })
            .collect()
    }
}

/// InfoNCE averaged over every pair of `V` views.
struct PairwiseInfoNce(usize);

impl ViewLoss for PairwiseInfoNce {
    fn n_views(&self) -> usize {
        self.0
    }

    fn value_and_gradients_of_views<F: ndarray::NdFloat>(
        &self,
        views: &[ArrayView2<'_, F>],
        workspace: &mut LossWorkspace<F>,
        gradients: &mut [Array2<F>],
    ) -> Result<F, LossError> {
        let loss = InfoNce { similarity: Similarity::Cosine, temperature: 0.2 };
        let pairs: Vec<(usize, usize)> = (0..views.len()).flat_map(|a| (a + 1..views.len()).map(move |b| (a, b))).collect();
        let weight = F::one() / F::from(pairs.len()).unwrap();
        for gradient in gradients.iter_mut() {
            *gradient = Array2::zeros(views[0].dim());
        }
        let (mut grad_a, mut grad_b) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        let mut total = F::zero();
        for (a, b) in pairs {
            total += weight * loss.loss_and_grad_with(views[a], views[b], workspace, &mut grad_a, &mut grad_b)?;
            gradients[a].scaled_add(weight, &grad_a);
            gradients[b].scaled_add(weight, &grad_b);
        }
        Ok(total)
    }
}

#[test]
fn three_views_train_and_lower_the_loss() {
    // Thresholds at 0, so that the ramp of the default rule does not raise the loss.
    let mut config = small();
    config.network.bias = BiasRule::Fixed { b: 0.0 };
    let outcome = train_with(config, PairwiseInfoNce(3), IndependentMasks(3), 1, |_, _| {}).unwrap();
    let (first, last) = (outcome.history[0].loss, outcome.history.last().unwrap().loss);
    assert!(last < first - 0.2, "loss {first} -> {last}");
    assert_eq!(outcome.augmentation, "IndependentMasks x3");
    assert_eq!(outcome.objective, "PairwiseInfoNce");
}

#[test]
fn custom_parts_are_bit_identical_on_two_threads() {
    let one = train_with(small(), PairwiseInfoNce(3), IndependentMasks(3), 1, |_, _| {}).unwrap();
    let two = train_with(small(), PairwiseInfoNce(3), IndependentMasks(3), 2, |_, _| {}).unwrap();
    assert_eq!(one.net, two.net);
    assert_eq!(one.history, two.history);
}

#[test]
fn view_counts_must_agree() {
    let Err(err) = Trainer::with_parts(small(), PairwiseInfoNce(3), Augmentation::default(), 1) else {
        panic!("three-view loss with a two-view augmentation was accepted");
    };
    assert!(matches!(err, TrainError::ViewCount { objective: 3, augmentation: 2 }), "{err}");
    assert!(err.to_string().contains("takes 3 views but the augmentation makes 2"), "{err}");
}

#[test]
fn the_built_in_enum_and_the_trait_make_the_same_views() {
    let model = decouple_data::SparseCodingModel::from_seed(small().data, 3).unwrap();
    let batch = model.sample(20, &mut decouple_data::rng::stream(3, "data"));
    for augmentation in [
        Augmentation::Identity {},
        Augmentation::ComplementaryMask { keep: 0.3 },
        Augmentation::IndependentMask { keep: 0.6, rescale: true, views: 2 },
        Augmentation::GaussianNoise { sigma_a: 0.5 },
    ] {
        let views = augmentation.views(&batch, &mut decouple_data::rng::stream(9, "augment")).unwrap();
        let mut fast = vec![Array2::zeros((0, 0)), Array2::zeros((0, 0))];
        augmentation.views_of_x_into(&batch, &mut fast, &mut decouple_data::rng::stream(9, "augment")).unwrap();
        for (view, x) in views.iter().zip(&fast) {
            assert_eq!(view.x(), x.view(), "{}", augmentation.label());
        }
        let mut three = vec![Array2::zeros((0, 0)); 3];
        let err = augmentation.views_of_x_into(&batch, &mut three, &mut decouple_data::rng::stream(9, "augment")).unwrap_err();
        assert!(err.to_string().contains("views"), "{err}");
    }
}

/// InfoNCE plus `(s - 1)^2` for a trained scalar `s` (starting at 0), and a
/// count of the after-update calls.
struct WithScalar;

struct ScalarState {
    workspace: LossWorkspace<f32>,
    s: [f32; 1],
    grad: [f32; 1],
    updates: usize,
}

impl Objective for WithScalar {
    type State = ScalarState;

    fn label(&self) -> String {
        "InfoNce + (s - 1)^2".into()
    }

    fn start(&self, _net: &SymReluNet<f32>, _config: &TrainConfig) -> Result<ScalarState, TrainError> {
        Ok(ScalarState { workspace: LossWorkspace::new(), s: [0.0], grad: [0.0], updates: 0 })
    }

    fn value_and_gradients(
        &self,
        state: &mut ScalarState,
        input: &ObjectiveInput<'_>,
        gradients: &mut [Array2<f32>],
    ) -> Result<f64, TrainError> {
        let loss = InfoNce::default();
        let [grad_u, grad_v] = gradients else { panic!("two views") };
        let value = loss.loss_and_grad_with(input.representation(0), input.representation(1), &mut state.workspace, grad_u, grad_v)?;
        state.grad = [2.0 * (state.s[0] - 1.0)];
        Ok(f64::from(value) + f64::from((state.s[0] - 1.0).powi(2)))
    }

    fn parameters<'s>(&self, state: &'s mut ScalarState) -> Vec<ParameterSlot<'s>> {
        let mut slot = ParameterSlot::new(&mut state.s, &state.grad);
        slot.lr_multiplier = 0.5;
        vec![slot]
    }

    fn after_update(&self, state: &mut ScalarState, _net: &SymReluNet<f32>, step: usize) -> Result<(), TrainError> {
        state.updates += 1;
        assert_eq!(state.updates, step, "called once after every update");
        Ok(())
    }
}

#[test]
fn an_objective_trains_its_own_parameters_and_sees_every_update() {
    let mut config = small();
    config.steps = 20;
    let mut trainer = Trainer::with_parts(config, WithScalar, Augmentation::default(), 1).unwrap();
    for _ in 0..20 {
        trainer.train_step().unwrap();
    }
    let state = trainer.objective_state();
    assert_eq!(state.updates, 20);
    // s <- s - (0.5 * 0.5) * 2 (s - 1): s_t = 1 - 0.5^t.
    assert!((state.s[0] - (1.0 - 0.5f32.powi(20))).abs() < 1e-6, "s = {}", state.s[0]);
}

#[test]
fn learned_thresholds_start_at_b0_and_move_at_their_own_rate() {
    let thresholds = |b0: f64, lr_multiplier: f64| {
        let mut config = small();
        config.network.bias = BiasRule::Learned { b0, lr_multiplier };
        decouple_train::train(config, |_, _| {}).unwrap().net.bias().to_owned()
    };
    // A zero rate keeps every threshold at b0.
    assert!(thresholds(0.05, 0.0).iter().all(|&b| b == 0.05f32));
    // A nonzero rate moves them; a larger rate moves them further on the first steps.
    let (slow, fast) = (thresholds(0.05, 0.1), thresholds(0.05, 1.0));
    assert!(slow.iter().any(|&b| b != 0.05f32) && slow != fast);
    // Invalid parameters are named.
    let mut config = small();
    config.network.bias = BiasRule::Learned { b0: -1.0, lr_multiplier: 1.0 };
    let err = decouple_train::train(config, |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("bias_rule.b0 = -1"), "{err}");
}
