#!/usr/bin/env python3
"""PyTorch reference of decouple's training step, for side-by-side timing.

The same step as decouple's default setting (docs/model.md), written the way a
PyTorch user would write it (autograd, torch.nn.functional, torch.optim.SGD):

- data: x = M z + xi, M a random orthonormal d1 x d dictionary (Q of the QR of
  a Gaussian matrix), z in {-1, 0, +1}^d with support Bernoulli(p = 2/d) and
  fair signs, xi ~ N(0, sigma^2 I) with sigma = 0.25; a fresh batch every step;
- augmentation: complementary mask, keep q = 0.5: views D x / q and
  (I - D) x / (1 - q), D a fresh Bernoulli(q) diagonal per sample;
- network: h = ReLU(s - b) - ReLU(-s - b) = sign(s) max(|s| - b, 0), s = W x,
  W (m x d1) initialised N(0, 0.01^2), no bias parameter;
- thresholds: b_i = beta(t) ||w_i|| with beta(t) = 0.5 min(1, t / (0.5 T)),
  recomputed before every step without gradient;
- loss: symmetric InfoNCE, cosine similarity, tau = 0.2:
  (CE(S, I) + CE(S^T, I)) / 2 with S = u_hat v_hat^T / tau;
- optimiser: plain SGD, lr 0.5 (no momentum, no weight decay).

It does not share decouple's random streams (ChaCha8), so runs agree in
distribution, not bit for bit; `--loss-check` compares a seed-free statistic.

Usage (prints one JSON object on stdout, progress on stderr):

    python3 benches/reference/torch_step.py                 # both workloads, 1 and 2 threads, loss check
    python3 benches/reference/torch_step.py --workloads step-default --threads 1 --steps 500
    python3 benches/reference/torch_step.py --no-timing --loss-check
    python3 benches/reference/torch_step.py --no-timing --no-loss-check --scaling 128x512x128,128x4096x128

`cargo xtask bench` runs it when `python3 -c "import torch"` works.
"""

import argparse
import json
import math
import platform
import statistics
import sys
import time

import torch
import torch.nn.functional as F

# The bench's workloads (crates/decouple-bench/src/workloads.rs): whole runs
# timed in blocks of `block` steps, so every phase of the threshold ramp counts.
WORKLOADS = {
    "step-default": dict(d=32, d1=512, m=128, batch=128, steps=3000, block=100),
    "step-large": dict(d=64, d1=1024, m=256, batch=256, steps=1000, block=50),
}

# The loss check: mean training loss over steps 281-300 (the last 20 of a
# 300-step run of the default setting, i.e. the `loss` of the last line of
# `cargo xtask run --config examples/configs/default.toml --set steps=300
# --set log_every=20`), averaged over seeds 0-4.
CHECK_STEPS = 300
CHECK_WINDOW = 20
CHECK_SEEDS = 5
# decouple's value of that statistic (seeds 0-4, measured with
# `cargo xtask bench --only loss-check`, which recomputes it every run) and the
# stated tolerance on |PyTorch - decouple| (about 3 standard errors of the
# difference of the two 5-seed means; see benches/reference/README.md).
DECOUPLE_CHECK_MEAN = 3.8050
CHECK_TOLERANCE = 0.15


def beta_t(step, steps, beta=0.5, ramp=0.5):
    """beta(t) = beta min(1, t / (ramp T)); beta from the start when ramp T = 0."""
    ramp_steps = ramp * steps
    return beta if ramp_steps <= 0 else beta * min(1.0, step / ramp_steps)


class SparseCoding:
    """x = M z + xi: random orthonormal dictionary, Bernoulli latent with signs, isotropic noise."""

    def __init__(self, d, d1, p, sigma, generator):
        gaussian = torch.randn(d1, d, generator=generator, dtype=torch.float64)
        q, _ = torch.linalg.qr(gaussian)  # reduced QR: d1 x d, orthonormal columns
        self.dictionary = q.to(torch.float32)
        self.d, self.d1, self.p, self.sigma = d, d1, p, sigma
        self.generator = generator

    def sample(self, n):
        support = torch.rand(n, self.d, generator=self.generator) < self.p
        signs = torch.randint(0, 2, (n, self.d), generator=self.generator) * 2 - 1
        z = (support * signs).to(torch.float32)
        noise = self.sigma * torch.randn(n, self.d1, generator=self.generator)
        return z @ self.dictionary.T + noise


