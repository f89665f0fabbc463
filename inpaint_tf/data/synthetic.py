"""Synthetic images: smooth stand-ins so that notebooks and tests run offline in seconds."""

from __future__ import annotations

import numpy as np

from inpaint_tf.data.splits import Split, Subset


def synthetic_split(n_train: int = 64, n_validation: int = 16, n_test: int = 16,
                    size: int = 32, seed: int = 0) -> Split:
    """Smooth random images (gradients and blobs) in a `Split`: for smoke runs and tests.

    Not a dataset to learn from; a stand-in so that notebooks and tests run offline
    in seconds.

    Example:
        >>> split = synthetic_split(n_train=8, n_validation=2, n_test=2)
        >>> split.train.images.shape
        (8, 32, 32, 3)
    """
    rng = np.random.default_rng(seed)
    total = n_train + n_validation + n_test
    y, x = np.mgrid[0:size, 0:size] / max(size - 1, 1)
    slopes = rng.uniform(-1, 1, (total, 2, 3))
    offsets = rng.uniform(0.2, 0.8, (total, 1, 1, 3))
    centres = rng.uniform(0.2, 0.8, (total, 2))
    blobs = np.exp(-((y - centres[:, 0, None, None]) ** 2 + (x - centres[:, 1, None, None]) ** 2)
                   / rng.uniform(0.01, 0.08, (total, 1, 1)))
    images = (offsets + 0.3 * slopes[:, 0, None, None, :] * y[..., None]
              + 0.3 * slopes[:, 1, None, None, :] * x[..., None]
              + 0.4 * blobs[..., None] * rng.uniform(-1, 1, (total, 1, 1, 3)))
    images = np.round(255 * np.clip(images, 0, 1)).astype(np.uint8)
    labels = rng.integers(0, 10, total)
    bounds = np.cumsum([0, n_train, n_validation, n_test])
    return Split(*(Subset(images[a:b], labels[a:b]) for a, b in zip(bounds[:-1], bounds[1:])))
