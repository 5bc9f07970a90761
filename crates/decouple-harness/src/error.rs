//! The one error type of the harness: every message names the file, the
//! folder or the dotted config field it is about.

use std::path::PathBuf;

use decouple_eval::EvalError;

/// Why a config, a run, a sweep or a merge could not be done. (A run that
/// diverges is not an error: it is recorded with status `failed`.)
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HarnessError {
    /// Reading, writing, renaming or removing `path` failed.
    #[error("{action} {}: {error}", path.display())]
    Io {
        /// What was being done (`reading`, `creating`, ...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// A JSON document (a file, or a value being written) that does not (de)serialise.
    #[error("{what}: {error}")]
    Json {
        /// The file or value.
        what: String,
        /// The parser's error (with line and column).
        error: serde_json::Error,
    },
    /// Invalid input; `message` names `field` (a dotted config path, or the
    /// part of a sweep file), the value and what is allowed.
    #[error("{message}")]
    Invalid {
        /// The dotted field path (empty for the top level or the command line).
        field: String,
        /// The full message.
        message: String,
    },
    /// A sample size of the `[evaluation]` table out of range.
    #[error(transparent)]
    Evaluation(#[from] EvalError),
    /// An error inside `place`: a file, a `--set` argument, a grid point or a run.
    #[error("{place}: {error}")]
    In {
        /// Where (`my-config.toml`, `--set network.width=0`, `run keep=0.5, seed=1`).
        place: String,
        /// What went wrong there.
        error: Box<HarnessError>,
    },
    /// Folders of different sweeps given to one merge.
    #[error("{first} but {other}: only shards of one sweep can be merged")]
    DifferentSweeps {
        /// The first folder.
        first: Box<SweepFolder>,
        /// The folder that differs.
        other: Box<SweepFolder>,
    },
    /// An output folder in which files cannot be created (checked before training).
    #[error("cannot write to {}: {error}; choose another --out (nothing was trained)", dir.display())]
    Unwritable {
        /// The folder.
        dir: PathBuf,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// Complete runs of a resumed sweep that were made by other code.
    #[error(
        "{stale} of {complete} complete run(s) in {} are stale (e.g. {found}; this is {current}): \
         pass --rerun-stale to redo them, or --accept-stale to keep them beside the new ones"
    , dir.display())]
    Stale {
        /// The sweep's runs folder.
        dir: PathBuf,
        /// Stale runs.
        stale: usize,
        /// Complete runs (stale ones included).
        complete: usize,
        /// The version and commit of one stale run.
        found: String,
        /// This code's version and commit.
        current: String,
    },
    /// A run folder that `decouple analyze` cannot reopen, and why.
    #[error("{} cannot be analysed: {reason}", dir.display())]
    NotAnalysable {
        /// The run folder.
        dir: PathBuf,
        /// What is missing or does not load, and what to do.
        reason: String,
    },
    /// A complete run of this config trained on data that changed since.
    #[error(
        "{} holds a complete run of this config that is stale: {reason}; pass --rerun-stale to train it again, \
         or --accept-stale to keep it as it is",
        dir.display()
    )]
    StaleRun {
        /// The run folder.
        dir: PathBuf,
        /// Why it is stale.
        reason: String,
    },
    /// Another writer holds the run folder's lock.
    #[error(
        "{} is being written by another process{}: one writer per run folder; wait for it, or choose another --out",
        dir.display(),
        holder.map(|pid| format!(" (pid {pid})")).unwrap_or_default()
    )]
    Locked {
        /// The run folder.
        dir: PathBuf,
        /// The process that holds it, when its lock file says.
        holder: Option<u32>,
    },
    /// The run folder was finished by another writer between the look and the lock.
    #[error("{} was completed by another process meanwhile: kept as it is", dir.display())]
    FinishedMeanwhile {
        /// The run folder.
        dir: PathBuf,
    },
    /// A run the machine cannot hold, refused before training.
    #[error("{} was not trained: {error}", dir.display())]
    TooBig {
        /// The run folder.
        dir: PathBuf,
        /// The estimate and what is available.
        error: Box<decouple_train::TrainError>,
    },
    /// A stop was requested ([`crate::training::Execution::stop`]): the runs
    /// not finished are left incomplete under `dir`, for the next attempt to redo.
    #[error("stopped on request: the unfinished runs under {} are left incomplete; run the same command again to redo them", dir.display())]
    Stopped {
        /// The run or sweep folder.
        dir: PathBuf,
    },
    /// Finished runs whose folders could not be written (`name: error` each).
    #[error("could not save {} run(s): {}", .0.len(), .0.join("; "))]
    Unsaved(Vec<String>),
}

/// A sweep folder given to a merge: `DIR holds sweep `NAME` (plan HASH)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} holds sweep `{name}` (plan {plan})", dir.display())]
pub struct SweepFolder {
    /// The folder.
    pub dir: PathBuf,
    /// The name of the sweep in its `sweep.json`.
    pub name: String,
    /// Its plan hash.
    pub plan: String,
}

impl HarnessError {
    /// An [`HarnessError::Invalid`] about `field`.
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid { field: field.into(), message: message.into() }
    }

    /// This error, located in `place`.
    pub(crate) fn within(self, place: impl Into<String>) -> Self {
        Self::In { place: place.into(), error: Box::new(self) }
    }

    /// An [`HarnessError::Io`] on `path`.
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |error| Self::Io { action, path, error }
    }
}

/// Results of the harness.
pub type Result<T, E = HarnessError> = std::result::Result<T, E>;

/// Adds the place to the error of a result (`file.toml: unknown field ...`).
pub(crate) trait Within<T> {
    /// The error, if any, located in `place()`.
    fn within(self, place: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Into<HarnessError>> Within<T> for std::result::Result<T, E> {
    fn within(self, place: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|error| error.into().within(place()))
    }
}

/// `error` and its sources, `outer: inner: ...` (how a failed run's error is recorded).
#[must_use]
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}
