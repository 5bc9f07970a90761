//! Sampling a batch inside a 2-thread rayon pool gives exactly the batch
//! drawn sequentially, for every kind of dense features.

use decouple_data::{DataConfig, DenseFeatures, SparseCodingModel, rng};

#[test]
fn batches_do_not_depend_on_threads() {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    for dense in [
        DenseFeatures::IsotropicGaussian { sigma: 0.25 },
        DenseFeatures::LowRank { rank: 5, sigma: 0.25 },
        DenseFeatures::OrthogonalComplement { sigma: 0.25 },
    ] {
        let config = edited(DataConfig::default(), |c| {
            c.d = 8;
            c.d1 = 70;
            c.dense = dense;
        });
        let model = SparseCodingModel::from_seed(config, 3).unwrap();
        let sequential = model.sample(37, &mut rng::stream(3, "data"));
        let parallel = pool.install(|| model.sample(37, &mut rng::stream(3, "data")));
        assert_eq!(sequential, parallel, "{dense:?}");
    }
}

/// `value` after `edit` (the config structs are `#[non_exhaustive]`: no struct literals outside their crate).
fn edited<T>(mut value: T, edit: impl FnOnce(&mut T)) -> T {
    edit(&mut value);
    value
}
