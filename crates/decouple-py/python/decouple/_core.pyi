"""Type stubs of decouple's Rust engine (the extension module ``decouple._core``).

Every name here is re-exported by ``decouple``; import it from there.
Arrays come back float32 and C-contiguous unless said otherwise; float32 and
float64 arrays are accepted (converted once), non-contiguous ones are copied,
and a wrong ndim, shape or a NaN raises ``ValueError`` naming the argument.
"""

from collections.abc import Callable, Mapping, Sequence
from os import PathLike
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

__version__: str

#: A config: a mapping with the structure of a TOML config file (overlaid on
#: the default of docs/model.md §7), or the path of a TOML/JSON config file.
Config = Mapping[str, Any] | str | PathLike[str]

class DecoupleError(RuntimeError):
    """A failure of the engine that is neither bad input (``ValueError``) nor I/O (``OSError``): a locked or incomplete run folder, a stale run, ..."""

class Batch:
    """Samples of the data model: ``x = sparse + dense``, ``sparse = z diag(alpha) M^T``, ``dense = xi``."""

    n: int
    x: NDArray[np.float32]
    """``n x d1`` samples."""
    z: NDArray[np.float32]
    """``n x d`` sparse latents in ``{-1, 0, +1}``."""
    sparse: NDArray[np.float32]
    """``n x d1`` sparse parts ``M diag(alpha) z``."""
    dense: NDArray[np.float32]
    """``n x d1`` dense parts ``xi``."""
    def __init__(self, x: ArrayLike, sparse: ArrayLike | None = None, dense: ArrayLike | None = None) -> None:
        """A batch of samples ``x`` (``n x d1``); with their parts when known (else ``sparse = 0``, ``dense = x`` (the whole sample unexplained), ``z`` empty)."""

class SparseCodingModel:
    """The sparse-coding data model ``x = M diag(alpha) z + xi`` (docs/model.md §1).

    ``config`` (or keyword fields) is the ``[data]`` table of a config file,
    overlaid on the default (``d = 32``, ``d1 = 512``, Bernoulli ``p = 2/d``,
    isotropic ``sigma = 0.25``). ``seed`` draws the dictionary exactly as a
    run with that seed does, so ``SparseCodingModel(config["data"], seed=s).M``
    is the dictionary of the run.
    """

    seed: int
    d: int
    d1: int
    config: dict[str, Any]
    M: NDArray[np.float32]
    """The dictionary, ``d1 x d``, one unit-norm column per feature."""
    strengths: NDArray[np.float64]
    """The per-feature strengths ``alpha_j``."""
    def __init__(self, config: Mapping[str, Any] | None = None, *, seed: int = 0, **fields: Any) -> None: ...
    def sample(self, n: int, seed: int = 0) -> Batch:
        """``n`` independent samples (stream ``seed``): ``x``, ``z``, ``sparse``, ``dense``."""

class Samples:
    """Real data: an ``n x d1`` matrix of samples (``.npy``/``.csv`` path or array), optionally preprocessed.

    ``preprocess`` is the ``data.preprocess`` table of a config file:
    ``{"contrast": eps, "centre": bool, "scale": v, "whiten": "None" | "Pca" | "Zca" | {...}}``,
    fitted on these samples. ``image = (height, width)`` says the samples are images.
    """

    x: NDArray[np.float32]
    """The samples after preprocessing, ``n x d1``."""
    labels: NDArray[np.int64] | None
    n: int
    d1: int
    def __init__(
        self,
        source: str | PathLike[str] | ArrayLike,
        *,
        labels: str | PathLike[str] | ArrayLike | None = None,
        image: tuple[int, int] | None = None,
        preprocess: Mapping[str, Any] | None = None,
    ) -> None: ...

class View:
    """One view of a batch, part by part: ``x = sparse + dense``."""

    x: NDArray[np.float32]
    sparse: NDArray[np.float32]
    dense: NDArray[np.float32]

