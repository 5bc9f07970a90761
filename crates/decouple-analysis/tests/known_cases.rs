//! Metrics on cases whose answer is known in closed form: the ideal network
//! `W = M^T`, random Gaussian weights (sparse energy `d/d1`, extreme-value
//! level of `best_j`), exact support recovery by an ideal network, and the
//! invariance of every metric under permuting or sign-flipping neurons.

mod common;

use common::{gaussian_matrix, random_orthonormal, rng, soft_threshold, sparse_latent};
use decouple_analysis::{
    PurityConfig, RecoveryConfig, SupportConfig, activity_stats, alignment_matrix, cosine_matrix, feature_recovery, neuron_purity,
    sparse_energy, subspace_energy, support_recovery,
};
use ndarray::{Array2, Axis};
use proptest::prelude::*;
use rand::seq::SliceRandom;

#[test]
fn ideal_network_recovers_every_feature() {
    let (d1, d) = (256, 32);
    let mut r = rng(1);
    let m = random_orthonormal(&mut r, d1, d);
    // W = M^T, with arbitrary positive row scales (norms must not matter).
    let mut w = m.t().to_owned();
    for (i, mut row) in w.rows_mut().into_iter().enumerate() {
        row *= 0.01 + i as f32;
    }
    let a = alignment_matrix(w.view(), m.view()).unwrap();
    let rec = feature_recovery(a.view(), &RecoveryConfig::default()).unwrap();
    assert_eq!(rec.n_recovered, d);
    assert_eq!(rec.threshold, 0.9);
    for (j, &b) in rec.best_per_feature.iter().enumerate() {
        assert!((b - 1.0).abs() < 1e-5, "best_{j} = {b}");
        assert_eq!(rec.best_neuron_per_feature[j], j);
    }
    assert!((rec.min - 1.0).abs() < 1e-5 && (rec.median - 1.0).abs() < 1e-5);

    let energy = sparse_energy(w.view(), m.view()).unwrap();
    assert!((energy.mean - 1.0).abs() < 1e-5 && (energy.weighted_mean - 1.0).abs() < 1e-5);
    assert!(energy.energy_per_neuron.iter().all(|e| (e - 1.0).abs() < 1e-5));
    assert!((energy.random_baseline - d as f64 / d1 as f64).abs() < 1e-15);

    let purity = neuron_purity(a.view(), None, &PurityConfig::default()).unwrap();
    assert_eq!(purity.n_alive, d);
    assert_eq!(purity.n_single_feature, d);
    assert!((purity.mean_features_per_neuron - 1.0).abs() < 1e-15);
    assert!((purity.median_purity - 1.0).abs() < 1e-5);
}

#[test]
fn random_weights_sit_at_the_random_baselines() {
    let (n_neurons, d1, d) = (256, 512, 32);
    let mut r = rng(2);
    let m = random_orthonormal(&mut r, d1, d);
    let w = gaussian_matrix(&mut r, n_neurons, d1, 0.01);

    // e_i ~ Beta(d/2, (d1-d)/2): mean q = d/d1, variance 2 q (1-q) / (d1 + 2).
    let energy = sparse_energy(w.view(), m.view()).unwrap();
    let q = d as f64 / d1 as f64;
    let sd_mean = (2.0 * q * (1.0 - q) / (d1 as f64 + 2.0) / n_neurons as f64).sqrt();
    assert!((energy.mean - q).abs() < 5.0 * sd_mean, "mean {} vs {q} (sd {sd_mean})", energy.mean);
    // Weighted mean ~ Beta(m d/2, m (d1-d)/2).
    let sd_weighted = (2.0 * q * (1.0 - q) / (n_neurons as f64 * d1 as f64 + 2.0)).sqrt();
    assert!((energy.weighted_mean - q).abs() < 5.0 * sd_weighted);

    // best_j = max over m of |N(0,1)| / sqrt(d1), of order sqrt(2 ln(2m) / d1)
    // (about 0.83 of it at m = 256). Band: every best_j in [0.55, 1.5] x level
    // (probability of leaving it < 1e-3 per the Gaussian tails), median in [0.7, 1.0].
    let level = (2.0 * (2.0 * n_neurons as f64).ln() / d1 as f64).sqrt();
    let a = alignment_matrix(w.view(), m.view()).unwrap();
    let rec = feature_recovery(a.view(), &RecoveryConfig::default()).unwrap();
    assert_eq!(rec.n_recovered, 0);
    assert!(rec.min >= 0.55 * level && rec.max <= 1.5 * level, "min {} max {} level {level}", rec.min, rec.max);
    assert!(rec.median >= 0.7 * level && rec.median <= 1.0 * level, "median {} level {level}", rec.median);

    // No random neuron passes the purity threshold 0.3 (noise max ~ 0.13 here).
    let purity = neuron_purity(a.view(), None, &PurityConfig::default()).unwrap();
    assert_eq!(purity.mean_features_per_neuron, 0.0);
    assert_eq!(purity.n_alive, n_neurons);
}

