//! Reading real data files and preprocessing them, on small fixtures written here.

use std::path::PathBuf;

use decouple_data::{FileData, FileError, ImageShape, Preprocess, Whitening, read_labels, read_samples};
use ndarray::{Array1, Array2, Axis, array};
use ndarray_npy::WriteNpyExt;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("decouple-data-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn write_npy<A: WriteNpyExt>(name: &str, array: &A) -> PathBuf {
    let path = scratch(name);
    array.write_npy(std::fs::File::create(&path).unwrap()).unwrap();
    path
}

#[test]
fn npy_of_every_real_dtype_reads_as_f32() {
    let x = array![[1.0f64, 2.0, 3.0], [4.0, 5.0, 6.0]];
    assert_eq!(read_samples(&write_npy("f64.npy", &x)).unwrap(), x.mapv(|v| v as f32));
    assert_eq!(read_samples(&write_npy("f32.npy", &x.mapv(|v| v as f32))).unwrap(), x.mapv(|v| v as f32));
    assert_eq!(read_samples(&write_npy("u8.npy", &x.mapv(|v| v as u8))).unwrap(), x.mapv(|v| v as f32));
    assert_eq!(read_samples(&write_npy("i64.npy", &x.mapv(|v| v as i64))).unwrap(), x.mapv(|v| v as f32));
    let fortran = x.t().to_owned().reversed_axes();
    assert_eq!(read_samples(&write_npy("fortran.npy", &fortran)).unwrap(), x.mapv(|v| v as f32));
}

#[test]
fn missing_file_is_an_error_naming_it() {
    let error = read_samples(&scratch("absent.npy")).unwrap_err();
    assert!(matches!(error, FileError::Unreadable { .. }));
    assert!(error.to_string().contains("absent.npy"), "{error}");
}

#[test]
fn truncated_npy_is_an_error() {
    let path = write_npy("whole.npy", &Array2::<f32>::ones((10, 4)));
    let bytes = std::fs::read(&path).unwrap();
    for cut in [bytes.len() - 3, bytes.len() - 40, 20, 5] {
        let truncated = scratch("truncated.npy");
        std::fs::write(&truncated, &bytes[..cut]).unwrap();
        let error = read_samples(&truncated).unwrap_err();
        assert!(matches!(error, FileError::Truncated { .. } | FileError::Parse { .. }), "cut {cut}: {error}");
        assert!(error.to_string().contains("truncated.npy"), "{error}");
    }
}

#[test]
fn wrong_dtype_and_shape_are_errors_with_the_shape_found() {
    let error = read_samples(&write_npy("bool.npy", &array![[true, false], [false, true]])).unwrap_err();
    assert!(matches!(error, FileError::Dtype { .. }), "{error}");
    assert!(error.to_string().contains("bool.npy"), "{error}");
    let error = read_samples(&write_npy("vector.npy", &Array1::<f32>::ones(5))).unwrap_err();
    assert!(error.to_string().contains("[5]") && error.to_string().contains("(n, d1)"), "{error}");
    let error = read_samples(&write_npy("cube.npy", &ndarray::Array3::<f32>::ones((2, 3, 4)))).unwrap_err();
    assert!(error.to_string().contains("[2, 3, 4]"), "{error}");
    let error = read_samples(&write_npy("one.npy", &Array2::<f32>::ones((1, 4)))).unwrap_err();
    assert!(error.to_string().contains("[1, 4]"), "{error}");
}

#[test]
fn nan_is_an_error_naming_row_and_column() {
    let mut x = Array2::<f32>::ones((3, 4));
    x[[2, 1]] = f32::NAN;
    let error = read_samples(&write_npy("nan.npy", &x)).unwrap_err();
    assert!(matches!(error, FileError::NonFinite { row: 2, column: 1, .. }), "{error}");
    let path = scratch("nan.csv");
    std::fs::write(&path, "1,2\n3,inf\n").unwrap();
    assert!(matches!(read_samples(&path).unwrap_err(), FileError::NonFinite { row: 1, column: 1, .. }));
}

#[test]
fn csv_with_header_reads_and_bad_csv_is_an_error() {
    let path = scratch("x.csv");
    std::fs::write(&path, "a,b,c\n1,2,3\n\n4, 5 ,6.5\n").unwrap();
    assert_eq!(read_samples(&path).unwrap(), array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.5]]);
    std::fs::write(&path, "1,2,3\n4,5\n").unwrap();
    let error = read_samples(&path).unwrap_err();
    assert!(error.to_string().contains("line 2"), "{error}");
    std::fs::write(&path, "1,2\n3,x\n").unwrap();
    let error = read_samples(&path).unwrap_err();
    assert!(error.to_string().contains("line 2, field 2"), "{error}");
    let error = read_samples(&scratch("x.txt")).unwrap_err();
    assert!(matches!(error, FileError::Format { .. }));
}

#[test]
fn labels_must_be_integers_one_per_sample() {
    let labels = write_npy("labels.npy", &array![0i64, 3, 3, 1]);
    assert_eq!(read_labels(&labels, 4).unwrap(), vec![0, 3, 3, 1]);
    let error = read_labels(&labels, 5).unwrap_err();
    assert!(error.to_string().contains("[4]") && error.to_string().contains("(5,)"), "{error}");
    let fractional = write_npy("fractional.npy", &array![0.0f64, 0.5]);
    assert!(matches!(read_labels(&fractional, 2).unwrap_err(), FileError::NotInteger { row: 1, .. }));
    let csv = scratch("labels.csv");
    std::fs::write(&csv, "label\n2\n7\n").unwrap();
    assert_eq!(read_labels(&csv, 2).unwrap(), vec![2, 7]);
}

