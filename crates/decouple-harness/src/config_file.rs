//! Config files for your own runs: a TOML (primary) or JSON document
//! overlaid on the docs/model.md §7 default, edited by `--set path=value`, and
//! validated with errors that name the field, the value and the allowed range.
//!
//! The pipeline works on a `serde_json::Value` tree so that every error can
//! say *where*: parse the file into a tree, overlay it on the tree of the
//! default [`RunConfig`] (a key the default does not have is rejected with the
//! valid keys at that level), apply `--set` edits, deserialize
//! [`TrainConfig`] (`deny_unknown_fields`; wrong types are reported with their
//! dotted path) and finally run [`TrainConfig::check`] for the ranges.
//!
//! Tagged enums (`augmentation`, `data.dense`, `network.bias`, ...) are
//! tables with a `kind`: a table whose `kind` differs from the one it
//! overlays *replaces* it (the other variant's fields do not carry over);
//! with the same or no `kind`, fields merge. No input makes this module panic.
//!
//! **Named parts.** An `objective` or `augmentation` table whose `kind` is not
//! a built-in is looked up in the [`Registry`] the caller passes: its
//! registered defaults are filled in under the user's fields (an unknown
//! field is an error listing the valid ones), and the registry's constructor
//! checks the values; an unregistered kind is an error listing the
//! registered ones.
//!
//! **Data files.** `data = { kind = "File", path = "x.npy", ... }` is a run on
//! a data file ([`decouple_data::FileData`]); its `[evaluation]` is a
//! [`SampleEvaluation`]. A relative `data.path` or `data.labels` is resolved
//! against the folder of the file that names it (the config file, the sweep
//! file or a sweep's `base`; `--set` values against the current directory),
//! then normalised. The files are read and checked when the config is
//! resolved, and their digest ([`decouple_data::FileData::fingerprint`]) is
//! recorded in the config: it is not part of [`RunConfig::hash`] (the same
//! config on edited data keeps its folder), but a finished run whose data
//! digest differs is *stale*.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use decouple_data::FileData;
use decouple_eval::{EvaluationConfig, SampleEvaluation};
use decouple_train::{DataSource, Registry, TrainConfig, TrainError};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::HarnessError;
use crate::error::Within as _;

/// The `[evaluation]` table: sample sizes of the full metric set (runs on
/// the sparse-coding model), or the analysis of a run on a data file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Evaluation {
    /// The metric set of docs/model.md §6 (`decouple_eval::evaluate`).
    Model(EvaluationConfig),
    /// The analysis without a dictionary (`decouple_eval::evaluate_samples`).
    Samples(SampleEvaluation),
}

impl Evaluation {
    /// The model evaluation's settings, if it is one.
    #[must_use]
    pub fn model(&self) -> Option<&EvaluationConfig> {
        match self {
            Self::Model(config) => Some(config),
            Self::Samples(_) => None,
        }
    }
}

impl From<EvaluationConfig> for Evaluation {
    fn from(config: EvaluationConfig) -> Self {
        Self::Model(config)
    }
}

/// Everything one run of `decouple run` or of a sweep depends on.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RunConfig {
    /// The training configuration (seed included).
    pub train: TrainConfig,
    /// The evaluation (the `[evaluation]` table).
    pub evaluation: Evaluation,
}

impl RunConfig {
    /// A run of `train` evaluated with `evaluation`.
    #[must_use]
    pub fn new(train: TrainConfig, evaluation: impl Into<Evaluation>) -> Self {
        Self { train, evaluation: evaluation.into() }
    }

    /// A stable 16-hex-digit hash (FNV-1a, 64 bit) of the canonical JSON of
    /// the config, without the data file's digest: equal configs, equal
    /// hashes, on every machine.
    #[must_use]
    pub fn hash(&self) -> String {
        let mut config = self.clone();
        if let Some(file) = config.train.data.file_mut() {
            file.digest = None;
        }
        hash_text(&serde_json::to_string(&config).unwrap_or_default())
    }

