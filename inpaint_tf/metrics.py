"""Metrics: the study's MAE, MSE and Dice, their hole-only versions, PSNR and SSIM.

Every function takes images in [0, 1] of shape (N, H, W, C) and an optional hole
`mask` (N, H, W, 1), 1 = hole; with a mask, sums run over hole pixels only
(all channels). Figures are pooled over the whole batch, as the study pooled
them: MAE = Σ|y - ŷ| / count, Dice = 2·Σ(y·ŷ) / Σ(y + ŷ).

Dice on pixel values is not 1 for a perfect reconstruction of a natural image:
``dice(y, y) = Σy² / Σy`` (about 0.609 on the CIFAR-10 test set). Report
`dice_ceiling` beside every Dice figure.

Hole PSNR is ``10·log10(1 / hole MSE)`` with the MSE pooled over every hole
pixel of the set. Hole SSIM weights each SSIM window (Gaussian, 11 x 11, σ 1.5,
as ``tf.image.ssim``) by the Gaussian-weighted share of hole pixels it covers:
windows far from the hole do not count, and an all-hole mask gives
``tf.image.ssim``.

Example:
    >>> import numpy as np
    >>> from inpaint_tf import metrics
    >>> y = np.full((1, 4, 4, 3), 0.5, np.float32); p = y + 0.1
    >>> round(metrics.mae(y, p), 4), round(metrics.mse(y, p), 4)
    (0.1, 0.01)
"""

from __future__ import annotations

import math

import keras
import numpy as np

SSIM_FILTER_SIZE = 11
"""Side of SSIM's Gaussian window, in pixels."""
SSIM_FILTER_SIGMA = 1.5
"""Standard deviation of SSIM's Gaussian window, in pixels."""
_SSIM_K1, _SSIM_K2 = 0.01, 0.03


def _arrays(y_true, y_pred, mask=None):
    y_true = np.asarray(y_true, np.float64)
    y_pred = np.asarray(y_pred, np.float64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same shape. Received: "
                         f"{y_true.shape} and {y_pred.shape}")
    if mask is None:
        return y_true, y_pred, None
    mask = np.asarray(mask, np.float64)
    if mask.ndim == y_true.ndim - 1:
        mask = mask[..., None]
    if mask.shape[:-1] != y_true.shape[:-1] or mask.shape[-1] != 1:
        raise ValueError(f"mask must have shape {y_true.shape[:-1] + (1,)}. "
                         f"Received: {mask.shape}")
    return y_true, y_pred, np.broadcast_to(mask, y_true.shape)


def _pooled_mean(values, weights) -> float:
    if weights is None:
        return float(values.mean())
    total = weights.sum()
    if total == 0:
        return math.nan  # no hole pixel: the hole metric is undefined, not zero
    return float((values * weights).sum() / total)


def mae(y_true, y_pred, mask=None) -> float:
    """Mean absolute error over all pixels, or over hole pixels when `mask` is given."""
    y_true, y_pred, weights = _arrays(y_true, y_pred, mask)
    return _pooled_mean(np.abs(y_true - y_pred), weights)


def mse(y_true, y_pred, mask=None) -> float:
    """Mean squared error over all pixels, or over hole pixels when `mask` is given."""
    y_true, y_pred, weights = _arrays(y_true, y_pred, mask)
    return _pooled_mean((y_true - y_pred) ** 2, weights)


def dice(y_true, y_pred, mask=None) -> float:
    """The study's Dice coefficient on pixel values: 2·Σ(y·ŷ) / Σ(y + ŷ).

    NaN when `mask` has no hole pixel (nothing to score); 1.0 when both images are
    0 on every scored pixel (0/0: they agree perfectly).
    """
    y_true, y_pred, weights = _arrays(y_true, y_pred, mask)
    weights = np.ones_like(y_true) if weights is None else weights
    if weights.sum() == 0:
        return math.nan
    denominator = ((y_true + y_pred) * weights).sum()
    if denominator == 0:
        return 1.0
    return float(2.0 * (y_true * y_pred * weights).sum() / denominator)


def dice_ceiling(y_true, mask=None) -> float:
    """Dice of a perfect reconstruction, ``dice(y, y)``: the best Dice attainable."""
    return dice(y_true, y_true, mask)


def psnr_from_mse(value: float) -> float:
    """PSNR in dB of a mean squared error on [0, 1] images."""
    if math.isnan(value):
        return math.nan
    return math.inf if value == 0 else 10.0 * math.log10(1.0 / value)


def psnr(y_true, y_pred, mask=None) -> float:
    """PSNR in dB. Whole image: mean of ``tf.image.psnr`` per image. With `mask`:
    from the MSE pooled over hole pixels."""
    if mask is not None:
        return psnr_from_mse(mse(y_true, y_pred, mask))
    import tensorflow as tf

    y_true, y_pred, _ = _arrays(y_true, y_pred)
    values = tf.image.psnr(tf.constant(y_true, tf.float32), tf.constant(y_pred, tf.float32), 1.0)
    return float(np.mean(values.numpy()))


def ssim(y_true, y_pred, mask=None) -> float:
    """SSIM. Whole image: mean of ``tf.image.ssim``. With `mask`: hole-weighted SSIM
    (see the module docstring)."""
    numerator, denominator = ssim_sums(y_true, y_pred, mask)
    return math.nan if denominator == 0 else numerator / denominator


