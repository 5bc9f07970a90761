//! The experiments of docs/claims.md as a library: each experiment states its
//! claim, runs, writes `config.json`, `metrics.jsonl`, `summary.json` and SVG
//! plots into `out/<id>/`, and returns a [`report::Summary`] with its verdict;
//! [`report::write_report`] regenerates `REPORT.md` from all summaries.
//!
//! The `decouple` binary (crate `decouple-cli`, run by `cargo xtask
//! reproduce`) and the Python package are thin layers over it ([`reproduce`]). Runs go through `decouple-harness`
//! (the job runner and run cache), are measured by `decouple-eval` and
//! plotted by `decouple-plot`.

mod context;
pub mod experiments;
pub mod report;
pub mod reproduce;

pub use context::RunContext;

/// The README's code examples, compiled and run as doctests.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