    /// The digest of the data file the config was resolved with (`None` for the data model).
    #[must_use]
    pub fn data_digest(&self) -> Option<&str> {
        self.train.data.file().and_then(|file| file.digest.as_deref())
    }
}

/// FNV-1a (64 bit) of `text` as 16 hex digits: stable across machines and versions.
#[must_use]
pub fn hash_text(text: &str) -> String {
    format!("{:016x}", decouple_data::rng::fnv1a(text.as_bytes()))
}

/// The tree of the default [`RunConfig`]: docs/model.md §7 plus the evaluation defaults.
#[must_use]
pub fn default_tree() -> Value {
    let mut tree = serde_json::to_value(TrainConfig::default()).unwrap_or_default();
    if let Value::Object(map) = &mut tree {
        map.insert("evaluation".into(), serde_json::to_value(EvaluationConfig::default()).unwrap_or_default());
    }
    tree
}

/// The `data` table of a run on a data file, with its defaults (`path` empty).
fn file_data_tree() -> Value {
    let mut tree = serde_json::to_value(FileData::new("")).unwrap_or_default();
    if let Value::Object(map) = &mut tree {
        map.insert("kind".into(), Value::String("File".into()));
    }
    tree
}

fn names_file(data: Option<&Value>) -> bool {
    data.and_then(|data| data.get("kind")).and_then(Value::as_str) == Some("File")
}

/// The tree a document is overlaid on: [`default_tree`], or for a document
/// whose `data` names a file (`kind = "File"`) the file defaults and the
/// [`SampleEvaluation`] defaults.
#[must_use]
pub fn base_tree(document: &Value) -> Value {
    let mut tree = default_tree();
    if names_file(document.get("data")) {
        if let Value::Object(map) = &mut tree {
            map.insert("data".into(), file_data_tree());
            map.insert("evaluation".into(), serde_json::to_value(SampleEvaluation::default()).unwrap_or_default());
        }
    }
    tree
}

/// `path` with `.` removed and `dir/..` folded (lexically: no file system access).
#[must_use]
pub fn normalize(path: &Path) -> PathBuf {
    let mut parts: Vec<Component<'_>> = Vec::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                parts.pop();
            }
            Component::ParentDir if matches!(parts.last(), Some(Component::RootDir | Component::Prefix(_))) => {}
            other => parts.push(other),
        }
    }
    let normal: PathBuf = parts.iter().collect();
    if normal.as_os_str().is_empty() { PathBuf::from(".") } else { normal }
}

/// Resolves a relative file path of a document against `dir` (the folder
/// of the file that names it), normalised; empty and absolute paths are kept.
/// A result inside the current directory is written relative to it, so
/// that a config named by an absolute path (`--config /home/me/repo/x.toml`)
/// and by a relative one give the same run (the same hash), and two
/// checkouts at other places (the shards of a sweep) agree.
#[must_use]
pub fn resolve_path(value: &str, dir: &Path) -> String {
    let path = Path::new(value);
    if value.is_empty() || path.is_absolute() {
        return value.to_string();
    }
    let resolved = normalize(&dir.join(path));
    let inside = std::env::current_dir().ok().and_then(|here| resolved.strip_prefix(normalize(&here)).ok().map(Path::to_path_buf));
    match inside {
        Some(relative) if !relative.as_os_str().is_empty() => relative.display().to_string(),
        _ => resolved.display().to_string(),
    }
}

