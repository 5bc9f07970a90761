//! The experiments of docs/claims.md as a library: each experiment states its
//! claim, runs, writes `config.json`, `metrics.jsonl`, `summary.json` and SVG
//! plots into `out/<id>/`, and returns a [`report::Summary`] with its verdict;
//! [`report::write_report`] regenerates `REPORT.md` from all summaries.
//!
//! The `decouple` binary (run by `cargo xtask reproduce`) is a thin CLI over it.
//! Your own experiments (`cargo xtask run|sweep|merge`) go through
//! [`config_file`] (TOML or JSON configs with checked fields), [`run_folder`]
//! (one run's folder, written atomically), [`sweep`] (grids x seeds,
//! resumable, shardable), [`sweep_results`] (`sweep.csv` and plots) and
//! [`merge`] (combining shards).

pub mod config_file;
mod context;
pub mod evaluate;
pub mod experiments;
pub mod merge;
pub mod report;
pub mod run_folder;
pub mod svg;
pub mod sweep;
pub mod sweep_results;
pub mod training;

pub use context::{
    RunContext, available_cores, command_output, cpu_model, for_each_job, git_commit, parallel_map, toolchain, write_atomic, write_json,
};

/// The README's code examples, compiled and run as doctests.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
