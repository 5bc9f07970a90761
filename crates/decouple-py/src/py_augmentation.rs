//! [`PyAugmentation`]: a Python callable `f(batch, seed) -> V views` as an
//! [`Augment`] the trainer drives.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use decouple_augment::{Augment, AugmentError, View as EngineView};
use ndarray::Array2;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rand::Rng;

use crate::convert;
use crate::data::Batch;
use crate::session::Session;

/// A Python callable `f(batch, seed) -> V views` (arrays, or `(sparse, dense)`
/// pairs) as an [`Augment`]. Its seed comes from the run's augmentation stream,
/// so a run stays one function of its seed. A failure stops the run (the
/// exception reaches the caller through the [`Session`]).
pub(crate) struct PyAugmentation {
    object: Py<PyAny>,
    label: String,
    n_views: usize,
    session: Arc<Session>,
    /// Every call so far returned parts (the decoupling statistics apply).
    parts: AtomicBool,
}

impl PyAugmentation {
    pub(crate) fn new(py: Python<'_>, object: Py<PyAny>, kind: &str, session: Arc<Session>) -> PyResult<Self> {
        let (n_views, label) = convert::part_attributes(object.bind(py), kind)?;
        Ok(Self { object, label, n_views, session, parts: AtomicBool::new(true) })
    }

    fn call(&self, py: Python<'_>, batch: &decouple_data::Batch, seed: u64) -> PyResult<Vec<EngineView>> {
        let python_batch = Bound::new(py, Batch { inner: batch.clone() })?;
        let result = self.object.bind(py).call1((python_batch, seed))?;
        let items: Vec<Bound<'_, PyAny>> = result.try_iter()?.collect::<PyResult<_>>()?;
        if items.len() != self.n_views {
            return Err(PyValueError::new_err(format!(
                "the augmentation `{}` returned {} views, expected n_views = {}",
                self.label,
                items.len(),
                self.n_views
            )));
        }
        let d1 = batch.d1();
        let mut views = Vec::with_capacity(items.len());
        for (k, item) in items.iter().enumerate() {
            let expected = |array: Array2<f32>, what: &str| -> PyResult<Array2<f32>> {
                if array.dim() != (batch.n(), d1) {
                    return Err(PyValueError::new_err(format!(
                        "the augmentation `{}`: view {k} ({what}) has shape {:?}, expected ({}, {d1})",
                        self.label,
                        array.shape(),
                        batch.n()
                    )));
                }
                Ok(array)
            };
            let view = if let Ok((sparse, dense)) = item.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>() {
                let sparse = expected(convert::matrix(&sparse, &format!("view {k} sparse"), None)?, "sparse")?;
                let dense = expected(convert::matrix(&dense, &format!("view {k} dense"), None)?, "dense")?;
                let x = &sparse + &dense;
                EngineView::new(sparse, dense, x)
            } else {
                self.parts.store(false, Ordering::Relaxed);
                let x = expected(convert::matrix(item, &format!("view {k}"), None)?, "x")?;
                EngineView::new(Array2::zeros(x.dim()), x.clone(), x)
            };
            views.push(view.map_err(|error| convert::input_error(&error))?);
        }
        Ok(views)
    }
}

impl Augment for PyAugmentation {
    fn label(&self) -> String {
        self.label.clone()
    }

    fn n_views(&self) -> usize {
        self.n_views
    }

    fn check(&self) -> Result<(), AugmentError> {
        if self.n_views < 2 {
            return Err(AugmentError::OutOfRange { field: "augmentation.n_views", value: self.n_views as f64, allowed: ">= 2" });
        }
        Ok(())
    }

    fn views<R: Rng + ?Sized>(&self, batch: &decouple_data::Batch, rng: &mut R) -> Result<Vec<EngineView>, AugmentError> {
        let seed = rng.next_u64();
        Python::attach(|py| {
            self.call(py, batch, seed).map_err(|error| {
                let message = error.to_string();
                self.session.fail(py, error, &format!("in the augmentation `{}`", self.label));
                AugmentError::Failed { label: self.label.clone(), message }
            })
        })
    }

    fn has_parts(&self) -> bool {
        self.parts.load(Ordering::Relaxed)
    }
}