/// Rewrites the earlier spelling of an image augmentation on a data file,
/// `image_augmentation = { height, width, ... }`, as `augmentation = { kind =
/// "Image", height, width, ... }`, before anything is overlaid or edited.
///
/// # Errors
/// Both keys given, or an `image_augmentation` that is not a table.
pub fn upgrade_document(document: &mut Value) -> crate::Result<()> {
    let Some(map) = document.as_object_mut() else { return Ok(()) };
    match map.remove("image_augmentation") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Object(_)) if map.contains_key("augmentation") => Err(HarnessError::invalid(
            "image_augmentation",
            "image_augmentation (the earlier spelling of augmentation = { kind = \"Image\", ... }) and augmentation are both given: keep one",
        )),
        Some(Value::Object(mut image)) => {
            image.insert("kind".into(), Value::String("Image".into()));
            map.insert("augmentation".into(), Value::Object(image));
            Ok(())
        }
        Some(other) => {
            Err(HarnessError::invalid("image_augmentation", format!("image_augmentation: expected a table, found {}", describe(&other))))
        }
    }
}

/// The data-file fields whose values are paths.
pub const PATH_FIELDS: [&str; 2] = ["data.path", "data.labels"];

/// Resolves the data-file paths of `document` (a config or a sweep's inline
/// base) against `dir`, the folder of the file it was read from.
pub fn resolve_document_paths(document: &mut Value, dir: &Path) {
    if let Some(Value::Object(data)) = document.get_mut("data") {
        for key in ["path", "labels"] {
            if let Some(Value::String(path)) = data.get_mut(key) {
                *path = resolve_path(path, dir);
            }
        }
    }
}

/// The two accepted file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// TOML, the primary format.
    Toml,
    /// JSON.
    Json,
}

impl Format {
    /// `.json` is JSON, `.toml` is TOML; anything else is an error.
    ///
    /// # Errors
    /// An unsupported extension.
    pub fn of(path: &Path) -> crate::Result<Self> {
        match path.extension().and_then(|ext| ext.to_str()) {
            Some("toml") => Ok(Self::Toml),
            Some("json") => Ok(Self::Json),
            other => Err(HarnessError::invalid(
                "",
                format!("unsupported config format {:?}: use a .toml (primary) or .json file", other.unwrap_or("")),
            )),
        }
    }
}

/// Parses a document into a tree (a table at the top).
///
/// # Errors
/// Syntax errors (with the parser's line and column), a top level that is not
/// a table, and values JSON cannot hold (non-finite floats, dates).
pub fn parse_document(text: &str, format: Format) -> crate::Result<Value> {
    let tree = match format {
        Format::Toml => {
            let table = text.parse::<toml::Table>().map_err(|error| HarnessError::invalid("", error.to_string().trim_end()))?;
            toml_to_json(toml::Value::Table(table), "")?
        }
        Format::Json => serde_json::from_str::<Value>(text).map_err(|error| HarnessError::invalid("", error.to_string()))?,
    };
    if !tree.is_object() {
        return Err(HarnessError::invalid("", format!("the top level must be a table of fields, found {}", describe(&tree))));
    }
    Ok(tree)
}

/// Reads and parses `path` (format from its extension).
///
/// # Errors
/// I/O and parse errors, prefixed with the file name.
pub fn read_document(path: &Path) -> crate::Result<Value> {
    let text = std::fs::read_to_string(path).map_err(HarnessError::io("reading", path))?;
    parse_document(&text, Format::of(path)?).within(|| path.display().to_string())
}

fn toml_to_json(value: toml::Value, path: &str) -> crate::Result<Value> {
    Ok(match value {
        toml::Value::String(text) => Value::String(text),
        toml::Value::Integer(integer) => Value::from(integer),
        toml::Value::Float(float) => match serde_json::Number::from_f64(float) {
            Some(number) => Value::Number(number),
            None => return Err(HarnessError::invalid(path, format!("{}: {float} is not a finite number", display_path(path)))),
        },
        toml::Value::Boolean(flag) => Value::Bool(flag),
        toml::Value::Datetime(date) => {
            return Err(HarnessError::invalid(path, format!("{}: a date ({date}) is not a config value", display_path(path))));
        }
        toml::Value::Array(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(index, item)| toml_to_json(item, &format!("{path}[{index}]")))
                .collect::<crate::Result<_>>()?,
        ),
        toml::Value::Table(table) => {
            let mut map = Map::new();
            for (key, item) in table {
                let child = join(path, &key);
                map.insert(key, toml_to_json(item, &child)?);
            }
            Value::Object(map)
        }
    })
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() { "(top level)" } else { path }
}

