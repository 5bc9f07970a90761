//! Where a run's samples come from: the `[data]` table. Without a `kind` it
//! is the sparse-coding model `x = M z + xi` ([`DataConfig`], docs/model.md
//! §1), sampled fresh or as a pool (the run's `regime`); with
//! `kind = "File"` it is a data file ([`FileData`]: samples, optional labels,
//! image shape, preprocessing, and the digest of the bytes the run was
//! configured with), always visited as a pool of all its samples.

use decouple_data::{DataConfig, FileData};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// The data of a run.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DataSource {
    /// The sparse-coding model (serialised as its fields, with no `kind`).
    Model(DataConfig),
    /// A data file (serialised as `{ kind = "File", path, labels, image, preprocess, digest }`).
    File(FileData),
}

impl Default for DataSource {
    /// The docs/model.md §7 model.
    fn default() -> Self {
        Self::Model(DataConfig::default())
    }
}

impl From<DataConfig> for DataSource {
    fn from(config: DataConfig) -> Self {
        Self::Model(config)
    }
}

impl From<FileData> for DataSource {
    fn from(file: FileData) -> Self {
        Self::File(file)
    }
}

impl DataSource {
    /// The model's config, for model data.
    #[must_use]
    pub fn model(&self) -> Option<&DataConfig> {
        match self {
            Self::Model(config) => Some(config),
            Self::File(_) => None,
        }
    }

    /// The model's config, for model data, to edit.
    pub fn model_mut(&mut self) -> Option<&mut DataConfig> {
        match self {
            Self::Model(config) => Some(config),
            Self::File(_) => None,
        }
    }

    /// The data file, for file data.
    #[must_use]
    pub fn file(&self) -> Option<&FileData> {
        match self {
            Self::File(file) => Some(file),
            Self::Model(_) => None,
        }
    }

    /// The data file, for file data, to edit.
    pub fn file_mut(&mut self) -> Option<&mut FileData> {
        match self {
            Self::File(file) => Some(file),
            Self::Model(_) => None,
        }
    }
}

impl Serialize for DataSource {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Model(config) => config.serialize(serializer),
            // `kind` first, then the file's fields in their declared order (a
            // `serde_json::Map` would sort them: `kind` would follow `image`).
            Self::File(file) => Tagged { kind: "File", file }.serialize(serializer),
        }
    }
}

/// A data file with its `kind` tag, as it is serialised.
#[derive(Serialize)]
struct Tagged<'a> {
    kind: &'static str,
    #[serde(flatten)]
    file: &'a FileData,
}

impl<'de> Deserialize<'de> for DataSource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut map = Map::<String, Value>::deserialize(deserializer)?;
        match map.remove("kind") {
            None => serde_json::from_value(Value::Object(map)).map(Self::Model).map_err(D::Error::custom),
            Some(Value::String(kind)) if kind == "File" => {
                serde_json::from_value(Value::Object(map)).map(Self::File).map_err(D::Error::custom)
            }
            Some(other) => Err(D::Error::custom(format!(
                "unknown variant `{}`, expected `File` (or no `kind`: the sparse-coding model)",
                other.as_str().map_or_else(|| other.to_string(), str::to_string)
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_has_no_kind_and_a_file_has_kind_file() {
        let model = DataSource::default();
        let text = serde_json::to_string(&model).unwrap();
        assert_eq!(text, serde_json::to_string(&DataConfig::default()).unwrap(), "the model's form is unchanged");
        assert_eq!(serde_json::from_str::<DataSource>(&text).unwrap(), model);
        let file = DataSource::File(FileData::new("x.npy"));
        let text = serde_json::to_string(&file).unwrap();
        assert!(text.starts_with(r#"{"kind":"File","path":"x.npy""#), "{text}");
        assert_eq!(serde_json::from_str::<DataSource>(&text).unwrap(), file);
        let error = serde_json::from_str::<DataSource>(r#"{"kind":"File","path":"x.npy","pth":1}"#).unwrap_err();
        assert!(error.to_string().contains("unknown field `pth`"), "{error}");
        let error = serde_json::from_str::<DataSource>(r#"{"kind":"Images"}"#).unwrap_err();
        assert!(error.to_string().contains("unknown variant `Images`"), "{error}");
    }
}
