//! `--jobs` never changes results: the same run list executed on one and on
//! two threads gives identical reports and histories, in list order.

use decouple_harness::training::{RunCache, RunSpec, execute};
use decouple_train::TrainConfig;

fn tiny(seed: u64, keep: f64) -> RunSpec {
    let mut config = TrainConfig::default();
    (config.seed, config.steps, config.batch_size, config.log_every) = (seed, 40, 16, 20);
    config.data.d = 4;
    config.data.d1 = 24;
    config.data.latent = decouple_data::SparseLatent::Bernoulli { p: 0.5 };
    config.network.width = 8;
    config.augmentation = decouple_augment::Augmentation::ComplementaryMask { keep };
    RunSpec { label: format!("keep {keep} seed {seed}"), config }
}

#[test]
fn results_do_not_depend_on_the_number_of_jobs() {
    let specs: Vec<RunSpec> = [(0, 0.5), (1, 0.5), (0, 0.3), (2, 0.7)].iter().map(|&(seed, keep)| tiny(seed, keep)).collect();
    let serial = execute("jobs-test", &specs, 1, &RunCache::default());
    let parallel = execute("jobs-test", &specs, 2, &RunCache::default());
    assert_eq!(serial.len(), specs.len());
    for ((a, b), spec) in serial.iter().zip(&parallel).zip(&specs) {
        assert_eq!(a.label, spec.label);
        assert_eq!(a.error, None);
        assert_eq!(serde_json::to_string(&a.report).unwrap(), serde_json::to_string(&b.report).unwrap());
        assert_eq!(serde_json::to_string(&a.history).unwrap(), serde_json::to_string(&b.history).unwrap());
        assert_eq!(a.alignment, b.alignment);
    }
}
