"""Run folders from Python: saved and loaded, analysed, interrupted and completed, swept with a registered objective."""

from __future__ import annotations

import csv
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import decouple
from decouple.objectives import InfoNce

#: BYOL (an EMA target) with the identity predictor: an objective with state to save and restore.
BYOL = 'objective={kind="NonContrastive", target={kind="Ema", momentum=0.99}}'


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def canonical(tree: Any) -> str:
    """A JSON text of ``tree`` that compares NaN equal to NaN."""
    return json.dumps(tree, sort_keys=True)


def assert_same_run(loaded: decouple.Run, trained: decouple.Run) -> None:
    assert np.array_equal(loaded.weights, trained.weights)
    assert np.array_equal(loaded.thresholds, trained.thresholds)
    assert loaded.dictionary is not None and trained.dictionary is not None
    assert np.array_equal(loaded.dictionary, trained.dictionary)
    assert sorted(loaded.state) == sorted(trained.state)
    for name, tensor in trained.state.items():
        assert np.array_equal(loaded.state[name], tensor), name
    assert sorted(loaded.history) == sorted(trained.history)
    for column, values in trained.history.items():
        np.testing.assert_array_equal(loaded.history[column], values, err_msg=column)
    assert canonical(loaded.report) == canonical(trained.report)
    assert loaded.config == trained.config and loaded.hash == trained.hash and loaded.status == trained.status


@pytest.mark.parametrize("edits", [(), (BYOL,)], ids=["InfoNce", "BYOL"])
def test_a_saved_run_loads_back_equal(small: Path, tmp_path: Path, edits: tuple[str, ...]) -> None:
    trained = decouple.train(small, sets=edits)
    assert trained.status == "ok", trained.error
    assert bool(trained.state) == bool(edits)  # InfoNCE keeps no state; BYOL its target network
    folder = tmp_path / "run"
    assert Path(trained.save(folder)).resolve() == folder.resolve()
    assert trained.dir is not None and Path(trained.dir).resolve() == folder.resolve()
    assert read_json(folder / "progress.json")["state"] == "complete"
    assert np.array_equal(np.load(folder / "weights.npy"), trained.weights)
    loaded = decouple.load_run(folder)
    assert_same_run(loaded, trained)
    assert loaded.dir is not None and Path(loaded.dir).resolve() == folder.resolve()
    assert loaded.summary is not None and trained.summary is not None  # written by save
    assert canonical(loaded.summary["report"]) == canonical(read_json(folder / "summary.json")["report"])


def test_analyze_recomputes_the_report_of_a_saved_run(small: Path, tmp_path: Path) -> None:
    trained = decouple.train(small, sets=(BYOL,))
    folder = Path(trained.save(tmp_path / "run"))
    report = decouple.analyze(folder)
    assert trained.report is not None
    assert report["median_best"] == trained.report["median_best"]
    assert report["n_recovered"] == trained.report["n_recovered"]
    assert canonical(read_json(folder / "analysis.json")["report"]) == canonical(read_json(folder / "summary.json")["report"])


def test_a_folder_that_is_not_a_run_is_refused(tmp_path: Path) -> None:
    with pytest.raises(decouple.DecoupleError, match="empty"):
        decouple.load_run(tmp_path / "empty")


def test_compare_puts_runs_side_by_side(small: Path, tmp_path: Path) -> None:
    first = decouple.run(small, out=tmp_path / "mask", progress=False)
    second = decouple.run(small, sets=["augmentation.kind=Identity"], out=tmp_path / "identity", progress=False)
    assert first.report is not None and second.report is not None
    table = decouple.compare([tmp_path / "mask", tmp_path / "identity"], out=tmp_path / "compare.svg")
    assert "median best_j" in table and "augmentation.kind" in table
    assert (tmp_path / "compare.svg").read_text().startswith("<svg")


