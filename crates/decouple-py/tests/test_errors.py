"""Bad input is refused with a ValueError naming it; errors of one's own code reach the caller with the step."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import decouple
from decouple.objectives import InfoNce

W = np.random.default_rng(0).normal(size=(16, 64)).astype(np.float32)
M = decouple.SparseCodingModel(d=8, d1=64, seed=0).M
#: The short setting of the error tests (the errors come within the first steps).
SHORT = ("steps=20", "log_every=5")


def with_nan(array: np.ndarray) -> np.ndarray:
    broken = np.array(array, dtype=np.float64)
    broken.flat[3] = np.nan
    return broken


def the_text(error: BaseException) -> str:
    """The message of an exception and its notes (where Python >= 3.11 keeps the step)."""
    return "\n".join([str(error), *getattr(error, "__notes__", [])])


# --- arrays -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: decouple.alignment(W.ravel(), M), "weights"),
        (lambda: decouple.alignment(W, M[0]), "dictionary"),
        (lambda: decouple.alignment(with_nan(W), M), "weights"),
        (lambda: decouple.alignment(W, with_nan(M)), "dictionary"),
        (lambda: decouple.recovery(W, M[:32]), "dictionary|weights"),
        (lambda: decouple.sparse_energy(W[None], M), "weights"),
        (lambda: decouple.effective_rank(np.zeros(5)), "features"),
        (lambda: decouple.covariance_spectrum(with_nan(np.ones((5, 3)))), "features"),
        (lambda: decouple.Batch(np.zeros(4)), "x"),
        (lambda: decouple.Batch(np.zeros((3, 4)), sparse=np.zeros((3, 5)), dense=np.zeros((3, 4))), "sparse"),
        (lambda: decouple.Batch(np.zeros((3, 4)), sparse=np.ones((3, 4)), dense=np.ones((3, 4))), "x"),
        (lambda: decouple.Batch(with_nan(np.zeros((3, 4)))), "x"),
        (lambda: decouple.Samples(with_nan(np.zeros((5, 4)))), "source"),
        (lambda: decouple.Samples(np.zeros((5, 4)), labels=np.zeros(4, np.int64)), "labels"),
        (lambda: decouple.evaluate(W, np.zeros(15), config={"data": {"d": 8, "d1": 64}}), "thresholds"),
        (lambda: decouple.evaluate(W, with_nan(np.zeros(16)), config={"data": {"d": 8, "d1": 64}}), "thresholds"),
        (lambda: decouple.decoupling_meter(W, np.zeros(3), W, W), "thresholds"),
        (lambda: decouple.Augmentation("Identity").views(np.zeros(8)), "batch"),
    ],
)
def test_a_bad_array_is_a_value_error_naming_the_argument(call: Any, argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        call()


def test_a_nan_direction_is_named() -> None:
    model = decouple.SparseCodingModel(d=8, d1=64, seed=0)
    augmentation = decouple.Augmentation("ComplementaryMask", keep=0.5)
    with pytest.raises(ValueError, match="directions"):
        augmentation.monte_carlo(model, with_nan(np.ones((2, 64))), n_samples=100)
    with pytest.raises(ValueError, match=r"\bw\b"):
        augmentation.closed_form(model, np.ones(63))


def test_float64_and_non_contiguous_arrays_give_the_same_results() -> None:
    expected = decouple.alignment(W, M)
    wide = np.zeros((16, 128), np.float64)
    wide[:, ::2] = W
    assert np.array_equal(decouple.alignment(W.astype(np.float64), M.astype(np.float64)), expected)
    assert np.array_equal(decouple.alignment(wide[:, ::2], np.asfortranarray(M)), expected)
    assert np.array_equal(decouple.alignment(W.T.copy().T, M), expected)


# --- configs ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        ("network.width=0", "network.width"),
        ("optimizer.learning_rate=-1.0", "optimizer.learning_rate"),
        ("network.depth=2", "network.depth"),
        ("augmentation.keep=1.5", "augmentation.keep"),
        ("objective.kind=NoSuchObjective", "NoSuchObjective"),
    ],
)
def test_an_invalid_config_field_is_a_value_error_naming_it(small: Path, edit: str, field: str) -> None:
    with pytest.raises(ValueError, match=re.escape(field)):
        decouple.train(small, sets=[edit])


def test_an_invalid_config_mapping_is_named() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        decouple.train({"batch_size": 1})
    with pytest.raises(ValueError, match="d1"):
        decouple.train({"data": {"d": 8, "d1": 4}})


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises((ValueError, OSError, decouple.DecoupleError), match=re.escape("nowhere.toml")):
        decouple.train(tmp_path / "nowhere.toml")


# --- objectives of one's own --------------------------------------------------


class Broken(InfoNce):
    """InfoNCE whose gradient of view 1 is spoiled by ``spoil`` (from the first call on)."""

    def __init__(self, spoil: Any) -> None:
        super().__init__()
        self.spoil = spoil

    def __call__(self, views: Any) -> tuple[float, list[Any]]:
        loss, gradients = super().__call__(views)
        gradients[1] = self.spoil(gradients[1])
        return loss, gradients


def nan_at_first(gradient: np.ndarray) -> np.ndarray:
    gradient = gradient.copy()
    gradient[0, 0] = np.nan
    return gradient


@pytest.mark.parametrize(
    "spoil",
    [
        lambda gradient: gradient[:, :-1],  # wrong shape
        lambda gradient: gradient[None],  # wrong ndim
        lambda gradient: np.zeros(gradient.shape, np.int64),  # wrong dtype
        nan_at_first,  # not finite
        lambda gradient: np.full_like(gradient, np.inf),  # not finite
    ],
    ids=["shape", "ndim", "int", "nan", "inf"],
)
def test_a_bad_gradient_names_the_view_and_the_step(small: Path, spoil: Any) -> None:
    with pytest.raises(ValueError) as caught:
        decouple.train(small, sets=SHORT, objective=Broken(spoil))
    text = the_text(caught.value)
    assert re.search(r"\bview 1\b", text), text
    assert re.search(r"\bstep 0\b", text), text


def test_a_wrong_number_of_gradients_is_named(small: Path) -> None:
    def one_gradient(views: list[np.ndarray]) -> tuple[float, list[np.ndarray]]:
        return 0.0, [np.zeros_like(views[0])]

    with pytest.raises(ValueError) as caught:
        decouple.train(small, sets=SHORT, objective=one_gradient)
    assert re.search(r"\bstep 0\b", the_text(caught.value)), the_text(caught.value)


def test_a_loss_that_is_not_a_number_is_named(small: Path) -> None:
    def text_loss(views: list[np.ndarray]) -> tuple[Any, list[np.ndarray]]:
        return "low", [np.zeros_like(view) for view in views]

    with pytest.raises((ValueError, TypeError)) as caught:
        decouple.train(small, sets=SHORT, objective=text_loss)
    assert re.search(r"\bstep 0\b", the_text(caught.value)), the_text(caught.value)


class Failure(Exception):
    """An error of the user's own code."""


