//! The named parts of a run config: what a config says the objective and the
//! augmentation are. A table `{ kind = "...", ... }` whose `kind` is a
//! built-in is that built-in ([`ObjectiveKind`], [`Augmentation`],
//! `kind = "Image"` for an [`ImageAugmentation`]), with its serde form
//! unchanged; any other `kind` is a [`PartConfig`] (the kind and its
//! parameters as JSON), which a [`crate::Registry`] turns into a part when the
//! run starts.

use std::collections::BTreeMap;

use decouple_augment::{Augmentation, ImageAugmentation};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::ObjectiveKind;

/// The `kind`s of the built-in objectives.
pub const BUILTIN_OBJECTIVES: [&str; 3] = ["Contrastive", "NonContrastive", "Supervised"];

/// The `kind`s of the built-in augmentations (`Image` is an [`ImageAugmentation`]).
pub const BUILTIN_AUGMENTATIONS: [&str; 5] = ["ComplementaryMask", "GaussianNoise", "Identity", "Image", "IndependentMask"];

/// A part a config names by a `kind` that is not built in: `{ kind = "MyLoss", lambda = 1.0 }`.
#[derive(Debug, Clone, PartialEq)]
pub struct PartConfig {
    /// The registered name.
    pub kind: String,
    /// Every other field of the table, by name (sorted, so that equal parts serialise alike).
    pub params: BTreeMap<String, Value>,
}

impl PartConfig {
    /// The part `kind` with no parameters (its constructor's defaults).
    #[must_use]
    pub fn new(kind: impl Into<String>) -> Self {
        Self { kind: kind.into(), params: BTreeMap::new() }
    }

    /// `self` with `name = value` added.
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.params.insert(name.into(), value.into());
        self
    }

    /// The parameters as one JSON table (what a constructor deserialises).
    #[must_use]
    pub fn params_value(&self) -> Value {
        Value::Object(self.params.iter().map(|(key, value)| (key.clone(), value.clone())).collect())
    }

    fn from_table<E: serde::de::Error>(mut map: Map<String, Value>, field: &str) -> Result<Self, E> {
        match map.remove("kind") {
            Some(Value::String(kind)) => Ok(Self { kind, params: map.into_iter().collect() }),
            Some(other) => Err(E::custom(format!("{field}.kind must be a string, found {other}"))),
            None => Err(E::custom(format!("missing field `kind` of `{field}`"))),
        }
    }

    fn table(&self) -> Map<String, Value> {
        let mut map: Map<String, Value> = self.params.iter().map(|(key, value)| (key.clone(), value.clone())).collect();
        map.insert("kind".into(), Value::String(self.kind.clone()));
        map
    }
}

impl Serialize for PartConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // `kind` first, then the parameters in name order.
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(Some(self.params.len() + 1))?;
        map.serialize_entry("kind", &self.kind)?;
        for (key, value) in &self.params {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// What a run minimises: a built-in, or a part a registry makes.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ObjectiveConfig {
    /// A built-in objective (`kind` = `Contrastive`, `Supervised`, `NonContrastive`).
    Builtin(ObjectiveKind),
    /// Any other `kind`, made by a [`crate::Registry`].
    Named(PartConfig),
}

impl ObjectiveConfig {
    /// The built-in objective, if it is one.
    #[must_use]
    pub fn builtin(&self) -> Option<&ObjectiveKind> {
        match self {
            Self::Builtin(kind) => Some(kind),
            Self::Named(_) => None,
        }
    }

    /// The `kind` of the table.
    #[must_use]
    pub fn kind(&self) -> String {
        match self {
            Self::Builtin(kind) => serde_json::to_value(kind).ok().and_then(|v| v.get("kind").and_then(Value::as_str).map(str::to_string)),
            Self::Named(part) => Some(part.kind.clone()),
        }
        .unwrap_or_default()
    }
}

impl From<ObjectiveKind> for ObjectiveConfig {
    fn from(kind: ObjectiveKind) -> Self {
        Self::Builtin(kind)
    }
}

impl Serialize for ObjectiveConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Builtin(kind) => kind.serialize(serializer),
            Self::Named(part) => part.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ObjectiveConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(deserializer)?;
        match map.get("kind").and_then(Value::as_str) {
            Some(kind) if BUILTIN_OBJECTIVES.contains(&kind) => {
                serde_json::from_value(Value::Object(map)).map(Self::Builtin).map_err(D::Error::custom)
            }
            _ => PartConfig::from_table(map, "objective").map(Self::Named),
        }
    }
}

