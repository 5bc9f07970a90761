//! The progress of `run`, `sweep` and `reproduce`: an `indicatif` bar on a
//! terminal (steps done of the batch's total, the latest loss, the time
//! elapsed and left, finished runs printed above it), the harness's plain
//! lines otherwise (logs, CI, pipes).

use std::io::IsTerminal as _;
use std::sync::{Arc, Mutex};

use crate::progress::{PlainLines, Progress};
use indicatif::{ProgressBar, ProgressStyle};

/// A bar per batch of runs, drawn on standard error.
struct Bar {
    /// The bar of the current batch, its name, runs and finished runs.
    current: Mutex<Option<(ProgressBar, String, usize, usize)>>,
}

const TEMPLATE: &str = "{prefix} [{bar:32}] {pos}/{len} steps, loss {msg}, {elapsed} elapsed, {eta} left";

impl Progress for Bar {
    fn begin(&self, task: &str, runs: usize, done: usize, steps: u64) {
        let bar = ProgressBar::new(steps);
        bar.set_style(ProgressStyle::with_template(TEMPLATE).expect("the template is valid").progress_chars("=> "));
        bar.set_prefix(format!("{task} {done}/{runs} runs"));
        bar.set_message("-");
        *self.current.lock().expect("bar lock") = Some((bar, task.to_string(), runs, done));
    }

    fn advance(&self, steps: u64, loss: f64) {
        if let Some((bar, ..)) = self.current.lock().expect("bar lock").as_ref() {
            bar.inc(steps);
            if loss.is_finite() {
                bar.set_message(format!("{loss:.4}"));
            }
        }
    }

    fn finished(&self, line: &str) {
        if let Some((bar, task, runs, done)) = self.current.lock().expect("bar lock").as_mut() {
            *done += 1;
            bar.set_prefix(format!("{task} {done}/{runs} runs"));
            bar.println(format!("    {line}"));
        }
    }

    fn end(&self) {
        if let Some((bar, ..)) = self.current.lock().expect("bar lock").take() {
            bar.finish_and_clear();
        }
    }
}

/// A bar when standard error is a terminal, plain lines on standard output otherwise.
#[must_use]
pub fn sink() -> Arc<dyn Progress> {
    if std::io::stderr().is_terminal() { Arc::new(Bar { current: Mutex::new(None) }) } else { Arc::new(PlainLines::default()) }
}
