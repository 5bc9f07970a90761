"""Wang & Isola's alignment + uniformity loss in PyTorch, trained by decouple through ``decouple.torch.objective``.

The Python twin of examples/alignment-uniformity (a loss decouple does not
ship): with ``h = z / max(||z||, eps)`` the normalised representations,

    L = (1/B) sum_i ||h1_i - h2_i||^2 + lambda (L_unif(h1) + L_unif(h2)) / 2,
    L_unif(h) = log( (1 / (B (B - 1))) sum_{i != j} exp(-t ||h_i - h_j||^2) ),

at ``t = 2``, ``lambda = 1``, trained at the setting of that example (the
default of docs/model.md §7, seed 0, 3000 steps) under a complementary mask
and without augmentation. It prints the table the Rust example prints.

    pip install torch
    python examples/python/alignment_uniformity.py [--steps 3000] [--threads 2]
"""

from __future__ import annotations

import argparse

import decouple

try:
    import torch
except ImportError:
    raise SystemExit("this example needs PyTorch: pip install torch") from None

EPS = 1e-8


def alignment_uniformity(z1: torch.Tensor, z2: torch.Tensor, t: float = 2.0, lam: float = 1.0) -> torch.Tensor:
    """``L = mean_i ||h1_i - h2_i||^2 + lam (L_unif(h1) + L_unif(h2)) / 2`` (Wang & Isola 2020)."""
    h1, h2 = (z / z.norm(dim=1, keepdim=True).clamp_min(EPS) for z in (z1, z2))

    def uniformity(h: torch.Tensor) -> torch.Tensor:
        gram = h @ h.T  # ||h_i - h_j||^2 = G_ii + G_jj - 2 G_ij, no square root (finite gradients for equal rows)
        distances = (gram.diag()[:, None] + gram.diag()[None, :] - 2 * gram).clamp_min(0)
        off_diagonal = ~torch.eye(len(h), dtype=torch.bool)
        return torch.exp(-t * distances[off_diagonal]).mean().log()

    return (h1 - h2).pow(2).sum(dim=1).mean() + lam * (uniformity(h1) + uniformity(h2)) / 2


def row(name: str, run: decouple.Run) -> str:
    """One table row: the loss at step 0 and at the end, feature recovery and sparse energy."""
    report, loss = run.report, run.history["loss"]
    assert report is not None, run.error
    return (
        f"| {name} | {loss[0]:.3f} | {loss[-1]:.3f} | {report['median_best']:.3f} | {report['n_recovered']} of {report['n_features']} "
        f"| {report['sparse_energy_mean']:.3f} (random {report['sparse_energy_random']:.3f}) |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=2, help="as the Rust example")
    args = parser.parse_args()
    objective = decouple.torch.objective(alignment_uniformity, label="AlignmentUniformity(t 2, lambda 1)")
    # The evaluation does not change the table (which depends on the weights only); keep it short.
    evaluation = {"n_decoupling": 0, "label_efficiency": False}
    print(f"alignment + uniformity (t = 2, lambda = 1), default setting, {args.steps} steps")
    print("| augmentation | loss at 0 | final loss | median best_j | features >= 0.9 | mean sparse energy |")
    print("|---|---|---|---|---|---|")
    for name, augmentation in [("ComplementaryMask(0.5)", {"kind": "ComplementaryMask", "keep": 0.5}), ("Identity", {"kind": "Identity"})]:
        config = {"steps": args.steps, "log_every": -(-args.steps // 6), "augmentation": augmentation, "evaluation": evaluation}
        print(row(name, decouple.train(config, seed=0, threads=args.threads, objective=objective)))


if __name__ == "__main__":
    main()