def ssim_sums(y_true, y_pred, mask=None) -> tuple[float, float]:
    """Weighted SSIM-map sum and weight sum, to pool SSIM over many batches."""
    import tensorflow as tf

    y_true, y_pred, _ = _arrays(y_true, y_pred)
    if min(y_true.shape[1:3]) < SSIM_FILTER_SIZE:
        raise ValueError(f"SSIM needs images of at least {SSIM_FILTER_SIZE}x"
                         f"{SSIM_FILTER_SIZE} pixels. Received: {y_true.shape}")
    ssim_map = _ssim_map(tf.constant(y_true, tf.float32), tf.constant(y_pred, tf.float32))
    if mask is None:
        return float(tf.reduce_sum(ssim_map)), float(tf.size(ssim_map))
    mask = np.asarray(mask, np.float32)
    mask = mask[..., None] if mask.ndim == 3 else mask
    weights = _gaussian_filter(tf.constant(mask))
    return (float(tf.reduce_sum(ssim_map * weights)),
            float(tf.reduce_sum(weights)) * int(ssim_map.shape[-1]))


def _gaussian_kernel(channels: int):
    import tensorflow as tf

    coords = tf.range(SSIM_FILTER_SIZE, dtype=tf.float32) - (SSIM_FILTER_SIZE - 1) / 2.0
    weights = tf.nn.softmax(-(coords**2) / (2.0 * SSIM_FILTER_SIGMA**2))
    kernel = weights[:, None] * weights[None, :]
    return tf.tile(kernel[:, :, None, None], [1, 1, channels, 1])


def _gaussian_filter(images):
    import tensorflow as tf

    kernel = _gaussian_kernel(int(images.shape[-1]))
    return tf.nn.depthwise_conv2d(images, kernel, [1, 1, 1, 1], "VALID")


def _ssim_map(y_true, y_pred):
    """Per-window, per-channel SSIM, defined exactly as ``tf.image.ssim`` defines it."""
    c1, c2 = _SSIM_K1**2, _SSIM_K2**2
    mean_true, mean_pred = _gaussian_filter(y_true), _gaussian_filter(y_pred)
    luminance = (2.0 * mean_true * mean_pred + c1) / (mean_true**2 + mean_pred**2 + c1)
    covariance = _gaussian_filter(y_true * y_pred) - mean_true * mean_pred
    variances = (_gaussian_filter(y_true**2) - mean_true**2
                 + _gaussian_filter(y_pred**2) - mean_pred**2)
    contrast_structure = (2.0 * covariance + c2) / (variances + c2)
    return luminance * contrast_structure


# --------------------------------------------------------------------------- Keras metrics


class _PooledMetric(keras.metrics.Metric):
    """Pools a per-pixel quantity over all updates; `sample_weight` is a hole mask.

    Pass the hole mask (N, H, W, 1) as `sample_weight` to restrict the metric to
    holes; without it every pixel counts.
    """

    def __init__(self, name: str, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.numerator = self.add_variable(shape=(), initializer="zeros", name="numerator",
                                           dtype="float32")
        self.denominator = self.add_variable(shape=(), initializer="zeros",
                                             name="denominator", dtype="float32")

    def _terms(self, y_true, y_pred):  # returns (numerator term, denominator term)
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None):
        from keras import ops

        y_true = ops.cast(y_true, "float32")
        y_pred = ops.cast(y_pred, "float32")
        top, bottom = self._terms(y_true, y_pred)
        if sample_weight is not None:
            weights = ops.broadcast_to(ops.cast(sample_weight, "float32"), ops.shape(top))
            top, bottom = top * weights, bottom * weights
        self.numerator.assign_add(ops.sum(top))
        self.denominator.assign_add(ops.sum(bottom))

    def result(self):
        from keras import ops

        return ops.divide_no_nan(self.numerator, self.denominator)

    def reset_state(self):
        self.numerator.assign(0.0)
        self.denominator.assign(0.0)


@keras.saving.register_keras_serializable(package="inpaint_tf")
class PooledMAE(_PooledMetric):
    """The study's MAE pooled over all pixels (or hole pixels via `sample_weight`).

    Example:
        >>> m = PooledMAE(); m.update_state(y, y_pred, sample_weight=hole_mask)  # doctest: +SKIP
    """

    def __init__(self, name: str = "mae", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def _terms(self, y_true, y_pred):
        from keras import ops

        return ops.abs(y_true - y_pred), ops.ones_like(y_true)


@keras.saving.register_keras_serializable(package="inpaint_tf")
class PooledMSE(_PooledMetric):
    """The study's MSE pooled over all pixels (or hole pixels via `sample_weight`)."""

    def __init__(self, name: str = "mse", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def _terms(self, y_true, y_pred):
        from keras import ops

        return ops.square(y_true - y_pred), ops.ones_like(y_true)


@keras.saving.register_keras_serializable(package="inpaint_tf")
class DiceCoefficient(_PooledMetric):
    """The study's Dice, 2·Σ(y·ŷ) / Σ(y + ŷ), pooled (hole-only via `sample_weight`)."""

    def __init__(self, name: str = "dice", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def _terms(self, y_true, y_pred):
        return 2.0 * y_true * y_pred, y_true + y_pred
