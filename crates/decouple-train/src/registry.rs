//! The registry of named parts: which `kind`s a config may name for its
//! `objective` and `augmentation`, and how each is made from the table's
//! parameters. The built-ins are always there; a binary (or the Python
//! package) adds its own before it loads a config:
//!
//! ```
//! use decouple_train::{Registry, TrainConfig, PartConfig, ObjectiveConfig};
//! use decouple_loss::{InfoNce, Similarity};
//!
//! /// InfoNCE with its temperature as the only parameter, under a name of our own.
//! #[derive(Default, serde::Serialize, serde::Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Warm { temperature: Option<f64> }
//!
//! let mut registry = Registry::new();
//! registry
//!     .register_objective_with("WarmInfoNce", serde_json::json!({ "temperature": 0.5 }), |params| {
//!         let Warm { temperature } = serde_json::from_value(params.clone()).map_err(|error| error.to_string())?;
//!         Ok(InfoNce { similarity: Similarity::Cosine, temperature: temperature.unwrap_or(0.5) })
//!     })
//!     .unwrap();
//! let part = ObjectiveConfig::Named(PartConfig::new("WarmInfoNce").with("temperature", 0.3));
//! let objective = registry.objective(&part).unwrap();
//! assert_eq!(decouple_train::Objective::label(&objective), "InfoNce");
//! let unknown = registry.objective(&ObjectiveConfig::Named(PartConfig::new("Nope"))).unwrap_err();
//! assert!(unknown.to_string().contains("registered kinds: Contrastive, NonContrastive, Supervised, WarmInfoNce"));
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use decouple_augment::{AnyAugmentation, Augment, DynAugment};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::dynamic::{AnyObjective, DynObjective};
use crate::parts::{AugmentationConfig, BUILTIN_AUGMENTATIONS, BUILTIN_OBJECTIVES, ObjectiveConfig, PartConfig};
use crate::{Objective, TrainError};

type Make<T> = Arc<dyn Fn(&Value) -> Result<T, TrainError> + Send + Sync>;

/// A registered kind: its default parameters (a table) and its constructor.
#[derive(Clone)]
struct Entry<T> {
    defaults: Value,
    make: Make<T>,
}

/// Constructors of objectives and augmentations by `kind` (see the module doc).
#[derive(Clone, Default)]
pub struct Registry {
    objectives: BTreeMap<String, Entry<Arc<dyn DynObjective>>>,
    augmentations: BTreeMap<String, Entry<Arc<dyn DynAugment>>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Registry")
            .field("objectives", &self.objective_kinds())
            .field("augmentations", &self.augmentation_kinds())
            .finish()
    }
}

/// `message` about the parameters of `field` (`objective` or `augmentation`) of `kind`.
fn parameters_error(field: &'static str, kind: &str, message: impl std::fmt::Display) -> TrainError {
    TrainError::PartParameters { field, kind: kind.to_string(), message: message.to_string() }
}

fn check_new(field: &'static str, kind: &str, builtins: &[&str], taken: bool) -> Result<(), TrainError> {
    if kind.is_empty() || builtins.contains(&kind) || taken {
        let why = if kind.is_empty() {
            "a kind needs a name"
        } else if taken {
            "this kind is registered already"
        } else {
            "this is a built-in kind"
        };
        return Err(parameters_error(field, kind, format!("cannot register: {why}")));
    }
    Ok(())
}

impl Registry {
    /// The built-ins only.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers objective `kind`, made by deserialising the table's
    /// parameters into `O` (so unknown or mistyped parameters are errors that
    /// name them) and checked with [`Objective::check`]; `O::default()` gives
    /// the parameters a config need not spell out.
    ///
    /// # Errors
    /// A built-in or already registered `kind`.
    pub fn register_objective<O>(&mut self, kind: &str) -> Result<&mut Self, TrainError>
    where
        O: Objective + Serialize + DeserializeOwned + Default + Send + Sync + 'static,
    {
        let defaults = serde_json::to_value(O::default()).map_err(|error| parameters_error("objective", kind, error))?;
        self.register_objective_with(kind, defaults, |params| {
            serde_json::from_value::<O>(params.clone()).map_err(|error| error.to_string())
        })
    }

    /// Registers objective `kind` with its `defaults` (a table of parameters, or
    /// `null`) and a constructor from the parameters (the defaults overlaid by
    /// the config's); the objective is then checked with [`Objective::check`].
    ///
    /// # Errors
    /// A built-in or already registered `kind`.
    pub fn register_objective_with<O, F>(&mut self, kind: &str, defaults: Value, make: F) -> Result<&mut Self, TrainError>
    where
        O: Objective + Send + Sync + 'static,
        F: Fn(&Value) -> Result<O, String> + Send + Sync + 'static,
    {
        check_new("objective", kind, &BUILTIN_OBJECTIVES, self.objectives.contains_key(kind))?;
        let name = kind.to_string();
        let make: Make<Arc<dyn DynObjective>> = Arc::new(move |params| {
            let objective = make(params).map_err(|message| parameters_error("objective", &name, message))?;
            Objective::check(&objective)?;
            Ok(Arc::new(objective) as Arc<dyn DynObjective>)
        });
        self.objectives.insert(kind.to_string(), Entry { defaults, make });
        Ok(self)
    }

