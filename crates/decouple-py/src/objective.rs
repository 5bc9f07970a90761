//! [`PyObjective`]: a Python callable `f(views) -> (L, [dL/dz_k])` as an
//! [`Objective`] the Rust trainer drives. The representations go to Python
//! as float32 arrays (`B x m`, one per view); the gradients come back checked:
//! one per view, of shape `B x m`, a float dtype, finite. A failure (an
//! exception, or a gradient that fails a check, a `ValueError` naming the
//! view and the step) stops the run and reaches the caller.

use std::sync::Arc;

use decouple_net::SymReluNet;
use decouple_train::{Inputs, Objective, ObjectiveInput, ObjectiveState, TrainConfig, TrainError};
use ndarray::Array2;
use numpy::PyArray2;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::session::Session;

/// The state of a Python objective: none on the Rust side (the object keeps its own).
pub(crate) struct NoState;

impl ObjectiveState for NoState {}

/// A Python objective (see the module doc).
pub(crate) struct PyObjective {
    object: Py<PyAny>,
    label: String,
    n_views: usize,
    session: Arc<Session>,
}

impl PyObjective {
    /// `object` with its optional `n_views` (default 2) and `label` (default `kind`).
    pub(crate) fn new(py: Python<'_>, object: Py<PyAny>, kind: &str, session: Arc<Session>) -> PyResult<Self> {
        let bound = object.bind(py);
        if !bound.is_callable() {
            return Err(PyValueError::new_err(format!("objective `{kind}`: expected a callable f(views) -> (loss, gradients)")));
        }
        let (n_views, label) = crate::convert::part_attributes(bound, kind)?;
        Ok(Self { object, label, n_views, session })
    }

    /// Calls the object on the representations and writes the checked gradients.
    fn call(&self, py: Python<'_>, input: &ObjectiveInput<'_>, gradients: &mut [Array2<f32>]) -> PyResult<f64> {
        let step = input.step();
        let views: Vec<Bound<'_, PyArray2<f32>>> =
            (0..input.n_inputs()).map(|k| PyArray2::from_array(py, &input.representation(k))).collect();
        let result = self.object.bind(py).call1((PyList::new(py, views)?,))?;
        let wrong = |what: String| PyValueError::new_err(format!("the objective `{}` at step {step}: {what}", self.label));
        let (loss, returned): (Bound<'_, PyAny>, Bound<'_, PyAny>) =
            result.extract().map_err(|_| wrong("expected a pair (loss, [dL/dz_k for each view])".to_string()))?;
        let loss: f64 = loss.extract().map_err(|_| wrong(format!("the loss is not a number: {loss}")))?;
        let returned: Vec<Bound<'_, PyAny>> = returned.try_iter()?.collect::<PyResult<_>>()?;
        if returned.len() != gradients.len() {
            return Err(wrong(format!("returned {} gradients, expected one per view ({})", returned.len(), gradients.len())));
        }
        let numpy = py.import("numpy")?;
        for (k, (gradient, buffer)) in returned.iter().zip(gradients.iter_mut()).enumerate() {
            let array = numpy.call_method1("asarray", (gradient,))?;
            let kind: String = array.getattr("dtype")?.getattr("kind")?.extract()?;
            if kind != "f" {
                return Err(wrong(format!("the gradient of view {k} has dtype {}, expected float32 or float64", array.getattr("dtype")?)));
            }
            let shape: Vec<usize> = array.getattr("shape")?.extract()?;
            if shape != [buffer.nrows(), buffer.ncols()] {
                return Err(wrong(format!(
                    "the gradient of view {k} has shape {shape:?}, expected ({}, {})",
                    buffer.nrows(),
                    buffer.ncols()
                )));
            }
            crate::convert::assign_matrix(&array, &format!("the gradient of view {k}"), buffer)
                .map_err(|_| wrong(format!("the gradient of view {k} is not finite")))?;
        }
        Ok(loss)
    }
}

impl Objective for PyObjective {
    type State = NoState;

    fn label(&self) -> String {
        self.label.clone()
    }

    fn inputs(&self) -> Inputs {
        Inputs::Views(self.n_views)
    }

    fn check(&self) -> Result<(), TrainError> {
        if self.n_views < 2 {
            return Err(TrainError::OutOfRange { field: "objective.n_views", value: self.n_views as f64, allowed: ">= 2" });
        }
        Ok(())
    }

    fn start(&self, _net: &SymReluNet<f32>, _config: &TrainConfig) -> Result<NoState, TrainError> {
        Ok(NoState)
    }

    fn value_and_gradients(
        &self,
        _state: &mut NoState,
        input: &ObjectiveInput<'_>,
        gradients: &mut [Array2<f32>],
    ) -> Result<f64, TrainError> {
        let step = input.step();
        Python::attach(|py| {
            self.call(py, input, gradients).map_err(|error| {
                self.session.fail(py, error, &format!("in the objective `{}` at step {step}", self.label));
                TrainError::Stopped { step }
            })
        })
    }
}
