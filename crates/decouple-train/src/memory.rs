//! How much memory a run needs, estimated from its config before anything is
//! allocated, so that a run too big for the machine is refused with the
//! estimate and the fields that drive it instead of aborting the process.
//!
//! The estimate counts the large buffers (`f32` = 4 bytes, `f64` = 8): the
//! network, its gradients and momentum, an EMA target, the views and forward
//! workspaces of one step (twice with a second thread drawing the next
//! batch), the loss's `VB x VB` similarity matrices, the dictionary, a fixed
//! pool or the samples of a data file; the evaluation adds its own
//! ([`MemoryEstimate::push`]). It is a lower bound of the peak within a
//! small factor: small vectors and allocator overhead are not counted.

use crate::data_source::DataSource;
use crate::parts::ObjectiveConfig;
use crate::{DataRegime, ObjectiveKind, Target, TrainConfig};

/// One counted buffer (or group of buffers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryPart {
    /// What it is (`network weights, gradients and momentum`).
    pub what: &'static str,
    /// The config fields whose product drives it (`network.width x data.d1`).
    pub fields: &'static str,
    /// Bytes.
    pub bytes: u64,
}

/// The estimated peak memory of a run, part by part.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// The parts, in the order they were counted.
    pub parts: Vec<MemoryPart>,
}

/// `a * b * ...` in bytes, saturating (a config of absurd sizes gives `u64::MAX`, never an overflow).
#[must_use]
pub fn product(factors: &[usize]) -> u64 {
    factors.iter().fold(1u64, |total, &factor| total.saturating_mul(factor as u64))
}

impl MemoryEstimate {
    /// Adds a part.
    pub fn push(&mut self, what: &'static str, fields: &'static str, bytes: u64) {
        self.parts.push(MemoryPart { what, fields, bytes });
    }

    /// The sum of the parts.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.parts.iter().fold(0u64, |total, part| total.saturating_add(part.bytes))
    }

    /// The parts, largest first.
    #[must_use]
    pub fn largest_first(&self) -> Vec<&MemoryPart> {
        let mut parts: Vec<&MemoryPart> = self.parts.iter().collect();
        parts.sort_by(|a, b| b.bytes.cmp(&a.bytes));
        parts
    }

    /// Fails with [`TooBig`] when the total exceeds `available` bytes.
    ///
    /// # Errors
    /// [`crate::TrainError::TooBig`].
    pub fn check_fits(&self, available: u64) -> Result<(), crate::TrainError> {
        if self.total() > available {
            return Err(crate::TrainError::TooBig(Box::new(TooBig { estimate: self.clone(), available })));
        }
        Ok(())
    }
}

/// A run refused before training: its estimate and the memory available.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooBig {
    /// The estimate.
    pub estimate: MemoryEstimate,
    /// Bytes the machine has available.
    pub available: u64,
}

impl std::fmt::Display for TooBig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .estimate
            .largest_first()
            .iter()
            .take(3)
            .map(|part| format!("{} {} ({})", format_bytes(part.bytes), part.what, part.fields))
            .collect();
        write!(
            formatter,
            "the run needs about {} of memory but the machine has {} available, so it was not started; the largest parts: {}; \
             reduce the fields named",
            format_bytes(self.estimate.total()),
            format_bytes(self.available),
            parts.join("; ")
        )
    }
}

/// `1.5 GiB`, `512 MiB`, `900 B`.
#[must_use]
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if value >= 100.0 { format!("{value:.0} {}", UNITS[unit]) } else { format!("{value:.1} {}", UNITS[unit]) }
}

impl TrainConfig {
    /// The memory of training this config with `n_views` views (see the module
    /// doc); `samples` is the `(n, d1)` of a data file (`None` for model data,
    /// or when not known yet: then the file's samples are not counted).
    #[must_use]
    pub fn memory_estimate(&self, n_views: usize, samples: Option<(usize, usize)>) -> MemoryEstimate {
        let (m, b, v) = (self.network.width, self.batch_size, n_views.max(1));
        let (d, d1) = match (&self.data, samples) {
            (DataSource::Model(data), _) => (data.d, data.d1),
            (DataSource::File(_), Some((_, d1))) => (0, d1),
            (DataSource::File(_), None) => (0, 1),
        };
        let mut estimate = MemoryEstimate::default();
        let copies = 2 + usize::from(self.optimizer.momentum > 0.0);
        estimate.push("network weights, gradients and momentum", "network.width x data.d1", product(&[copies, m, d1, 4]));
        if let ObjectiveConfig::Builtin(ObjectiveKind::NonContrastive(objective)) = &self.objective {
            if matches!(objective.target, Target::Ema { .. }) {
                estimate.push("EMA target network", "network.width x data.d1", product(&[m, d1, 4]));
            }
            estimate.push("predictor, its gradient and momentum", "network.width^2", product(&[3, m, m, 4]));
        }
        estimate.push("views of a batch (and the next one's)", "batch_size x data.d1", product(&[2, v, b, d1, 4]));
        estimate.push("the batch's parts", "batch_size x data.d1", product(&[b, d.saturating_add(d1.saturating_mul(3)), 4]));
        estimate.push("forward workspaces and representation gradients", "batch_size x network.width", product(&[3, v, b, m, 4]));
        estimate.push("similarity matrices of the loss", "batch_size^2", product(&[2, v, b, v, b, 4]));
        match (&self.data, self.regime, samples) {
            (DataSource::Model(_), DataRegime::Pool { n_samples }, _) => {
                estimate.push("dictionary", "data.d1 x data.d", product(&[d1, d, 12]));
                estimate.push(
                    "the fixed pool",
                    "regime.n_samples x data.d1",
                    product(&[n_samples, d.saturating_add(d1.saturating_mul(3)), 4]),
                );
            }
            (DataSource::Model(_), _, _) => estimate.push("dictionary", "data.d1 x data.d", product(&[d1, d, 12])),
            (DataSource::File(_), _, Some((n, d1))) => {
                estimate.push("the data file's samples", "the file's n x d1", product(&[3, n, d1, 4]))
            }
            (DataSource::File(_), _, None) => {}
        }
        estimate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_width_of_a_billion_needs_terabytes_and_is_refused() {
        let mut config = TrainConfig::default();
        config.network.width = 1_000_000_000;
        let estimate = config.memory_estimate(2, None);
        assert!(estimate.total() > 4_000_000_000_000, "{}", format_bytes(estimate.total()));
        let error = estimate.check_fits(24 << 30).unwrap_err().to_string();
        assert!(error.contains("of memory but the machine has 24.0 GiB available"), "{error}");
        assert!(error.contains("network.width x data.d1"), "{error}");
        assert!(TrainConfig::default().memory_estimate(2, None).check_fits(1 << 30).is_ok(), "the default fits in 1 GiB");
        config.batch_size = usize::MAX;
        assert_eq!(config.memory_estimate(2, None).total(), u64::MAX, "saturates");
    }

    #[test]
    fn bytes_read_as_binary_units() {
        assert_eq!(format_bytes(900), "900 B");
        assert_eq!(format_bytes(512 << 20), "512 MiB");
        assert_eq!(format_bytes(3 << 29), "1.5 GiB");
        assert_eq!(format_bytes(2 << 40), "2.0 TiB");
    }
}
