//! The saved state of an objective: its trained tensors (a predictor, a
//! linear head, an EMA target network, batch-norm parameters, a running
//! correlation) by name, as a checkpoint keeps them and `.npy` files show
//! them, so that a reloaded run has exactly the head it was trained with.

use std::collections::BTreeMap;

use ndarray::{ArrayD, ArrayViewD, IxDyn};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::TrainError;

/// The values of one tensor, in row-major order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TensorData {
    /// Single precision (every trained parameter).
    F32(Vec<f32>),
    /// Double precision (statistics kept in `f64`, e.g. DirectPred's running
    /// correlation). In JSON as the values' IEEE 754 bit patterns,
    /// `{"f64_bits": [...]}`: serde_json's default number parsing may round
    /// the last bit of an `f64` (it is exact for the `f32` values above), and a
    /// checkpoint must give back exactly what it kept.
    #[serde(rename = "f64_bits", with = "f64_bits")]
    F64(Vec<f64>),
}

/// `f64` values as their bit patterns (`u64`), which every JSON parser reads exactly.
mod f64_bits {
    use super::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(values: &[f64], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(values.iter().map(|value| value.to_bits()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f64>, D::Error> {
        Ok(Vec::<u64>::deserialize(deserializer)?.into_iter().map(f64::from_bits).collect())
    }
}

/// A named tensor of an objective's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tensor {
    /// Its shape (`[]` for a scalar).
    pub shape: Vec<usize>,
    /// Its values (`product(shape)` of them).
    pub data: TensorData,
}

impl Tensor {
    /// Number of values the shape holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the tensor holds no value.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An objective's state as saved: tensors by name (`predictor`, `target.weights`, ...); empty for stateless objectives.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SavedState {
    /// The tensors, by name.
    pub tensors: BTreeMap<String, Tensor>,
}

impl SavedState {
    /// Whether it holds no tensor.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }

    /// Adds `name`: an `f32` tensor of `shape` with `values` (row-major).
    pub fn insert_f32(&mut self, name: impl Into<String>, shape: &[usize], values: impl IntoIterator<Item = f32>) {
        self.tensors.insert(name.into(), Tensor { shape: shape.to_vec(), data: TensorData::F32(values.into_iter().collect()) });
    }

    /// Adds `name`: an `f64` tensor of `shape` with `values` (row-major).
    pub fn insert_f64(&mut self, name: impl Into<String>, shape: &[usize], values: impl IntoIterator<Item = f64>) {
        self.tensors.insert(name.into(), Tensor { shape: shape.to_vec(), data: TensorData::F64(values.into_iter().collect()) });
    }

    /// Adds `name` from an array (any dimension, in row-major order).
    pub fn insert_array(&mut self, name: impl Into<String>, array: ArrayViewD<'_, f32>) {
        let shape = array.shape().to_vec();
        self.insert_f32(name, &shape, array.as_standard_layout().iter().copied());
    }

    /// The `f32` tensor `name` with exactly `shape`, as an array.
    ///
    /// # Errors
    /// [`TrainError::State`] when it is missing, of another type or shape, or its values do not fill the shape.
    pub fn f32_array(&self, name: &str, shape: &[usize]) -> Result<ArrayD<f32>, TrainError> {
        let tensor = self.tensor(name, shape)?;
        match &tensor.data {
            TensorData::F32(values) => array(name, shape, values.clone()),
            TensorData::F64(_) => Err(state_error(name, "holds f64 values where f32 are expected")),
        }
    }

    /// The `f64` tensor `name` with exactly `shape`, as an array.
    ///
    /// # Errors
    /// As [`SavedState::f32_array`].
    pub fn f64_array(&self, name: &str, shape: &[usize]) -> Result<ArrayD<f64>, TrainError> {
        let tensor = self.tensor(name, shape)?;
        match &tensor.data {
            TensorData::F64(values) => array(name, shape, values.clone()),
            TensorData::F32(_) => Err(state_error(name, "holds f32 values where f64 are expected")),
        }
    }

    /// Fails unless every tensor name is one of `expected` (a state saved by another objective).
    ///
    /// # Errors
    /// [`TrainError::State`] naming the first unexpected tensor.
    pub fn check_names(&self, expected: &[&str]) -> Result<(), TrainError> {
        match self.tensors.keys().find(|name| !expected.contains(&name.as_str())) {
            Some(name) => Err(state_error(name, &format!("is not part of this objective's state (expected: {})", expected.join(", ")))),
            None => Ok(()),
        }
    }

    fn tensor(&self, name: &str, shape: &[usize]) -> Result<&Tensor, TrainError> {
        let tensor = self.tensors.get(name).ok_or_else(|| state_error(name, "is missing"))?;
        if tensor.shape != shape {
            return Err(state_error(name, &format!("has shape {:?}, expected {shape:?}", tensor.shape)));
        }
        Ok(tensor)
    }
}

fn array<T>(name: &str, shape: &[usize], values: Vec<T>) -> Result<ArrayD<T>, TrainError> {
    let found = values.len();
    ArrayD::from_shape_vec(IxDyn(shape), values)
        .map_err(|_| state_error(name, &format!("holds {found} values, which do not fill shape {shape:?}")))
}

fn state_error(name: &str, reason: &str) -> TrainError {
    TrainError::State { tensor: name.to_string(), reason: reason.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensors_round_trip_through_json_bit_for_bit() {
        let mut state = SavedState::default();
        state.insert_f32("predictor", &[2, 2], [0.1, -3.5e-8, f32::MIN_POSITIVE, 7.0]);
        // The second value is one that serde_json's default parser (without
        // `float_roundtrip`) reads 1 ulp off from its shortest decimal.
        let hard = f64::from_bits(4_607_105_406_303_708_005);
        state.insert_f64("correlation", &[2], [std::f64::consts::PI, hard]);
        let text = serde_json::to_string(&state).unwrap();
        assert!(text.contains(&format!(r#""f64_bits":[{},{}]"#, std::f64::consts::PI.to_bits(), hard.to_bits())), "{text}");
        let back: SavedState = serde_json::from_str(&text).unwrap();
        assert_eq!(back, state);
        assert_eq!(back.f64_array("correlation", &[2]).unwrap()[1].to_bits(), hard.to_bits());
        let predictor = back.f32_array("predictor", &[2, 2]).unwrap();
        assert_eq!(predictor[[1, 0]].to_bits(), f32::MIN_POSITIVE.to_bits());
        assert!(back.f32_array("predictor", &[4]).unwrap_err().to_string().contains("has shape [2, 2], expected [4]"));
        assert!(back.f32_array("correlation", &[2]).unwrap_err().to_string().contains("f64"));
        assert!(back.f32_array("head", &[1]).unwrap_err().to_string().contains("`head` is missing"));
        assert!(back.check_names(&["predictor"]).unwrap_err().to_string().contains("`correlation` is not part"));
    }
}
