//! Experiments `strength`, `bias-rules`, `supervised` and `controls`: the
//! default setting with one thing changed.

use std::fmt::Write as _;
use std::time::Instant;

use decouple_augment::Augmentation;
use decouple_data::{DenseFeatures, DictionaryKind};
use decouple_eval::NetworkReport;
use decouple_net::BiasRule;
use decouple_train::{DataRegime, ObjectiveKind, TrainConfig};

use super::common::{
    default_config, default_setting, default_setting_with_seeds, finish, label_efficiency_plot, mean_sd, metrics_table, over_seeds,
    per_seed, run_and_record, summary_bars, values, with_label, worst,
};
use decouple_harness::training::{RunRecord, RunSpec};
use decouple_harness::write_atomic;
use decouple_plot as svg;

use crate::RunContext;
use crate::report::{Claim, Comparison, Summary};

fn strength_augmentations() -> Vec<Augmentation> {
    let mut all = vec![Augmentation::Identity {}];
    all.extend([0.3, 0.5, 0.7].map(|keep| Augmentation::ComplementaryMask { keep }));
    all.extend([0.3, 0.5, 0.7].map(|keep| Augmentation::IndependentMask { keep, rescale: true, views: 2 }));
    all
}

/// One cell of the `strength` phase diagram (seed 0): isotropic dense noise
/// `sigma` under `augmentation` (`examples/configs/strength-example.toml` is one).
#[must_use]
pub fn strength_config(sigma: f64, augmentation: Augmentation) -> TrainConfig {
    let mut config = default_config(0);
    config.augmentation = augmentation.into();
    config.data.model_mut().expect("the data model").dense = DenseFeatures::IsotropicGaussian { sigma };
    config
}

