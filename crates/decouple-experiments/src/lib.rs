//! The experiments of SPEC section 8 as a library: each experiment states its
//! claim, runs, writes `config.json`, `metrics.jsonl`, `summary.json` and SVG
//! plots into `out/<id>/`, and returns a [`report::Summary`] with its verdict;
//! [`report::write_report`] regenerates `REPORT.md` from all summaries.
//!
//! The `decouple` binary (run by `cargo xtask reproduce`) is a thin CLI over it.

mod context;
pub mod evaluate;
pub mod experiments;
pub mod report;
pub mod svg;
pub mod training;

pub use context::{RunContext, write_atomic, write_json};

/// The README's code examples, compiled and run as doctests.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
