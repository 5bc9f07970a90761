//! The training path `apply_x_into` gives the same views on a 2-thread rayon
//! pool as on the calling thread, and masks keep coordinates with
//! probability `keep`.

use decouple_augment::Augmentation;
use decouple_data::rng;
use ndarray::Array2;

fn augmentations() -> [Augmentation; 6] {
    [
        Augmentation::Identity,
        Augmentation::ComplementaryMask { keep: 0.5 },
        Augmentation::ComplementaryMask { keep: 0.3 },
        Augmentation::IndependentMask { keep: 0.25, rescale: true },
        Augmentation::IndependentMask { keep: 0.7, rescale: false },
        Augmentation::GaussianNoise { sigma_a: 0.5 },
    ]
}

#[test]
fn views_do_not_depend_on_threads() {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let x = Array2::from_shape_fn((45, 77), |(i, k)| (i as f32 - 20.0) * 0.1 + k as f32 * 0.01);
    for augmentation in augmentations() {
        let (mut first, mut second) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        augmentation.apply_x_into(x.view(), &mut first, &mut second, &mut rng::stream(5, "augment")).unwrap();
        let (mut first_pool, mut second_pool) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        pool.install(|| augmentation.apply_x_into(x.view(), &mut first_pool, &mut second_pool, &mut rng::stream(5, "augment"))).unwrap();
        assert_eq!(first, first_pool, "{augmentation:?}");
        assert_eq!(second, second_pool, "{augmentation:?}");
    }
}

#[test]
fn masks_keep_coordinates_with_probability_keep() {
    let x = Array2::<f32>::ones((200, 333));
    for keep in [0.5, 0.25, 0.3, 0.9] {
        let augmentation = Augmentation::IndependentMask { keep, rescale: false };
        let (mut first, mut second) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        augmentation.apply_x_into(x.view(), &mut first, &mut second, &mut rng::stream(9, "augment")).unwrap();
        for view in [&first, &second] {
            let n = view.len() as f64;
            let kept = view.iter().filter(|&&v| v != 0.0).count() as f64;
            let sd = (n * keep * (1.0 - keep)).sqrt();
            assert!((kept - n * keep).abs() < 5.0 * sd, "keep {keep}: {kept} of {n}");
        }
    }
}
