//! One call into the engine from Python ([`Session`]): the work runs on a
//! thread of its own without the GIL, while the calling thread watches for
//! Ctrl-C (`KeyboardInterrupt`), and the user's functions (objectives,
//! augmentations, callbacks) take the GIL only while they run. The first
//! exception they raise stops the work within one step and reaches the caller
//! as itself, with the step added as a note.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use decouple_harness::progress::{BatchState, Progress, duration_words};
use decouple_train::{Registry, Stop};
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError};
use pyo3::prelude::*;

/// The stop flag of one call and the first exception of a user's function.
#[derive(Default)]
pub(crate) struct Session {
    pub(crate) stop: Stop,
    failure: Mutex<Option<PyErr>>,
}

impl Session {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Records `error` (the first one wins), with `where_` added as a note, and stops the work.
    pub(crate) fn fail(&self, py: Python<'_>, error: PyErr, where_: &str) {
        add_note(py, &error, where_);
        self.failure.lock().expect("failure lock").get_or_insert(error);
        self.stop.request();
    }

    pub(crate) fn take_failure(&self) -> Option<PyErr> {
        self.failure.lock().expect("failure lock").take()
    }
}

/// `error.add_note(note)` (Python >= 3.11), else the note appended to `__notes__` by hand.
fn add_note(py: Python<'_>, error: &PyErr, note: &str) {
    let value = error.value(py);
    if value.call_method1("add_note", (note,)).is_err() {
        let mut notes = value.getattr("__notes__").ok().and_then(|notes| notes.extract::<Vec<String>>().ok()).unwrap_or_default();
        notes.push(note.to_string());
        let _ = value.setattr("__notes__", notes);
    }
}

/// Runs `work` on its own thread without the GIL, checking for Ctrl-C every
/// 50 ms on this (the main) thread: a `KeyboardInterrupt` requests the
/// session's stop, waits for the work to stop (within one step) and is then
/// raised. A failure of a user's function is raised as itself; a panic of the
/// work becomes a `RuntimeError`, never an abort.
pub(crate) fn run_detached<T: Send>(py: Python<'_>, session: &Session, work: impl FnOnce() -> T + Send) -> PyResult<T> {
    let mut interrupt: Option<PyErr> = None;
    let done = (Mutex::new(false), Condvar::new());
    let outcome = std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            // Told even when `work` panics, so the wait below always ends.
            struct Told<'a>(&'a (Mutex<bool>, Condvar));
            impl Drop for Told<'_> {
                fn drop(&mut self) {
                    *self.0.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = true;
                    self.0.1.notify_all();
                }
            }
            let _told = Told(&done);
            // A Python thread state for this thread for the whole call (made once, the GIL released at
            // once): a user's function called on this thread (every call of a 1-thread run) attaches to it
            // cheaply. With more threads the trainer's pool threads call them too, and the augmentation of
            // the next batch may run beside the objective of this one (each holding the GIL in turn).
            Python::attach(|py| py.detach(work))
        });
        loop {
            let over = py.detach(|| {
                let finished = done.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let (finished, _) = done
                    .1
                    .wait_timeout_while(finished, Duration::from_millis(50), |finished| !*finished)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                *finished
            });
            if over {
                break;
            }
            if let Err(error) = py.check_signals() {
                session.stop.request();
                interrupt.get_or_insert(error);
            }
        }
        py.detach(|| worker.join())
    });
    if let Some(failure) = session.take_failure() {
        return Err(failure);
    }
    if let Some(interrupt) = interrupt {
        return Err(interrupt);
    }
    match outcome {
        Ok(value) => Ok(value),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|text| (*text).to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(PyRuntimeError::new_err(format!("decouple's engine panicked (a bug: please report it): {message}")))
        }
    }
}

/// `KeyboardInterrupt` for work that stopped on request without an exception of its own.
pub(crate) fn stopped_error(message: &str) -> PyErr {
    PyKeyboardInterrupt::new_err(message.to_string())
}

