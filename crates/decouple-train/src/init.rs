//! How the network starts: `Gaussian` (`w_i ~ N(0, sigma0^2 I)`) or
//! `NearDictionary` (`w_i = m_{i mod d} + (noise / sqrt(d1)) g_i`, the warm
//! start of Pokle et al. 2022), thresholds `b = 0` in both cases.

use decouple_data::{SparseCodingModel, fill_gaussian, rng};
use decouple_net::SymReluNet;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use crate::{NetworkConfig, TrainError};

/// The initial weights.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
#[non_exhaustive]
pub enum Init {
    /// `w_i ~ N(0, sigma0^2 I_{d1})` i.i.d. (`network.sigma0`).
    Gaussian {},
    /// Warm start next to the dictionary: neuron `i` starts at feature
    /// `m_{i mod d}` plus Gaussian noise of expected norm `noise`
    /// (`w_i = m_{i mod d} + (noise / sqrt(d1)) g_i`, `g_i ~ N(0, I)`), so every
    /// feature has a neuron when `m >= d`. `sigma0` is not used.
    NearDictionary {
        /// Expected norm of the perturbation, finite and `>= 0` (features have norm 1).
        noise: f64,
    },
}

impl Default for Init {
    /// `Gaussian {}`.
    fn default() -> Self {
        Self::Gaussian {}
    }
}

impl Init {
    /// Validates the fields.
    ///
    /// # Errors
    /// `network.init.noise` not finite and `>= 0`.
    pub fn check(&self) -> Result<(), TrainError> {
        match *self {
            Self::NearDictionary { noise } if !(noise.is_finite() && noise >= 0.0) => {
                Err(TrainError::OutOfRange { field: "network.init.noise", value: noise, allowed: "finite and >= 0" })
            }
            _ => Ok(()),
        }
    }
}

/// The initial network of a run with `seed` on `model` (the seed's `"init"` stream).
///
/// # Errors
/// Invalid sizes or `sigma0`.
pub fn initial_network(network: &NetworkConfig, model: &SparseCodingModel, seed: u64) -> Result<SymReluNet<f32>, TrainError> {
    let (m, d1) = (network.width, model.config().d1);
    let mut stream = rng::stream(seed, "init");
    match network.init {
        Init::Gaussian {} => Ok(SymReluNet::init(m, d1, network.sigma0, &mut stream)?),
        Init::NearDictionary { noise } => {
            let d = model.config().d;
            let mut weights = Array2::<f32>::zeros((m, d1));
            fill_gaussian(weights.view_mut(), (noise / (d1 as f64).sqrt()) as f32, &mut stream);
            let features = model.dictionary().features_f32();
            for (i, mut row) in weights.rows_mut().into_iter().enumerate() {
                row += &features.row(i % d);
            }
            Ok(SymReluNet::new(weights, Array1::zeros(m))?)
        }
    }
}
