"""Training from Python: the same bits as the command line, and objectives and augmentations of one's own."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import decouple
from decouple.objectives import InfoNce

#: A short run for the loss-curve comparisons: 60 steps, a line every 10. Objectives
#: computed by other code (NumPy's or PyTorch's float32 sums in another order) differ
#: from the built-in by float rounding (about 1e-7 relative per step); SGD lets that
#: grow over a run, so the comparison is made where it stays far below its tolerance.
SHORT = ("steps=60", "log_every=10")
#: Tolerance of a loss curve against the built-in InfoNCE's, on every logged step.
LOSS_RTOL = 1e-3


def summary(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "summary.json").read_text())


@pytest.fixture(scope="module")
def cli_folder(cli: Path, small: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``decouple run --config small.toml --out DIR`` by the command-line binary."""
    out = tmp_path_factory.mktemp("cli") / "run"
    result = subprocess.run([str(cli), "run", "--config", str(small), "--out", str(out)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def builtin_short(small: Path) -> decouple.Run:
    """The short run with the built-in InfoNCE (cosine, tau = 0.2)."""
    return decouple.train(small, sets=SHORT)


def test_run_writes_the_bits_of_the_command_line(cli_folder: Path, small: Path, tmp_path: Path) -> None:
    # The same folder name (it is the label of every metrics.jsonl line), under another parent.
    out = tmp_path / "python" / cli_folder.name
    run = decouple.run(small, out=out, progress=False)
    assert run.dir is not None and Path(run.dir).resolve() == out.resolve()
    for name in ("weights.npy", "thresholds.npy", "dictionary.npy"):
        assert np.array_equal(np.load(out / name), np.load(cli_folder / name)), name
    ours, theirs = summary(out), summary(cli_folder)
    for field in ("config_hash", "status", "final_loss", "logged_steps", "report", "network_files"):
        assert ours[field] == theirs[field], field
    assert (out / "metrics.jsonl").read_bytes() == (cli_folder / "metrics.jsonl").read_bytes()


def test_train_in_memory_gives_the_same_network(cli_folder: Path, small_run: decouple.Run) -> None:
    assert small_run.status == "ok" and small_run.error is None
    assert small_run.weights.dtype == np.float32 and small_run.weights.shape == (16, 64)
    assert small_run.thresholds.shape == (16,)
    assert np.array_equal(small_run.weights, np.load(cli_folder / "weights.npy"))
    assert np.array_equal(small_run.thresholds, np.load(cli_folder / "thresholds.npy"))
    assert small_run.report is not None
    assert small_run.report["median_best"] == summary(cli_folder)["report"]["median_best"]
    assert small_run.hash == summary(cli_folder)["config_hash"]


def test_the_history_has_every_logged_step(small_run: decouple.Run) -> None:
    history = small_run.history
    assert list(history["step"]) == [0, 50, 100, 150, 200, 250, 300]
    assert history["loss"].shape == (7,) and np.isfinite(history["loss"]).all()
    assert history["best_per_feature"].shape == (7, 8)
    assert history["median_best"][-1] == pytest.approx(np.median(history["best_per_feature"][-1]))


def test_on_log_sees_every_logged_step(small: Path) -> None:
    records: list[dict[str, Any]] = []
    run = decouple.train(small, sets=SHORT, on_log=records.append)
    assert [record["step"] for record in records] == list(run.history["step"])
    assert [record["loss"] for record in records] == list(run.history["loss"])


def test_a_seed_argument_replaces_the_config_seed(small: Path, small_run: decouple.Run) -> None:
    other = decouple.train(small, seed=1, sets=SHORT)
    assert other.config["seed"] == 1
    assert other.dictionary is not None and small_run.dictionary is not None
    assert not np.array_equal(other.dictionary, small_run.dictionary)


def test_a_config_mapping_is_overlaid_on_the_default() -> None:
    evaluation = {"n_activity": 100, "n_probe_train": 100, "n_probe_test": 100, "n_decoupling": 0, "label_efficiency": False}
    config = {"steps": 20, "log_every": 10, "data": {"d": 4, "d1": 16}, "network": {"width": 8}, "evaluation": evaluation}
    run = decouple.train(config)
    assert run.weights.shape == (8, 16)
    assert run.config["batch_size"] == 128 and run.config["objective"]["loss"]["temperature"] == 0.2


def test_numpy_info_nce_follows_the_built_in_loss_curve(small: Path, builtin_short: decouple.Run) -> None:
    ours = decouple.train(small, sets=SHORT, objective=InfoNce(temperature=0.2))
    assert ours.status == "ok"
    assert list(ours.history["step"]) == list(builtin_short.history["step"])
    np.testing.assert_allclose(ours.history["loss"], builtin_short.history["loss"], rtol=LOSS_RTOL)
    # The step-0 loss is on the same batch through the same network: float rounding only.
    assert ours.history["loss"][0] == pytest.approx(builtin_short.history["loss"][0], rel=1e-5)


class Float64Gradients(InfoNce):
    """InfoNCE returning its float32 gradients as float64 arrays in Fortran order (both accepted as they are)."""

    def __call__(self, views: Any) -> tuple[float, list[np.ndarray]]:
        loss, gradients = super().__call__(views)
        return loss, [np.asfortranarray(gradient, dtype=np.float64) for gradient in gradients]


def test_float64_and_non_contiguous_gradients_give_the_same_run(small: Path) -> None:
    plain = decouple.train(small, sets=SHORT, objective=InfoNce())
    converted = decouple.train(small, sets=SHORT, objective=Float64Gradients())
    assert np.array_equal(plain.weights, converted.weights)
    assert list(plain.history["loss"]) == list(converted.history["loss"])


def test_the_torch_adapter_follows_the_built_in_loss_curve(small: Path, builtin_short: decouple.Run) -> None:
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional

    def info_nce(u: Any, v: Any) -> Any:
        """``(CE(S) + CE(S^T)) / 2``, ``S_ij = cos(u_i, v_j) / 0.2`` (norms floored at 1e-8, as the built-in)."""
        u_hat = u / u.norm(dim=1, keepdim=True).clamp_min(1e-8)
        v_hat = v / v.norm(dim=1, keepdim=True).clamp_min(1e-8)
        logits = u_hat @ v_hat.T / 0.2
        target = torch.arange(len(u))
        return (functional.cross_entropy(logits, target) + functional.cross_entropy(logits.T, target)) / 2

    ours = decouple.train(small, sets=SHORT, objective=decouple.torch.objective(info_nce))
    assert ours.status == "ok"
    np.testing.assert_allclose(ours.history["loss"], builtin_short.history["loss"], rtol=LOSS_RTOL)


class NumpyComplementaryMask:
    """``x+ = 2 D x``, ``x++ = 2 (I - D) x``, part by part, drawn with ``numpy.random.default_rng(seed)``."""

    n_views = 2
    label = "NumpyComplementaryMask(0.5)"

    def __call__(self, batch: decouple.Batch, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
        kept = np.random.default_rng(seed).random(batch.x.shape) < 0.5
        first, second = np.where(kept, 2.0, 0.0), np.where(kept, 0.0, 2.0)
        return [(scale * batch.sparse, scale * batch.dense) for scale in (first, second)]


def test_an_augmentation_of_ones_own_trains_and_is_measured(small: Path) -> None:
    run = decouple.train(small, augmentation=NumpyComplementaryMask())
    assert run.status == "ok" and run.report is not None
    # Views given part by part: the Monte Carlo decoupling of the learned neurons is measured.
    assert run.report["rho_sparse_learned"] is not None and run.report["rho_dense_learned"] is not None
    assert abs(run.report["rho_dense_learned"]) < 0.2  # a complementary mask decorrelates isotropic noise


def test_plain_array_views_train(small: Path) -> None:
    def noisy(batch: decouple.Batch, seed: int) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        return [batch.x + 0.5 * rng.standard_normal(batch.x.shape, dtype=np.float32) for _ in range(2)]

    assert decouple.train(small, sets=SHORT, augmentation=noisy).status == "ok"


def test_evaluate_gives_the_report_of_any_weights(small: Path, small_run: decouple.Run) -> None:
    report = decouple.evaluate(small_run.weights, small_run.thresholds, config=small, seed=0)
    assert small_run.report is not None and small_run.dictionary is not None
    assert json.dumps(report, sort_keys=True) == json.dumps(small_run.report, sort_keys=True)
    ideal = decouple.evaluate(small_run.dictionary.T, config=small, seed=0)  # w_j = M_j, b = 0
    assert ideal["median_best"] == pytest.approx(1.0, abs=1e-6) and ideal["n_recovered"] == 8


def test_alignment_is_the_absolute_cosine(small_run: decouple.Run) -> None:
    assert small_run.dictionary is not None
    weights, dictionary = small_run.weights.astype(np.float64), small_run.dictionary.astype(np.float64)
    expected = np.abs(weights @ dictionary) / np.linalg.norm(weights, axis=1)[:, None] / np.linalg.norm(dictionary, axis=0)
    got = decouple.alignment(small_run.weights, small_run.dictionary)
    assert got.dtype == np.float64 and got.shape == (16, 8)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert small_run.report is not None
    assert np.median(got.max(axis=0)) == pytest.approx(small_run.report["median_best"], abs=1e-6)


def test_effective_rank_is_the_exponential_entropy_of_the_spectrum() -> None:
    features = np.random.default_rng(0).normal(size=(5000, 4)) * np.array([1.0, 1.0, 0.5, 0.1])
    spectrum = decouple.covariance_spectrum(features)
    assert spectrum.shape == (4,) and (np.diff(spectrum) <= 0).all()
    p = spectrum / spectrum.sum()
    assert decouple.effective_rank(features) == pytest.approx(np.exp(-(p * np.log(p)).sum()), rel=1e-9)
    assert decouple.effective_rank(np.random.default_rng(1).normal(size=(20000, 4))) == pytest.approx(4.0, abs=0.05)


def test_a_probe_separates_a_linearly_separable_task() -> None:
    rng = np.random.default_rng(0)
    direction = rng.normal(size=6)
    features = rng.normal(size=(600, 6)).astype(np.float32)
    labels = (features @ direction > 0).astype(np.float32)  # in {0, 1}
    probe = decouple.probe(features[:400], labels[:400], features[400:], labels[400:])
    assert probe["probe"]["test_accuracy"] > 0.95, probe["probe"]
    chance = decouple.probe(features[:400], rng.permutation(labels[:400]), features[400:], labels[400:])
    assert chance["probe"]["test_accuracy"] < 0.75, chance["probe"]
    with pytest.raises(ValueError, match="train_labels"):
        decouple.probe(features[:400], 2 * labels[:400] - 1, features[400:], labels[400:])


def test_views_without_parts_have_no_decoupling_statistics_in_any_report(small: Path) -> None:
    class PlainMask:
        label = "PlainMask"

        def __call__(self, batch: decouple.Batch, seed: int) -> list[np.ndarray]:
            kept = np.random.default_rng(seed).random(batch.x.shape) < 0.5
            return [2 * kept * batch.x, 2 * ~kept * batch.x]

    run = decouple.train(small, augmentation=PlainMask())
    assert run.report is not None and run.report["rho_dense_learned"] is None
    decouple.register_augmentation("PlainMaskForEvaluate", lambda **_: PlainMask(), {})
    report = decouple.evaluate(run.weights, run.thresholds, config={**run.config, "augmentation": {"kind": "PlainMaskForEvaluate"}})
    assert report["rho_sparse_learned"] is None and report["rho_dense_learned"] is None