class Augmentation:
    """An augmentation a config may name (a built-in, or a kind registered from Python): the
    ``[augmentation]`` table of a config file, or its kind.

    ``Augmentation("ComplementaryMask", keep=0.5)``, ``Augmentation({"kind": "GaussianNoise", "sigma_a": 0.5})``.
    """

    label: str
    n_views: int
    config: dict[str, Any]
    def __init__(self, config: Mapping[str, Any] | str | None = None, **fields: Any) -> None: ...
    def views(self, batch: Batch | ArrayLike, seed: int = 0) -> list[View]:
        """The ``V`` views of ``batch`` (stream ``seed``); for a plain array, views of ``x`` (as ``Batch(x)``)."""
    def closed_form(self, model: SparseCodingModel, w: ArrayLike, component: str = "sparse") -> float | None:
        """``rho(w) = E[<w, a+><w, a++>] / sqrt(E<w, a+>^2 E<w, a++>^2)`` of the part ``a`` (``"sparse"``: ``M z``, ``"dense"``: ``xi``)
        in closed form; ``None`` without variance along ``w``."""
    def monte_carlo(
        self, model: SparseCodingModel, directions: ArrayLike, n_samples: int = 20000, seed: int = 0, component: str = "sparse"
    ) -> list[tuple[float, float] | None]:
        """The Monte Carlo ``rho`` of every row of ``directions`` (``k x d1``, or one ``d1`` vector) with its
        delta-method standard error, from ``n_samples`` positive pairs."""

class Objective(Protocol):
    """Your own objective: called with the ``V`` representations (``B x m`` float32 arrays), it returns
    ``L`` and ``dL/dz_k`` for each view (``B x m``, float32 or float64). Optional attributes:
    ``n_views`` (default 2) and ``label`` (default: the registered kind, or the class name of one
    passed to :func:`train`)."""

    def __call__(self, views: list[NDArray[np.float32]]) -> tuple[float, Sequence[NDArray[Any]]]: ...

class AugmentationFunction(Protocol):
    """Your own augmentation: called with a :class:`Batch` and a seed for its randomness
    (``numpy.random.default_rng(seed)``), it returns ``V`` views, each an ``n x d1`` array or a
    ``(sparse, dense)`` pair of them (parts make the decoupling statistics apply). Optional
    attributes: ``n_views`` (default 2) and ``label``."""

    def __call__(self, batch: Batch, seed: int) -> Sequence[NDArray[Any] | tuple[NDArray[Any], NDArray[Any]]]: ...

def register_objective(kind: str, factory: Callable[..., Objective], defaults: Mapping[str, Any] | None = None) -> None:
    """Names your objective in configs and sweeps: ``objective = { kind = "KIND", ... }`` calls
    ``factory(**fields)`` (the table's fields overlaid on ``defaults``)."""

def register_augmentation(kind: str, factory: Callable[..., AugmentationFunction], defaults: Mapping[str, Any] | None = None) -> None:
    """Names your augmentation in configs and sweeps, as :func:`register_objective`."""

def registered() -> dict[str, list[str]]:
    """The kinds registered from Python: ``{"objective": [...], "augmentation": [...]}``."""

class Run:
    """A trained run: what ``decouple run`` writes in a run folder, in memory."""

    config: dict[str, Any]
    """The resolved config as a config file would write it: the training fields and the ``evaluation`` table."""
    hash: str
    label: str
    status: str
    """``"ok"``, or ``"failed"`` (diverged or not evaluated; see :attr:`error`)."""
    error: str | None
    weights: NDArray[np.float32] | None
    """``W``, ``m x d1`` (one row per neuron); ``None`` for a run that did not train to the end."""
    thresholds: NDArray[np.float32] | None
    """``b``, ``m``; ``None`` as :attr:`weights`."""
    dictionary: NDArray[np.float32] | None
    """``M`` (``d1 x d``) on the data model, else ``None``."""
    state: dict[str, NDArray[Any]]
    """The objective's state by name (a predictor, an EMA target, ...)."""
    history: dict[str, NDArray[Any]]
    """The logged steps as columns: ``step``, ``loss``, ``median_best``, ``min_best``, ...; ``best_per_feature`` is ``steps x d``."""
    report: dict[str, Any] | None
    """``summary.json``'s ``report`` (the data model) or ``sample_report`` (a data file)."""
    summary: dict[str, Any] | None
    """The whole ``summary.json`` (``None`` for a run trained in memory until :meth:`save`)."""
    dir: str | None
    """The run folder it was loaded from or saved to."""
    def save(self, dir: str | PathLike[str]) -> str:
        """Writes the run folder ``decouple run`` writes (config, metrics, checkpoint, ``.npy`` files, plots, summary)."""

def train(
    config: Config | None = None,
    *,
    seed: int | None = None,
    threads: int | None = None,
    objective: Objective | None = None,
    augmentation: AugmentationFunction | None = None,
    on_log: Callable[[dict[str, Any]], None] | None = None,
    sets: Sequence[str] = (),
    progress: bool = False,
) -> Run:
    """Trains and evaluates one run in memory (no folder; :meth:`Run.save` writes one).

    ``objective`` / ``augmentation`` replace the config's with your own (named
    by their ``label``); ``on_log`` gets every logged step as a dict (a line
    of ``metrics.jsonl``). The same config and seed give the same bits as ``decouple run``.
    """

