//! The registry of one call from Python: the built-ins, every part
//! registered from Python in this process (`register_objective`,
//! `register_augmentation`: a factory called with a config table's fields)
//! and the parts passed directly to `train`; the Python parts report their
//! failures to the call's [`Session`].

use std::sync::{Arc, Mutex};

use decouple_train::Registry;
use pyo3::prelude::*;
use serde_json::Value;

use crate::session::Session;

/// Which part a Python registration makes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum PartField {
    Objective,
    Augmentation,
}

/// `register_objective` / `register_augmentation`: a factory called with the table's fields.
pub(crate) struct Registration {
    pub(crate) field: PartField,
    pub(crate) kind: String,
    pub(crate) factory: Py<PyAny>,
    pub(crate) defaults: Value,
    /// `factory` is the part itself (passed directly to `train`), not a factory.
    pub(crate) instance: bool,
}

/// Every registration made from Python in this process, in order.
pub(crate) static REGISTRATIONS: Mutex<Vec<Registration>> = Mutex::new(Vec::new());

/// The built-ins, the Python registrations (whose parts report to `session`)
/// and `extra` (a part passed directly to `train`).
pub(crate) fn build(py: Python<'_>, session: &Arc<Session>, extra: &[Registration]) -> PyResult<Registry> {
    let mut registry = Registry::default();
    let registrations = REGISTRATIONS.lock().expect("registrations lock");
    for registration in registrations.iter().chain(extra) {
        let factory = registration.factory.clone_ref(py);
        let session = session.clone();
        let kind = registration.kind.clone();
        let instance = registration.instance;
        let result = match registration.field {
            PartField::Objective => registry
                .register_objective_with(&registration.kind, registration.defaults.clone(), move |params| {
                    Python::attach(|py| {
                        let object = part_object(py, &factory, instance, params)?;
                        crate::objective::PyObjective::new(py, object, &kind, session.clone()).map_err(|error| error.to_string())
                    })
                })
                .map(|_| ()),
            PartField::Augmentation => registry
                .register_augmentation_with(&registration.kind, registration.defaults.clone(), move |params| {
                    Python::attach(|py| {
                        let object = part_object(py, &factory, instance, params)?;
                        crate::py_augmentation::PyAugmentation::new(py, object, &kind, session.clone()).map_err(|error| error.to_string())
                    })
                })
                .map(|_| ()),
        };
        result.map_err(|error| crate::convert::input_error(&error))?;
    }
    Ok(registry)
}

/// The part itself (`instance`), or `factory(**params)`; a Python error as its message.
fn part_object(py: Python<'_>, factory: &Py<PyAny>, instance: bool, params: &Value) -> Result<Py<PyAny>, String> {
    if instance {
        return Ok(factory.clone_ref(py));
    }
    let kwargs = crate::convert::to_python(py, params).map_err(|error| error.to_string())?;
    let kwargs = kwargs.bind(py);
    let kwargs = if kwargs.is_none() {
        pyo3::types::PyDict::new(py)
    } else {
        kwargs.cast::<pyo3::types::PyDict>().map_err(|error| error.to_string())?.clone()
    };
    factory.bind(py).call((), Some(&kwargs)).map(Bound::unbind).map_err(|error| error.to_string())
}
