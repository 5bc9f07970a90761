//! Training from Python: `train` (one run in memory, through the same
//! pipeline as `decouple run`), the `Run` it returns, `Run.save` (the same
//! folder as the CLI) and `load_run` (any run folder).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use decouple_harness::config_file::{self, RunConfig};
use decouple_harness::run_folder::{self, Origin};
use decouple_harness::training::{HistoryPoint, RunRecord, RunSpec};
use decouple_train::Checkpoint;
use ndarray::Array2;
use numpy::{PyArray1, PyArray2, PyArrayDyn};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::{Value, json};

use crate::convert::{self, out1, out2};
use crate::registry::{PartField, Registration};
use crate::session::{self, Session};

/// A trained run: what `decouple run` writes in a run folder, in memory.
#[pyclass(module = "decouple._core")]
pub(crate) struct Run {
    config: Value,
    hash: String,
    label: String,
    error: Option<String>,
    checkpoint: Option<Checkpoint>,
    history: Vec<HistoryPoint>,
    report: Value,
    summary: Option<Value>,
    dir: Option<PathBuf>,
    /// What `save` writes (runs trained in this process).
    unsaved: Option<Box<(RunConfig, RunRecord)>>,
}

/// The config as a config file would write it: the training fields and the `evaluation` table.
fn config_document(train: &Value, evaluation: &Value) -> Value {
    let mut document = train.clone();
    if let Some(map) = document.as_object_mut() {
        map.insert("evaluation".into(), evaluation.clone());
    }
    document
}

fn report_of(record: &RunRecord) -> Value {
    match (&record.report, &record.sample_report) {
        (Some(report), _) => serde_json::to_value(report).unwrap_or(Value::Null),
        (None, Some(report)) => serde_json::to_value(report).unwrap_or(Value::Null),
        (None, None) => Value::Null,
    }
}

impl Run {
    fn trained(config: RunConfig, record: RunRecord, checkpoint: Option<Checkpoint>, label: String) -> Self {
        let document = config_document(
            &serde_json::to_value(&config.train).unwrap_or(Value::Null),
            &serde_json::to_value(&config.evaluation).unwrap_or(Value::Null),
        );
        Self {
            config: document,
            hash: config.hash(),
            label,
            error: record.error.clone(),
            checkpoint,
            history: record.history.clone(),
            report: report_of(&record),
            summary: None,
            dir: None,
            unsaved: Some(Box::new((config, record))),
        }
    }

    /// A complete run folder.
    pub(crate) fn load(dir: &Path) -> PyResult<Self> {
        let read = |name: &str| -> PyResult<Value> {
            let path = dir.join(name);
            let text = std::fs::read_to_string(&path).map_err(|error| {
                crate::convert::DecoupleError::new_err(format!("{}: not a complete run folder ({error})", path.display()))
            })?;
            serde_json::from_str(&text).map_err(|error| PyValueError::new_err(format!("{}: {error}", path.display())))
        };
        let config = read("config.json")?;
        let summary = read("summary.json")?;
        let progress = read("progress.json").ok();
        if progress.as_ref().and_then(|progress| progress.get("state")).and_then(Value::as_str).is_some_and(|state| state != "complete") {
            return Err(crate::convert::DecoupleError::new_err(format!(
                "{} is not complete (progress.json says {}): run it again to finish it",
                dir.display(),
                progress.map(|p| p["state"].to_string()).unwrap_or_default()
            )));
        }
        let checkpoint_path = dir.join("checkpoint.json");
        let checkpoint = if checkpoint_path.is_file() {
            Some(Checkpoint::load(&checkpoint_path).map_err(|error| convert::engine_error(&error))?)
        } else {
            None
        };
        let field = |value: &Value, name: &str| value.get(name).cloned().unwrap_or(Value::Null);
        let report = match summary.get("report") {
            Some(report) if !report.is_null() => report.clone(),
            _ => field(&summary, "sample_report"),
        };
        Ok(Self {
            config: config_document(&field(&config, "config"), &field(&config, "evaluation")),
            hash: field(&config, "config_hash").as_str().unwrap_or_default().to_string(),
            label: field(&config, "name").as_str().unwrap_or_default().to_string(),
            error: field(&summary, "error").as_str().map(str::to_string),
            checkpoint,
            history: decouple_harness::analyze::read_history(dir),
            report,
            summary: Some(summary),
            dir: Some(dir.to_path_buf()),
            unsaved: None,
        })
    }
}

