//! Row-chunked loops that run in parallel when called from inside a rayon
//! thread pool (e.g. under `ThreadPool::install`) and sequentially otherwise.
//!
//! The work is always split into the same chunks and each chunk writes only
//! its own rows, so the result does not depend on the number of threads.

use rayon::prelude::*;

/// Whether the caller runs inside a rayon pool (and may fan out into it).
pub(crate) fn in_pool() -> bool {
    rayon::current_thread_index().is_some()
}

/// Calls `f(chunk_index, chunk)` on chunks of `chunk_len` elements of `a`.
pub(crate) fn for_chunks<F>(a: &mut [f32], chunk_len: usize, f: F)
where
    F: Fn(usize, &mut [f32]) + Sync + Send,
{
    let chunk_len = chunk_len.max(1);
    if in_pool() {
        a.par_chunks_mut(chunk_len).enumerate().for_each(|(index, a)| f(index, a));
    } else {
        a.chunks_mut(chunk_len).enumerate().for_each(|(index, a)| f(index, a));
    }
}
