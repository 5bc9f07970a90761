//! Every metric against a slow, obviously correct reference written with
//! plain `f64` loops (tests/common), on random inputs of random shapes
//! (proptest, modest case counts).

mod common;

use common::{
    gaussian_matrix, random_orthonormal, random_signs, ref_cosines, ref_energy, ref_median, ref_solve, ref_standardize, ref_support, rng,
    soft_threshold, sparse_latent,
};
use decouple_analysis::{
    ProbeConfig, PurityConfig, RecoveryConfig, RidgeConfig, SupportConfig, activity_stats, alignment_matrix, cosine_matrix,
    feature_recovery, fit_logistic_probe, fit_ridge_regression, neuron_purity, sparse_energy, subspace_energy, support_recovery,
};
use ndarray::{Array1, Array2};
use proptest::prelude::*;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn alignment_recovery_and_purity_match_the_reference(
        seed in 0_u64..1_000_000,
        n_neurons in 1_usize..20,
        d1 in 1_usize..30,
        d in 1_usize..12,
        zero_row in proptest::option::of(0_usize..20),
        threshold in 0.0_f64..=1.0,
    ) {
        let mut r = rng(seed);
        // A generic (not orthonormal) dictionary: cosines normalise each column.
        let m = gaussian_matrix(&mut r, d1, d, 1.0);
        let mut w = gaussian_matrix(&mut r, n_neurons, d1, 1.0);
        if let Some(i) = zero_row.filter(|&i| i < n_neurons) {
            w.row_mut(i).fill(0.0);
        }
        let reference = ref_cosines(&w, &m);
        let cos = cosine_matrix(w.view(), m.view()).unwrap();
        let a = alignment_matrix(w.view(), m.view()).unwrap();
        for ((c, e), al) in cos.iter().zip(reference.iter()).zip(a.iter()) {
            prop_assert!((c - e).abs() < 1e-12);
            prop_assert!((al - e.abs()).abs() < 1e-12);
        }

        // Feature recovery: column maxima of the reference.
        let rec = feature_recovery(a.view(), &RecoveryConfig { threshold }).unwrap();
        let mut best = Vec::new();
        for j in 0..d {
            let mut b = f64::NEG_INFINITY;
            for i in 0..n_neurons {
                b = b.max(a[[i, j]]);
            }
            best.push(b);
        }
        prop_assert_eq!(&rec.best_per_feature, &best);
        prop_assert_eq!(rec.n_recovered, best.iter().filter(|&&b| b >= threshold).count());
        prop_assert!(close(rec.median, ref_median(&best), 1e-12));
        prop_assert!(close(rec.mean, best.iter().sum::<f64>() / d as f64, 1e-12));
        prop_assert_eq!(rec.min, best.iter().cloned().fold(f64::INFINITY, f64::min));
        prop_assert_eq!(rec.max, best.iter().cloned().fold(f64::NEG_INFINITY, f64::max));
        for j in 0..d {
            prop_assert_eq!(a[[rec.best_neuron_per_feature[j], j]], best[j]);
        }

        // Purity over alive rows (nonzero rows of A).
        let purity = neuron_purity(a.view(), None, &PurityConfig { threshold }).unwrap();
        let (mut pur, mut counts) = (Vec::new(), Vec::new());
        for i in 0..n_neurons {
            let row: Vec<f64> = (0..d).map(|j| a[[i, j]]).collect();
            prop_assert_eq!(purity.features_per_neuron[i], row.iter().filter(|&&v| v >= threshold).count());
            if row.iter().any(|&v| v != 0.0) {
                pur.push(row.iter().cloned().fold(f64::NEG_INFINITY, f64::max));
                counts.push(purity.features_per_neuron[i] as f64);
            }
        }
        prop_assert_eq!(purity.n_alive, pur.len());
        let mean = |v: &[f64]| if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 };
        prop_assert!(close(purity.mean_purity, mean(&pur), 1e-12));
        prop_assert!(close(purity.median_purity, ref_median(&pur), 1e-12));
        prop_assert!(close(purity.mean_features_per_neuron, mean(&counts), 1e-12));

        // An explicit alive mask selects exactly those neurons.
        let mask: Vec<bool> = (0..n_neurons).map(|i| i % 2 == 0).collect();
        let masked = neuron_purity(a.view(), Some(&mask), &PurityConfig { threshold }).unwrap();
        let chosen: Vec<f64> = (0..n_neurons).filter(|i| mask[*i]).map(|i| purity.purity_per_neuron[i]).collect();
        prop_assert_eq!(masked.n_alive, chosen.len());
        prop_assert!(close(masked.mean_purity, mean(&chosen), 1e-12));
    }

    #[test]
    fn energy_matches_the_reference(
        seed in 0_u64..1_000_000,
        n_neurons in 1_usize..20,
        d1 in 1_usize..40,
        r_fraction in 0.0_f64..1.0,
        scale in 1e-3_f32..1e3,
    ) {
        let rank = ((d1 as f64 * r_fraction) as usize).clamp(1, d1);
        let mut r = rng(seed);
        let h = random_orthonormal(&mut r, d1, rank);
        let w = gaussian_matrix(&mut r, n_neurons, d1, scale);
        let (per, weighted) = ref_energy(&w, &h);
        for result in [subspace_energy(w.view(), h.view()).unwrap(), sparse_energy(w.view(), h.view()).unwrap()] {
            for (x, e) in result.energy_per_neuron.iter().zip(&per) {
                prop_assert!((x - e).abs() < 1e-10);
            }
            prop_assert!((result.weighted_mean - weighted).abs() < 1e-10);
            prop_assert!((result.mean - per.iter().sum::<f64>() / n_neurons as f64).abs() < 1e-10);
            prop_assert!((result.median - ref_median(&per)).abs() < 1e-10);
            prop_assert_eq!(result.random_baseline, rank as f64 / d1 as f64);
        }
    }

    #[test]
    fn activity_and_support_match_the_reference(
        seed in 0_u64..1_000_000,
        n_samples in 1_usize..60,
        n_neurons in 1_usize..16,
        d1 in 2_usize..24,
        d in 1_usize..8,
        p in 0.0_f64..=1.0,
        threshold in 0.0_f32..2.0,
        min_alignment in 0.0_f64..0.6,
    ) {
        let mut r = rng(seed);
        let m = gaussian_matrix(&mut r, d1, d, 1.0);
        let w = gaussian_matrix(&mut r, n_neurons, d1, 1.0);
        let z = sparse_latent(&mut r, n_samples, d, p);
        let x = &z.dot(&m.t()) + &gaussian_matrix(&mut r, n_samples, d1, 0.3);
        let f = soft_threshold(&x.dot(&w.t()), threshold);

        let s = activity_stats(f.view()).unwrap();
        let mut zeros = 0;
        for i in 0..n_neurons {
            let active = (0..n_samples).filter(|&b| f[[b, i]] != 0.0).count();
            prop_assert_eq!(s.alive[i], active > 0);
            prop_assert_eq!(s.active_fraction_per_neuron[i], active as f64 / n_samples as f64);
            zeros += n_samples - active;
        }
        prop_assert_eq!(s.n_dead, s.alive.iter().filter(|a| !**a).count());
        prop_assert!(close(s.zero_fraction, zeros as f64 / (n_samples * n_neurons) as f64, 1e-12));
        prop_assert!(close(s.mean_active_per_sample, (n_samples * n_neurons - zeros) as f64 / n_samples as f64, 1e-12));

        let cos = cosine_matrix(w.view(), m.view()).unwrap();
        let sup = support_recovery(f.view(), z.view(), cos.view(), &SupportConfig { min_alignment }).unwrap();
        let [n_nonzero, n_matched, n_wrong, n_false, n_exact] = ref_support(&f, &z, &cos, min_alignment);
        prop_assert_eq!(
            (sup.n_nonzero, sup.n_matched, sup.n_wrong_sign, sup.n_false_support),
            (n_nonzero, n_matched, n_wrong, n_false)
        );
        prop_assert!(close(sup.exact_rate, n_exact as f64 / n_samples as f64, 1e-12));
        prop_assert_eq!(sup.n_zero, n_samples * d - n_nonzero);
    }

    #[test]
    fn ridge_matches_the_normal_equations(
        seed in 0_u64..1_000_000,
        n_train in 2_usize..40,
        n_test in 1_usize..20,
        p in 1_usize..8,
        k in 1_usize..4,
        lambda in 1e-3_f64..10.0,
    ) {
        let mut r = rng(seed);
        let x_train = gaussian_matrix(&mut r, n_train, p, 2.0).mapv(|v| v + 1.0);
        let x_test = gaussian_matrix(&mut r, n_test, p, 2.0).mapv(|v| v + 1.0);
        let y_train = gaussian_matrix(&mut r, n_train, k, 1.0);
        let y_test = gaussian_matrix(&mut r, n_test, k, 1.0);
        let result = fit_ridge_regression(x_train.view(), y_train.view(), x_test.view(), y_test.view(),
            &RidgeConfig { lambda }).unwrap();

        let (xs_train, xs_test) = ref_standardize(&x_train, &x_test);
        let n = n_train as f64;
        let mut gram = Array2::zeros((p, p));
        for a in 0..p {
            for b in 0..p {
                gram[[a, b]] = (0..n_train).map(|i| xs_train[[i, a]] * xs_train[[i, b]]).sum::<f64>() / n
                    + if a == b { lambda } else { 0.0 };
            }
        }
        for t in 0..k {
            let y_mean = (0..n_train).map(|i| f64::from(y_train[[i, t]])).sum::<f64>() / n;
            let rhs = Array1::from_shape_fn(p, |a| {
                (0..n_train).map(|i| xs_train[[i, a]] * (f64::from(y_train[[i, t]]) - y_mean)).sum::<f64>() / n
            });
            let beta = ref_solve(&gram, &rhs);
            let predict = |xs: &Array2<f64>, i: usize| y_mean + (0..p).map(|a| xs[[i, a]] * beta[a]).sum::<f64>();
            let test_mean = (0..n_test).map(|i| f64::from(y_test[[i, t]])).sum::<f64>() / n_test as f64;
            let ss_res: f64 = (0..n_test).map(|i| (f64::from(y_test[[i, t]]) - predict(&xs_test, i)).powi(2)).sum();
            let ss_tot: f64 = (0..n_test).map(|i| (f64::from(y_test[[i, t]]) - test_mean).powi(2)).sum();
            let r2 = if ss_tot > 0.0 { 1.0 - ss_res / ss_tot } else if ss_res == 0.0 { 1.0 } else { 0.0 };
            if ss_tot > 1e-9 {
                prop_assert!((result.test_r2_per_target[t] - r2).abs() < 1e-7 * (1.0 + r2.abs()),
                    "target {}: {} vs {}", t, result.test_r2_per_target[t], r2);
            }
        }
    }
}

