//! Every invalid input is rejected with the matching `AnalysisError` variant,
//! and the messages name the field and the allowed range or shapes.

mod common;

use common::{gaussian_matrix, random_orthonormal, random_signs, rng};
use decouple_analysis::{
    AnalysisError, ProbeConfig, PurityConfig, RecoveryConfig, RidgeConfig, SupportConfig, activity_stats, alignment_matrix,
    feature_recovery, fit_logistic_probe, fit_ridge_regression, neuron_purity, sparse_energy, subspace_energy, support_recovery,
};
use ndarray::{Array1, Array2};

#[test]
fn shape_mismatches_name_both_shapes() {
    let w = Array2::<f32>::ones((4, 10));
    let m = Array2::<f32>::ones((9, 3));
    let err = alignment_matrix(w.view(), m.view()).unwrap_err();
    assert!(matches!(err, AnalysisError::ShapeMismatch { left: "weights", right: "dictionary", .. }));
    let message = err.to_string();
    assert!(message.contains("[4, 10]") && message.contains("[9, 3]"), "{message}");
    assert!(matches!(sparse_energy(w.view(), m.view()), Err(AnalysisError::ShapeMismatch { .. })));

    let f = Array2::<f32>::zeros((5, 4));
    let z = Array2::<f32>::zeros((6, 3));
    let cos = Array2::<f64>::zeros((4, 3));
    let err = support_recovery(f.view(), z.view(), cos.view(), &SupportConfig::default()).unwrap_err();
    assert!(matches!(err, AnalysisError::ShapeMismatch { left: "features", right: "latent", .. }));
    let z = Array2::<f32>::zeros((5, 2));
    let err = support_recovery(f.view(), z.view(), cos.view(), &SupportConfig::default()).unwrap_err();
    assert!(matches!(err, AnalysisError::ShapeMismatch { left: "latent", right: "cosines", .. }));

    let a = Array2::<f64>::zeros((4, 3));
    let err = neuron_purity(a.view(), Some(&[true; 3]), &PurityConfig::default()).unwrap_err();
    assert!(matches!(err, AnalysisError::ShapeMismatch { right: "alive", .. }));

    let x = Array2::<f32>::ones((10, 3));
    let x_other = Array2::<f32>::ones((10, 4));
    let y = Array1::from_iter((0..10).map(|i| if i % 2 == 0 { 1.0_f32 } else { -1.0 }));
    let y_short = Array1::from_elem(9, 1.0_f32);
    let cfg = ProbeConfig::default();
    let err = fit_logistic_probe(x.view(), y_short.view(), x.view(), y.view(), &cfg).unwrap_err();
    assert!(matches!(err, AnalysisError::ShapeMismatch { left: "train_features", right: "train_labels", .. }));
    let err = fit_logistic_probe(x.view(), y.view(), x_other.view(), y.view(), &cfg).unwrap_err();
    assert!(matches!(err, AnalysisError::ShapeMismatch { left: "train_features", right: "test_features", .. }));
    let t1 = Array2::<f32>::ones((10, 2));
    let t2 = Array2::<f32>::ones((10, 3));
    let err = fit_ridge_regression(x.view(), t1.view(), x.view(), t2.view(), &RidgeConfig::default()).unwrap_err();
    assert!(matches!(err, AnalysisError::ShapeMismatch { left: "train_targets", right: "test_targets", .. }));
}

#[test]
fn empty_inputs_are_rejected() {
    let empty = Array2::<f32>::zeros((0, 5));
    let m = Array2::<f32>::zeros((5, 2));
    assert!(matches!(alignment_matrix(empty.view(), m.view()), Err(AnalysisError::Empty { field: "weights", .. })));
    assert!(matches!(activity_stats(empty.view()), Err(AnalysisError::Empty { field: "features", .. })));
    let a = Array2::<f64>::zeros((3, 0));
    assert!(matches!(feature_recovery(a.view(), &RecoveryConfig::default()), Err(AnalysisError::Empty { field: "alignment", .. })));
    let y = Array1::<f32>::zeros(0);
    let x = Array2::<f32>::zeros((0, 3));
    assert!(matches!(
        fit_logistic_probe(x.view(), y.view(), x.view(), y.view(), &ProbeConfig::default()),
        Err(AnalysisError::Empty { field: "train_features", .. })
    ));
}

#[test]
fn thresholds_outside_unit_interval_are_rejected() {
    let a = Array2::<f64>::zeros((3, 2));
    for bad in [-0.1, 1.5, f64::NAN] {
        let err = feature_recovery(a.view(), &RecoveryConfig { threshold: bad }).unwrap_err();
        assert!(matches!(err, AnalysisError::ThresholdOutOfRange { field: "threshold", .. }));
        assert!(err.to_string().contains("[0, 1]"));
        let err = neuron_purity(a.view(), None, &PurityConfig { threshold: bad }).unwrap_err();
        assert!(matches!(err, AnalysisError::ThresholdOutOfRange { .. }));
        assert!(matches!(
            SupportConfig { min_alignment: bad }.check(),
            Err(AnalysisError::ThresholdOutOfRange { field: "min_alignment", .. })
        ));
    }
}

