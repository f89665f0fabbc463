"""TensorFlow SavedModel export with one serving signature for every model.

The signature (also the ``serving_default``) takes ``image`` float32
[N, H, W, 3] in [0, 1] and ``mask`` float32 [N, H, W, 1] (values above 0.5 are
holes) and returns ``{"inpainted": ...}``: the composited image, known pixels
unchanged. Any H and W work: the graph mirrors-pads to the model's size
multiple and crops back (H and W must be at least half the multiple, e.g. 8
pixels for the UNets). The SavedModel needs TensorFlow only, not inpaint_tf.

Example:
    >>> from inpaint_tf import export_saved_model
    >>> export_saved_model(model, "exported/unet")                       # doctest: +SKIP
    >>> served = tf.saved_model.load("exported/unet")                    # doctest: +SKIP
    >>> served.serve(image=images, mask=masks)["inpainted"]              # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from inpaint_tf import _io
from inpaint_tf._validation import check_positive_int
from inpaint_tf.inference import size_multiple

SIGNATURE_NAME = "serve"


def _serving_function(model, multiple: int):
    import tensorflow as tf

    def serve(image, mask):
        hole = tf.cast(mask > 0.5, tf.float32)
        height, width = tf.shape(image)[1], tf.shape(image)[2]
        rows, cols = (-height) % multiple, (-width) % multiple
        paddings = [[0, 0], [0, rows], [0, cols], [0, 0]]
        raw = model({"image": tf.pad(image, paddings, mode="SYMMETRIC"),
                     "mask": tf.pad(hole, paddings, mode="SYMMETRIC")}, training=False)
        raw = tf.clip_by_value(tf.cast(raw, tf.float32)[:, :height, :width], 0.0, 1.0)
        inpainted = tf.where(tf.broadcast_to(hole > 0.5, tf.shape(raw)), raw, image)
        return {"inpainted": inpainted}

    return serve


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
    import keras
    import tensorflow as tf

    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model. Received: {type(model).__name__}")
    if getattr(model, "generator", None) is not None and isinstance(model.generator,
                                                                     keras.Model):
        model = model.generator  # a GAN exports its generator, never the training wrapper
    multiple = size_multiple(model) if multiple is None else check_positive_int(multiple,
                                                                                "multiple")
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        SIGNATURE_NAME,
        tf.function(_serving_function(model, multiple)),
        input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32, name="image"),
                         tf.TensorSpec([None, None, None, 1], tf.float32, name="mask")],
    )
    path = Path(path)
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("WARNING")  # "Assets written to <temporary folder>" says nothing useful
    try:
        with _io.atomic_path(path, suffix="") as temporary:
            archive.write_out(str(temporary), verbose=False)
    finally:
        logger.setLevel(level)
    return path
