//! Config files: every file of `examples/configs/` parses and checks; bad
//! input gives errors that name the field, the value and what is allowed
//! (unknown fields list the valid ones, wrong types name the field,
//! out-of-range values give the range, `--set` paths must exist). The
//! `decouple run` command's report of them is tested in `decouple-cli`.

use std::path::{Path, PathBuf};

use decouple_augment::Augmentation;
use decouple_harness::config_file::{Format, default_tree, load_run, parse_assignment, parse_run_text, resolve, set_path};
use decouple_harness::sweep::load_sweep;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/configs")
}

fn error_of(text: &str) -> String {
    match parse_run_text(text, Format::Toml) {
        Ok(config) => panic!("accepted {text:?} as {config:?}"),
        Err(error) => format!("{error:#}"),
    }
}

fn assert_mentions(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "{message:?} does not mention {part:?}");
    }
}

#[test]
fn every_example_config_parses_and_checks() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(examples()).unwrap().map(|entry| entry.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 15, "{files:?}");
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("sweep") {
            let sweep = load_sweep(&file).unwrap_or_else(|error| panic!("{name}: {error:#}"));
            assert!(!sweep.manifest.runs.is_empty());
        } else {
            load_run(&file, &[]).unwrap_or_else(|error| panic!("{name}: {error:#}"));
        }
    }
}

/// Every example config resolves to the same run as before the one pipeline
/// (the hashes of `decouple run --dry-run` and `sweep --dry-run` at the
/// commit before it; a data-file config had a hash of another form then).
#[test]
fn every_example_config_resolves_to_the_same_run_as_before() {
    let pinned: [(&str, &str); 21] = [
        ("bias-fixed-0.1.toml", "1617f370351e662a"),
        ("bias-fixed-0.toml", "2ffacb5db1198a87"),
        ("bias-learned.toml", "6038bc4a06cf4a4d"),
        ("byol-off-diagonal.toml", "23df7cd5f32e728a"),
        ("control-a-low-rank.toml", "03b6cd7d8ea93584"),
        ("control-b-localized.toml", "a45c655a6218b763"),
        ("control-c-pool.toml", "236d333cb03c2b01"),
        ("control-d-off-span.toml", "5314ad99c1ff5a9b"),
        ("default.toml", "342d529fb92283d5"),
        ("dense-without-aug.toml", "e57c312cc9ad8685"),
        ("landscape-simsiam-warm-start.toml", "6b18dc2edb2e1638"),
        ("linear-oracle.toml", "79b85cae69e12103"),
        ("objectives-barlow-twins.toml", "c88ece5b7be7c074"),
        ("objectives-spectral.toml", "a89f65b3de18d65c"),
        ("peer.toml", "2fcebf16a840ee4a"),
        ("prediction-head-off-diagonal.toml", "4f78e374dfd19e6c"),
        ("sparse-with-aug.toml", "342d529fb92283d5"),
        ("strength-example.toml", "105b6008b41dc584"),
        ("supervised.toml", "f97275c6bb20c376"),
        ("weak-aug-independent-mask.toml", "9722d817eba965bc"),
        ("weak-aug-noise.toml", "412d6c6ae8a6d468"),
    ];
    for (name, hash) in pinned {
        assert_eq!(load_run(&examples().join(name), &[]).unwrap().hash(), hash, "{name}");
    }
    let sweep = load_sweep(&examples().join("sweep-small.toml")).unwrap();
    let hashes: Vec<&str> = sweep.manifest.runs.iter().map(|run| run.config_hash.as_str()).collect();
    assert_eq!(hashes, ["70bbe9b118e13feb", "0be731e21ebcde27", "8392f026eaccbc23", "28418fa6af2257b7"]);
}

#[test]
fn the_default_file_is_the_spec_default_and_the_peer_file_is_the_peer_setting() {
    let default = load_run(&examples().join("default.toml"), &[]).unwrap();
    assert_eq!(default.train, decouple_train::TrainConfig::default());
    assert_eq!(default.evaluation, decouple_eval::EvaluationConfig::default().into());
    let peer = load_run(&examples().join("peer.toml"), &[]).unwrap().train;
    let data = peer.data.model().unwrap();
    assert_eq!((data.d, data.d1, peer.network.width, peer.batch_size), (10, 50, 50, 512));
    assert_eq!(peer.optimizer.learning_rate, 0.005);
    assert_eq!(peer.regime, decouple_train::DataRegime::Pool { n_samples: 3000 });
    let Some(decouple_train::ObjectiveKind::Contrastive { loss }) = peer.objective.builtin().copied() else {
        panic!("peer is contrastive")
    };
    assert_eq!(
        loss,
        decouple_loss::Contrastive::NtXent(decouple_loss::NtXent { similarity: decouple_loss::Similarity::Cosine, temperature: 0.05 })
    );
}

