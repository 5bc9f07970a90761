//! Real data from files: a matrix of samples `X` (`n x d1`, one row per
//! sample) from `.npy` or CSV, with optional integer labels, checked so that
//! a missing, truncated, mistyped or non-finite file is an error naming the
//! file and the shape found, never a panic.
//!
//! `.npy`: a 2-D array (1-D for labels) of any float or integer dtype, C or
//! Fortran order, converted to `f32` (labels to `i64`). CSV: one sample per
//! line, comma-separated numbers, an optional header line (a first line with
//! a field that is not a number), blank lines ignored.

use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2, ArrayD, Ix2};
use ndarray_npy::{ReadNpyError, ReadNpyExt, ReadableElement};
use serde::{Deserialize, Serialize};

use crate::FileError;
use crate::preprocess::Preprocess;

/// Height and width of the images a sample holds (row-major pixels, `height * width = d1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageShape {
    /// Rows of pixels `>= 1`.
    pub height: usize,
    /// Columns of pixels `>= 1`.
    pub width: usize,
}

/// A data file as a config names it:
/// `data = { kind = "File", path = "x.npy", labels = "y.npy", image = { height = 8, width = 8 }, preprocess = { ... } }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FileData {
    /// The samples (`.npy` or `.csv`), `n x d1`.
    pub path: PathBuf,
    /// Integer labels, one per sample (`.npy` or `.csv`), for linear probes.
    #[serde(default)]
    pub labels: Option<PathBuf>,
    /// The image shape of a sample (enables image augmentations and filter grids).
    #[serde(default)]
    pub image: Option<ImageShape>,
    /// Preprocessing, fitted on the samples (default: none).
    #[serde(default)]
    pub preprocess: Preprocess,
    /// [`FileData::fingerprint`] of the files when the run was configured
    /// (filled in when a config is resolved; `None` = not checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

impl FileData {
    /// The source of `path`, with no labels, no image shape and no preprocessing.
    #[must_use]
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into(), labels: None, image: None, preprocess: Preprocess::default(), digest: None }
    }

    /// The digest of the samples file and the labels file (if any): FNV-1a
    /// (64 bit) of their bytes, as 16 hex digits each (`SAMPLES` or
    /// `SAMPLES+LABELS`). One edited value changes it.
    ///
    /// # Errors
    /// [`FileError::Unreadable`].
    pub fn fingerprint(&self) -> Result<String, FileError> {
        let samples = fnv1a_file(&self.path)?;
        Ok(match &self.labels {
            Some(labels) => format!("{samples}+{}", fnv1a_file(labels)?),
            None => samples,
        })
    }

    /// Reads and checks the samples and labels without preprocessing them
    /// (what a config resolution checks before any training); returns `(n, d1)`.
    ///
    /// # Errors
    /// As [`FileData::load`].
    pub fn check_files(&self) -> Result<(usize, usize), FileError> {
        let x = read_samples(&self.path)?;
        let labels = match &self.labels {
            Some(path) => Some(read_labels(path, x.nrows())?),
            None => None,
        };
        let samples = Samples::new(x, labels, self.image, self.path.display().to_string())?;
        self.preprocess.check().map_err(FileError::Config)?;
        Ok((samples.n(), samples.d1()))
    }

    /// [`FileData::load`], after checking that the files still have the
    /// recorded [`FileData::digest`] (when there is one).
    ///
    /// # Errors
    /// [`FileError::Changed`]; as [`FileData::load`].
    pub fn load_checked(&self) -> Result<Samples, FileError> {
        if let Some(expected) = &self.digest {
            let found = self.fingerprint()?;
            if &found != expected {
                return Err(FileError::Changed { path: self.path.display().to_string(), expected: expected.clone(), found });
            }
        }
        self.load()
    }

    /// Reads the samples (and labels), checks them, and applies the preprocessing.
    ///
    /// # Errors
    /// Any [`FileError`]: unreadable or unsupported file, wrong shape, dtype
    /// or length, non-finite values, labels that are not integers, an image
    /// shape that does not match `d1`, invalid preprocessing settings.
    pub fn load(&self) -> Result<Samples, FileError> {
        let x = read_samples(&self.path)?;
        let labels = match &self.labels {
            Some(path) => Some(read_labels(path, x.nrows())?),
            None => None,
        };
        let samples = Samples::new(x, labels, self.image, self.path.display().to_string())?;
        let fitted = self.preprocess.fit(samples.x.view()).map_err(FileError::Config)?;
        Ok(Samples { x: fitted.apply(samples.x.view()), ..samples })
    }
}