/// Reference logistic fit: plain gradient descent with loops on the
/// standardised features, run to a tiny gradient on a well-conditioned problem.
fn reference_logistic(x: &Array2<f64>, y: &[f64], lambda: f64) -> (Vec<f64>, f64) {
    let (n, p) = x.dim();
    let mut theta = vec![0.0; p + 1];
    let loss = |theta: &[f64]| {
        let mut l = 0.0;
        for i in 0..n {
            let s: f64 = (0..p).map(|a| x[[i, a]] * theta[a]).sum::<f64>() + theta[p];
            l += (1.0 + (-y[i] * s).exp()).ln();
        }
        l / n as f64 + 0.5 * lambda * (0..p).map(|a| theta[a] * theta[a]).sum::<f64>()
    };
    for _ in 0..20_000 {
        let mut grad = vec![0.0; p + 1];
        for i in 0..n {
            let s: f64 = (0..p).map(|a| x[[i, a]] * theta[a]).sum::<f64>() + theta[p];
            let coef = -y[i] / (1.0 + (y[i] * s).exp()) / n as f64;
            for a in 0..p {
                grad[a] += coef * x[[i, a]];
            }
            grad[p] += coef;
        }
        for a in 0..p {
            grad[a] += lambda * theta[a];
        }
        if grad.iter().all(|g| g.abs() < 1e-11) {
            break;
        }
        for a in 0..=p {
            theta[a] -= 0.5 * grad[a];
        }
    }
    let l = loss(&theta);
    (theta, l)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn logistic_probe_matches_gradient_descent(
        seed in 0_u64..1_000_000,
        n_train in 10_usize..60,
        p in 1_usize..5,
        lambda in 0.05_f64..1.0,
    ) {
        let mut r = rng(seed);
        let x_train = gaussian_matrix(&mut r, n_train, p, 3.0).mapv(|v| v - 0.5);
        let x_test = gaussian_matrix(&mut r, 30, p, 3.0).mapv(|v| v - 0.5);
        let mut y_train = random_signs(&mut r, n_train);
        y_train[0] = 1.0;
        y_train[1] = -1.0;
        let y_test = random_signs(&mut r, 30);
        let result = fit_logistic_probe(x_train.view(), y_train.view(), x_test.view(), y_test.view(),
            &ProbeConfig { lambda, ..ProbeConfig::default() }).unwrap();
        prop_assert!(result.converged);

        let (xs_train, xs_test) = ref_standardize(&x_train, &x_test);
        let y: Vec<f64> = y_train.iter().map(|&v| f64::from(v)).collect();
        let (theta, loss) = reference_logistic(&xs_train, &y, lambda);
        prop_assert!((result.train_loss - loss).abs() < 1e-9, "{} vs {}", result.train_loss, loss);
        let accuracy = |xs: &Array2<f64>, labels: &Array1<f32>| {
            let correct = (0..xs.nrows()).filter(|&i| {
                let s: f64 = (0..p).map(|a| xs[[i, a]] * theta[a]).sum::<f64>() + theta[p];
                (s >= 0.0) == (labels[i] > 0.0)
            }).count();
            correct as f64 / xs.nrows() as f64
        };
        prop_assert_eq!(result.train_accuracy, accuracy(&xs_train, &y_train));
        prop_assert_eq!(result.test_accuracy, accuracy(&xs_test, &y_test));
    }
}
