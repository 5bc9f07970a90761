//! `scaling`: step time against the size of the problem. The default setting
//! (B = 128, d1 = 512, m = 128) with one of d1, m or B swept at a time, each
//! point a short whole run (ramp included) on one thread, for decouple and,
//! when it runs, the PyTorch reference; written as a markdown table
//! (`scaling.md`) and a log-log plot of ms per step against the dense work
//! `8 B d1 m` (`scaling.svg`).

use std::fmt::Write as _;
use std::path::Path;

use decouple_plot::{XySeries, log_log};
use decouple_train::TrainConfig;

use crate::measure::Entry;
use crate::reference;
use crate::workloads::{default_config, dense_step_flops, step_seconds};

/// Steps of every scaling run (the threshold ramp takes the first half).
pub const STEPS: usize = 200;
/// Steps per timed block (one repetition).
pub const BLOCK: usize = 20;

/// Which size a point sweeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// The input dimension.
    D1,
    /// The width (neurons).
    Width,
    /// The batch size.
    Batch,
}

impl Axis {
    fn label(self) -> &'static str {
        match self {
            Self::D1 => "d1",
            Self::Width => "m",
            Self::Batch => "B",
        }
    }
}

/// One point of the grid: `(B, d1, m)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    /// Batch size.
    pub batch: usize,
    /// Input dimension.
    pub d1: usize,
    /// Width.
    pub width: usize,
}

impl Point {
    /// The bench entry's name, `scaling-B128-d1512-m128` (the script uses the same).
    pub fn name(self) -> String {
        format!("scaling-B{}-d1{}-m{}", self.batch, self.d1, self.width)
    }

    /// The reference script's spelling, `128x512x128`.
    pub fn spec(self) -> String {
        format!("{}x{}x{}", self.batch, self.d1, self.width)
    }

    /// The default configuration at this size, cut to [`STEPS`] steps.
    pub fn config(self) -> TrainConfig {
        let mut config = default_config();
        config.batch_size = self.batch;
        config.data.model_mut().expect("the data model").d1 = self.d1;
        config.network.width = self.width;
        config.steps = STEPS;
        config
    }
}

/// The swept values of each axis (the default value is in each sweep).
pub fn sweeps() -> Vec<(Axis, Vec<Point>)> {
    let base = Point { batch: 128, d1: 512, width: 128 };
    vec![
        (Axis::D1, [256, 512, 1024, 2048, 4096].iter().map(|&d1| Point { d1, ..base }).collect()),
        (Axis::Width, [32, 64, 128, 256, 512].iter().map(|&width| Point { width, ..base }).collect()),
        (Axis::Batch, [32, 64, 128, 256, 512].iter().map(|&batch| Point { batch, ..base }).collect()),
    ]
}

/// Every distinct point of [`sweeps`], in order.
pub fn points() -> Vec<Point> {
    let mut points: Vec<Point> = Vec::new();
    for (_, sweep) in sweeps() {
        for point in sweep {
            if !points.contains(&point) {
                points.push(point);
            }
        }
    }
    points
}

/// decouple's entries (1 thread, ms per step over blocks of [`BLOCK`] steps).
pub fn decouple_entries() -> Vec<Entry> {
    points()
        .into_iter()
        .map(|point| {
            eprintln!("  scaling {} (B x d1 x m), 1 thread...", point.spec());
            let ms: Vec<f64> = step_seconds(point.config(), 1, BLOCK).iter().map(|s| s * 1e3).collect();
            Entry::from_samples(&point.name(), 1, "ms/step", &ms)
        })
        .collect()
}

fn median(entries: &[Entry], name: &str) -> Option<f64> {
    entries.iter().find(|e| e.name == name && e.threads == 1 && e.unit == "ms/step").map(|e| e.median)
}

/// Writes `scaling.md` (the table) and `scaling.svg` (the log-log plot) into
/// `out` from the entries (PyTorch columns when its `pytorch/scaling-*`
/// entries are there); returns the table.
///
/// # Errors
/// A file could not be written.
pub fn write_outputs(entries: &[Entry], out: &Path) -> anyhow::Result<String> {
    let torch = |point: Point| median(entries, &format!("{}{}", reference::PREFIX, point.name()));
    let mut table = String::from(
        "| swept | B | d1 | m | dense MFLOP/step | decouple ms/step | PyTorch ms/step | ratio | decouple GFLOP/s |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut series = Vec::new();
    let mut torch_series = Vec::new();
    for (axis, sweep) in sweeps() {
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        for point in sweep {
            let Some(ms) = median(entries, &point.name()) else { continue };
            let flops = dense_step_flops(&point.config());
            let (torch_ms, ratio) = match torch(point) {
                Some(t) => {
                    theirs.push((flops / 1e6, t));
                    (format!("{t:.2}"), format!("{:.2}x", t / ms))
                }
                None => (String::new(), String::new()),
            };
            ours.push((flops / 1e6, ms));
            let _ = writeln!(
                table,
                "| {} | {} | {} | {} | {:.1} | {ms:.2} | {torch_ms} | {ratio} | {:.1} |",
                axis.label(),
                point.batch,
                point.d1,
                point.width,
                flops / 1e6,
                flops / (ms * 1e-3) / 1e9
            );
        }
        series.push(XySeries { name: format!("decouple, {} swept", axis.label()), points: ours });
        if !theirs.is_empty() {
            torch_series.push(XySeries { name: format!("PyTorch, {} swept", axis.label()), points: theirs });
        }
    }
    let dashed_from = series.len();
    series.extend(torch_series);
    let svg = log_log(
        "Step time against the work (1 thread; B 128, d1 512, m 128 with one swept)",
        "dense work of a step, 8 B d1 m (MFLOP)",
        "ms per step",
        &series,
        dashed_from,
    );
    std::fs::create_dir_all(out)?;
    decouple_harness::write_atomic(&out.join("scaling.svg"), &svg)?;
    decouple_harness::write_atomic(&out.join("scaling.md"), &table)?;
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_sweeps_each_size_around_the_default_once() {
        let points = points();
        assert_eq!(points.len(), 13, "three sweeps of five sharing the default point");
        assert!(points.contains(&Point { batch: 128, d1: 4096, width: 128 }));
        for point in points {
            point.config().check().expect("every scaling point is a valid configuration");
        }
    }

    #[test]
    fn outputs_name_every_point_and_the_reference_when_present() {
        let mut entries: Vec<Entry> = points().iter().map(|p| Entry::single(&p.name(), 1, "ms/step", 1.0)).collect();
        let default = Point { batch: 128, d1: 512, width: 128 };
        entries.push(Entry::single(&format!("{}{}", reference::PREFIX, default.name()), 1, "ms/step", 3.0));
        let out = std::env::temp_dir().join(format!("decouple-bench-scaling-{}", std::process::id()));
        let table = write_outputs(&entries, &out).unwrap();
        assert_eq!(table.lines().count(), 2 + 15, "header, rule and 3 x 5 rows");
        assert!(table.contains("| 3.00 | 3.00x |"), "{table}");
        let svg = std::fs::read_to_string(out.join("scaling.svg")).unwrap();
        assert!(svg.contains("PyTorch, d1 swept") && svg.contains("decouple, B swept"));
        std::fs::remove_dir_all(out).unwrap();
    }
}
