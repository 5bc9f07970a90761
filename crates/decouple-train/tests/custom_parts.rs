//! The open training core: the trainer runs with objectives and augmentations
//! written outside the crates (more than two views, an objective with its own
//! trained parameter and an after-update hook), checks that their view counts
//! agree, and stays bit-identical on two threads; a [`Registry`] makes
//! objectives of one's own from a config with errors that name the kind and
//! the parameter; an objective's unusable output is a typed error, not a panic.

mod support;

use decouple_augment::{AnyAugmentation, Augment, AugmentError, Augmentation, View};
use decouple_data::Batch;
use decouple_loss::{ContrastiveLoss, InfoNce, LossError, LossWorkspace, Similarity, ViewLoss};
use decouple_net::{BiasRule, SymReluNet};
use decouple_train::optimizer::ParameterSlot;
use decouple_train::{
    AnyObjective, Objective, ObjectiveConfig, ObjectiveInput, ObjectiveKind, ObjectiveState, PartConfig, Registry, TrainConfig, TrainError,
    Trainer, train_with,
};
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
    let model = decouple_data::SparseCodingModel::from_seed(*small().data.model().unwrap(), 3).unwrap();
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
}

impl ObjectiveState for ScalarState {
    fn parameters(&mut self) -> Vec<ParameterSlot<'_>> {
        let mut slot = ParameterSlot::new("s", &mut self.s, &self.grad);
        slot.lr_multiplier = 0.5;
        vec![slot]
    }

    fn after_update(&mut self, _net: &SymReluNet<f32>, step: usize) -> Result<(), TrainError> {
        self.updates += 1;
        assert_eq!(self.updates, step, "called once after every update");
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

/// InfoNCE (cosine, temperature `temperature`) plus `weight` times the
/// alignment `mean_i ||u_i - v_i||^2`: an objective of one's own, made by a
/// [`Registry`] from the parameters of a config table (unknown ones refused).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
struct InfoNcePlusAlignment {
    temperature: f64,
    weight: f64,
}

impl Default for InfoNcePlusAlignment {
    fn default() -> Self {
        Self { temperature: 0.2, weight: 0.1 }
    }
}

impl Objective for InfoNcePlusAlignment {
    type State = LossWorkspace<f32>;

    fn label(&self) -> String {
        format!("InfoNce(tau {}) + {} alignment", self.temperature, self.weight)
    }

    fn check(&self) -> Result<(), TrainError> {
        if !(self.weight.is_finite() && self.weight >= 0.0) {
            return Err(TrainError::OutOfRange { field: "objective.weight", value: self.weight, allowed: "finite and >= 0" });
        }
        Ok(ContrastiveLoss::check(&self.info_nce())?)
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
        let (u, v) = (input.representation(0), input.representation(1));
        let [grad_u, grad_v] = gradients else { panic!("two views") };
        let contrastive = self.info_nce().loss_and_grad_with(u, v, workspace, grad_u, grad_v)?;
        let difference = &u - &v;
        let batch = u.nrows() as f32;
        let alignment = difference.iter().map(|e| f64::from(e * e)).sum::<f64>() / f64::from(batch);
        let scale = 2.0 * self.weight as f32 / batch;
        grad_u.scaled_add(scale, &difference);
        grad_v.scaled_add(-scale, &difference);
        Ok(f64::from(contrastive) + self.weight * alignment)
    }
}

impl InfoNcePlusAlignment {
    fn info_nce(&self) -> InfoNce {
        InfoNce { similarity: Similarity::Cosine, temperature: self.temperature }
    }
}

/// The registry of these tests: the built-ins and `InfoNcePlusAlignment`.
fn registry() -> Registry {
    let mut registry = Registry::new();
    registry.register_objective::<InfoNcePlusAlignment>("InfoNcePlusAlignment").unwrap();
    registry
}

/// The small setting with the objective a config table names.
fn named(part: PartConfig) -> TrainConfig {
    let mut config = small();
    config.objective = ObjectiveConfig::Named(part);
    (config.steps, config.log_every) = (6, 3);
    config
}

/// An unknown kind lists every registered kind (built-ins first) and says how
/// to add one; an unknown parameter of a registered kind names the kind and
/// the parameter; an out-of-range one is the objective's own check.
#[test]
fn the_registry_names_unknown_kinds_and_parameters() {
    let registry = registry();
    let Err(error) = Trainer::from_config(named(PartConfig::new("AlignUniform")), &registry, 1) else {
        panic!("an unknown kind was accepted");
    };
    let TrainError::UnknownKind { field, kind, registered } = &error else { panic!("{error:?}") };
    assert_eq!((*field, kind.as_str()), ("objective", "AlignUniform"));
    assert_eq!(registered, &["Contrastive", "NonContrastive", "Supervised", "InfoNcePlusAlignment"]);
    let message = error.to_string();
    assert!(message.contains("registered kinds: Contrastive, NonContrastive, Supervised, InfoNcePlusAlignment"), "{message}");
    assert!(message.contains("Registry::register_objective"), "{message}");
    // The built-in registry knows no kind of one's own.
    let Err(error) = Trainer::from_config(named(PartConfig::new("InfoNcePlusAlignment")), &Registry::default(), 1) else {
        panic!("the default registry made a registered kind");
    };
    assert!(matches!(&error, TrainError::UnknownKind { registered, .. } if registered.len() == 3), "{error:?}");

    let typo = named(PartConfig::new("InfoNcePlusAlignment").with("temprature", 0.3));
    let Err(error) = Trainer::from_config(typo, &registry, 1) else { panic!("an unknown parameter was accepted") };
    let TrainError::PartParameters { field, kind, message } = &error else { panic!("{error:?}") };
    assert_eq!((*field, kind.as_str()), ("objective", "InfoNcePlusAlignment"));
    assert!(message.contains("unknown field `temprature`"), "{message}");
    assert!(error.to_string().contains("InfoNcePlusAlignment") && error.to_string().contains("temprature"), "{error}");
    let Err(error) = registry.objective(&ObjectiveConfig::Named(PartConfig::new("InfoNcePlusAlignment").with("weight", "large"))) else {
        panic!("a mistyped parameter was accepted");
    };
    assert!(matches!(&error, TrainError::PartParameters { kind, .. } if kind == "InfoNcePlusAlignment"), "{error:?}");

    let negative = ObjectiveConfig::Named(PartConfig::new("InfoNcePlusAlignment").with("weight", -1.0));
    assert!(matches!(registry.objective(&negative), Err(TrainError::OutOfRange { field: "objective.weight", .. })));
}

/// A registered objective with good parameters (the defaults overlaid by the
/// config's) trains through [`Trainer::from_config`] with finite losses, on
/// one thread or two, bit for bit; and a config file reaches it.
#[test]
fn a_registered_objective_trains_from_its_config() {
    let registry = registry();
    let config = named(PartConfig::new("InfoNcePlusAlignment").with("temperature", 0.5));
    let outcome = Trainer::from_config(config.clone(), &registry, 1).unwrap().run(|_, _| {}).unwrap();
    assert_eq!(outcome.objective, "InfoNce(tau 0.5) + 0.1 alignment", "the parameter and the default are used");
    assert_eq!(outcome.history.len(), 3);
    assert!(outcome.history.iter().all(|metrics| metrics.loss.is_finite()), "{:?}", outcome.history);
    assert!(outcome.state.is_empty(), "a loss's scratch buffers are not saved");
    let two = Trainer::from_config(config.clone(), &registry, 2).unwrap().run(|_, _| {}).unwrap();
    assert_eq!(two.net, outcome.net);
    assert_eq!(two.history, outcome.history);

    let text = serde_json::to_string(&config).unwrap();
    assert!(text.contains(r#""objective":{"kind":"InfoNcePlusAlignment","temperature":0.5}"#), "{text}");
    let parsed: TrainConfig = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed, config);
    let again = Trainer::from_config(parsed, &registry, 1).unwrap().run(|_, _| {}).unwrap();
    assert_eq!(again.net, outcome.net);
}

/// A built-in kind, a kind registered already and an empty name cannot be registered.
#[test]
fn built_in_and_duplicate_kinds_cannot_be_registered() {
    let mut registry = registry();
    for kind in ["Contrastive", "NonContrastive", "Supervised"] {
        let Err(error) = registry.register_objective::<InfoNcePlusAlignment>(kind) else {
            panic!("{kind} was registered over the built-in")
        };
        assert!(matches!(&error, TrainError::PartParameters { kind: named, .. } if named == kind), "{error:?}");
        assert!(error.to_string().contains("this is a built-in kind"), "{error}");
    }
    let Err(error) = registry.register_objective::<InfoNcePlusAlignment>("InfoNcePlusAlignment") else { panic!("registered twice") };
    assert!(error.to_string().contains("registered already"), "{error}");
    let Err(error) =
        registry.register_objective_with("InfoNcePlusAlignment", serde_json::Value::Null, |_| Ok(InfoNcePlusAlignment::default()))
    else {
        panic!("registered twice with a constructor");
    };
    assert!(error.to_string().contains("registered already"), "{error}");
    assert!(registry.register_objective::<InfoNcePlusAlignment>("").is_err());
    assert_eq!(registry.objective_kinds(), ["Contrastive", "NonContrastive", "Supervised", "InfoNcePlusAlignment"]);
    // The built-in stays the built-in.
    let builtin = registry.objective(&ObjectiveConfig::Builtin(ObjectiveKind::Supervised {})).unwrap();
    assert!(matches!(builtin, AnyObjective::Builtin(ObjectiveKind::Supervised {})));
}

/// Gradients of `1 x 1` for every view, whatever the batch and the width.
struct WrongShape;

/// Zero gradients with a NaN in view 1 from step 2 on (the loss stays finite).
struct NanGradient;

impl Objective for WrongShape {
    type State = LossWorkspace<f32>;

    fn label(&self) -> String {
        "WrongShape".into()
    }

    fn start(&self, _net: &SymReluNet<f32>, _config: &TrainConfig) -> Result<Self::State, TrainError> {
        Ok(LossWorkspace::new())
    }

    fn value_and_gradients(&self, _: &mut Self::State, _: &ObjectiveInput<'_>, gradients: &mut [Array2<f32>]) -> Result<f64, TrainError> {
        gradients.iter_mut().for_each(|gradient| *gradient = Array2::zeros((1, 1)));
        Ok(1.0)
    }
}

impl Objective for NanGradient {
    type State = LossWorkspace<f32>;

    fn label(&self) -> String {
        "NanGradient".into()
    }

    fn start(&self, _net: &SymReluNet<f32>, _config: &TrainConfig) -> Result<Self::State, TrainError> {
        Ok(LossWorkspace::new())
    }

    fn value_and_gradients(
        &self,
        _: &mut Self::State,
        input: &ObjectiveInput<'_>,
        gradients: &mut [Array2<f32>],
    ) -> Result<f64, TrainError> {
        for gradient in gradients.iter_mut() {
            *gradient = Array2::zeros(input.representation(0).dim());
        }
        if input.step() >= 2 {
            gradients[1][[3, 5]] = f32::NAN;
        }
        Ok(0.5)
    }
}

/// Gradients of the wrong shape stop `train_step` (and `run`, on one thread or
/// two, typed or resolved at run time) with [`TrainError::ObjectiveOutput`]
/// naming the objective, the step, the view and both shapes; nothing panics.
#[test]
fn gradients_of_the_wrong_shape_are_an_error_naming_the_objective_and_the_step() {
    let mut trainer = Trainer::with_parts(small(), WrongShape, Augmentation::default(), 1).unwrap();
    let error = trainer.train_step().unwrap_err();
    let TrainError::ObjectiveOutput { objective, step, reason } = &error else { panic!("{error:?}") };
    assert_eq!((objective.as_str(), *step), ("WrongShape", 0));
    assert!(reason.contains("view 0 has shape (1, 1), expected (32, 16)"), "{reason}");
    assert!(error.to_string().starts_with("objective WrongShape at step 0: dL/dz of view 0"), "{error}");
    assert_eq!(trainer.step(), 0, "no update was made");
    for threads in [1, 2] {
        let trainer =
            Trainer::with_parts(small(), AnyObjective::custom(WrongShape), AnyAugmentation::from(Augmentation::default()), threads)
                .unwrap();
        let error = trainer.run(|_, _| {}).unwrap_err();
        assert!(matches!(&error, TrainError::ObjectiveOutput { objective, step: 0, .. } if objective == "WrongShape"), "{error:?}");
    }
}

/// A non-finite gradient with a finite loss stops the run at the step it
/// appears with [`TrainError::ObjectiveOutput`] naming the objective, the step
/// and the view, before it reaches the network.
#[test]
fn non_finite_gradients_are_an_error_naming_the_objective_and_the_step() {
    let mut trainer = Trainer::with_parts(small(), NanGradient, Augmentation::default(), 1).unwrap();
    trainer.train_step().unwrap();
    trainer.train_step().unwrap();
    let before = trainer.net().clone();
    let error = trainer.train_step().unwrap_err();
    let TrainError::ObjectiveOutput { objective, step, reason } = &error else { panic!("{error:?}") };
    assert_eq!((objective.as_str(), *step), ("NanGradient", 2));
    assert!(reason.contains("view 1 holds a non-finite value"), "{reason}");
    assert_eq!(error.to_string(), "objective NanGradient at step 2: dL/dz of view 1 holds a non-finite value");
    // (The bias rule sets the thresholds before the step; the weights were not updated.)
    assert_eq!(trainer.net().weights(), before.weights(), "the NaN never reached the weights");
    assert!(trainer.net().bias().iter().all(|b| b.is_finite()));
    for threads in [1, 2] {
        let error = train_with(small(), NanGradient, Augmentation::default(), threads, |_, _| {}).unwrap_err();
        assert!(matches!(&error, TrainError::ObjectiveOutput { objective, step: 2, .. } if objective == "NanGradient"), "{error:?}");
    }
}
