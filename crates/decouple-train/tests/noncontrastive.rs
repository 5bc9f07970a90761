//! Non-contrastive objectives through the trainer: the EMA update equals its
//! formula, the target receives no gradient, an off-diagonal predictor keeps
//! its unit diagonal, DirectPred sets a symmetric predictor, three views with
//! batch normalisation train bit-identically on two threads, configs
//! reach all of it with errors that name the field, and the trained state
//! (predictor, target network, normalisation) survives a checkpoint bit for bit.

mod support;

use decouple_augment::Augmentation;
use decouple_train::noncontrastive::NonContrastiveState;
use decouple_train::{
    Checkpoint, NonContrastive, Normalisation, Objective, ObjectiveKind, ObjectiveState, Predictor, SavedState, Target, TensorData,
    TrainConfig, TrainError, Trainer, train,
};
use ndarray::Array2;
use support::small;

fn config_with(objective: NonContrastive) -> TrainConfig {
    let mut config = small();
    config.objective = ObjectiveKind::NonContrastive(objective).into();
    config.augmentation = Augmentation::IndependentMask { keep: 0.5, rescale: true, views: objective.views }.into();
    config
}

fn state(trainer: &Trainer) -> &NonContrastiveState {
    match trainer.objective_state() {
        decouple_train::AnyState::Builtin(decouple_train::BuiltinState::NonContrastive(state)) => state,
        _ => panic!("not a non-contrastive state"),
    }
}

fn byol(momentum: f64) -> NonContrastive {
    let mut objective = NonContrastive::default();
    objective.predictor = Predictor::Linear { lr_multiplier: 1.0 };
    objective.target = Target::Ema { momentum };
    objective
}

#[test]
fn the_ema_target_follows_its_formula() {
    let momentum = 0.9f32;
    let mut trainer = Trainer::new(config_with(byol(f64::from(momentum)))).unwrap();
    for _ in 0..5 {
        let before = state(&trainer).target.as_ref().unwrap().net.clone();
        trainer.train_step().unwrap();
        let online = trainer.net().clone();
        let target = &state(&trainer).target.as_ref().unwrap().net;
        let expected = Array2::from_shape_fn(before.weights().dim(), |(i, j)| {
            momentum * before.weights()[[i, j]] + (1.0 - momentum) * online.weights()[[i, j]]
        });
        assert_eq!(target.weights(), expected.view());
        let expected_bias =
            ndarray::Array1::from_shape_fn(before.bias().len(), |i| momentum * before.bias()[i] + (1.0 - momentum) * online.bias()[i]);
        assert_eq!(target.bias(), expected_bias.view());
    }
}

#[test]
fn the_target_receives_no_gradient() {
    // With momentum 1 the EMA never moves the target: any change would have come from a gradient.
    let mut trainer = Trainer::new(config_with(byol(1.0))).unwrap();
    let initial = state(&trainer).target.as_ref().unwrap().net.clone();
    for _ in 0..10 {
        trainer.train_step().unwrap();
    }
    assert_eq!(state(&trainer).target.as_ref().unwrap().net, initial);
    assert_ne!(trainer.net(), &initial, "the online network trains");
}

#[test]
fn predictor_variants_keep_their_structure() {
    let mut objective = NonContrastive::default();
    objective.predictor = Predictor::OffDiagonal { lr_multiplier: 5.0 };
    let mut trainer = Trainer::new(config_with(objective)).unwrap();
    for _ in 0..20 {
        trainer.train_step().unwrap();
    }
    let predictor = &state(&trainer).predictor;
    assert!(predictor.diag().iter().all(|&p| p == 1.0), "{predictor}");
    assert!(predictor.iter().any(|&p| p != 0.0 && p != 1.0), "the off-diagonal entries train");

    objective.predictor = Predictor::Identity {};
    let mut trainer = Trainer::new(config_with(objective)).unwrap();
    trainer.train_step().unwrap();
    assert_eq!(state(&trainer).predictor, Array2::<f32>::eye(16));

    objective.predictor = Predictor::DirectPred { every: 2, rho: 0.3, eps: 0.1 };
    let mut trainer = Trainer::new(config_with(objective)).unwrap();
    for _ in 0..4 {
        trainer.train_step().unwrap();
    }
    let predictor = &state(&trainer).predictor;
    assert_ne!(predictor, &Array2::<f32>::eye(16));
    assert!((predictor - &predictor.t()).iter().all(|e| e.abs() < 1e-5), "symmetric");
    assert!(state(&trainer).correlation.is_some());
}

