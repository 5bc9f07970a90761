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
        } else if decouple_harness::file_run::names_file_data(&file).unwrap() {
            decouple_harness::file_run::load_file_run(&file, &[]).unwrap_or_else(|error| panic!("{name}: {error:#}"));
        } else {
            load_run(&file, &[]).unwrap_or_else(|error| panic!("{name}: {error:#}"));
        }
    }
}

#[test]
fn the_default_file_is_the_spec_default_and_the_peer_file_is_the_peer_setting() {
    let default = load_run(&examples().join("default.toml"), &[]).unwrap();
    assert_eq!(default.train, decouple_train::TrainConfig::default());
    assert_eq!(default.evaluation, decouple_eval::EvaluationConfig::default());
    let peer = load_run(&examples().join("peer.toml"), &[]).unwrap().train;
    assert_eq!((peer.data.d, peer.data.d1, peer.network.width, peer.batch_size), (10, 50, 50, 512));
    assert_eq!(peer.optimizer.learning_rate, 0.005);
    assert_eq!(peer.regime, decouple_train::DataRegime::Pool { n_samples: 3000 });
    let decouple_train::ObjectiveKind::Contrastive { loss } = peer.objective else { panic!("peer is contrastive") };
    assert_eq!(
        loss,
        decouple_loss::Contrastive::NtXent(decouple_loss::NtXent { similarity: decouple_loss::Similarity::Cosine, temperature: 0.05 })
    );
}

#[test]
fn json_files_are_accepted_with_the_same_structure() {
    let config = parse_run_text(r#"{"network": {"width": 8}, "augmentation": {"kind": "Identity"}}"#, Format::Json).unwrap();
    assert_eq!(config.train.network.width, 8);
    assert_eq!(config.train.augmentation, Augmentation::Identity {});
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
    assert_eq!(config.train.augmentation, Augmentation::GaussianNoise { sigma_a: 0.3 });
    assert_eq!(config.train.network.width, 8);
    assert_eq!(config.train.optimizer.clip_norm, Some(1.5));
    // A whole table at once, as an inline TOML table.
    let (path, value) = parse_assignment("augmentation={ kind = \"IndependentMask\", keep = 0.7 }").unwrap();
    set_path(&mut tree, &path, value).unwrap();
    assert_eq!(resolve(&tree).unwrap().train.augmentation, Augmentation::IndependentMask { keep: 0.7, rescale: true, views: 2 });
    // A field the new variant does not have is caught at deserialization, with the valid ones.
    let (path, value) = parse_assignment("augmentation.sigma_a=0.3").unwrap();
    set_path(&mut tree, &path, value).unwrap();
    assert_mentions(&format!("{:#}", resolve(&tree).unwrap_err()), &["augmentation.sigma_a", "`keep`", "`rescale`"]);
}