def load_run(dir: str | PathLike[str]) -> Run:
    """Reads a complete run folder (any written by ``decouple run``, ``sweep`` or :meth:`Run.save`)."""

def run(
    config: str | PathLike[str],
    *,
    sets: Sequence[str] = (),
    out: str | PathLike[str] | None = None,
    force: bool = False,
    threads: int | None = None,
    stale: str = "refuse",
    progress: bool = True,
) -> Run:
    """``decouple run``: trains into a run folder (default ``results/runs/STEM-HASH8``) and returns it;
    a complete folder of the same config is kept. ``stale`` is ``"refuse"``, ``"rerun"`` or ``"accept"``."""

def sweep(
    config: str | PathLike[str],
    *,
    jobs: int | None = None,
    shard: tuple[int, int] | None = None,
    out: str | PathLike[str] | None = None,
    threads: int | None = None,
    stale: str = "refuse",
    progress: bool = True,
) -> str:
    """``decouple sweep``: a grid of runs x seeds; complete runs are skipped. Returns the sweep folder."""

def reproduce(
    *,
    quick: bool = False,
    only: Sequence[str] = (),
    seeds: int | None = None,
    out: str | PathLike[str] = "results",
    jobs: int | None = None,
    threads: int | None = None,
    progress: bool = True,
) -> bool:
    """``decouple reproduce``: the experiments, REPORT.md and plots; ``True`` when no claim fails."""

def analyze(dir: str | PathLike[str]) -> dict[str, Any]:
    """``decouple analyze``: recomputes the report of a run folder from its saved network (written to
    ``analysis.json``) and returns it: the same keys as :attr:`Run.report`."""

def compare(dirs: Sequence[str | PathLike[str]], *, out: str | PathLike[str] = "compare.svg") -> str:
    """``decouple compare``: the folders side by side (returned as the printed table) and their curves in ``out``."""

def evaluate(
    weights: ArrayLike, thresholds: ArrayLike | None = None, *, config: Config | None = None, seed: int | None = None
) -> dict[str, Any]:
    """The full report of a run (``summary.json``'s ``report``) for any weights ``W`` (``m x d1``) with
    thresholds ``b`` (default 0), on the data, augmentation and evaluation settings of ``config`` at ``seed``."""

def alignment(weights: ArrayLike, dictionary: ArrayLike) -> NDArray[np.float64]:
    """``|cos(w_i, M_j)|``, ``m x d``."""

def recovery(weights: ArrayLike, dictionary: ArrayLike, threshold: float = 0.9) -> dict[str, Any]:
    """``best_j = max_i |cos(w_i, M_j)|`` per feature, its median, min, max and the count ``>= threshold``."""

def purity(weights: ArrayLike, dictionary: ArrayLike, threshold: float = 0.3) -> dict[str, Any]:
    """Per neuron: ``max_j cos^2(w_i, M_j) / sum_j cos^2(w_i, M_j)`` and the features above ``threshold`` of its best."""

def sparse_energy(weights: ArrayLike, dictionary: ArrayLike) -> dict[str, Any]:
    """``||P_M w_i||^2 / ||w_i||^2`` per neuron, its mean and its ``||w_i||^2``-weighted mean."""

def covariance_spectrum(features: ArrayLike) -> NDArray[np.float64]:
    """The eigenvalues of the features' covariance (``n x m``), largest first."""

def effective_rank(features: ArrayLike) -> float:
    """``exp(H(p))``, ``p`` the normalised covariance spectrum of the features (``n x m``)."""

def probe(
    train_features: ArrayLike,
    train_labels: ArrayLike,
    test_features: ArrayLike,
    test_labels: ArrayLike,
    *,
    lambda_choice: Mapping[str, Any] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """A logistic probe on labels in ``{0, 1}`` whose L2 strength is 5-fold cross-validated on the training
    split (``lambda_choice = {"kind": "Fixed", "lambda": 1e-3}`` fixes it); test accuracy and loss."""

def decoupling_meter(
    directions: ArrayLike, thresholds: ArrayLike, first: ArrayLike, second: ArrayLike
) -> list[dict[str, Any]]:
    """For every direction ``w_j`` (row of ``k x d1``) with threshold ``b_j``: the correlation of
    ``S_b(<w, x+>)`` and ``S_b(<w, x++>)`` over the pairs of views ``first``, ``second`` (``n x d1``), with jackknife errors."""

def linear_oracle(cross: ArrayLike, second_moment: ArrayLike, k: int) -> dict[str, Any]:
    """The top-``k`` generalised eigenvectors of ``(cross, second_moment)``: what a linear encoder can learn at best."""