#[test]
fn image_shape_must_match_the_dimension() {
    let path = write_npy("images.npy", &Array2::<f32>::ones((4, 12)));
    let mut data = FileData::new(&path);
    data.image = Some(ImageShape { height: 3, width: 4 });
    assert_eq!(data.load().unwrap().d1(), 12);
    data.image = Some(ImageShape { height: 3, width: 3 });
    let error = data.load().unwrap_err();
    assert!(error.to_string().contains("[4, 12]") && error.to_string().contains("(n, 9)"), "{error}");
}

/// Correlated Gaussian-ish fixture: `x = g A` with a fixed mixing matrix.
fn correlated(n: usize) -> Array2<f32> {
    let mut state = 12345u64;
    let mut uniform = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    };
    let g = Array2::from_shape_simple_fn((n, 4), &mut uniform);
    let mixing = array![[3.0, 1.0, 0.0, 0.5], [0.0, 1.0, 0.2, 0.0], [0.0, 0.0, 0.5, 0.1], [1.0, 0.0, 0.0, 0.2]];
    (g.dot(&mixing) + 7.0).mapv(|v| v as f32)
}

fn covariance(x: &Array2<f32>) -> Array2<f64> {
    let x = x.mapv(f64::from);
    let centred = &x - &x.mean_axis(Axis(0)).unwrap();
    centred.t().dot(&centred) / x.nrows() as f64
}

#[test]
fn whitening_gives_identity_covariance_and_zca_stays_close_to_the_data() {
    let x = correlated(4000);
    for whiten in [Whitening::Pca { epsilon: 0.0 }, Whitening::Zca { epsilon: 0.0 }] {
        let mut preprocess = Preprocess::default();
        preprocess.whiten = whiten;
        let y = preprocess.fit(x.view()).unwrap().apply(x.view());
        let c = covariance(&y);
        let deviation = (&c - &Array2::<f64>::eye(4)).iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(deviation < 1e-4, "{whiten:?}: {c}");
        let mean = y.mean_axis(Axis(0)).unwrap();
        assert!(mean.iter().all(|v| v.abs() < 1e-4), "{mean}");
    }
    // ZCA is symmetric: its map is the closest whitening to the identity, so each
    // whitened coordinate correlates positively with the same raw coordinate.
    let mut preprocess = Preprocess::default();
    preprocess.whiten = Whitening::Zca { epsilon: 0.0 };
    let y = preprocess.fit(x.view()).unwrap().apply(x.view());
    let cross = {
        let (a, b) = (x.mapv(f64::from), y.mapv(f64::from));
        let (a, b) = (&a - &a.mean_axis(Axis(0)).unwrap(), &b - &b.mean_axis(Axis(0)).unwrap());
        a.t().dot(&b)
    };
    assert!(cross.diag().iter().all(|v| *v > 0.0));
}

#[test]
fn epsilon_shrinks_the_whitened_variance() {
    let x = correlated(2000);
    let mut preprocess = Preprocess::default();
    preprocess.whiten = Whitening::Pca { epsilon: 1.0 };
    let y = preprocess.fit(x.view()).unwrap().apply(x.view());
    let c = covariance(&y);
    // lambda / (lambda + lambda_bar) < 1 for every component.
    assert!(c.diag().iter().all(|v| *v < 1.0 && *v > 0.0), "{c}");
    preprocess.whiten = Whitening::Zca { epsilon: -1.0 };
    assert!(preprocess.fit(x.view()).is_err());
}

#[test]
fn contrast_normalisation_gives_zero_mean_unit_variance_samples() {
    let x = correlated(50);
    let mut preprocess = Preprocess::default();
    preprocess.contrast = Some(0.0);
    let y = preprocess.fit(x.view()).unwrap().apply(x.view());
    for row in y.rows() {
        let mean = row.sum() / 4.0;
        let variance = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / 4.0;
        assert!(mean.abs() < 1e-5 && (variance - 1.0).abs() < 1e-4, "{row}");
    }
}

#[test]
fn centring_and_scaling() {
    let x = correlated(500);
    let mut preprocess = Preprocess::default();
    preprocess.centre = true;
    preprocess.scale = Some(1.0);
    let fitted = preprocess.fit(x.view()).unwrap();
    let y = fitted.apply(x.view());
    assert!(y.mean_axis(Axis(0)).unwrap().iter().all(|v| v.abs() < 1e-4));
    let trace = covariance(&y).diag().sum();
    assert!((trace / 4.0 - 1.0).abs() < 1e-4, "{trace}");
    // Scaling is the last step: after whitening with epsilon the target still holds.
    let mut whitened = Preprocess::default();
    whitened.whiten = Whitening::Zca { epsilon: 0.5 };
    whitened.scale = Some(0.0625);
    let z = whitened.fit(x.view()).unwrap().apply(x.view());
    assert!((covariance(&z).diag().sum() / 4.0 - 0.0625).abs() < 1e-5);
    whitened.scale = Some(0.0);
    assert!(whitened.fit(x.view()).is_err());
    // Fitted once, applied to new samples with the same map.
    let first: Vec<usize> = (0..10).collect();
    let head = x.select(Axis(0), &first);
    assert_eq!(fitted.apply(head.view()), y.select(Axis(0), &first));
}

#[test]
fn file_data_parses_from_config_text() {
    let text = r#"{"path": "x.npy", "labels": "y.npy", "image": {"height": 8, "width": 8},
        "preprocess": {"centre": true, "whiten": {"kind": "Zca", "epsilon": 0.1}}}"#;
    let data: FileData = serde_json::from_str(text).unwrap();
    assert_eq!(data.preprocess.whiten, Whitening::Zca { epsilon: 0.1 });
    assert!(serde_json::from_str::<FileData>(r#"{"path": "x.npy", "colour": 1}"#).is_err());
}
