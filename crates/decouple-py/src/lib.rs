//! The extension module `decouple._core` of the Python package `decouple`:
//! the Rust engine (data model, augmentations, network, objectives, trainer,
//! evaluation, run folders, sweeps, experiments) driven from Python, with
//! your own objective or augmentation as a Python callable. The package's
//! Python files (`python/decouple/`) re-export it and add the PyTorch
//! adapter; `python/decouple/_core.pyi` types every name.
//!
//! Every call that trains or evaluates runs without the GIL ([`session`]); the
//! user's functions take it only while they run.

mod analysis;
mod augment;
mod commands;
mod convert;
mod data;
mod objective;
mod py_augmentation;
mod registry;
mod run;
mod session;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::registry::{PartField, REGISTRATIONS, Registration};

/// Records a registration made from Python (checked now against the built-ins and the earlier ones).
fn register(py: Python<'_>, field: PartField, kind: String, factory: Py<PyAny>, defaults: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    if !factory.bind(py).is_callable() {
        return Err(PyValueError::new_err(format!("factory: expected a callable making the `{kind}` part from its fields")));
    }
    let defaults = match defaults {
        Some(defaults) if !defaults.is_none() => convert::to_json(defaults, "defaults")?,
        _ => serde_json::Value::Null,
    };
    let registration = Registration { field, kind, factory, defaults, instance: false };
    // A registry with it must be buildable: a built-in or twice-registered kind is refused here, not at the first run.
    registry::build(py, &session::Session::new(), std::slice::from_ref(&registration))?;
    REGISTRATIONS.lock().expect("registrations lock").push(registration);
    Ok(())
}

/// Names your objective in configs and sweeps: `objective = { kind = "KIND", ... }` calls `factory(**fields)`.
#[pyfunction]
#[pyo3(signature = (kind, factory, defaults = None))]
fn register_objective(py: Python<'_>, kind: String, factory: Py<PyAny>, defaults: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    register(py, PartField::Objective, kind, factory, defaults)
}

/// Names your augmentation in configs and sweeps, as `register_objective`.
#[pyfunction]
#[pyo3(signature = (kind, factory, defaults = None))]
fn register_augmentation(py: Python<'_>, kind: String, factory: Py<PyAny>, defaults: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    register(py, PartField::Augmentation, kind, factory, defaults)
}

/// The kinds registered from Python: `{"objective": [...], "augmentation": [...]}`.
#[pyfunction]
fn registered(py: Python<'_>) -> PyResult<Py<PyAny>> {
    // The kinds are copied out and the lock released before any Python runs (which may hand the GIL to a
    // thread that waits for this lock).
    let kinds = {
        let registrations = REGISTRATIONS.lock().expect("registrations lock");
        let of = |field| registrations.iter().filter(|r| r.field == field).map(|r| r.kind.clone()).collect::<Vec<_>>();
        serde_json::json!({ "objective": of(PartField::Objective), "augmentation": of(PartField::Augmentation) })
    };
    convert::to_python(py, &kinds)
}

/// Panics inside the engine, as a bug would: for the test that a panic is a Python exception, never an abort.
#[pyfunction]
fn _panic_in_engine(py: Python<'_>) -> PyResult<()> {
    let session = session::Session::new();
    session::run_detached(py, &session, || -> () { panic!("a panic raised on purpose by _panic_in_engine") })
}

#[pymodule]
fn _core(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add("DecoupleError", module.py().get_type::<convert::DecoupleError>())?;
    module.add_class::<data::Batch>()?;
    module.add_class::<data::SparseCodingModel>()?;
    module.add_class::<data::Samples>()?;
    module.add_class::<augment::View>()?;
    module.add_class::<augment::Augmentation>()?;
    module.add_class::<run::Run>()?;
    module.add_function(wrap_pyfunction!(register_objective, module)?)?;
    module.add_function(wrap_pyfunction!(register_augmentation, module)?)?;
    module.add_function(wrap_pyfunction!(registered, module)?)?;
    module.add_function(wrap_pyfunction!(_panic_in_engine, module)?)?;
    module.add_function(wrap_pyfunction!(run::train, module)?)?;
    module.add_function(wrap_pyfunction!(run::load_run, module)?)?;
    module.add_function(wrap_pyfunction!(commands::run, module)?)?;
    module.add_function(wrap_pyfunction!(commands::sweep, module)?)?;
    module.add_function(wrap_pyfunction!(commands::reproduce, module)?)?;
    module.add_function(wrap_pyfunction!(commands::analyze, module)?)?;
    module.add_function(wrap_pyfunction!(commands::compare, module)?)?;
    module.add_function(wrap_pyfunction!(analysis::evaluate, module)?)?;
    module.add_function(wrap_pyfunction!(analysis::alignment, module)?)?;
    module.add_function(wrap_pyfunction!(analysis::recovery, module)?)?;
    module.add_function(wrap_pyfunction!(analysis::purity, module)?)?;
    module.add_function(wrap_pyfunction!(analysis::sparse_energy, module)?)?;
    module.add_function(wrap_pyfunction!(analysis::covariance_spectrum, module)?)?;
    module.add_function(wrap_pyfunction!(analysis::effective_rank, module)?)?;
    module.add_function(wrap_pyfunction!(analysis::probe, module)?)?;
    module.add_function(wrap_pyfunction!(analysis::decoupling_meter, module)?)?;
    module.add_function(wrap_pyfunction!(analysis::linear_oracle, module)?)?;
    Ok(())
}
