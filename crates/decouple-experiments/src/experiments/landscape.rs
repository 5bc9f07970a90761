//! Experiment `non-contrastive-landscape` (Pokle et al., AISTATS 2022): in
//! the peer's setting (a pool of 3000 samples, `d1 = 50`, `d = 10`, `m = 50`,
//! batch 512, complementary masks), does InfoNCE recover the dictionary from
//! a random start, and does SimSiam without a predictor fail to, while it
//! stays near the dictionary from a warm start?

use std::fmt::Write as _;
use std::time::Instant;

use decouple_augment::Augmentation;
use decouple_data::SparseLatent;
use decouple_harness::training::RunRecord;
use decouple_loss::{Contrastive, InfoNce, Similarity};
use decouple_train::{DataRegime, Init, NonContrastive, ObjectiveKind, Predictor, TrainConfig};

use super::common::{default_config, finish, mean_sd, per_seed, summary_bars, with_label};
use crate::RunContext;
use crate::report::{Claim, Comparison, Summary};

/// `best_j` every column must reach for a seed to recover the dictionary.
pub const RECOVERY: f64 = 0.9;
/// Expected norm of the warm start's perturbation (cosine about 0.97 with its column).
pub const WARM_NOISE: f64 = 0.25;

/// The objectives compared, by label, with their learning rates.
#[must_use]
pub fn objectives() -> [(&'static str, ObjectiveKind, f64); 3] {
    let info_nce = ObjectiveKind::Contrastive { loss: Contrastive::InfoNce(InfoNce { similarity: Similarity::Cosine, temperature: 0.05 }) };
    let simsiam = NonContrastive::default();
    let mut predictor = simsiam;
    predictor.predictor = Predictor::Linear { lr_multiplier: 1.0 };
    [
        ("InfoNCE", info_nce, 0.005),
        ("SimSiam, no predictor", ObjectiveKind::NonContrastive(simsiam), 0.1),
        ("SimSiam, linear predictor", ObjectiveKind::NonContrastive(predictor), 0.1),
    ]
}

/// The two initialisations, by label.
#[must_use]
pub fn inits() -> [(&'static str, Init); 2] {
    [("random init", Init::Gaussian {}), ("warm start", Init::NearDictionary { noise: WARM_NOISE })]
}

/// The peer's setting (docs/claims.md) with `objective` at `learning_rate`, from `init`, for `steps` (logged 10 times).
#[must_use]
pub fn config(objective: ObjectiveKind, learning_rate: f64, init: Init, steps: usize) -> TrainConfig {
    let mut config = default_config(0);
    let data = config.data.model_mut().expect("the data model");
    data.d = 10;
    data.d1 = 50;
    data.latent = SparseLatent::ExactlyK { k: 2 };
    config.network.width = 50;
    config.network.init = init;
    config.augmentation = Augmentation::ComplementaryMask { keep: 0.5 }.into();
    config.objective = objective.into();
    config.optimizer.learning_rate = learning_rate;
    config.regime = DataRegime::Pool { n_samples: 3000 };
    config.batch_size = 512;
    config.steps = steps;
    config.log_every = steps / 10;
    config
}

fn label(objective: &str, init: &str) -> String {
    format!("{objective}, {init}")
}

/// Fraction of `runs` whose every column reaches [`RECOVERY`]; NaN if a run failed.
fn recovered_fraction(runs: &[&RunRecord]) -> f64 {
    let reports: Vec<_> = runs.iter().filter_map(|run| run.report.as_ref()).collect();
    if reports.len() < runs.len() || runs.is_empty() {
        return f64::NAN;
    }
    reports.iter().filter(|report| report.min_best >= RECOVERY).count() as f64 / runs.len() as f64
}

/// `metric` of the first logged step (step 0) of every run.
fn at_start(runs: &[&RunRecord], metric: impl Fn(&decouple_harness::training::HistoryPoint) -> f64) -> Vec<f64> {
    runs.iter().filter_map(|run| run.history.first()).map(metric).collect()
}

/// `non-contrastive-landscape`.
///
/// # Errors
/// I/O failure.
pub fn non_contrastive_landscape(context: &RunContext) -> anyhow::Result<Summary> {
    let start = Instant::now();
    let id = "non-contrastive-landscape";
    let dir = context.experiment_dir(id)?;
    let (steps, seeds) = if context.quick { (1000, context.seeds) } else { (3000, context.seeds.max(5)) };
    let mut specs = Vec::new();
    let mut labels = Vec::new();
    for (objective_name, objective, learning_rate) in objectives() {
        for (init_name, init) in inits() {
            let row = label(objective_name, init_name);
            let mut run = config(objective, learning_rate, init, steps);
            for seed in 0..seeds {
                run.seed = seed;
                specs.push(decouple_harness::training::RunSpec { label: row.clone(), config: run.clone() });
            }
            labels.push(row);
        }
    }
    let records = super::common::run_and_record(context, id, &dir, &specs)?;
    let runs = |objective: &str, init: &str| with_label(&records, &label(objective, init));
    let claims = vec![
        // A rate over seeds is one statistic of the whole set of seeds: compared directly (docs/claims.md).
        Claim::pooled(
            "InfoNCE, random init: fraction of seeds recovering every column (best_j >= 0.9)",
            recovered_fraction(&runs("InfoNCE", "random init")),
            Comparison::AtLeast,
            0.8,
            seeds as usize,
        )
        .of_another_paper(),
        Claim::pooled(
            "SimSiam without predictor, random init: fraction of seeds recovering every column",
            recovered_fraction(&runs("SimSiam, no predictor", "random init")),
            Comparison::AtMost,
            0.2,
            seeds as usize,
        )
        .of_another_paper(),
        Claim::over_seeds(
            "SimSiam without predictor, warm start: median best_j",
            per_seed(&runs("SimSiam, no predictor", "warm start"), |r| r.median_best),
            Comparison::AtLeast,
            RECOVERY,
        )
        .of_another_paper(),
    ];
    let mut table = String::from(
        "| objective, init | seeds | recover all columns | max best_j start → end | median best_j start → end | min best_j start → end | columns >= 0.9 | support matched / false | loss start → end |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for row in &labels {
        let runs = with_label(&records, row);
        let end = |metric: fn(&decouple_eval::NetworkReport) -> f64| mean_sd(&super::common::values(&runs, metric)).0;
        let start_of = |metric: fn(&decouple_harness::training::HistoryPoint) -> f64| mean_sd(&at_start(&runs, metric)).0;
        let last_loss = mean_sd(&runs.iter().filter_map(|run| run.history.last()).map(|point| point.loss).collect::<Vec<_>>()).0;
        let max_start = start_of(|point| point.best_per_feature.iter().copied().fold(0.0, f64::max));
        let _ = writeln!(
            table,
            "| {row} | {} | {:.0}% | {max_start:.3} → {:.3} | {:.3} → {:.3} | {:.3} → {:.3} | {:.1} of 10 | {:.3} / {:.3} | {:.3} → {last_loss:.3} |",
            runs.len(),
            100.0 * recovered_fraction(&runs),
            end(|r| r.max_best),
            start_of(|point| point.median_best),
            end(|r| r.median_best),
            start_of(|point| point.min_best),
            end(|r| r.min_best),
            end(|r| r.n_recovered as f64),
            end(|r| r.support_match_rate),
            end(|r| r.support_false_rate),
            start_of(|point| point.loss),
        );
    }
    let _ = writeln!(
        table,
        "\nMeans over seeds. best_j = max_i |cos(w_i, M_j)| over the m = 50 neurons; a seed recovers every column when min_j best_j >= 0.9; \
         support: per clean sample, the fraction of active features whose matched neuron fires with the right sign / of inactive features \
         reported active (docs/model.md §6). Start = step 0 (the loss at step 0 is that of one evaluation batch)."
    );
    let mut notes = String::from("Per seed, min best_j at the end:");
    for row in &labels {
        let runs = with_label(&records, row);
        let values: Vec<String> = runs
            .iter()
            .map(|run| run.report.as_ref().map_or_else(|| "failed".to_string(), |report| format!("{:.3}", report.min_best)))
            .collect();
        let _ = write!(notes, " {row}: {};", values.join(", "));
    }
    finish(
        &dir,
        id,
        claims,
        start,
        "Contrastive learning recovers the dictionary from a random initialisation; the non-contrastive loss without a predictor does not, \
         but stays near the dictionary from a warm start (Pokle et al. 2022).",
        format!(
            "The peer's setting: a pool of 3000 samples, d1 = 50, d = 10, m = 50, exactly 2 active features, isotropic sigma = 0.25, \
             batch 512, ComplementaryMask(0.5), NormRamp(0.5, 0.5), plain SGD, {steps} steps{}. InfoNCE (cosine, tau 0.05) at learning rate \
             0.005; SimSiam (stop-gradient, no normalisation) with P = I or a linear predictor from I, at learning rate 0.1 = 0.005 / tau. \
             Random init: sigma0 = 0.01; warm start: w_i = m_(i mod 10) + noise of norm {WARM_NOISE}. Seeds 0..{seeds}.",
            if context.quick { " (quick)" } else { "" }
        ),
        table,
        vec![summary_bars(&dir, "non-contrastive-landscape.svg", "Peer setting: objective x initialisation", &records, &labels)?],
        notes,
    )
}
