//! Training: the loss goes down on the default setting, runs are bit-identical
//! for one seed (also on two threads at once), divergence is caught with its
//! step, configs are validated, checkpoints round-trip.

mod support;

use decouple_augment::Augmentation;
use decouple_loss::{Contrastive, InfoNce, NtXent, Similarity};
use decouple_net::BiasRule;
use decouple_train::optimizer::{ParameterSlot, Sgd};
use support::{edited, small};

use decouple_train::{Checkpoint, DataRegime, ObjectiveKind, Schedule, TrainConfig, TrainError, TrainOutcome, train, train_with_threads};

/// The docs/model.md §7 default with fewer steps.
fn short_default(steps: usize) -> TrainConfig {
    edited(TrainConfig::default(), |c| {
        c.steps = steps;
        c.log_every = 50;
    })
}

fn loss_history(outcome: &TrainOutcome) -> Vec<f64> {
    outcome.history.iter().map(|metrics| metrics.loss).collect()
}

#[test]
fn short_training_on_the_default_setting_lowers_the_loss() {
    let outcome = train(short_default(400), |_, _| {}).unwrap();
    let losses = loss_history(&outcome);
    let (first, last) = (losses[0], *losses.last().unwrap());
    // ln(128) = 4.85 at initialisation (all representations ~ equal); the
    // masked default reaches ~3.3 by 3000 steps and is well below 4.5 by 400.
    assert!(first > 4.7, "initial loss {first}");
    assert!(last < first - 0.3, "loss went from {first} to {last}: {losses:?}");
}

#[test]
fn supervised_and_pool_runs_lower_their_loss() {
    let supervised = edited(small(), |c| {
        c.objective = ObjectiveKind::Supervised {}.into();
        c.steps = 200;
    });
    let losses = loss_history(&train(supervised, |_, _| {}).unwrap());
    assert!((losses[0] - std::f64::consts::LN_2).abs() < 1e-6, "zero head gives ln 2: {}", losses[0]);
    assert!(*losses.last().unwrap() < 0.6, "{losses:?}");
    let pool = edited(small(), |c| {
        c.regime = DataRegime::Pool { n_samples: 100 };
        c.objective =
            ObjectiveKind::Contrastive { loss: Contrastive::NtXent(NtXent { similarity: Similarity::Cosine, temperature: 0.5 }) }.into();
        c.steps = 200;
    });
    let losses = loss_history(&train(pool, |_, _| {}).unwrap());
    assert!(*losses.last().unwrap() < losses[0], "{losses:?}");
}

/// One run on a 2-thread pool (sampling, augmentation, both views' forward
/// passes and the backward kernels split over threads, the next batch drawn
/// while the current one trains) equals the run on one
/// thread bit for bit, through the dense backward of the first steps and the
/// sparse one after the thresholds have risen; for both losses.
#[test]
fn a_run_on_two_threads_is_bit_identical_to_one_thread() {
    let mut config = TrainConfig::default();
    let data = config.data.model_mut().unwrap();
    data.d = 16;
    data.d1 = 300;
    config.network.width = 48;
    config.batch_size = 40;
    config.steps = 150;
    config.log_every = 25;
    let nt_xent = ObjectiveKind::Contrastive { loss: Contrastive::NtXent(NtXent { similarity: Similarity::Cosine, temperature: 0.2 }) };
    for config in [
        config.clone(),
        edited(config.clone(), |c| {
            c.objective = nt_xent.into();
            c.regime = DataRegime::Pool { n_samples: 100 };
        }),
    ] {
        let one = train_with_threads(config.clone(), 1, |_, _| {}).unwrap();
        let two = train_with_threads(config, 2, |_, _| {}).unwrap();
        assert_eq!(one.net, two.net);
        assert_eq!(one.history, two.history);
        let last = one.history.last().unwrap();
        assert!(last.active_fraction < 0.5, "the sparse backward was not reached: {last:?}");
    }
    assert!(matches!(train_with_threads(config, 0, |_, _| {}), Err(TrainError::OutOfRange { field: "threads", .. })));
}

