//! Values across the boundary: NumPy arrays in (any real dtype, any layout,
//! checked once: ndim, shape, finiteness, each failure a `ValueError` naming
//! the argument and the expected shape), NumPy arrays out (C-contiguous), and
//! JSON-shaped data (configs, reports) both ways through Python's `json`.

use ndarray::{Array1, Array2, Ix2, NdFloat};
use numpy::{PyArray1, PyArray2, PyReadonlyArrayDyn, PyUntypedArrayMethods as _};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde::Serialize;
use serde_json::Value;

pyo3::create_exception!(
    _core,
    DecoupleError,
    PyRuntimeError,
    "A failure of the engine that is neither bad input (ValueError) nor I/O (OSError): a locked or incomplete run folder, a stale run, ..."
);

/// `obj` as a contiguous array of `T` (float32 and float64 converted once), read-only.
fn float_array<'py, T: numpy::Element>(obj: &Bound<'py, PyAny>, name: &str, dtype: &str) -> PyResult<PyReadonlyArrayDyn<'py, T>> {
    let numpy = obj.py().import("numpy")?;
    let array = numpy.call_method1("asarray", (obj,)).map_err(|_| PyValueError::new_err(format!("{name}: expected a numeric array")))?;
    let kind: String = array.getattr("dtype")?.getattr("kind")?.extract()?;
    if !matches!(kind.as_str(), "f" | "i" | "u" | "b") {
        return Err(PyValueError::new_err(format!(
            "{name}: expected a real (float or integer) array, got dtype {}",
            array.getattr("dtype")?
        )));
    }
    let kwargs = PyDict::new(obj.py());
    kwargs.set_item("dtype", numpy.getattr(dtype)?)?;
    let contiguous = numpy.call_method("ascontiguousarray", (array,), Some(&kwargs))?;
    contiguous.extract::<PyReadonlyArrayDyn<'py, T>>().map_err(|error| PyValueError::new_err(format!("{name}: {error}")))
}

fn check_finite<T: NdFloat>(values: &[T], name: &str) -> PyResult<()> {
    match values.iter().position(|value| !value.is_finite()) {
        Some(index) => Err(PyValueError::new_err(format!("{name} holds a non-finite value ({}) at flat index {index}", values[index]))),
        None => Ok(()),
    }
}

/// `obj` as an `n x cols` matrix of `T` (`cols` checked when given), finite.
fn matrix_of<T: numpy::Element + NdFloat>(obj: &Bound<'_, PyAny>, name: &str, cols: Option<usize>, dtype: &str) -> PyResult<Array2<T>> {
    let array = float_array::<T>(obj, name, dtype)?;
    let shape = array.shape().to_vec();
    let expected = cols.map_or("n x m".to_string(), |cols| format!("n x {cols}"));
    if shape.len() != 2 {
        return Err(PyValueError::new_err(format!(
            "{name}: expected a 2-d array ({expected}), got {}-d with shape {shape:?}",
            shape.len()
        )));
    }
    if let Some(cols) = cols.filter(|&cols| cols != shape[1]) {
        return Err(PyValueError::new_err(format!("{name}: expected shape ({}, {cols}), got {shape:?}", shape[0])));
    }
    let view = array.as_array();
    let values = view.as_slice().expect("ascontiguousarray gives a C-contiguous array");
    check_finite(values, name)?;
    Ok(Array2::from_shape_vec((shape[0], shape[1]), values.to_vec()).expect("the shape of a 2-d array"))
}

/// `obj` (float32 or float64, any layout) written into `out`, whose shape it must have, finite:
/// one conversion, no copy besides the one into `out` (a user's gradients, every step).
pub(crate) fn assign_matrix(obj: &Bound<'_, PyAny>, name: &str, out: &mut Array2<f32>) -> PyResult<()> {
    let array = float_array::<f32>(obj, name, "float32")?;
    let view = array.as_array().into_dimensionality::<Ix2>().ok().filter(|view| view.dim() == out.dim()).ok_or_else(|| {
        PyValueError::new_err(format!("{name}: expected shape ({}, {}), got {:?}", out.nrows(), out.ncols(), array.shape()))
    })?;
    check_finite(view.as_slice().expect("ascontiguousarray gives a C-contiguous array"), name)?;
    out.assign(&view);
    Ok(())
}

/// A table (`config`: a mapping, or a kind's name when `kind_name` says so) with keyword `fields` laid over it.
pub(crate) fn table_with_fields(config: Option<&Bound<'_, PyAny>>, fields: Option<&Bound<'_, PyDict>>, kind_name: bool) -> PyResult<Value> {
    let mut table = match config {
        Some(kind) if kind_name && kind.extract::<String>().is_ok() => serde_json::json!({ "kind": kind.extract::<String>()? }),
        Some(config) if !config.is_none() => to_json(config, "config")?,
        _ => serde_json::json!({}),
    };
    if let Some(fields) = fields {
        let fields = to_json(fields.as_any(), "fields")?;
        let (Some(table), Some(fields)) = (table.as_object_mut(), fields.as_object()) else {
            return Err(PyValueError::new_err("config: expected a mapping (a table of a config file)"));
        };
        table.extend(fields.iter().map(|(key, value)| (key.clone(), value.clone())));
    }
    Ok(table)
}

