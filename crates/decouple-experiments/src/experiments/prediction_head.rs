//! Experiment `prediction-head` (Wen & Li, NeurIPS 2022): with a strong and
//! a weak group of sparse features, does SimSiam with the predictor fixed at
//! `P = I` learn only the strong features, and does `P = I + E` (trained
//! off-diagonal entries) learn the weak ones too, its off-diagonal mass
//! first rising and then falling?

use std::fmt::Write as _;
use std::time::Instant;

use decouple_analysis::median;
use decouple_augment::Augmentation;
use decouple_data::{FeatureStrengths, SparseLatent};
use decouple_harness::training::{HistoryPoint, RunRecord, RunSpec};
use decouple_harness::write_atomic;
use decouple_plot as svg;
use decouple_train::{NonContrastive, ObjectiveKind, Predictor, TrainConfig};

use super::common::{
    default_config, finish, label_efficiency_plot, mean_sd, metrics_table, per_seed, per_seed_of, run_and_record, with_label,
};
use crate::RunContext;
use crate::report::{Claim, Comparison, SeedValue, Summary};

/// Number of features, the first half strong.
pub const D: usize = 16;
/// Strong features: `0..STRONG`.
pub const STRONG: usize = 8;
/// `alpha` of the strong and of the weak features.
pub const ALPHAS: (f64, f64) = (2.0, 1.0);
/// The name of the off-diagonal mass in [`decouple_train::StepMetrics::objective`].
const OFF_DIAGONAL: &str = "predictor_off_diagonal";

