//! The full metric set of docs/model.md §6 for one trained network: every
//! number an experiment reports about what a network learned.
//!
//! Fresh evaluation samples come from named streams of the run's seed
//! (`"analysis"`, `"probe-task"`, `"probe-train"`, `"probe-test"`,
//! `"decoupling-eval"`), never from the training streams.
//!
//! This crate is a plain library: no command-line, config-file or `anyhow`
//! dependency; its errors are the typed [`EvalError`].

use decouple_analysis as analysis;
use decouple_augment::{Augment, Component, decoupling};
use decouple_data::{SignTask, SparseCodingModel, draw_labelled, rng};
use decouple_net::{BiasRule, SymReluNet};
use decouple_train::TrainConfig;
use ndarray::{Array1, Array2, ArrayView2, Axis, Slice};
use serde::{Deserialize, Serialize};

mod samples;
pub use samples::{
    MeterSummary, NotAvailable, SampleEvaluation, SampleProbes, SampleReport, evaluate_samples, few_per_class, probe_features, probe_split,
    top_principal_components,
};

/// Why an evaluation could not be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// A sample size of [`EvaluationConfig`] below its minimum.
    #[error("evaluation.{field} = {value} is out of range: must be >= {minimum}")]
    OutOfRange {
        /// The field of the `[evaluation]` table.
        field: &'static str,
        /// Its value.
        value: usize,
        /// The smallest allowed value.
        minimum: usize,
    },
    /// The data model could not be built or sampled.
    #[error(transparent)]
    Data(#[from] decouple_data::DataError),
    /// The decoupling statistics failed.
    #[error(transparent)]
    Augment(#[from] decouple_augment::AugmentError),
    /// A network could not be built or run.
    #[error(transparent)]
    Net(#[from] decouple_net::NetError),
    /// An analysis function failed (shapes, degenerate probes).
    #[error(transparent)]
    Analysis(#[from] decouple_analysis::AnalysisError),
    /// The initial network of the run's config could not be rebuilt.
    #[error(transparent)]
    Train(#[from] decouple_train::TrainError),
}

/// Sample sizes and probe settings of the evaluation (the `[evaluation]` table of a run or sweep file).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct EvaluationConfig {
    /// Clean samples for activity and support statistics.
    pub n_activity: usize,
    /// Probe training samples (default 1000).
    pub n_probe_train: usize,
    /// Probe test samples (default 2000).
    pub n_probe_test: usize,
    /// Samples for the learned neurons' decoupling statistics (0 = skip).
    pub n_decoupling: usize,
    /// How every probe's L2 strength is set (default: 5-fold cross-validation
    /// on the training split over `1e-4 .. 1e2`; `{ kind = "Fixed", lambda = 1e-3 }`
    /// is the earlier fixed strength).
    #[serde(default)]
    pub probe_lambda: analysis::LambdaChoice,
    /// Also probe with the first 10, 30, 100, 300, ... of the training samples
    /// (label-efficiency curves; default true).
    #[serde(default = "default_true")]
    pub label_efficiency: bool,
}

fn default_true() -> bool {
    true
}

/// Training-set sizes of the label-efficiency curves (those below `n_probe_train`, then `n_probe_train`).
pub const LABEL_EFFICIENCY_SIZES: [usize; 4] = [10, 30, 100, 300];

impl Default for EvaluationConfig {
    fn default() -> Self {
        Self {
            n_activity: 2000,
            n_probe_train: decouple_analysis::DEFAULT_PROBE_TRAIN_SAMPLES,
            n_probe_test: decouple_analysis::DEFAULT_PROBE_TEST_SAMPLES,
            n_decoupling: 20_000,
            probe_lambda: analysis::LambdaChoice::default(),
            label_efficiency: true,
        }
    }
}

impl EvaluationConfig {
    /// Validates the sample sizes (`n_decoupling = 0` skips the decoupling statistics).
    ///
    /// # Errors
    /// A sample size below its minimum, named with its allowed range.
    pub fn check(&self) -> Result<(), EvalError> {
        for (field, value, minimum) in
            [("n_activity", self.n_activity, 1), ("n_probe_train", self.n_probe_train, 10), ("n_probe_test", self.n_probe_test, 10)]
        {
            if value < minimum {
                return Err(EvalError::OutOfRange { field, value, minimum });
            }
        }
        Ok(self.probe_lambda.check()?)
    }
}

/// Probe test accuracies of the four feature sets with `n` labelled training samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelEfficiencyPoint {
    /// Labelled training samples (the first `n` of the probe's training set).
    pub n: usize,
    /// Learned features `f(x)`.
    pub learned: f64,
    /// Raw input `x`.
    pub raw: f64,
    /// The network at initialisation.
    pub init: f64,
    /// The ideal network.
    pub ideal: f64,
}

/// The L2 strength each probe chose (see [`EvaluationConfig::probe_lambda`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProbeLambdas {
    /// For the learned features.
    pub learned: f64,
    /// For raw `x`.
    pub raw: f64,
    /// For the initial network.
    pub init: f64,
    /// For the ideal network.
    pub ideal: f64,
}

/// Probe accuracies on `sign(<a, z>)` (test set) and `R^2` of recovering `z`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeScores {
    /// Learned features `f(x)`.
    pub learned: f64,
    /// Raw input `x`.
    pub raw: f64,
    /// The network at initialisation (same seed, bias 0).
    pub init: f64,
    /// The ideal network `w_j = M_j` with the run's thresholds (see `ideal_network`).
    pub ideal: f64,
    /// Test `R^2` of ridge regression of `z` on the learned features.
    pub learned_r2: f64,
    /// Test `R^2` of ridge regression of `z` on raw `x`.
    pub raw_r2: f64,
    /// The L2 strength of each probe above (absent in reports written before it was recorded).
    #[serde(default)]
    pub lambda: Option<ProbeLambdas>,
    /// Accuracy against the number of labelled training samples (empty when not measured).
    #[serde(default)]
    pub label_efficiency: Vec<LabelEfficiencyPoint>,
}

