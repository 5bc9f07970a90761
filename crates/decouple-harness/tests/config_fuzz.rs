//! Fuzz-style property tests of the config parser: random text, mutated
//! example files (characters deleted, inserted, replaced; lines dropped or
//! duplicated; values swapped for odd ones) and random `--set` edits must give
//! a valid config or a clean error, never a panic. A config that is accepted
//! must pass `check()`.

use std::path::Path;

use decouple_harness::config_file::{Format, default_tree, parse_assignment, parse_document, parse_run_text, resolve, set_path};
use decouple_harness::sweep::parse_sweep;
use proptest::prelude::*;

fn example_texts() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/configs");
    let mut texts: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .map(|path| (path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(path).unwrap()))
        .collect();
    texts.sort();
    texts
}

/// Parses `text` both as a run config and as a sweep; accepted configs must be valid.
fn exercise(text: &str) {
    for format in [Format::Toml, Format::Json] {
        if let Ok(config) = parse_run_text(text, format) {
            assert!(
                config.train.check().is_ok() && config.evaluation.model().is_none_or(|evaluation| evaluation.check().is_ok()),
                "accepted an invalid config from {text:?}"
            );
        }
        if let Ok(document) = parse_document(text, format) {
            let _ = parse_sweep(document, None, "fuzz");
        }
    }
}

const ODD_VALUES: [&str; 18] = [
    "-1",
    "0",
    "1e308",
    "-0.0",
    "nan",
    "inf",
    "\"\"",
    "[]",
    "{}",
    "true",
    "18446744073709551616",
    "9223372036854775807",
    "0.5",
    "\"Identity\"",
    "[1, [2]]",
    "{ kind = 3 }",
    "{ kind = \"Identity\", keep = 0.3 }",
    "{ kind = \"Learned\", b = 0.1 }",
];

/// Fields that belong to no parameter of the variant they are written on:
/// each must be rejected, naming the field and the variant's valid fields.
const MISPLACED_FIELDS: [(&str, &str); 6] = [
    ("augmentation = { kind = \"Identity\", keep = 0.3 }", "keep"),
    ("[network]\nbias = { kind = \"Learned\", b = 0.1 }", "`b0` or `lr_multiplier`"),
    ("objective = { kind = \"Supervised\", loss = 1 }", "loss"),
    ("regime = { kind = \"Fresh\", n_samples = 10 }", "n_samples"),
    ("[optimizer]\nschedule = { kind = \"Constant\", warmup_steps = 5 }", "warmup_steps"),
    ("[data]\nlatent = { kind = \"OneHot\", k = 2 }", "`k`"),
];

#[test]
fn misplaced_fields_are_rejected_with_the_valid_fields_named() {
    for (text, expected) in MISPLACED_FIELDS {
        let error = parse_run_text(text, Format::Toml).expect_err(text).to_string();
        assert!(error.contains("unknown field") && error.contains(expected), "{text:?}: {error}");
        println!("{text:?}\n  -> {error}");
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize),
    Insert(usize, char),
    Replace(usize, char),
    DropLine(usize),
    DuplicateLine(usize),
    OddValue(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), prop::char::any()).prop_map(|(at, c)| Mutation::Insert(at, c)),
        (any::<usize>(), prop::sample::select(vec!['=', '[', ']', '{', '}', '"', '.', ',', '\n', '#', '0', 'x', '-']))
            .prop_map(|(at, c)| Mutation::Replace(at, c)),
        any::<usize>().prop_map(Mutation::DropLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), 0..ODD_VALUES.len()).prop_map(|(line, value)| Mutation::OddValue(line, value)),
    ]
}

fn apply(text: &str, mutation: &Mutation) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    match *mutation {
        Mutation::Delete(at) if !chars.is_empty() => {
            chars.iter().enumerate().filter(|(index, _)| *index != at % chars.len()).map(|(_, c)| *c).collect()
        }
        Mutation::Insert(at, c) => {
            let mut chars = chars;
            chars.insert(at % (chars.len() + 1), c);
            chars.into_iter().collect()
        }
        Mutation::Replace(at, c) if !chars.is_empty() => {
            let mut chars = chars;
            let index = at % chars.len();
            chars[index] = c;
            chars.into_iter().collect()
        }
        Mutation::DropLine(at) if !lines.is_empty() => {
            lines.remove(at % lines.len());
            lines.join("\n")
        }
        Mutation::DuplicateLine(at) if !lines.is_empty() => {
            let line = lines[at % lines.len()].clone();
            lines.insert(at % lines.len(), line);
            lines.join("\n")
        }
        Mutation::OddValue(at, value) if !lines.is_empty() => {
            let index = at % lines.len();
            if let Some((key, _)) = lines[index].split_once('=') {
                lines[index] = format!("{key}= {}", ODD_VALUES[value]);
            }
            lines.join("\n")
        }
        _ => text.to_string(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(text in "\\PC{0,200}") {
        exercise(&text);
    }

    #[test]
    fn random_toml_like_text_never_panics(text in "([a-z_.]{1,12} = (-?[0-9.e]{1,6}|\"[A-Za-z]{0,8}\"|\\[[0-9, ]{0,8}\\]|true|\\{ ?kind = \"[A-Za-z]{1,10}\" ?\\})\n|\\[[a-z_.]{1,16}\\]\n){0,8}") {
        exercise(&text);
    }

    #[test]
    fn mutated_example_files_never_panic(file in 0usize..64, mutations in prop::collection::vec(mutation(), 1..5)) {
        let texts = example_texts();
        let (_, original) = &texts[file % texts.len()];
        let text = mutations.iter().fold(original.clone(), |text, mutation| apply(&text, mutation));
        exercise(&text);
    }

    #[test]
    fn random_set_edits_never_panic(path in "[a-z_]{1,8}(\\.[a-z_]{1,10}){0,3}", value in "\\PC{0,12}|-?[0-9]{1,4}(\\.[0-9]{1,3})?|\\{ kind = \"[A-Za-z]{1,12}\" \\}") {
        let mut tree = default_tree();
        if let Ok((path, value)) = parse_assignment(&format!("{path}={value}")) {
            if set_path(&mut tree, &path, value).is_ok() {
                if let Ok(config) = resolve(&tree) {
                    prop_assert!(config.train.check().is_ok());
                }
            }
        }
    }

    #[test]
    fn real_field_paths_with_random_values_never_panic(
        path in prop::sample::select(vec![
            "steps", "batch_size", "seed", "data.d", "data.d1", "data.dictionary", "data.latent.p", "data.latent.kind", "data.dense.sigma",
            "data.dense.kind", "augmentation.keep", "augmentation.kind", "network.width", "network.sigma0", "network.bias.beta",
            "network.bias.kind", "objective.kind", "objective.loss.temperature", "objective.loss.similarity", "optimizer.momentum",
            "optimizer.clip_norm", "optimizer.schedule.kind", "regime.kind", "evaluation.n_probe_train",
        ]),
        value in prop::sample::select(ODD_VALUES.to_vec()),
    ) {
        let mut tree = default_tree();
        let (path, value) = parse_assignment(&format!("{path}={value}")).unwrap();
        if set_path(&mut tree, &path, value).is_ok() {
            if let Ok(config) = resolve(&tree) {
                prop_assert!(config.train.check().is_ok());
            }
        }
    }
}
