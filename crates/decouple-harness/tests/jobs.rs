//! `--jobs` and `--threads` never change results: the same run list executed
//! with any split of the cores between parallel runs and the threads of each
//! gives identical reports and histories, in list order; the automatic split
//! gives each of the runs in parallel its share of the cores.

use std::sync::Arc;

use decouple_harness::progress::PlainLines;
use decouple_harness::training::{Execution, RunCache, RunSpec, execute};
use decouple_train::TrainConfig;

fn tiny(seed: u64, keep: f64) -> RunSpec {
    let mut config = TrainConfig::default();
    (config.seed, config.steps, config.batch_size, config.log_every) = (seed, 40, 16, 20);
    let data = config.data.model_mut().unwrap();
    data.d = 4;
    data.d1 = 24;
    data.latent = decouple_data::SparseLatent::Bernoulli { p: 0.5 };
    config.network.width = 8;
    config.augmentation = decouple_augment::Augmentation::ComplementaryMask { keep }.into();
    RunSpec { label: format!("keep {keep} seed {seed}"), config }
}

#[test]
fn results_do_not_depend_on_the_number_of_jobs() {
    let specs: Vec<RunSpec> = [(0, 0.5), (1, 0.5), (0, 0.3), (2, 0.7)].iter().map(|&(seed, keep)| tiny(seed, keep)).collect();
    let split = |threads| RunCache::new(Execution { cores: 4, threads, progress: Arc::new(PlainLines::default()), ..Execution::default() });
    let serial = execute("jobs-test", &specs, 1, &split(Some(1)));
    for (jobs, cache) in [(2, split(Some(1))), (1, split(Some(3))), (2, split(Some(2))), (2, split(None)), (1, RunCache::default())] {
        let other = execute("jobs-test", &specs, jobs, &cache);
        assert_eq!(serial.len(), specs.len());
        for ((a, b), spec) in serial.iter().zip(&other).zip(&specs) {
            assert_eq!(a.label, spec.label);
            assert_eq!(a.error, None);
            let context = format!("{jobs} jobs, {:?}", cache.execution());
            assert_eq!(serde_json::to_string(&a.report).unwrap(), serde_json::to_string(&b.report).unwrap(), "{context}");
            assert_eq!(serde_json::to_string(&a.history).unwrap(), serde_json::to_string(&b.history).unwrap(), "{context}");
            assert_eq!(a.alignment, b.alignment, "{context}");
        }
    }
}

#[test]
fn the_cores_are_shared_between_parallel_runs_and_their_threads() {
    let execution = |cores, threads| Execution { cores, threads, progress: Arc::new(PlainLines::default()), ..Execution::default() };
    // (cores, --threads, --jobs, pending runs) -> (jobs, threads per run)
    for ((cores, threads, jobs, pending), expected) in [
        ((8, None, 8, 100), (8, 1)),
        ((8, None, 8, 2), (2, 4)),
        ((8, None, 8, 1), (1, 8)),
        ((8, None, 3, 100), (3, 2)),
        ((2, None, 2, 0), (1, 2)),
        ((8, Some(3), 8, 100), (8, 3)),
        ((1, None, 4, 4), (4, 1)),
    ] {
        assert_eq!(
            execution(cores, threads).split(jobs, pending),
            expected,
            "{cores} cores, {threads:?} threads, {jobs} jobs, {pending} runs"
        );
    }
}

/// `execute_watched` reports every logged point of every run it trains, as it
/// trains, and nothing for runs it takes from the cache.
#[test]
fn watched_execution_reports_every_logged_point() {
    let specs: Vec<RunSpec> = [(0, 0.5), (1, 0.5)].iter().map(|&(seed, keep)| tiny(seed, keep)).collect();
    let cache = RunCache::default();
    let seen = std::sync::Mutex::new(Vec::new());
    let records = decouple_harness::training::execute_watched("watch-test", &specs, 2, &cache, &|spec, point| {
        seen.lock().unwrap().push((spec.label.clone(), point.step));
    });
    let mut seen = seen.into_inner().unwrap();
    seen.sort();
    let mut expected: Vec<(String, usize)> =
        records.iter().flat_map(|record| record.history.iter().map(|point| (record.label.clone(), point.step))).collect();
    expected.sort();
    assert_eq!(seen, expected);
    assert_eq!(expected.len(), 6, "steps 0, 20 and 40 of two runs");
    let again = std::sync::atomic::AtomicUsize::new(0);
    let _ = decouple_harness::training::execute_watched("watch-test", &specs, 2, &cache, &|_, _| {
        again.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    assert_eq!(again.into_inner(), 0, "cached runs are not trained again");
}
