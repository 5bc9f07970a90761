//! Pins exact seeded outputs so that a silent change of a generator, of the
//! draw order or of a stream name is caught (cf. rand_distr's test of the
//! same name). If a change is intended, update the pinned values and say so.

use decouple_data::{DataConfig, SparseCodingModel, rng};
use rand::Rng;

#[test]
fn named_streams_are_pinned() {
    let value: u64 = rng::stream(42, "data").random();
    let indexed: u64 = rng::indexed_stream(42, "data", 3).random();
    assert_eq!([value, indexed], PINNED_STREAMS);
}

#[test]
fn default_model_samples_are_pinned() {
    let model = SparseCodingModel::from_seed(DataConfig::default(), 42).unwrap();
    let batch = model.sample(2, &mut rng::stream(42, "data"));
    let dictionary_corner = [model.dictionary().matrix()[[0, 0]], model.dictionary().matrix()[[511, 31]]];
    let nonzero: Vec<(usize, usize, f32)> = batch.z().indexed_iter().filter(|(_, v)| **v != 0.0).map(|((i, j), v)| (i, j, *v)).collect();
    let x_corner = [batch.x()[[0, 0]], batch.x()[[1, 511]]];
    assert_eq!(dictionary_corner, PINNED_DICTIONARY);
    assert_eq!(nonzero, PINNED_Z.to_vec());
    assert_eq!(x_corner, PINNED_X);
}

const PINNED_STREAMS: [u64; 2] = [4_962_736_511_424_723_951, 6_670_999_699_783_440_340];
const PINNED_DICTIONARY: [f32; 2] = [0.022_177_584, 0.063_162_05];
const PINNED_Z: [(usize, usize, f32); 4] = [(0, 7, -1.0), (1, 7, 1.0), (1, 9, 1.0), (1, 25, -1.0)];
const PINNED_X: [f32; 2] = [-0.100_342_34, -0.088_518_07];
