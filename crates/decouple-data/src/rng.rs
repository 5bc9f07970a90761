//! Named, independent random streams derived from one `u64` seed.
//!
//! Every random quantity of an experiment is drawn from its own stream of the
//! portable ChaCha8 generator: stream `name` of seed `s` is
//! `ChaCha8Rng::seed_from_u64(s)` with its 64-bit stream id set to the FNV-1a
//! hash of `name` (and of an optional index). Adding a new consumer of
//! randomness therefore never shifts the numbers another consumer sees, and
//! results do not depend on thread scheduling.

use rand::SeedableRng;
pub use rand_chacha::ChaCha8Rng;

/// The 64-bit FNV-1a hash of `bytes` (a fixed, portable stream id).
#[must_use]
pub fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_extend(FNV1A_OFFSET, bytes)
}

/// The FNV-1a hash of no bytes, where [`fnv1a_extend`] starts.
pub const FNV1A_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// The FNV-1a `hash` of some bytes, extended by `bytes` (to hash a file block by block).
#[must_use]
pub fn fnv1a_extend(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

/// The stream called `name` of `seed`.
///
/// ```
/// use rand::Rng;
/// let a: u64 = decouple_data::rng::stream(7, "dictionary").random();
/// let b: u64 = decouple_data::rng::stream(7, "dictionary").random();
/// let c: u64 = decouple_data::rng::stream(7, "noise").random();
/// assert_eq!(a, b);
/// assert_ne!(a, c);
/// ```
#[must_use]
pub fn stream(seed: u64, name: &str) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(fnv1a(name.as_bytes()));
    rng
}

/// The `index`-th stream called `name` of `seed` (e.g. one per evaluation step).
#[must_use]
pub fn indexed_stream(seed: u64, name: &str, index: u64) -> ChaCha8Rng {
    let mut bytes = name.as_bytes().to_vec();
    bytes.push(b'#');
    bytes.extend_from_slice(&index.to_le_bytes());
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(fnv1a(&bytes));
    rng
}

/// A `u64` seed derived from stream `name` of `seed` (its first draw), for
/// consumers that take a seed rather than a generator (e.g. probe folds).
#[must_use]
pub fn derive_seed(seed: u64, name: &str) -> u64 {
    rand::RngCore::next_u64(&mut stream(seed, name))
}