/// `strength`: phase diagram over dense noise sigma and augmentation strength (one seed per cell).
///
/// # Errors
/// I/O failure.
pub fn strength(context: &RunContext) -> anyhow::Result<Summary> {
    let start = Instant::now();
    let id = "strength";
    let dir = context.experiment_dir(id)?;
    let sigmas: Vec<f64> = if context.quick { vec![0.25] } else { vec![0.1, 0.25, 0.4] };
    let augmentations = strength_augmentations();
    let label = |sigma: f64, augmentation: &Augmentation| format!("sigma {sigma}, {}", augmentation.label());
    let mut specs = Vec::new();
    for &sigma in &sigmas {
        for augmentation in &augmentations {
            specs.push(RunSpec { label: label(sigma, augmentation), config: strength_config(sigma, *augmentation) });
        }
    }
    let records = run_and_record(context, id, &dir, &specs)?;
    // One seed per cell: the grid shows that seed's value, and each claim is over that one seed.
    let seed_values =
        |sigma: f64, augmentation: &Augmentation| per_seed(&with_label(&records, &label(sigma, augmentation)), |r| r.median_best);
    let median = |sigma: f64, augmentation: &Augmentation| worst(&seed_values(sigma, augmentation), true);
    let identity_threshold = if context.quick { 0.4 } else { 0.3 };
    let mask_threshold = if context.quick { 0.8 } else { 0.9 };
    let mut claims = vec![Claim::over_seeds(
        "sigma 0.25, Identity: median best_j",
        seed_values(0.25, &Augmentation::Identity {}),
        Comparison::AtMost,
        identity_threshold,
    )];
    for keep in [0.3, 0.5, 0.7] {
        let augmentation = Augmentation::ComplementaryMask { keep };
        claims.push(Claim::over_seeds(
            format!("sigma 0.25, {}: median best_j", augmentation.label()),
            seed_values(0.25, &augmentation),
            Comparison::AtLeast,
            mask_threshold,
        ));
    }
    let grid: Vec<Vec<f64>> =
        sigmas.iter().map(|&sigma| augmentations.iter().map(|augmentation| median(sigma, augmentation)).collect()).collect();
    let row_labels: Vec<String> =
        sigmas.iter().map(|sigma| format!("sigma = {sigma} (ratio {:.0})", sigma * sigma * 512.0 / 2.0)).collect();
    let column_labels: Vec<String> = augmentations
        .iter()
        .map(|augmentation| match augmentation {
            Augmentation::Identity {} => "Id".to_string(),
            Augmentation::ComplementaryMask { keep } => format!("CM {keep}"),
            Augmentation::IndependentMask { keep, .. } => format!("IM {keep}"),
            Augmentation::GaussianNoise { sigma_a } => format!("GN {sigma_a}"),
            other => other.label(),
        })
        .collect();
    write_atomic(
        &dir.join("phase-diagram.svg"),
        &svg::heatmap("Median best_j over dense noise sigma x augmentation", &row_labels, &column_labels, &grid, true),
    )?;
    let mut table = String::from("Median best_j (seed 0); the dense-to-sparse energy ratio is sigma^2 d1 / (p d).\n\n| sigma |");
    for column in &column_labels {
        let _ = write!(table, " {column} |");
    }
    table.push_str("\n|---|");
    table.push_str(&"---|".repeat(column_labels.len()));
    table.push('\n');
    for (row, line) in row_labels.iter().zip(&grid) {
        let _ = write!(table, "| {row} |");
        for value in line {
            let _ = write!(table, " {value:.3} |");
        }
        table.push('\n');
    }
    let mut notes = String::from("Finding (beyond the claims): ");
    for (sigma, line) in sigmas.iter().zip(&grid) {
        let recovered: Vec<&str> = column_labels.iter().zip(line).filter(|(_, v)| **v >= 0.9).map(|(c, _)| c.as_str()).collect();
        let _ = write!(notes, "at sigma = {sigma}, median best_j >= 0.9 for [{}]; ", recovered.join(", "));
    }
    notes.push_str("stronger dense features leave fewer augmentations that work, as the paper predicts.");
    if context.quick {
        notes.push_str(" Quick mode: only sigma = 0.25, thresholds Identity <= 0.4 and masks >= 0.8.");
    }
    finish(
        &dir,
        id,
        claims,
        start,
        "Stronger dense features need stronger augmentation: the more energy the dense features carry, the more the views must be decorrelated.",
        default_setting_with_seeds(context, &[0]),
        table,
        vec!["phase-diagram.svg".into()],
        notes,
    )
}

