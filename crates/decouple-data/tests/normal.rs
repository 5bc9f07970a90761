//! The blocked Box–Muller sampler against the standard normal: moments, tail
//! probabilities, the Kolmogorov–Smirnov distance, and independence between
//! the cosine and sine halves of a block and across blocks (Monte Carlo, each
//! within 5 standard errors).

use decouple_data::{fill_normal, rng};

const N: usize = 2_000_000;

fn draws(seed: u64, sigma: f32) -> Vec<f32> {
    let mut out = vec![0.0f32; N];
    fill_normal(&mut out, sigma, &mut rng::stream(seed, "normal-test"));
    out
}

/// `Phi(x)` of the standard normal (Abramowitz–Stegun 7.1.26 on erf, |error| < 1.5e-7).
fn phi(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs() / std::f64::consts::SQRT_2);
    let poly = t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-(x * x) / 2.0).exp();
    if x >= 0.0 { 0.5 * (1.0 + erf) } else { 0.5 * (1.0 - erf) }
}

/// Asserts the sample mean of `f` over the draws is within 5 standard errors of `expected`.
fn assert_mean(values: &[f32], f: impl Fn(f64) -> f64, expected: f64, what: &str) {
    let n = values.len() as f64;
    let (mut sum, mut sum_sq) = (0.0, 0.0);
    for &v in values {
        let y = f(f64::from(v));
        sum += y;
        sum_sq += y * y;
    }
    let mean = sum / n;
    let se = ((sum_sq / n - mean * mean) / n).sqrt();
    assert!((mean - expected).abs() <= 5.0 * se + 1e-12, "{what}: {mean} vs {expected} (se {se})");
}

#[test]
fn moments_and_tails_are_those_of_the_normal() {
    let x = draws(1, 1.0);
    assert_mean(&x, |v| v, 0.0, "mean");
    assert_mean(&x, |v| v * v, 1.0, "variance");
    assert_mean(&x, |v| v.powi(3), 0.0, "third moment");
    assert_mean(&x, |v| v.powi(4), 3.0, "fourth moment");
    for threshold in [0.5, 1.0, 2.0, 3.0, 4.0] {
        let tail = 2.0 * (1.0 - phi(threshold));
        assert_mean(&x, |v| f64::from(u8::from(v.abs() > threshold)), tail, &format!("P(|x| > {threshold})"));
    }
    assert!(x.iter().all(|v| v.is_finite() && v.abs() <= 6.67));
}

#[test]
fn the_kolmogorov_smirnov_distance_is_that_of_a_normal_sample() {
    let mut x: Vec<f64> = draws(2, 1.0).iter().map(|&v| f64::from(v)).collect();
    x.sort_by(f64::total_cmp);
    let n = x.len() as f64;
    let distance =
        x.iter().enumerate().map(|(i, &v)| (phi(v) - i as f64 / n).abs().max((phi(v) - (i + 1) as f64 / n).abs())).fold(0.0, f64::max);
    // P(sqrt(n) D > 1.95) < 0.001 for a sample of the distribution itself.
    assert!(distance * n.sqrt() < 1.95, "sqrt(n) D = {}", distance * n.sqrt());
}

#[test]
fn halves_and_neighbours_are_independent() {
    let x = draws(3, 1.0);
    // The cosine (first 256) and sine (last 256) halves of every full block share their radius.
    let (mut products, mut squares, mut neighbours) = (Vec::new(), Vec::new(), Vec::new());
    for block in x.chunks_exact(512) {
        let (cos, sin) = block.split_at(256);
        for (&c, &s) in cos.iter().zip(sin) {
            products.push(c * s);
            squares.push(c * c * s * s);
        }
        for pair in block.windows(2) {
            neighbours.push(pair[0] * pair[1]);
        }
    }
    assert_mean(&products, |v| v, 0.0, "E[cos-half x sine-half]");
    assert_mean(&squares, |v| v, 1.0, "E[c^2 s^2] (independent: 1)");
    assert_mean(&neighbours, |v| v, 0.0, "E[x_i x_(i+1)]");
}

#[test]
fn sigma_scales_and_seeds_repeat() {
    let (one, two) = (draws(4, 1.0), draws(4, 0.25));
    assert!(one.iter().zip(&two).all(|(a, b)| 0.25 * a == *b));
    assert_eq!(draws(4, 1.0), one, "a seed gives the same bits");
    // An odd length takes the same words as the next even one, and a prefix
    // of a full block is not a prefix of the full draw (halves are split).
    let mut odd = vec![0.0f32; 7];
    fill_normal(&mut odd, 1.0, &mut rng::stream(4, "normal-test"));
    assert!(odd.iter().all(|v| v.is_finite()));
}