/// Everything measured about one trained network.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NetworkReport {
    /// Median over features of `best_j = max_i |cos(w_i, M_j)|`.
    pub median_best: f64,
    /// Min over features of `best_j`.
    pub min_best: f64,
    /// Max over features of `best_j`.
    pub max_best: f64,
    /// Features with `best_j >= 0.9`.
    pub n_recovered: usize,
    /// Number of features `d`.
    pub n_features: usize,
    /// `best_j` per feature.
    pub best_per_feature: Vec<f64>,
    /// Mean purity `max_j A_ij` over alive neurons.
    pub mean_purity: f64,
    /// Mean number of features per alive neuron with `A_ij >= 0.3`.
    pub mean_features_per_neuron: f64,
    /// Mean of `||M^T w_i||^2 / ||w_i||^2`.
    pub sparse_energy_mean: f64,
    /// `sum_i ||M^T w_i||^2 / sum_i ||w_i||^2`. Weighted by the norms, it can
    /// be high while most neurons are dead: read it with [`Self::n_live`].
    pub sparse_energy_weighted: f64,
    /// Live neurons (active on some clean evaluation sample): `n_neurons - n_dead`.
    pub n_live: usize,
    /// `d / d1`, the value for random directions.
    pub sparse_energy_random: f64,
    /// Per-neuron sparse energy (for histograms).
    pub sparse_energy_per_neuron: Vec<f64>,
    /// Norm-weighted energy in the low-rank dense span `H`, if any.
    pub dense_span_energy_weighted: Option<f64>,
    /// Per-neuron energy `||H^T w_i||^2 / ||w_i||^2` in the low-rank dense span `H`, if any.
    #[serde(default)]
    pub dense_span_energy_per_neuron: Option<Vec<f64>>,
    /// Whether each neuron is live (active on some clean evaluation sample); empty in old reports.
    #[serde(default)]
    pub live: Vec<bool>,
    /// Neurons never active on the clean evaluation samples.
    pub n_dead: usize,
    /// Number of neurons.
    pub n_neurons: usize,
    /// Fraction of zero activations on clean samples.
    pub zero_fraction: f64,
    /// Effective rank `exp(entropy)` of the eigenvalues of the covariance of
    /// `f(x)` on clean samples: `m` when isotropic, 1 when collapsed to one direction.
    pub effective_rank: f64,
    /// Sign-support recovery: matched fraction of active features.
    pub support_match_rate: f64,
    /// Sign-support recovery: fraction of inactive features reported active.
    pub support_false_rate: f64,
    /// Linear probes.
    pub probe: ProbeScores,
    /// Mean Monte Carlo `rho_sparse(w_i)` over alive neurons under the run's augmentation.
    pub rho_sparse_learned: Option<f64>,
    /// Mean closed-form `rho_sparse(w_i)`.
    pub rho_sparse_learned_theory: Option<f64>,
    /// Mean Monte Carlo `rho_dense(w_i)` over alive neurons.
    pub rho_dense_learned: Option<f64>,
    /// Mean closed-form `rho_dense(w_i)`.
    pub rho_dense_learned_theory: Option<f64>,
}

