//! Each experiment's setting is defined once, in Rust (`experiments/`): every
//! example config of `examples/configs/` named after an experiment must
//! deserialise to exactly the `TrainConfig` the reproduction runs for it
//! (seed 0), and every example config is either such a file or one of the
//! non-experiment files listed here.

use std::path::{Path, PathBuf};

use decouple_augment::Augmentation;
use decouple_experiments::experiments::{comparison, in_practice, landscape, prediction_head, spectral, variations};
use decouple_harness::config_file::load_run;
use decouple_train::TrainConfig;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/configs")
}

/// Config files that are not the setting of one experiment's run.
const NOT_EXPERIMENTS: [&str; 4] = ["byol-off-diagonal.toml", "default.toml", "peer.toml", "sweep-small.toml"];

fn by_label(configs: &[(&'static str, TrainConfig)], label: &str) -> TrainConfig {
    configs.iter().find(|(name, _)| *name == label).unwrap_or_else(|| panic!("no run labelled {label}")).1.clone()
}

/// The `objectives` run of the objective labelled `label` under the default `ComplementaryMask(0.5)`.
fn objective_run(label: &str) -> TrainConfig {
    let objective = spectral::objectives().into_iter().find(|(name, _)| name == label).unwrap_or_else(|| panic!("no objective {label}")).1;
    spectral::objectives_config(objective, Augmentation::ComplementaryMask { keep: 0.5 })
}

/// The reproduction's config for each experiment example file.
fn reproduction() -> Vec<(&'static str, TrainConfig)> {
    let bias = variations::bias_rule_configs();
    let controls = variations::control_configs();
    vec![
        ("sparse-with-aug.toml", comparison::config(Augmentation::ComplementaryMask { keep: 0.5 })),
        ("dense-without-aug.toml", comparison::config(Augmentation::Identity {})),
        ("weak-aug-noise.toml", comparison::config(Augmentation::GaussianNoise { sigma_a: 0.5 })),
        ("weak-aug-independent-mask.toml", comparison::config(Augmentation::IndependentMask { keep: 0.5, rescale: true, views: 2 })),
        ("strength-example.toml", variations::strength_config(0.4, Augmentation::ComplementaryMask { keep: 0.3 })),
        ("bias-fixed-0.toml", by_label(&bias, "Fixed(0)")),
        ("bias-fixed-0.1.toml", by_label(&bias, "Fixed(0.1)")),
        ("bias-learned.toml", by_label(&bias, "Learned")),
        ("supervised.toml", variations::supervised_config()),
        ("control-a-low-rank.toml", by_label(&controls, "(a) LowRank(rank 8) dense features")),
        ("control-b-localized.toml", by_label(&controls, "(b) localized Identity dictionary")),
        ("control-c-pool.toml", by_label(&controls, "(c) finite pool n = 4 d1")),
        ("control-d-off-span.toml", by_label(&controls, "(d) OrthogonalComplement noise")),
        ("landscape-simsiam-warm-start.toml", {
            let (_, objective, learning_rate) = landscape::objectives()[1];
            landscape::config(objective, learning_rate, landscape::inits()[1].1, 3000)
        }),
        ("prediction-head-off-diagonal.toml", prediction_head::config(prediction_head::predictors()[1].1)),
        ("linear-oracle.toml", spectral::oracle_config(Augmentation::ComplementaryMask { keep: 0.5 }, 0)),
        ("objectives-spectral.toml", objective_run("Spectral (mu 1)")),
        ("objectives-barlow-twins.toml", objective_run("Barlow Twins")),
    ]
}

#[test]
fn every_experiment_example_is_the_reproduction_setting() {
    for (file, expected) in reproduction() {
        let loaded = load_run(&examples().join(file), &[]).unwrap_or_else(|error| panic!("{file}: {error}"));
        assert_eq!(loaded.train, expected, "{file} differs from the setting the reproduction runs");
    }
}

/// Example configs of runs on a data file (`data = { kind = "File", ... }`), each the `in-practice` run it names.
const FILE_EXAMPLES: [&str; 1] = ["in-practice-digits-mask.toml"];

#[test]
fn file_data_examples_are_the_reproduction_setting() {
    use decouple_augment::AnyAugmentation;
    use decouple_train::AugmentationConfig;
    let loaded = load_run(&examples().join(FILE_EXAMPLES[0]), &[]).unwrap();
    let data = loaded.train.data.file().expect("a data file");
    let digits = in_practice::RealData::Digits;
    let mut expected = in_practice::train_config(digits, 3000, 0);
    expected.augmentation = Augmentation::ComplementaryMask { keep: 0.5 }.into();
    assert_eq!(loaded.train.network, expected.network);
    assert_eq!(
        (&loaded.train.objective, loaded.train.optimizer, loaded.train.steps, loaded.train.batch_size),
        (&expected.objective, expected.optimizer, expected.steps, expected.batch_size)
    );
    assert_eq!((loaded.train.seed, loaded.train.log_every), (expected.seed, expected.log_every));
    let AnyAugmentation::Builtin(mask) = in_practice::augmentations()[2].clone() else { panic!("augmentations()[2] is a built-in") };
    assert_eq!(loaded.train.augmentation, AugmentationConfig::Builtin(mask));
    assert!(matches!(loaded.train.augmentation.builtin(), Some(Augmentation::ComplementaryMask { .. })));
    assert_eq!(data.preprocess, digits.preprocess());
    // The example names the digits relative to its own folder: they resolve to the repository's data/.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    assert_eq!(data.path, decouple_harness::config_file::normalize(&root.join("data/digits/x.npy")));
    // The example's data file is the one the experiment embeds.
    assert_eq!(std::fs::read(&data.path).unwrap(), in_practice::DIGITS_NPY);
}

#[test]
fn every_example_config_is_checked_here() {
    let known: Vec<&str> = reproduction().iter().map(|(file, _)| *file).chain(NOT_EXPERIMENTS).chain(FILE_EXAMPLES).collect();
    for entry in std::fs::read_dir(examples()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(known.contains(&name.as_str()), "examples/configs/{name} is not compared with the reproduction: add it to reproduction()");
    }
}
