"""The container every loader returns: training, validation and test subsets."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Subset(NamedTuple):
    """Images (uint8, N x H x W x 3) and integer labels (N,)."""

    images: np.ndarray
    labels: np.ndarray


class Split(NamedTuple):
    """Training, validation and test subsets; unpacks like `keras.datasets`."""

    train: Subset
    validation: Subset
    test: Subset
