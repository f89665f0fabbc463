"""Inpainting images of any size with a trained model: pad, predict, crop, composite.

The library's models are fully convolutional but need a height and width
divisible by their total downsampling factor (16 for the UNets, 4 for the GAN
generator). `inpaint` pads each batch at the bottom and right by mirroring the
image (never tiles), runs the model once, crops back and composites: known
pixels are returned unchanged, bit for bit.

Example:
    >>> from inpaint_tf import inpaint
    >>> filled = inpaint(model, images, masks)  # masks: 1 = hole  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from inpaint_tf._validation import as_binary_masks, as_float_images, check_positive_int
from inpaint_tf.compositing import composite

_DOWNSAMPLING_LAYERS = ("Conv2D", "PartialConv2D", "MaxPooling2D", "AveragePooling2D",
                        "DepthwiseConv2D", "SeparableConv2D")


def size_multiple(model) -> int:
    """The factor a model's input height and width must be divisible by.

    The product of the strides of its downsampling layers (convolutions and
    pooling, nested models included) — right for encoder-decoder networks with
    one downsampling path, such as all models of this library.
    """
    factor = 1
    for layer in _walk_layers(model):
        if type(layer).__name__ not in _DOWNSAMPLING_LAYERS:
            continue
        strides = getattr(layer, "strides", None) or getattr(layer, "pool_size", None) or (1,)
        factor *= max(int(s) for s in np.atleast_1d(strides))
    return factor


def _walk_layers(model):
    for layer in getattr(model, "layers", []):
        yield layer
        if hasattr(layer, "layers"):
            yield from _walk_layers(layer)


def pad_amounts(height: int, width: int, multiple: int) -> tuple[int, int]:
    """Rows and columns to add at the bottom and right to reach a multiple."""
    return (-height) % multiple, (-width) % multiple


def _mirror_pad(array: np.ndarray, rows: int, cols: int) -> np.ndarray:
    if rows == 0 and cols == 0:
        return array
    # "symmetric" mirrors including the edge pixel, so any pad size works.
    return np.pad(array, ((0, 0), (0, rows), (0, cols), (0, 0)), mode="symmetric")


def inpaint(model, images, masks, *, batch_size: int = 32,
            multiple: int | None = None) -> np.ndarray:
    """Fills the holes of `images` with `model`; known pixels come back unchanged.

    Args:
        model: a Keras model taking ``{"image", "mask"}`` (any model of this library).
        images: (N, H, W, 3) or one (H, W, 3) image, uint8 or float in [0, 1]; any size.
        masks: (N, H, W[, 1]) or (H, W[, 1]), 1 = hole.
        batch_size: images per model call.
        multiple: required size multiple; default `size_multiple(model)`.

    Returns:
        float32 images in [0, 1] of the input's shape (composited). uint8 input is
        scaled by 1/255; a size that is no multiple is mirror-padded and cropped
        back; a mask without holes returns the image unchanged, bit for bit; an
        all-hole mask returns the model's output clipped to [0, 1].

    Raises:
        ValueError: images not (N, H, W, 3) or (H, W, 3), uint8 or float in
            [0, 1], or with NaN or Inf; masks not binary or not of the images'
            size; a model output with NaN or Inf. Each message names the argument.
    """
    single = np.ndim(images) == 3
    if single:
        images, masks = np.asarray(images)[None], np.asarray(masks)[None]
    images = as_float_images(images)
    masks = as_binary_masks(masks, like=images)
    batch_size = check_positive_int(batch_size, "batch_size")
    multiple = size_multiple(model) if multiple is None else check_positive_int(multiple,
                                                                                 "multiple")
    height, width = images.shape[1:3]
    rows, cols = pad_amounts(height, width, multiple)
    outputs = []
    for start in range(0, len(images), batch_size):
        image = images[start:start + batch_size]
        mask = masks[start:start + batch_size]
        # The library's models write their fill value into holes themselves.
        padded_image = _mirror_pad(image, rows, cols)
        padded_mask = _mirror_pad(mask, rows, cols)
        raw = model({"image": padded_image, "mask": padded_mask}, training=False)
        raw = np.asarray(raw, np.float32)[:, :height, :width]
        if not np.all(np.isfinite(raw)):
            raise ValueError("The model returned NaN or Inf values")
        outputs.append(composite(np.clip(raw, 0.0, 1.0), image, mask))
    result = np.concatenate(outputs)
    return result[0] if single else result

