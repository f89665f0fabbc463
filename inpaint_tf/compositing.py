"""The two pixel operations every part of the library shares, for NumPy arrays and tensors.

- `fill_holes`: what a model sees, the image with its holes set to a fill value;
- `composite`: what a user gets, known pixels from the image and hole pixels from
  the model (a selection, so known pixels come back bit for bit).

Masks: 1 = hole, 0 = known.

Example:
    >>> import numpy as np
    >>> image, mask = np.full((1, 2, 2, 3), 0.5), np.array([[[[1], [0]], [[0], [0]]]])
    >>> float(fill_holes(image, mask)[0, 0, 0, 0]), float(fill_holes(image, mask)[0, 0, 1, 0])
    (0.0, 0.5)
"""

from __future__ import annotations

import numpy as np


def fill_holes(images, masks, fill_value: float = 0.0):
    """Returns ``images * (1 - masks) + fill_value * masks`` (NumPy or tensors)."""
    return images * (1.0 - masks) + fill_value * masks


def composite(prediction, image, mask):
    """Known pixels from `image`, hole pixels from `prediction` (mask: 1 = hole).

    Known pixels are copied bit-exactly (a selection, not a blend), for NumPy
    arrays and tensors alike. `image` must have the prediction's shape and `mask`
    its shape with one channel, (N, H, W, 1), or none, (N, H, W); other shapes
    raise a `ValueError` (never a broadcast into the wrong pixels). NumPy results
    have the wider dtype of `prediction` and `image`; tensors have the
    prediction's dtype.

    Example:
        >>> out = composite(model_output, images, masks)  # doctest: +SKIP
    """
    if isinstance(prediction, np.ndarray):
        image, mask = np.asarray(image), np.asarray(mask)
        mask = mask[..., None] if mask.ndim == prediction.ndim - 1 else mask
        _check_composite_shapes(prediction.shape, image.shape, mask.shape)
        hole = np.broadcast_to(mask > 0.5, prediction.shape)
        dtype = np.result_type(prediction, image)  # float32 into float64 stays exact
        return np.where(hole, prediction.astype(dtype, copy=False),
                        image.astype(dtype, copy=False))
    import tensorflow as tf

    prediction = tf.convert_to_tensor(prediction)
    image = tf.cast(image, prediction.dtype)
    mask = tf.convert_to_tensor(mask)
    if mask.shape.rank is not None and mask.shape.rank == prediction.shape.rank - 1:
        mask = mask[..., None]
    if None not in (prediction.shape.rank, image.shape.rank, mask.shape.rank):
        _check_composite_shapes(prediction.shape, image.shape, mask.shape)
    hole = tf.broadcast_to(tf.cast(mask, prediction.dtype) > 0.5, tf.shape(prediction))
    return tf.where(hole, prediction, image)


def _check_composite_shapes(prediction, image, mask) -> None:
    """Raises unless the (possibly partly unknown) shapes fit; None matches anything."""

    def fits(a, b):
        return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))

    prediction, image, mask = (tuple(s) for s in (prediction, image, mask))
    if not fits(image, prediction):
        raise ValueError(f"`image` must have the shape of `prediction` {prediction}. "
                         f"Received: image.shape={image}")
    if not fits(mask[:-1], prediction[:-1]) or mask[-1:] not in ((1,), prediction[-1:],
                                                                  (None,)):
        raise ValueError(f"`mask` must have shape {prediction[:-1] + (1,)} (1 = hole). "
                         f"Received: mask.shape={mask}")
