//! `decouple run` on a data file of your own: a config whose `data` table is
//! `{ kind = "File", path = "x.npy", ... }` (decouple_data::FileData; paths
//! relative to the current directory) trains the network on those samples
//! (`Trainer::on_samples`) and analyses it without a dictionary
//! (`decouple_eval::evaluate_samples`). Every other table is the usual run
//! config (`augmentation`, `network`, `objective`, `optimizer`, `steps`,
//! `batch_size`, `seed`, ...; `regime` is not used: the samples are the pool);
//! `image_augmentation = { height, width, shift, contrast, brightness, cutout }`
//! replaces `augmentation` by an image augmentation; `[evaluation]` is a
//! `SampleEvaluation`.
//!
//! The run folder (default `results/runs/STEM-HASH8`) holds `config.json`,
//! `metrics.jsonl` (one line per logged step), `report.json`, the network as
//! `weights.npy` and `bias.npy`, and, when the samples are images,
//! `filters.svg` (the learned filters beside the top principal components).
//! A folder whose `report.json` was made by the same config is kept unless `force`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use decouple_augment::{AnyAugmentation, ImageAugmentation};
use decouple_data::FileData;
use decouple_eval::{SampleEvaluation, SampleReport, evaluate_samples, top_principal_components};
use decouple_train::{StepMetrics, TrainConfig, Trainer};
use ndarray::Axis;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::HarnessError;
use crate::config_file::{default_tree, hash_text, overlay, parse_assignment, read_document, resolve, set_path};
use crate::context::{CodeVersion, code_version, write_atomic, write_json};
use crate::error::Within as _;

/// A run on a data file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FileRunConfig {
    /// Training settings (its `data` and `regime` fields are not used).
    pub train: TrainConfig,
    /// The data file.
    pub data: FileData,
    /// The augmentation that makes the views.
    pub augmentation: AnyAugmentation,
    /// The analysis settings.
    pub evaluation: SampleEvaluation,
}

impl FileRunConfig {
    /// A stable 16-hex-digit hash of the canonical JSON of the config.
    #[must_use]
    pub fn hash(&self) -> String {
        hash_text(&serde_json::to_string(self).unwrap_or_default())
    }
}

/// Whether the config file's `data` table names a file (`kind = "File"`).
///
/// # Errors
/// An unreadable or unparsable config file.
pub fn names_file_data(file: &Path) -> crate::Result<bool> {
    let tree = read_document(file)?;
    Ok(tree.get("data").and_then(|data| data.get("kind")).and_then(Value::as_str) == Some("File"))
}

fn file_data_tree() -> Value {
    let mut tree = serde_json::to_value(FileData::new("")).unwrap_or_default();
    if let Value::Object(map) = &mut tree {
        map.insert("kind".into(), Value::String("File".into()));
    }
    tree
}

fn take<T: for<'de> Deserialize<'de>>(map: &mut Map<String, Value>, key: &str) -> crate::Result<Option<T>> {
    match map.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => serde_json::from_value(value).map(Some).map_err(|error| HarnessError::invalid(key, format!("`{key}`: {error}"))),
    }
}

/// Loads a file-data run config: `file` overlaid on the defaults, then `sets` applied in order.
///
/// # Errors
/// Any invalid field, named; a `data` table without `path`.
pub fn load_file_run(file: &Path, sets: &[String]) -> crate::Result<FileRunConfig> {
    let name = file.display().to_string();
    let mut tree = default_tree();
    if let Value::Object(map) = &mut tree {
        map.insert("data".into(), file_data_tree());
        map.insert("evaluation".into(), serde_json::to_value(SampleEvaluation::default()).unwrap_or_default());
        map.insert("image_augmentation".into(), Value::Null);
    }
    overlay(&mut tree, read_document(file)?, "").within(|| name.clone())?;
    for assignment in sets {
        let (path, value) = parse_assignment(assignment).within(|| format!("--set {assignment}"))?;
        set_path(&mut tree, &path, value).within(|| format!("--set {assignment}"))?;
    }
    let Value::Object(mut map) = tree else {
        return Err(HarnessError::invalid("", "the config must be a table"));
    };
    let mut data_tree = map.remove("data").unwrap_or_default();
    if let Value::Object(data) = &mut data_tree {
        data.remove("kind");
    }
    let mut data: FileData = serde_json::from_value(data_tree)
        .map_err(|error| HarnessError::invalid("data", format!("data: {error}")))
        .within(|| name.clone())?;
    // `--set data.labels=` (an empty path) removes the labels.
    if data.labels.as_ref().is_some_and(|labels| labels.as_os_str().is_empty()) {
        data.labels = None;
    }
    if data.path.as_os_str().is_empty() {
        return Err(HarnessError::invalid("data.path", "data.path: the samples file (.npy or .csv) is required")).within(|| name.clone());
    }
    data.preprocess.check().map_err(|error| HarnessError::invalid("data.preprocess", error.to_string())).within(|| name.clone())?;
    let evaluation: SampleEvaluation = take(&mut map, "evaluation").within(|| name.clone())?.unwrap_or_default();
    evaluation.check().map_err(|error| HarnessError::invalid("evaluation", error.to_string())).within(|| name.clone())?;
    let image: Option<ImageAugmentation> = take(&mut map, "image_augmentation").within(|| name.clone())?;
    let mut rest = Value::Object(map);
    if let Value::Object(rest) = &mut rest {
        rest.insert("data".into(), default_tree().get("data").cloned().unwrap_or_default());
    }
    let train = resolve(&rest).within(|| name.clone())?.train;
    let augmentation = match image {
        Some(image) => AnyAugmentation::Image(image),
        None => AnyAugmentation::Builtin(train.augmentation),
    };
    decouple_augment::Augment::check(&augmentation)
        .map_err(|error| HarnessError::invalid("image_augmentation", error.to_string()))
        .within(|| name.clone())?;
    Ok(FileRunConfig { train, data, augmentation, evaluation })
}

