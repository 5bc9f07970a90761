//! Training on real samples (no data model): runs, is reproducible on any
//! number of threads, and refuses what needs the model.

use decouple_augment::Augmentation;
use decouple_data::{DataConfig, SparseCodingModel, rng};
use decouple_train::{Init, ObjectiveKind, TrainConfig, Trainer};
use ndarray::Array2;

fn samples() -> Array2<f32> {
    let mut data = DataConfig::default();
    data.d = 8;
    data.d1 = 32;
    SparseCodingModel::from_seed(data, 4).unwrap().sample(400, &mut rng::stream(4, "real")).x().to_owned()
}

fn config() -> TrainConfig {
    let mut config = TrainConfig::default();
    config.network.width = 16;
    config.steps = 30;
    config.batch_size = 64;
    config.log_every = 10;
    config
}

#[test]
fn trains_on_samples_reproducibly_on_any_thread_count() {
    let run = |threads| {
        let trainer = Trainer::on_samples(config(), config().objective, config().augmentation, threads, samples()).unwrap();
        assert!(trainer.model().is_none());
        trainer.run(|_, _| {}).unwrap()
    };
    let (one, two) = (run(1), run(2));
    assert!(one.model.is_none());
    assert_eq!(one.net.weights(), two.net.weights());
    assert_eq!(one.net.weights().ncols(), 32);
    assert_eq!(one.history.len(), 4);
    assert!(one.history.iter().all(|m| m.loss.is_finite()));
}

#[test]
fn refuses_what_needs_the_model() {
    let mut supervised = config();
    supervised.objective = ObjectiveKind::Supervised {};
    assert!(Trainer::on_samples(supervised, supervised.objective, Augmentation::Identity {}, 1, samples()).is_err());
    let mut warm = config();
    warm.network.init = Init::NearDictionary { noise: 0.1 };
    assert!(Trainer::on_samples(warm, warm.objective, warm.augmentation, 1, samples()).is_err());
    let few = samples().select(ndarray::Axis(0), &[0, 1, 2]);
    assert!(Trainer::on_samples(config(), config().objective, config().augmentation, 1, few).is_err());
    let mut nan = samples();
    nan[[3, 3]] = f32::NAN;
    assert!(Trainer::on_samples(config(), config().objective, config().augmentation, 1, nan).is_err());
}
