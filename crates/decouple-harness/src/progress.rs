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
    /// A line of a command's report (what `decouple run` / `sweep` / `analyze` print); default: standard output.
    fn say(&self, line: &str) {
        print(line);
    }
}

/// The state of a batch of runs, for a [`Progress`] sink to draw from
/// (plain lines here, a bar in the CLI's `progress_bar` or the Python package).
#[derive(Debug)]
pub struct BatchState {
    /// The batch's name.
    pub task: String,
    /// Runs in the batch.
    pub runs: usize,
    /// Runs finished (or complete before it started).
    pub done: usize,
    /// Training steps of the runs to do.
    pub steps: u64,
    /// Steps done so far.
    pub steps_done: u64,
    /// The latest finite loss reported.
    pub loss: f64,
    /// When the batch started.
    pub start: Instant,
    last_line: Option<Instant>,
}

impl BatchState {
    /// A batch that starts now ([`Progress::begin`]).
    #[must_use]
    pub fn new(task: &str, runs: usize, done: usize, steps: u64) -> Self {
        Self { task: task.to_string(), runs, done, steps, steps_done: 0, loss: f64::NAN, start: Instant::now(), last_line: None }
    }

    /// `steps` more updates, with the loss since the previous report ([`Progress::advance`]).
    pub fn advance(&mut self, steps: u64, loss: f64) {
        self.steps_done += steps;
        if loss.is_finite() {
            self.loss = loss;
        }
    }

    /// Whether a line is due (none yet, or none within `interval`); if so, the line counts as drawn now.
    pub fn line_due(&mut self, interval: Duration) -> bool {
        if self.last_line.is_some_and(|last| last.elapsed() < interval) {
            return false;
        }
        self.last_line = Some(Instant::now());
        true
    }

    /// Seconds since the start.
    #[must_use]
    pub fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Seconds left at the rate so far ([`time_left`]).
    #[must_use]
    pub fn left(&self) -> f64 {
        time_left(self.elapsed(), self.steps_done, self.steps)
    }

    /// The fraction of the steps done, in `[0, 1]`.
    #[must_use]
    pub fn fraction(&self) -> f64 {
        if self.steps == 0 { 1.0 } else { (self.steps_done as f64 / self.steps as f64).min(1.0) }
    }
}

/// Plain progress lines on standard output (see the module doc).
#[derive(Debug)]
pub struct PlainLines {
    interval: Duration,
    batch: Mutex<Option<BatchState>>,
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
        *self.batch.lock().expect("progress lock") = Some(BatchState::new(task, runs, done, steps));
    }

    fn advance(&self, steps: u64, loss: f64) {
        let mut guard = self.batch.lock().expect("progress lock");
        let Some(batch) = guard.as_mut() else { return };
        batch.advance(steps, loss);
        if !batch.line_due(self.interval) {
            return;
        }
        print(&format!(
            "    [{}] {}/{} steps ({:.0}%), loss {}, {} elapsed, {} left",
            batch.task,
            batch.steps_done,
            batch.steps,
            100.0 * batch.fraction(),
            if batch.loss.is_finite() { format!("{:.4}", batch.loss) } else { "-".into() },
            duration_words(batch.elapsed()),
            duration_words(batch.left())
        ));
    }

    fn finished(&self, line: &str) {
        let mut guard = self.batch.lock().expect("progress lock");
        let Some(batch) = guard.as_mut() else { return };
        batch.done += 1;
        print(&format!(
            "    [{}] {}/{} runs, {} elapsed, {} left | {line}",
            batch.task,
            batch.done,
            batch.runs,
            duration_words(batch.elapsed()),
            duration_words(batch.left())
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
