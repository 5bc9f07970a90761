#!/usr/bin/env python3
"""Timings of the Python package against the command line and PyTorch.

At the default setting (examples/configs/default.toml, docs/model.md §7), on
`--threads` threads:

- `cli/run-default` and `python/run-default`: one whole default run (3000
  steps, the full evaluation, the run folder) by the `decouple run` binary and
  by `decouple.run` with the built-in objective, in turn: the overhead of
  driving the engine from Python;
- `*/step-default-*`: milliseconds per training step, as the difference of a
  long and a short run (the same small evaluation in both, so it cancels),
  for the CLI, `decouple.train` with the built-in InfoNCE, with the NumPy
  InfoNCE of `decouple.objectives` and with the same loss in PyTorch through
  `decouple.torch.objective` (when torch imports), beside the pure PyTorch
  step of benches/reference/torch_step.py timed the same way;
- the ratios the goals read, taken repetition by repetition (the variants run
  in turn): a whole run from Python over the CLI, each step over the native
  step, and the pure PyTorch step over each.

Prints one JSON object on stdout (`entries` as `cargo xtask bench` reads
them), progress on stderr. `cargo xtask bench` runs it with the interpreter
that imports `decouple` (`$DECOUPLE_PYTHON`, else target/py-venv/bin/python).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import decouple
from decouple.objectives import InfoNce

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "examples" / "configs" / "default.toml"
# The same small evaluation in the short and the long run, so that it cancels in the difference.
SMALL_EVALUATION = [
    "evaluation.n_activity=200",
    "evaluation.n_probe_train=100",
    "evaluation.n_probe_test=100",
    "evaluation.n_decoupling=0",
    "evaluation.label_efficiency=false",
    'evaluation.probe_lambda={kind="Fixed", lambda=0.001}',
]


def entry(name: str, threads: int, unit: str, samples: list[float]) -> dict[str, object]:
    return {
        "name": name,
        "threads": threads,
        "unit": unit,
        "min": min(samples),
        "median": statistics.median(samples),
        "max": max(samples),
        "repetitions": len(samples),
    }


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def cli_run(cli: str, threads: int, sets: list[str]) -> None:
    with tempfile.TemporaryDirectory() as out:
        args = [cli, "run", "--config", str(DEFAULT), "--out", os.path.join(out, "run"), "--threads", str(threads)]
        for assignment in sets:
            args += ["--set", assignment]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)


def torch_info_nce(temperature: float = 0.2) -> object:
    """The built-in symmetric InfoNCE (cosine, tau 0.2) in PyTorch, through the adapter."""
    import torch
    import torch.nn.functional as F

    def info_nce(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        logits = F.normalize(u, dim=1, eps=1e-8) @ F.normalize(v, dim=1, eps=1e-8).T / temperature
        labels = torch.arange(u.shape[0])
        return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))

    return decouple.torch.objective(info_nce, label="InfoNce(PyTorch, tau 0.2)")


def torch_reference(threads: int) -> Callable[[int], object]:
    """n steps of the pure PyTorch step of benches/reference/torch_step.py (its `Run`, the default sizes)."""
    sys.path.insert(0, str(ROOT / "benches" / "reference"))
    import torch_step

    settings = torch_step.WORKLOADS["step-default"]

    def run(n: int) -> object:
        torch_step.torch.set_num_threads(threads)
        reference = torch_step.Run(settings["d"], settings["d1"], settings["m"], settings["batch"], n, seed=0)
        return [reference.train_step() for _ in range(n)]

    return run


def paired(name: str, threads: int, unit: str, numerators: list[float], denominators: list[float]) -> dict[str, object]:
    """The ratio of two series measured in turn, repetition by repetition (robust to the machine's drift)."""
    return entry(name, threads, unit, [a / b for a, b in zip(numerators, denominators)])


def python_run(threads: int) -> None:
    """`decouple.run` of the default config into a fresh folder (the files the CLI writes), in a new
    Python process as a user's script would (so no memo of an earlier run in this process helps it)."""
    script = "import sys, decouple; decouple.run(sys.argv[1], out=sys.argv[2], threads=int(sys.argv[3]), progress=False)"
    with tempfile.TemporaryDirectory() as out:
        args = [sys.executable, "-c", script, str(DEFAULT), os.path.join(out, "run"), str(threads)]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cli", default=str(ROOT / "target" / "release" / "decouple"), help="the decouple binary")
    parser.add_argument("--threads", default="1", help="comma-separated thread counts")
    parser.add_argument("--short", type=int, default=100, help="steps of the short run")
    parser.add_argument("--long", type=int, default=2100, help="steps of the long run")
    parser.add_argument("--repetitions", type=int, default=7)
    parser.add_argument("--no-whole-run", action="store_true", help="skip the whole default runs")
    args = parser.parse_args()
    # The report alone on stdout: what the runs print (on sys.stdout, and the `decouple` binary's output) goes to stderr.
    report_stream = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    entries: list[dict[str, object]] = []
    try:
        import torch

        torch_version: str | None = torch.__version__
    except ImportError:
        torch_version = None
    steps = args.long - args.short
    for threads in [int(t) for t in args.threads.split(",")]:
        if torch_version is not None:
            import torch

            torch.set_num_threads(threads)
        if not args.no_whole_run:
            print(f"  whole default run, {threads} thread(s), CLI and Python in turn...", file=sys.stderr)
            whole: dict[str, list[float]] = {"cli/run-default": [], "python/run-default": []}
            for _ in range(args.repetitions):
                whole["cli/run-default"].append(timed(lambda: cli_run(args.cli, threads, [])))
                whole["python/run-default"].append(timed(lambda: python_run(threads)))
            entries.extend(entry(name, threads, "s/run", samples) for name, samples in whole.items())
            overhead = [100 * (python / cli - 1) for python, cli in zip(whole["python/run-default"], whole["cli/run-default"])]
            entries.append(entry("python/run-default", threads, "overhead vs CLI (%, paired)", overhead))

        def trainer(make: Callable[[], object] | None) -> Callable[[int], object]:
            def train(n: int) -> object:
                objective = make() if make is not None else None
                return decouple.train(DEFAULT, threads=threads, sets=[f"steps={n}", *SMALL_EVALUATION], objective=objective)

            return train

        variants: dict[str, Callable[[int], object]] = {
            "cli/step-default": lambda n: cli_run(args.cli, threads, [f"steps={n}", *SMALL_EVALUATION]),
            "python/step-default-builtin": trainer(None),
            "python/step-default-numpy-infonce": trainer(InfoNce),
        }
        if torch_version is not None:
            variants["python/step-default-torch-infonce"] = trainer(torch_info_nce)
            variants["reference/pytorch-step-default"] = torch_reference(threads)
        print(f"  ms/step, {threads} thread(s): {', '.join(variants)} in turn...", file=sys.stderr)
        per_step: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.repetitions):
            for name, run in variants.items():
                per_step[name].append(1000 * (timed(lambda: run(args.long)) - timed(lambda: run(args.short))) / steps)
        entries.extend(entry(name, threads, "ms/step", samples) for name, samples in per_step.items())
        native = per_step["cli/step-default"]
        for name, samples in per_step.items():
            if name.startswith("python/"):
                entries.append(paired(name, threads, "ms/step over the native step (paired)", samples, native))
                if "reference/pytorch-step-default" in per_step:
                    entries.append(paired(name, threads, "speed-up vs PyTorch (paired)", per_step["reference/pytorch-step-default"], samples))
    report = {"decouple": decouple.__version__, "torch": torch_version, "python": sys.version.split()[0], "entries": entries}
    print(json.dumps(report, indent=1), file=report_stream)
    report_stream.close()


if __name__ == "__main__":
    main()
