//! Helpers shared by the integration tests: seeded random matrices, a
//! Gram–Schmidt orthonormal dictionary, and slow, obviously correct reference
//! implementations of every metric written with plain loops in `f64`.
// Each test binary uses a subset of the helpers; the references are plain
// index loops on purpose (obviously correct beats idiomatic here).
#![allow(dead_code, clippy::needless_range_loop)]

use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// A portable generator for one test case.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// `rows x cols` matrix of independent N(0, sigma^2) entries.
pub fn gaussian_matrix(rng: &mut ChaCha8Rng, rows: usize, cols: usize, sigma: f32) -> Array2<f32> {
    Array2::from_shape_fn((rows, cols), |_| sigma * rng.sample::<f32, _>(StandardNormal))
}

/// Random d1 x d matrix with orthonormal columns: modified Gram–Schmidt (run
/// twice) of a seeded Gaussian matrix, in f64, then cast to f32.
pub fn random_orthonormal(rng: &mut ChaCha8Rng, d1: usize, d: usize) -> Array2<f32> {
    assert!(d <= d1);
    let mut q: Vec<Vec<f64>> = (0..d).map(|_| (0..d1).map(|_| rng.sample(StandardNormal)).collect()).collect();
    for j in 0..d {
        for _pass in 0..2 {
            for k in 0..j {
                let proj: f64 = (0..d1).map(|t| q[j][t] * q[k][t]).sum();
                for t in 0..d1 {
                    q[j][t] -= proj * q[k][t];
                }
            }
        }
        let norm = q[j].iter().map(|v| v * v).sum::<f64>().sqrt();
        for v in q[j].iter_mut() {
            *v /= norm;
        }
    }
    Array2::from_shape_fn((d1, d), |(t, j)| q[j][t] as f32)
}

/// Random sparse latent (B x d) with entries +-1 with probability `p` (each sign half).
pub fn sparse_latent(rng: &mut ChaCha8Rng, b: usize, d: usize, p: f64) -> Array2<f32> {
    Array2::from_shape_fn((b, d), |_| if rng.random_bool(p) { if rng.random_bool(0.5) { 1.0 } else { -1.0 } } else { 0.0 })
}

/// Soft thresholding `sign(s) max(|s| - b, 0)` of every entry.
pub fn soft_threshold(s: &Array2<f32>, b: f32) -> Array2<f32> {
    s.mapv(|v| v.signum() * (v.abs() - b).max(0.0))
}

/// Reference signed cosines, plain loops.
pub fn ref_cosines(w: &Array2<f32>, m: &Array2<f32>) -> Array2<f64> {
    let (n_neurons, d1) = w.dim();
    let d = m.ncols();
    let mut out = Array2::zeros((n_neurons, d));
    for i in 0..n_neurons {
        for j in 0..d {
            let (mut dot, mut ww, mut mm) = (0.0_f64, 0.0_f64, 0.0_f64);
            for t in 0..d1 {
                let a = f64::from(w[[i, t]]);
                let b = f64::from(m[[t, j]]);
                dot += a * b;
                ww += a * a;
                mm += b * b;
            }
            out[[i, j]] = if ww > 0.0 && mm > 0.0 { dot / (ww.sqrt() * mm.sqrt()) } else { 0.0 };
        }
    }
    out
}

/// Reference median (sorted copy, mean of middle pair for even length).
pub fn ref_median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Reference per-neuron energy fractions in span(H) and the weighted mean.
pub fn ref_energy(w: &Array2<f32>, h: &Array2<f32>) -> (Vec<f64>, f64) {
    let (n_neurons, d1) = w.dim();
    let r = h.ncols();
    let mut per = Vec::new();
    let (mut sum_in, mut sum_tot) = (0.0, 0.0);
    for i in 0..n_neurons {
        let mut inside = 0.0;
        for j in 0..r {
            let mut p = 0.0;
            for t in 0..d1 {
                p += f64::from(w[[i, t]]) * f64::from(h[[t, j]]);
            }
            inside += p * p;
        }
        let total: f64 = (0..d1).map(|t| f64::from(w[[i, t]]).powi(2)).sum();
        per.push(if total > 0.0 { inside / total } else { 0.0 });
        sum_in += inside;
        sum_tot += total;
    }
    (per, if sum_tot > 0.0 { sum_in / sum_tot } else { 0.0 })
}