/// The runs of `bias-rules` (seed 0), by label: the default with the bias rule
/// changed (`examples/configs/bias-*.toml`).
#[must_use]
pub fn bias_rule_configs() -> [(&'static str, TrainConfig); 4] {
    let with = |rule: BiasRule| {
        let mut config = default_config(0);
        config.network.bias = rule;
        config
    };
    [
        ("NormRamp(0.5, 0.5)", with(BiasRule::NormRamp { beta: 0.5, ramp: 0.5 })),
        ("Fixed(0)", with(BiasRule::Fixed { b: 0.0 })),
        ("Fixed(0.1)", with(BiasRule::Fixed { b: 0.1 })),
        ("Learned", with(BiasRule::Learned { b0: 0.0, lr_multiplier: 1.0 })),
    ]
}

/// `bias-rules`: Fixed vs Learned vs NormRamp thresholds under masking (a finding).
///
/// # Errors
/// I/O failure.
pub fn bias_rules(context: &RunContext) -> anyhow::Result<Summary> {
    let start = Instant::now();
    let id = "bias-rules";
    let dir = context.experiment_dir(id)?;
    let rules = bias_rule_configs();
    let mut specs = Vec::new();
    for (name, config) in &rules {
        specs.extend(over_seeds(context, name, config.clone()));
    }
    let records = run_and_record(context, id, &dir, &specs)?;
    let labels: Vec<String> = rules.iter().map(|(name, _)| (*name).to_string()).collect();
    let mut notes = String::from(
        "Finding. We expected a fixed threshold to kill the small initial neurons and a learned one to stay near 0. \
         Mechanisms to read the table with: at initialisation the pre-activations <w_i, x> have standard deviation sigma0 ||x|| ~ 0.06, \
         so Fixed(0.1) starts most (not all) activations below threshold; Fixed(0) makes the network linear, so nothing favours a \
         single feature per neuron; a constant threshold becomes small relative to weights that grow to norm ~2; NormRamp keeps \
         b_i / ||w_i|| at beta once ramped. Measured (mean over seeds): ",
    );
    for label in &labels {
        let runs = with_label(&records, label);
        let (median, _) = mean_sd(&values(&runs, |r| r.median_best));
        let (recovered, _) = mean_sd(&values(&runs, |r| r.n_recovered as f64));
        let (per_neuron, _) = mean_sd(&values(&runs, |r| r.mean_features_per_neuron));
        let (dead, _) = mean_sd(&values(&runs, |r| r.n_dead as f64));
        let ratio: Vec<f64> =
            runs.iter().filter_map(|run| run.history.last()).map(|point| point.bias_mean / point.weight_norm_mean.max(1e-12)).collect();
        let _ = write!(
            notes,
            "{label}: median best_j {median:.3}, {recovered:.1} of 32 features >= 0.9, {per_neuron:.2} features per neuron, {dead:.1} dead neurons, \
             final mean b / mean ||w|| {:.2}; ",
            mean_sd(&ratio).0
        );
    }
    let clean: Vec<&String> = labels
        .iter()
        .filter(|label| with_label(&records, label).iter().all(|run| run.report.as_ref().is_some_and(|r| r.n_recovered == r.n_features)))
        .collect();
    let _ = write!(notes, "rules that recovered all 32 features in every seed: {clean:?}.");
    finish(
        &dir,
        id,
        Vec::new(),
        start,
        "Thresholds must rise gradually (the theory raises the bias over training).",
        format!("{} Augmentation ComplementaryMask(0.5); only the bias rule changes.", default_setting(context)),
        metrics_table(&records, &labels),
        std::iter::once(summary_bars(&dir, "bias-rules.svg", "Bias rules under ComplementaryMask(0.5)", &records, &labels)?)
            .chain(label_efficiency_plot(&dir, "label-efficiency.svg", "Probe accuracy against labelled samples", &records, &labels)?)
            .collect(),
        notes,
    )
}

/// The supervised run (seed 0): logistic loss, no augmentation (`examples/configs/supervised.toml`).
#[must_use]
pub fn supervised_config() -> TrainConfig {
    let mut config = default_config(0);
    config.objective = ObjectiveKind::Supervised {}.into();
    config.augmentation = Augmentation::Identity {}.into();
    config
}

/// `supervised`: logistic loss on sign(<a,z>), no augmentation.
///
/// # Errors
/// I/O failure.
pub fn supervised(context: &RunContext) -> anyhow::Result<Summary> {
    let start = Instant::now();
    let id = "supervised";
    let dir = context.experiment_dir(id)?;
    let supervised = supervised_config();
    let mut contrastive = default_config(0);
    contrastive.augmentation = Augmentation::Identity {}.into();
    let mut specs = over_seeds(context, "supervised (logistic, no augmentation)", supervised);
    specs.extend(over_seeds(context, "contrastive, Identity", contrastive));
    let records = run_and_record(context, id, &dir, &specs)?;
    let runs = with_label(&records, "supervised (logistic, no augmentation)");
    let claims = vec![Claim::over_seeds(
        "supervised: norm-weighted sparse energy",
        per_seed(&runs, NetworkReport::sparse_energy_if_live),
        Comparison::AtLeast,
        0.6,
    )];
    let labels = vec!["supervised (logistic, no augmentation)".to_string(), "contrastive, Identity".to_string()];
    finish(
        &dir,
        id,
        claims,
        start,
        "Supervised learning needs no strong augmentation: the labels depend only on z, so the gradient carries no dense direction consistently.",
        format!(
            "{} Supervised: the same network with a linear head trained by logistic loss on sign(<a,z>) (a from the seed's task stream), no augmentation; beside contrastive learning without augmentation.",
            default_setting(context)
        ),
        metrics_table(&records, &labels),
        std::iter::once(summary_bars(&dir, "supervised.svg", "Supervised vs contrastive learning, no augmentation", &records, &labels)?)
            .chain(label_efficiency_plot(&dir, "label-efficiency.svg", "Probe accuracy against labelled samples", &records, &labels)?)
            .collect(),
        "The probe task of the evaluation uses its own random direction, so probe accuracies measure transfer, not the training task."
            .into(),
    )
}

/// Fraction of the live neurons with more energy in the low-rank dense span
/// than in the dictionary's: `#{i live : ||H^T w_i||^2 > ||M^T w_i||^2} / #live`.
/// NaN without per-neuron energies in span(H), or when fewer than half of the
/// neurons are live (as for every energy claim).
#[must_use]
pub fn dense_over_sparse_fraction(report: &NetworkReport) -> f64 {
    let Some(dense) = report.dense_span_energy_per_neuron.as_deref() else { return f64::NAN };
    let sparse = &report.sparse_energy_per_neuron;
    if !report.mostly_live() || report.live.len() != dense.len() || sparse.len() != dense.len() {
        return f64::NAN;
    }
    let live = report.live.iter().filter(|&&live| live).count();
    let dense_wins = (0..dense.len()).filter(|&i| report.live[i] && dense[i] > sparse[i]).count();
    dense_wins as f64 / live as f64
}

/// Mean of a per-neuron energy over the live neurons, `sum_{i live} e_i / #live`:
/// each neuron weighs `1 / #live <= 2 / m`, so none can swing it by more than
/// that. NaN when fewer than half of the neurons are live or the lengths differ.
#[must_use]
pub fn live_mean(report: &NetworkReport, per_neuron: &[f64]) -> f64 {
    if !report.mostly_live() || report.live.len() != per_neuron.len() {
        return f64::NAN;
    }
    let live: Vec<f64> = per_neuron.iter().zip(&report.live).filter(|(_, live)| **live).map(|(e, _)| *e).collect();
    mean_sd(&live).0
}

/// [`live_mean`] of the sparse energy `||M^T w_i||^2 / ||w_i||^2`.
#[must_use]
pub fn live_sparse_energy(report: &NetworkReport) -> f64 {
    live_mean(report, &report.sparse_energy_per_neuron)
}

/// [`live_mean`] of the energy in the low-rank dense span, `||H^T w_i||^2 / ||w_i||^2` (NaN without H).
#[must_use]
pub fn live_dense_span_energy(report: &NetworkReport) -> f64 {
    report.dense_span_energy_per_neuron.as_deref().map_or(f64::NAN, |dense| live_mean(report, dense))
}

/// Control (a) seed by seed: the claims' statistics beside the norm-weighted
/// energies they replaced (docs/claims.md, "controls").
fn low_rank_table(runs: &[&RunRecord]) -> String {
    let mut table = String::from(
        "\n(a) LowRank(rank 8) seed by seed: the claims' statistics (fraction, means over live neurons) beside the norm-weighted \
         energies the claims used before (one large neuron can swing those; random directions: 32/512 = 0.0625 in span(M), \
         8/512 = 0.016 in span(H)).\n\n\
         | seed | live neurons | fraction with more energy in span(H) than span(M) | sparse energy, mean over live | energy in span(H), mean over live | norm-weighted sparse energy (old) | norm-weighted energy in span(H) (old) |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for run in runs {
        match &run.report {
            Some(r) => {
                let _ = writeln!(
                    table,
                    "| {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
                    run.seed,
                    r.n_live,
                    dense_over_sparse_fraction(r),
                    live_sparse_energy(r),
                    live_dense_span_energy(r),
                    r.sparse_energy_weighted,
                    r.dense_span_energy_weighted.unwrap_or(f64::NAN)
                );
            }
            None => {
                let _ = writeln!(table, "| {} | run failed | | | | | |", run.seed);
            }
        }
    }
    table
}

/// The four runs of `controls` (seed 0), by label (`examples/configs/control-*.toml`).
#[must_use]
pub fn control_configs() -> [(&'static str, TrainConfig); 4] {
    let base = default_config(0);
    let d1 = base.data.model().expect("the data model").d1;
    let mut low_rank = base.clone();
    low_rank.data.model_mut().expect("the data model").dense = DenseFeatures::LowRank { rank: 8, sigma: 0.25 };
    let mut localized = base.clone();
    localized.data.model_mut().expect("the data model").dictionary = DictionaryKind::Identity;
    let mut pool = base.clone();
    pool.regime = DataRegime::Pool { n_samples: 4 * d1 };
    let mut off_span = base;
    off_span.data.model_mut().expect("the data model").dense = DenseFeatures::OrthogonalComplement { sigma: 0.25 };
    [
        ("(a) LowRank(rank 8) dense features", low_rank),
        ("(b) localized Identity dictionary", localized),
        ("(c) finite pool n = 4 d1", pool),
        ("(d) OrthogonalComplement noise", off_span),
    ]
}

/// `controls`: low-rank dense features, localized dictionary, finite pool, off-span noise.
///
/// # Errors
/// I/O failure.
pub fn controls(context: &RunContext) -> anyhow::Result<Summary> {
    let start = Instant::now();
    let id = "controls";
    let dir = context.experiment_dir(id)?;
    let cases = control_configs();
    let mut specs = Vec::new();
    for (name, config) in &cases {
        specs.extend(over_seeds(context, name, config.clone()));
    }
    let records = run_and_record(context, id, &dir, &specs)?;
    let a = with_label(&records, cases[0].0);
    let b = with_label(&records, cases[1].0);
    let claims = vec![
        Claim::over_seeds(
            "(a) live neurons with more energy in span(H) than in span(M), fraction",
            per_seed(&a, dense_over_sparse_fraction),
            Comparison::AtLeast,
            0.5,
        ),
        Claim::over_seeds("(a) sparse energy, mean over live neurons", per_seed(&a, live_sparse_energy), Comparison::AtMost, 0.2),
        Claim::over_seeds("(a) energy in span(H), mean over live neurons", per_seed(&a, live_dense_span_energy), Comparison::AtLeast, 0.4),
        Claim::over_seeds("(b) median best_j", per_seed(&b, |r| r.median_best), Comparison::AtMost, 0.3),
    ];
    let labels: Vec<String> = cases.iter().map(|(name, _)| (*name).to_string()).collect();
    let mut notes = String::from("Findings: ");
    for label in &labels[2..] {
        let runs = with_label(&records, label);
        let _ = write!(
            notes,
            "{label}: median best_j {:.3}, sparse energy {:.3} with {:.1} live neurons, probe {:.3} vs raw {:.3}; ",
            mean_sd(&values(&runs, |r| r.median_best)).0,
            mean_sd(&values(&runs, |r| r.sparse_energy_weighted)).0,
            mean_sd(&values(&runs, |r| r.n_live as f64)).0,
            mean_sd(&values(&runs, |r| r.probe.learned)).0,
            mean_sd(&values(&runs, |r| r.probe.raw)).0
        );
    }
    notes.push_str(
        "Interpretation (docs/model.md §7): with a finite pool the same dense vectors recur every epoch, so directions fitted to the \
         pool's noise can separate its samples, and the sparse energy falls far below the fresh-sample run; off-span noise is \
         coordinate-correlated, so complementary masks make its component along each feature perfectly anti-correlated between views \
         (rho_dense(M_j) = -1, docs/theory.md) instead of removing it.",
    );
    let plot = summary_bars(&dir, "controls.svg", "Controls under ComplementaryMask(0.5)", &records, &labels)?;
    let efficiency = label_efficiency_plot(&dir, "label-efficiency.svg", "Probe accuracy against labelled samples", &records, &labels)?;
    let mut table = metrics_table(&records, &labels);
    table.push_str(&low_rank_table(&a));
    finish(
        &dir,
        id,
        claims,
        start,
        "\"Proper\" augmentation matters: masking decouples only coordinate-independent dense features from delocalized sparse features.",
        format!("{} ComplementaryMask(0.5) with one change per row.", default_setting(context)),
        table,
        std::iter::once(plot).chain(efficiency).collect(),
        notes,
    )
}

#[cfg(test)]
mod tests {
    use super::{dense_over_sparse_fraction, live_dense_span_energy, live_sparse_energy};
    use crate::experiments::common::per_seed;
    use crate::experiments::comparison::tests::run;
    use crate::report::{Claim, Comparison, Outcome};

    /// A LowRank run: 128 neurons, the first `n_live` live; the live ones lean
    /// to span(H) (0.7 there, 0.03 in span(M)) except neuron 0, a large one on a
    /// sparse feature (0.95 in span(M)); the dead ones are random-looking.
    fn low_rank(n_live: usize) -> decouple_harness::training::RunRecord {
        let mut record = run(n_live, 0.305);
        let report = record.report.as_mut().unwrap();
        report.sparse_energy_per_neuron = (0..128)
            .map(|i| {
                if i == 0 {
                    0.95
                } else if i < n_live {
                    0.03
                } else {
                    0.06
                }
            })
            .collect();
        report.dense_span_energy_per_neuron = Some(
            (0..128)
                .map(|i| {
                    if i == 0 {
                        0.01
                    } else if i < n_live {
                        0.7
                    } else {
                        0.02
                    }
                })
                .collect(),
        );
        record
    }

    /// One neuron on a sparse feature moves the live means by at most 1/#live
    /// and the fraction by one neuron, whatever its norm (the norm-weighted
    /// 0.305 plays no part); dead neurons are left out.
    #[test]
    fn one_large_neuron_cannot_carry_the_low_rank_statistics() {
        let record = low_rank(100);
        let report = record.report.as_ref().unwrap();
        assert!((dense_over_sparse_fraction(report) - 99.0 / 100.0).abs() < 1e-12);
        assert!((live_sparse_energy(report) - (0.95 + 99.0 * 0.03) / 100.0).abs() < 1e-12);
        assert!((live_dense_span_energy(report) - (0.01 + 99.0 * 0.7) / 100.0).abs() < 1e-12);
        let runs = [&record];
        assert!(Claim::over_seeds("x", per_seed(&runs, live_sparse_energy), Comparison::AtMost, 0.2).pass);
    }

    /// Fewer than half live, or no span(H), or mismatched lengths: NaN, so the claims fail.
    #[test]
    fn the_low_rank_statistics_are_undefined_without_their_inputs() {
        let mostly_dead = low_rank(63);
        let report = mostly_dead.report.as_ref().unwrap();
        assert!(dense_over_sparse_fraction(report).is_nan() && live_sparse_energy(report).is_nan());
        let mut isotropic = low_rank(100);
        isotropic.report.as_mut().unwrap().dense_span_energy_per_neuron = None;
        let report = isotropic.report.as_ref().unwrap();
        assert!(dense_over_sparse_fraction(report).is_nan() && live_dense_span_energy(report).is_nan());
        let mut old = low_rank(100);
        old.report.as_mut().unwrap().live.clear();
        assert!(live_sparse_energy(old.report.as_ref().unwrap()).is_nan());
        let runs = [&mostly_dead];
        assert_eq!(Claim::over_seeds("x", per_seed(&runs, live_sparse_energy), Comparison::AtMost, 0.2).outcome(), Outcome::Fails);
    }
}