/// The history as columns: one array per scalar field (NaN where not measured),
/// `best_per_feature` as `steps x d`, the objective's scalars as `objective.NAME`.
fn history_columns(py: Python<'_>, history: &[HistoryPoint]) -> PyResult<Py<PyDict>> {
    let columns = PyDict::new(py);
    let rows: Vec<Value> = history.iter().map(|point| serde_json::to_value(point).unwrap_or(Value::Null)).collect();
    let mut scalar: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let number = |value: Option<&Value>| value.and_then(Value::as_f64).unwrap_or(f64::NAN);
    for (index, row) in rows.iter().enumerate() {
        let Some(map) = row.as_object() else { continue };
        for (key, value) in map {
            match value {
                Value::Object(objective) => {
                    for (name, value) in objective {
                        scalar.entry(format!("{key}.{name}")).or_insert_with(|| vec![f64::NAN; rows.len()])[index] = number(Some(value));
                    }
                }
                Value::Array(_) => {}
                _ => scalar.entry(key.clone()).or_insert_with(|| vec![f64::NAN; rows.len()])[index] = number(Some(value)),
            }
        }
    }
    for (key, values) in scalar {
        if key == "step" || key == "n_live" {
            columns.set_item(key, out1(py, ndarray::Array1::from(values.iter().map(|&v| v as i64).collect::<Vec<_>>())))?;
        } else {
            columns.set_item(key, out1(py, ndarray::Array1::from(values)))?;
        }
    }
    let width = history.iter().map(|point| point.best_per_feature.len()).max().unwrap_or(0);
    let mut best = Array2::from_elem((history.len(), width), f64::NAN);
    for (row, point) in history.iter().enumerate() {
        for (column, value) in point.best_per_feature.iter().enumerate() {
            best[[row, column]] = *value;
        }
    }
    columns.set_item("best_per_feature", out2(py, best))?;
    Ok(columns.unbind())
}

#[pymethods]
impl Run {
    /// The resolved config, as a config file would write it.
    #[getter]
    fn config(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        convert::to_python(py, &self.config)
    }

    /// The config hash (the folder name's suffix).
    #[getter]
    fn hash(&self) -> &str {
        &self.hash
    }

    /// The run's name.
    #[getter]
    fn label(&self) -> &str {
        &self.label
    }

    /// `"ok"`, or `"failed"` (diverged or not evaluated; see `error`).
    #[getter]
    fn status(&self) -> &str {
        if self.report.is_null() { "failed" } else { "ok" }
    }

    /// Why it failed, if it did.
    #[getter]
    fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// `W`, `m x d1` (None if the run did not train to the end).
    #[getter]
    fn weights(&self, py: Python<'_>) -> Option<Py<PyArray2<f32>>> {
        self.checkpoint.as_ref().map(|checkpoint| out2(py, checkpoint.net.weights().to_owned()))
    }

    /// `b`, `m`.
    #[getter]
    fn thresholds(&self, py: Python<'_>) -> Option<Py<PyArray1<f32>>> {
        self.checkpoint.as_ref().map(|checkpoint| out1(py, checkpoint.net.bias().to_owned()))
    }

    /// `M` (`d1 x d`) on the data model, else None.
    #[getter]
    fn dictionary(&self, py: Python<'_>) -> PyResult<Option<Py<PyArray2<f32>>>> {
        let Some(checkpoint) = &self.checkpoint else { return Ok(None) };
        let Some(model) = crate::data::SparseCodingModel::of_config(&checkpoint.config)? else { return Ok(None) };
        Ok(Some(out2(py, model.inner.dictionary().matrix().to_owned())))
    }

    /// The objective's state by name.
    #[getter]
    fn state(&self, py: Python<'_>) -> PyResult<Py<PyDict>> {
        let state = PyDict::new(py);
        if let Some(checkpoint) = &self.checkpoint {
            for (name, tensor) in &checkpoint.objective_state.tensors {
                let array: Py<PyAny> = match &tensor.data {
                    decouple_train::TensorData::F32(values) => PyArrayDyn::from_owned_array(
                        py,
                        ndarray::ArrayD::from_shape_vec(tensor.shape.clone(), values.clone()).map_err(shape_error)?,
                    )
                    .into_any()
                    .unbind(),
                    decouple_train::TensorData::F64(values) => PyArrayDyn::from_owned_array(
                        py,
                        ndarray::ArrayD::from_shape_vec(tensor.shape.clone(), values.clone()).map_err(shape_error)?,
                    )
                    .into_any()
                    .unbind(),
                };
                state.set_item(name, array)?;
            }
        }
        Ok(state.unbind())
    }

    /// The logged steps as columns.
    #[getter]
    fn history(&self, py: Python<'_>) -> PyResult<Py<PyDict>> {
        history_columns(py, &self.history)
    }

    /// `summary.json`'s `report` (the data model) or `sample_report` (a data file); None if it failed.
    #[getter]
    fn report(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        convert::to_python(py, &self.report)
    }

    /// The whole `summary.json` (None until saved).
    #[getter]
    fn summary(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        convert::to_python(py, &self.summary)
    }

    /// The run folder it was loaded from or saved to.
    #[getter]
    fn dir(&self) -> Option<String> {
        self.dir.as_ref().map(|dir| dir.display().to_string())
    }

    /// Writes the run folder `decouple run` writes; returns it.
    fn save(&mut self, py: Python<'_>, dir: PathBuf) -> PyResult<String> {
        let Some(unsaved) = &self.unsaved else {
            let from = self.dir.as_ref().ok_or_else(|| PyValueError::new_err("this run has nothing to save"))?;
            run_folder::copy_run(from, &dir).map_err(|error| convert::harness_error(&error))?;
            self.dir = Some(dir.clone());
            return Ok(dir.display().to_string());
        };
        let (config, record) = &**unsaved;
        let origin = Origin { file: "<python>".to_string(), edits: Vec::new(), sweep: None };
        let checkpoint = self.checkpoint.as_ref();
        let summary = py
            .detach(|| run_folder::write_run(&dir, config, &origin, record, checkpoint))
            .map_err(|error| convert::harness_error(&error))?;
        self.summary = Some(serde_json::to_value(&summary).unwrap_or(Value::Null));
        self.label = summary.name.clone();
        self.dir = Some(dir.clone());
        Ok(dir.display().to_string())
    }