def complementary_mask(x, keep, generator):
    """(D x / q, (I - D) x / (1 - q)), D ~ Bernoulli(q) per coordinate and sample."""
    mask = (torch.rand(x.shape, generator=generator) < keep).to(x.dtype)
    return x * mask / keep, x * (1 - mask) / (1 - keep)


def sym_relu(x, weight, bias):
    """h = ReLU(s - b) - ReLU(-s - b) = sign(s) max(|s| - b, 0), s = x W^T."""
    s = x @ weight.T
    return F.relu(s - bias) - F.relu(-s - bias)


def info_nce(u, v, tau):
    """Symmetric InfoNCE with cosine similarity: (CE(S, I) + CE(S^T, I)) / 2, S = u_hat v_hat^T / tau."""
    u = F.normalize(u, dim=1, eps=1e-8)
    v = F.normalize(v, dim=1, eps=1e-8)
    logits = u @ v.T / tau
    labels = torch.arange(u.shape[0])
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))


class Run:
    """One training run of `steps` SGD steps at the default setting with the given sizes."""

    def __init__(self, d, d1, m, batch, steps, seed, p=None, sigma=0.25, keep=0.5, tau=0.2, lr=0.5, sigma0=0.01):
        self.generator = torch.Generator().manual_seed(seed)
        self.data = SparseCoding(d, d1, 2.0 / d if p is None else p, sigma, self.generator)
        self.weight = (sigma0 * torch.randn(m, d1, generator=self.generator)).requires_grad_()
        self.optimizer = torch.optim.SGD([self.weight], lr=lr)
        self.batch, self.steps, self.keep, self.tau = batch, steps, keep, tau
        self.step = 0

    def train_step(self):
        """One SGD step on a fresh batch; returns the loss of the batch before the update."""
        with torch.no_grad():
            bias = beta_t(self.step, self.steps) * self.weight.norm(dim=1)
        x = self.data.sample(self.batch)
        first, second = complementary_mask(x, self.keep, self.generator)
        loss = info_nce(sym_relu(first, self.weight, bias), sym_relu(second, self.weight, bias), self.tau)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.step += 1
        value = loss.item()
        if not math.isfinite(value):
            raise RuntimeError(f"loss diverged at step {self.step}")
        return value


def summary(samples):
    ordered = sorted(samples)
    return dict(min=ordered[0], median=statistics.median(ordered), max=ordered[-1], repetitions=len(ordered))


def time_workload(settings, threads, steps=None, seed=0):
    """ms per step of every block of `block` consecutive steps of a whole run (like decouple-bench)."""
    torch.set_num_threads(threads)
    steps = settings["steps"] if steps is None else steps
    block = min(settings["block"], steps)
    warm_up = Run(settings["d"], settings["d1"], settings["m"], settings["batch"], steps, seed + 1000)
    for _ in range(min(10, steps)):  # first calls allocate and pick kernels: not part of the figures
        warm_up.train_step()
    run = Run(settings["d"], settings["d1"], settings["m"], settings["batch"], steps, seed)
    blocks = []
    while run.step < steps:
        count = min(block, steps - run.step)
        start = time.perf_counter()
        for _ in range(count):
            run.train_step()
        blocks.append((time.perf_counter() - start) / count * 1e3)
    return blocks


def loss_statistic(seed):
    """Mean training loss over steps 281-300 of a 300-step default run (1 thread)."""
    torch.set_num_threads(1)
    settings = WORKLOADS["step-default"]
    run = Run(settings["d"], settings["d1"], settings["m"], settings["batch"], CHECK_STEPS, seed)
    losses = [run.train_step() for _ in range(CHECK_STEPS)]
    return sum(losses[-CHECK_WINDOW:]) / CHECK_WINDOW


