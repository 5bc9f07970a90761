//! Value stability: short seeded runs pinned to exact numbers (the final
//! loss and a few weights), as rand_distr pins its samples. A change that
//! moves any bit of a run (a reordered sum, a different random stream, a new
//! kernel) fails here and must be deliberate.
//!
//! The pins hold for this repository's default build on x86-64 (see
//! `decouple_train`'s crate docs for what may differ between CPUs).

mod support;

use decouple_augment::Augmentation;
use decouple_loss::{Contrastive, NtXent, Similarity};
use decouple_net::BiasRule;
use decouple_train::{DataRegime, ObjectiveKind, TrainConfig, TrainOutcome, train};

/// The small test setting with 40 steps and seed 7.
fn small() -> TrainConfig {
    let mut config = support::small();
    config.steps = 40;
    config.seed = 7;
    config
}

/// `(final loss bits, bits of W[0, 0..3], bits of b[0..2])`.
type Fingerprint = (u64, [u32; 3], [u32; 2]);

fn fingerprint(outcome: &TrainOutcome) -> Fingerprint {
    let weights = outcome.net.weights();
    let bias = outcome.net.bias();
    (
        outcome.history.last().unwrap().loss.to_bits(),
        [weights[[0, 0]].to_bits(), weights[[0, 1]].to_bits(), weights[[0, 2]].to_bits()],
        [bias[0].to_bits(), bias[1].to_bits()],
    )
}

fn runs() -> Vec<(&'static str, TrainConfig)> {
    let mut runs = vec![("default", small())];
    let mut pool = small();
    pool.regime = DataRegime::Pool { n_samples: 100 };
    pool.objective =
        ObjectiveKind::Contrastive { loss: Contrastive::NtXent(NtXent { similarity: Similarity::Cosine, temperature: 0.5 }) }.into();
    runs.push(("nt-xent-pool", pool));
    let mut learned = small();
    learned.network.bias = LEARNED;
    learned.augmentation = Augmentation::GaussianNoise { sigma_a: 0.5 }.into();
    learned.optimizer.momentum = 0.9;
    runs.push(("learned-noise-momentum", learned));
    let mut supervised = small();
    supervised.objective = SUPERVISED.into();
    runs.push(("supervised", supervised));
    runs
}
const LEARNED: BiasRule = BiasRule::Learned { b0: 0.0, lr_multiplier: 1.0 };
const SUPERVISED: ObjectiveKind = ObjectiveKind::Supervised {};

/// Pinned on x86-64. Re-pinned deliberately on 2026-12-02 when the dense noise
/// moved from `rand_distr::StandardNormal` to the blocked Box–Muller sampler
/// (`decouple_data::fill_normal`), which draws other numbers from the same seeds.
const PINS: [(&str, Fingerprint); 4] = [
    ("default", (4615573786048069632, [3214591015, 3176683029, 1056111316], [1073154265, 1074115250])),
    ("nt-xent-pool", (4614921158573372211, [3176516546, 3176973212, 3180080383], [1060870696, 1064355646])),
    ("learned-noise-momentum", (4614625971859881984, [3225400126, 3210143880, 1063274853], [1092317407, 0])),
    ("supervised", (4604423649314524365, [3143586521, 3141241170, 1003262761], [1024473034, 1025628389])),
];

#[test]
fn short_runs_reproduce_their_pinned_values() {
    for ((name, config), (pinned_name, pinned)) in runs().into_iter().zip(PINS) {
        assert_eq!(name, pinned_name);
        let outcome = train(config, |_, _| {}).unwrap();
        let found = fingerprint(&outcome);
        assert_eq!(
            found,
            pinned,
            "{name}: final loss {} (pinned {}), W[0, 0..3] = {:?}",
            f64::from_bits(found.0),
            f64::from_bits(pinned.0),
            found.1.map(f32::from_bits)
        );
    }
}