fn keys(map: &Map<String, Value>) -> String {
    map.keys().map(|key| format!("`{key}`")).collect::<Vec<_>>().join(", ")
}

/// Overlays `user` on `base` at `path`: tables merge key by key, anything else
/// replaces; a table with a different `kind` replaces the whole table.
///
/// # Errors
/// A key that `base` does not have (when `base` is a table of the same kind),
/// with the list of valid keys.
pub fn overlay(base: &mut Value, user: Value, path: &str) -> crate::Result<()> {
    match (base, user) {
        (Value::Object(base_map), Value::Object(user_map)) => {
            let switches_kind = matches!((base_map.get("kind"), user_map.get("kind")), (Some(old), Some(new)) if old != new);
            if switches_kind {
                *base_map = user_map;
                return Ok(());
            }
            for (key, value) in user_map {
                let child = join(path, &key);
                match base_map.get_mut(&key) {
                    Some(slot) => overlay(slot, value, &child)?,
                    None => {
                        let message = format!("unknown field `{child}`; valid fields{}: {}", at(path), keys(base_map));
                        return Err(HarnessError::invalid(child, message));
                    }
                }
            }
            Ok(())
        }
        (base, user) => {
            *base = user;
            Ok(())
        }
    }
}

fn at(path: &str) -> String {
    if path.is_empty() { String::new() } else { format!(" of `{path}`") }
}

/// Parses the value of `--set path=value`: a TOML value (number, boolean,
/// quoted string, array, inline table), else the text itself as a string
/// (so `--set augmentation.kind=Identity` needs no quotes).
#[must_use]
pub fn parse_value(text: &str) -> Value {
    let parsed = format!("value = {text}").parse::<toml::Table>().ok().filter(|table| table.len() == 1);
    match parsed.and_then(|mut table| table.remove("value")).map(|value| toml_to_json(value, "")) {
        Some(Ok(value)) => value,
        _ => Value::String(text.to_string()),
    }
}

/// Splits `path=value` into the path and the parsed value.
///
/// # Errors
/// No `=`, or an empty path.
pub fn parse_assignment(assignment: &str) -> crate::Result<(String, Value)> {
    let Some((path, value)) = assignment.split_once('=') else {
        return Err(HarnessError::invalid("", format!("`{assignment}` is not of the form path.to.field=value")));
    };
    let path = path.trim();
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(HarnessError::invalid(path, format!("`{path}` is not a dotted field path such as network.width")));
    }
    Ok((path.to_string(), parse_value(value.trim())))
}

/// Sets the field at dotted `path` of `tree` to `value` (tables overlay as in
/// [`overlay`]). Setting a `kind` to a new variant starts that variant empty:
/// set its fields next, or set the whole table at once.
///
/// # Errors
/// A path that does not exist in the tree, with the valid keys at the level
/// where it fails. A new key is accepted only in a tagged table (whose
/// variant decides, at deserialization, which keys are valid).
pub fn set_path(tree: &mut Value, path: &str, value: Value) -> crate::Result<()> {
    let segments: Vec<&str> = path.split('.').collect();
    let mut node = tree;
    for (depth, segment) in segments.iter().enumerate() {
        let here = segments[..depth].join(".");
        let Value::Object(map) = node else {
            return Err(HarnessError::invalid(path, format!("`{here}` is a value, not a table: `{path}` does not exist")));
        };
        let last = depth + 1 == segments.len();
        if !map.contains_key(*segment) {
            if last && map.contains_key("kind") {
                map.insert((*segment).to_string(), value);
                return Ok(());
            }
            let field = join(&here, segment);
            let message = format!("no field `{field}`; valid fields{}: {}", at(&here), keys(map));
            return Err(HarnessError::invalid(field, message));
        }
        if last && *segment == "kind" && map.get("kind") != Some(&value) {
            map.clear();
            map.insert("kind".into(), value);
            return Ok(());
        }
        match map.get_mut(*segment) {
            Some(child) if last => return overlay(child, value, path),
            Some(child) => node = child,
            None => break,
        }
    }
    Err(HarnessError::invalid(path, format!("`{path}` is not a field path")))
}