#[test]
fn three_views_with_batch_norm_train_bit_identically_on_two_threads() {
    let mut objective = byol(0.99);
    objective.predictor = Predictor::OffDiagonal { lr_multiplier: 2.0 };
    objective.normalisation = Normalisation::Batch { affine: true, eps: 1e-5 };
    objective.views = 3;
    let config = config_with(objective);
    let one = decouple_train::train_with_threads(config.clone(), 1, |_, _| {}).unwrap();
    let two = decouple_train::train_with_threads(config, 2, |_, _| {}).unwrap();
    assert_eq!(one.net, two.net);
    assert_eq!(one.history, two.history);
    assert!(one.history.iter().all(|metrics| metrics.loss.is_finite()));
    // The loss is a mean of negative cosines: in [-1, 1].
    assert!(one.history.iter().all(|metrics| (-1.0..=1.0).contains(&metrics.loss)), "{:?}", one.history);
    assert_eq!(one.objective, "BYOL (EMA 0.99), I + off-diagonal predictor, BN");
}

#[test]
fn simsiam_lowers_its_loss() {
    let mut objective = NonContrastive::default();
    objective.predictor = Predictor::Linear { lr_multiplier: 1.0 };
    let mut config = config_with(objective);
    config.steps = 200;
    let outcome = train(config, |_, _| {}).unwrap();
    let (first, last) = (outcome.history[0].loss, outcome.history.last().unwrap().loss);
    assert!(last < first - 0.05, "{first} -> {last}");
}

