"""PyTorch losses as decouple objectives: autograd gives ``dL/dz_k``.

``decouple.torch.objective(fn)`` wraps ``fn(z_1, ..., z_V) -> L`` (a scalar
tensor, any differentiable PyTorch code) as an :class:`decouple.Objective`.
PyTorch is imported when :func:`objective` is called, never by ``import decouple``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import torch

__all__ = ["TorchObjective", "objective"]

#: ``fn(z_1, ..., z_V) -> L``: a scalar tensor computed from the views' representations.
TorchLoss = Callable[..., "torch.Tensor"]


def _import_torch() -> Any:
    """The ``torch`` module, or an ImportError that says how to install it."""
    try:
        import torch
    except ImportError as error:
        raise ImportError("decouple.torch needs PyTorch: pip install torch") from error
    return torch


class TorchObjective:
    """``(L, [dL/dz_1, ..., dL/dz_V]) = (fn(z_1, ..., z_V), autograd)``: a PyTorch loss as an objective."""

    def __init__(self, fn: TorchLoss, n_views: int, label: str, torch_module: Any) -> None:
        self.fn = fn
        self.n_views = n_views
        self.label = label
        self._torch = torch_module

    def __repr__(self) -> str:
        return f"decouple.torch.objective({self.label}, n_views={self.n_views})"

    def __call__(self, views: Sequence[NDArray[np.float32]]) -> tuple[float, list[NDArray[np.float32]]]:
        """``L = fn(z_1, ..., z_V)`` and ``dL/dz_k`` by backpropagation (zero for a view ``fn`` does not use)."""
        if len(views) != self.n_views:
            raise ValueError(f"views: {self.n_views} expected, {len(views)} given")
        # torch.from_numpy shares memory and wants a writable array; copy only a read-only one.
        tensors = [self._torch.from_numpy(np.require(view, requirements=["C", "W"])).requires_grad_() for view in views]
        loss = self.fn(*tensors)
        if not isinstance(loss, self._torch.Tensor) or loss.numel() != 1:
            raise ValueError(f"{self.label} must return a scalar tensor, got {loss!r:.80}")
        loss.backward()
        gradients = [tensor.grad if tensor.grad is not None else self._torch.zeros_like(tensor) for tensor in tensors]
        return float(loss.detach()), [gradient.detach().numpy() for gradient in gradients]


def objective(fn: TorchLoss, *, n_views: int = 2, label: str | None = None) -> TorchObjective:
    """The objective ``(L, [dL/dz_k]) = (fn(z_1, ..., z_V), autograd)`` of a PyTorch loss ``fn``.

    ``fn`` takes the ``V = n_views`` representations (``B x m`` float32
    tensors) and returns a scalar tensor; ``label`` (default ``fn.__name__``)
    names the objective in the run. Raises ImportError when PyTorch is missing.
    """
    if n_views < 2:
        raise ValueError(f"n_views = {n_views} is out of range: must be >= 2")
    torch_module = _import_torch()
    return TorchObjective(fn, n_views, label if label is not None else getattr(fn, "__name__", type(fn).__name__), torch_module)