class FailsAtCall(InfoNce):
    """InfoNCE that raises ``error`` at its ``call``-th call.

    Calls 1 and 2 are at step 0 (the step-0 loss, then the first update), call ``k >= 2`` at step ``k - 2``.
    """

    def __init__(self, call: int, error: BaseException) -> None:
        super().__init__()
        self.calls, self.call, self.error = 0, call, error

    def __call__(self, views: Any) -> tuple[float, list[Any]]:
        self.calls += 1
        if self.calls == self.call:
            raise self.error
        return super().__call__(views)


def test_an_exception_of_the_objective_reaches_the_caller_with_the_step(small: Path) -> None:
    with pytest.raises(Failure) as caught:
        decouple.train(small, sets=SHORT, objective=FailsAtCall(5, Failure("from the objective")))
    assert str(caught.value) == "from the objective"
    assert re.search(r"\bstep 3\b", the_text(caught.value)), the_text(caught.value)
    if sys.version_info >= (3, 11):
        assert any("step 3" in note for note in caught.value.__notes__)


def test_an_exception_of_on_log_reaches_the_caller_with_the_step(small: Path) -> None:
    def on_log(record: dict[str, Any]) -> None:
        if record["step"] == 10:
            raise Failure("from on_log")

    with pytest.raises(Failure) as caught:
        decouple.train(small, sets=SHORT, on_log=on_log)
    assert str(caught.value) == "from on_log"
    assert re.search(r"\bstep 10\b", the_text(caught.value)), the_text(caught.value)


def test_an_exception_of_an_augmentation_reaches_the_caller(small: Path) -> None:
    def failing(batch: decouple.Batch, seed: int) -> list[np.ndarray]:
        raise Failure("from the augmentation")

    with pytest.raises(Failure, match="from the augmentation"):
        decouple.train(small, sets=SHORT, augmentation=failing)


def test_a_wrong_view_from_an_augmentation_is_named(small: Path) -> None:
    def narrow(batch: decouple.Batch, seed: int) -> list[np.ndarray]:
        return [batch.x, batch.x[:, :-1]]

    with pytest.raises(ValueError, match=r"view 1"):
        decouple.train(small, sets=SHORT, augmentation=narrow)


def test_a_keyboard_interrupt_in_on_log_stops_training(small: Path) -> None:
    logged: list[int] = []

    def on_log(record: dict[str, Any]) -> None:
        logged.append(record["step"])
        if record["step"] == 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        decouple.train(small, sets=SHORT, on_log=on_log)
    assert logged == [0, 5, 10]


def test_a_keyboard_interrupt_in_the_objective_stops_training(small: Path) -> None:
    objective = FailsAtCall(4, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        decouple.train(small, sets=SHORT, objective=objective)
    assert objective.calls == 4


def test_a_panic_in_the_engine_is_an_exception_not_an_abort() -> None:
    from decouple import _core

    with pytest.raises(RuntimeError, match="panicked .*on purpose"):
        _core._panic_in_engine()
    # The interpreter and the engine go on.
    assert decouple.SparseCodingModel(d=4, d1=8).M.shape == (8, 4)