    /// Registers augmentation `kind`, made by deserialising the parameters into
    /// `A` and checked with [`Augment::check`] (as [`Registry::register_objective`]).
    ///
    /// # Errors
    /// A built-in or already registered `kind`.
    pub fn register_augmentation<A>(&mut self, kind: &str) -> Result<&mut Self, TrainError>
    where
        A: Augment + Serialize + DeserializeOwned + Default + Send + Sync + 'static,
    {
        let defaults = serde_json::to_value(A::default()).map_err(|error| parameters_error("augmentation", kind, error))?;
        self.register_augmentation_with(kind, defaults, |params| {
            serde_json::from_value::<A>(params.clone()).map_err(|error| error.to_string())
        })
    }

    /// Registers augmentation `kind` with its defaults and constructor (as [`Registry::register_objective_with`]).
    ///
    /// # Errors
    /// A built-in or already registered `kind`.
    pub fn register_augmentation_with<A, F>(&mut self, kind: &str, defaults: Value, make: F) -> Result<&mut Self, TrainError>
    where
        A: Augment + Send + Sync + 'static,
        F: Fn(&Value) -> Result<A, String> + Send + Sync + 'static,
    {
        check_new("augmentation", kind, &BUILTIN_AUGMENTATIONS, self.augmentations.contains_key(kind))?;
        let name = kind.to_string();
        let make: Make<Arc<dyn DynAugment>> = Arc::new(move |params| {
            let augmentation = make(params).map_err(|message| parameters_error("augmentation", &name, message))?;
            Augment::check(&augmentation)?;
            Ok(Arc::new(augmentation) as Arc<dyn DynAugment>)
        });
        self.augmentations.insert(kind.to_string(), Entry { defaults, make });
        Ok(self)
    }

    /// Every objective kind a config may name: the built-ins, then the registered ones.
    #[must_use]
    pub fn objective_kinds(&self) -> Vec<String> {
        BUILTIN_OBJECTIVES.iter().map(|kind| (*kind).to_string()).chain(self.objectives.keys().cloned()).collect()
    }

    /// Every augmentation kind a config may name: the built-ins, then the registered ones.
    #[must_use]
    pub fn augmentation_kinds(&self) -> Vec<String> {
        BUILTIN_AUGMENTATIONS.iter().map(|kind| (*kind).to_string()).chain(self.augmentations.keys().cloned()).collect()
    }

    /// The default parameters of a registered kind of `field` (`objective` or
    /// `augmentation`), as a table with its `kind` (`None` for built-ins and unknown kinds).
    #[must_use]
    pub fn defaults(&self, field: &str, kind: &str) -> Option<Value> {
        let defaults = match field {
            "objective" => &self.objectives.get(kind)?.defaults,
            "augmentation" => &self.augmentations.get(kind)?.defaults,
            _ => return None,
        };
        let mut table = match defaults {
            Value::Object(map) => map.clone(),
            _ => serde_json::Map::new(),
        };
        table.insert("kind".into(), Value::String(kind.to_string()));
        Some(Value::Object(table))
    }

    /// The objective `config` names.
    ///
    /// # Errors
    /// [`TrainError::UnknownKind`] (listing the registered kinds); the
    /// constructor's error; [`Objective::check`]'s.
    pub fn objective(&self, config: &ObjectiveConfig) -> Result<AnyObjective, TrainError> {
        match config {
            ObjectiveConfig::Builtin(kind) => {
                Objective::check(kind)?;
                Ok(AnyObjective::Builtin(*kind))
            }
            ObjectiveConfig::Named(part) => {
                let entry = self.objectives.get(&part.kind).ok_or_else(|| TrainError::UnknownKind {
                    field: "objective",
                    kind: part.kind.clone(),
                    registered: self.objective_kinds(),
                })?;
                Ok(AnyObjective::Custom((entry.make)(&with_defaults(&entry.defaults, part))?))
            }
        }
    }

    /// The augmentation `config` names.
    ///
    /// # Errors
    /// As [`Registry::objective`].
    pub fn augmentation(&self, config: &AugmentationConfig) -> Result<AnyAugmentation, TrainError> {
        match config {
            AugmentationConfig::Builtin(augmentation) => {
                augmentation.check()?;
                Ok(AnyAugmentation::Builtin(*augmentation))
            }
            AugmentationConfig::Image(image) => {
                Augment::check(image)?;
                Ok(AnyAugmentation::Image(*image))
            }
            AugmentationConfig::Named(part) => {
                let entry = self.augmentations.get(&part.kind).ok_or_else(|| TrainError::UnknownKind {
                    field: "augmentation",
                    kind: part.kind.clone(),
                    registered: self.augmentation_kinds(),
                })?;
                Ok(AnyAugmentation::Custom((entry.make)(&with_defaults(&entry.defaults, part))?))
            }
        }
    }
}

/// The defaults overlaid by the part's parameters, as one table.
fn with_defaults(defaults: &Value, part: &PartConfig) -> Value {
    let mut table = match defaults {
        Value::Object(map) => map.clone(),
        _ => serde_json::Map::new(),
    };
    for (key, value) in &part.params {
        table.insert(key.clone(), value.clone());
    }
    Value::Object(table)
}