/// What makes the views: a built-in, an image augmentation, or a part a registry makes.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AugmentationConfig {
    /// A built-in augmentation (`Identity`, `ComplementaryMask`, `IndependentMask`, `GaussianNoise`).
    Builtin(Augmentation),
    /// `{ kind = "Image", height, width, shift, contrast, brightness, cutout }`.
    Image(ImageAugmentation),
    /// Any other `kind`, made by a [`crate::Registry`].
    Named(PartConfig),
}

impl AugmentationConfig {
    /// The built-in augmentation, if it is one.
    #[must_use]
    pub fn builtin(&self) -> Option<&Augmentation> {
        match self {
            Self::Builtin(augmentation) => Some(augmentation),
            _ => None,
        }
    }

    /// Whether the views are the sample itself (the built-in `Identity`).
    #[must_use]
    pub fn is_identity(&self) -> bool {
        matches!(self, Self::Builtin(Augmentation::Identity {}))
    }
}

impl Default for AugmentationConfig {
    /// `ComplementaryMask { keep: 0.5 }`.
    fn default() -> Self {
        Self::Builtin(Augmentation::default())
    }
}

impl From<Augmentation> for AugmentationConfig {
    fn from(augmentation: Augmentation) -> Self {
        Self::Builtin(augmentation)
    }
}

impl From<ImageAugmentation> for AugmentationConfig {
    fn from(augmentation: ImageAugmentation) -> Self {
        Self::Image(augmentation)
    }
}

impl Serialize for AugmentationConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Builtin(augmentation) => augmentation.serialize(serializer),
            Self::Image(image) => {
                let mut map = match serde_json::to_value(image).map_err(serde::ser::Error::custom)? {
                    Value::Object(map) => map,
                    _ => Map::new(),
                };
                let mut tagged = Map::new();
                tagged.insert("kind".into(), Value::String("Image".into()));
                tagged.append(&mut map);
                Value::Object(tagged).serialize(serializer)
            }
            Self::Named(part) => part.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for AugmentationConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut map = Map::<String, Value>::deserialize(deserializer)?;
        match map.get("kind").and_then(Value::as_str) {
            Some("Image") => {
                map.remove("kind");
                serde_json::from_value(Value::Object(map)).map(Self::Image).map_err(D::Error::custom)
            }
            Some(kind) if BUILTIN_AUGMENTATIONS.contains(&kind) => {
                serde_json::from_value(Value::Object(map)).map(Self::Builtin).map_err(D::Error::custom)
            }
            _ => PartConfig::from_table(map, "augmentation").map(Self::Named),
        }
    }
}

impl<'de> Deserialize<'de> for PartConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::from_table(Map::<String, Value>::deserialize(deserializer)?, "part")
    }
}

impl PartConfig {
    /// The table `{ kind, ...params }` as JSON.
    #[must_use]
    pub fn to_value(&self) -> Value {
        Value::Object(self.table())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_ins_keep_their_serde_form_and_other_kinds_are_named_parts() {
        let builtin: AugmentationConfig = serde_json::from_str(r#"{"kind":"ComplementaryMask","keep":0.3}"#).unwrap();
        assert_eq!(builtin, AugmentationConfig::Builtin(Augmentation::ComplementaryMask { keep: 0.3 }));
        assert_eq!(serde_json::to_string(&builtin).unwrap(), r#"{"kind":"ComplementaryMask","keep":0.3}"#);
        let image: AugmentationConfig = serde_json::from_str(r#"{"kind":"Image","height":8,"width":8,"shift":1}"#).unwrap();
        let AugmentationConfig::Image(inner) = &image else { panic!("{image:?}") };
        assert_eq!((inner.height, inner.shift), (8, 1));
        let back: AugmentationConfig = serde_json::from_str(&serde_json::to_string(&image).unwrap()).unwrap();
        assert_eq!(back, image);
        let named: ObjectiveConfig = serde_json::from_str(r#"{"lambda":2.0,"kind":"AlignmentUniformity","t":1}"#).unwrap();
        assert_eq!(named, ObjectiveConfig::Named(PartConfig::new("AlignmentUniformity").with("lambda", 2.0).with("t", 1)));
        assert_eq!(serde_json::to_string(&named).unwrap(), r#"{"kind":"AlignmentUniformity","lambda":2.0,"t":1}"#);
        let error = serde_json::from_str::<AugmentationConfig>(r#"{"kind":"ComplementaryMask","kep":0.3}"#).unwrap_err();
        assert!(error.to_string().contains("unknown field `kep`"), "{error}");
        assert!(serde_json::from_str::<ObjectiveConfig>(r#"{"lambda":2.0}"#).unwrap_err().to_string().contains("missing field `kind`"));
    }
}
