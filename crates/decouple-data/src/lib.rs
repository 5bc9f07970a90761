//! The sparse-coding data model of Wen & Li (ICML 2021), docs/model.md §1.
//!
//! A sample is `x = M z + xi` in `R^{d1}`:
//! * `M` (d1 x d) is a [`Dictionary`] with orthonormal columns, the *sparse
//!   features* (delocalized for [`DictionaryKind::RandomOrthonormal`]);
//! * `z in {-1, 0, +1}^d` is a sparse latent ([`SparseLatent`]) with
//!   `E[z z^T] = c I_d`, scaled per feature by [`FeatureStrengths`] `alpha_j`
//!   (all 1 by default: the sparse part is `M diag(alpha) z`);
//! * `xi` are the *dense features* ([`DenseFeatures`]), Gaussian noise that is
//!   isotropic, low-rank, or confined to the orthogonal complement of span(M).
//!
//! The dense-to-sparse energy ratio is `E||xi||^2 / E||Mz||^2 = sigma^2 d1 / (p d)`.
//! A [`Batch`] keeps `z`, `M z` and `xi` beside `x` so that every later
//! quantity can be split into its sparse and dense parts. Downstream tasks
//! ([`SignTask`], [`FeatureSignTask`]) label samples for linear probes.
//!
//! ```
//! use decouple_data::{DataConfig, SparseCodingModel, rng};
//! let model = SparseCodingModel::from_seed(DataConfig::default(), 1).unwrap();
//! let batch = model.sample(128, &mut rng::stream(1, "data"));
//! assert_eq!(batch.x().dim(), (128, 512));
//! let residual = &batch.x() - &(&batch.sparse() + &batch.dense());
//! assert!(residual.iter().all(|r| *r == 0.0));
//! ```

mod batch;
mod dense;
mod dictionary;
mod eigen;
mod error;
mod file;
mod latent;
pub mod linalg;
mod model;
mod moments;
mod normal;
mod parallel;
mod preprocess;
pub mod rng;
mod strength;
mod task;

pub use batch::{Batch, Pool};
pub use dense::DenseFeatures;
pub use dictionary::{Dictionary, DictionaryKind, ORTHONORMAL_TOLERANCE};
pub use error::{DataError, FileError};
pub use file::{FileData, ImageShape, Samples, class_indices, csv_matrix, label_array, npy_labels, npy_matrix, read_labels, read_samples};
pub use latent::SparseLatent;
pub use model::{DataConfig, SparseCodingModel, fill_gaussian};
pub use moments::SecondMoments;
pub use normal::fill_normal;
pub use preprocess::{FittedPreprocess, Preprocess, Whitening};
pub use strength::FeatureStrengths;
pub use task::{FeatureSignTask, LabelledSet, SignTask, Task, draw_labelled};
