//! Helpers shared by the integration tests: seeded random arrays, the
//! finite-difference comparison and a test-only serde format.
#![allow(dead_code)]

pub mod serde_tree;

use ndarray::{Array1, Array2};
use proptest::test_runner::TestCaseError;
use rand::Rng;
use rand_distr::StandardNormal;

/// Step of the central differences `(L(p + h) - L(p - h)) / 2h`.
pub const FD_STEP: f64 = 1e-6;
/// Relative tolerance, scaled by `max(1, |analytic|, |numeric|)`.
pub const FD_TOLERANCE: f64 = 1e-5;

/// `rows x cols` matrix of i.i.d. `N(0, scale^2)` entries.
pub fn gaussian<R: Rng>(rng: &mut R, rows: usize, cols: usize, scale: f64) -> Array2<f64> {
    Array2::from_shape_fn((rows, cols), |_| scale * rng.sample::<f64, _>(StandardNormal))
}

/// Vector of i.i.d. uniform entries in `[low, high)`.
pub fn uniform<R: Rng>(rng: &mut R, len: usize, low: f64, high: f64) -> Array1<f64> {
    Array1::from_shape_fn(len, |_| rng.random_range(low..high))
}

/// Fails the case unless `analytic` and `numeric` agree to `FD_TOLERANCE` relative accuracy.
pub fn check_close(analytic: f64, numeric: f64, what: &str) -> Result<(), TestCaseError> {
    let scale = 1f64.max(analytic.abs()).max(numeric.abs());
    if (analytic - numeric).abs() <= FD_TOLERANCE * scale {
        Ok(())
    } else {
        Err(TestCaseError::fail(format!("{what}: analytic {analytic:e} vs finite difference {numeric:e}")))
    }
}
