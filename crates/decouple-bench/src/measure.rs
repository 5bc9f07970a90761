//! Bench entries (`{name, threads, unit, min, median, max}` over repetitions),
//! timing helpers and peak-memory readings from `/proc`.

use std::time::Instant;

use serde::Serialize;

/// One line of the table and of `bench.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// Benchmark name, e.g. `step-default`.
    pub name: String,
    /// Threads used (training threads, or `--jobs` of a reproduction).
    pub threads: usize,
    /// Unit of the figures, e.g. `ms/step`.
    pub unit: String,
    /// Smallest repetition.
    pub min: f64,
    /// Median repetition.
    pub median: f64,
    /// Largest repetition.
    pub max: f64,
    /// Number of repetitions.
    pub repetitions: usize,
}

impl Entry {
    /// An entry from repeated measurements (at least one).
    pub fn from_samples(name: &str, threads: usize, unit: &str, samples: &[f64]) -> Self {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 { sorted[n / 2] } else { 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]) };
        Self { name: name.into(), threads, unit: unit.into(), min: sorted[0], median, max: sorted[n - 1], repetitions: n }
    }

    /// An entry with a single value.
    pub fn single(name: &str, threads: usize, unit: &str, value: f64) -> Self {
        Self::from_samples(name, threads, unit, &[value])
    }

    /// The same figures mapped through a decreasing function (e.g. ms/step -> steps/s).
    pub fn inverted(&self, unit: &str, map: impl Fn(f64) -> f64) -> Self {
        Self { unit: unit.into(), min: map(self.max), median: map(self.median), max: map(self.min), ..self.clone() }
    }
}

/// Seconds taken by `f`.
pub fn seconds(f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_secs_f64()
}

/// A `kB` field (e.g. `VmHWM`) of a `/proc/<pid>/status` text, in MiB.
pub fn status_field_mib(status: &str, field: &str) -> Option<f64> {
    let line = status.lines().find(|line| line.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Peak resident memory of this process so far, in MiB (Linux; `None` elsewhere).
pub fn own_peak_rss_mib() -> Option<f64> {
    status_field_mib(&std::fs::read_to_string("/proc/self/status").ok()?, "VmHWM:")
}
