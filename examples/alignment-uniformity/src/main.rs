//! Trains the symmetric-ReLU network of decouple with the alignment +
//! uniformity loss (a loss decouple does not ship), through the public API.
//!
//! - `cargo run --release -p alignment-uniformity [-- STEPS]` (default 3000):
//!   trains it under a complementary mask and without augmentation and
//!   prints which features it learned.
//! - `cargo run --release -p alignment-uniformity -- run --config
//!   examples/alignment-uniformity/configs/run.toml [--set K=V] [--out DIR]`,
//!   `... -- sweep --config examples/alignment-uniformity/configs/sweep-lambda.toml`,
//!   and `merge`, `analyze`, `compare`: the command line of `decouple`
//!   (decouple_harness::command_line) with `AlignmentUniformity` registered
//!   as an objective kind, so that config files and sweeps name it; the run
//!   folders are the same as `decouple`'s, which `decouple analyze` and
//!   `decouple compare` read.

use std::process::ExitCode;

use alignment_uniformity::AlignmentUniformity;
use decouple_analysis::{RecoveryConfig, alignment_matrix, feature_recovery, sparse_energy};
use decouple_augment::Augmentation;
use decouple_train::{TrainConfig, TrainOutcome, train_with};

const COMMANDS: [&str; 5] = ["run", "sweep", "merge", "analyze", "compare"];

fn main() -> ExitCode {
    let first = std::env::args().nth(1);
    if first.as_deref().is_some_and(|arg| COMMANDS.contains(&arg) || arg.starts_with('-')) {
        return match alignment_uniformity::registry() {
            Ok(registry) => decouple_harness::command_line::main("alignment-uniformity", registry),
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::from(2)
            }
        };
    }
    match table(first) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The table of the two augmentations, trained for `steps` (default 3000).
fn table(steps: Option<String>) -> Result<(), Box<dyn std::error::Error>> {
    let steps = match steps {
        Some(text) => {
            text.parse().map_err(|_| format!("STEPS must be a whole number >= 1 (or one of {}), got `{text}`", COMMANDS.join(", ")))?
        }
        None => 3000,
    };
    let mut config = TrainConfig::default();
    config.steps = steps;
    config.log_every = steps.div_ceil(6).max(1);
    let loss = AlignmentUniformity::default();
    println!("alignment + uniformity (t = {}, lambda = {}), default setting, {steps} steps", loss.t, loss.lambda);
    println!("| augmentation | loss at 0 | final loss | median best_j | features >= 0.9 | mean sparse energy |");
    println!("|---|---|---|---|---|---|");
    for augmentation in [Augmentation::ComplementaryMask { keep: 0.5 }, Augmentation::Identity {}] {
        let outcome = train_with(config.clone(), loss, augmentation, 2, |_, _| {})?;
        report(&outcome)?;
    }
    Ok(())
}

/// One table row: the loss, feature recovery and sparse energy of a trained network.
fn report(outcome: &TrainOutcome) -> Result<(), Box<dyn std::error::Error>> {
    let dictionary = outcome.model.as_ref().expect("a run of the data model has it").dictionary().matrix();
    let weights = outcome.net.weights();
    let alignment = alignment_matrix(weights, dictionary)?;
    let recovery = feature_recovery(alignment.view(), &RecoveryConfig::default())?;
    let energy = sparse_energy(weights, dictionary)?;
    let (first, last) = (outcome.history.first().ok_or("no history")?, outcome.history.last().ok_or("no history")?);
    println!(
        "| {} | {:.3} | {:.3} | {:.3} | {} of {} | {:.3} (random {:.3}) |",
        outcome.augmentation,
        first.loss,
        last.loss,
        recovery.median,
        recovery.n_recovered,
        recovery.best_per_feature.len(),
        energy.mean,
        energy.random_baseline
    );
    Ok(())
}
