//! Image augmentations on small fixtures: parts add up, each operation does what it says.

use decouple_augment::{Augment, ImageAugmentation};
use decouple_data::{Batch, DataConfig, SparseCodingModel, rng};
use ndarray::Array2;

#[test]
fn no_setting_is_the_identity() {
    let x = Array2::from_shape_fn((5, 12), |(i, j)| (i * 12 + j) as f32);
    let views = ImageAugmentation::new(3, 4).views(&Batch::from_samples(x.clone()), &mut rng::stream(0, "t")).unwrap();
    assert_eq!(views.len(), 2);
    for view in views {
        assert_eq!(view.x(), x);
    }
}

#[test]
fn views_of_parts_add_up_and_match_the_training_path() {
    let mut config = DataConfig::default();
    config.d = 4;
    config.d1 = 16;
    let model = SparseCodingModel::from_seed(config, 1).unwrap();
    let batch = model.sample(50, &mut rng::stream(1, "data"));
    let mut augmentation = ImageAugmentation::new(4, 4);
    augmentation.shift = 1;
    augmentation.contrast = 0.5;
    augmentation.brightness = 0.3;
    augmentation.cutout = 2;
    let views = augmentation.views(&batch, &mut rng::stream(1, "augment")).unwrap();
    for view in &views {
        let residual = &view.x() - &(&view.sparse() + &view.dense());
        assert!(residual.iter().all(|r| r.abs() < 1e-5));
    }
    let mut out = vec![Array2::zeros((0, 0)), Array2::zeros((0, 0))];
    augmentation.views_of_x_into(&batch, &mut out, &mut rng::stream(1, "augment")).unwrap();
    assert_eq!(out[0], views[0].x());
    assert_eq!(out[1], views[1].x());
}

#[test]
fn translation_moves_a_pixel_and_cutout_zeroes_a_square() {
    let mut delta = Array2::<f32>::zeros((400, 25));
    delta.column_mut(12).fill(1.0); // the centre of a 5 x 5 patch
    let mut shift = ImageAugmentation::new(5, 5);
    shift.shift = 1;
    for view in shift.views(&Batch::from_samples(delta.clone()), &mut rng::stream(2, "t")).unwrap() {
        for row in view.x().rows() {
            let on: Vec<usize> = row.iter().enumerate().filter(|(_, v)| **v != 0.0).map(|(k, _)| k).collect();
            assert_eq!(on.len(), 1);
            let (r, c) = (on[0] / 5, on[0] % 5);
            assert!((1..=3).contains(&r) && (1..=3).contains(&c));
        }
    }
    let mut cutout = ImageAugmentation::new(5, 5);
    cutout.cutout = 2;
    let ones = Array2::<f32>::ones((100, 25));
    for view in cutout.views(&Batch::from_samples(ones), &mut rng::stream(3, "t")).unwrap() {
        for row in view.x().rows() {
            assert_eq!(row.iter().filter(|v| **v == 0.0).count(), 4);
        }
    }
}

#[test]
fn jitter_scales_and_offsets_within_its_range() {
    let mut jitter = ImageAugmentation::new(2, 2);
    jitter.contrast = 0.5;
    jitter.brightness = 0.25;
    let x = Array2::from_shape_fn((300, 4), |(_, j)| j as f32);
    for view in jitter.views(&Batch::from_samples(x), &mut rng::stream(4, "t")).unwrap() {
        for row in view.x().rows() {
            let (b, c) = (row[0], row[1] - row[0]);
            assert!(b.abs() <= 0.25 + 1e-6 && (0.5 - 1e-6..=1.5 + 1e-6).contains(&c), "{row}");
        }
        assert!(view.sparse().iter().all(|v| *v == 0.0));
    }
}

#[test]
fn invalid_settings_and_shapes_are_errors() {
    let mut augmentation = ImageAugmentation::new(3, 3);
    augmentation.shift = 3;
    assert!(augmentation.check().is_err());
    augmentation.shift = 0;
    augmentation.contrast = 1.0;
    assert!(augmentation.check().is_err());
    let ok = ImageAugmentation::new(3, 3);
    assert!(ok.views(&Batch::from_samples(Array2::zeros((2, 8))), &mut rng::stream(0, "t")).is_err());
}
