//! Settings shared by the trainer's tests.

use decouple_train::TrainConfig;

/// A small, fast setting for structural tests: d = 8, d1 = 64, m = 16, B = 32, 60 steps.
pub fn small() -> TrainConfig {
    let mut config = TrainConfig::default();
    let data = config.data.model_mut().expect("the default data are the model");
    data.d = 8;
    data.d1 = 64;
    data.latent = decouple_data::SparseLatent::Bernoulli { p: 0.25 };
    config.network.width = 16;
    config.batch_size = 32;
    config.steps = 60;
    config.log_every = 20;
    config
}

/// `value` after `edit` (the config structs are `#[non_exhaustive]`: no struct literals outside their crate).
#[allow(dead_code, reason = "not every test file edits configs")]
pub fn edited<T>(mut value: T, edit: impl FnOnce(&mut T)) -> T {
    edit(&mut value);
    value
}
