//! Sparse latent codes `z in {-1, 0, +1}^d`.
//!
//! All variants draw signs `+/-1` with equal probability independently of the
//! support, so `E[z] = 0` and `E[z z^T] = c I_d` with `c = E[z_j^2]`
//! (`p`, `k/d` or `1/d`): the sparse part `M z` has covariance `c M M^T`.

use ndarray::ArrayViewMut2;
use rand::Rng;
use rand::distr::Bernoulli;
use rand::seq::index::sample as sample_indices;
use serde::{Deserialize, Serialize};

use crate::DataError;

/// Distribution of the sparse latent `z`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
#[non_exhaustive]
pub enum SparseLatent {
    /// Each coordinate independently nonzero with probability `p`.
    Bernoulli {
        /// Activation probability, in `[0, 1]`.
        p: f64,
    },
    /// Exactly `k` uniformly chosen nonzero coordinates.
    ExactlyK {
        /// Support size, in `[0, d]`.
        k: usize,
    },
    /// Exactly one uniformly chosen nonzero coordinate.
    OneHot {},
}

impl Default for SparseLatent {
    /// `Bernoulli { p: 2/32 }`: two active features on average at `d = 32`.
    fn default() -> Self {
        Self::Bernoulli { p: 2.0 / 32.0 }
    }
}

impl SparseLatent {
    /// Validates against the number of features `d`.
    ///
    /// # Errors
    /// `latent.p` outside `[0, 1]`, `latent.k > d`.
    pub fn check(&self, d: usize) -> Result<(), DataError> {
        match *self {
            Self::Bernoulli { p } if !(0.0..=1.0).contains(&p) => Err(DataError::out_of_range("latent.p", p, "in [0, 1]")),
            Self::ExactlyK { k } if k > d => Err(DataError::out_of_range("latent.k", k as f64, format!("in [0, d = {d}]"))),
            _ => Ok(()),
        }
    }

    /// `c = E[z_j^2]`, so that `E[z z^T] = c I_d`.
    #[must_use]
    pub fn second_moment(&self, d: usize) -> f64 {
        match *self {
            Self::Bernoulli { p } => p,
            Self::ExactlyK { k } => k as f64 / d as f64,
            Self::OneHot {} => 1.0 / d as f64,
        }
    }

    /// Fills every row of `z` (`n x d`) with an independent draw.
    pub fn sample_into<R: Rng + ?Sized>(&self, mut z: ArrayViewMut2<'_, f32>, rng: &mut R) {
        let d = z.ncols();
        z.fill(0.0);
        for mut row in z.rows_mut() {
            match *self {
                Self::Bernoulli { p } => {
                    // One distribution per row: `random_bool(p)` builds it for every coordinate (same draws).
                    let coin = Bernoulli::new(p).expect("p is checked to lie in [0, 1]");
                    for value in &mut row {
                        if rng.sample(coin) {
                            *value = random_sign(rng);
                        }
                    }
                }
                Self::ExactlyK { k } => {
                    for j in sample_indices(rng, d, k.min(d)) {
                        row[j] = random_sign(rng);
                    }
                }
                Self::OneHot {} => {
                    let j = rng.random_range(0..d);
                    row[j] = random_sign(rng);
                }
            }
        }
    }
}

fn random_sign<R: Rng + ?Sized>(rng: &mut R) -> f32 {
    if rng.random::<bool>() { 1.0 } else { -1.0 }
}