#[test]
fn one_seed_gives_bit_identical_runs_on_one_or_two_threads() {
    let mut config = small();
    config.optimizer.momentum = 0.9;
    config.optimizer.clip_norm = Some(1.0);
    config.network.bias = BiasRule::Learned { b0: 0.0, lr_multiplier: 1.0 };
    let reference = train(config.clone(), |_, _| {}).unwrap();
    let again = train(config.clone(), |_, _| {}).unwrap();
    assert_eq!(reference.net, again.net);
    assert_eq!(reference.history, again.history);
    // Two runs at once on two threads: each identical to the sequential one.
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let config = config.clone();
            std::thread::spawn(move || train(config, |_, _| {}).unwrap())
        })
        .collect();
    for handle in handles {
        let parallel = handle.join().unwrap();
        assert_eq!(parallel.net, reference.net);
        assert_eq!(parallel.history, reference.history);
    }
    let other_seed = train(
        edited(config, |c| {
            c.seed = 1;
        }),
        |_, _| {},
    )
    .unwrap();
    assert_ne!(other_seed.net, reference.net);
}

#[test]
fn divergence_stops_with_the_step_and_the_likely_cause() {
    let mut config = small();
    config.objective =
        ObjectiveKind::Contrastive { loss: Contrastive::InfoNce(InfoNce { similarity: Similarity::Dot, temperature: 0.01 }) }.into();
    config.optimizer.learning_rate = 1e8;
    config.network.bias = BiasRule::Fixed { b: 0.0 };
    match train(config.clone(), |_, _| {}) {
        Err(TrainError::Diverged { step, quantity, likely_cause }) => {
            assert!(step < config.steps, "step {step}");
            assert!(["loss", "weights"].contains(&quantity));
            assert!(likely_cause.contains("learning rate 100000000") && likely_cause.contains("temperature 0.01"), "{likely_cause}");
        }
        other => panic!("expected divergence, got {other:?}"),
    }
}

#[test]
fn invalid_configs_name_the_field_and_range() {
    let cases: Vec<(TrainConfig, &str)> = vec![
        (
            edited(small(), |c| {
                c.steps = 0;
            }),
            "steps = 0 is out of range: must be >= 1",
        ),
        (
            edited(small(), |c| {
                c.batch_size = 1;
            }),
            "batch_size = 1 is out of range: must be >= 2",
        ),
        (
            edited(small(), |c| {
                c.log_every = 0;
            }),
            "log_every = 0",
        ),
        (
            edited(small(), |c| {
                c.optimizer = edited(small().optimizer, |c| {
                    c.learning_rate = -1.0;
                });
            }),
            "optimizer.learning_rate = -1",
        ),
        (
            edited(small(), |c| {
                c.optimizer = edited(small().optimizer, |c| {
                    c.momentum = 1.0;
                });
            }),
            "optimizer.momentum = 1",
        ),
        (
            edited(small(), |c| {
                c.optimizer = edited(small().optimizer, |c| {
                    c.clip_norm = Some(0.0);
                });
            }),
            "optimizer.clip_norm = 0",
        ),
        (
            edited(small(), |c| {
                c.augmentation = Augmentation::ComplementaryMask { keep: 1.0 }.into();
            }),
            "augmentation.keep = 1",
        ),
        (
            edited(small(), |c| {
                c.regime = DataRegime::Pool { n_samples: 0 };
            }),
            "regime.n_samples = 0",
        ),
        (
            edited(small(), |c| {
                c.regime = DataRegime::Pool { n_samples: 10 };
                c.objective = ObjectiveKind::Supervised {}.into();
            }),
            "regime: a fixed Pool is not supported",
        ),
    ];
    for (config, expected) in cases {
        // The config's own check rejects it (so config files and checkpoints do too), not only the trainer.
        assert!(config.check().unwrap_err().to_string().starts_with(expected), "{config:?}");
        let message = train(config, |_, _| {}).unwrap_err().to_string();
        assert!(message.starts_with(expected), "{message:?} should start with {expected:?}");
    }
    let mut bad_width = small();
    bad_width.network.width = 0;
    assert!(train(bad_width, |_, _| {}).unwrap_err().to_string().starts_with("network.width = 0"));
    let mut bad_data = small();
    bad_data.data.model_mut().unwrap().d1 = 4;
    assert!(train(bad_data, |_, _| {}).unwrap_err().to_string().starts_with("d1 = 4"));
}

