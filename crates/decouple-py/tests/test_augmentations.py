"""The built-in augmentations (docs/model.md §2 and §8): views part by part, as the source defines them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import decouple

#: d1 = 64 = 8 x 8, so that the image augmentation applies to the model's samples.
MODEL = decouple.SparseCodingModel(d=8, d1=64, latent={"kind": "Bernoulli", "p": 0.25}, seed=0)
N = 300

#: Every built-in kind with its fields, and the number of views it makes.
BUILT_INS: list[tuple[dict[str, Any], int]] = [
    ({"kind": "Identity"}, 2),
    ({"kind": "ComplementaryMask", "keep": 0.5}, 2),
    ({"kind": "ComplementaryMask", "keep": 0.3}, 2),
    ({"kind": "IndependentMask", "keep": 0.5}, 2),
    ({"kind": "IndependentMask", "keep": 0.4, "rescale": False, "views": 3}, 3),
    ({"kind": "GaussianNoise", "sigma_a": 0.5}, 2),
    ({"kind": "Image", "height": 8, "width": 8, "shift": 1, "contrast": 0.4, "brightness": 0.4, "cutout": 3}, 2),
]


@pytest.fixture(scope="module")
def batch() -> decouple.Batch:
    return MODEL.sample(N, seed=1)


def views_of(config: dict[str, Any], batch: decouple.Batch, seed: int = 0) -> list[decouple.View]:
    return decouple.Augmentation(config).views(batch, seed=seed)


@pytest.mark.parametrize(("config", "n_views"), BUILT_INS, ids=lambda value: str(value.get("kind")) if isinstance(value, dict) else "")
def test_every_built_in_makes_its_views_part_by_part(config: dict[str, Any], n_views: int, batch: decouple.Batch) -> None:
    augmentation = decouple.Augmentation(config)
    assert augmentation.n_views == n_views
    assert augmentation.config["kind"] == config["kind"]
    assert augmentation.label
    views = augmentation.views(batch, seed=4)
    assert len(views) == n_views
    for view in views:
        for part in (view.x, view.sparse, view.dense):
            assert part.dtype == np.float32 and part.shape == (N, 64) and part.flags.c_contiguous
        np.testing.assert_allclose(view.x, view.sparse + view.dense, rtol=1e-5, atol=1e-6)
    same = augmentation.views(batch, seed=4)
    assert all(np.array_equal(a.x, b.x) for a, b in zip(views, same))


def test_the_kind_alone_or_with_keywords() -> None:
    assert decouple.Augmentation("Identity").n_views == 2
    assert decouple.Augmentation("ComplementaryMask", keep=0.3).config["keep"] == 0.3
    assert decouple.Augmentation("IndependentMask", keep=0.5, views=4).n_views == 4


def test_identity_views_are_the_sample(batch: decouple.Batch) -> None:
    for view in views_of({"kind": "Identity"}, batch):
        assert np.array_equal(view.x, batch.x)
        assert np.array_equal(view.sparse, batch.sparse) and np.array_equal(view.dense, batch.dense)


def test_complementary_half_masks_split_the_coordinates(batch: decouple.Batch) -> None:
    """``x+ = D x / q``, ``x++ = (I - D) x / (1 - q)``: at ``q = 1/2`` the two views add up to ``2 x`` exactly."""
    first, second = views_of({"kind": "ComplementaryMask", "keep": 0.5}, batch)
    assert np.array_equal(first.x + second.x, 2 * batch.x)
    assert not (first.x * second.x).any()
    kept = first.x != 0
    assert abs(kept.mean() - 0.5) < 0.01
    assert np.array_equal(first.sparse, np.where(kept, 2 * batch.sparse, 0))
    assert np.array_equal(second.dense, np.where(kept, 0, 2 * batch.dense))


def test_complementary_masks_rescale_each_view(batch: decouple.Batch) -> None:
    """At ``q = 0.3``: ``q x+ + (1 - q) x++ = x``."""
    first, second = views_of({"kind": "ComplementaryMask", "keep": 0.3}, batch)
    np.testing.assert_allclose(0.3 * first.x.astype(np.float64) + 0.7 * second.x, batch.x, rtol=1e-6, atol=1e-6)
    assert abs((first.x != 0).mean() - 0.3) < 0.01


def test_independent_masks_keep_each_coordinate_or_zero_it(batch: decouple.Batch) -> None:
    views = views_of({"kind": "IndependentMask", "keep": 0.4, "rescale": False, "views": 3}, batch)
    masks = []
    for view in views:
        kept = view.x != 0
        assert np.array_equal(view.x, np.where(kept, batch.x, 0))
        masks.append(kept)
        assert abs(kept.mean() - 0.4) < 0.01
    assert abs((masks[0] & masks[1]).mean() - 0.16) < 0.01  # independent draws
    rescaled = views_of({"kind": "IndependentMask", "keep": 0.5}, batch)[0]
    assert np.array_equal(rescaled.x, np.where(rescaled.x != 0, 2 * batch.x, 0))


def test_gaussian_noise_is_added_to_the_dense_part(batch: decouple.Batch) -> None:
    first, second = views_of({"kind": "GaussianNoise", "sigma_a": 0.5}, batch)
    for view in (first, second):
        assert np.array_equal(view.sparse, batch.sparse)
        noise = view.dense.astype(np.float64) - batch.dense
        assert abs(noise.std() - 0.5) < 0.01 and abs(noise.mean()) < 0.02
    assert abs(np.corrcoef((first.dense - batch.dense).ravel(), (second.dense - batch.dense).ravel())[0, 1]) < 0.02


def test_a_cutout_zeroes_one_square(batch: decouple.Batch) -> None:
    """``Image`` with only a cutout: each view is the sample with one 3 x 3 square set to 0."""
    for view in views_of({"kind": "Image", "height": 8, "width": 8, "cutout": 3}, batch):
        changed = view.x != batch.x
        assert np.array_equal(view.x[changed], np.zeros(changed.sum(), np.float32))
        assert ((view.x == 0).sum(axis=1) == 9).all()  # the samples have no zero coordinate (dense noise)


def test_views_of_a_plain_array(batch: decouple.Batch) -> None:
    first, second = decouple.Augmentation("ComplementaryMask", keep=0.5).views(batch.x, seed=0)
    assert np.array_equal(first.x + second.x, 2 * batch.x)
    # A plain array is Batch(x): the whole sample unexplained (dense), no sparse part.
    assert np.array_equal(first.dense, first.x) and not first.sparse.any()


def test_a_non_contiguous_float64_batch_gives_the_same_views(batch: decouple.Batch) -> None:
    wide = np.zeros((N, 128))
    wide[:, ::2] = batch.x
    augmentation = decouple.Augmentation("ComplementaryMask", keep=0.5)
    expected = augmentation.views(batch.x, seed=3)
    for got, want in zip(augmentation.views(wide[:, ::2], seed=3), expected):
        assert np.array_equal(got.x, want.x)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"kind": "ComplementaryMask", "keep": 1.5}, "keep"),
        ({"kind": "GaussianNoise", "sigma_a": -1.0}, "sigma_a"),
        ({"kind": "IndependentMask", "keep": 0.5, "views": 1}, "views"),
        ({"kind": "ComplementaryMask", "kep": 0.5}, "kep"),
        ({"kind": "NoSuchAugmentation"}, "NoSuchAugmentation"),
    ],
)
def test_a_bad_augmentation_names_the_field(config: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        decouple.Augmentation(config)
