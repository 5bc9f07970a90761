//! [`Stop`]: a request, from another thread, that a run stop where it is
//! (Ctrl-C in a host such as Python, or a failed callback). The trainer asks
//! it before every step; a stopped run ends with [`crate::TrainError::Stopped`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A shared stop flag: clones share it; [`Stop::request`] is seen by every clone.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    /// A flag not yet requested.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks every run holding a clone to stop before its next step.
    pub fn request(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was requested.
    #[must_use]
    pub fn is_requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