/// Loads a run config with the built-in parts only ([`load_run_with`]).
///
/// # Errors
/// As [`load_run_with`].
pub fn load_run(file: &Path, sets: &[String]) -> crate::Result<RunConfig> {
    load_run_with(file, sets, &Registry::default())
}

/// Loads a run config: `file` overlaid on the default, then `sets` applied
/// in order, its named parts resolved through `registry`.
///
/// # Errors
/// Any invalid input, prefixed with the file name or the `--set` argument.
pub fn load_run_with(file: &Path, sets: &[String], registry: &Registry) -> crate::Result<RunConfig> {
    let document = read_document(file)?;
    load_document_with(document, file.parent().unwrap_or(Path::new("")), &file.display().to_string(), sets, registry)
}

/// [`load_run_with`] on a document already parsed (a config given as data,
/// e.g. a Python dict): its data paths resolved against `dir`, errors
/// prefixed with `name`.
///
/// # Errors
/// Any invalid input, prefixed with `name` or the `--set` argument.
pub fn load_document_with(mut document: Value, dir: &Path, name: &str, sets: &[String], registry: &Registry) -> crate::Result<RunConfig> {
    upgrade_document(&mut document).within(|| name.to_string())?;
    resolve_document_paths(&mut document, dir);
    let mut tree = base_tree(&document);
    overlay(&mut tree, document, "").within(|| name.to_string())?;
    for assignment in sets {
        let (path, value) = parse_assignment(assignment).within(|| format!("--set {assignment}"))?;
        set_path(&mut tree, &path, value).within(|| format!("--set {assignment}"))?;
    }
    resolve_with(&tree, registry)
        .within(|| if sets.is_empty() { name.to_string() } else { format!("{name} with --set {}", sets.join(" --set ")) })
}

/// Parses and overlays a document given as text (the fuzz tests' entry point).
///
/// # Errors
/// Any invalid input.
pub fn parse_run_text(text: &str, format: Format) -> crate::Result<RunConfig> {
    let mut document = parse_document(text, format)?;
    upgrade_document(&mut document)?;
    let mut tree = base_tree(&document);
    overlay(&mut tree, document, "")?;
    resolve(&tree)
}

/// [`resolve_with`] the built-in parts only.
///
/// # Errors
/// As [`resolve_with`].
pub fn resolve(tree: &Value) -> crate::Result<RunConfig> {
    resolve_with(tree, &Registry::default())
}

/// Fills the registered defaults of a named `field` (`objective` or
/// `augmentation`) under the user's fields.
fn fill_part(tree: &mut Value, field: &'static str, builtin: &[&str], registry: &Registry) -> crate::Result<()> {
    let Some(user) = tree.get_mut(field) else { return Ok(()) };
    let Some(kind) = user.get("kind").and_then(Value::as_str).map(str::to_string) else { return Ok(()) };
    if builtin.contains(&kind.as_str()) {
        return Ok(());
    }
    let Some(mut full) = registry.defaults(field, &kind) else {
        let registered = if field == "objective" { registry.objective_kinds() } else { registry.augmentation_kinds() };
        let error = TrainError::UnknownKind { field, kind, registered };
        return Err(HarnessError::invalid(format!("{field}.kind"), error.to_string()));
    };
    if full.as_object().is_some_and(|defaults| defaults.len() == 1) {
        // No registered defaults to check the fields against: the constructor checks them.
        return Ok(());
    }
    overlay(&mut full, std::mem::take(user), field)?;
    *user = full;
    Ok(())
}

