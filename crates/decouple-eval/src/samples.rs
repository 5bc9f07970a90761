//! The analysis of a network trained on real samples, where there is no
//! ground-truth dictionary `M`: what needs `M` (best_j, recovery, purity,
//! sparse energy, support recovery) is listed as not available; everything
//! else is measured (docs/model.md §8): activity and the kurtosis of the
//! responses, localisation of the neurons, the effective rank of the
//! representation, multiclass linear probes when there are labels, and the
//! decoupling meter on the learned neurons, the top principal components and
//! random directions.
//!
//! Thresholds of the meter: a learned neuron uses its own `b_i`; a principal
//! component or random unit direction `u` uses `kappa sd(<u, x>)`, with
//! `kappa` the median over live neurons of `b_i / sd(<w_i, x>)` (the
//! network's own relative threshold), so that every set is thresholded at the
//! same relative level.

use decouple_analysis::{self as analysis, DirectionMeter, MulticlassProbe};
use decouple_augment::Augment;
use decouple_data::{Batch, Samples, class_indices, rng};
use decouple_net::SymReluNet;
use ndarray::{Array2, ArrayView2, Axis};
use rand::Rng as _;
use serde::{Deserialize, Serialize};

use crate::EvalError;

/// What the analysis of real samples measures, and on how many samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SampleEvaluation {
    /// Positive pairs of the meter and samples of the activity statistics (at most `n`), `>= 40`.
    pub meter_samples: usize,
    /// Number of top principal components and of random directions metered, `>= 1`.
    pub directions: usize,
    /// The `k` of the top-k weight energy share, `>= 1`.
    pub top_k: usize,
    /// Labelled samples per class of the small-label probe (0: none).
    pub labels_per_class: usize,
    /// L2 strength of every probe, `>= 0`.
    pub probe_lambda: f64,
}

impl Default for SampleEvaluation {
    /// 4000 pairs, 16 directions, top-4 share, 10 labels per class, lambda `1e-2`.
    fn default() -> Self {
        Self { meter_samples: 4000, directions: 16, top_k: 4, labels_per_class: 10, probe_lambda: 1e-2 }
    }
}

/// A metric that needs what real data do not have, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotAvailable {
    /// The metric.
    pub metric: String,
    /// Why it is not available.
    pub reason: String,
}

/// The meter of one set of directions, summarised (per-direction values beside).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeterSummary {
    /// Directions metered.
    pub count: usize,
    /// Median over directions of the raw pair correlation.
    pub raw_median: f64,
    /// Median over directions of the soft-thresholded pair correlation (NaN when every direction is silent).
    pub thresholded_median: f64,
    /// Median jackknife standard error of the raw correlations.
    pub raw_std_error: f64,
    /// Median jackknife standard error of the thresholded correlations.
    pub thresholded_std_error: f64,
    /// Every direction's meter.
    pub directions: Vec<DirectionMeter>,
}

/// Probes on the labels: all training labels, and a few per class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleProbes {
    /// Trained on every training sample (two thirds of the samples).
    pub all_labels: MulticlassProbe,
    /// Trained on the first `labels_per_class` training samples of each class.
    pub few_labels: Option<MulticlassProbe>,
}

/// The report of a network on real samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleReport {
    /// Metrics that need the dictionary `M`.
    pub not_available: Vec<NotAvailable>,
    /// Samples analysed.
    pub n_samples: usize,
    /// Fraction of nonzero activations `h_i(x)`.
    pub active_fraction: f64,
    /// Neurons never active on the samples.
    pub n_dead: usize,
    /// Median over live neurons of the excess kurtosis of `<w_i, x>`.
    pub kurtosis_median: f64,
    /// Median over live neurons of the participation ratio of `w_i`.
    pub participation_ratio_median: f64,
    /// Median over live neurons of the top-k energy share of `w_i`.
    pub top_k_share_median: f64,
    /// The `k`.
    pub top_k: usize,
    /// Effective rank of the representation covariance.
    pub effective_rank: f64,
    /// The relative threshold `kappa` given to principal components and random directions.
    pub kappa: f64,
    /// The meter of the live learned neurons.
    pub meter_learned: MeterSummary,
    /// The meter of the top principal components of the samples.
    pub meter_top_pcs: MeterSummary,
    /// The meter of random unit directions.
    pub meter_random: MeterSummary,
    /// Probes of the representation, when there are labels.
    pub probes: Option<SampleProbes>,
}

