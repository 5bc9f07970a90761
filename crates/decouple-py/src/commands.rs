//! `run`, `sweep`, `reproduce`, `analyze` and `compare` from Python, with the
//! CLI's behaviour (the same folders, skips, refusals and printed lines) and
//! the parts registered from Python; each returns what it made.

use std::path::PathBuf;

use decouple_harness::command_line::{self, Command, StaleFlags};
use decouple_harness::sweep::{Shard, SweepOptions};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::convert;
use crate::run::Run;
use crate::session::{self, Session};

fn stale_flags(stale: &str) -> PyResult<StaleFlags> {
    match stale {
        "refuse" => Ok(StaleFlags { rerun_stale: false, accept_stale: false }),
        "rerun" => Ok(StaleFlags { rerun_stale: true, accept_stale: false }),
        "accept" => Ok(StaleFlags { rerun_stale: false, accept_stale: true }),
        other => Err(PyValueError::new_err(format!("stale: expected \"refuse\", \"rerun\" or \"accept\", got {other:?}"))),
    }
}

fn check_threads(threads: Option<usize>) -> PyResult<()> {
    if threads == Some(0) {
        return Err(PyValueError::new_err("threads = 0 is out of range: give at least 1 (default: the available cores)"));
    }
    Ok(())
}

/// `decouple run`: trains into a run folder and returns it.
#[pyfunction]
#[pyo3(signature = (config, *, sets = Vec::new(), out = None, force = false, threads = None, stale = "refuse", progress = true))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn run(
    py: Python<'_>,
    config: PathBuf,
    sets: Vec<String>,
    out: Option<PathBuf>,
    force: bool,
    threads: Option<usize>,
    stale: &str,
    progress: bool,
) -> PyResult<Run> {
    check_threads(threads)?;
    let stale = stale_flags(stale)?;
    let session = Session::new();
    let registry = crate::registry::build(py, &session, &[])?;
    let plan = decouple_harness::run_folder::plan_run(&config, &sets, out, &registry).map_err(|error| convert::harness_error(&error))?;
    let execution = session::execution(registry, &session, threads, progress);
    let dir = plan.dir.clone();
    let command = Command::Run { config, set: sets, out: Some(plan.dir), force, threads, stale, dry_run: false };
    session::run_detached(py, &session, || command_line::execute_on(command, &execution))?
        .map_err(|error| convert::harness_error(&error))?;
    Run::load(&dir)
}

/// `decouple sweep`: a grid of runs x seeds; returns the sweep folder.
#[pyfunction]
#[pyo3(signature = (config, *, jobs = None, shard = None, out = None, threads = None, stale = "refuse", progress = true))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn sweep(
    py: Python<'_>,
    config: PathBuf,
    jobs: Option<usize>,
    shard: Option<(usize, usize)>,
    out: Option<PathBuf>,
    threads: Option<usize>,
    stale: &str,
    progress: bool,
) -> PyResult<String> {
    check_threads(threads)?;
    if jobs == Some(0) {
        return Err(PyValueError::new_err("jobs = 0 is out of range: give at least 1 (default: the available cores)"));
    }
    let stale = stale_flags(stale)?;
    let shard: Option<Shard> = shard
        .map(|(index, count)| format!("{index}/{count}").parse::<Shard>())
        .transpose()
        .map_err(|error| PyValueError::new_err(format!("shard: {error}")))?;
    let session = Session::new();
    let registry = crate::registry::build(py, &session, &[])?;
    let execution = session::execution(registry, &session, threads, progress);
    let mut options = SweepOptions::new(jobs.unwrap_or_else(decouple_harness::available_cores));
    (options.out, options.shard, options.execution) = (out.clone(), shard, execution.clone());
    let survey = decouple_harness::sweep::survey(&config, &options).map_err(|error| convert::harness_error(&error))?;
    let command = Command::Sweep { config, jobs, shard, out, threads, stale, dry_run: false };
    session::run_detached(py, &session, || command_line::execute_on(command, &execution))?
        .map_err(|error| convert::harness_error(&error))?;
    Ok(survey.out.display().to_string())
}

/// `decouple reproduce`: the experiments, REPORT.md and plots; `True` when no claim fails.
#[pyfunction]
#[pyo3(signature = (*, quick = false, only = Vec::new(), seeds = None, out = PathBuf::from("results"), jobs = None, threads = None, progress = true))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn reproduce(
    py: Python<'_>,
    quick: bool,
    only: Vec<String>,
    seeds: Option<u64>,
    out: PathBuf,
    jobs: Option<usize>,
    threads: Option<usize>,
    progress: bool,
) -> PyResult<bool> {
    check_threads(threads)?;
    let session = Session::new();
    let registry = crate::registry::build(py, &session, &[])?;
    let execution = session::execution(registry, &session, threads, progress);
    let mut options = decouple_experiments::reproduce::ReproduceOptions::new(out);
    (options.quick, options.only, options.seeds) = (quick, only, seeds);
    if let Some(jobs) = jobs {
        options.jobs = jobs.max(1);
    }
    // The console lines go to Python's sys.stdout through the sink (Progress::say), so that a notebook shows them.
    session::run_detached(py, &session, || decouple_experiments::reproduce::reproduce(&options, execution))?
        .map_err(|error| convert::engine_error(error.as_ref()))
}

/// `decouple analyze`: recomputes the report of a run folder (writing `analysis.json`); returns the report.
#[pyfunction]
pub(crate) fn analyze(py: Python<'_>, dir: PathBuf) -> PyResult<Py<PyAny>> {
    let session = Session::new();
    let registry = crate::registry::build(py, &session, &[])?;
    let execution = session::execution(registry, &session, None, false);
    let command = Command::Analyze { dir: dir.clone() };
    session::run_detached(py, &session, || command_line::execute_on(command, &execution))?
        .map_err(|error| convert::harness_error(&error))?;
    let path = dir.join("analysis.json");
    let text =
        std::fs::read_to_string(&path).map_err(|error| pyo3::exceptions::PyOSError::new_err(format!("{}: {error}", path.display())))?;
    py.import("json")?.call_method1("loads", (text,))?.get_item("report").map(Bound::unbind)
}

/// `decouple compare`: the folders side by side (printed and returned) and their curves in `out`.
#[pyfunction]
#[pyo3(signature = (dirs, *, out = PathBuf::from("compare.svg")))]
pub(crate) fn compare(py: Python<'_>, dirs: Vec<PathBuf>, out: PathBuf) -> PyResult<String> {
    if dirs.is_empty() {
        return Err(PyValueError::new_err("dirs: give at least one run folder"));
    }
    let comparison = py.detach(|| decouple_harness::compare::compare(&dirs, &out)).map_err(|error| convert::harness_error(&error))?;
    let plots: Vec<String> = comparison.plots.iter().map(|plot| plot.display().to_string()).collect();
    let text = format!("{}curves: {}\n", comparison.table, plots.join(", "));
    py.import("sys")?.getattr("stdout")?.call_method1("write", (text.as_str(),))?;
    Ok(comparison.table)
}