#[test]
fn subspace_energy_of_a_split_basis_adds_up() {
    // span(H1) + span(H2) = span(H) for a split of an orthonormal H.
    let mut r = rng(3);
    let h = random_orthonormal(&mut r, 64, 12);
    let w = gaussian_matrix(&mut r, 20, 64, 1.0);
    let whole = subspace_energy(w.view(), h.view()).unwrap();
    let first = subspace_energy(w.view(), h.slice_axis(Axis(1), (0..5).into())).unwrap();
    let second = subspace_energy(w.view(), h.slice_axis(Axis(1), (5..12).into())).unwrap();
    for i in 0..20 {
        let sum = first.energy_per_neuron[i] + second.energy_per_neuron[i];
        assert!((sum - whole.energy_per_neuron[i]).abs() < 1e-5);
    }
    assert!((first.random_baseline - 5.0 / 64.0).abs() < 1e-15);
}

#[test]
fn ideal_network_recovers_the_signed_support_exactly() {
    let (d1, d, b) = (128, 16, 500);
    let mut r = rng(4);
    let m = random_orthonormal(&mut r, d1, d);
    let z = sparse_latent(&mut r, b, d, 0.15);
    let x = z.dot(&m.t());
    for flip in [1.0_f32, -1.0] {
        // Two neurons per feature, one of them sign-flipped when `flip = -1`.
        let mut w = Array2::zeros((2 * d, d1));
        for j in 0..d {
            w.row_mut(2 * j).assign(&m.column(j));
            w.row_mut(2 * j + 1).assign(&(&m.column(j) * flip));
        }
        let f = soft_threshold(&x.dot(&w.t()), 0.5);
        let cos = cosine_matrix(w.view(), m.view()).unwrap();
        let s = support_recovery(f.view(), z.view(), cos.view(), &SupportConfig::default()).unwrap();
        assert_eq!(s.match_rate, 1.0);
        assert_eq!(s.false_support_rate, 0.0);
        assert_eq!(s.wrong_sign_rate, 0.0);
        assert_eq!(s.exact_rate, 1.0);
        assert_eq!(s.n_features_covered, d);
        assert_eq!(s.n_nonzero + s.n_zero, b * d);
    }

    // A network that ignores the sign (|.| of the ideal representation) gets
    // the support right but half of the signs wrong.
    let w = m.t().to_owned();
    let f = soft_threshold(&x.dot(&w.t()), 0.5).mapv(f32::abs);
    let cos = cosine_matrix(w.view(), m.view()).unwrap();
    let s = support_recovery(f.view(), z.view(), cos.view(), &SupportConfig::default()).unwrap();
    assert_eq!(s.false_support_rate, 0.0);
    assert_eq!(s.n_matched + s.n_wrong_sign, s.n_nonzero);
    assert!((s.match_rate - 0.5).abs() < 0.1);
}

#[test]
fn activity_counts_dead_neurons_and_zeros() {
    let f = ndarray::array![[0.0_f32, 1.0, 0.0], [0.0, -2.0, 3.0], [0.0, 0.0, 0.0], [0.0, 4.0, 0.0]];
    let s = activity_stats(f.view()).unwrap();
    assert_eq!(s.alive, vec![false, true, true]);
    assert_eq!(s.n_dead, 1);
    assert!((s.dead_fraction - 1.0 / 3.0).abs() < 1e-15);
    assert!((s.zero_fraction - 8.0 / 12.0).abs() < 1e-15);
    assert!((s.mean_active_per_sample - 1.0).abs() < 1e-15);
    assert_eq!(s.active_fraction_per_neuron, vec![0.0, 0.75, 0.25]);
}

#[test]
fn zero_norm_neurons_give_zero_not_nan() {
    let mut r = rng(5);
    let m = random_orthonormal(&mut r, 16, 4);
    let mut w = gaussian_matrix(&mut r, 3, 16, 1.0);
    w.row_mut(1).fill(0.0);
    let a = alignment_matrix(w.view(), m.view()).unwrap();
    assert!(a.row(1).iter().all(|&v| v == 0.0));
    let e = sparse_energy(w.view(), m.view()).unwrap();
    assert_eq!(e.n_zero_norm, 1);
    assert_eq!(e.energy_per_neuron[1], 0.0);
    assert!((e.mean - (e.energy_per_neuron[0] + e.energy_per_neuron[2]) / 2.0).abs() < 1e-12);
    let p = neuron_purity(a.view(), None, &PurityConfig::default()).unwrap();
    assert_eq!(p.n_alive, 2);
    let all_zero = Array2::<f32>::zeros((2, 16));
    let e = sparse_energy(all_zero.view(), m.view()).unwrap();
    assert_eq!((e.mean, e.weighted_mean, e.n_zero_norm), (0.0, 0.0, 2));
}

