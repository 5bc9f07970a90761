//! The metrics of docs/model.md §6 on any weights (a decouple run's, or the
//! first layer of a PyTorch model): the full report of a run, and each
//! metric on its own.

use decouple_analysis as analysis;
use decouple_net::SymReluNet;
use ndarray::Array2;
use numpy::{PyArray1, PyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::convert::{self, matrix, out1, out2, to_python, vector};
use crate::session::{self, Session};

fn analysis_error(error: analysis::AnalysisError) -> PyErr {
    convert::input_error(&error)
}

fn settings<T: DeserializeOwned>(value: serde_json::Value, name: &str) -> PyResult<T> {
    serde_json::from_value(value).map_err(|error| PyValueError::new_err(format!("{name}: {error}")))
}

/// The full report of a run (`summary.json`'s `report`) for weights `W` and thresholds `b`.
#[pyfunction]
#[pyo3(signature = (weights, thresholds = None, *, config = None, seed = None))]
pub(crate) fn evaluate(
    py: Python<'_>,
    weights: &Bound<'_, PyAny>,
    thresholds: Option<&Bound<'_, PyAny>>,
    config: Option<&Bound<'_, PyAny>>,
    seed: Option<u64>,
) -> PyResult<Py<PyAny>> {
    let (mut document, dir, name) = crate::run::document(config)?;
    if let (Some(seed), Some(map)) = (seed, document.as_object_mut()) {
        map.insert("seed".into(), json!(seed));
    }
    let session = Session::new();
    let registry = crate::registry::build(py, &session, &[])?;
    let resolved = decouple_harness::config_file::load_document_with(document, &dir, &name, &[], &registry)
        .map_err(|error| convert::harness_error(&error))?;
    let model = crate::data::SparseCodingModel::of_config(&resolved.train)?
        .ok_or_else(|| PyValueError::new_err("config: evaluate needs the data model (a data file has no dictionary)"))?;
    let d1 = model.inner.config().d1;
    let weights = matrix(weights, "weights", Some(d1))?;
    let thresholds = match thresholds {
        Some(thresholds) if !thresholds.is_none() => vector(thresholds, "thresholds", Some(weights.nrows()))?,
        _ => ndarray::Array1::zeros(weights.nrows()),
    };
    let net = SymReluNet::new(weights, thresholds).map_err(|error| convert::input_error(&error))?;
    let augmentation = registry.augmentation(&resolved.train.augmentation).map_err(|error| convert::input_error(&error))?;
    let evaluation = resolved
        .evaluation
        .model()
        .cloned()
        .ok_or_else(|| PyValueError::new_err("config: the [evaluation] table is not the data model's"))?;
    let train = resolved.train.clone();
    let report = session::run_detached(py, &session, || decouple_eval::evaluate(&train, &model.inner, &net, &augmentation, &evaluation))?
        .map_err(|error| convert::engine_error(&error))?;
    to_python(py, &report)
}

/// `weights` (`m x d1`) and `dictionary` (`d1 x d`), checked against each other.
fn weights_and_dictionary(weights: &Bound<'_, PyAny>, dictionary: &Bound<'_, PyAny>) -> PyResult<(Array2<f32>, Array2<f32>)> {
    let dictionary = matrix(dictionary, "dictionary", None)?;
    Ok((matrix(weights, "weights", Some(dictionary.nrows()))?, dictionary))
}

/// `|cos(w_i, M_j)|` of `weights` and `dictionary`, `m x d`.
fn alignment_of(weights: &Bound<'_, PyAny>, dictionary: &Bound<'_, PyAny>) -> PyResult<Array2<f64>> {
    let (weights, dictionary) = weights_and_dictionary(weights, dictionary)?;
    analysis::alignment_matrix(weights.view(), dictionary.view()).map_err(analysis_error)
}

/// `|cos(w_i, M_j)|`, `m x d`.
#[pyfunction]
pub(crate) fn alignment(py: Python<'_>, weights: &Bound<'_, PyAny>, dictionary: &Bound<'_, PyAny>) -> PyResult<Py<PyArray2<f64>>> {
    Ok(out2(py, alignment_of(weights, dictionary)?))
}

/// `best_j = max_i |cos(w_i, M_j)|` per feature, its median, min, max and the count `>= threshold`.
#[pyfunction]
#[pyo3(signature = (weights, dictionary, threshold = 0.9))]
pub(crate) fn recovery(py: Python<'_>, weights: &Bound<'_, PyAny>, dictionary: &Bound<'_, PyAny>, threshold: f64) -> PyResult<Py<PyAny>> {
    let alignment = alignment_of(weights, dictionary)?;
    let config: analysis::RecoveryConfig = settings(json!({ "threshold": threshold }), "threshold")?;
    to_python(py, &analysis::feature_recovery(alignment.view(), &config).map_err(analysis_error)?)
}

/// Per neuron: `max_j cos^2(w_i, M_j) / sum_j cos^2(w_i, M_j)`, and the features above `threshold` of its best.
#[pyfunction]
#[pyo3(signature = (weights, dictionary, threshold = 0.3))]
pub(crate) fn purity(py: Python<'_>, weights: &Bound<'_, PyAny>, dictionary: &Bound<'_, PyAny>, threshold: f64) -> PyResult<Py<PyAny>> {
    let alignment = alignment_of(weights, dictionary)?;
    let config: analysis::PurityConfig = settings(json!({ "threshold": threshold }), "threshold")?;
    to_python(py, &analysis::neuron_purity(alignment.view(), None, &config).map_err(analysis_error)?)
}

/// `||P_M w_i||^2 / ||w_i||^2` per neuron, its mean and its `||w_i||^2`-weighted mean.
#[pyfunction]
pub(crate) fn sparse_energy(py: Python<'_>, weights: &Bound<'_, PyAny>, dictionary: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    let (weights, dictionary) = weights_and_dictionary(weights, dictionary)?;
    to_python(py, &analysis::sparse_energy(weights.view(), dictionary.view()).map_err(analysis_error)?)
}

/// The eigenvalues of the features' covariance (`n x m`), largest first.
#[pyfunction]
pub(crate) fn covariance_spectrum(py: Python<'_>, features: &Bound<'_, PyAny>) -> PyResult<Py<PyArray1<f64>>> {
    let features = matrix(features, "features", None)?;
    Ok(out1(py, analysis::covariance_spectrum(features.view()).map_err(analysis_error)?))
}

/// `exp(H(p))`, `p` the normalised covariance spectrum of the features.
#[pyfunction]
pub(crate) fn effective_rank(features: &Bound<'_, PyAny>) -> PyResult<f64> {
    let features = matrix(features, "features", None)?;
    Ok(analysis::effective_rank(&analysis::covariance_spectrum(features.view()).map_err(analysis_error)?))
}

/// A logistic probe on labels in `{0, 1}`, its L2 strength cross-validated on the training split.
#[pyfunction]
#[pyo3(signature = (train_features, train_labels, test_features, test_labels, *, lambda_choice = None, seed = 0))]
pub(crate) fn probe(
    py: Python<'_>,
    train_features: &Bound<'_, PyAny>,
    train_labels: &Bound<'_, PyAny>,
    test_features: &Bound<'_, PyAny>,
    test_labels: &Bound<'_, PyAny>,
    lambda_choice: Option<&Bound<'_, PyAny>>,
    seed: u64,
) -> PyResult<Py<PyAny>> {
    let train_features = matrix(train_features, "train_features", None)?;
    let width = Some(train_features.ncols());
    let test_features = matrix(test_features, "test_features", width)?;
    let train_labels = vector(train_labels, "train_labels", Some(train_features.nrows()))?;
    let test_labels = vector(test_labels, "test_labels", Some(test_features.nrows()))?;
    for (name, labels) in [("train_labels", &train_labels), ("test_labels", &test_labels)] {
        if labels.iter().any(|&label| label != 0.0 && label != 1.0) {
            return Err(PyValueError::new_err(format!("{name}: expected labels in {{0, 1}}")));
        }
    }
    let choice: analysis::LambdaChoice = match lambda_choice {
        Some(choice) if !choice.is_none() => settings(convert::to_json(choice, "lambda_choice")?, "lambda_choice")?,
        _ => analysis::LambdaChoice::default(),
    };
    // The engine's probes take labels in {-1, +1}.
    let (train_labels, test_labels) = (train_labels.mapv(|y| 2.0 * y - 1.0), test_labels.mapv(|y| 2.0 * y - 1.0));
    let solver = analysis::ProbeConfig::default();
    let probe = py
        .detach(|| {
            analysis::fit_tuned_probe(
                train_features.view(),
                train_labels.view(),
                test_features.view(),
                test_labels.view(),
                &choice,
                &solver,
                seed,
            )
        })
        .map_err(analysis_error)?;
    to_python(py, &probe)
}

/// For every direction (row of `k x d1`) with its threshold: the correlation of the thresholded projections of a pair of views.
#[pyfunction]
pub(crate) fn decoupling_meter(
    py: Python<'_>,
    directions: &Bound<'_, PyAny>,
    thresholds: &Bound<'_, PyAny>,
    first: &Bound<'_, PyAny>,
    second: &Bound<'_, PyAny>,
) -> PyResult<Py<PyAny>> {
    let directions = matrix(directions, "directions", None)?;
    let d1 = Some(directions.ncols());
    let thresholds: Vec<f64> = vector(thresholds, "thresholds", Some(directions.nrows()))?.iter().map(|&b| f64::from(b)).collect();
    let first = matrix(first, "first", d1)?;
    let second = matrix(second, "second", d1)?;
    if first.dim() != second.dim() {
        return Err(PyValueError::new_err(format!("second: expected shape {:?} (as first), got {:?}", first.shape(), second.shape())));
    }
    let meters = analysis::decoupling_meter(directions.view(), &thresholds, first.view(), second.view()).map_err(analysis_error)?;
    to_python(py, &meters)
}

/// The top-`k` generalised eigenvectors of `(cross, second_moment)`.
#[pyfunction]
pub(crate) fn linear_oracle(py: Python<'_>, cross: &Bound<'_, PyAny>, second_moment: &Bound<'_, PyAny>, k: usize) -> PyResult<Py<PyAny>> {
    let cross = convert::matrix_f64(cross, "cross", None)?;
    let second_moment = convert::matrix_f64(second_moment, "second_moment", Some(cross.ncols()))?;
    let oracle = analysis::linear_oracle(cross.view(), second_moment.view(), k).map_err(analysis_error)?;
    to_python(py, &oracle)
}
