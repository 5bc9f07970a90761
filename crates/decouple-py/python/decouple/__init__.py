"""decouple: which features does a contrastive objective learn under an augmentation?

Data are drawn from the sparse-coding model ``x = M diag(alpha) z + xi``
(sparse features ``M z``, the ones we want, hidden in dense noise ``xi``,
the ones we do not); an augmentation makes ``V`` views of every sample, part
by part, so that its decoupling ``rho(w)`` (the correlation of the two views
along a direction ``w``, for the sparse and the dense part) is measured
exactly or by Monte Carlo; a symmetric-ReLU network ``h_i(x) = S_{b_i}(<w_i, x>)``
is trained on the views by an objective (the built-in InfoNCE, NT-Xent,
spectral, Barlow Twins, SimSiam/BYOL, or your own in NumPy or PyTorch), and
the trained weights are measured against the dictionary (``best_j = max_i
|cos(w_i, M_j)|``, sparse energy, probes). Runs, run folders, sweeps and the
reproduction are those of the ``decouple`` command line, computed by the same
Rust engine (``decouple._core``), with the same bits.

``decouple.objectives`` holds objectives written in NumPy, and
``decouple.torch`` (imported on first use; PyTorch itself only when you call
it) turns a PyTorch loss into an objective.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from ._core import (
    Augmentation,
    Batch,
    DecoupleError,
    Run,
    Samples,
    SparseCodingModel,
    View,
    __version__,
    alignment,
    analyze,
    compare,
    covariance_spectrum,
    decoupling_meter,
    effective_rank,
    evaluate,
    linear_oracle,
    load_run,
    probe,
    purity,
    recovery,
    register_augmentation,
    register_objective,
    registered,
    reproduce,
    run,
    sparse_energy,
    sweep,
    train,
)

if TYPE_CHECKING:
    from . import objectives as objectives, torch as torch
    from ._core import AugmentationFunction, Config, Objective
else:
    # Typing-only names of the stub: the extension module need not define
    # them at run time, so they are spelled out here as the stub has them.
    from collections.abc import Mapping, Sequence
    from os import PathLike
    from typing import Any, Protocol

    import numpy as np
    from numpy.typing import NDArray

    Config = Mapping[str, Any] | str | PathLike[str]

    class Objective(Protocol):
        """Your own objective: ``(L, [dL/dz_1, ..., dL/dz_V]) = objective([z_1, ..., z_V])``."""

        def __call__(self, views: list[NDArray[np.float32]]) -> tuple[float, Sequence[NDArray[Any]]]: ...

    class AugmentationFunction(Protocol):
        """Your own augmentation: ``[view_1, ..., view_V] = augmentation(batch, seed)``."""

        def __call__(self, batch: Batch, seed: int) -> Sequence[NDArray[Any] | tuple[NDArray[Any], NDArray[Any]]]: ...


__all__ = [
    "Augmentation",
    "AugmentationFunction",
    "Batch",
    "Config",
    "DecoupleError",
    "Objective",
    "Run",
    "Samples",
    "SparseCodingModel",
    "View",
    "__version__",
    "alignment",
    "analyze",
    "compare",
    "covariance_spectrum",
    "decoupling_meter",
    "effective_rank",
    "evaluate",
    "linear_oracle",
    "load_run",
    "probe",
    "purity",
    "recovery",
    "register_augmentation",
    "register_objective",
    "registered",
    "reproduce",
    "run",
    "sparse_energy",
    "sweep",
    "train",
]

#: Submodules imported on first attribute access (``decouple.torch`` must not import PyTorch with ``decouple``).
_LAZY_SUBMODULES = frozenset({"objectives", "torch"})

if not TYPE_CHECKING:  # type checkers see the submodules imported above

    def __getattr__(name: str) -> ModuleType:
        """Imports ``decouple.NAME`` on first use, for the submodules of :data:`_LAZY_SUBMODULES`."""
        if name in _LAZY_SUBMODULES:
            return importlib.import_module(f".{name}", __name__)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names and the lazy submodules."""
    return sorted([*__all__, *_LAZY_SUBMODULES])