/// Samples of real data: `x` (`n x d1`), optional labels, optional image shape.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Samples {
    /// The samples, one per row.
    pub x: Array2<f32>,
    /// One integer label per sample.
    pub labels: Option<Vec<i64>>,
    /// The image shape of a sample.
    pub image: Option<ImageShape>,
    /// Where they came from (a path or a name).
    pub source: String,
}

impl Samples {
    /// Checks that labels (if any) match the rows, the image shape matches
    /// `d1`, and every value is finite.
    ///
    /// # Errors
    /// [`FileError::Shape`] or [`FileError::NonFinite`], naming `source`.
    pub fn new(x: Array2<f32>, labels: Option<Vec<i64>>, image: Option<ImageShape>, source: impl Into<String>) -> Result<Self, FileError> {
        let source = source.into();
        check_matrix(&source, &x)?;
        if let Some(labels) = &labels {
            if labels.len() != x.nrows() {
                return Err(FileError::Shape {
                    path: source,
                    what: "labels",
                    found: vec![labels.len()],
                    expected: format!("({},) (one label per sample)", x.nrows()),
                });
            }
        }
        if let Some(shape) = image {
            if shape.height == 0 || shape.width == 0 || shape.height * shape.width != x.ncols() {
                return Err(FileError::Shape {
                    path: source,
                    what: "samples",
                    found: x.shape().to_vec(),
                    expected: format!("(n, {}) for images of {} x {}", shape.height * shape.width, shape.height, shape.width),
                });
            }
        }
        Ok(Self { x, labels, image, source })
    }

    /// Number of samples `n`.
    #[must_use]
    pub fn n(&self) -> usize {
        self.x.nrows()
    }

    /// Dimension `d1`.
    #[must_use]
    pub fn d1(&self) -> usize {
        self.x.ncols()
    }
}

fn check_matrix(source: &str, x: &Array2<f32>) -> Result<(), FileError> {
    if x.nrows() < 2 || x.ncols() == 0 {
        return Err(FileError::Shape {
            path: source.to_string(),
            what: "samples",
            found: x.shape().to_vec(),
            expected: "(n, d1) with n >= 2 and d1 >= 1".into(),
        });
    }
    if let Some(((row, column), value)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(FileError::NonFinite { path: source.to_string(), what: "samples", row, column, value: f64::from(*value) });
    }
    Ok(())
}

/// Reads a samples matrix (`n x d1`) from a `.npy` or `.csv` file.
///
/// # Errors
/// As [`FileData::load`].
pub fn read_samples(path: &Path) -> Result<Array2<f32>, FileError> {
    let name = path.display().to_string();
    let x = match extension(path)?.as_str() {
        "npy" => npy_matrix(&read_bytes(path)?, &name)?,
        _ => csv_matrix(&read_text(path)?, &name)?,
    };
    check_matrix(&name, &x)?;
    Ok(x)
}

