//! Augmentations: `Augmentation` (a built-in, or any kind a config may name,
//! applied to a batch; its decoupling statistics `rho` in closed form and by
//! Monte Carlo).

use decouple_augment::{AnyAugmentation, Augment, Component, View as EngineView, decoupling};
use ndarray::Array2;
use numpy::PyArray2;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::{Value, json};

use crate::convert::{self, out2};
use crate::data::{Batch, SparseCodingModel, cwd};
use crate::session::Session;

/// One view of a batch, part by part: `x = sparse + dense`.
#[pyclass(module = "decouple._core", frozen)]
pub(crate) struct View {
    inner: EngineView,
}

#[pymethods]
impl View {
    /// The view of the samples.
    #[getter]
    fn x(&self, py: Python<'_>) -> Py<PyArray2<f32>> {
        out2(py, self.inner.x().to_owned())
    }

    /// The view of the sparse parts.
    #[getter]
    fn sparse(&self, py: Python<'_>) -> Py<PyArray2<f32>> {
        out2(py, self.inner.sparse().to_owned())
    }

    /// The view of the dense parts.
    #[getter]
    fn dense(&self, py: Python<'_>) -> Py<PyArray2<f32>> {
        out2(py, self.inner.dense().to_owned())
    }
}

fn component(name: &str) -> PyResult<Component> {
    match name {
        "sparse" => Ok(Component::Sparse),
        "dense" => Ok(Component::Dense),
        other => Err(PyValueError::new_err(format!("component: expected \"sparse\" or \"dense\", got {other:?}"))),
    }
}

/// An augmentation a config may name (a built-in, or a kind registered from Python):
/// `Augmentation("ComplementaryMask", keep=0.5)`.
#[pyclass(module = "decouple._core", frozen)]
pub(crate) struct Augmentation {
    inner: AnyAugmentation,
    config: Value,
    /// Where a registered Python kind puts its exception (re-raised as itself).
    session: std::sync::Arc<Session>,
}

impl Augmentation {
    /// An engine error as the exception a Python part raised, if one did, else as `ValueError`.
    fn error(&self, error: &(dyn std::error::Error + 'static)) -> PyErr {
        self.session.take_failure().unwrap_or_else(|| convert::input_error(error))
    }
}

#[pymethods]
impl Augmentation {
    #[new]
    #[pyo3(signature = (config = None, **fields))]
    fn new(py: Python<'_>, config: Option<&Bound<'_, PyAny>>, fields: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let table = convert::table_with_fields(config, fields, true)?;
        let session = Session::new();
        let registry = crate::registry::build(py, &session, &[])?;
        let resolved =
            decouple_harness::config_file::load_document_with(json!({ "augmentation": table }), &cwd(), "augmentation", &[], &registry)
                .map_err(|error| convert::harness_error(&error))?;
        let inner = registry.augmentation(&resolved.train.augmentation).map_err(|error| convert::input_error(&error))?;
        let config = serde_json::to_value(&resolved.train.augmentation).unwrap_or(Value::Null);
        Ok(Self { inner, config, session })
    }

    /// A short label, e.g. `ComplementaryMask(0.5)`.
    #[getter]
    fn label(&self) -> String {
        self.inner.label()
    }

    /// Views per sample.
    #[getter]
    fn n_views(&self) -> usize {
        self.inner.n_views()
    }

    /// The `[augmentation]` table, every field written out.
    #[getter]
    fn config(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        convert::to_python(py, &self.config)
    }

    /// The `V` views of `batch` (stream `seed`).
    #[pyo3(signature = (batch, seed = 0))]
    fn views(&self, py: Python<'_>, batch: &Bound<'_, PyAny>, seed: u64) -> PyResult<Vec<View>> {
        let batch = Batch::of(batch, "batch", None)?;
        let views = py
            .detach(|| self.inner.views(&batch, &mut decouple_data::rng::stream(seed, "python-views")))
            .map_err(|error| self.error(&error))?;
        Ok(views.into_iter().map(|inner| View { inner }).collect())
    }

    /// `rho(w) = E[<w, a+><w, a++>] / sqrt(E<w, a+>^2 E<w, a++>^2)` of the part `a` (`"sparse"`: `M z`,
    /// `"dense"`: `xi`) of the two views, in closed form; `None` without variance along `w` or without a closed form.
    #[pyo3(signature = (model, w, component = "sparse"))]
    fn closed_form(&self, model: &SparseCodingModel, w: &Bound<'_, PyAny>, component: &str) -> PyResult<Option<f64>> {
        let w = convert::vector(w, "w", Some(model.inner.config().d1))?.mapv(f64::from);
        Ok(decoupling::closed_form(&model.inner, &self.inner, self::component(component)?, w.view()))
    }

    /// The Monte Carlo `rho(w)` (as `closed_form`) of every row `w` of `directions` (`k x d1`, or one `d1`
    /// vector) from `n_samples` positive pairs, with its delta-method standard error: `[(rho, se) or None, ...]`.
    #[pyo3(signature = (model, directions, n_samples = 20000, seed = 0, component = "sparse"))]
    fn monte_carlo(
        &self,
        py: Python<'_>,
        model: &SparseCodingModel,
        directions: &Bound<'_, PyAny>,
        n_samples: usize,
        seed: u64,
        component: &str,
    ) -> PyResult<Vec<Option<(f64, f64)>>> {
        let d1 = model.inner.config().d1;
        let directions: Array2<f64> = match convert::vector(directions, "directions", Some(d1)) {
            Ok(vector) => vector.mapv(f64::from).insert_axis(ndarray::Axis(0)),
            Err(_) => convert::matrix(directions, "directions", Some(d1))?.mapv(f64::from),
        };
        let component = self::component(component)?;
        let accumulator = py
            .detach(|| {
                decoupling::monte_carlo(
                    &model.inner,
                    &self.inner,
                    directions.view(),
                    n_samples,
                    &mut decouple_data::rng::stream(seed, "python-rho"),
                )
            })
            .map_err(|error| self.error(&error))?;
        Ok(accumulator.estimates(component).into_iter().map(|estimate| estimate.map(|e| (e.rho, e.standard_error))).collect())
    }

    fn __repr__(&self) -> String {
        format!("Augmentation({})", self.inner.label())
    }
}
