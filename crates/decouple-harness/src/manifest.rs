//! The plan of a sweep, `sweep.json`: its axes, seeds, plot settings and
//! named runs. Written by `sweep`, read by `sweep_results` and `merge`
//! (this module imports neither, so they share it without a cycle).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One swept field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// Dotted field path, e.g. `augmentation.keep`.
    pub path: String,
    /// The shortest suffix of the path that tells the axes apart (used in run names).
    pub short: String,
    /// The values, in the order given.
    pub values: Vec<Value>,
}

/// What to plot over the swept axes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PlotSpec {
    /// Metrics of `summary.json` to plot (see `sweep_results::METRICS`); default `["median_best"]`.
    #[serde(default = "default_metrics")]
    pub metrics: Vec<String>,
    /// The axis along x / the heatmap's columns (default: the first axis).
    #[serde(default)]
    pub x: Option<String>,
    /// The heatmap's rows / one line per value (default: the second axis, if any).
    #[serde(default)]
    pub y: Option<String>,
}

pub(crate) fn default_metrics() -> Vec<String> {
    vec!["median_best".into()]
}

/// One planned run, as listed in `sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedRun {
    /// Run number (the shard key).
    pub index: usize,
    /// Folder name under `runs/`.
    pub name: String,
    /// Seed.
    pub seed: u64,
    /// Index of the value of each axis.
    pub coords: Vec<usize>,
    /// Config hash the folder must carry.
    pub config_hash: String,
}

/// `sweep.json`: the plan of a sweep, identical for every shard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepManifest {
    /// Sweep name.
    pub name: String,
    /// The axes, ordered by path.
    pub axes: Vec<Axis>,
    /// Seeds of every grid point.
    pub seeds: Vec<u64>,
    /// Plot settings.
    pub plot: PlotSpec,
    /// Every run of the sweep.
    pub runs: Vec<PlannedRun>,
    /// Hash of the run list: shards of one sweep agree on it.
    pub plan_hash: String,
}

/// `results/sweeps/NAME` (sanitised), where an unsharded sweep (and a merge) writes by default.
#[must_use]
pub fn default_out(name: &str) -> PathBuf {
    PathBuf::from("results").join("sweeps").join(sanitize(name, 80))
}

/// A file-name-safe version of `text`, at most `limit` characters: `Kind(0.5,true)` becomes `Kind-0.5-true`.
pub(crate) fn sanitize(text: &str, limit: usize) -> String {
    let safe: String = text
        .chars()
        .filter(|c| *c != ')' && *c != '}' && *c != ']')
        .map(|c| if c.is_ascii_alphanumeric() || ".+-=".contains(c) { c } else { '-' })
        .take(limit)
        .collect();
    safe.trim_matches('-').to_string()
}

/// Writes `out/sweep.json` unless it already holds `manifest`. Shards sharing
/// a folder may do this at the same moment: each writes its own temporary
/// file (named with its process id) and renames it, so the file is always whole.
///
/// # Errors
/// I/O failure.
pub fn write_manifest(out: &Path, manifest: &SweepManifest) -> crate::Result<()> {
    let path = out.join("sweep.json");
    let existing = std::fs::read_to_string(&path).ok().and_then(|text| serde_json::from_str::<SweepManifest>(&text).ok());
    if existing.as_ref() == Some(manifest) {
        return Ok(());
    }
    crate::write_json(&path, manifest)
}