#[test]
fn configs_reach_every_variant_and_name_bad_fields() {
    let text = r#"{
        "kind": "NonContrastive",
        "predictor": { "kind": "OffDiagonal", "lr_multiplier": 10.0 },
        "target": { "kind": "Ema", "momentum": 0.99 },
        "normalisation": { "kind": "Batch", "affine": true },
        "views": 3
    }"#;
    let objective: ObjectiveKind = serde_json::from_str(text).unwrap();
    let ObjectiveKind::NonContrastive(parsed) = objective else { panic!("{objective:?}") };
    assert_eq!(parsed.predictor, Predictor::OffDiagonal { lr_multiplier: 10.0 });
    assert_eq!(parsed.normalisation, Normalisation::Batch { affine: true, eps: 1e-5 });
    let bare: ObjectiveKind = serde_json::from_str(r#"{ "kind": "NonContrastive" }"#).unwrap();
    assert_eq!(bare, ObjectiveKind::NonContrastive(NonContrastive::default()));
    let err =
        serde_json::from_str::<ObjectiveKind>(r#"{ "kind": "NonContrastive", "predictor": { "kind": "Identity", "lr_multiplier": 1 } }"#)
            .unwrap_err();
    assert!(err.to_string().contains("unknown field `lr_multiplier`"), "{err}");

    let bad = |edit: fn(&mut NonContrastive)| {
        let mut objective = NonContrastive::default();
        edit(&mut objective);
        let mut config = config_with(objective);
        config.augmentation = Augmentation::default().into();
        config.check().unwrap_err().to_string()
    };
    assert!(bad(|o| o.views = 1).contains("objective.views = 1"));
    assert!(bad(|o| o.target = Target::Ema { momentum: 1.5 }).contains("objective.target.momentum = 1.5"));
    assert!(bad(|o| o.predictor = Predictor::DirectPred { every: 0, rho: 0.3, eps: 0.1 }).contains("objective.predictor.every"));
    assert!(bad(|o| o.predictor = Predictor::DirectPred { every: 1, rho: 1.0, eps: 0.1 }).contains("objective.predictor.rho = 1"));
    assert!(bad(|o| o.normalisation = Normalisation::Batch { affine: false, eps: 0.0 }).contains("objective.normalisation.eps"));

    // Three views need an augmentation that makes three.
    let mut objective = NonContrastive::default();
    objective.views = 3;
    let mut config = config_with(objective);
    config.augmentation = Augmentation::ComplementaryMask { keep: 0.5 }.into();
    let Err(err) = Trainer::new(config) else { panic!("accepted 3 views from a 2-view augmentation") };
    assert!(matches!(err, TrainError::ViewCount { objective: 3, augmentation: 2 }), "{err}");
}

/// A trained predictor reports `||P - diag(P)||_F` and `tr(P)/m` at every
/// report, computed from the state it trained; a fixed identity reports nothing.
#[test]
fn predictor_metrics_are_reported_from_the_state() {
    let mut objective = NonContrastive::default();
    objective.predictor = Predictor::OffDiagonal { lr_multiplier: 1.0 };
    let mut config = config_with(objective);
    (config.steps, config.log_every) = (7, 7);
    let mut trainer = Trainer::new(config.clone()).unwrap();
    for _ in 0..7 {
        trainer.train_step().unwrap();
    }
    let p = state(&trainer).predictor.clone();
    // The same run again (bit for bit), through `run`: its report at step 7 reads the same state.
    let outcome = train(config, |_, _| {}).unwrap();
    assert_eq!(outcome.history[0].objective["predictor_off_diagonal"], 0.0);
    let first = &outcome.history[1];
    assert_eq!(first.step, 7);
    let off: f64 = p.indexed_iter().filter(|((i, j), _)| i != j).map(|(_, v)| f64::from(*v).powi(2)).sum::<f64>().sqrt();
    assert!(off > 0.0, "the off-diagonal entries moved");
    assert_eq!(first.objective["predictor_off_diagonal"], off);
    assert_eq!(first.objective["predictor_diagonal_mean"], 1.0);
    assert!(outcome.history.iter().all(|metrics| metrics.objective.len() == 2));

    let identity = train(config_with(NonContrastive::default()), |_, _| {}).unwrap();
    assert!(identity.history.iter().all(|metrics| metrics.objective.is_empty()));
    let line = serde_json::to_string(&identity.history[0]).unwrap();
    assert!(!line.contains("objective"), "{line}");
}

/// Every tensor of a saved state as bits: `(name, type, shape, bits)`.
fn bits(state: &SavedState) -> Vec<(String, &'static str, Vec<usize>, Vec<u64>)> {
    state
        .tensors
        .iter()
        .map(|(name, tensor)| {
            let (kind, values) = match &tensor.data {
                TensorData::F32(values) => ("f32", values.iter().map(|v| u64::from(v.to_bits())).collect()),
                TensorData::F64(values) => ("f64", values.iter().map(|v| v.to_bits()).collect()),
            };
            (name.clone(), kind, tensor.shape.clone(), values)
        })
        .collect()
}

/// BYOL (EMA target, trained predictor, affine batch norm) and SimSiam with
/// DirectPred (its `f64` running correlation) keep every tensor of their
/// state through a checkpoint file: a state made afresh by the objective's
/// `start` on the checkpoint's network and config, then restored from the
/// file, saves exactly (bit for bit) what the run saved; a state restored
/// into the other objective is an error naming the tensor.
#[test]
fn the_trained_state_round_trips_through_a_checkpoint_bit_for_bit() {
    let mut byol = byol(0.9);
    byol.normalisation = Normalisation::Batch { affine: true, eps: 1e-5 };
    let mut simsiam = NonContrastive::default();
    simsiam.predictor = Predictor::DirectPred { every: 2, rho: 0.3, eps: 0.1 };
    simsiam.normalisation = Normalisation::Batch { affine: true, eps: 1e-5 };
    let names = [
        &["bn.beta", "bn.gamma", "predictor", "target.bias", "target.bn.beta", "target.bn.gamma", "target.weights"][..],
        &["bn.beta", "bn.gamma", "directpred.correlation", "predictor"][..],
    ];
    let mut saved_states = Vec::new();
    for (k, (objective, names)) in [byol, simsiam].into_iter().zip(names).enumerate() {
        let mut config = config_with(objective);
        (config.steps, config.log_every) = (6, 3);
        let outcome = train(config, |_, _| {}).unwrap();
        let saved = outcome.state.clone();
        assert_eq!(saved.tensors.keys().map(String::as_str).collect::<Vec<_>>(), names);
        assert_eq!(saved.tensors["predictor"].shape, [16, 16]);
        if k == 0 {
            assert_eq!(saved.tensors["target.weights"].shape, [16, 64]);
            assert_ne!(
                saved.f32_array("target.weights", &[16, 64]).unwrap(),
                outcome.net.weights().into_dyn(),
                "the target lags the online net"
            );
        }

        let path = std::env::temp_dir().join(format!("decouple-train-state-{}-{k}.json", std::process::id()));
        let checkpoint = Checkpoint::of(&outcome);
        checkpoint.save(&path).unwrap();
        let loaded = Checkpoint::load(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(loaded, checkpoint);
        assert_eq!(bits(&loaded.objective_state), bits(&saved), "{}", outcome.objective);

        let kind = *loaded.config.objective.builtin().unwrap();
        let mut fresh = Objective::start(&kind, &loaded.net, &loaded.config).unwrap();
        assert_ne!(bits(&fresh.save()), bits(&saved), "a new state is not the trained one");
        fresh.restore(&loaded.objective_state).unwrap();
        assert_eq!(bits(&fresh.save()), bits(&saved), "{}", outcome.objective);
        // The same through the objective's own state type.
        let ObjectiveKind::NonContrastive(objective) = kind else { panic!("{kind:?}") };
        let mut own = objective.start(&loaded.net, &loaded.config).unwrap();
        own.restore(&loaded.objective_state).unwrap();
        assert_eq!(bits(&own.save()), bits(&saved));
        saved_states.push((objective, loaded));
    }

    let [(byol, byol_checkpoint), (simsiam, simsiam_checkpoint)] = &saved_states[..] else { unreachable!() };
    let mut simsiam_state = simsiam.start(&simsiam_checkpoint.net, &simsiam_checkpoint.config).unwrap();
    let error = simsiam_state.restore(&byol_checkpoint.objective_state).unwrap_err();
    assert!(matches!(&error, TrainError::State { tensor, .. } if tensor == "target.weights"), "{error:?}");
    let mut byol_state = byol.start(&byol_checkpoint.net, &byol_checkpoint.config).unwrap();
    let error = byol_state.restore(&simsiam_checkpoint.objective_state).unwrap_err();
    assert!(error.to_string().contains("`target.weights` is missing"), "{error}");
}