/// What a file run wrote.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileRunSummary {
    /// The folder.
    pub dir: PathBuf,
    /// The config's hash.
    pub hash: String,
    /// The code that made it.
    pub code: CodeVersion,
    /// Wall time of training and analysis, in seconds.
    pub wall_s: f64,
    /// Samples and dimension of the data.
    pub shape: (usize, usize),
    /// The analysis (`None` when the folder was already complete: see its `report.json`).
    pub report: Option<SampleReport>,
    /// Whether the folder was already complete (nothing was run).
    pub kept: bool,
}

/// The default folder: `results/runs/STEM-HASH8`.
#[must_use]
pub fn default_dir(file: &Path, hash: &str) -> PathBuf {
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("run");
    PathBuf::from("results").join("runs").join(format!("{stem}-{}", &hash[..8.min(hash.len())]))
}

/// Loads, trains and analyses the run of `file`, writing its folder.
///
/// # Errors
/// An invalid config, an unreadable or invalid data file (named, with the
/// shape found and expected), a failed run, an unwritable folder.
pub fn run_file_data(file: &Path, sets: &[String], out: Option<PathBuf>, force: bool, threads: usize) -> crate::Result<FileRunSummary> {
    let config = load_file_run(file, sets)?;
    let hash = config.hash();
    let dir = out.unwrap_or_else(|| default_dir(file, &hash));
    let summary_path = dir.join("summary.json");
    if !force {
        // The summary's report may hold NaN (written as null), so only its other fields are read back.
        let previous = std::fs::read_to_string(&summary_path).ok().and_then(|text| serde_json::from_str::<Value>(&text).ok());
        if let Some(Value::Object(mut previous)) = previous {
            previous.insert("report".into(), Value::Null);
            if let Ok(summary) = serde_json::from_value::<FileRunSummary>(Value::Object(previous)) {
                if summary.hash == hash {
                    return Ok(FileRunSummary { kept: true, ..summary });
                }
            }
        }
    }
    let start = Instant::now();
    let samples = config.data.load().map_err(|error| HarnessError::invalid("data", error.to_string()))?;
    std::fs::create_dir_all(&dir).map_err(HarnessError::io("creating", &dir))?;
    #[derive(Serialize)]
    struct Written<'a> {
        config: &'a FileRunConfig,
        hash: &'a str,
        code: CodeVersion,
    }
    write_json(&dir.join("config.json"), &Written { config: &config, hash: &hash, code: code_version().clone() })?;
    let invalid = |error: &dyn std::fmt::Display| HarnessError::invalid("run", error.to_string());
    let trainer = Trainer::on_samples(config.train, config.train.objective, config.augmentation, threads.max(1), samples.x.clone())
        .map_err(|e| invalid(&e))?;
    let mut lines = Vec::new();
    let outcome =
        trainer.run(|metrics: &StepMetrics, _| lines.push(serde_json::to_string(metrics).unwrap_or_default())).map_err(|e| invalid(&e))?;
    write_atomic(&dir.join("metrics.jsonl"), &(lines.join("\n") + "\n"))?;
    let report =
        evaluate_samples(&outcome.net, &samples, &config.augmentation, &config.evaluation, config.train.seed).map_err(|e| invalid(&e))?;
    write_json(&dir.join("report.json"), &report)?;
    for (name, bytes) in
        [("weights.npy", npy_bytes(&outcome.net.weights().to_owned())?), ("bias.npy", npy_bytes(&outcome.net.bias().to_owned())?)]
    {
        std::fs::write(dir.join(name), bytes).map_err(HarnessError::io("writing", dir.join(name)))?;
    }
    if let Some(shape) = samples.image {
        let weights = outcome.net.weights();
        let mut order: Vec<usize> = (0..weights.nrows()).collect();
        let norm = |i: usize| weights.row(i).dot(&weights.row(i));
        order.sort_by(|&a, &b| norm(b).total_cmp(&norm(a)));
        let images = |rows: ndarray::ArrayView2<'_, f32>| -> Vec<Vec<f64>> {
            rows.rows().into_iter().map(|r| r.iter().map(|v| f64::from(*v)).collect()).collect()
        };
        let pcs = top_principal_components(samples.x.view(), weights.nrows()).map_err(|e| invalid(&e))?;
        let panels = [
            decouple_plot::ImagePanel { title: format!("top {} PCs", pcs.nrows()), images: images(pcs.view()) },
            decouple_plot::ImagePanel {
                title: decouple_augment::Augment::label(&config.augmentation),
                images: images(weights.select(Axis(0), &order).view()),
            },
        ];
        let columns = (weights.nrows() as f64).sqrt().ceil() as usize;
        write_atomic(
            &dir.join("filters.svg"),
            &decouple_plot::image_grid(
                "Learned filters (sorted by norm) beside the top principal components",
                &panels,
                shape.height,
                shape.width,
                columns,
            ),
        )?;
    }
    let summary = FileRunSummary {
        dir: dir.clone(),
        hash,
        code: code_version().clone(),
        wall_s: start.elapsed().as_secs_f64(),
        shape: (samples.n(), samples.d1()),
        report: Some(report),
        kept: false,
    };
    write_json(&summary_path, &summary)?;
    Ok(summary)
}

fn npy_bytes<A: ndarray_npy::WriteNpyExt>(array: &A) -> crate::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    array.write_npy(&mut bytes).map_err(|error| HarnessError::invalid("network", format!("encoding .npy: {error}")))?;
    Ok(bytes)
}
