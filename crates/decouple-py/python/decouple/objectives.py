"""Objectives written in NumPy, with hand-derived gradients.

Each is an :class:`decouple.Objective`: called with the representations
``z_1, ..., z_V`` of the views of a batch (``B x m`` arrays), it returns
``L`` and every ``dL/dz_k``. Train with one by ``decouple.train(config,
objective=InfoNce())``, or name it in configs with
``decouple.register_objective("NumpyInfoNce", lambda **fields: InfoNce(**fields))``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations

import numpy as np
from numpy.typing import NDArray

__all__ = ["COSINE_EPS", "InfoNce", "info_nce_pair"]

#: Floor of the norm in the cosine similarity, ``z_hat = z / max(||z||, eps)`` (the built-in's ``COSINE_EPS``).
COSINE_EPS = 1e-8

Matrix = NDArray[np.floating]


def _normalise(z: Matrix) -> tuple[Matrix, Matrix]:
    """``z_hat = z / max(||z||, eps)`` row by row, and the row norms ``||z||``."""
    norms = np.sqrt(np.einsum("ij,ij->i", z, z))
    inverse = z.dtype.type(1) / np.maximum(norms, z.dtype.type(COSINE_EPS))
    return z * inverse[:, None], norms


def _through_normalisation(grad_hat: Matrix, hat: Matrix, norms: Matrix) -> Matrix:
    """``dL/dz = (g - z_hat <g, z_hat>) / ||z||`` where ``||z|| > eps``, else ``g / eps`` (``g = dL/dz_hat``)."""
    eps = grad_hat.dtype.type(COSINE_EPS)
    projection: Matrix = np.where(norms > eps, np.einsum("ij,ij->i", grad_hat, hat), grad_hat.dtype.type(0))
    inverse: Matrix = grad_hat.dtype.type(1) / np.maximum(norms, eps)
    return (grad_hat - hat * projection[:, None]) * inverse[:, None]


def _log_sum_exp(logits: Matrix, axis: int) -> tuple[Matrix, Matrix]:
    """``lse = max + ln sum exp(S - max)`` along ``axis``, and ``exp(S - max)``."""
    maximum = logits.max(axis=axis, keepdims=True)
    exps = np.exp(logits - maximum)
    return np.squeeze(maximum, axis) + np.log(exps.sum(axis=axis)), exps


def info_nce_pair(u: Matrix, v: Matrix, temperature: float) -> tuple[float, Matrix, Matrix]:
    """Symmetric InfoNCE of one pair of views and its gradients:
    ``L = (1/2B) sum_i [-log softmax_j(S_i.)_i - log softmax_j(S_.i)_i]``, ``S_ij = cos(u_i, v_j) / tau``.

    Computed in the dtype of ``u`` and ``v``, step by step as the built-in
    ``InfoNce`` does: ``dL/dS = (P^row + P^col - 2 I) / 2B``,
    ``dL/du_hat = dL/dS v_hat / tau``, ``dL/dv_hat = (dL/dS)^T u_hat / tau``,
    then through the normalisation.
    """
    dtype = u.dtype.type
    batch = u.shape[0]
    inv_tau = dtype(1.0 / temperature)
    (u_hat, u_norms), (v_hat, v_norms) = _normalise(u), _normalise(v)
    logits = (u_hat @ v_hat.T) * inv_tau
    row_lse, row_exps = _log_sum_exp(logits, axis=1)
    column_lse, _ = _log_sum_exp(logits, axis=0)
    diagonal = np.diagonal(logits)
    loss = (row_lse + column_lse - (diagonal + diagonal)).sum() / dtype(2 * batch)
    scale = dtype(1) / dtype(2 * batch)
    grad_logits = row_exps * (scale / row_exps.sum(axis=1))[:, None] + scale * np.exp(logits - column_lse[None, :])
    grad_logits[np.diag_indices(batch)] -= scale + scale
    grad_u_hat = (grad_logits @ v_hat) * inv_tau
    grad_v_hat = (grad_logits.T @ u_hat) * inv_tau
    return float(loss), _through_normalisation(grad_u_hat, u_hat, u_norms), _through_normalisation(grad_v_hat, v_hat, v_norms)


class InfoNce:
    """Symmetric InfoNCE with cosine similarity, the built-in ``InfoNce { similarity: Cosine }`` in NumPy:
    ``L = (1/2B) sum_i [-log softmax_j(S_i.)_i - log softmax_j(S_.i)_i]``, ``S_ij = cos(u_i, v_j) / tau``.

    With ``n_views = V > 2`` it is the mean of that loss over the ``V (V - 1) / 2`` pairs of views.
    Arrays keep their dtype (float32 in training; float64 for gradient checks).
    """

    def __init__(self, temperature: float = 0.2, n_views: int = 2) -> None:
        if not (math.isfinite(temperature) and temperature > 0):
            raise ValueError(f"temperature = {temperature} is out of range: must be finite and > 0")
        if n_views < 2:
            raise ValueError(f"n_views = {n_views} is out of range: must be >= 2")
        self.temperature = temperature
        self.n_views = n_views
        self.label = f"InfoNce(NumPy, tau {temperature})"

    def __repr__(self) -> str:
        return f"InfoNce(temperature={self.temperature}, n_views={self.n_views})"

    def __call__(self, views: Sequence[Matrix]) -> tuple[float, list[Matrix]]:
        """``L`` and ``[dL/dz_1, ..., dL/dz_V]``: ``L = mean over pairs k < l of InfoNCE(z_k, z_l)``."""
        if len(views) != self.n_views:
            raise ValueError(f"views: {self.n_views} expected, {len(views)} given")
        pairs = list(combinations(range(self.n_views), 2))
        weight = views[0].dtype.type(1) / views[0].dtype.type(len(pairs))
        loss = 0.0
        gradients = [np.zeros_like(view) for view in views]
        for first, second in pairs:
            value, grad_first, grad_second = info_nce_pair(views[first], views[second], self.temperature)
            loss += value
            gradients[first] += grad_first
            gradients[second] += grad_second
        return loss / len(pairs), [gradient * weight for gradient in gradients]
