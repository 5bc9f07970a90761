"""The NumPy InfoNCE against its definition and finite differences, and the PyTorch adapter on small inputs."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest

import decouple
from decouple.objectives import InfoNce, info_nce_pair


def reference_info_nce(u: np.ndarray, v: np.ndarray, temperature: float) -> float:
    """``L = (1/2B) sum_i [-log softmax_j(S_i.)_i - log softmax_j(S_.i)_i]``, ``S_ij = cos(u_i, v_j) / tau``, in float64."""
    u_hat = u / np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-8)
    v_hat = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-8)
    logits = u_hat @ v_hat.T / temperature

    def cross_entropy(s: np.ndarray) -> float:
        top = s.max(axis=1)
        return float((top + np.log(np.exp(s - top[:, None]).sum(axis=1)) - np.diag(s)).mean())

    return (cross_entropy(logits) + cross_entropy(logits.T)) / 2


def finite_differences(f: Any, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences ``(f(x + h e_k) - f(x - h e_k)) / 2h`` of a scalar function of ``x``."""
    gradient = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = h
        gradient[index] = (f(x + step) - f(x - step)) / (2 * h)
    return gradient


def views(seed: int, batch: int = 6, width: int = 5, count: int = 2) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(batch, width)) for _ in range(count)]


def test_the_value_is_the_definition() -> None:
    u, v = views(0)
    assert info_nce_pair(u, v, 0.2)[0] == pytest.approx(reference_info_nce(u, v, 0.2), rel=1e-12)
    assert info_nce_pair(u, v, 0.5)[0] == pytest.approx(info_nce_pair(v, u, 0.5)[0], rel=1e-12)  # symmetric


def test_equal_representations_cost_ln_b() -> None:
    same = np.ones((4, 3), np.float32)
    loss, gradients = InfoNce()([same, same])
    assert loss == pytest.approx(np.log(4), rel=1e-6)
    for gradient in gradients:  # every logit is equal: no direction lowers the loss
        np.testing.assert_allclose(gradient, 0.0, atol=1e-6)


def test_the_gradients_are_the_finite_differences() -> None:
    u, v = views(1)
    u[2] = 0.0  # a dead representation: z_hat = 0, and the gradient g / eps of the built-in
    _, grad_u, grad_v = info_nce_pair(u, v, 0.2)
    numeric_u = finite_differences(lambda x: reference_info_nce(x, v, 0.2), u)
    live = np.arange(len(u)) != 2
    np.testing.assert_allclose(grad_u[live], numeric_u[live], atol=1e-7)
    np.testing.assert_allclose(grad_v, finite_differences(lambda x: reference_info_nce(u, x, 0.2), v), atol=1e-7)


def test_float32_views_give_float32_results_close_to_float64() -> None:
    u, v = views(2)
    loss, gradients = InfoNce(temperature=0.3)([u.astype(np.float32), v.astype(np.float32)])
    assert isinstance(loss, float) and all(gradient.dtype == np.float32 for gradient in gradients)
    assert loss == pytest.approx(reference_info_nce(u, v, 0.3), rel=1e-5)
    np.testing.assert_allclose(gradients[0], info_nce_pair(u, v, 0.3)[1], atol=1e-5)


def test_more_views_average_the_pairs() -> None:
    a, b, c = views(3, count=3)
    loss, (grad_a, grad_b, grad_c) = InfoNce(n_views=3)([a, b, c])
    pairs = [info_nce_pair(a, b, 0.2), info_nce_pair(a, c, 0.2), info_nce_pair(b, c, 0.2)]
    assert loss == pytest.approx(sum(pair[0] for pair in pairs) / 3, rel=1e-12)
    np.testing.assert_allclose(grad_a, (pairs[0][1] + pairs[1][1]) / 3, rtol=1e-12)
    np.testing.assert_allclose(grad_b, (pairs[0][2] + pairs[2][1]) / 3, rtol=1e-12)
    np.testing.assert_allclose(grad_c, (pairs[1][2] + pairs[2][2]) / 3, rtol=1e-12)


def test_bad_settings_and_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="temperature"):
        InfoNce(temperature=0.0)
    with pytest.raises(ValueError, match="n_views"):
        InfoNce(n_views=1)
    with pytest.raises(ValueError, match="views"):
        InfoNce()(views(4, count=3))


def test_the_objective_has_its_attributes() -> None:
    objective = InfoNce(temperature=0.1, n_views=3)
    assert objective.n_views == 3 and "0.1" in objective.label


def test_the_torch_adapter_backpropagates() -> None:
    pytest.importorskip("torch")

    def energy(u: Any, v: Any) -> Any:
        """``L = sum(u^2) + 3 sum(v)``."""
        return (u**2).sum() + 3 * v.sum()

    objective = decouple.torch.objective(energy)
    assert (objective.n_views, objective.label) == (2, "energy")
    u, v = (array.astype(np.float32) for array in views(5))
    loss, (grad_u, grad_v) = objective([u, v])
    assert loss == pytest.approx(float((u.astype(np.float64) ** 2).sum() + 3 * v.sum()), rel=1e-5)
    np.testing.assert_allclose(grad_u, 2 * u, rtol=1e-6)
    np.testing.assert_allclose(grad_v, np.full_like(v, 3.0))


def test_the_torch_adapter_handles_read_only_views_and_unused_ones() -> None:
    pytest.importorskip("torch")
    u, v, w = (array.astype(np.float32) for array in views(6, count=3))
    for array in (u, v, w):
        array.flags.writeable = False
    objective = decouple.torch.objective(lambda a, b, c: (a * b).sum(), n_views=3, label="product")
    assert objective.label == "product"
    _, (grad_u, grad_v, grad_w) = objective([u, v, w])
    np.testing.assert_allclose(grad_u, v)
    np.testing.assert_allclose(grad_v, u)
    assert grad_w.shape == w.shape and not grad_w.any()


def test_the_torch_adapter_refuses_a_non_scalar_loss() -> None:
    pytest.importorskip("torch")
    objective = decouple.torch.objective(lambda u, v: u * v)
    with pytest.raises(ValueError, match="scalar"):
        objective([np.ones((2, 2), np.float32)] * 2)


def test_without_torch_the_adapter_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    with pytest.raises(ImportError, match="pip install torch"):
        decouple.torch.objective(lambda u, v: (u * v).sum())
