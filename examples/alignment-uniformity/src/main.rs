//! Trains the symmetric-ReLU network of decouple with the alignment +
//! uniformity loss (a loss decouple does not ship), under a complementary
//! mask and without augmentation, and reports which features it learned.
//!
//! `cargo run --release -p alignment-uniformity [-- STEPS]` (default 3000).
//! Everything here uses only the crates' public API.

use alignment_uniformity::AlignmentUniformity;
use decouple_analysis::{RecoveryConfig, alignment_matrix, feature_recovery, sparse_energy};
use decouple_augment::Augmentation;
use decouple_train::{TrainConfig, TrainOutcome, train_with};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let steps = match std::env::args().nth(1) {
        Some(text) => text.parse().map_err(|_| format!("STEPS must be a whole number >= 1, got `{text}`"))?,
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
        let outcome = train_with(config, loss, augmentation, 2, |_, _| {})?;
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