impl NetworkReport {
    /// Whether at least half of the neurons are live, so that the
    /// norm-weighted sparse energy describes the network rather than a few
    /// large surviving neurons.
    #[must_use]
    pub fn mostly_live(&self) -> bool {
        2 * self.n_live >= self.n_neurons
    }

    /// [`Self::sparse_energy_weighted`] when [`Self::mostly_live`], else NaN, so
    /// that a claim on the energy fails when most neurons are dead.
    #[must_use]
    pub fn sparse_energy_if_live(&self) -> f64 {
        if self.mostly_live() { self.sparse_energy_weighted } else { f64::NAN }
    }
}

fn features(net: &SymReluNet<f32>, x: ArrayView2<'_, f32>) -> Result<Array2<f32>, EvalError> {
    Ok(net.forward(x)?)
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// The ideal network's threshold (its weights have unit norm): the
/// `NormRamp` `beta`, the `Fixed` `b`, or for `Learned` the trained network's
/// median `b_i / ||w_i||` (and so for any other rule).
fn ideal_ratio(net: &SymReluNet<f32>, rule: BiasRule) -> f64 {
    match rule {
        BiasRule::NormRamp { beta, .. } => beta,
        BiasRule::Fixed { b } => b,
        _ => {
            let mut ratios: Vec<f64> = net
                .weights()
                .rows()
                .into_iter()
                .zip(net.bias())
                .map(|(w, b)| f64::from(*b) / f64::from(w.dot(&w)).sqrt().max(1e-12))
                .collect();
            ratios.sort_by(f64::total_cmp);
            ratios.get(ratios.len() / 2).copied().unwrap_or(0.0)
        }
    }
}

/// The ideal network: one unit-norm neuron per feature, `w_j = M_j`, every threshold `ratio`.
fn ideal_network(model: &SparseCodingModel, ratio: f64) -> Result<SymReluNet<f32>, EvalError> {
    let weights = model.dictionary().features_f32().to_owned();
    let bias = Array1::from_elem(weights.nrows(), ratio as f32);
    Ok(SymReluNet::new(weights, bias)?)
}

/// Probe results of the baseline feature sets (raw `x`, the initial network,
/// the ideal network), by a key naming everything they depend on. Many runs of
/// one reproduction share them (the same data, seed and evaluation), so they
/// are computed once; a memo of a deterministic function, so results are the
/// same with or without it.
#[derive(Debug, Default)]
pub struct BaselineProbes {
    memo: std::sync::Mutex<std::collections::HashMap<String, Vec<(f64, f64)>>>,
}

impl BaselineProbes {
    fn get_or_compute(
        &self,
        key: String,
        compute: impl FnOnce() -> Result<Vec<(f64, f64)>, EvalError>,
    ) -> Result<Vec<(f64, f64)>, EvalError> {
        if let Some(found) = self.memo.lock().expect("memo lock").get(&key) {
            return Ok(found.clone());
        }
        // Computed outside the lock: two threads may both compute a key, with identical results.
        let value = compute()?;
        self.memo.lock().expect("memo lock").insert(key, value.clone());
        Ok(value)
    }
}

/// Measures `net`, trained with `config` and `augmentation` (the augmentation
/// that trained it, any [`Augment`]), on `model`.
///
/// The decoupling statistics `rho` are those of `augmentation`: measured by
/// Monte Carlo through the trait, with closed forms where the augmentation
/// provides its pair moments ([`Augment::pair_moments`]) and `None` otherwise.
/// They are not reported (all `None`) for an augmentation whose views are
/// the sample itself ([`Augment::is_identity`], e.g. `Identity`): a pair of
/// identical views has no decoupling to measure; nor for one whose views do
/// not carry their parts ([`Augment::has_parts`]).
///
/// # Errors
/// Failures of the analysis functions (shape errors, degenerate probes).
pub fn evaluate<A: Augment + ?Sized>(
    config: &TrainConfig,
    model: &SparseCodingModel,
    net: &SymReluNet<f32>,
    augmentation: &A,
    evaluation: &EvaluationConfig,
) -> Result<NetworkReport, EvalError> {
    evaluate_with(config, model, net, augmentation, evaluation, &BaselineProbes::default())
}

/// [`evaluate`], reusing (and filling) `baselines` for the probes of raw `x`
/// and of the initial and ideal networks (the same result as [`evaluate`]).
///
/// # Errors
/// As [`evaluate`].
pub fn evaluate_with<A: Augment + ?Sized>(
    config: &TrainConfig,
    model: &SparseCodingModel,
    net: &SymReluNet<f32>,
    augmentation: &A,
    evaluation: &EvaluationConfig,
    baselines: &BaselineProbes,
) -> Result<NetworkReport, EvalError> {
    evaluate_timed(config, model, net, augmentation, evaluation, baselines, &mut EvaluationTimes::default())
}

/// Where the time of one evaluation went, in seconds (wall time; not part
/// of the report, so that a report does not depend on the machine).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct EvaluationTimes {
    /// The whole evaluation.
    pub total_s: f64,
    /// The linear probes and ridge regressions (task, sample sets, fits over the lambda grid and folds, label-efficiency points).
    pub probes_s: f64,
    /// The learned neurons' decoupling statistics (Monte Carlo and closed forms).
    pub decoupling_s: f64,
}