def test_run_keeps_a_complete_folder(small: Path, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    decouple.run(small, out=folder, progress=False)
    written = (folder / "summary.json").read_bytes()
    again = decouple.run(small, out=folder, progress=False)
    assert (folder / "summary.json").read_bytes() == written
    assert again.report is not None and again.status == "ok"
    decouple.run(small, out=folder, force=True, progress=False)
    assert read_json(folder / "summary.json")["wall_s"] != json.loads(written)["wall_s"]


def test_the_commands_print_their_report_on_sys_stdout(small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "run"
    decouple.run(small, out=folder, progress=False)
    printed = capsys.readouterr().out
    assert "median best_j" in printed and f"wrote {folder}" in printed, printed
    decouple.run(small, out=folder, progress=False)
    assert "already complete with this config" in capsys.readouterr().out
    decouple.analyze(folder)
    assert "the same report as summary.json" in capsys.readouterr().out


class InterruptOnce(InfoNce):
    """InfoNCE that raises KeyboardInterrupt once, at the ``at``-th call counted over all its instances (a rerun trains through)."""

    armed = True
    calls = 0

    def __init__(self, at: int, **fields: Any) -> None:
        super().__init__(**fields)
        self.at = at

    def __call__(self, views: Any) -> tuple[float, list[Any]]:
        InterruptOnce.calls += 1
        if InterruptOnce.armed and InterruptOnce.calls >= self.at:
            InterruptOnce.armed = False
            raise KeyboardInterrupt
        return super().__call__(views)


def test_a_keyboard_interrupt_leaves_the_folder_incomplete_for_a_rerun(small: Path, tmp_path: Path) -> None:
    decouple.register_objective("InterruptOnce", InterruptOnce, {"at": 120, "temperature": 0.2})
    assert "InterruptOnce" in decouple.registered()["objective"]
    folder, edits = tmp_path / "run", ["objective.kind=InterruptOnce"]
    with pytest.raises(KeyboardInterrupt):
        decouple.run(small, sets=edits, out=folder, progress=False)
    progress = read_json(folder / "progress.json")
    assert progress["state"] == "incomplete" and 0 < progress["step"] < progress["steps"], progress
    assert not (folder / "summary.json").exists()
    completed = decouple.run(small, sets=edits, out=folder, progress=False)
    assert completed.status == "ok"
    assert read_json(folder / "progress.json")["state"] == "complete"
    assert read_json(folder / "summary.json")["logged_steps"] == len(completed.history["step"])


def test_ctrl_c_stops_a_run_within_a_step(small: Path, tmp_path: Path) -> None:
    """SIGINT while the engine trains (GIL released, no Python callback): KeyboardInterrupt, folder incomplete."""
    folder = tmp_path / "run"
    timer = threading.Timer(0.5, os.kill, args=(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):  # 500000 steps take seconds: the signal comes first
            decouple.run(small, sets=["steps=500000", "log_every=1000"], out=folder, progress=False, threads=1)
    finally:
        timer.cancel()
    assert read_json(folder / "progress.json")["state"] == "incomplete"
    assert not (folder / "summary.json").exists()


def test_the_gil_is_released_while_the_engine_trains(small: Path) -> None:
    """A Python thread keeps running while another thread's ``train`` computes: no gap near the run's length."""
    edits = ["data.d=32", "data.d1=512", "network.width=128", "batch_size=128", "steps=600", "log_every=600"]
    worker = threading.Thread(target=decouple.train, args=(small,), kwargs={"sets": edits, "threads": 1})
    ticks = [time.monotonic()]
    worker.start()
    while worker.is_alive():
        time.sleep(0.001)
        ticks.append(time.monotonic())
    duration = ticks[-1] - ticks[0]
    assert duration > 0.2, "the run is too short to tell"
    assert max(np.diff(ticks)) < duration / 2


class CountingInfoNce(InfoNce):
    """InfoNCE that counts the calls of all its instances (a skipped run makes none)."""

    calls = 0

    def __call__(self, views: Any) -> tuple[float, list[Any]]:
        CountingInfoNce.calls += 1
        return super().__call__(views)


def sweep_file(folder: Path, small: Path) -> Path:
    """Two temperatures x one seed of the registered ``NumpyInfoNce`` on the small config (``base.toml``, ``sweep.toml``)."""
    (folder / "base.toml").write_text('objective = { kind = "NumpyInfoNce" }\n' + small.read_text())
    path = folder / "sweep.toml"
    path.write_text(
        'name = "numpy-temperatures"\nbase = "base.toml"\nseeds = [0]\n\n'
        '[grid]\n"objective.temperature" = [0.1, 0.3]\n\n'
        '[plot]\nmetrics = ["median_best"]\nx = "objective.temperature"\n'
    )
    return path


def test_a_sweep_of_a_registered_objective_skips_complete_runs_when_rerun(small: Path, tmp_path: Path) -> None:
    decouple.register_objective("NumpyInfoNce", lambda **fields: CountingInfoNce(**fields), {"temperature": 0.2})
    file = sweep_file(tmp_path, small)
    folder = Path(decouple.sweep(file, out=tmp_path / "sweep", jobs=2, threads=1, progress=False))
    runs = sorted(path for path in (folder / "runs").iterdir() if path.is_dir() and not path.name.startswith("."))
    assert len(runs) == 2
    summaries = [read_json(run / "summary.json") for run in runs]
    assert [summary["status"] for summary in summaries] == ["ok", "ok"]
    assert sorted(summary["values"]["objective.temperature"] for summary in summaries) == [0.1, 0.3]
    with (folder / "sweep.csv").open() as table:
        rows = list(csv.DictReader(table))
    assert sorted(row["objective.temperature"] for row in rows) == ["0.1", "0.3"]
    assert all(row["status"] == "ok" and row["median_best"] for row in rows)
    calls, written = CountingInfoNce.calls, [(run / "summary.json").read_bytes() for run in runs]
    assert calls > 0
    decouple.sweep(file, out=tmp_path / "sweep", jobs=2, threads=1, progress=False)
    assert CountingInfoNce.calls == calls, "a complete run was trained again"
    assert [(run / "summary.json").read_bytes() for run in runs] == written


class NumpyMask:
    """``x+ = D x / q``, ``x++ = (I - D) x / (1 - q)`` in NumPy, part by part."""

    n_views = 2

    def __init__(self, keep: float) -> None:
        self.keep = keep
        self.label = f"NumpyMask({keep})"

    def __call__(self, batch: decouple.Batch, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
        kept = np.random.default_rng(seed).random(batch.x.shape) < self.keep
        scales = (np.where(kept, 1 / self.keep, 0.0), np.where(kept, 0.0, 1 / (1 - self.keep)))
        return [(scale * batch.sparse, scale * batch.dense) for scale in scales]


def test_a_registered_augmentation_is_named_in_a_config(small: Path) -> None:
    decouple.register_augmentation("NumpyMask", NumpyMask, {"keep": 0.5})
    assert "NumpyMask" in decouple.registered()["augmentation"]
    run = decouple.train(small, sets=['augmentation={kind="NumpyMask", keep=0.4}'])
    assert run.status == "ok"
    assert run.config["augmentation"] == {"kind": "NumpyMask", "keep": 0.4}