/// A checked data file: its digest and `(n, d1)`.
type Checked = (String, (usize, usize));

/// Digests and shapes of data files already checked in this process, by
/// path, length, modification time and (on Unix) inode and change time (a
/// sweep over one file reads it once).
static CHECKED_FILES: std::sync::LazyLock<Mutex<HashMap<String, Checked>>> = std::sync::LazyLock::new(Mutex::default);

fn file_key(file: &FileData) -> String {
    let stamp = |path: &Path| {
        std::fs::metadata(path)
            .map(|meta| {
                #[cfg(unix)]
                let identity = {
                    use std::os::unix::fs::MetadataExt as _;
                    format!("{}:{}:{}.{}", meta.dev(), meta.ino(), meta.ctime(), meta.ctime_nsec())
                };
                #[cfg(not(unix))]
                let identity = String::new();
                format!("{}:{:?}:{identity}", meta.len(), meta.modified().ok())
            })
            .unwrap_or_else(|_| "missing".into())
    };
    let labels = file.labels.as_ref().map(|labels| format!("{}@{}", labels.display(), stamp(labels))).unwrap_or_default();
    format!("{}@{}|{labels}", file.path.display(), stamp(&file.path))
}

/// Reads and checks the data file (and labels) and returns its digest and `(n, d1)`.
///
/// # Errors
/// A missing, truncated or non-finite file, named as resolved.
pub fn check_data_file(file: &FileData) -> crate::Result<(String, (usize, usize))> {
    let key = file_key(file);
    if let Some(found) = CHECKED_FILES.lock().expect("checked files lock").get(&key) {
        return Ok(found.clone());
    }
    let field = |error: decouple_data::FileError| {
        use decouple_data::FileError;
        let field = match &error {
            FileError::Shape { what: "labels", .. } | FileError::NotInteger { .. } => "data.labels",
            // The samples do not have the pixels of the image shape given.
            FileError::Shape { expected, .. } if file.image.is_some() && expected.contains("images") => "data.image",
            _ if file.labels.as_ref().is_some_and(|labels| error.to_string().contains(&labels.display().to_string())) => "data.labels",
            _ => "data.path",
        };
        let text = error.to_string();
        let named = [Some(&file.path), file.labels.as_ref()].into_iter().flatten().any(|path| text.contains(&path.display().to_string()));
        if named {
            HarnessError::invalid(field, format!("{field}: {text}"))
        } else {
            HarnessError::invalid(field, format!("{field} ({}): {text}", file.path.display()))
        }
    };
    // Reading it must not be what exhausts the machine: a file several times the free memory is refused unread.
    let bytes = std::fs::metadata(&file.path).map(|meta| meta.len()).unwrap_or(0);
    if let Some(available) = crate::available_memory() {
        if bytes.saturating_mul(3) > available {
            let message = format!(
                "data.path: {} is {} bytes; reading and checking it needs about three times that, and {available} bytes are available",
                file.path.display(),
                bytes
            );
            return Err(HarnessError::invalid("data.path", message));
        }
    }
    let shape = file.check_files().map_err(field)?;
    let digest = file.fingerprint().map_err(field)?;
    CHECKED_FILES.lock().expect("checked files lock").insert(key, (digest.clone(), shape));
    Ok((digest, shape))
}