#[test]
fn json_files_are_accepted_with_the_same_structure() {
    let config = parse_run_text(r#"{"network": {"width": 8}, "augmentation": {"kind": "Identity"}}"#, Format::Json).unwrap();
    assert_eq!(config.train.network.width, 8);
    assert_eq!(config.train.augmentation, Augmentation::Identity {}.into());
    let message = format!("{:#}", parse_run_text(r#"{"network": {"width": -3}}"#, Format::Json).unwrap_err());
    assert_mentions(&message, &["network.width", "-3"]);
}

#[test]
fn unknown_fields_are_rejected_with_the_valid_ones() {
    assert_mentions(&error_of("[network]\nwidht = 3\n"), &["network.widht", "`width`", "`sigma0`", "`bias`"]);
    assert_mentions(&error_of("stpes = 3\n"), &["stpes", "`steps`", "`batch_size`", "`evaluation`"]);
    assert_mentions(&error_of("[evaluation]\nn_probe = 3\n"), &["evaluation.n_probe", "`n_probe_train`"]);
    // Inside a tagged table of another kind, serde lists the variant's fields.
    assert_mentions(&error_of("augmentation = { kind = \"GaussianNoise\", sigma = 0.5 }\n"), &["augmentation.sigma", "`sigma_a`"]);
    assert_mentions(
        &error_of("augmentation = { kind = \"Mask\" }\n"),
        &["augmentation.kind", "`Mask`", "ComplementaryMask", "IndependentMask"],
    );
}

#[test]
fn wrong_types_name_the_field_and_the_value() {
    assert_mentions(&error_of("[network]\nwidth = \"many\"\n"), &["network.width", "\"many\"", "usize"]);
    assert_mentions(&error_of("steps = 2.5\n"), &["steps", "2.5"]);
    assert_mentions(&error_of("[augmentation]\nkeep = \"half\"\n"), &["augmentation.keep", "\"half\"", "f64"]);
    assert_mentions(&error_of("[objective.loss]\ntemperature = true\n"), &["objective.loss.temperature", "true"]);
    assert_mentions(&error_of("seed = -1\n"), &["seed", "-1"]);
    assert_mentions(&error_of("[data]\nd1 = nan\n"), &["data.d1", "NaN", "not a finite number"]);
}

#[test]
fn out_of_range_values_name_the_field_the_value_and_the_range() {
    assert_mentions(&error_of("[augmentation]\nkeep = 1.5\n"), &["augmentation.keep = 1.5", "(0, 1)"]);
    assert_mentions(&error_of("[optimizer]\nmomentum = 1.0\n"), &["optimizer.momentum = 1", "[0, 1)"]);
    assert_mentions(&error_of("[data.dense]\nsigma = -0.5\n"), &["data.dense.sigma = -0.5", ">= 0"]);
    assert_mentions(&error_of("[data]\nd1 = 16\n"), &["data.d1 = 16", ">= d = 32"]);
    assert_mentions(&error_of("[network.bias]\nramp = 2.0\n"), &["network.bias.ramp = 2", "[0, 1]"]);
    assert_mentions(&error_of("[objective.loss]\ntemperature = 0.0\n"), &["objective.loss.temperature = 0", "> 0"]);
    assert_mentions(&error_of("batch_size = 1\n"), &["batch_size = 1", ">= 2"]);
    assert_mentions(&error_of("[evaluation]\nn_probe_test = 3\n"), &["evaluation.n_probe_test = 3", ">= 10"]);
}

#[test]
fn set_paths_must_exist_and_kinds_switch_variants() {
    let mut tree = default_tree();
    let (path, value) = parse_assignment("network.widht=3").unwrap();
    let message = format!("{:#}", set_path(&mut tree, &path, value).unwrap_err());
    assert_mentions(&message, &["network.widht", "`width`", "`sigma0`", "`bias`"]);
    let message = format!("{:#}", set_path(&mut tree, "steps.count", 3.into()).unwrap_err());
    assert_mentions(&message, &["`steps` is a value"]);
    let message = format!("{:#}", set_path(&mut tree, "nosuch", 3.into()).unwrap_err());
    assert_mentions(&message, &["nosuch", "`augmentation`", "`steps`"]);
    assert!(parse_assignment("network.width").is_err());
    assert!(parse_assignment("network..width=3").is_err());

    for assignment in [
        "augmentation.kind=GaussianNoise",
        "augmentation.sigma_a=0.3",
        "network.width=8",
        "objective.loss.similarity=Dot",
        "optimizer.clip_norm=1.5",
    ] {
        let (path, value) = parse_assignment(assignment).unwrap();
        set_path(&mut tree, &path, value).unwrap();
    }
    let config = resolve(&tree).unwrap();
    assert_eq!(config.train.augmentation, Augmentation::GaussianNoise { sigma_a: 0.3 }.into());
    assert_eq!(config.train.network.width, 8);
    assert_eq!(config.train.optimizer.clip_norm, Some(1.5));
    // A whole table at once, as an inline TOML table.
    let (path, value) = parse_assignment("augmentation={ kind = \"IndependentMask\", keep = 0.7 }").unwrap();
    set_path(&mut tree, &path, value).unwrap();
    assert_eq!(resolve(&tree).unwrap().train.augmentation, Augmentation::IndependentMask { keep: 0.7, rescale: true, views: 2 }.into());
    // A field the new variant does not have is caught at deserialization, with the valid ones.
    let (path, value) = parse_assignment("augmentation.sigma_a=0.3").unwrap();
    set_path(&mut tree, &path, value).unwrap();
    assert_mentions(&format!("{:#}", resolve(&tree).unwrap_err()), &["augmentation.sigma_a", "`keep`", "`rescale`"]);
}
