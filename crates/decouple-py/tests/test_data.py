"""The data: the sparse-coding model ``x = M diag(alpha) z + xi`` and real samples from a file or an array."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import decouple

#: A small data model (the ``[data]`` table of tests/configs/small.toml).
DATA: dict[str, Any] = {"d": 8, "d1": 64, "latent": {"kind": "Bernoulli", "p": 0.25}}


def assert_float32_matrix(array: np.ndarray, shape: tuple[int, int]) -> None:
    """A C-contiguous float32 array of ``shape``."""
    assert isinstance(array, np.ndarray)
    assert array.dtype == np.float32
    assert array.shape == shape
    assert array.flags.c_contiguous


def test_the_model_has_a_unit_norm_dictionary() -> None:
    model = decouple.SparseCodingModel(DATA, seed=3)
    assert (model.d, model.d1, model.seed) == (8, 64, 3)
    assert_float32_matrix(model.M, (64, 8))
    np.testing.assert_allclose(np.linalg.norm(model.M.astype(np.float64), axis=0), 1.0, atol=1e-6)
    np.testing.assert_allclose(model.M.T.astype(np.float64) @ model.M, np.eye(8), atol=1e-5)  # RandomOrthonormal
    assert model.strengths.dtype == np.float64 and model.strengths.shape == (8,)
    assert model.config["d1"] == 64 and model.config["latent"]["p"] == 0.25


def test_keyword_fields_are_the_config_table() -> None:
    by_table = decouple.SparseCodingModel(DATA, seed=1)
    by_fields = decouple.SparseCodingModel(seed=1, **DATA)
    assert np.array_equal(by_table.M, by_fields.M)


def test_samples_are_sparse_plus_dense() -> None:
    model = decouple.SparseCodingModel(DATA, seed=0)
    batch = model.sample(500, seed=7)
    assert batch.n == 500
    for part in (batch.x, batch.sparse, batch.dense):
        assert_float32_matrix(part, (500, 64))
    assert_float32_matrix(batch.z, (500, 8))
    assert set(np.unique(batch.z)) <= {-1.0, 0.0, 1.0}
    assert np.array_equal(batch.x, batch.sparse + batch.dense)
    expected_sparse = batch.z.astype(np.float64) @ (model.M.astype(np.float64) * model.strengths).T
    np.testing.assert_allclose(batch.sparse, expected_sparse, atol=1e-5)
    assert abs(batch.dense.std() - 0.25) < 0.01  # isotropic sigma = 0.25 (the default)
    assert abs(np.abs(batch.z).mean() - 0.25) < 0.02  # Bernoulli p = 0.25


def test_the_same_seeds_give_the_same_arrays() -> None:
    first, second = decouple.SparseCodingModel(DATA, seed=5), decouple.SparseCodingModel(DATA, seed=5)
    assert np.array_equal(first.M, second.M)
    assert not np.array_equal(first.M, decouple.SparseCodingModel(DATA, seed=6).M)
    a, b = first.sample(64, seed=2), second.sample(64, seed=2)
    for part in ("x", "z", "sparse", "dense"):
        assert np.array_equal(getattr(a, part), getattr(b, part)), part
    assert not np.array_equal(a.x, first.sample(64, seed=3).x)


def test_the_model_of_a_seed_has_the_dictionary_of_the_run(small_run: decouple.Run) -> None:
    seed = small_run.config["seed"]
    model = decouple.SparseCodingModel(small_run.config["data"], seed=seed)
    assert small_run.dictionary is not None
    assert np.array_equal(model.M, small_run.dictionary)


def test_a_batch_of_a_plain_array_is_all_dense() -> None:
    x = np.arange(12, dtype=np.float64).reshape(3, 4)
    batch = decouple.Batch(x)
    assert batch.n == 3
    assert_float32_matrix(batch.x, (3, 4))
    assert np.array_equal(batch.x, x.astype(np.float32))
    assert np.array_equal(batch.dense, batch.x)
    assert not batch.sparse.any()
    assert batch.z.size == 0


def test_a_batch_keeps_given_parts() -> None:
    sparse, dense = np.ones((2, 3), np.float32), np.full((2, 3), 0.5, np.float32)
    batch = decouple.Batch(sparse + dense, sparse=sparse, dense=dense)
    assert np.array_equal(batch.sparse, sparse) and np.array_equal(batch.dense, dense)


def test_samples_from_a_npy_file_and_from_an_array_agree(tmp_path: Path) -> None:
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(50, 6))
    labels = np.arange(50) % 3
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", labels)
    from_file = decouple.Samples(tmp_path / "x.npy", labels=tmp_path / "y.npy")
    from_array = decouple.Samples(x, labels=labels)
    for samples in (from_file, from_array):
        assert (samples.n, samples.d1) == (50, 6)
        assert_float32_matrix(samples.x, (50, 6))
        assert np.array_equal(samples.x, x.astype(np.float32))
        assert samples.labels is not None and samples.labels.dtype == np.int64
        assert np.array_equal(samples.labels, labels)
    assert decouple.Samples(x).labels is None


def test_an_integer_npy_file_is_read_as_float32(tmp_path: Path) -> None:
    x = np.arange(20, dtype=np.int32).reshape(4, 5)
    np.save(tmp_path / "x.npy", x)
    assert np.array_equal(decouple.Samples(str(tmp_path / "x.npy")).x, x.astype(np.float32))


def test_centring_removes_the_mean() -> None:
    x = np.random.default_rng(1).normal(5.0, 1.0, size=(200, 8))
    samples = decouple.Samples(x, preprocess={"centre": True})
    np.testing.assert_allclose(samples.x.astype(np.float64).mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(samples.x, x - x.mean(axis=0), atol=1e-4)


def test_scaling_sets_the_mean_variance() -> None:
    x = np.random.default_rng(2).normal(0.0, 3.0, size=(300, 4))
    samples = decouple.Samples(x, preprocess={"centre": True, "scale": 2.0})
    assert samples.x.astype(np.float64).var(axis=0).mean() == pytest.approx(2.0, rel=1e-2)


def test_an_image_shape_must_fit_the_samples() -> None:
    x = np.zeros((3, 16))
    assert decouple.Samples(x, image=(4, 4)).d1 == 16
    with pytest.raises(ValueError, match="image"):
        decouple.Samples(x, image=(3, 4))
