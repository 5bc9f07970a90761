//! Row blocks of the loss passes, run side by side when called from inside a
//! rayon pool (e.g. under `ThreadPool::install`) and in one piece otherwise.
//!
//! Every pass writes only its own rows (of the logits, their gradient and
//! `dL/dZ_hat`), and each row is computed the same way whatever the split
//! (a matrix product's entry does not depend on how the rows of its output
//! are blocked), so the result does not depend on the number of threads.

use ndarray::{ArrayViewMut2, Axis};

/// Rows per block when a pass is split over threads.
const BLOCK_ROWS: usize = 32;

/// Outputs that split by rows: matrices, slices, and pairs of them.
pub(crate) trait SplitRows: Sized + Send {
    /// Rows (or entries) held.
    fn rows(&self) -> usize;
    /// The first `at` rows and the rest.
    fn split_rows(self, at: usize) -> (Self, Self);
}

impl<F: Send> SplitRows for ArrayViewMut2<'_, F> {
    fn rows(&self) -> usize {
        self.nrows()
    }

    fn split_rows(self, at: usize) -> (Self, Self) {
        self.split_at(Axis(0), at)
    }
}

impl<F: Send> SplitRows for &mut [F] {
    fn rows(&self) -> usize {
        self.len()
    }

    fn split_rows(self, at: usize) -> (Self, Self) {
        self.split_at_mut(at)
    }
}

impl<A: SplitRows, B: SplitRows> SplitRows for (A, B) {
    fn rows(&self) -> usize {
        self.0.rows()
    }

    fn split_rows(self, at: usize) -> (Self, Self) {
        let (a_head, a_tail) = self.0.split_rows(at);
        let (b_head, b_tail) = self.1.split_rows(at);
        ((a_head, b_head), (a_tail, b_tail))
    }
}

/// Calls `f(first_row, rows)` on `outputs`: whole outside a rayon pool,
/// halved at block boundaries down to blocks of [`BLOCK_ROWS`] inside one.
pub(crate) fn for_row_blocks<T: SplitRows>(outputs: T, f: &(impl Fn(usize, T) + Sync)) {
    split(outputs, 0, f, rayon::current_thread_index().is_some());
}

fn split<T: SplitRows>(outputs: T, first_row: usize, f: &(impl Fn(usize, T) + Sync), in_pool: bool) {
    let blocks = outputs.rows().div_ceil(BLOCK_ROWS);
    if !in_pool || blocks <= 1 {
        f(first_row, outputs);
        return;
    }
    let middle = blocks / 2 * BLOCK_ROWS;
    let (head, tail) = outputs.split_rows(middle);
    rayon::join(|| split(head, first_row, f, in_pool), || split(tail, first_row + middle, f, in_pool));
}
