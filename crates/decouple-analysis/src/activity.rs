//! Activation statistics of a representation `F = f(X)` (B samples x m neurons)
//! computed by the caller on clean inputs (docs/model.md §6).
//!
//! Neuron i is *active* on sample b when `F_bi != 0` (exact zero: the
//! soft-thresholding network outputs exact zeros below its threshold). A neuron
//! is *dead* on the set when its column of F is all zero. Activation sparsity is
//! the fraction of zero entries, `#{(b, i) : F_bi = 0} / (B m)`.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::error::{AnalysisError, check_finite_f32, check_nonempty_2d};

/// Activity of the neurons on a set of inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityStats {
    /// Number of samples B.
    pub n_samples: usize,
    /// Number of neurons m.
    pub n_neurons: usize,
    /// `alive_i = exists b : F_bi != 0`, one entry per neuron.
    pub alive: Vec<bool>,
    /// Number of dead neurons, `#{i : F_bi = 0 for all b}`.
    pub n_dead: usize,
    /// `n_dead / m`.
    pub dead_fraction: f64,
    /// Fraction of zero entries of F, `#{(b, i) : F_bi = 0} / (B m)`.
    pub zero_fraction: f64,
    /// Mean over samples of the number of active neurons, `#{(b, i) : F_bi != 0} / B`.
    pub mean_active_per_sample: f64,
    /// Firing rate of every neuron, `#{b : F_bi != 0} / B`.
    pub active_fraction_per_neuron: Vec<f64>,
}

/// Dead neurons and activation sparsity of a representation `F` (B x m).
///
/// # Errors
/// [`AnalysisError::Empty`] and [`AnalysisError::NonFinite`] naming `features`.
pub fn activity_stats(features: ArrayView2<'_, f32>) -> Result<ActivityStats, AnalysisError> {
    check_nonempty_2d("features", &features)?;
    check_finite_f32("features", &features)?;
    let (n_samples, n_neurons) = features.dim();
    let active_counts: Vec<usize> = features.columns().into_iter().map(|col| col.iter().filter(|&&v| v != 0.0).count()).collect();
    let alive: Vec<bool> = active_counts.iter().map(|&c| c > 0).collect();
    let n_dead = alive.iter().filter(|&&a| !a).count();
    let n_active: usize = active_counts.iter().sum();
    let n_entries = (n_samples * n_neurons) as f64;
    Ok(ActivityStats {
        n_samples,
        n_neurons,
        n_dead,
        dead_fraction: n_dead as f64 / n_neurons as f64,
        zero_fraction: (n_entries - n_active as f64) / n_entries,
        mean_active_per_sample: n_active as f64 / n_samples as f64,
        active_fraction_per_neuron: active_counts.iter().map(|&c| c as f64 / n_samples as f64).collect(),
        alive,
    })
}
