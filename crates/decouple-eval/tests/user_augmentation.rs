//! The decoupling statistics of a run are those of the augmentation that
//! trained it, whatever it is: a user's augmentation is measured through the
//! `Augment` trait, and its closed forms are "not available" (it gives no pair
//! moments), never the default mask's.

use decouple_augment::{Augment, AugmentError, Augmentation, View};
use decouple_data::{Batch, SparseCodingModel};
use decouple_eval::{EvaluationConfig, evaluate};
use decouple_train::{ObjectiveKind, TrainConfig, train_with};
use rand::Rng;

/// Keeps the sparse part of both views and flips the sign of the dense part
/// of the second: `rho_sparse = 1` and `rho_dense = -1` along every direction.
struct FlipDense;

impl Augment for FlipDense {
    fn label(&self) -> String {
        "FlipDense".into()
    }

    fn views<R: Rng + ?Sized>(&self, batch: &Batch, _rng: &mut R) -> Result<Vec<View>, AugmentError> {
        let first = View::new(batch.sparse().to_owned(), batch.dense().to_owned(), batch.x().to_owned())?;
        let flipped = batch.dense().mapv(|v| -v);
        let second = View::new(batch.sparse().to_owned(), flipped.clone(), &batch.sparse() + &flipped)?;
        Ok(vec![first, second])
    }
}

#[test]
fn a_run_with_a_user_augmentation_reports_that_augmentations_rho() {
    let mut config = TrainConfig::default();
    {
        let data = config.data.model_mut().unwrap();
        data.d = 8;
        data.d1 = 32;
    }
    config.network.width = 8;
    config.steps = 20;
    config.batch_size = 64;
    let objective: ObjectiveKind = *config.objective.builtin().unwrap();
    let outcome = train_with(config.clone(), objective, FlipDense, 1, |_, _| {}).unwrap();
    let model = SparseCodingModel::from_seed(*config.data.model().unwrap(), config.seed).unwrap();
    let mut evaluation = EvaluationConfig::default();
    (evaluation.n_activity, evaluation.n_probe_train, evaluation.n_probe_test, evaluation.n_decoupling) = (400, 100, 100, 4000);

    let user = evaluate(&config, &model, &outcome.net, &FlipDense, &evaluation).unwrap();
    let (sparse, dense) = (user.rho_sparse_learned.unwrap(), user.rho_dense_learned.unwrap());
    assert!((sparse - 1.0).abs() < 1e-9, "rho_sparse {sparse}");
    assert!((dense + 1.0).abs() < 1e-9, "rho_dense {dense}");
    assert_eq!((user.rho_sparse_learned_theory, user.rho_dense_learned_theory), (None, None), "no pair moments, no closed form");

    // The default mask, on the same network, measures something else (and has closed forms).
    let mask = evaluate(&config, &model, &outcome.net, &Augmentation::default(), &evaluation).unwrap();
    let (mask_sparse, mask_dense) = (mask.rho_sparse_learned.unwrap(), mask.rho_dense_learned.unwrap());
    assert!(mask_sparse < 0.99 && mask_dense > -0.5, "default mask: rho_sparse {mask_sparse}, rho_dense {mask_dense}");
    assert!(mask.rho_sparse_learned_theory.is_some() && mask.rho_dense_learned_theory.is_some());

    // Identical views have no decoupling to measure: not reported, as before.
    let identity = evaluate(&config, &model, &outcome.net, &Augmentation::Identity {}, &evaluation).unwrap();
    assert_eq!(identity.rho_sparse_learned, None);
    assert_eq!(identity.rho_dense_learned_theory, None);
}
