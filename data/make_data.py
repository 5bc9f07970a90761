"""Makes the real data sets committed under data/ (see data/README.md).

    pip install scikit-learn scikit-image numpy
    python3 data/make_data.py

Writes, deterministically (numpy seed 0):
  data/patches/x.npy  uint8 (16000, 64): 8x8 grey patches of public-domain / CC0
                      photographs shipped by scikit-image, each photograph
                      converted to grey and downscaled 2x (2x2 block means)
  data/digits/x.npy   uint8 (1797, 64): the UCI 8x8 handwritten digits (values 0..16)
  data/digits/labels.npy uint8 (1797,): their classes 0..9
Loading them needs neither Python nor a network: decouple reads the .npy files.
"""

import gzip
import os

import numpy as np
import sklearn
import skimage
import skimage.color
import skimage.data
import skimage.transform

HERE = os.path.dirname(os.path.abspath(__file__))
PATCH = 8
PATCHES = 16000
# Every photograph is public domain or CC0 (licences quoted in data/README.md).
PHOTOGRAPHS = ["astronaut", "camera", "rocket", "coffee", "chelsea", "grass", "gravel"]


def grey(name):
    image = getattr(skimage.data, name)()
    if image.ndim == 3:
        image = skimage.color.rgb2gray(image[..., :3])
    else:
        image = image / 255.0
    return skimage.transform.downscale_local_mean(image, (2, 2))


def patches():
    rng = np.random.default_rng(0)
    per_image = PATCHES // len(PHOTOGRAPHS)
    rows = []
    for index, name in enumerate(PHOTOGRAPHS):
        image = grey(name)
        count = per_image + (PATCHES - per_image * len(PHOTOGRAPHS) if index == 0 else 0)
        top = rng.integers(0, image.shape[0] - PATCH + 1, size=count)
        left = rng.integers(0, image.shape[1] - PATCH + 1, size=count)
        for t, l in zip(top, left):
            rows.append(image[t : t + PATCH, l : l + PATCH].reshape(-1))
    x = np.round(np.clip(np.array(rows), 0.0, 1.0) * 255.0).astype(np.uint8)
    return x[rng.permutation(len(x))]


def digits():
    path = os.path.join(os.path.dirname(sklearn.__file__), "datasets", "data", "digits.csv.gz")
    with gzip.open(path, "rt") as handle:
        table = np.loadtxt(handle, delimiter=",")
    return table[:, :-1].astype(np.uint8), table[:, -1].astype(np.uint8)


def main():
    os.makedirs(os.path.join(HERE, "patches"), exist_ok=True)
    os.makedirs(os.path.join(HERE, "digits"), exist_ok=True)
    x = patches()
    np.save(os.path.join(HERE, "patches", "x.npy"), x)
    digit_x, digit_y = digits()
    assert digit_x.shape == (1797, 64) and digit_x.max() <= 16 and set(digit_y) == set(range(10))
    np.save(os.path.join(HERE, "digits", "x.npy"), digit_x)
    np.save(os.path.join(HERE, "digits", "labels.npy"), digit_y)
    print(f"patches {x.shape} {x.dtype}; digits {digit_x.shape}, labels {digit_y.shape}")
    print(f"made with numpy {np.__version__}, scikit-image {skimage.__version__}, scikit-learn {sklearn.__version__}")


if __name__ == "__main__":
    main()