/// Reads `n` integer labels from a `.npy` (1-D, or `n x 1`) or `.csv` (one column) file.
///
/// # Errors
/// As [`FileData::load`].
pub fn read_labels(path: &Path, n: usize) -> Result<Vec<i64>, FileError> {
    let name = path.display().to_string();
    let (values, found): (Array2<f64>, Vec<usize>) = match extension(path)?.as_str() {
        "npy" => {
            let array = npy_any::<f64>(&read_bytes(path)?, &name)?;
            let shape = array.shape().to_vec();
            let columns = match shape.len() {
                1 => 1,
                2 if shape[1] == 1 => 1,
                _ => 0,
            };
            if columns == 0 {
                return Err(FileError::Shape { path: name, what: "labels", found: shape, expected: format!("({n},) or ({n}, 1)") });
            }
            let len = shape[0];
            let values = Array2::from_shape_vec((len, 1), array.iter().copied().collect())
                .map_err(|e| FileError::Parse { path: name.clone(), reason: e.to_string() })?;
            (values, shape)
        }
        _ => {
            let values = csv_matrix(&read_text(path)?, &name)?.mapv(f64::from);
            let shape = values.shape().to_vec();
            (values, shape)
        }
    };
    if values.ncols() != 1 || values.nrows() != n {
        return Err(FileError::Shape { path: name, what: "labels", found, expected: format!("({n},) or ({n}, 1): one label per sample") });
    }
    values
        .column(0)
        .iter()
        .enumerate()
        .map(|(row, &value)| {
            if value.is_finite() && value.fract() == 0.0 && value.abs() < 9.0e15 {
                Ok(value as i64)
            } else {
                Err(FileError::NotInteger { path: name.clone(), row, value })
            }
        })
        .collect()
}

fn extension(path: &Path) -> Result<String, FileError> {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match extension.as_str() {
        "npy" | "csv" => Ok(extension),
        _ => Err(FileError::Format { path: path.display().to_string(), extension }),
    }
}