/// Deserializes and checks a full tree, its named parts resolved through
/// `registry`, and (for a data file) reads the files and records their digest.
///
/// # Errors
/// Unknown fields, wrong types (with their dotted path), out-of-range values,
/// unregistered kinds and their bad parameters, unreadable or invalid data files.
pub fn resolve_with(tree: &Value, registry: &Registry) -> crate::Result<RunConfig> {
    let mut tree = tree.clone();
    let map = tree.as_object_mut().ok_or_else(|| HarnessError::invalid("", "the config must be a table"))?;
    let evaluation_tree = map.remove("evaluation").unwrap_or_else(|| Value::Object(Map::new()));
    let file_data = names_file(map.get("data"));
    if file_data {
        let mut full = file_data_tree();
        overlay(&mut full, map.remove("data").unwrap_or_default(), "data")?;
        map.insert("data".into(), full);
    }
    fill_part(&mut tree, "objective", &decouple_train::BUILTIN_OBJECTIVES, registry)?;
    fill_part(&mut tree, "augmentation", &decouple_train::BUILTIN_AUGMENTATIONS, registry)?;
    let evaluation = if file_data {
        let model_defaults = serde_json::to_value(EvaluationConfig::default()).unwrap_or_default();
        let evaluation_tree = if evaluation_tree == model_defaults { Value::Object(Map::new()) } else { evaluation_tree };
        let mut full = serde_json::to_value(SampleEvaluation::default()).unwrap_or_default();
        overlay(&mut full, evaluation_tree, "evaluation")?;
        let evaluation: SampleEvaluation = deserialize(&full, "evaluation")?;
        evaluation.check().map_err(|error| HarnessError::invalid("evaluation", error.to_string()))?;
        Evaluation::Samples(evaluation)
    } else {
        let mut full = serde_json::to_value(EvaluationConfig::default()).unwrap_or_default();
        overlay(&mut full, evaluation_tree, "evaluation")?;
        let evaluation: EvaluationConfig = deserialize(&full, "evaluation")?;
        evaluation.check()?;
        Evaluation::Model(evaluation)
    };
    let mut train: TrainConfig = deserialize(&tree, "")?;
    if let Some(file) = train.data.file_mut() {
        // `--set data.labels=` (an empty path) removes the labels.
        if file.labels.as_ref().is_some_and(|labels| labels.as_os_str().is_empty()) {
            file.labels = None;
        }
        if file.path.as_os_str().is_empty() {
            return Err(HarnessError::invalid("data.path", "data.path: the samples file (.npy or .csv) is required"));
        }
        // `--set` values too: `./x.npy` and `x.npy` are one file, one run.
        file.path = normalize(&file.path);
        file.labels = file.labels.as_deref().map(normalize);
    }
    train.check().map_err(|error| HarnessError::invalid(range_field(&error), range_message(&error)))?;
    let part_error = |error: TrainError| {
        let field = match &error {
            TrainError::UnknownKind { field, .. } | TrainError::PartParameters { field, .. } => format!("{field}.kind"),
            _ => range_field(&error),
        };
        HarnessError::invalid(field, range_message(&error))
    };
    registry.objective(&train.objective).map_err(part_error)?;
    let augmentation = registry.augmentation(&train.augmentation).map_err(part_error)?;
    decouple_augment::Augment::check(&augmentation)
        .map_err(|error| HarnessError::invalid("augmentation", format!("augmentation.{error}")))?;
    if let DataSource::File(file) = &mut train.data {
        file.digest = Some(check_data_file(file)?.0);
    }
    Ok(RunConfig { train, evaluation })
}

fn deserialize<T: serde::de::DeserializeOwned>(tree: &Value, prefix: &str) -> crate::Result<T> {
    serde_path_to_error::deserialize(tree).map_err(|error| {
        let mut path: Vec<String> = error
            .path()
            .iter()
            .filter_map(|segment| match segment {
                serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
                _ => None,
            })
            .collect();
        let message = error.inner().to_string();
        if let Some(node) = node_at(tree, &path) {
            path.extend(culprit(node, &message));
        }
        let full = path.iter().fold(prefix.to_string(), |acc, key| join(&acc, key));
        HarnessError::invalid(full.clone(), format!("{}: {message}", display_path(&full)))
    })
}

