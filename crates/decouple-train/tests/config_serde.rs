//! Config fields of a variant that has none (or other ones) are rejected with
//! the valid fields named, never dropped; the bare variants still parse.

use decouple_train::TrainConfig;
use serde_json::{Value, json};

fn with(path: &[&str], value: Value) -> Result<TrainConfig, String> {
    let mut tree = serde_json::to_value(TrainConfig::default()).unwrap();
    let mut node = &mut tree;
    for key in &path[..path.len() - 1] {
        node = node.get_mut(*key).unwrap();
    }
    node[path[path.len() - 1]] = value;
    serde_json::from_value(tree).map_err(|error| error.to_string())
}

#[test]
fn unknown_fields_on_variants_are_rejected() {
    let cases = [
        (&["augmentation"][..], json!({ "kind": "Identity", "keep": 0.3 }), "unknown field `keep`"),
        (&["network", "bias"][..], json!({ "kind": "Learned", "b": 0.1 }), "unknown field `b`, expected `b0` or `lr_multiplier`"),
        (&["objective"][..], json!({ "kind": "Supervised", "loss": 1 }), "unknown field `loss`"),
        (&["regime"][..], json!({ "kind": "Fresh", "n_samples": 10 }), "unknown field `n_samples`"),
        (&["optimizer", "schedule"][..], json!({ "kind": "Constant", "warmup_steps": 10 }), "unknown field `warmup_steps`"),
        (&["data", "latent"][..], json!({ "kind": "OneHot", "k": 2 }), "unknown field `k`"),
    ];
    for (path, value, expected) in cases {
        let err = with(path, value.clone()).expect_err(&format!("{path:?} = {value} was accepted"));
        assert!(err.contains(expected), "{path:?} = {value}: {err}");
    }
}

#[test]
fn bare_variants_and_learned_parameters_parse() {
    for (path, value) in [
        (&["augmentation"][..], json!({ "kind": "Identity" })),
        (&["network", "bias"][..], json!({ "kind": "Learned" })),
        (&["network", "bias"][..], json!({ "kind": "Learned", "b0": 0.1, "lr_multiplier": 0.5 })),
        (&["objective"][..], json!({ "kind": "Supervised" })),
        (&["regime"][..], json!({ "kind": "Fresh" })),
        (&["optimizer", "schedule"][..], json!({ "kind": "Constant" })),
        (&["data", "latent"][..], json!({ "kind": "OneHot" })),
    ] {
        let config = with(path, value.clone()).unwrap_or_else(|err| panic!("{path:?} = {value}: {err}"));
        config.check().unwrap();
    }
    let config = with(&["network", "bias"], json!({ "kind": "Learned", "b0": 0.1 })).unwrap();
    assert_eq!(config.network.bias, decouple_net::BiasRule::Learned { b0: 0.1, lr_multiplier: 1.0 });
}