/// The predictors compared, by label.
#[must_use]
pub fn predictors() -> [(&'static str, Predictor); 3] {
    [
        ("P = I", Predictor::Identity {}),
        ("P = I + E", Predictor::OffDiagonal { lr_multiplier: 1.0 }),
        ("P linear", Predictor::Linear { lr_multiplier: 1.0 }),
    ]
}

/// The setting of docs/claims.md with `predictor` (seed 0).
#[must_use]
pub fn config(predictor: Predictor) -> TrainConfig {
    let mut config = default_config(0);
    let data = config.data.model_mut().expect("the data model");
    data.d = D;
    data.d1 = 128;
    data.latent = SparseLatent::Bernoulli { p: 2.0 / D as f64 };
    data.strengths = FeatureStrengths::TwoGroups { strong: STRONG, alpha_strong: ALPHAS.0, alpha_weak: ALPHAS.1 };
    config.network.width = 32;
    config.augmentation = Augmentation::ComplementaryMask { keep: 0.5 }.into();
    let mut objective = NonContrastive::default();
    objective.predictor = predictor;
    config.objective = ObjectiveKind::NonContrastive(objective).into();
    config.log_every = 50;
    config
}

/// Medians of `best_j` over the strong and over the weak features.
fn group_medians(best: &[f64]) -> (f64, f64) {
    if best.len() != D {
        return (f64::NAN, f64::NAN);
    }
    (median(&best[..STRONG]), median(&best[STRONG..]))
}

/// A group median at the end, by seed (NaN if a run failed).
fn group_per_seed(runs: &[&RunRecord], weak: bool) -> Vec<SeedValue> {
    per_seed(runs, |report| {
        let (strong, weak_median) = group_medians(&report.best_per_feature);
        if weak { weak_median } else { strong }
    })
}

/// `||E||_F` at the end over its peak during training, per run (NaN without the metric).
fn off_diagonal_end_over_peak(run: &RunRecord) -> f64 {
    let masses: Vec<f64> = run.history.iter().filter_map(|point| point.objective.get(OFF_DIAGONAL).copied()).collect();
    let peak = masses.iter().copied().fold(0.0, f64::max);
    match masses.last() {
        Some(last) if run.error.is_none() && masses.len() == run.history.len() && peak > 0.0 => last / peak,
        _ => f64::NAN,
    }
}

/// Mean over runs of `metric` at each logged step (the steps of the shortest history).
fn mean_curve(runs: &[&RunRecord], metric: impl Fn(&HistoryPoint) -> f64) -> (Vec<f64>, Vec<f64>) {
    let length = runs.iter().map(|run| run.history.len()).min().unwrap_or(0);
    let steps = runs.first().map_or_else(Vec::new, |run| run.history[..length].iter().map(|point| point.step as f64).collect());
    let values = (0..length).map(|index| mean_sd(&runs.iter().map(|run| metric(&run.history[index])).collect::<Vec<_>>()).0).collect();
    (steps, values)
}

/// `prediction-head`.
///
/// # Errors
/// I/O failure.
pub fn prediction_head(context: &RunContext) -> anyhow::Result<Summary> {
    let start = Instant::now();
    let id = "prediction-head";
    let dir = context.experiment_dir(id)?;
    let labels: Vec<String> = predictors().iter().map(|(name, _)| (*name).to_string()).collect();
    let specs: Vec<RunSpec> =
        predictors().iter().flat_map(|(name, predictor)| super::common::over_seeds(context, name, config(*predictor))).collect();
    let records = run_and_record(context, id, &dir, &specs)?;
    let (identity, off_diagonal) = (with_label(&records, "P = I"), with_label(&records, "P = I + E"));
    let claims = vec![
        Claim::over_seeds("P = I: median best_j of the weak features", group_per_seed(&identity, true), Comparison::AtMost, 0.5),
        Claim::over_seeds("P = I: median best_j of the strong features", group_per_seed(&identity, false), Comparison::AtLeast, 0.9),
        Claim::over_seeds("P = I + E: median best_j of the weak features", group_per_seed(&off_diagonal, true), Comparison::AtLeast, 0.9),
        Claim::over_seeds(
            "P = I + E: ||E||_F at the end / its peak",
            per_seed_of(&off_diagonal, off_diagonal_end_over_peak),
            Comparison::AtMost,
            0.5,
        ),
    ]
    .into_iter()
    .map(Claim::of_another_paper)
    .collect();

    let mut table = String::from(
        "| predictor | seeds | strong median best_j | weak median best_j | strong >= 0.9 | weak >= 0.9 | peak ||P - diag P||_F (step) | end ||P - diag P||_F | effective rank |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for (name, _) in predictors() {
        let runs = with_label(&records, name);
        let groups: Vec<(f64, f64)> =
            runs.iter().filter_map(|run| run.report.as_ref()).map(|report| group_medians(&report.best_per_feature)).collect();
        let count = |range: std::ops::Range<usize>| {
            mean_sd(
                &runs
                    .iter()
                    .filter_map(|run| run.report.as_ref())
                    .map(|report| report.best_per_feature[range.clone()].iter().filter(|b| **b >= 0.9).count() as f64)
                    .collect::<Vec<_>>(),
            )
            .0
        };
        let masses = |run: &RunRecord| -> Vec<(usize, f64)> {
            run.history.iter().filter_map(|point| point.objective.get(OFF_DIAGONAL).map(|mass| (point.step, *mass))).collect()
        };
        let peaks: Vec<(usize, f64)> = runs
            .iter()
            .filter_map(|run| {
                masses(run).into_iter().fold(None, |best: Option<(usize, f64)>, (step, mass)| match best {
                    Some((_, top)) if top >= mass => best,
                    _ => Some((step, mass)),
                })
            })
            .collect();
        let ends: Vec<f64> = runs.iter().filter_map(|run| masses(run).last().map(|(_, mass)| *mass)).collect();
        let peak = if peaks.is_empty() {
            "–".to_string()
        } else {
            let steps: Vec<String> = peaks.iter().map(|(step, _)| step.to_string()).collect();
            format!("{:.3} ({})", mean_sd(&peaks.iter().map(|(_, mass)| *mass).collect::<Vec<_>>()).0, steps.join(", "))
        };
        let end = if ends.is_empty() { "–".to_string() } else { format!("{:.3}", mean_sd(&ends).0) };
        let _ = writeln!(
            table,
            "| {name} | {} | {:.3} | {:.3} | {:.1} of {STRONG} | {:.1} of {} | {peak} | {end} | {:.1} |",
            runs.len(),
            mean_sd(&groups.iter().map(|g| g.0).collect::<Vec<_>>()).0,
            mean_sd(&groups.iter().map(|g| g.1).collect::<Vec<_>>()).0,
            count(0..STRONG),
            count(STRONG..D),
            D - STRONG,
            mean_sd(&super::common::values(&runs, |r| r.effective_rank)).0,
        );
    }
    let _ = writeln!(
        table,
        "\nMeans over seeds; group medians of best_j = max_i |cos(w_i, M_j)| over the strong features 0-{} (alpha {}) and the weak features \
         {STRONG}-{} (alpha {}); the peak column lists the step of the peak in each seed.\n",
        STRONG - 1,
        ALPHAS.0,
        D - 1,
        ALPHAS.1
    );
    table.push_str(&metrics_table(&records, &labels));

    let mut plots = Vec::new();
    let mut steps = Vec::new();
    let mut series = Vec::new();
    for (name, _) in predictors() {
        let runs = with_label(&records, name);
        for (group, weak) in [("strong", false), ("weak", true)] {
            let (x, values) = mean_curve(&runs, |point| {
                let (strong, weak_median) = group_medians(&point.best_per_feature);
                if weak { weak_median } else { strong }
            });
            steps = x;
            series.push(svg::Series { name: format!("{name}, {group}"), values });
        }
    }
    write_atomic(
        &dir.join("prediction-head-groups.svg"),
        &svg::lines(
            "Group median of best_j over training",
            "step",
            "median best_j (mean over seeds)",
            &steps,
            &series,
            (0.0, 1.0),
            usize::MAX,
        ),
    )?;
    plots.push("prediction-head-groups.svg".to_string());
    let mut mass_series = Vec::new();
    let mut mass_top: f64 = 0.0;
    for run in &off_diagonal {
        let values: Vec<f64> = run.history.iter().map(|point| point.objective.get(OFF_DIAGONAL).copied().unwrap_or(f64::NAN)).collect();
        mass_top = values.iter().copied().filter(|v| v.is_finite()).fold(mass_top, f64::max);
        steps = run.history.iter().map(|point| point.step as f64).collect();
        mass_series.push(svg::Series { name: format!("seed {}", run.seed), values });
    }
    write_atomic(
        &dir.join("prediction-head-off-diagonal.svg"),
        &svg::lines(
            "P = I + E: off-diagonal mass over training",
            "step",
            "||P - diag(P)||_F",
            &steps,
            &mass_series,
            (0.0, (mass_top * 1.1).max(1e-6)),
            usize::MAX,
        ),
    )?;
    plots.push("prediction-head-off-diagonal.svg".to_string());
    plots.extend(label_efficiency_plot(&dir, "label-efficiency.svg", "Probe accuracy against labelled samples", &records, &labels)?);

    let mut notes = String::from("Per seed, weak-group median best_j at the end:");
    for (name, _) in predictors() {
        let values: Vec<String> = with_label(&records, name)
            .iter()
            .map(|run| run.report.as_ref().map_or_else(|| "failed".into(), |r| format!("{:.3}", group_medians(&r.best_per_feature).1)))
            .collect();
        let _ = write!(notes, " {name}: {};", values.join(", "));
    }
    finish(
        &dir,
        id,
        claims,
        start,
        "With the predictor fixed at the identity, SimSiam learns only the strong features; with an identity-plus-off-diagonal predictor it \
         learns the weak ones too, and the off-diagonal entries first grow, then shrink (Wen & Li 2022).",
        format!(
            "d1 = 128, d = {D} with strengths alpha = {} (features 0-{}) and {} (the rest), p = 2/{D}, isotropic sigma = 0.25, fresh samples, \
             m = 32, ComplementaryMask(0.5), NormRamp(0.5, 0.5), SimSiam (stop-gradient, no normalisation, two views) with P = I, P = I + E \
             (E from 0, multiplier 1) or a linear P from I; SGD lr 0.5, batch 128, 3000 steps, logged every 50; seeds 0..{}.",
            ALPHAS.0,
            STRONG - 1,
            ALPHAS.1,
            context.seeds
        ),
        table,
        plots,
        notes,
    )
}
