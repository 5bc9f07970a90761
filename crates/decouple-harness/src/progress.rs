//! Progress of a batch of runs, told to a [`Progress`] sink: when the batch
//! starts (its runs and their total training steps), after every logged step
//! of a run (updates done since its previous report, and its loss) and when a
//! run finishes. [`PlainLines`] prints plain lines for logs and CI: one per
//! finished run, and in between at most one every `interval` with the steps
//! done, the loss and the time left (elapsed / steps done x steps left). The
//! CLI draws a progress bar on a terminal instead (with `indicatif`).

use std::io::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where the progress of runs goes. Called from the worker threads.
pub trait Progress: Send + Sync {
    /// A batch `task` of `runs` runs starts, `done` of them already complete;
    /// the others have `steps` training steps in all.
    fn begin(&self, task: &str, runs: usize, done: usize, steps: u64);
    /// A run did `steps` more updates; `loss` is its mean loss since its previous report.
    fn advance(&self, steps: u64, loss: f64);
    /// A run finished; `line` says which and how it ended.
    fn finished(&self, line: &str);
    /// Every run of the batch finished.
    fn end(&self);
}

/// The state of the current batch.
#[derive(Debug)]
struct Batch {
    task: String,
    runs: usize,
    done: usize,
    steps: u64,
    steps_done: u64,
    /// The latest finite loss reported.
    loss: f64,
    start: Instant,
    last_line: Option<Instant>,
}

/// Plain progress lines on standard output (see the module doc).
#[derive(Debug)]
pub struct PlainLines {
    interval: Duration,
    batch: Mutex<Option<Batch>>,
}

impl PlainLines {
    /// Lines during a run at most every `interval` (and at its first report).
    #[must_use]
    pub fn new(interval: Duration) -> Self {
        Self { interval, batch: Mutex::new(None) }
    }
}

impl Default for PlainLines {
    /// A line every 10 seconds at most.
    fn default() -> Self {
        Self::new(Duration::from_secs(10))
    }
}

/// `12 s` or `3 min 20 s` or `2 h 05 min`.
#[must_use]
pub fn duration_words(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "?".into();
    }
    let seconds = seconds.max(0.0).round() as u64;
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min {:02} s", seconds / 60, seconds % 60),
        _ => format!("{} h {:02} min", seconds / 3600, seconds % 3600 / 60),
    }
}

/// Time left at the rate so far: `elapsed / done * (total - done)`.
#[must_use]
pub fn time_left(elapsed: f64, done: u64, total: u64) -> f64 {
    if done == 0 { f64::NAN } else { elapsed / done as f64 * total.saturating_sub(done) as f64 }
}

fn print(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

impl Progress for PlainLines {
    fn begin(&self, task: &str, runs: usize, done: usize, steps: u64) {
        let batch =
            Batch { task: task.to_string(), runs, done, steps, steps_done: 0, loss: f64::NAN, start: Instant::now(), last_line: None };
        *self.batch.lock().expect("progress lock") = Some(batch);
    }

    fn advance(&self, steps: u64, loss: f64) {
        let mut guard = self.batch.lock().expect("progress lock");
        let Some(batch) = guard.as_mut() else { return };
        batch.steps_done += steps;
        if loss.is_finite() {
            batch.loss = loss;
        }
        if batch.last_line.is_some_and(|last| last.elapsed() < self.interval) {
            return;
        }
        batch.last_line = Some(Instant::now());
        let elapsed = batch.start.elapsed().as_secs_f64();
        let percent = 100.0 * batch.steps_done as f64 / batch.steps.max(1) as f64;
        print(&format!(
            "    [{}] {}/{} steps ({percent:.0}%), loss {}, {} elapsed, {} left",
            batch.task,
            batch.steps_done,
            batch.steps,
            if batch.loss.is_finite() { format!("{:.4}", batch.loss) } else { "-".into() },
            duration_words(elapsed),
            duration_words(time_left(elapsed, batch.steps_done, batch.steps))
        ));
    }

    fn finished(&self, line: &str) {
        let mut guard = self.batch.lock().expect("progress lock");
        let Some(batch) = guard.as_mut() else { return };
        batch.done += 1;
        let elapsed = batch.start.elapsed().as_secs_f64();
        print(&format!(
            "    [{}] {}/{} runs, {} elapsed, {} left | {line}",
            batch.task,
            batch.done,
            batch.runs,
            duration_words(elapsed),
            duration_words(time_left(elapsed, batch.steps_done, batch.steps))
        ));
    }

    fn end(&self) {
        *self.batch.lock().expect("progress lock") = None;
    }
}

#[cfg(test)]
mod tests {
    use super::{duration_words, time_left};

    #[test]
    fn durations_and_time_left_read_as_expected() {
        assert_eq!(duration_words(12.4), "12 s");
        assert_eq!(duration_words(200.0), "3 min 20 s");
        assert_eq!(duration_words(7500.0), "2 h 05 min");
        assert_eq!(duration_words(f64::NAN), "?");
        assert!((time_left(10.0, 100, 400) - 30.0).abs() < 1e-12);
        assert!(time_left(10.0, 0, 400).is_nan());
        assert_eq!(time_left(10.0, 500, 400), 0.0);
    }
}
