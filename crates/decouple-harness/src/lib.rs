//! Runs of your own configs (`decouple run|sweep|merge|analyze|compare`):
//! [`config_file`] (TOML or JSON configs with checked fields), [`run_folder`]
//! (one run's folder, written as it trains, with its network), [`sweep`]
//! (grids x seeds, resumable, shardable, stale runs detected), [`manifest`]
//! (the plan of a sweep, `sweep.json`), [`sweep_results`] (`sweep.csv` and
//! plots), [`merge`] (combining shards), [`analyze`] (the analysis of a saved
//! network, redone) and [`compare`] (runs side by side); and what the
//! experiments share with them: [`training`] (lists of runs on `--jobs`
//! threads, each on its share of the cores, evaluated, cached),
//! [`progress`] (where the progress of runs goes) and [`context`] (the job
//! runner, atomic writes, writability checks, provenance).
//!
//! [`command_line`] is all of it as a command line over a registry of named
//! parts (`decouple` and your own binaries), with [`progress_bar`] on a terminal.
//!
//! Errors are the typed [`HarnessError`]; no `anyhow`; argument parsing
//! (clap) only in [`command_line`], the bar (indicatif) only in [`progress_bar`].

pub mod analyze;
pub mod command_line;
pub mod compare;
pub mod config_file;
pub mod context;
mod error;
pub mod folder_lock;
pub mod lenient_json;
pub mod manifest;
pub mod merge;
pub mod progress;
pub mod progress_bar;
pub mod run_folder;
pub mod sweep;
pub mod sweep_results;
pub mod training;

pub use context::{
    CodeVersion, available_cores, available_memory, check_writable, code_version, command_output, cpu_model, for_each_job, git_commit,
    parallel_map, short_commit, toolchain, write_atomic, write_json,
};
pub use error::{HarnessError, Result, SweepFolder, chain};
