//! Serde round trips of the loss configurations and the shape of their
//! serialised form.

#[path = "../../decouple-net/tests/support/mod.rs"]
mod support;

use decouple_loss::{BarlowTwins, Contrastive, InfoNce, LogisticLoss, NtXent, Similarity, Spectral};
use support::serde_tree::{Value, from_value, to_value};

fn key(name: &str) -> Value {
    Value::Str(name.to_owned())
}

#[test]
fn configs_round_trip() {
    for similarity in [Similarity::Dot, Similarity::Cosine] {
        assert_eq!(from_value::<Similarity>(to_value(&similarity).unwrap()).unwrap(), similarity);
        let info_nce = InfoNce { similarity, temperature: 0.25 };
        let nt_xent = NtXent { similarity, temperature: 0.5 };
        assert_eq!(from_value::<InfoNce>(to_value(&info_nce).unwrap()).unwrap(), info_nce);
        assert_eq!(from_value::<NtXent>(to_value(&nt_xent).unwrap()).unwrap(), nt_xent);
        for loss in [Contrastive::from(info_nce), nt_xent.into()] {
            assert_eq!(from_value::<Contrastive>(to_value(&loss).unwrap()).unwrap(), loss);
        }
    }
    assert_eq!(from_value::<LogisticLoss>(to_value(&LogisticLoss).unwrap()).unwrap(), LogisticLoss);
}

#[test]
fn contrastive_is_internally_tagged() {
    let tree = to_value(&Contrastive::default()).unwrap();
    let expected =
        Value::Map(vec![(key("kind"), key("InfoNce")), (key("similarity"), key("Cosine")), (key("temperature"), Value::F64(0.2))]);
    assert_eq!(tree, expected);
    let unknown = Value::Map(vec![
        (key("kind"), key("NtXent")),
        (key("similarity"), key("Dot")),
        (key("temperature"), Value::F64(0.2)),
        (key("tau"), Value::F64(0.2)),
    ]);
    assert!(from_value::<Contrastive>(unknown).is_err());
}

#[test]
fn spectral_and_barlow_twins_round_trip_and_default_their_optional_fields() {
    for loss in
        [Contrastive::from(Spectral { mu: None }), Spectral { mu: Some(1.0) }.into(), BarlowTwins { lambda: 0.01, eps: 1e-4 }.into()]
    {
        assert_eq!(from_value::<Contrastive>(to_value(&loss).unwrap()).unwrap(), loss);
    }
    let bare = from_value::<Contrastive>(Value::Map(vec![(key("kind"), key("Spectral"))])).unwrap();
    assert_eq!(bare, Contrastive::Spectral(Spectral { mu: None }));
    let barlow = Value::Map(vec![(key("kind"), key("BarlowTwins")), (key("lambda"), Value::F64(0.005))]);
    assert_eq!(from_value::<Contrastive>(barlow).unwrap(), Contrastive::BarlowTwins(BarlowTwins::default()));
    let unknown = Value::Map(vec![(key("kind"), key("Spectral")), (key("tau"), Value::F64(0.2))]);
    assert!(from_value::<Contrastive>(unknown).is_err());
}