#[test]
fn negative_lambda_and_bad_solver_settings_are_rejected() {
    for bad in [-1e-3, f64::NAN, f64::INFINITY] {
        let err = ProbeConfig { lambda: bad, ..ProbeConfig::default() }.check().unwrap_err();
        assert!(matches!(err, AnalysisError::NegativeLambda { field: "lambda", .. }));
        assert!(matches!(RidgeConfig { lambda: bad }.check(), Err(AnalysisError::NegativeLambda { .. })));
    }
    let err = ProbeConfig { max_iterations: 0, ..ProbeConfig::default() }.check().unwrap_err();
    assert!(matches!(err, AnalysisError::InvalidSolverParameter { field: "max_iterations", .. }));
    let err = ProbeConfig { gradient_tolerance: 0.0, ..ProbeConfig::default() }.check().unwrap_err();
    assert!(matches!(err, AnalysisError::InvalidSolverParameter { field: "gradient_tolerance", .. }));
    let x = Array2::<f32>::ones((4, 2));
    let y = Array1::from_vec(vec![1.0_f32, -1.0, 1.0, -1.0]);
    let cfg = ProbeConfig { lambda: -1.0, ..ProbeConfig::default() };
    assert!(matches!(fit_logistic_probe(x.view(), y.view(), x.view(), y.view(), &cfg), Err(AnalysisError::NegativeLambda { .. })));
}

#[test]
fn labels_must_be_plus_or_minus_one_with_both_classes_in_training() {
    let mut r = rng(1);
    let x = gaussian_matrix(&mut r, 6, 2, 1.0);
    let good = random_signs(&mut r, 6).mapv(|_| 1.0_f32);
    let mut mixed = good.clone();
    mixed[3] = -1.0;
    let mut bad = mixed.clone();
    bad[4] = 0.0;
    let cfg = ProbeConfig::default();
    let err = fit_logistic_probe(x.view(), bad.view(), x.view(), mixed.view(), &cfg).unwrap_err();
    assert_eq!(err, AnalysisError::InvalidLabel { field: "train_labels", index: 4, value: 0.0 });
    let err = fit_logistic_probe(x.view(), mixed.view(), x.view(), bad.view(), &cfg).unwrap_err();
    assert!(matches!(err, AnalysisError::InvalidLabel { field: "test_labels", .. }));
    let err = fit_logistic_probe(x.view(), good.view(), x.view(), mixed.view(), &cfg).unwrap_err();
    assert!(matches!(err, AnalysisError::SingleClass { field: "train_labels", .. }));
}

#[test]
fn latent_entries_must_be_signs_or_zero() {
    let f = Array2::<f32>::ones((2, 3));
    let mut z = Array2::<f32>::zeros((2, 2));
    z[[1, 0]] = 0.5;
    let cos = Array2::<f64>::ones((3, 2));
    let err = support_recovery(f.view(), z.view(), cos.view(), &SupportConfig::default()).unwrap_err();
    assert_eq!(err, AnalysisError::InvalidLatent { field: "latent", row: 1, col: 0, value: 0.5 });
}

#[test]
fn non_orthonormal_bases_and_non_finite_inputs_are_rejected() {
    let mut r = rng(2);
    let h = random_orthonormal(&mut r, 10, 3).mapv(|v| 1.1 * v);
    let w = gaussian_matrix(&mut r, 4, 10, 1.0);
    let err = subspace_energy(w.view(), h.view()).unwrap_err();
    assert!(matches!(err, AnalysisError::NotOrthonormal { field: "basis", .. }));
    let mut w_nan = w.clone();
    w_nan[[2, 5]] = f32::NAN;
    let m = random_orthonormal(&mut r, 10, 3);
    let err = alignment_matrix(w_nan.view(), m.view()).unwrap_err();
    assert_eq!(err, AnalysisError::NonFinite { field: "weights", index: vec![2, 5] });
}

#[test]
fn unregularised_ridge_on_collinear_features_fails_cleanly() {
    let mut r = rng(3);
    let mut x = gaussian_matrix(&mut r, 20, 3, 1.0);
    let first = x.column(0).to_owned();
    x.column_mut(2).assign(&first);
    let y = gaussian_matrix(&mut r, 20, 1, 1.0);
    let err = fit_ridge_regression(x.view(), y.view(), x.view(), y.view(), &RidgeConfig { lambda: 0.0 }).unwrap_err();
    assert!(matches!(err, AnalysisError::NotPositiveDefinite { .. }), "{err}");
}
