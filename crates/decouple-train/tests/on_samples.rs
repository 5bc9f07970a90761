//! Training on real samples (no data model): runs, is reproducible on any
//! number of threads, and refuses what needs the model; a config whose data
//! are a `.npy` file trains on it, and refuses a file changed since its digest.

use decouple_augment::{AnyAugmentation, Augmentation};
use decouple_data::{DataConfig, FileData, FileError, SparseCodingModel, rng};
use decouple_train::{AnyObjective, DataSource, Init, ObjectiveKind, Registry, TrainConfig, TrainError, Trainer};
use ndarray::Array2;

fn samples() -> Array2<f32> {
    let mut data = DataConfig::default();
    data.d = 8;
    data.d1 = 32;
    SparseCodingModel::from_seed(data, 4).unwrap().sample(400, &mut rng::stream(4, "real")).x().to_owned()
}

/// The built-in objective and augmentation a config names, as the trainer takes them.
fn parts(config: &TrainConfig) -> (AnyObjective, AnyAugmentation) {
    (AnyObjective::Builtin(*config.objective.builtin().unwrap()), AnyAugmentation::from(*config.augmentation.builtin().unwrap()))
}

fn config() -> TrainConfig {
    let mut config = TrainConfig::default();
    config.network.width = 16;
    config.steps = 30;
    config.batch_size = 64;
    config.log_every = 10;
    config
}

#[test]
fn trains_on_samples_reproducibly_on_any_thread_count() {
    let run = |threads| {
        let (objective, augmentation) = parts(&config());
        let trainer = Trainer::on_samples(config(), objective, augmentation, threads, samples()).unwrap();
        assert!(trainer.model().is_none());
        trainer.run(|_, _| {}).unwrap()
    };
    let (one, two) = (run(1), run(2));
    assert!(one.model.is_none());
    assert_eq!(one.net.weights(), two.net.weights());
    assert_eq!(one.net.weights().ncols(), 32);
    assert_eq!(one.history.len(), 4);
    assert!(one.history.iter().all(|m| m.loss.is_finite()));
}

#[test]
fn refuses_what_needs_the_model() {
    let mut supervised = config();
    supervised.objective = ObjectiveKind::Supervised {}.into();
    let objective = AnyObjective::Builtin(*supervised.objective.builtin().unwrap());
    assert!(Trainer::on_samples(supervised, objective, AnyAugmentation::from(Augmentation::Identity {}), 1, samples()).is_err());
    let mut warm = config();
    warm.network.init = Init::NearDictionary { noise: 0.1 };
    let (objective, augmentation) = parts(&warm);
    assert!(Trainer::on_samples(warm, objective, augmentation, 1, samples()).is_err());
    let few = samples().select(ndarray::Axis(0), &[0, 1, 2]);
    let (objective, augmentation) = parts(&config());
    assert!(Trainer::on_samples(config(), objective, augmentation, 1, few).is_err());
    let mut nan = samples();
    nan[[3, 3]] = f32::NAN;
    let (objective, augmentation) = parts(&config());
    assert!(Trainer::on_samples(config(), objective, augmentation, 1, nan).is_err());
}

/// `x` as a little-endian `f32` `.npy` file (format 1.0, C order), and the offset of its data.
fn npy_bytes(x: &Array2<f32>) -> (Vec<u8>, usize) {
    let (n, d1) = x.dim();
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({n}, {d1}), }}");
    // Magic (6), version (2), header length (2), header ending in a newline: a multiple of 64 bytes.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&u16::try_from(header.len()).unwrap().to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    let offset = bytes.len();
    bytes.extend(x.iter().flat_map(|v| v.to_le_bytes()));
    (bytes, offset)
}

/// A folder of this test process's own under the system's temporary folder.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("decouple-train-file-data-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A config with `data = { kind = "File", path, digest }` trains through
/// [`Trainer::from_config`] on the file's samples (finite losses, no data
/// model, the samples handed back, the same run as on the matrix itself);
/// once a byte of the file changes, the recorded digest refuses it with
/// [`FileError::Changed`] (and without a digest the changed file still trains).
#[test]
fn a_data_file_trains_through_the_config_and_a_changed_file_is_refused() {
    let dir = scratch("npy");
    let path = dir.join("samples.npy");
    let x = samples();
    let (bytes, offset) = npy_bytes(&x);
    std::fs::write(&path, &bytes).unwrap();

    let mut file = FileData::new(&path);
    let digest = file.fingerprint().unwrap();
    assert_eq!(digest, format!("{:016x}", decouple_data::rng::fnv1a(&bytes)));
    assert_eq!(file.load().unwrap().x, x, "the file holds the samples");
    file.digest = Some(digest.clone());
    let mut config = config();
    config.data = DataSource::File(file.clone());
    config.check().unwrap();

    let outcome = Trainer::from_config(config.clone(), &Registry::default(), 1).unwrap().run(|_, _| {}).unwrap();
    assert!(outcome.model.is_none());
    assert_eq!(outcome.history.len(), 4);
    assert!(outcome.history.iter().all(|metrics| metrics.loss.is_finite()), "{:?}", outcome.history);
    assert_eq!(outcome.net.weights().ncols(), 32);
    assert_eq!(outcome.samples.as_ref().map(|samples| &samples.x), Some(&x));
    let (objective, augmentation) = parts(&config);
    let direct = Trainer::on_samples(config.clone(), objective, augmentation, 1, x.clone()).unwrap().run(|_, _| {}).unwrap();
    assert_eq!(direct.net, outcome.net, "a file run is the run on its samples");
    assert_eq!(direct.history, outcome.history);
    let two = Trainer::from_config(config.clone(), &Registry::default(), 2).unwrap().run(|_, _| {}).unwrap();
    assert_eq!(two.net, outcome.net);

    // One changed byte (the lowest of the first value: still a finite sample).
    let mut changed = bytes.clone();
    changed[offset] ^= 1;
    std::fs::write(&path, &changed).unwrap();
    let Err(error) = Trainer::from_config(config.clone(), &Registry::default(), 1) else { panic!("a changed file was accepted") };
    match &error {
        TrainError::File(FileError::Changed { path: named, expected, found }) => {
            assert_eq!(named, &path.display().to_string());
            assert_eq!(expected, &digest);
            assert_eq!(found, &format!("{:016x}", decouple_data::rng::fnv1a(&changed)));
        }
        other => panic!("expected FileError::Changed, got {other:?}"),
    }
    file.digest = None;
    config.data = DataSource::File(file);
    let unchecked = Trainer::from_config(config, &Registry::default(), 1).unwrap().run(|_, _| {}).unwrap();
    assert!(unchecked.history.iter().all(|metrics| metrics.loss.is_finite()));
    std::fs::remove_dir_all(&dir).unwrap();
}