def mean_and_se(values):
    mean = statistics.fmean(values)
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else float("nan")
    return mean, se


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", default="step-default,step-large", help="comma-separated: " + ", ".join(WORKLOADS))
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts (torch.set_num_threads)")
    parser.add_argument("--steps", type=int, help="steps per timed run (default: the workload's whole run)")
    parser.add_argument("--no-timing", action="store_true", help="skip the step timings")
    parser.add_argument("--no-loss-check", action="store_true", help="skip the loss-curve check")
    parser.add_argument("--seeds", type=int, default=CHECK_SEEDS, help="seeds of the loss check (0..N-1)")
    parser.add_argument("--decouple-mean", type=float, default=DECOUPLE_CHECK_MEAN, help="decouple's value of the loss statistic")
    parser.add_argument(
        "--scaling",
        default="",
        help="comma-separated BxD1xM sizes (e.g. 128x4096x128): time the default setting at each, 1 thread",
    )
    parser.add_argument("--scaling-steps", type=int, default=200, help="steps per scaling point (blocks of 20)")
    args = parser.parse_args()

    threads = [int(t) for t in args.threads.split(",") if t]
    report = dict(
        implementation="PyTorch",
        torch=torch.__version__,
        python=platform.python_version(),
        mkl=torch.backends.mkl.is_available(),
        mkldnn=torch.backends.mkldnn.is_available(),
        cpu_capability=torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, "cpu") else None,
        entries=[],
    )
    if not args.no_timing:
        for name in [w for w in args.workloads.split(",") if w]:
            if name not in WORKLOADS:
                parser.error(f"unknown workload {name}")
            for t in threads:
                print(f"  PyTorch {name}, {t} thread(s)...", file=sys.stderr, flush=True)
                blocks = time_workload(WORKLOADS[name], t, args.steps)
                report["entries"].append(dict(name=name, threads=t, unit="ms/step", **summary(blocks)))
    if args.scaling:
        # The bench's scaling grid (crates/decouple-bench/src/scaling.rs): the
        # default setting at other sizes, a short whole run per point, 1 thread.
        for spec in [v for v in args.scaling.split(",") if v]:
            try:
                batch, d1, m = (int(part) for part in spec.split("x"))
            except ValueError:
                parser.error(f"--scaling: {spec!r} is not BxD1xM, e.g. 128x512x128")
            settings = dict(WORKLOADS["step-default"], batch=batch, d1=d1, m=m, block=20)
            print(f"  PyTorch scaling {spec} (B x d1 x m), 1 thread...", file=sys.stderr, flush=True)
            blocks = time_workload(settings, 1, args.scaling_steps)
            report["entries"].append(dict(name=f"scaling-B{batch}-d1{d1}-m{m}", threads=1, unit="ms/step", **summary(blocks)))
    if not args.no_loss_check:
        print(f"  PyTorch loss check ({args.seeds} seeds x {CHECK_STEPS} steps)...", file=sys.stderr, flush=True)
        values = [loss_statistic(seed) for seed in range(args.seeds)]
        mean, se = mean_and_se(values)
        check = dict(
            statistic=f"mean training loss over steps {CHECK_STEPS - CHECK_WINDOW + 1}-{CHECK_STEPS} of a {CHECK_STEPS}-step default run",
            seeds=list(range(args.seeds)),
            values=values,
            mean=mean,
            standard_error=se,
            tolerance=CHECK_TOLERANCE,
        )
        if math.isfinite(args.decouple_mean):
            check["decouple_mean"] = args.decouple_mean
            check["agrees"] = abs(mean - args.decouple_mean) <= CHECK_TOLERANCE
        report["loss_check"] = check
    json.dump(report, sys.stdout, indent=2)
    print()
    check = report.get("loss_check", {})
    if check.get("agrees") is False:
        print(f"loss check FAILED: PyTorch {check['mean']:.4f} vs decouple {check['decouple_mean']:.4f}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
