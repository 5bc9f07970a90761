//! Runs of your own configs (`decouple run|sweep|merge`): [`config_file`]
//! (TOML or JSON configs with checked fields), [`run_folder`] (one run's
//! folder, written atomically), [`sweep`] (grids x seeds, resumable,
//! shardable), [`manifest`] (the plan of a sweep, `sweep.json`),
//! [`sweep_results`] (`sweep.csv` and plots) and [`merge`] (combining
//! shards); and what the experiments share with them: [`training`] (lists of
//! runs on `--jobs` threads, evaluated, cached) and [`context`] (the job
//! runner, atomic writes, provenance).
//!
//! Errors are the typed [`HarnessError`]; no `anyhow`, no argument parsing.

pub mod config_file;
pub mod context;
mod error;
pub mod manifest;
pub mod merge;
pub mod run_folder;
pub mod sweep;
pub mod sweep_results;
pub mod training;

pub use context::{
    available_cores, command_output, cpu_model, for_each_job, git_commit, parallel_map, toolchain, write_atomic, write_json,
};
pub use error::{HarnessError, Result, SweepFolder, chain};