/// A Python part's optional attributes: `n_views` (default 2) and `label` (default `kind`).
pub(crate) fn part_attributes(part: &Bound<'_, PyAny>, kind: &str) -> PyResult<(usize, String)> {
    let n_views = match part.getattr("n_views") {
        Ok(value) => value.extract::<usize>()?,
        Err(_) => 2,
    };
    let label = part.getattr("label").and_then(|label| label.extract::<String>()).unwrap_or_else(|_| kind.to_string());
    Ok((n_views, label))
}

/// `obj` as an `n x cols` float32 matrix (`cols` checked when given), finite.
pub(crate) fn matrix(obj: &Bound<'_, PyAny>, name: &str, cols: Option<usize>) -> PyResult<Array2<f32>> {
    matrix_of(obj, name, cols, "float32")
}

/// `obj` as an `n x cols` float64 matrix, finite.
pub(crate) fn matrix_f64(obj: &Bound<'_, PyAny>, name: &str, cols: Option<usize>) -> PyResult<Array2<f64>> {
    matrix_of(obj, name, cols, "float64")
}

/// `obj` as a float32 vector of length `len` (when given), finite.
pub(crate) fn vector(obj: &Bound<'_, PyAny>, name: &str, len: Option<usize>) -> PyResult<Array1<f32>> {
    let array = float_array::<f32>(obj, name, "float32")?;
    let shape = array.shape().to_vec();
    let expected = len.map_or("n".to_string(), |len| len.to_string());
    if shape.len() != 1 || len.is_some_and(|len| len != shape[0]) {
        return Err(PyValueError::new_err(format!("{name}: expected shape ({expected},), got {shape:?}")));
    }
    let view = array.as_array();
    let values = view.as_slice().expect("ascontiguousarray gives a C-contiguous array");
    check_finite(values, name)?;
    Ok(Array1::from(values.to_vec()))
}

/// A matrix out, C-contiguous.
pub(crate) fn out2<T: numpy::Element>(py: Python<'_>, array: Array2<T>) -> Py<PyArray2<T>> {
    PyArray2::from_owned_array(py, array).unbind()
}

/// A vector out.
pub(crate) fn out1<T: numpy::Element>(py: Python<'_>, array: Array1<T>) -> Py<PyArray1<T>> {
    PyArray1::from_owned_array(py, array).unbind()
}

/// JSON-shaped Rust data as Python objects (dicts, lists, floats, ...).
pub(crate) fn to_python<T: Serialize + ?Sized>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    let text = serde_json::to_string(value).map_err(|error| PyRuntimeError::new_err(format!("serialising a result: {error}")))?;
    Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
}

/// A Python object (a dict of a config, a list, ...) as JSON (`allow_nan` off: NaN is not data).
pub(crate) fn to_json(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Value> {
    let kwargs = PyDict::new(obj.py());
    kwargs.set_item("allow_nan", false)?;
    let text: String = obj
        .py()
        .import("json")?
        .call_method("dumps", (obj,), Some(&kwargs))
        .map_err(|error| PyValueError::new_err(format!("{name}: not JSON-shaped data ({error})")))?
        .extract()?;
    serde_json::from_str(&text).map_err(|error| PyValueError::new_err(format!("{name}: {error}")))
}

/// A harness error as the Python exception a caller expects: bad input is
/// `ValueError`, file-system trouble `OSError`, the rest `DecoupleError`.
pub(crate) fn harness_error(error: &decouple_harness::HarnessError) -> PyErr {
    use decouple_harness::HarnessError as E;
    fn innermost(error: &E) -> &E {
        match error {
            E::In { error, .. } => innermost(error),
            other => other,
        }
    }
    let message = decouple_harness::chain(error);
    match innermost(error) {
        E::Invalid { .. } | E::Evaluation(_) => PyValueError::new_err(message),
        E::Io { .. } | E::Unwritable { .. } => PyOSError::new_err(message),
        _ => DecoupleError::new_err(message),
    }
}

/// Any other error of the engine, as `DecoupleError` with its causes.
pub(crate) fn engine_error(error: &(dyn std::error::Error + 'static)) -> PyErr {
    DecoupleError::new_err(decouple_harness::chain(error))
}

/// An error of bad input (a config field out of range, shapes), as `ValueError` with its causes.
pub(crate) fn input_error(error: &(dyn std::error::Error + 'static)) -> PyErr {
    PyValueError::new_err(decouple_harness::chain(error))
}
