//! Downstream tasks for linear probes, labelled from the latent `z`.
//!
//! * [`SignTask`]: `y = sign(<a, z>)` for a fixed `a ~ N(0, I_d)`; ties
//!   (`<a, z> = 0`, i.e. `z = 0`) are dropped.
//! * [`FeatureSignTask`]: `y = z_j` on the samples with `z_j != 0`.
//!
//! Labels are `+1.0` / `-1.0`.

use ndarray::{Array1, ArrayView1, Axis};
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::{Batch, DataError, SparseCodingModel};

/// A labelling rule on latent codes.
pub trait Task {
    /// Short name for error messages and reports.
    fn name(&self) -> &'static str;
    /// The label of a sample with latent `z`, or `None` if it has none (a tie).
    fn label(&self, z: ArrayView1<'_, f32>) -> Option<f32>;
    /// Checks the task fits latents of dimension `d`.
    ///
    /// # Errors
    /// A field of the task out of range for `d`.
    fn check(&self, d: usize) -> Result<(), DataError>;
}

/// `y = sign(<a, z>)` for a fixed random direction `a`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignTask {
    direction: Array1<f32>,
}

impl SignTask {
    /// Draws `a ~ N(0, I_d)`.
    pub fn new<R: Rng + ?Sized>(d: usize, rng: &mut R) -> Self {
        Self { direction: Array1::from_shape_simple_fn(d, || rng.sample(StandardNormal)) }
    }

    /// The direction `a`.
    #[must_use]
    pub fn direction(&self) -> ArrayView1<'_, f32> {
        self.direction.view()
    }
}

impl Task for SignTask {
    fn name(&self) -> &'static str {
        "sign(<a,z>)"
    }

    fn check(&self, d: usize) -> Result<(), DataError> {
        if self.direction.len() == d {
            Ok(())
        } else {
            Err(DataError::ShapeMismatch { what: "task.direction", expected: vec![d], found: vec![self.direction.len()] })
        }
    }

    fn label(&self, z: ArrayView1<'_, f32>) -> Option<f32> {
        let score = self.direction.dot(&z);
        (score != 0.0).then(|| score.signum())
    }
}

/// `y = z_j` on samples whose feature `j` is active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureSignTask {
    /// The feature `j`.
    pub feature: usize,
}

impl Task for FeatureSignTask {
    fn name(&self) -> &'static str {
        "z_j"
    }

    fn check(&self, d: usize) -> Result<(), DataError> {
        if self.feature < d { Ok(()) } else { Err(DataError::out_of_range("task.feature", self.feature as f64, format!("< d = {d}"))) }
    }

    fn label(&self, z: ArrayView1<'_, f32>) -> Option<f32> {
        let value = z[self.feature];
        (value != 0.0).then_some(value)
    }
}

/// Samples with a label each.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledSet {
    /// The samples (with their parts).
    pub samples: Batch,
    /// Labels in `{-1, +1}`, one per sample.
    pub labels: Array1<f32>,
}

/// Draws fresh samples from `model` until `n` of them carry a label of `task`.
///
/// Samples are drawn in chunks of `n` and kept in order of drawing.
///
/// # Errors
/// [`DataError::NotEnoughLabels`] if `1000 n + 10_000` draws give fewer than
/// `n` labels (e.g. `p = 0`); [`DataError::OutOfRange`] if a
/// [`FeatureSignTask`] names a feature `>= d`.
pub fn draw_labelled<T: Task, R: Rng + ?Sized>(
    model: &SparseCodingModel,
    task: &T,
    n: usize,
    rng: &mut R,
) -> Result<LabelledSet, DataError> {
    task.check(model.config().d)?;
    let max_attempts = 1000 * n + 10_000;
    let mut kept_rows = Vec::with_capacity(n);
    let mut chunks = Vec::new();
    let mut labels = Vec::with_capacity(n);
    let mut attempts = 0;
    while labels.len() < n {
        if attempts >= max_attempts {
            return Err(DataError::NotEnoughLabels {
                what: task.name(),
                wanted: n,
                attempts,
                hint: "the latent is (almost) always zero on the task's support; raise the activation probability",
            });
        }
        let chunk = model.sample(n.max(1), rng);
        attempts += chunk.n();
        let chunk_index = chunks.len();
        for (row, z) in chunk.z().axis_iter(Axis(0)).enumerate() {
            if labels.len() == n {
                break;
            }
            if let Some(label) = task.label(z) {
                kept_rows.push((chunk_index, row));
                labels.push(label);
            }
        }
        chunks.push(chunk);
    }
    let mut samples = Batch::zeros(n, model.config().d, model.config().d1);
    for (out_row, &(chunk, row)) in kept_rows.iter().enumerate() {
        let source = &chunks[chunk];
        samples.z.row_mut(out_row).assign(&source.z.row(row));
        samples.sparse.row_mut(out_row).assign(&source.sparse.row(row));
        samples.dense.row_mut(out_row).assign(&source.dense.row(row));
        samples.x.row_mut(out_row).assign(&source.x.row(row));
    }
    Ok(LabelledSet { samples, labels: Array1::from(labels) })
}
