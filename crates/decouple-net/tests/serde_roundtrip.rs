//! Serde round trips of the network (a checkpoint) and of the bias rules, and
//! validation on deserialisation.

mod support;

use decouple_net::{BiasRule, SymReluNet};
use ndarray::{Array1, Array2, array};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use support::serde_tree::{Value, from_value, to_value};

#[test]
fn network_round_trips() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut net = SymReluNet::<f64>::init(3, 4, 0.1, &mut rng).unwrap();
    net.set_bias(array![0.0, 0.25, 1.5].view()).unwrap();
    let back: SymReluNet<f64> = from_value(to_value(&net).unwrap()).unwrap();
    assert_eq!(back, net);
    let single: SymReluNet<f32> = net.cast();
    let back: SymReluNet<f32> = from_value(to_value(&single).unwrap()).unwrap();
    assert_eq!(back, single);
}

#[derive(Serialize)]
struct RawNet {
    weights: Array2<f64>,
    bias: Array1<f64>,
}

#[test]
fn deserialisation_validates() {
    let good = RawNet { weights: Array2::ones((2, 3)), bias: array![0.0, 1.0] };
    assert!(from_value::<SymReluNet<f64>>(to_value(&good).unwrap()).is_ok());
    let negative = RawNet { weights: Array2::ones((2, 3)), bias: array![0.0, -1.0] };
    let err = from_value::<SymReluNet<f64>>(to_value(&negative).unwrap()).unwrap_err();
    assert!(err.to_string().contains("bias[1] = -1"), "{err}");
    let short = RawNet { weights: Array2::ones((2, 3)), bias: array![0.0] };
    assert!(from_value::<SymReluNet<f64>>(to_value(&short).unwrap()).is_err());
}

#[test]
fn bias_rules_round_trip() {
    let learned = BiasRule::Learned { b0: 0.05, lr_multiplier: 0.1 };
    for rule in [BiasRule::Fixed { b: 0.3 }, learned, BiasRule::NormRamp { beta: 0.5, ramp: 0.25 }] {
        assert_eq!(from_value::<BiasRule>(to_value(&rule).unwrap()).unwrap(), rule);
    }
    // `Learned` alone means b0 = 0 and the weights' learning rate.
    let bare = Value::Map(vec![(Value::Str("kind".into()), Value::Str("Learned".into()))]);
    assert_eq!(from_value::<BiasRule>(bare).unwrap(), BiasRule::Learned { b0: 0.0, lr_multiplier: 1.0 });
    // A field of another rule is rejected, not dropped.
    let misplaced = Value::Map(vec![(Value::Str("kind".into()), Value::Str("Learned".into())), (Value::Str("b".into()), Value::F64(0.1))]);
    let err = from_value::<BiasRule>(misplaced).unwrap_err().to_string();
    assert!(err.contains("unknown field `b`") && err.contains("b0") && err.contains("lr_multiplier"), "{err}");
    let unknown = Value::Map(vec![
        (Value::Str("kind".into()), Value::Str("Fixed".into())),
        (Value::Str("b".into()), Value::F64(0.1)),
        (Value::Str("beta".into()), Value::F64(0.1)),
    ]);
    assert!(from_value::<BiasRule>(unknown).is_err());
}