/// Progress on Python's `sys.stderr` (a terminal or a notebook): a bar of the
/// batch of runs, rewritten in place at most 5 times a second, and a line at
/// each run's end.
pub(crate) struct PythonProgress {
    state: Mutex<Option<BatchState>>,
}

impl PythonProgress {
    pub(crate) fn new() -> Self {
        Self { state: Mutex::new(None) }
    }
}

/// `text` on Python's `sys.stderr` or `sys.stdout` (so that a notebook shows it), flushed.
fn write_python(stream: &str, text: &str) {
    Python::attach(|py| {
        if let Ok(stream) = py.import("sys").and_then(|sys| sys.getattr(stream)) {
            let _ = stream.call_method1("write", (text,));
            let _ = stream.call_method0("flush");
        }
    });
}

fn write_stderr(text: &str) {
    write_python("stderr", text);
}

/// A command's report line ([`Progress::say`]) on `sys.stdout`.
fn say_line(line: &str) {
    write_python("stdout", &format!("{line}\n"));
}

/// `\rTASK [####------] 40% runs 0/1, loss 3.9, 2 s, 3 s left`.
fn bar(batch: &BatchState) -> String {
    let filled = (batch.fraction() * 30.0).round() as usize;
    let loss = if batch.loss.is_finite() { format!(", loss {:.4}", batch.loss) } else { String::new() };
    format!(
        "\r{} [{}{}] {:>3.0}% runs {}/{}{loss}, {}, {} left ",
        batch.task,
        "#".repeat(filled),
        "-".repeat(30 - filled),
        100.0 * batch.fraction(),
        batch.done,
        batch.runs,
        duration_words(batch.elapsed()),
        duration_words(batch.left())
    )
}

impl Progress for PythonProgress {
    fn begin(&self, task: &str, runs: usize, done: usize, steps: u64) {
        *self.state.lock().expect("progress lock") = Some(BatchState::new(task, runs, done, steps));
    }

    fn advance(&self, steps: u64, loss: f64) {
        let line = {
            let mut guard = self.state.lock().expect("progress lock");
            let Some(batch) = guard.as_mut() else { return };
            batch.advance(steps, loss);
            if !batch.line_due(Duration::from_millis(200)) {
                return;
            }
            bar(batch)
        };
        write_stderr(&line);
    }

    fn finished(&self, line: &str) {
        let text = {
            let mut guard = self.state.lock().expect("progress lock");
            let Some(batch) = guard.as_mut() else { return };
            batch.done += 1;
            format!("\r{line}\n{}", bar(batch))
        };
        write_stderr(&text);
    }

    fn end(&self) {
        let last = self.state.lock().expect("progress lock").take();
        if let Some(batch) = last {
            write_stderr(&format!("{}\n", bar(&batch)));
        }
    }

    fn say(&self, line: &str) {
        say_line(line);
    }
}

/// No progress (`progress=False`); a command's report lines still go to `sys.stdout`.
pub(crate) struct Silent;

impl Progress for Silent {
    fn begin(&self, _: &str, _: usize, _: usize, _: u64) {}
    fn advance(&self, _: u64, _: f64) {}
    fn finished(&self, _: &str) {}
    fn end(&self) {}
    fn say(&self, line: &str) {
        say_line(line);
    }
}

/// The execution of one call: the registry, the session's stop flag, progress on stderr or none.
pub(crate) fn execution(
    registry: Registry,
    session: &Session,
    threads: Option<usize>,
    progress: bool,
) -> decouple_harness::training::Execution {
    let progress: Arc<dyn Progress> = if progress { Arc::new(PythonProgress::new()) } else { Arc::new(Silent) };
    decouple_harness::training::Execution {
        threads,
        progress,
        registry: Arc::new(registry),
        stop: session.stop.clone(),
        ..decouple_harness::training::Execution::default()
    }
}