impl SampleEvaluation {
    /// Validates every field.
    ///
    /// # Errors
    /// The first field below its minimum.
    pub fn check(&self) -> Result<(), EvalError> {
        for (field, value, minimum) in
            [("meter_samples", self.meter_samples, 40), ("directions", self.directions, 1), ("top_k", self.top_k, 1)]
        {
            if value < minimum {
                return Err(EvalError::OutOfRange { field, value, minimum });
            }
        }
        Ok(())
    }
}

/// The median of finite values (NaN when there are none).
fn median(values: impl IntoIterator<Item = f64>) -> f64 {
    let finite: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
    if finite.is_empty() { f64::NAN } else { analysis::median(&finite) }
}

fn summarise(directions: Vec<DirectionMeter>) -> MeterSummary {
    MeterSummary {
        count: directions.len(),
        raw_median: median(directions.iter().map(|m| m.raw.value)),
        thresholded_median: median(directions.iter().map(|m| m.thresholded.value)),
        raw_std_error: median(directions.iter().map(|m| m.raw.std_error)),
        thresholded_std_error: median(directions.iter().map(|m| m.thresholded.std_error)),
        directions,
    }
}

/// The top `k` principal directions of `x` (rows, unit norm), from its covariance.
///
/// # Errors
/// Fewer than 2 samples.
pub fn top_principal_components(x: ArrayView2<'_, f32>, k: usize) -> Result<Array2<f32>, EvalError> {
    if x.nrows() < 2 {
        return Err(analysis::AnalysisError::TooFewSamples { what: "x", found: x.nrows(), needed: 2 }.into());
    }
    let data = x.mapv(f64::from);
    let centred = &data - &data.mean_axis(Axis(0)).expect("n >= 2");
    let covariance = centred.t().dot(&centred) / data.nrows() as f64;
    let (_, vectors) = analysis::symmetric_eigen(covariance.view());
    let k = k.min(vectors.ncols());
    Ok(vectors.slice_axis(Axis(1), ndarray::Slice::from(0..k)).t().mapv(|v| v as f32))
}

/// `sd(<w, x>)` of every row `w` of `directions` (uncentred, as the meter).
fn response_scales(directions: ArrayView2<'_, f32>, x: ArrayView2<'_, f32>) -> Vec<f64> {
    let responses = x.dot(&directions.t());
    responses.columns().into_iter().map(|c| (c.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / c.len().max(1) as f64).sqrt()).collect()
}

/// The analysis of `net` on `samples` under `augmentation` (meter views from
/// the `"meter"` stream of `seed`, random directions from `"meter-random"`,
/// probe split from `"probe-split"`).
///
/// # Errors
/// Invalid settings; too few samples; an augmentation that fails on the samples; analysis errors.
pub fn evaluate_samples<A: Augment + ?Sized>(
    net: &SymReluNet<f32>,
    samples: &Samples,
    augmentation: &A,
    settings: &SampleEvaluation,
    seed: u64,
) -> Result<SampleReport, EvalError> {
    settings.check()?;
    let n = settings.meter_samples.min(samples.n());
    let rows: Vec<usize> = (0..n).collect();
    let x = samples.x.select(Axis(0), &rows);
    let features = net.forward(x.view())?;
    let activity = analysis::activity_stats(features.view())?;
    let alive: Vec<usize> = (0..activity.n_neurons).filter(|&i| activity.alive[i]).collect();
    let weights = net.weights().select(Axis(0), &alive);
    let bias: Vec<f64> = alive.iter().map(|&i| f64::from(net.bias()[i])).collect();
    let (localisation, kurtosis) = if alive.is_empty() {
        (None, Vec::new())
    } else {
        (Some(analysis::localisation(weights.view(), settings.top_k)?), analysis::response_kurtosis(weights.view(), x.view())?)
    };
    let effective_rank = analysis::effective_rank(&analysis::covariance_spectrum(features.view())?);

    // The meter: the same views for every set of directions.
    let views = augmentation.views(&Batch::from_samples(x.clone()), &mut rng::stream(seed, "meter"))?;
    let (first, second) = (views[0].x(), views[1].x());
    let scales = response_scales(weights.view(), x.view());
    let kappa = median(bias.iter().zip(&scales).filter(|(_, s)| **s > 0.0).map(|(b, s)| b / s));
    let kappa = if kappa.is_finite() { kappa } else { 0.0 };
    let meter_learned =
        if alive.is_empty() { summarise(Vec::new()) } else { summarise(analysis::decoupling_meter(weights.view(), &bias, first, second)?) };
    let relative = |directions: &Array2<f32>| -> Result<MeterSummary, EvalError> {
        let thresholds: Vec<f64> = response_scales(directions.view(), x.view()).iter().map(|s| kappa * s).collect();
        Ok(summarise(analysis::decoupling_meter(directions.view(), &thresholds, first, second)?))
    };
    let pcs = top_principal_components(samples.x.view(), settings.directions)?;
    let mut random_rng = rng::stream(seed, "meter-random");
    let mut random = Array2::<f32>::zeros((settings.directions, samples.d1()));
    decouple_data::fill_gaussian(random.view_mut(), 1.0, &mut random_rng);
    for mut row in random.rows_mut() {
        let norm = row.dot(&row).sqrt();
        row /= norm.max(f32::MIN_POSITIVE);
    }
    let probes = match &samples.labels {
        Some(labels) => Some(probe_representation(net, samples, labels, settings, seed)?),
        None => None,
    };
    let reason = "real data have no ground-truth dictionary M";
    Ok(SampleReport {
        not_available: ["best_j (feature recovery)", "neuron purity", "sparse energy", "support recovery", "rho_sparse / rho_dense"]
            .iter()
            .map(|metric| NotAvailable { metric: (*metric).into(), reason: reason.into() })
            .collect(),
        n_samples: n,
        active_fraction: 1.0 - activity.zero_fraction,
        n_dead: activity.n_dead,
        kurtosis_median: median(kurtosis),
        participation_ratio_median: localisation.as_ref().map_or(f64::NAN, |l| median(l.participation_ratio.iter().copied())),
        top_k_share_median: localisation.as_ref().map_or(f64::NAN, |l| median(l.top_k_share.iter().copied())),
        top_k: settings.top_k,
        effective_rank,
        kappa,
        meter_learned,
        meter_top_pcs: relative(&pcs)?,
        meter_random: relative(&random)?,
        probes,
    })
}