/// Reference support counts `(n_nonzero, n_matched, n_wrong_sign, n_false_support, n_exact)`.
pub fn ref_support(f: &Array2<f32>, z: &Array2<f32>, cos: &Array2<f64>, min_alignment: f64) -> [usize; 5] {
    let (b, n_neurons) = f.dim();
    let d = z.ncols();
    // Assignment: first argmax of |cos|.
    let mut assigned = vec![None; n_neurons];
    for i in 0..n_neurons {
        let mut best = 0;
        for j in 1..d {
            if cos[[i, j]].abs() > cos[[i, best]].abs() {
                best = j;
            }
        }
        let a = cos[[i, best]].abs();
        if a > 0.0 && a >= min_alignment {
            assigned[i] = Some((best, cos[[i, best]].signum()));
        }
    }
    let mut counts = [0; 5];
    for s in 0..b {
        let mut exact = true;
        for j in 0..d {
            let mut votes = Vec::new();
            for i in 0..n_neurons {
                if let Some((feature, sign)) = assigned[i] {
                    if feature == j && f[[s, i]] != 0.0 {
                        votes.push(sign * f64::from(f[[s, i]]).signum());
                    }
                }
            }
            let zj = f64::from(z[[s, j]]);
            if zj != 0.0 {
                counts[0] += 1;
                let good = votes.contains(&zj);
                let bad = votes.contains(&-zj);
                counts[1] += usize::from(good);
                counts[2] += usize::from(bad);
                exact &= good && !bad;
            } else if !votes.is_empty() {
                counts[3] += 1;
                exact = false;
            }
        }
        counts[4] += usize::from(exact);
    }
    counts
}

/// Standardises columns with the statistics of `train` (constant columns: scale 1).
pub fn ref_standardize(train: &Array2<f32>, other: &Array2<f32>) -> (Array2<f64>, Array2<f64>) {
    let (n, p) = train.dim();
    let mut mean = vec![0.0; p];
    let mut scale = vec![1.0; p];
    for j in 0..p {
        mean[j] = (0..n).map(|i| f64::from(train[[i, j]])).sum::<f64>() / n as f64;
        let var = (0..n).map(|i| (f64::from(train[[i, j]]) - mean[j]).powi(2)).sum::<f64>() / n as f64;
        if var.sqrt() > 1e-10 * mean[j].abs() && var > 0.0 {
            scale[j] = var.sqrt();
        }
    }
    let map = |x: &Array2<f32>| Array2::from_shape_fn(x.dim(), |(i, j)| (f64::from(x[[i, j]]) - mean[j]) / scale[j]);
    (map(train), map(other))
}

/// Solves `A x = b` by Gaussian elimination with partial pivoting.
pub fn ref_solve(a: &Array2<f64>, b: &Array1<f64>) -> Array1<f64> {
    let n = a.nrows();
    let mut m = a.clone();
    let mut y = b.clone();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &k| m[[i, col]].abs().partial_cmp(&m[[k, col]].abs()).unwrap()).unwrap();
        for k in 0..n {
            m.swap([col, k], [pivot, k]);
        }
        y.swap(col, pivot);
        for i in (col + 1)..n {
            let factor = m[[i, col]] / m[[col, col]];
            for k in col..n {
                m[[i, k]] -= factor * m[[col, k]];
            }
            y[i] -= factor * y[col];
        }
    }
    let mut x = Array1::zeros(n);
    for i in (0..n).rev() {
        let mut s = y[i];
        for k in (i + 1)..n {
            s -= m[[i, k]] * x[k];
        }
        x[i] = s / m[[i, i]];
    }
    x
}

/// Random labels in {-1, +1}.
pub fn random_signs(rng: &mut ChaCha8Rng, n: usize) -> Array1<f32> {
    Array1::from_shape_fn(n, |_| if rng.random_bool(0.5) { 1.0 } else { -1.0 })
}
