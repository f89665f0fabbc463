"""Input checks shared by every public entry point that takes images or masks.

One rule set, one wording: errors name the argument, say what was expected and
repeat what was received ("Received: images.shape=(32, 32)").
"""

from __future__ import annotations

import numpy as np

# Float images may carry round-off just outside [0, 1] (a resize, a sum of
# weights); anything beyond this is a caller's mistake, not round-off.
_RANGE_TOLERANCE = 1e-3


def as_image_batch(images, name: str = "images", channels: int = 3) -> np.ndarray:
    """Returns `images` checked as (N, H, W, channels): uint8 as it is (no copy), float
    as float32 in [0, 1].

    Float input must already lie in [0, 1]; NaN, Inf, other ranks, channel counts or
    dtypes raise `ValueError`.
    """
    array = np.asarray(images)
    if array.ndim != 4:
        raise ValueError(
            f"`{name}` must be a batch of shape (N, H, W, {channels}). "
            f"Received: {name}.shape={array.shape}"
        )
    if array.shape[-1] != channels:
        raise ValueError(
            f"`{name}` must have {channels} channels (RGB); grayscale and RGBA "
            f"images must be converted first. Received: {name}.shape={array.shape}"
        )
    if array.shape[0] == 0:
        raise ValueError(f"`{name}` is empty. Received: {name}.shape={array.shape}")
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.floating):
        raise ValueError(
            f"`{name}` must be uint8 (0..255) or float in [0, 1]. "
            f"Received: {name}.dtype={array.dtype}"
        )
    array = array.astype(np.float32, copy=False)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` contains NaN or Inf values.")
    low, high = float(array.min()), float(array.max())
    if low < -_RANGE_TOLERANCE or high > 1.0 + _RANGE_TOLERANCE:
        raise ValueError(
            f"`{name}` must lie in [0, 1] when given as floats (uint8 images are "
            f"scaled automatically). Received: values in [{low:.4g}, {high:.4g}]"
        )
    return np.clip(array, 0.0, 1.0)


def as_float_images(images, name: str = "images", channels: int = 3) -> np.ndarray:
    """Returns `images` as float32 (N, H, W, channels) in [0, 1].

    uint8 input is scaled by 1/255 (the documented conversion). Float input must
    already lie in [0, 1]; NaN, Inf, other ranks, channel counts or dtypes raise
    `ValueError` (the checks of `as_image_batch`).
    """
    array = as_image_batch(images, name, channels)
    if array.dtype == np.uint8:
        return array.astype(np.float32) / np.float32(255.0)
    return array


def as_binary_masks(masks, name: str = "masks", like: np.ndarray | None = None) -> np.ndarray:
    """Returns hole masks as float32 (N, H, W, 1) with values in {0, 1} (1 = hole).

    Accepts (N, H, W) or (N, H, W, 1) arrays of bool, integer or float dtype whose
    values are exactly 0 or 1. When `like` (an image batch) is given, the batch
    size and spatial size must match it.
    """
    array = np.asarray(masks)
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4 or array.shape[-1] != 1:
        raise ValueError(
            f"`{name}` must have shape (N, H, W) or (N, H, W, 1) with 1 = hole. "
            f"Received: {name}.shape={np.asarray(masks).shape}"
        )
    if array.dtype != np.bool_ and not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"`{name}` must be numeric or bool. Received: {name}.dtype={array.dtype}")
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` contains NaN or Inf values.")
    if array.dtype != np.bool_ and not np.all((array == 0) | (array == 1)):
        values = np.unique(array)[:5]
        raise ValueError(
            f"`{name}` must be binary (0 = known, 1 = hole). Received values such as "
            f"{values.tolist()}; threshold them first (for mask images, any non-zero "
            "pixel is a hole: see `inpaint_tf.masks.load_mask_image`)."
        )
    if like is not None:
        expected = tuple(like.shape[:3])
        if tuple(array.shape[:3]) != expected:
            raise ValueError(
                f"`{name}` must match the images' batch and spatial size {expected}. "
                f"Received: {name}.shape={array.shape}"
            )
    return array.astype(np.float32)


def is_int(value) -> bool:
    """Whether `value` is an integer (Python's or NumPy's), a bool not counting as one."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_positive_int(value, name: str) -> int:
    """Returns `value` as an int, or raises a `ValueError` unless it is >= 1."""
    if not is_int(value) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def check_non_negative_int(value, name: str) -> int:
    """Returns `value` as an int, or raises a `ValueError` unless it is >= 0."""
    if not is_int(value) or value < 0:
        raise ValueError(f"`{name}` must be a non-negative integer. Received: {name}={value!r}")
    return int(value)