impl EvaluationTimes {
    /// The rest: recovery, purity, energies, activity, spectra, support recovery.
    #[must_use]
    pub fn other_s(&self) -> f64 {
        (self.total_s - self.probes_s - self.decoupling_s).max(0.0)
    }

    /// Adds `other`'s times to these.
    pub fn add(&mut self, other: &Self) {
        self.total_s += other.total_s;
        self.probes_s += other.probes_s;
        self.decoupling_s += other.decoupling_s;
    }
}

/// [`evaluate_with`], adding where its time went to `times`.
///
/// # Errors
/// As [`evaluate`].
pub fn evaluate_timed<A: Augment + ?Sized>(
    config: &TrainConfig,
    model: &SparseCodingModel,
    net: &SymReluNet<f32>,
    augmentation: &A,
    evaluation: &EvaluationConfig,
    baselines: &BaselineProbes,
    times: &mut EvaluationTimes,
) -> Result<NetworkReport, EvalError> {
    let started = std::time::Instant::now();
    let seed = config.seed;
    let dictionary = model.dictionary().matrix();
    let cosines = analysis::cosine_matrix(net.weights(), dictionary)?;
    let alignment = cosines.mapv(f64::abs);
    let recovery = analysis::feature_recovery(alignment.view(), &analysis::RecoveryConfig::default())?;
    let energy = analysis::sparse_energy(net.weights(), dictionary)?;
    let dense_span_energy = match model.dense_basis() {
        Some(basis) => Some(analysis::subspace_energy(net.weights(), basis.mapv(|v| v as f32).view())?),
        None => None,
    };

    let clean = model.sample(evaluation.n_activity, &mut rng::stream(seed, "analysis"));
    let clean_features = features(net, clean.x())?;
    let activity = analysis::activity_stats(clean_features.view())?;
    let effective_rank = analysis::effective_rank(&analysis::covariance_spectrum(clean_features.view())?);
    let purity = analysis::neuron_purity(alignment.view(), Some(&activity.alive), &analysis::PurityConfig::default())?;
    let support = analysis::support_recovery(clean_features.view(), clean.z(), cosines.view(), &analysis::SupportConfig::default())?;

    let data = model.config();
    let probes_started = std::time::Instant::now();
    let task = SignTask::new(data.d, &mut rng::stream(seed, "probe-task"));
    let train = draw_labelled(model, &task, evaluation.n_probe_train, &mut rng::stream(seed, "probe-train"))?;
    let test = draw_labelled(model, &task, evaluation.n_probe_test, &mut rng::stream(seed, "probe-test"))?;
    let probe_config = analysis::ProbeConfig::default();
    // Folds from the run's seed: one stream for every feature set, so they share their folds.
    let fold_seed = rng::derive_seed(seed, "probe-folds");
    let folds = match evaluation.probe_lambda {
        analysis::LambdaChoice::CrossValidated { folds, .. } => folds,
        _ => 1,
    };
    let mut sizes: Vec<usize> = if evaluation.label_efficiency {
        LABEL_EFFICIENCY_SIZES.into_iter().filter(|&n| n < evaluation.n_probe_train && n >= 2 * folds).collect()
    } else {
        Vec::new()
    };
    sizes.push(evaluation.n_probe_train);
    // (test accuracy, chosen lambda) with the first n training samples, for every n of `sizes`.
    let probe_set = |train_features: ArrayView2<'_, f32>, test_features: ArrayView2<'_, f32>| -> Result<Vec<(f64, f64)>, EvalError> {
        sizes
            .iter()
            .map(|&n| {
                let tuned = analysis::fit_tuned_probe(
                    train_features.slice_axis(Axis(0), Slice::from(0..n)),
                    train.labels.slice_axis(Axis(0), Slice::from(0..n)),
                    test_features,
                    test.labels.view(),
                    &evaluation.probe_lambda,
                    &probe_config,
                    fold_seed,
                );
                match tuned {
                    Ok(tuned) => Ok((tuned.probe.test_accuracy, tuned.probe.lambda)),
                    // A label-efficiency subset with one class (or one sample of a class) has no probe: NaN.
                    Err(analysis::AnalysisError::SingleClass { .. }) if n < evaluation.n_probe_train => Ok((f64::NAN, f64::NAN)),
                    Err(error) => Err(error.into()),
                }
            })
            .collect()
    };
    let of_net = |network: &SymReluNet<f32>| -> Result<Vec<(f64, f64)>, EvalError> {
        probe_set(features(network, train.samples.x())?.view(), features(network, test.samples.x())?.view())
    };
    let (learned_train, learned_test) = (features(net, train.samples.x())?, features(net, test.samples.x())?);
    let learned = probe_set(learned_train.view(), learned_test.view())?;
    // The baselines depend on the run only through these settings, so runs that share them share the probes.
    let shared = format!("{data:?}|{seed}|{evaluation:?}");
    let raw = baselines.get_or_compute(format!("raw|{shared}"), || probe_set(train.samples.x(), test.samples.x()))?;
    let network = &config.network;
    let init = baselines.get_or_compute(format!("init|{shared}|{}|{}|{:?}", network.width, network.sigma0, network.init), || {
        of_net(&decouple_train::initial_network(network, model, seed)?)
    })?;
    let ratio = ideal_ratio(net, config.network.bias);
    let ideal = baselines.get_or_compute(format!("ideal|{shared}|{}", ratio.to_bits()), || of_net(&ideal_network(model, ratio)?))?;
    let label_efficiency = if evaluation.label_efficiency {
        sizes
            .iter()
            .enumerate()
            .map(|(k, &n)| LabelEfficiencyPoint { n, learned: learned[k].0, raw: raw[k].0, init: init[k].0, ideal: ideal[k].0 })
            .collect()
    } else {
        Vec::new()
    };
    let full = [learned[sizes.len() - 1], raw[sizes.len() - 1], init[sizes.len() - 1], ideal[sizes.len() - 1]];
    let ridge = |train_features: ArrayView2<'_, f32>, test_features: ArrayView2<'_, f32>| -> Result<f64, EvalError> {
        Ok(analysis::fit_ridge_regression(
            train_features,
            train.samples.z(),
            test_features,
            test.samples.z(),
            &analysis::RidgeConfig::default(),
        )?
        .mean_test_r2)
    };
    let probe_scores = ProbeScores {
        learned: full[0].0,
        raw: full[1].0,
        init: full[2].0,
        ideal: full[3].0,
        learned_r2: ridge(learned_train.view(), learned_test.view())?,
        raw_r2: ridge(train.samples.x(), test.samples.x())?,
        lambda: Some(ProbeLambdas { learned: full[0].1, raw: full[1].1, init: full[2].1, ideal: full[3].1 }),
        label_efficiency,
    };

    times.probes_s += probes_started.elapsed().as_secs_f64();
    let decoupling_started = std::time::Instant::now();
    let mut rho = [None, None, None, None];
    let alive_rows: Vec<usize> = (0..net.n_neurons()).filter(|&i| activity.alive[i]).collect();
    if evaluation.n_decoupling > 0 && !alive_rows.is_empty() && !augmentation.is_identity() {
        let mut directions = Array2::<f64>::zeros((alive_rows.len(), data.d1));
        for (row, &neuron) in alive_rows.iter().enumerate() {
            directions.row_mut(row).assign(&net.weights().row(neuron).mapv(f64::from));
        }
        let theory = |component: Component| -> Vec<Option<f64>> {
            directions.rows().into_iter().map(|w| decoupling::closed_form(model, augmentation, component, w)).collect()
        };
        let accumulator = decoupling::monte_carlo(
            model,
            augmentation,
            directions.view(),
            evaluation.n_decoupling,
            &mut rng::stream(seed, "decoupling-eval"),
        )?;
        for (slot, component) in [(0, Component::Sparse), (2, Component::Dense)] {
            let measured: Vec<f64> = accumulator.estimates(component).iter().flatten().map(|estimate| estimate.rho).collect();
            rho[slot] = mean(&measured);
            // The mean over the directions that have a closed form; none when the augmentation gives no pair moments.
            let theory: Vec<f64> = theory(component).into_iter().flatten().collect();
            rho[slot + 1] = mean(&theory);
        }
        // Asked after the pairs are drawn: an augmentation of one's own may learn only then whether its views carry parts.
        if !augmentation.has_parts() {
            rho = [None, None, None, None];
        }
    }

    times.decoupling_s += decoupling_started.elapsed().as_secs_f64();
    times.total_s += started.elapsed().as_secs_f64();
    Ok(NetworkReport {
        median_best: recovery.median,
        min_best: recovery.min,
        max_best: recovery.max,
        n_recovered: recovery.n_recovered,
        n_features: recovery.n_features,
        best_per_feature: recovery.best_per_feature,
        mean_purity: purity.mean_purity,
        mean_features_per_neuron: purity.mean_features_per_neuron,
        sparse_energy_mean: energy.mean,
        sparse_energy_weighted: energy.weighted_mean,
        n_live: activity.alive.iter().filter(|&&alive| alive).count(),
        sparse_energy_random: energy.random_baseline,
        sparse_energy_per_neuron: energy.energy_per_neuron,
        dense_span_energy_weighted: dense_span_energy.as_ref().map(|energy| energy.weighted_mean),
        dense_span_energy_per_neuron: dense_span_energy.map(|energy| energy.energy_per_neuron),
        live: activity.alive.clone(),
        n_dead: activity.n_dead,
        n_neurons: activity.n_neurons,
        zero_fraction: activity.zero_fraction,
        effective_rank,
        support_match_rate: support.match_rate,
        support_false_rate: support.false_support_rate,
        probe: probe_scores,
        rho_sparse_learned: rho[0],
        rho_sparse_learned_theory: rho[1],
        rho_dense_learned: rho[2],
        rho_dense_learned_theory: rho[3],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny model and a network of 8 neurons, the first `dead` of them with
    /// a threshold no sample reaches.
    fn report_with_dead(dead: usize) -> NetworkReport {
        let mut config = TrainConfig::default();
        config.data.model_mut().unwrap().d = 4;
        config.data.model_mut().unwrap().d1 = 24;
        config.network.width = 8;
        let model = SparseCodingModel::from_seed(*config.data.model().unwrap(), 3).unwrap();
        let init = SymReluNet::<f32>::init(8, 24, 1.0, &mut rng::stream(3, "test-net")).unwrap();
        let bias = Array1::from_shape_fn(8, |i| if i < dead { 1e6 } else { 0.0 });
        let net = SymReluNet::new(init.weights().to_owned(), bias).unwrap();
        let evaluation =
            EvaluationConfig { n_activity: 400, n_probe_train: 200, n_probe_test: 200, n_decoupling: 0, ..EvaluationConfig::default() };
        evaluate(&config, &model, &net, &decouple_augment::Augmentation::default(), &evaluation).unwrap()
    }

    /// The memo of baseline probes is invisible: two networks on the same data
    /// and seed, evaluated through one shared `BaselineProbes`, get the reports a
    /// fresh evaluation gives; the curves end at the full training set with the
    /// headline accuracies, and the chosen lambdas lie on the grid.
    #[test]
    fn shared_baseline_probes_change_nothing() {
        let mut config = TrainConfig::default();
        config.data.model_mut().unwrap().d = 4;
        config.data.model_mut().unwrap().d1 = 24;
        config.network.width = 8;
        let model = SparseCodingModel::from_seed(*config.data.model().unwrap(), 3).unwrap();
        let evaluation =
            EvaluationConfig { n_activity: 300, n_probe_train: 200, n_probe_test: 200, n_decoupling: 0, ..EvaluationConfig::default() };
        let shared = BaselineProbes::default();
        for stream in ["net-a", "net-b"] {
            let net = SymReluNet::<f32>::init(8, 24, 1.0, &mut rng::stream(3, stream)).unwrap();
            let fresh = evaluate(&config, &model, &net, &decouple_augment::Augmentation::default(), &evaluation).unwrap();
            let memo = evaluate_with(&config, &model, &net, &decouple_augment::Augmentation::default(), &evaluation, &shared).unwrap();
            assert_eq!(serde_json::to_string(&fresh).unwrap(), serde_json::to_string(&memo).unwrap());
            let curve = &memo.probe.label_efficiency;
            assert_eq!(curve.iter().map(|point| point.n).collect::<Vec<_>>(), vec![10, 30, 100, 200]);
            assert_eq!((curve[3].learned, curve[3].raw), (memo.probe.learned, memo.probe.raw));
            let lambdas = memo.probe.lambda.unwrap();
            let grid = evaluation.probe_lambda.grid();
            assert!([lambdas.learned, lambdas.raw, lambdas.init, lambdas.ideal].iter().all(|l| grid.contains(l)), "{lambdas:?}");
        }
        assert_eq!(shared.memo.lock().unwrap().len(), 3, "raw, init and ideal, once each");
    }

    #[test]
    fn live_neurons_are_the_neurons_that_are_not_dead() {
        for dead in [0, 3, 6] {
            let report = report_with_dead(dead);
            assert_eq!((report.n_neurons, report.n_dead, report.n_live), (8, dead, 8 - dead));
            // The per-neuron mask: exactly the first `dead` neurons (the unreachable thresholds) are not live.
            assert_eq!(report.live, (0..8).map(|i| i >= dead).collect::<Vec<_>>());
            assert!(report.dense_span_energy_per_neuron.is_none(), "isotropic dense features have no span(H)");
        }
    }

    #[test]
    fn the_sparse_energy_counts_only_when_most_neurons_are_live() {
        let live = report_with_dead(4);
        assert!(live.mostly_live());
        assert_eq!(live.sparse_energy_if_live(), live.sparse_energy_weighted);
        let mostly_dead = report_with_dead(6);
        assert!(!mostly_dead.mostly_live());
        assert!(mostly_dead.sparse_energy_weighted.is_finite());
        assert!(mostly_dead.sparse_energy_if_live().is_nan());
    }

    #[test]
    fn a_sample_size_below_its_minimum_is_a_typed_error_naming_the_field() {
        let config = EvaluationConfig { n_probe_test: 3, ..EvaluationConfig::default() };
        let error = config.check().unwrap_err();
        assert!(matches!(error, EvalError::OutOfRange { field: "n_probe_test", value: 3, minimum: 10 }));
        assert_eq!(error.to_string(), "evaluation.n_probe_test = 3 is out of range: must be >= 10");
    }
}