/// The probe split of `n` samples: a seeded permutation, every third sample to the test set.
#[must_use]
pub fn probe_split(n: usize, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..n).collect();
    let mut stream = rng::stream(seed, "probe-split");
    for i in (1..n).rev() {
        order.swap(i, stream.random_range(0..=i));
    }
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (k, index) in order.into_iter().enumerate() {
        if k % 3 == 0 { test.push(index) } else { train.push(index) }
    }
    (train, test)
}

/// The first `per_class` training indices of each class (in the order of `train`).
#[must_use]
pub fn few_per_class(train: &[usize], classes: &[usize], n_classes: usize, per_class: usize) -> Vec<usize> {
    let mut counts = vec![0; n_classes];
    train
        .iter()
        .copied()
        .filter(|&i| {
            let class = classes[i];
            counts[class] += 1;
            counts[class] <= per_class
        })
        .collect()
}

/// Probes of any features (`n x p`, one row per sample) on `labels`: all
/// training labels and `labels_per_class` per class, on the split of [`probe_split`].
///
/// # Errors
/// Fewer than 2 classes; analysis errors.
pub fn probe_features(
    features: ArrayView2<'_, f32>,
    labels: &[i64],
    settings: &SampleEvaluation,
    seed: u64,
) -> Result<SampleProbes, EvalError> {
    let (classes, n_classes) = class_indices(labels);
    let (train, test) = probe_split(features.nrows(), seed);
    let fit = |rows: &[usize]| {
        let pick = |indices: &[usize]| indices.iter().map(|&i| classes[i]).collect::<Vec<_>>();
        analysis::fit_multiclass_probe(
            features.select(Axis(0), rows).view(),
            &pick(rows),
            features.select(Axis(0), &test).view(),
            &pick(&test),
            n_classes,
            settings.probe_lambda,
        )
    };
    let all_labels = fit(&train)?;
    let few_labels = if settings.labels_per_class > 0 {
        Some(fit(&few_per_class(&train, &classes, n_classes, settings.labels_per_class))?)
    } else {
        None
    };
    Ok(SampleProbes { all_labels, few_labels })
}

fn probe_representation(
    net: &SymReluNet<f32>,
    samples: &Samples,
    labels: &[i64],
    settings: &SampleEvaluation,
    seed: u64,
) -> Result<SampleProbes, EvalError> {
    let features = net.forward(samples.x.view())?;
    probe_features(features.view(), labels, settings, seed)
}