    fn __repr__(&self) -> String {
        let best =
            self.report.get("median_best").and_then(Value::as_f64).map_or(String::new(), |best| format!(", median best_j {best:.3}"));
        format!("Run({}, {}{best})", if self.label.is_empty() { &self.hash } else { &self.label }, self.status())
    }
}

fn shape_error(error: ndarray::ShapeError) -> PyErr {
    PyValueError::new_err(format!("a state tensor does not fit its shape: {error}"))
}

/// The label of a part passed directly: its `label` attribute, else its class name.
fn part_label(object: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(label) = object.getattr("label").and_then(|label| label.extract::<String>()) {
        return Ok(label);
    }
    object.get_type().name()?.extract()
}

/// A config argument as a document and the folder its paths resolve against.
pub(crate) fn document(config: Option<&Bound<'_, PyAny>>) -> PyResult<(Value, PathBuf, String)> {
    let Some(config) = config.filter(|config| !config.is_none()) else {
        return Ok((json!({}), crate::data::cwd(), "config".to_string()));
    };
    if let Ok(path) = config.extract::<PathBuf>() {
        let document = config_file::read_document(&path).map_err(|error| convert::harness_error(&error))?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        return Ok((document, dir, path.display().to_string()));
    }
    Ok((convert::to_json(config, "config")?, crate::data::cwd(), "config".to_string()))
}

/// Trains and evaluates one run in memory, through the pipeline of `decouple run`:
/// SGD on `L(h(x+), h(x++))` with `h_i(x) = S_{b_i}(<w_i, x>)` over batches of the
/// config's data and the views of its augmentation, then the report of `summary.json`.
/// `objective` / `augmentation` replace the config's with your own (named by their
/// `label`); `on_log` gets every logged step as a dict; `Run.save(dir)` writes the folder.
#[pyfunction]
#[pyo3(signature = (config = None, *, seed = None, threads = None, objective = None, augmentation = None, on_log = None, sets = Vec::new(), progress = false))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn train(
    py: Python<'_>,
    config: Option<&Bound<'_, PyAny>>,
    seed: Option<u64>,
    threads: Option<usize>,
    objective: Option<&Bound<'_, PyAny>>,
    augmentation: Option<&Bound<'_, PyAny>>,
    on_log: Option<Py<PyAny>>,
    sets: Vec<String>,
    progress: bool,
) -> PyResult<Run> {
    if threads == Some(0) {
        return Err(PyValueError::new_err("threads = 0 is out of range: give at least 1 (default: the available cores)"));
    }
    let (mut document, dir, name) = document(config)?;
    let Some(map) = document.as_object_mut() else {
        return Err(PyValueError::new_err("config: expected a mapping (a config file's tables)"));
    };
    if let Some(seed) = seed {
        map.insert("seed".into(), json!(seed));
    }
    let mut extra = Vec::new();
    for (field, part, kind) in [(PartField::Objective, objective, "objective"), (PartField::Augmentation, augmentation, "augmentation")] {
        let Some(part) = part.filter(|part| !part.is_none()) else { continue };
        let label = part_label(part)?;
        map.insert(kind.into(), json!({ "kind": label }));
        extra.push(Registration { field, kind: label, factory: part.clone().unbind(), defaults: Value::Null, instance: true });
    }
    let session = Session::new();
    let registry = crate::registry::build(py, &session, &extra)?;
    let resolved =
        config_file::load_document_with(document, &dir, &name, &sets, &registry).map_err(|error| convert::harness_error(&error))?;
    let label = format!("run-{}", &resolved.hash()[..8]);
    let spec = RunSpec { label: label.clone(), config: resolved.train.clone() };
    let execution = session::execution(registry, &session, threads, progress);
    let logging = session.clone();
    let mut log = move |point: &HistoryPoint| {
        let Some(on_log) = &on_log else { return };
        Python::attach(|py| {
            let result = convert::to_python(py, point).and_then(|row| on_log.bind(py).call1((row,)));
            if let Err(error) = result {
                logging.fail(py, error, &format!("in on_log at step {}", point.step));
            }
        });
    };
    let evaluation = resolved.evaluation.clone();
    let (record, checkpoint) =
        session::run_detached(py, &session, || decouple_harness::training::train_one(&spec, &evaluation, &execution, &mut log))?;
    if record.stopped {
        return Err(session::stopped_error("training stopped on request"));
    }
    Ok(Run::trained(resolved, record, checkpoint, label))
}

/// Reads a complete run folder.
#[pyfunction]
pub(crate) fn load_run(dir: PathBuf) -> PyResult<Run> {
    Run::load(&dir)
}