#[test]
fn configs_and_checkpoints_round_trip() {
    let config = TrainConfig::default();
    let json = serde_json::to_string_pretty(&config).unwrap();
    assert_eq!(serde_json::from_str::<TrainConfig>(&json).unwrap(), config);
    let unknown = json.replacen("\"steps\"", "\"stepz\"", 1);
    assert!(serde_json::from_str::<TrainConfig>(&unknown).unwrap_err().to_string().contains("unknown field `stepz`"));

    let outcome = train(
        edited(small(), |c| {
            c.steps = 10;
        }),
        |_, _| {},
    )
    .unwrap();
    let path = std::env::temp_dir().join(format!("decouple-checkpoint-{}.json", std::process::id()));
    let checkpoint = Checkpoint::of(&outcome);
    checkpoint.save(&path).unwrap();
    let loaded = Checkpoint::load(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(loaded, checkpoint);
    let missing = Checkpoint::load(&path).unwrap_err().to_string();
    assert!(missing.starts_with("checkpoint "), "{missing}");
}

#[test]
fn observer_sees_steps_zero_every_k_and_the_end() {
    let mut seen = Vec::new();
    let config = edited(small(), |c| {
        c.steps = 45;
        c.log_every = 20;
    });
    let outcome = train(config, |metrics, net| {
        assert_eq!(net.n_neurons(), 16);
        seen.push(metrics.step);
    })
    .unwrap();
    assert_eq!(seen, vec![0, 20, 40, 45]);
    // Step 0 reports the initial forward pass: with b = 0 every unit is active.
    assert!(outcome.history[0].active_fraction > 0.99, "{:?}", outcome.history[0]);
    let beta = outcome.history.last().unwrap().beta.unwrap();
    assert!((beta - 0.5).abs() < 1e-12, "NormRamp reaches beta: {beta}");
    let last = &outcome.history[3];
    let expected_bias = 0.5 * last.weight_norm_mean;
    assert!(last.bias_mean > 0.0 && (last.bias_mean - expected_bias).abs() < 0.5 * expected_bias);
}

#[test]
fn schedules_and_sgd_follow_their_formulas() {
    assert_eq!(Schedule::Constant {}.factor(5, 10), 1.0);
    assert_eq!(Schedule::Warmup { warmup_steps: 4 }.factor(1, 10), 0.5);
    assert_eq!(Schedule::Warmup { warmup_steps: 4 }.factor(7, 10), 1.0);
    assert!((Schedule::Cosine { warmup_steps: 0 }.factor(5, 10) - 0.5).abs() < 1e-12);
    assert!(Schedule::Cosine { warmup_steps: 2 }.factor(9, 10) < 0.05);

    let config = edited(TrainConfig::default().optimizer, |c| {
        c.learning_rate = 0.1;
        c.momentum = 0.5;
        c.weight_decay = 0.2;
        c.clip_norm = Some(1.0);
        c.schedule = Schedule::Constant {};
    });
    let mut sgd = Sgd::default();
    let mut w = [1.0f32, -2.0];
    let g = [3.0f32, 4.0];
    // g + 0.2 w = [3.2, 3.6], norm 4.8166 > 1: clipped to unit norm; v = that; w -= 0.1 v.
    let norm =
        sgd.step(&config, 0.1, &mut [ParameterSlot { name: "w", value: &mut w, grad: &g, decay: true, lr_multiplier: 1.0 }]).unwrap();
    let expected_norm = (3.2f64 * 3.2 + 3.6 * 3.6).sqrt();
    assert!((norm - expected_norm).abs() < 1e-5);
    let v1 = [3.2 / expected_norm, 3.6 / expected_norm];
    assert!((f64::from(w[0]) - (1.0 - 0.1 * v1[0])).abs() < 1e-6);
    assert!((f64::from(w[1]) - (-2.0 - 0.1 * v1[1])).abs() < 1e-6);
    // Second step: v = 0.5 v1 + clipped(g + 0.2 w).
    let w_before = [f64::from(w[0]), f64::from(w[1])];
    sgd.step(&config, 0.1, &mut [ParameterSlot { name: "w", value: &mut w, grad: &g, decay: true, lr_multiplier: 1.0 }]).unwrap();
    let total = [3.0 + 0.2 * w_before[0], 4.0 + 0.2 * w_before[1]];
    let total_norm = (total[0] * total[0] + total[1] * total[1]).sqrt();
    for k in 0..2 {
        let v2 = 0.5 * v1[k] + total[k] / total_norm;
        assert!((f64::from(w[k]) - (w_before[k] - 0.1 * v2)).abs() < 1e-5);
    }
}

/// The warm start `w_i = m_{i mod d} + (noise / sqrt(d1)) g_i`: exactly the
/// dictionary at noise 0, and at noise 0.5 every neuron's cosine with its
/// feature is near `1 / sqrt(1 + 0.25)`; a negative noise is a named error.
#[test]
fn near_dictionary_init_starts_next_to_the_features() {
    use decouple_data::SparseCodingModel;
    use decouple_train::Init;
    let mut config = support::small();
    config.network.init = Init::NearDictionary { noise: 0.0 };
    config.steps = 1;
    let trainer = decouple_train::Trainer::new(config.clone()).unwrap();
    let model = SparseCodingModel::from_seed(*config.data.model().unwrap(), config.seed).unwrap();
    let features = model.dictionary().features_f32();
    for (i, row) in trainer.net().weights().rows().into_iter().enumerate() {
        assert_eq!(row, features.row(i % 8));
    }
    assert!(trainer.net().bias().iter().all(|b| *b == 0.0));

    config.network.init = Init::NearDictionary { noise: 0.5 };
    let trainer = decouple_train::Trainer::new(config.clone()).unwrap();
    for (i, row) in trainer.net().weights().rows().into_iter().enumerate() {
        let feature = model.dictionary().feature(i % 8);
        let w = row.mapv(f64::from);
        let cosine = w.dot(&feature) / w.dot(&w).sqrt();
        // ||g||^2 / d1 has relative spread sqrt(2 / 64) = 0.18: the cosine stays within 0.1 of 0.894.
        assert!((cosine - 1.0 / 1.25f64.sqrt()).abs() < 0.1, "neuron {i}: {cosine}");
    }
    let json = serde_json::to_string(&config.network).unwrap();
    assert!(json.contains(r#""init":{"kind":"NearDictionary","noise":0.5}"#), "{json}");
    let default = serde_json::to_string(&support::small().network).unwrap();
    assert!(default.contains(r#""init":{"kind":"Gaussian"}"#), "{default}");
    let old = default.replace(r#","init":{"kind":"Gaussian"}"#, "");
    assert_eq!(serde_json::from_str::<decouple_train::NetworkConfig>(&old).unwrap(), support::small().network);

    config.network.init = Init::NearDictionary { noise: -1.0 };
    match config.check() {
        Err(TrainError::OutOfRange { field, .. }) => assert_eq!(field, "network.init.noise"),
        other => panic!("{other:?}"),
    }
}

/// A supervised run's trained linear head is in its outcome's state and comes
/// back from a checkpoint file unchanged; a contrastive run has none.
#[test]
fn the_linear_head_survives_a_checkpoint() {
    let supervised = edited(small(), |c| {
        c.objective = ObjectiveKind::Supervised {}.into();
        c.steps = 10;
    });
    let outcome = train(supervised, |_, _| {}).unwrap();
    let head = outcome.linear_head().expect("a supervised run has a head");
    assert_eq!(head.weights.len(), 16);
    assert!(head.weights.iter().any(|&a| a != 0.0), "the head trained from zero");
    let path = std::env::temp_dir().join(format!("decouple-checkpoint-head-{}.json", std::process::id()));
    Checkpoint::of(&outcome).save(&path).unwrap();
    let loaded = Checkpoint::load(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(loaded.linear_head(), Some(head));
    assert_eq!(loaded.objective_state, outcome.state);
    let contrastive = train(edited(small(), |c| c.steps = 2), |_, _| {}).unwrap();
    assert!(contrastive.linear_head().is_none() && contrastive.state.is_empty());
}
