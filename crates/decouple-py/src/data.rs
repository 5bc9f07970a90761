//! Data: `Batch`, `SparseCodingModel` (docs/model.md §1, its dictionary drawn
//! as a run of the same seed draws it) and `Samples` (real data from a file or
//! an array, preprocessed as a config's `data.preprocess` says).

use std::path::PathBuf;

use decouple_data::{FileData, ImageShape, Preprocess};
use ndarray::Array2;
use numpy::{PyArray1, PyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::json;

use crate::convert::{self, matrix, out1, out2};

/// Samples of the data model: `x = sparse + dense`, `sparse = z diag(alpha) M^T`, `dense = xi`.
#[pyclass(module = "decouple._core", frozen)]
pub(crate) struct Batch {
    pub(crate) inner: decouple_data::Batch,
}

impl Batch {
    fn array(py: Python<'_>, view: ndarray::ArrayView2<'_, f32>) -> Py<PyArray2<f32>> {
        out2(py, view.to_owned())
    }

    /// A Python batch or a plain array as the engine's batch.
    pub(crate) fn of(obj: &Bound<'_, PyAny>, name: &str, d1: Option<usize>) -> PyResult<decouple_data::Batch> {
        if let Ok(batch) = obj.cast::<Batch>() {
            let inner = &batch.get().inner;
            if let Some(d1) = d1.filter(|&d1| d1 != inner.d1()) {
                return Err(PyValueError::new_err(format!("{name}: expected samples of width {d1}, got {}", inner.d1())));
            }
            return Ok(inner.clone());
        }
        Ok(decouple_data::Batch::from_samples(matrix(obj, name, d1)?))
    }
}

#[pymethods]
impl Batch {
    /// A batch of samples `x` (`n x d1`); with their parts when known (else `sparse = 0`, `dense = x`, `z` empty).
    #[new]
    #[pyo3(signature = (x, sparse = None, dense = None))]
    fn new(x: &Bound<'_, PyAny>, sparse: Option<&Bound<'_, PyAny>>, dense: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let x = matrix(x, "x", None)?;
        let inner = match (sparse, dense) {
            (None, None) => decouple_data::Batch::from_samples(x),
            (Some(sparse), Some(dense)) => {
                let d1 = x.ncols();
                let (sparse, dense) = (matrix(sparse, "sparse", Some(d1))?, matrix(dense, "dense", Some(d1))?);
                let batch = decouple_data::Batch::from_parts(Array2::zeros((x.nrows(), 0)), sparse, dense)
                    .map_err(|error| convert::input_error(&error))?;
                let worst = (&batch.x() - &x).iter().fold(0.0f32, |worst, value| worst.max(value.abs()));
                if worst > 1e-5 * (1.0 + x.iter().fold(0.0f32, |max, value| max.max(value.abs()))) {
                    return Err(PyValueError::new_err(format!("x: must equal sparse + dense (largest difference {worst:e})")));
                }
                batch
            }
            _ => return Err(PyValueError::new_err("sparse, dense: give both parts or neither")),
        };
        Ok(Self { inner })
    }

    /// Number of samples.
    #[getter]
    fn n(&self) -> usize {
        self.inner.n()
    }

    /// `n x d1` samples.
    #[getter]
    fn x(&self, py: Python<'_>) -> Py<PyArray2<f32>> {
        Self::array(py, self.inner.x())
    }

    /// `n x d` sparse latents in `{-1, 0, +1}`.
    #[getter]
    fn z(&self, py: Python<'_>) -> Py<PyArray2<f32>> {
        Self::array(py, self.inner.z())
    }

    /// `n x d1` sparse parts `M diag(alpha) z`.
    #[getter]
    fn sparse(&self, py: Python<'_>) -> Py<PyArray2<f32>> {
        Self::array(py, self.inner.sparse())
    }

    /// `n x d1` dense parts `xi`.
    #[getter]
    fn dense(&self, py: Python<'_>) -> Py<PyArray2<f32>> {
        Self::array(py, self.inner.dense())
    }

    fn __repr__(&self) -> String {
        format!("Batch(n={}, d={}, d1={})", self.inner.n(), self.inner.d(), self.inner.d1())
    }
}

/// The sparse-coding data model `x = M diag(alpha) z + xi`; `seed` draws `M` as a run of that seed does.
#[pyclass(module = "decouple._core", frozen)]
pub(crate) struct SparseCodingModel {
    pub(crate) inner: decouple_data::SparseCodingModel,
    seed: u64,
}

impl SparseCodingModel {
    /// The model of a resolved config (what a run of `config` at its seed trains on).
    pub(crate) fn of_config(config: &decouple_train::TrainConfig) -> PyResult<Option<Self>> {
        let Some(data) = config.data.model() else { return Ok(None) };
        let inner = decouple_data::SparseCodingModel::from_seed(*data, config.seed).map_err(|error| convert::input_error(&error))?;
        Ok(Some(Self { inner, seed: config.seed }))
    }
}

#[pymethods]
impl SparseCodingModel {
    #[new]
    #[pyo3(signature = (config = None, *, seed = 0, **fields))]
    fn new(config: Option<&Bound<'_, PyAny>>, seed: u64, fields: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let data = convert::table_with_fields(config, fields, false)?;
        let registry = decouple_train::Registry::default();
        let resolved =
            decouple_harness::config_file::load_document_with(json!({ "data": data, "seed": seed }), &cwd(), "data", &[], &registry)
                .map_err(|error| convert::harness_error(&error))?;
        Self::of_config(&resolved.train)?
            .ok_or_else(|| PyValueError::new_err("config: a data file is not the data model (use Samples for real data)"))
    }

    /// The seed that drew the dictionary.
    #[getter]
    fn seed(&self) -> u64 {
        self.seed
    }

    /// Number of sparse features.
    #[getter]
    fn d(&self) -> usize {
        self.inner.config().d
    }

    /// Ambient dimension.
    #[getter]
    fn d1(&self) -> usize {
        self.inner.config().d1
    }

    /// The `[data]` table, every field written out.
    #[getter]
    fn config(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        convert::to_python(py, self.inner.config())
    }

    /// The dictionary `M`, `d1 x d`, one unit-norm column per feature.
    #[getter(M)]
    fn dictionary(&self, py: Python<'_>) -> Py<PyArray2<f32>> {
        out2(py, self.inner.dictionary().matrix().to_owned())
    }

    /// The per-feature strengths `alpha_j`.
    #[getter]
    fn strengths(&self, py: Python<'_>) -> Py<PyArray1<f64>> {
        out1(py, ndarray::Array1::from(self.inner.strengths()))
    }

    /// `n` independent samples (stream `seed`): `x`, `z`, `sparse`, `dense`.
    #[pyo3(signature = (n, seed = 0))]
    fn sample(&self, py: Python<'_>, n: usize, seed: u64) -> Batch {
        let inner = py.detach(|| self.inner.sample(n, &mut decouple_data::rng::stream(seed, "python-sample")));
        Batch { inner }
    }

    fn __repr__(&self) -> String {
        format!("SparseCodingModel(d={}, d1={}, seed={})", self.d(), self.d1(), self.seed)
    }
}

pub(crate) fn cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_default()
}

