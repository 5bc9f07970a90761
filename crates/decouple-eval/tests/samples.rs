//! The analysis of a network on real samples degrades gracefully: what
//! needs M is listed as not available, the rest is measured.

use decouple_augment::Augmentation;
use decouple_data::{DataConfig, Samples, SparseCodingModel, rng};
use decouple_eval::{SampleEvaluation, evaluate_samples, few_per_class, probe_split};
use decouple_net::SymReluNet;

fn fixture(labels: bool) -> Samples {
    let mut data = DataConfig::default();
    data.d = 8;
    data.d1 = 32;
    let batch = SparseCodingModel::from_seed(data, 2).unwrap().sample(600, &mut rng::stream(2, "real"));
    let labels = labels.then(|| {
        batch
            .z()
            .rows()
            .into_iter()
            .map(|z| {
                if z[0] > 0.0 {
                    1
                } else if z[1] > 0.0 {
                    2
                } else {
                    0
                }
            })
            .collect()
    });
    Samples::new(batch.x().to_owned(), labels, None, "fixture").unwrap()
}

#[test]
fn reports_everything_but_what_needs_the_dictionary() {
    let samples = fixture(true);
    let mut rng = rng::stream(0, "init");
    let mut net = SymReluNet::<f32>::init(12, 32, 0.3, &mut rng).unwrap();
    net.bias_mut().fill(0.05);
    let report = evaluate_samples(&net, &samples, &Augmentation::ComplementaryMask { keep: 0.5 }, &SampleEvaluation::default(), 0).unwrap();
    assert!(report.not_available.iter().any(|m| m.metric.starts_with("best_j")));
    assert_eq!(report.n_samples, 600);
    assert!(report.active_fraction > 0.0 && report.active_fraction <= 1.0);
    assert!(report.participation_ratio_median >= 1.0 && report.participation_ratio_median <= 32.0);
    assert!(report.effective_rank > 1.0);
    assert_eq!(report.meter_top_pcs.count, 16);
    assert_eq!(report.meter_random.count, 16);
    assert_eq!(report.meter_learned.count, 12 - report.n_dead);
    // A complementary mask on noise-dominated random directions: correlation near 0.
    assert!(report.meter_random.raw_median.abs() < 0.3, "{:?}", report.meter_random.raw_median);
    let probes = report.probes.unwrap();
    assert!(probes.all_labels.test_accuracy > 0.3);
    let few = probes.few_labels.unwrap().n_train;
    assert!((20..=30).contains(&few), "{few}"); // at most 10 per class (the rarest class may have fewer)
    // Identity: every correlation is 1.
    let identity = evaluate_samples(&net, &fixture(false), &Augmentation::Identity {}, &SampleEvaluation::default(), 0).unwrap();
    assert!((identity.meter_top_pcs.raw_median - 1.0).abs() < 1e-9);
    assert!(identity.probes.is_none());
}

#[test]
fn probe_split_is_a_seeded_partition() {
    let (train, test) = probe_split(30, 1);
    assert_eq!(test.len(), 10);
    let mut all: Vec<usize> = train.iter().chain(&test).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..30).collect::<Vec<_>>());
    assert_eq!(probe_split(30, 1), (train.clone(), test));
    let classes: Vec<usize> = (0..30).map(|i| i % 3).collect();
    assert_eq!(few_per_class(&train, &classes, 3, 2).len(), 6);
}
