"""The decoupling statistics ``rho(w) = E[<w, a+><w, a++>] / sqrt(E<w, a+>^2 E<w, a++>^2)``: closed forms against Monte Carlo."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import decouple

MODEL = decouple.SparseCodingModel(d=8, d1=64, latent={"kind": "Bernoulli", "p": 0.25}, seed=2)
N_SAMPLES = 20_000
#: Monte Carlo within this many standard errors of the closed form, plus an absolute slack.
STANDARD_ERRORS, SLACK = 4.0, 0.005

AUGMENTATIONS: list[dict[str, Any]] = [
    {"kind": "Identity"},
    {"kind": "ComplementaryMask", "keep": 0.5},
    {"kind": "ComplementaryMask", "keep": 0.3},
    {"kind": "IndependentMask", "keep": 0.5},
    {"kind": "IndependentMask", "keep": 0.4, "rescale": False},
    {"kind": "GaussianNoise", "sigma_a": 0.5},
]


def directions() -> np.ndarray:
    """Four features ``M_j`` and four random unit directions, ``8 x d1``."""
    random = np.random.default_rng(0).normal(size=(4, MODEL.d1))
    random /= np.linalg.norm(random, axis=1, keepdims=True)
    return np.vstack([MODEL.M[:, :4].T.astype(np.float64), random])


@pytest.mark.parametrize("component", ["sparse", "dense"])
@pytest.mark.parametrize("config", AUGMENTATIONS, ids=lambda config: "-".join(str(value) for value in config.values()))
def test_monte_carlo_agrees_with_the_closed_form(config: dict[str, Any], component: str) -> None:
    augmentation = decouple.Augmentation(config)
    ws = directions()
    estimates = augmentation.monte_carlo(MODEL, ws, n_samples=N_SAMPLES, seed=1, component=component)
    assert len(estimates) == len(ws)
    for w, estimate in zip(ws, estimates):
        exact = augmentation.closed_form(MODEL, w, component=component)
        assert exact is not None and estimate is not None
        rho, standard_error = estimate
        assert -1.0 <= exact <= 1.0 and standard_error >= 0.0
        assert abs(rho - exact) <= STANDARD_ERRORS * standard_error + SLACK, (rho, standard_error, exact)


def test_known_closed_forms() -> None:
    """Isotropic dense noise: ``rho_dense = 1`` (Identity), ``0`` (complementary masks), ``s^2 / (s^2 + s_a^2)`` (noise)."""
    w = directions()[5]
    assert decouple.Augmentation("Identity").closed_form(MODEL, w, component="dense") == pytest.approx(1.0, abs=1e-12)
    assert decouple.Augmentation("ComplementaryMask", keep=0.5).closed_form(MODEL, w, component="dense") == pytest.approx(0.0, abs=1e-12)
    noise = decouple.Augmentation("GaussianNoise", sigma_a=0.5)
    assert noise.closed_form(MODEL, w, component="dense") == pytest.approx(0.25**2 / (0.25**2 + 0.5**2), rel=1e-9)
    assert noise.closed_form(MODEL, w, component="sparse") == pytest.approx(1.0, abs=1e-12)
    masked = decouple.Augmentation("ComplementaryMask", keep=0.5).closed_form(MODEL, directions()[0])
    assert masked is not None and 0.5 < masked < 1.0  # a feature keeps most of its cross-view correlation


def test_no_variance_along_w_has_no_rho() -> None:
    assert decouple.Augmentation("ComplementaryMask", keep=0.5).closed_form(MODEL, np.zeros(MODEL.d1)) is None


def test_one_direction_as_a_vector() -> None:
    w = directions()[0]
    augmentation = decouple.Augmentation("IndependentMask", keep=0.5)
    [single] = augmentation.monte_carlo(MODEL, w, n_samples=2000, seed=3)
    [first, *_] = augmentation.monte_carlo(MODEL, w[None, :], n_samples=2000, seed=3)
    assert single == first