/// Real data: an `n x d1` matrix of samples, optionally labelled and preprocessed.
#[pyclass(module = "decouple._core", frozen)]
pub(crate) struct Samples {
    inner: decouple_data::Samples,
}

fn path_of(obj: &Bound<'_, PyAny>) -> Option<PathBuf> {
    obj.extract::<PathBuf>().ok()
}

#[pymethods]
impl Samples {
    #[new]
    #[pyo3(signature = (source, *, labels = None, image = None, preprocess = None))]
    fn new(
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        labels: Option<&Bound<'_, PyAny>>,
        image: Option<(usize, usize)>,
        preprocess: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let preprocess: Preprocess = match preprocess {
            Some(table) if !table.is_none() => serde_json::from_value(convert::to_json(table, "preprocess")?)
                .map_err(|error| PyValueError::new_err(format!("preprocess: {error}")))?,
            _ => Preprocess::default(),
        };
        let image: Option<ImageShape> = image
            .map(|(height, width)| serde_json::from_value(json!({ "height": height, "width": width })))
            .transpose()
            .map_err(|error| PyValueError::new_err(format!("image: {error}")))?;
        let labels_path = labels.and_then(path_of);
        if let Some(path) = path_of(source) {
            let mut file = FileData::new(path);
            file.labels = labels_path;
            file.image = image;
            file.preprocess = preprocess;
            let mut inner = py.detach(|| file.load()).map_err(|error| convert::input_error(&error))?;
            if let Some(labels) = labels.filter(|labels| path_of(labels).is_none() && !labels.is_none()) {
                inner.labels = Some(label_vector(labels, inner.n())?);
            }
            return Ok(Self { inner });
        }
        let x = matrix(source, "source", None)?;
        let labels = match labels {
            Some(labels) if !labels.is_none() => Some(match path_of(labels) {
                Some(path) => decouple_data::read_labels(&path, x.nrows()).map_err(|error| convert::input_error(&error))?,
                None => label_vector(labels, x.nrows())?,
            }),
            _ => None,
        };
        let samples = decouple_data::Samples::new(x, labels, image, "array").map_err(|error| convert::input_error(&error))?;
        let fitted = preprocess.fit(samples.x.view()).map_err(|error| convert::input_error(&error))?;
        let x = fitted.apply(samples.x.view());
        let inner = decouple_data::Samples::new(x, samples.labels, samples.image, "array").map_err(|error| convert::input_error(&error))?;
        Ok(Self { inner })
    }

    /// The samples after preprocessing, `n x d1`.
    #[getter]
    fn x(&self, py: Python<'_>) -> Py<PyArray2<f32>> {
        out2(py, self.inner.x.clone())
    }

    /// One integer label per sample, if given.
    #[getter]
    fn labels(&self, py: Python<'_>) -> Option<Py<PyArray1<i64>>> {
        self.inner.labels.as_ref().map(|labels| out1(py, ndarray::Array1::from(labels.clone())))
    }

    /// Number of samples.
    #[getter]
    fn n(&self) -> usize {
        self.inner.n()
    }

    /// Width of a sample.
    #[getter]
    fn d1(&self) -> usize {
        self.inner.d1()
    }

    fn __repr__(&self) -> String {
        format!("Samples(n={}, d1={}, source={:?})", self.inner.n(), self.inner.d1(), self.inner.source)
    }
}

/// Integer labels from an array (one per sample).
fn label_vector(labels: &Bound<'_, PyAny>, n: usize) -> PyResult<Vec<i64>> {
    let values: Vec<i64> = labels
        .py()
        .import("numpy")?
        .call_method1("asarray", (labels,))?
        .call_method0("ravel")?
        .call_method0("tolist")?
        .extract()
        .map_err(|_| PyValueError::new_err("labels: expected integer labels"))?;
    if values.len() != n {
        return Err(PyValueError::new_err(format!("labels: expected shape ({n},), got ({},)", values.len())));
    }
    Ok(values)
}
