//! `decouple run` on a data file: a config naming `data = { kind = "File", ... }`
//! trains and analyses, keeps a complete folder, and names the file in every error.

use std::path::{Path, PathBuf};

use decouple_harness::file_run::{load_file_run, names_file_data, run_file_data};
use ndarray::Array2;
use ndarray_npy::WriteNpyExt;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("decouple-file-run-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// 200 samples of 4 x 4 images and a config of 20 steps.
fn fixture(dir: &Path, extra: &str) -> PathBuf {
    let x = Array2::from_shape_fn((200, 16), |(i, j)| ((i * 7 + j * 3) % 11) as f32 - 5.0 + (i % 3) as f32 * (j % 2) as f32);
    let labels: ndarray::Array1<i64> = (0..200).map(|i| (i % 3) as i64).collect();
    x.write_npy(std::fs::File::create(dir.join("x.npy")).unwrap()).unwrap();
    labels.write_npy(std::fs::File::create(dir.join("y.npy")).unwrap()).unwrap();
    let config = dir.join("run.toml");
    let text = format!(
        "{extra}steps = 20\nbatch_size = 32\n[network]\nwidth = 8\n[data]\nkind = \"File\"\npath = \"{}\"\nlabels = \"{}\"\nimage = {{ height = 4, width = 4 }}\npreprocess = {{ centre = true, scale = 0.0625 }}\n[evaluation]\nmeter_samples = 200\ndirections = 4\nlabels_per_class = 5\n",
        dir.join("x.npy").display(),
        dir.join("y.npy").display()
    );
    std::fs::write(&config, text).unwrap();
    config
}

#[test]
fn trains_analyses_and_keeps_a_complete_folder() {
    let dir = scratch("ok");
    let config = fixture(&dir, "image_augmentation = { height = 4, width = 4, shift = 1, cutout = 2 }\n");
    assert!(names_file_data(&config).unwrap());
    let out = dir.join("out");
    let summary = run_file_data(&config, &[], Some(out.clone()), false, 1).unwrap();
    assert!(!summary.kept);
    assert_eq!(summary.shape, (200, 16));
    assert!(summary.report.unwrap().probes.is_some());
    for file in ["config.json", "metrics.jsonl", "report.json", "weights.npy", "bias.npy", "filters.svg", "summary.json"] {
        assert!(out.join(file).exists(), "{file}");
    }
    let again = run_file_data(&config, &[], Some(out.clone()), false, 1).unwrap();
    assert!(again.kept);
    let other = run_file_data(&config, &["seed=1".into()], Some(out), false, 1).unwrap();
    assert!(!other.kept);
}

#[test]
fn errors_name_the_file_or_field() {
    let dir = scratch("errors");
    let config = fixture(&dir, "");
    let error = run_file_data(&config, &["data.path=missing.npy".into()], Some(dir.join("out")), false, 1).unwrap_err();
    assert!(error.to_string().contains("missing.npy"), "{error}");
    let error = load_file_run(&config, &["data.colour=1".into()]).unwrap_err();
    assert!(error.to_string().contains("colour"), "{error}");
    let error = load_file_run(&config, &["data.preprocess.scale=-1".into()]).unwrap_err();
    assert!(error.to_string().contains("preprocess.scale"), "{error}");
    let error = run_file_data(&config, &["data.image={height=3,width=3}".into()], Some(dir.join("out")), false, 1).unwrap_err();
    assert!(error.to_string().contains("[200, 16]"), "{error}");
    let loaded = load_file_run(&config, &["data.labels=".into()]).unwrap();
    assert!(loaded.data.labels.is_none());
    assert!(!names_file_data(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/configs/default.toml")).unwrap());
}
