//! The registry of experiments (docs/claims.md): id, claim, and runner.

use crate::RunContext;
use crate::report::Summary;

mod common;
pub mod comparison;
pub mod decoupling;
pub mod in_practice;
pub mod landscape;
pub mod noncontrastive;
pub mod prediction_head;
pub mod spectral;
pub mod variations;

/// One experiment: its id, the paper's claim, and its runner.
pub struct Experiment {
    /// Stable id, also the output folder name.
    pub id: &'static str,
    /// The claim it checks, in words.
    pub claim: &'static str,
    /// What it measures.
    pub measures: &'static str,
    /// Runs it, writing `config.json`, `metrics.jsonl`, `summary.json` and plots.
    pub run: fn(&RunContext) -> anyhow::Result<Summary>,
}

/// Every experiment of docs/claims.md, in report order.
pub const EXPERIMENTS: &[Experiment] = &[
    Experiment {
        id: "decoupling",
        claim: "augmentations decorrelate the dense features of positive pairs and keep the sparse ones",
        measures: "rho_sparse, rho_dense per augmentation, Monte Carlo vs closed form",
        run: decoupling::run,
    },
    Experiment {
        id: "sparse-with-aug",
        claim: "with masking, contrastive learning learns the sparse features",
        measures: "recovery, purity, sparse energy, probe accuracy",
        run: comparison::sparse_with_aug,
    },
    Experiment {
        id: "dense-without-aug",
        claim: "without augmentation, contrastive learning learns dense features",
        measures: "the same metrics, side by side with sparse-with-aug",
        run: comparison::dense_without_aug,
    },
    Experiment {
        id: "weak-aug",
        claim: "not every augmentation decouples",
        measures: "Gaussian-noise and independent-mask augmentations beside the two above",
        run: comparison::weak_aug,
    },
    Experiment {
        id: "strength",
        claim: "stronger dense features need stronger augmentation",
        measures: "phase diagram over sigma x augmentation strength",
        run: variations::strength,
    },
    Experiment {
        id: "dynamics",
        claim: "the feature learning process",
        measures: "metrics over training steps",
        run: comparison::dynamics,
    },
    Experiment {
        id: "bias-rules",
        claim: "thresholds must rise gradually",
        measures: "Fixed vs Learned vs NormRamp bias",
        run: variations::bias_rules,
    },
    Experiment {
        id: "supervised",
        claim: "supervised learning needs no strong augmentation",
        measures: "the same network trained on labels, no augmentation",
        run: variations::supervised,
    },
    Experiment {
        id: "controls",
        claim: "\"proper\" augmentation matters",
        measures: "low-rank dense features, localized dictionary, finite pool, off-span noise",
        run: variations::controls,
    },
    Experiment {
        id: "non-contrastive-decoupling",
        claim: "without augmentation, non-contrastive objectives do not learn the sparse features either",
        measures: "SimSiam and BYOL variants under Identity and ComplementaryMask: the metric table and the effective rank",
        run: noncontrastive::non_contrastive_decoupling,
    },
    Experiment {
        id: "non-contrastive-landscape",
        claim: "contrastive learning recovers the dictionary from random init; SimSiam without a predictor does not, but stays near it from a warm start",
        measures: "max / median / min best_j, support recovery, InfoNCE vs SimSiam with and without a predictor, random init vs warm start",
        run: landscape::non_contrastive_landscape,
    },
    Experiment {
        id: "prediction-head",
        claim: "a predictor fixed at the identity learns only the strong features; I + off-diagonal learns the weak ones too",
        measures: "strong and weak group medians of best_j and the predictor's off-diagonal mass over training",
        run: prediction_head::prediction_head,
    },
    Experiment {
        id: "linear-oracle",
        claim: "for a linear encoder, the spectral loss converges to the exact top generalised eigenspace",
        measures: "principal angles of the learned weights to the oracle subspace and to span(M), the eigengap, per augmentation",
        run: spectral::linear_oracle,
    },
    Experiment {
        id: "objectives",
        claim: "without augmentation, no objective learns the sparse features",
        measures: "every objective under Identity and ComplementaryMask(0.5): recovery, sparse energy, probe, effective rank, wall time",
        run: spectral::objectives_experiment,
    },
    Experiment {
        id: "collapse",
        claim: "under masks the representation spans about the d sparse features",
        measures: "representation spectrum, effective rank and span(M) energy over training, InfoNCE and spectral",
        run: spectral::collapse,
    },
    Experiment {
        id: "in-practice",
        claim: "feature decoupling matches contrastive learning in practice: measured on real images (natural patches, UCI digits)",
        measures: "filter grids beside the top PCs, the decoupling meter, sparsity and localisation, digit probes with 10 and all labels",
        run: in_practice::in_practice,
    },
];

/// Looks up an experiment by id.
#[must_use]
pub fn find(id: &str) -> Option<&'static Experiment> {
    EXPERIMENTS.iter().find(|experiment| experiment.id == id)
}
