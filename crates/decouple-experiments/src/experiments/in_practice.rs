//! Experiment `in-practice`: feature decoupling measured on real images
//! (docs/claims.md, in-practice). The default network is trained on the
//! shipped natural-image patches and UCI digits (data/README.md, embedded in
//! the binary: no file, network or Python needed) under masks, image
//! augmentations, `Identity` and Gaussian noise; the analysis has no
//! dictionary (`decouple_eval::evaluate_samples`). Four measurements: filter
//! grids beside the top principal components, the decoupling meter,
//! sparsity and localisation, and digit probes with few and all labels.
//! Every claim is an ordering fixed before the first run, judged by the rule
//! across seeds and reported as a FINDING when it does not hold (`Claim::of_another_paper`).

use std::fmt::Write as _;
use std::time::Instant;

use anyhow::Context as _;
use decouple_augment::{AnyAugmentation, Augmentation, ImageAugmentation};
use decouple_data::{ImageShape, Preprocess, Samples, Whitening, npy_labels, npy_matrix};
use decouple_eval::{SampleEvaluation, SampleProbes, SampleReport, evaluate_samples, probe_features, top_principal_components};
use decouple_harness::context::parallel_map;
use decouple_harness::{write_atomic, write_json};
use decouple_plot as svg;
use decouple_train::{TrainConfig, Trainer};
use ndarray::{Array2, Axis};
use serde::Serialize;

use super::common::{finish, mean_sd, seeds};
use crate::RunContext;
use crate::report::{Claim, Comparison, SeedValue};

/// The natural-image patches (`uint8 16000 x 64`), data/patches/x.npy.
pub const PATCHES_NPY: &[u8] = include_bytes!("../../../../data/patches/x.npy");
/// The UCI digits (`uint8 1797 x 64`), data/digits/x.npy.
pub const DIGITS_NPY: &[u8] = include_bytes!("../../../../data/digits/x.npy");
/// Their labels (`uint8 1797`), data/digits/labels.npy.
pub const DIGIT_LABELS_NPY: &[u8] = include_bytes!("../../../../data/digits/labels.npy");

/// Mean variance per coordinate after preprocessing: `sigma^2` of the default model's dense features.
pub const TARGET_VARIANCE: f64 = 1.0 / 16.0;
/// Top principal components and random directions in the meter.
pub const METER_DIRECTIONS: usize = 16;
/// Labelled samples per class of the small-label digit probe.
pub const LABELS_PER_CLASS: usize = 10;
/// L2 strength of every probe (on standardised features).
pub const PROBE_LAMBDA: f64 = 1e-2;

/// One of the two data sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RealData {
    /// Natural-image patches, 8 x 8, whitened.
    Patches,
    /// UCI digits, 8 x 8, centred.
    Digits,
}

impl RealData {
    /// The name in tables.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Patches => "patches",
            Self::Digits => "digits",
        }
    }

    /// The network width.
    #[must_use]
    pub fn width(self) -> usize {
        match self {
            Self::Patches => 64,
            Self::Digits => 32,
        }
    }

    /// The preprocessing, ending with the rescaling to [`TARGET_VARIANCE`].
    #[must_use]
    pub fn preprocess(self) -> Preprocess {
        let mut preprocess = Preprocess::default();
        match self {
            Self::Patches => {
                preprocess.contrast = Some(0.01);
                preprocess.whiten = Whitening::Zca { epsilon: 0.1 };
            }
            Self::Digits => preprocess.centre = true,
        }
        preprocess.scale = Some(TARGET_VARIANCE);
        preprocess
    }

    /// The preprocessed samples (digits with their labels).
    ///
    /// # Errors
    /// A damaged embedded file (cannot happen with the committed data).
    pub fn samples(self) -> anyhow::Result<Samples> {
        let (bytes, name, scale) = match self {
            Self::Patches => (PATCHES_NPY, "data/patches/x.npy", 255.0),
            Self::Digits => (DIGITS_NPY, "data/digits/x.npy", 16.0),
        };
        let raw = npy_matrix(bytes, name)? / scale;
        let labels = match self {
            Self::Patches => None,
            Self::Digits => Some(npy_labels(DIGIT_LABELS_NPY, "data/digits/labels.npy")?),
        };
        let x = self.preprocess().fit(raw.view())?.apply(raw.view());
        Ok(Samples::new(x, labels, Some(ImageShape { height: 8, width: 8 }), name)?)
    }
}

