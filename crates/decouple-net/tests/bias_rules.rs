//! The threshold rules: validation, the `NormRamp` schedule, what each rule
//! does before and after an optimiser step.

use decouple_net::{BiasRule, NetError, SymReluNet, norm_ramp_beta};
use ndarray::array;

#[test]
fn check_names_field_and_range() {
    assert!(BiasRule::default().check().is_ok());
    assert!(BiasRule::Learned { b0: 0.0, lr_multiplier: 1.0 }.check().is_ok());
    assert!(BiasRule::Fixed { b: 0.0 }.check().is_ok());
    assert!(BiasRule::NormRamp { beta: 0.0, ramp: 0.0 }.check().is_ok());
    assert!(BiasRule::NormRamp { beta: 2.0, ramp: 1.0 }.check().is_ok());
    let message = |rule: BiasRule| rule.check().unwrap_err().to_string();
    assert_eq!(message(BiasRule::Fixed { b: -1.0 }), "bias_rule.b = -1 must be finite and >= 0");
    assert_eq!(message(BiasRule::Fixed { b: f64::NAN }), "bias_rule.b = NaN must be finite and >= 0");
    assert_eq!(message(BiasRule::NormRamp { beta: -0.5, ramp: 0.5 }), "bias_rule.beta = -0.5 must be finite and >= 0");
    assert_eq!(message(BiasRule::NormRamp { beta: 0.5, ramp: 1.5 }), "bias_rule.ramp = 1.5 must be in [0, 1]");
    assert!(BiasRule::NormRamp { beta: 0.5, ramp: f64::NAN }.check().is_err());
    assert!(BiasRule::NormRamp { beta: f64::INFINITY, ramp: 0.5 }.check().is_err());
}

#[test]
fn norm_ramp_schedule() {
    let rule = BiasRule::NormRamp { beta: 0.5, ramp: 0.5 };
    let schedule: Vec<f64> = [0, 250, 500, 1000, 1500, 3000].iter().map(|&t| rule.ramp_beta(t, 3000).unwrap()).collect();
    assert_eq!(schedule, [0.0, 0.5 * 250.0 / 1500.0, 0.5 * 500.0 / 1500.0, 0.5 * 1000.0 / 1500.0, 0.5, 0.5]);
    assert_eq!(norm_ramp_beta(0.5, 0.5, 5000, 3000), 0.5);
    assert_eq!(norm_ramp_beta(0.5, 0.0, 0, 3000), 0.5, "ramp = 0 means beta immediately");
    assert_eq!(norm_ramp_beta(0.5, 0.5, 0, 0), 0.5, "no steps means beta immediately");
    assert_eq!(norm_ramp_beta(0.8, 1.0, 50, 100), 0.4);
    assert_eq!(BiasRule::Learned { b0: 0.0, lr_multiplier: 1.0 }.ramp_beta(10, 100), None);
    assert_eq!(BiasRule::Fixed { b: 0.1 }.ramp_beta(10, 100), None);
}

#[test]
fn only_learned_learns() {
    assert!(BiasRule::Learned { b0: 0.0, lr_multiplier: 1.0 }.learns_bias());
    assert!(!BiasRule::Fixed { b: 0.1 }.learns_bias());
    assert!(!BiasRule::default().learns_bias());
}

fn net() -> SymReluNet<f64> {
    SymReluNet::new(array![[3.0, 4.0], [0.0, 0.0], [1.0, 0.0]], array![0.25, 0.5, 0.0]).unwrap()
}

#[test]
fn apply_before_step_sets_thresholds() {
    let mut fixed = net();
    BiasRule::Fixed { b: 0.7 }.apply_before_step(&mut fixed, 3, 10).unwrap();
    assert_eq!(fixed.bias(), array![0.7, 0.7, 0.7]);

    let mut ramped = net();
    let rule = BiasRule::NormRamp { beta: 0.5, ramp: 0.5 };
    rule.apply_before_step(&mut ramped, 0, 100).unwrap();
    assert_eq!(ramped.bias(), array![0.0, 0.0, 0.0]);
    rule.apply_before_step(&mut ramped, 25, 100).unwrap();
    assert_eq!(ramped.bias(), array![0.25 * 5.0, 0.0, 0.25]);
    rule.apply_before_step(&mut ramped, 99, 100).unwrap();
    assert_eq!(ramped.bias(), array![0.5 * 5.0, 0.0, 0.5]);
    assert_eq!(ramped.weights(), net().weights());

    let mut learned = net();
    let rule = BiasRule::Learned { b0: 0.2, lr_multiplier: 1.0 };
    rule.apply_before_step(&mut learned, 5, 10).unwrap();
    assert_eq!(learned, net());
    rule.apply_before_step(&mut learned, 0, 10).unwrap();
    assert_eq!(learned.bias(), array![0.2, 0.2, 0.2]);
    assert_eq!(learned.weights(), net().weights());
    let err = BiasRule::Learned { b0: -0.1, lr_multiplier: 1.0 }.check().unwrap_err();
    assert!(matches!(err, NetError::OutOfRange { field: "bias_rule.b0", .. }));
    let err = BiasRule::Learned { b0: 0.0, lr_multiplier: f64::NAN }.check().unwrap_err();
    assert!(matches!(err, NetError::OutOfRange { field: "bias_rule.lr_multiplier", .. }));

    let mut untouched = net();
    let err = BiasRule::Fixed { b: -1.0 }.apply_before_step(&mut untouched, 0, 10).unwrap_err();
    assert!(matches!(err, NetError::OutOfRange { field: "bias_rule.b", .. }));
    assert_eq!(untouched, net());
}

#[test]
fn clamp_after_step() {
    let mut learned = net();
    learned.bias_mut().assign(&array![-0.3, 0.2, -0.0]);
    BiasRule::Learned { b0: 0.0, lr_multiplier: 1.0 }.clamp_after_step(&mut learned);
    assert_eq!(learned.bias(), array![0.0, 0.2, 0.0]);
    assert!(learned.bias().iter().all(|&b| b >= 0.0));

    let mut fixed = net();
    BiasRule::Fixed { b: 0.1 }.clamp_after_step(&mut fixed);
    assert_eq!(fixed, net());
}
