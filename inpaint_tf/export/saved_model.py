"""The TensorFlow SavedModel export: a folder with the signature ``serve``, any size."""

from __future__ import annotations

from pathlib import Path

from inpaint_tf import _io
from inpaint_tf.export._common import (
    checked_multiple,
    export_archive,
    exported_network,
    write_archive,
)


def export_saved_model(model, path, *, multiple: int | None = None) -> Path:
    """Writes `model` as a TensorFlow SavedModel with the inpainting signature.

    Args:
        model: a Keras model taking ``{"image", "mask"}`` and returning the raw
            image (the UNets, the pconv UNet, the GAN generator).
        path: target folder. Written atomically: an interrupted export leaves
            the previous folder (or nothing), never a half-written model.
        multiple: size multiple the model needs, a positive integer; default
            `size_multiple(model)`.

    Returns:
        The path written.

    Raises:
        TypeError: `model` is not a `keras.Model`.
        ValueError: `multiple` is not a positive integer.
    """
    network = exported_network(model)
    archive = export_archive(network, checked_multiple(network, multiple), None, None)
    path = Path(path)
    with _io.atomic_path(path, suffix="") as temporary:
        write_archive(archive, temporary)
    return path