fn node_at<'a>(tree: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(tree, |node, key| node.as_object()?.get(key))
}

/// Inside a table whose fields serde buffered (tagged enums), the path of the
/// field the message is about, found from the message: the unknown key, or
/// the one leaf whose value is the unexpected one.
fn culprit(node: &Value, message: &str) -> Vec<String> {
    let quoted = |prefix: &str| message.strip_prefix(prefix).and_then(|rest| rest.split('`').next()).map(str::to_string);
    let mut found = Vec::new();
    if let Some(key) = quoted("unknown field `") {
        find(node, &mut Vec::new(), &mut |path, _, last_key| {
            if last_key == key {
                found.push(path.to_vec())
            }
        });
    } else if let Some(variant) = quoted("unknown variant `") {
        find(node, &mut Vec::new(), &mut |path, value, _| {
            if value.as_str() == Some(variant.as_str()) {
                found.push(path.to_vec())
            }
        });
    } else if let Some(unexpected) = ["invalid type: ", "invalid value: "]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix).and_then(|rest| rest.rsplit_once(", expected")).map(|(what, _)| what.to_string()))
    {
        find(node, &mut Vec::new(), &mut |path, value, _| {
            if describe(value) == unexpected {
                found.push(path.to_vec())
            }
        });
    }
    if found.len() == 1 { found.remove(0) } else { Vec::new() }
}

fn find(node: &Value, path: &mut Vec<String>, visit: &mut dyn FnMut(&[String], &Value, &str)) {
    if let Value::Object(map) = node {
        for (key, value) in map {
            path.push(key.clone());
            visit(path, value, key);
            find(value, path, visit);
            path.pop();
        }
    }
}

/// How serde's `Unexpected` names a value (`string "x"`, `integer `5``, ...).
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(flag) => format!("boolean `{flag}`"),
        Value::Number(number) if number.is_f64() => {
            let float = number.as_f64().unwrap_or(f64::NAN);
            let text = float.to_string();
            if text.contains('.') { format!("floating point `{text}`") } else { format!("floating point `{text}.0`") }
        }
        Value::Number(number) => format!("integer `{number}`"),
        Value::String(text) => format!("string {text:?}"),
        Value::Array(_) => "sequence".into(),
        Value::Object(_) => "map".into(),
    }
}

/// The message of a failed `check()`, with the field as its full config path.
#[must_use]
pub fn range_message(error: &TrainError) -> String {
    let message = error.to_string();
    match error {
        TrainError::Data(_) => format!("data.{message}"),
        TrainError::Loss(_) => format!("objective.loss.{message}"),
        TrainError::Net(_) => message.replacen("bias_rule.", "network.bias.", 1),
        _ => message,
    }
}

/// The dotted field of a failed `check()` (the start of [`range_message`], up to ` = `).
fn range_field(error: &TrainError) -> String {
    if let TrainError::Unsupported { field, .. } = error {
        return (*field).to_string();
    }
    let message = range_message(error);
    message.split(" = ").next().unwrap_or_default().to_string()
}

/// A value as a short label for names, tables and plots: scalars as written,
/// a tagged table as `Kind(value,...)` (its kind fixes which fields those are,
/// in alphabetical order), another table as `{field=value,...}`.
#[must_use]
pub fn label(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Object(map) => match map.get("kind") {
            Some(kind) => {
                let fields: Vec<String> = map.iter().filter(|(key, _)| *key != "kind").map(|(_, item)| label(item)).collect();
                if fields.is_empty() { label(kind) } else { format!("{}({})", label(kind), fields.join(",")) }
            }
            None => format!("{{{}}}", map.iter().map(|(key, item)| format!("{key}={}", label(item))).collect::<Vec<_>>().join(",")),
        },
        Value::Array(items) => format!("[{}]", items.iter().map(label).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}