/// The five augmentations, in table order.
#[must_use]
pub fn augmentations() -> Vec<AnyAugmentation> {
    let mut crop = ImageAugmentation::new(8, 8);
    crop.shift = 2;
    let mut composed = ImageAugmentation::new(8, 8);
    composed.shift = 1;
    composed.contrast = 0.4;
    composed.brightness = 0.1;
    composed.cutout = 4;
    vec![
        AnyAugmentation::Builtin(Augmentation::Identity {}),
        AnyAugmentation::Builtin(Augmentation::GaussianNoise { sigma_a: 0.25 }),
        AnyAugmentation::Builtin(Augmentation::ComplementaryMask { keep: 0.5 }),
        AnyAugmentation::Image(crop),
        AnyAugmentation::Image(composed),
    ]
}

/// How an [`AnyAugmentation`] is written to `config.json`: the serde form
/// `AnyAugmentation` had when it derived `Serialize` (`{"Builtin": {...}}`,
/// `{"Image": {...}}`), so the file keeps its content.
#[derive(Serialize)]
enum SerializedAugmentation<'a> {
    Builtin(&'a Augmentation),
    Image(&'a ImageAugmentation),
    /// Not among [`augmentations`]: one of your own, by its label.
    Custom(String),
}

impl<'a> SerializedAugmentation<'a> {
    fn of(augmentation: &'a AnyAugmentation) -> Self {
        match augmentation {
            AnyAugmentation::Builtin(builtin) => Self::Builtin(builtin),
            AnyAugmentation::Image(image) => Self::Image(image),
            other => Self::Custom(decouple_augment::Augment::label(other)),
        }
    }
}

const IDENTITY: usize = 0;
const MASK: usize = 2;
const COMPOSED: usize = 4;

/// The training run of `data` with `seed`: the default network, objective and optimiser at the data's width.
#[must_use]
#[allow(clippy::field_reassign_with_default)]
pub fn train_config(data: RealData, steps: usize, seed: u64) -> TrainConfig {
    let mut config = TrainConfig::default();
    config.network.width = data.width();
    config.steps = steps;
    config.seed = seed;
    config.log_every = 100;
    config
}

/// One trained and analysed network.
#[derive(Debug, Serialize)]
struct Run {
    data: RealData,
    augmentation: String,
    seed: u64,
    wall_s: f64,
    final_loss: f64,
    report: SampleReport,
    probes: Option<SampleProbes>,
    #[serde(skip)]
    weights: Array2<f32>,
}

fn evaluation(quick: bool) -> SampleEvaluation {
    let mut settings = SampleEvaluation::default();
    settings.meter_samples = if quick { 2000 } else { 4000 };
    settings.directions = METER_DIRECTIONS;
    settings.top_k = 4;
    settings.labels_per_class = LABELS_PER_CLASS;
    settings.probe_lambda = PROBE_LAMBDA;
    settings
}

fn train_and_analyse(
    stop: &decouple_train::Stop,
    data: RealData,
    samples: &Samples,
    augmentation: &AnyAugmentation,
    steps: usize,
    seed: u64,
    quick: bool,
) -> anyhow::Result<Run> {
    let start = Instant::now();
    let config = train_config(data, steps, seed);
    let objective = *config.objective.builtin().expect("a built-in objective");
    let trainer = Trainer::on_samples(config, objective, augmentation.clone(), 1, samples.x.clone())?.with_stop(stop.clone());
    let outcome = trainer.run(|_, _| {})?;
    let unlabelled = Samples::new(samples.x.clone(), None, samples.image, samples.source.clone())?;
    let settings = evaluation(quick);
    let report = evaluate_samples(&outcome.net, &unlabelled, augmentation, &settings, seed)?;
    let probes = match &samples.labels {
        Some(labels) => Some(probe_features(outcome.net.forward(samples.x.view())?.view(), labels, &settings, 0)?),
        None => None,
    };
    Ok(Run {
        data,
        augmentation: decouple_augment::Augment::label(augmentation),
        seed,
        wall_s: start.elapsed().as_secs_f64(),
        final_loss: outcome.history.last().map_or(f64::NAN, |m| m.loss),
        report,
        probes,
        weights: outcome.net.weights().to_owned(),
    })
}

fn cell(values: &[f64], digits: usize) -> String {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return "n/a".into();
    }
    let (mean, sd) = mean_sd(&finite);
    if finite.len() > 1 { format!("{mean:.digits$} ± {sd:.digits$}") } else { format!("{mean:.digits$}") }
}

