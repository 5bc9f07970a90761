"""Quickstart: the network learns the sparse features under complementary masking, and not without augmentation.

Trains the default setting of docs/model.md §7 (shortened to 1500 steps) twice,
with ``ComplementaryMask(0.5)`` and with ``Identity``, prints the median
``best_j = max_i |cos(w_i, M_j)|`` of each, and draws both alignment matrices
``|cos(w_i, M_j)|`` (neurons sorted by their best feature) when matplotlib is
installed.

    python examples/python/quickstart.py [--steps 1500] [--seed 0] [--plot alignment.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

import decouple

AUGMENTATIONS: dict[str, dict[str, object]] = {
    "ComplementaryMask(0.5)": {"kind": "ComplementaryMask", "keep": 0.5},
    "Identity": {"kind": "Identity"},
}


def train(augmentation: dict[str, object], steps: int, seed: int) -> decouple.Run:
    """The default setting with ``augmentation``, ``steps`` SGD steps, a smaller decoupling sample."""
    config = {"steps": steps, "log_every": steps // 10, "augmentation": augmentation, "evaluation": {"n_decoupling": 5000}}
    return decouple.train(config, seed=seed, progress=True)


def sorted_alignment(run: decouple.Run) -> NDArray[np.float64]:
    """``|cos(w_i, M_j)|`` (``m x d``), rows ordered by each neuron's best feature, then by that cosine."""
    assert run.dictionary is not None, "a run on the data model has its dictionary"
    matrix = decouple.alignment(run.weights, run.dictionary)
    best, strength = matrix.argmax(axis=1), matrix.max(axis=1)
    return matrix[np.lexsort((-strength, best))]


def plot(runs: dict[str, decouple.Run], path: Path) -> None:
    """Both alignment matrices side by side into ``path``; a message instead without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib to draw the alignment matrices)")
        return
    figure, axes = plt.subplots(1, len(runs), figsize=(5 * len(runs), 6), constrained_layout=True)
    for ax, (name, run) in zip(axes, runs.items()):
        image = ax.imshow(sorted_alignment(run), aspect="auto", vmin=0.0, vmax=1.0, cmap="viridis")
        ax.set(title=f"{name}: |cos(w_i, M_j)|", xlabel="feature j", ylabel="neuron i (sorted by best feature)")
    figure.colorbar(image, ax=axes, shrink=0.8)
    figure.savefig(path, dpi=100)
    print(f"alignment matrices: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500, help="SGD steps (the default setting has 3000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", type=Path, default=Path("alignment.png"), help="where to draw the alignment matrices")
    args = parser.parse_args()
    runs = {name: train(augmentation, args.steps, args.seed) for name, augmentation in AUGMENTATIONS.items()}
    print("| augmentation | median best_j | features >= 0.9 |")
    print("|---|---|---|")
    for name, run in runs.items():
        assert run.report is not None, run.error
        print(f"| {name} | {run.report['median_best']:.3f} | {run.report['n_recovered']} of {run.report['n_features']} |")
    plot(runs, args.plot)


if __name__ == "__main__":
    main()
