//! Train the docs/model.md §7 default once and print the loss and feature recovery every 500 steps:
//! `cargo run --release -p decouple-experiments --example smoke [mask|identity|noise|independent]`.
use decouple_augment::Augmentation;
use decouple_train::{TrainConfig, train};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let augmentation = match args.get(1).map(String::as_str) {
        Some("identity") => Augmentation::Identity {},
        Some("noise") => Augmentation::GaussianNoise { sigma_a: 0.5 },
        Some("independent") => Augmentation::IndependentMask { keep: 0.5, rescale: true, views: 2 },
        _ => Augmentation::ComplementaryMask { keep: 0.5 },
    };
    let mut config = TrainConfig::default();
    config.augmentation = augmentation.into();
    config.log_every = 500;
    let (data, seed) = (*config.data.model().expect("the data model"), config.seed);
    let start = std::time::Instant::now();
    let outcome = train(config, |m, net| {
        let a = decouple_analysis::alignment_matrix(
            net.weights(),
            decouple_data::SparseCodingModel::from_seed(data, seed).unwrap().dictionary().matrix(),
        )
        .unwrap();
        let r = decouple_analysis::feature_recovery(a.view(), &Default::default()).unwrap();
        println!(
            "step {} loss {:.4} |w| {:.3} b {:.3} active {:.3} median best {:.3} n>=0.9 {}",
            m.step, m.loss, m.weight_norm_mean, m.bias_mean, m.active_fraction, r.median, r.n_recovered
        );
    })
    .unwrap();
    println!("{:.2} s, {:.3} ms/step", start.elapsed().as_secs_f64(), start.elapsed().as_secs_f64() * 1000.0 / outcome.config.steps as f64);
}