/// `value (SE)`: means over seeds of a median and of its jackknife standard error.
fn meter_cell(runs: &[&Run], value: fn(&SampleReport) -> (f64, f64)) -> String {
    let pairs: Vec<(f64, f64)> = runs.iter().map(|r| value(&r.report)).filter(|(v, _)| v.is_finite()).collect();
    if pairs.is_empty() {
        return "n/a".into();
    }
    let k = pairs.len() as f64;
    format!("{:.3} ({:.3})", pairs.iter().map(|p| p.0).sum::<f64>() / k, pairs.iter().map(|p| p.1).sum::<f64>() / k)
}

/// `in-practice`: feature decoupling on real images.
///
/// # Errors
/// I/O failure; a run that fails.
pub fn in_practice(context: &RunContext) -> anyhow::Result<crate::report::Summary> {
    let start = Instant::now();
    let id = "in-practice";
    let dir = context.experiment_dir(id)?;
    let steps = if context.quick { 1000 } else { 3000 };
    let seeds = seeds(context);
    let augmentations = augmentations();
    let labels: Vec<String> = augmentations.iter().map(decouple_augment::Augment::label).collect();
    let datasets = [RealData::Patches, RealData::Digits];
    let samples: Vec<Samples> = datasets.iter().map(|d| d.samples()).collect::<anyhow::Result<_>>()?;
    #[derive(Serialize)]
    struct Config<'a> {
        experiment: &'a str,
        steps: usize,
        seeds: &'a [u64],
        augmentations: Vec<SerializedAugmentation<'a>>,
        train: Vec<(RealData, TrainConfig)>,
        preprocess: Vec<(RealData, Preprocess)>,
        evaluation: SampleEvaluation,
        context: &'a RunContext,
    }
    write_json(
        &dir.join("config.json"),
        &Config {
            experiment: id,
            steps,
            seeds: &seeds,
            augmentations: augmentations.iter().map(SerializedAugmentation::of).collect(),
            train: datasets.iter().map(|&d| (d, train_config(d, steps, 0))).collect(),
            preprocess: datasets.iter().map(|&d| (d, d.preprocess())).collect(),
            evaluation: evaluation(context.quick),
            context,
        },
    )?;
    let mut jobs: Vec<(usize, usize, u64)> = Vec::new();
    for d in 0..datasets.len() {
        for a in 0..augmentations.len() {
            jobs.extend(seeds.iter().map(|&s| (d, a, s)));
        }
    }
    let quick = context.quick;
    let results = parallel_map(jobs.len(), context.jobs, &|index| {
        let (d, a, seed) = jobs[index];
        train_and_analyse(&context.cache.execution().stop, datasets[d], &samples[d], &augmentations[a], steps, seed, quick)
    });
    let runs: Vec<Run> = results.into_iter().collect::<anyhow::Result<_>>().context("an in-practice run failed")?;
    let lines: Vec<String> = runs.iter().map(serde_json::to_string).collect::<Result<_, _>>()?;
    write_atomic(&dir.join("runs.jsonl"), &(lines.join("\n") + "\n"))?;
    let select =
        |data: RealData, a: usize| -> Vec<&Run> { runs.iter().filter(|r| r.data == data && r.augmentation == labels[a]).collect() };

    // Measurement 1: filter grids (seed 0) beside the top principal components.
    let mut plots = Vec::new();
    for (d, &data) in datasets.iter().enumerate() {
        let width = data.width();
        let pcs = top_principal_components(samples[d].x.view(), width)?;
        let mut panels = vec![svg::ImagePanel { title: format!("top {width} PCs"), images: rows_as_images(&pcs) }];
        for (a, label) in labels.iter().enumerate() {
            if let Some(run) = select(data, a).first() {
                panels.push(svg::ImagePanel { title: label.clone(), images: rows_as_images(&by_norm(&run.weights)) });
            }
        }
        let file = format!("filters-{}.svg", data.name());
        let title = format!("Learned filters on {} (seed 0, sorted by norm) beside the top principal components", data.name());
        write_atomic(&dir.join(&file), &svg::image_grid(&title, &panels, 8, 8, 8))?;
        plots.push(file);
    }

    // Measurement 2: the decoupling meter.
    let mut tables = String::new();
    for &data in &datasets {
        let _ = writeln!(
            tables,
            "**Decoupling meter, {}**: median over directions of the positive-pair correlation of `<w, x+>`, `<w, x++>` (raw) and of their \
             soft-thresholded versions (thr.), mean over seeds, with the mean jackknife standard error in brackets.\n\n\
             | augmentation | learned raw | learned thr. | top-16 PCs raw | top-16 PCs thr. | random raw | random thr. |\n|---|---|---|---|---|---|---|",
            data.name()
        );
        for (a, label) in labels.iter().enumerate() {
            let r = select(data, a);
            let _ = writeln!(
                tables,
                "| {label} | {} | {} | {} | {} | {} | {} |",
                meter_cell(&r, |x| (x.meter_learned.raw_median, x.meter_learned.raw_std_error)),
                meter_cell(&r, |x| (x.meter_learned.thresholded_median, x.meter_learned.thresholded_std_error)),
                meter_cell(&r, |x| (x.meter_top_pcs.raw_median, x.meter_top_pcs.raw_std_error)),
                meter_cell(&r, |x| (x.meter_top_pcs.thresholded_median, x.meter_top_pcs.thresholded_std_error)),
                meter_cell(&r, |x| (x.meter_random.raw_median, x.meter_random.raw_std_error)),
                meter_cell(&r, |x| (x.meter_random.thresholded_median, x.meter_random.thresholded_std_error)),
            );
        }
        tables.push('\n');
    }

    // Measurement 3: sparsity and localisation.
    let _ = writeln!(
        tables,
        "**Sparsity and localisation** of the live neurons (mean ± sd over seeds): fraction of nonzero `h_i(x)`, dead neurons, median excess \
         kurtosis of `<w_i, x>`, median participation ratio (1 = one pixel, 64 = flat), median share of `||w_i||^2` in the top 4 pixels, \
         effective rank of the representation.\n\n\
         | data | augmentation | active fraction | dead | kurtosis | participation ratio | top-4 share | effective rank |\n|---|---|---|---|---|---|---|---|"
    );
    for &data in &datasets {
        for (a, label) in labels.iter().enumerate() {
            let r = select(data, a);
            let of = |f: fn(&SampleReport) -> f64| r.iter().map(|run| f(&run.report)).collect::<Vec<_>>();
            let _ = writeln!(
                tables,
                "| {} | {label} | {} | {} | {} | {} | {} | {} |",
                data.name(),
                cell(&of(|x| x.active_fraction), 3),
                cell(&of(|x| x.n_dead as f64), 1),
                cell(&of(|x| x.kurtosis_median), 2),
                cell(&of(|x| x.participation_ratio_median), 1),
                cell(&of(|x| x.top_k_share_median), 3),
                cell(&of(|x| x.effective_rank), 1),
            );
        }
    }
    tables.push('\n');

    // Measurement 4: digit probes.
    let digits = &samples[1];
    let digit_labels = digits.labels.as_deref().unwrap_or_default();
    let settings = evaluation(context.quick);
    let raw = probe_features(digits.x.view(), digit_labels, &settings, 0)?;
    let pca_basis = top_principal_components(digits.x.view(), RealData::Digits.width())?;
    let pca = probe_features(digits.x.dot(&pca_basis.t()).view(), digit_labels, &settings, 0)?;
    let few = |p: &SampleProbes| p.few_labels.as_ref().map_or(f64::NAN, |f| f.test_accuracy);
    let _ = writeln!(
        tables,
        "**Digit probes**: one-vs-rest logistic probes (lambda {PROBE_LAMBDA} on standardised features), test accuracy on a fixed third of \
         the 1797 digits ({} test samples), mean ± sd over seeds; trained on {LABELS_PER_CLASS} labels per class ({} samples) or on all {} \
         training labels.\n\n| features | width | {LABELS_PER_CLASS} labels per class | all labels |\n|---|---|---|---|",
        raw.all_labels.n_test,
        raw.few_labels.as_ref().map_or(0, |f| f.n_train),
        raw.all_labels.n_train
    );
    for (a, label) in labels.iter().enumerate() {
        let r = select(RealData::Digits, a);
        let few_values: Vec<f64> = r.iter().filter_map(|run| run.probes.as_ref().map(few)).collect();
        let all_values: Vec<f64> = r.iter().filter_map(|run| run.probes.as_ref().map(|p| p.all_labels.test_accuracy)).collect();
        let _ = writeln!(tables, "| {label} | {} | {} | {} |", RealData::Digits.width(), cell(&few_values, 3), cell(&all_values, 3));
    }
    let _ = writeln!(tables, "| raw pixels | 64 | {:.3} | {:.3} |", few(&raw), raw.all_labels.test_accuracy);
    let _ = writeln!(tables, "| PCA | {} | {:.3} | {:.3} |", RealData::Digits.width(), few(&pca), pca.all_labels.test_accuracy);

    // The meter as bars (patches, mean over seeds).
    let meter_series = |name: &str, f: fn(&SampleReport) -> f64| svg::Series {
        name: name.into(),
        values: (0..labels.len())
            .map(|a| mean_sd(&select(RealData::Patches, a).iter().map(|r| f(&r.report)).collect::<Vec<_>>()).0)
            .collect(),
    };
    let series = [
        meter_series("learned, raw", |x| x.meter_learned.raw_median),
        meter_series("top PCs, raw", |x| x.meter_top_pcs.raw_median),
        meter_series("random, raw", |x| x.meter_random.raw_median),
        meter_series("learned, thresholded", |x| x.meter_learned.thresholded_median),
        meter_series("top PCs, thresholded", |x| x.meter_top_pcs.thresholded_median),
    ];
    write_atomic(
        &dir.join("meter-patches.svg"),
        &svg::grouped_bars(
            "Decoupling meter on natural-image patches",
            "pair correlation (median, mean over seeds)",
            &labels,
            &series,
            (-0.2, 1.0),
        ),
    )?;
    plots.push("meter-patches.svg".into());

    // The orderings of docs/claims.md: each seed's difference must be < 0
    // (judged across seeds by the one rule of docs/claims.md).
    let difference = |data: RealData, first: usize, second: usize, f: &dyn Fn(&Run) -> f64| -> Vec<SeedValue> {
        let (a, b) = (select(data, first), select(data, second));
        a.iter()
            .zip(&b)
            .map(|(x, y)| {
                debug_assert_eq!(x.seed, y.seed, "runs are paired by seed");
                SeedValue { seed: x.seed, value: f(x) - f(y) }
            })
            .collect()
    };
    let within = |data: RealData, a: usize, f: &dyn Fn(&Run) -> f64| -> Vec<SeedValue> {
        select(data, a).iter().map(|r| SeedValue { seed: r.seed, value: f(r) }).collect()
    };
    let ordering = |name: String, per_seed: Vec<SeedValue>| Claim::over_seeds(name, per_seed, Comparison::Below, 0.0).of_another_paper();
    let p = RealData::Patches;
    let claims = vec![
        ordering(
            "patches: active fraction, ComplementaryMask(0.5) minus Identity".into(),
            difference(p, MASK, IDENTITY, &|r| r.report.active_fraction),
        ),
        ordering(
            "patches: median response kurtosis, Identity minus ComplementaryMask(0.5)".into(),
            difference(p, IDENTITY, MASK, &|r| r.report.kurtosis_median),
        ),
        ordering(
            "patches: median participation ratio, ComplementaryMask(0.5) minus Identity".into(),
            difference(p, MASK, IDENTITY, &|r| r.report.participation_ratio_median),
        ),
        ordering(
            "patches, ComplementaryMask(0.5): meter raw, top PCs minus learned".into(),
            within(p, MASK, &|r| r.report.meter_top_pcs.raw_median - r.report.meter_learned.raw_median),
        ),
        ordering(
            "patches, ComplementaryMask(0.5): meter thresholded, top PCs minus learned".into(),
            within(p, MASK, &|r| r.report.meter_top_pcs.thresholded_median - r.report.meter_learned.thresholded_median),
        ),
        ordering(
            "patches, ComplementaryMask(0.5): meter raw, random minus learned".into(),
            within(p, MASK, &|r| r.report.meter_random.raw_median - r.report.meter_learned.raw_median),
        ),
        ordering(
            format!("patches, {}: meter raw, top PCs minus learned", labels[COMPOSED]),
            within(p, COMPOSED, &|r| r.report.meter_top_pcs.raw_median - r.report.meter_learned.raw_median),
        ),
        ordering(
            "digits, 10 labels per class: probe accuracy, Identity minus ComplementaryMask(0.5) features".into(),
            difference(RealData::Digits, IDENTITY, MASK, &|r| r.probes.as_ref().map_or(f64::NAN, few)),
        ),
        ordering(
            "digits, 10 labels per class: probe accuracy, PCA-32 minus ComplementaryMask(0.5) features".into(),
            within(RealData::Digits, MASK, &|r| few(&pca) - r.probes.as_ref().map_or(f64::NAN, few)),
        ),
        ordering(
            "digits, all labels: probe accuracy, PCA-32 minus ComplementaryMask(0.5) features".into(),
            within(RealData::Digits, MASK, &|r| {
                pca.all_labels.test_accuracy - r.probes.as_ref().map_or(f64::NAN, |p| p.all_labels.test_accuracy)
            }),
        ),
    ];
    let mut notes = String::from(
        "Nothing here needs the dictionary M, which real data do not have: best_j, purity, sparse energy, support recovery and \
         rho_sparse / rho_dense are not available (listed in every run's report in runs.jsonl). Thresholds of the meter: a learned neuron \
         uses its own b_i; a principal component or random unit direction u uses kappa sd(<u, x>), kappa the network's median b_i / sd(<w_i, x>). \
         Under Identity every raw correlation is 1 by construction. A contradicted ordering is a FINDING (the principle's prediction did not \
         hold on this data), reported with its numbers; no setting was changed after seeing them.",
    );
    let wall: f64 = runs.iter().map(|r| r.wall_s).sum();
    let _ = write!(notes, " {} runs, {wall:.1} run-seconds in total.", runs.len());
    finish(
        &dir,
        id,
        claims,
        start,
        "feature decoupling \"matches the underlying mechanism of contrastive learning in practice\": measured on real images",
        format!(
            "Real data (data/README.md): 16000 natural-image patches 8 x 8 (contrast-normalised, ZCA-whitened with relative eps 0.1) and the \
             1797 UCI digits 8 x 8 (centred), both scaled to mean variance 1/16 per pixel. The default network and objective (InfoNCE cosine \
             tau 0.2, NormRamp(0.5, 0.5), sigma0 0.01, SGD lr 0.5, batch 128), width 64 (patches) / 32 (digits), {steps} steps on a pool of all \
             samples, seeds {seeds:?}{}, under {}. Meter on the first {} samples, 16 top PCs and 16 random directions.",
            if context.quick { " (quick)" } else { "" },
            labels.join(", "),
            evaluation(context.quick).meter_samples
        ),
        tables,
        plots,
        notes,
    )
}

/// The rows of `weights` sorted by decreasing norm.
fn by_norm(weights: &Array2<f32>) -> Array2<f32> {
    let mut order: Vec<usize> = (0..weights.nrows()).collect();
    let norm = |i: usize| weights.row(i).dot(&weights.row(i));
    order.sort_by(|&a, &b| norm(b).total_cmp(&norm(a)));
    weights.select(Axis(0), &order)
}

fn rows_as_images(rows: &Array2<f32>) -> Vec<Vec<f64>> {
    rows.rows().into_iter().map(|row| row.iter().map(|v| f64::from(*v)).collect()).collect()
}