/// [`crate::rng::fnv1a`] of a file's bytes as 16 hex digits, read in blocks (the file is never held in memory whole).
fn fnv1a_file(path: &Path) -> Result<String, FileError> {
    use std::io::Read as _;
    let unreadable = |error: std::io::Error| FileError::Unreadable { path: path.display().to_string(), reason: error.to_string() };
    let mut file = std::fs::File::open(path).map_err(unreadable)?;
    let (mut hash, mut block) = (crate::rng::FNV1A_OFFSET, vec![0u8; 1 << 16]);
    loop {
        let read = file.read(&mut block).map_err(unreadable)?;
        if read == 0 {
            return Ok(format!("{hash:016x}"));
        }
        hash = crate::rng::fnv1a_extend(hash, &block[..read]);
    }
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, FileError> {
    std::fs::read(path).map_err(|error| FileError::Unreadable { path: path.display().to_string(), reason: error.to_string() })
}

fn read_text(path: &Path) -> Result<String, FileError> {
    std::fs::read_to_string(path).map_err(|error| FileError::Unreadable { path: path.display().to_string(), reason: error.to_string() })
}

/// A 2-D `.npy` array of any real dtype, from its bytes, as `f32`.
///
/// # Errors
/// [`FileError`] naming `name`.
pub fn npy_matrix(bytes: &[u8], name: &str) -> Result<Array2<f32>, FileError> {
    let array = npy_any::<f32>(bytes, name)?;
    let found = array.shape().to_vec();
    array.into_dimensionality::<Ix2>().map_err(|_| FileError::Shape {
        path: name.to_string(),
        what: "samples",
        found,
        expected: "(n, d1): a 2-D array, one sample per row".into(),
    })
}

/// A 1-D `.npy` array of integer labels, from its bytes.
///
/// # Errors
/// [`FileError`] naming `name`.
pub fn npy_labels(bytes: &[u8], name: &str) -> Result<Vec<i64>, FileError> {
    let array = npy_any::<f64>(bytes, name)?;
    if array.ndim() != 1 {
        return Err(FileError::Shape { path: name.into(), what: "labels", found: array.shape().to_vec(), expected: "(n,)".into() });
    }
    array
        .iter()
        .enumerate()
        .map(|(row, &value)| {
            if value.is_finite() && value.fract() == 0.0 {
                Ok(value as i64)
            } else {
                Err(FileError::NotInteger { path: name.into(), row, value })
            }
        })
        .collect()
}

/// Conversion of every supported `.npy` element type into the target float.
trait FromElement: Copy {
    fn from_f64(value: f64) -> Self;
}

impl FromElement for f32 {
    fn from_f64(value: f64) -> Self {
        value as f32
    }
}

impl FromElement for f64 {
    fn from_f64(value: f64) -> Self {
        value
    }
}

/// Reads an array of any dimension and any real dtype, trying each dtype in turn.
fn npy_any<T: FromElement>(bytes: &[u8], name: &str) -> Result<ArrayD<T>, FileError> {
    fn attempt<E: ReadableElement + Copy, T: FromElement>(bytes: &[u8], convert: fn(E) -> f64) -> Result<ArrayD<T>, ReadNpyError> {
        ArrayD::<E>::read_npy(bytes).map(|array| array.mapv(|value| T::from_f64(convert(value))))
    }
    type Attempt<T> = fn(&[u8]) -> Result<ArrayD<T>, ReadNpyError>;
    let attempts: [Attempt<T>; 10] = [
        |b| attempt::<f32, T>(b, f64::from),
        |b| attempt::<f64, T>(b, |v| v),
        |b| attempt::<u8, T>(b, f64::from),
        |b| attempt::<i8, T>(b, f64::from),
        |b| attempt::<u16, T>(b, f64::from),
        |b| attempt::<i16, T>(b, f64::from),
        |b| attempt::<u32, T>(b, f64::from),
        |b| attempt::<i32, T>(b, f64::from),
        |b| attempt::<i64, T>(b, |v| v as f64),
        |b| attempt::<u64, T>(b, |v| v as f64),
    ];
    let mut descriptor = String::new();
    for read in attempts {
        match read(bytes) {
            Ok(array) => return Ok(array),
            Err(ReadNpyError::WrongDescriptor(value)) => descriptor = value.to_string(),
            Err(error) => return Err(npy_error(error, name)),
        }
    }
    Err(FileError::Dtype { path: name.into(), dtype: descriptor })
}

fn npy_error(error: ReadNpyError, name: &str) -> FileError {
    let path = name.to_string();
    match error {
        ReadNpyError::MissingData => FileError::Truncated { path, reason: "the data ends before the shape in the header is filled".into() },
        ReadNpyError::ExtraBytes(count) => FileError::Truncated { path, reason: format!("{count} bytes after the end of the array") },
        ReadNpyError::Io(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => {
            FileError::Truncated { path, reason: "the file ends inside the header".into() }
        }
        other => FileError::Parse { path, reason: format!("not a valid .npy file: {other}") },
    }
}

/// A CSV text of numbers as an `n x d` matrix (first line skipped if it is a header).
///
/// # Errors
/// [`FileError::Parse`] naming the line and field; rows of unequal length.
pub fn csv_matrix(text: &str, name: &str) -> Result<Array2<f32>, FileError> {
    let mut values = Vec::new();
    let mut columns: Option<usize> = None;
    let mut rows = 0;
    let mut first = true;
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let parsed: Vec<Option<f32>> = fields.iter().map(|field| field.parse::<f32>().ok()).collect();
        let is_header = first && parsed.iter().any(Option::is_none);
        first = false;
        let expected = *columns.get_or_insert(fields.len());
        if is_header {
            continue;
        }
        if fields.len() != expected {
            return Err(FileError::Parse {
                path: name.into(),
                reason: format!("line {}: {} fields, expected {expected} (as the first line)", index + 1, fields.len()),
            });
        }
        for (column, (field, value)) in fields.iter().zip(parsed).enumerate() {
            match value {
                Some(value) => values.push(value),
                None => {
                    return Err(FileError::Parse {
                        path: name.into(),
                        reason: format!("line {}, field {}: {field:?} is not a number", index + 1, column + 1),
                    });
                }
            }
        }
        rows += 1;
    }
    let columns = columns.unwrap_or(0);
    Array2::from_shape_vec((rows, columns), values).map_err(|error| FileError::Parse { path: name.into(), reason: error.to_string() })
}

/// Labels mapped to class indices `0..K` (in increasing order of label): `(indices, K)`.
#[must_use]
pub fn class_indices(labels: &[i64]) -> (Vec<usize>, usize) {
    let mut classes: Vec<i64> = labels.to_vec();
    classes.sort_unstable();
    classes.dedup();
    let indices = labels.iter().map(|label| classes.binary_search(label).unwrap_or(0)).collect();
    (indices, classes.len())
}

/// Labels as an `Array1<f32>` of class indices (for probes).
#[must_use]
pub fn label_array(labels: &[i64]) -> Array1<f32> {
    class_indices(labels).0.into_iter().map(|class| class as f32).collect()
}