/// Permutes the neurons (rows of W, columns of F) and flips the sign of some
/// of them (odd activation: F flips too).
fn permute_and_flip(seed: u64, w: &Array2<f32>, f: &Array2<f32>) -> (Array2<f32>, Array2<f32>) {
    let mut r = rng(seed);
    let n = w.nrows();
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut r);
    let signs: Vec<f32> = (0..n).map(|_| if rand::Rng::random_bool(&mut r, 0.5) { -1.0 } else { 1.0 }).collect();
    let mut w2 = w.select(Axis(0), &order);
    let mut f2 = f.select(Axis(1), &order);
    for (i, &s) in signs.iter().enumerate() {
        w2.row_mut(i).mapv_inplace(|v| v * s);
        f2.column_mut(i).mapv_inplace(|v| v * s);
    }
    (w2, f2)
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn neuron_permutations_and_sign_flips_change_nothing(
        seed in 0_u64..1_000_000,
        n_neurons in 1_usize..24,
        d1 in 4_usize..40,
        d_fraction in 0.1_f64..1.0,
    ) {
        let d = ((d1 as f64 * d_fraction) as usize).max(1);
        let mut r = rng(seed);
        let m = random_orthonormal(&mut r, d1, d);
        let w = gaussian_matrix(&mut r, n_neurons, d1, 1.0);
        let z = sparse_latent(&mut r, 40, d, 0.3);
        let x = &z.dot(&m.t()) + &gaussian_matrix(&mut r, 40, d1, 0.1);
        let f = soft_threshold(&x.dot(&w.t()), 0.5);
        let (w2, f2) = permute_and_flip(seed ^ 0xABCD, &w, &f);

        let a = alignment_matrix(w.view(), m.view()).unwrap();
        let a2 = alignment_matrix(w2.view(), m.view()).unwrap();
        let r1 = feature_recovery(a.view(), &RecoveryConfig::default()).unwrap();
        let r2 = feature_recovery(a2.view(), &RecoveryConfig::default()).unwrap();
        for (x, y) in r1.best_per_feature.iter().zip(&r2.best_per_feature) {
            prop_assert!((x - y).abs() < 1e-12);
        }
        prop_assert_eq!(r1.n_recovered, r2.n_recovered);

        let p1 = neuron_purity(a.view(), None, &PurityConfig::default()).unwrap();
        let p2 = neuron_purity(a2.view(), None, &PurityConfig::default()).unwrap();
        prop_assert!((p1.mean_purity - p2.mean_purity).abs() < 1e-12);
        prop_assert!((p1.median_purity - p2.median_purity).abs() < 1e-12);
        prop_assert_eq!(p1.mean_features_per_neuron, p2.mean_features_per_neuron);

        let e1 = sparse_energy(w.view(), m.view()).unwrap();
        let e2 = sparse_energy(w2.view(), m.view()).unwrap();
        prop_assert!((e1.mean - e2.mean).abs() < 1e-12);
        prop_assert!((e1.weighted_mean - e2.weighted_mean).abs() < 1e-12);
        for (x, y) in sorted(e1.energy_per_neuron).iter().zip(&sorted(e2.energy_per_neuron)) {
            prop_assert!((x - y).abs() < 1e-12);
        }

        let s1 = activity_stats(f.view()).unwrap();
        let s2 = activity_stats(f2.view()).unwrap();
        prop_assert_eq!(s1.n_dead, s2.n_dead);
        prop_assert_eq!(s1.zero_fraction, s2.zero_fraction);

        let c1 = cosine_matrix(w.view(), m.view()).unwrap();
        let c2 = cosine_matrix(w2.view(), m.view()).unwrap();
        let u1 = support_recovery(f.view(), z.view(), c1.view(), &SupportConfig::default()).unwrap();
        let u2 = support_recovery(f2.view(), z.view(), c2.view(), &SupportConfig::default()).unwrap();
        prop_assert_eq!(
            (u1.n_matched, u1.n_wrong_sign, u1.n_false_support, u1.exact_rate),
            (u2.n_matched, u2.n_wrong_sign, u2.n_false_support, u2.exact_rate)
        );
    }
}
