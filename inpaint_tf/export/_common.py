"""What every export format shares: the serving function (pad, run, crop, clip,
composite), the network to export (a GAN's generator, a float32 copy of a mixed
model), its size checks, the Keras export archive and the metadata contract."""

from __future__ import annotations

import contextlib
import logging
import re
from pathlib import Path

from inpaint_tf._validation import check_positive_int
from inpaint_tf._version import __version__
from inpaint_tf.export.sizes import (
    default_size,
    harmonic_levels,
    minimum_size,
    static_size,
)
from inpaint_tf.inference.inpainting import inpainting_network, size_multiple
from inpaint_tf.inference.windows import MIN_CONTEXT
from inpaint_tf.serving import SIGNATURE_NAME

FORMATS = ("saved_model", "tflite", "onnx")
"""The export formats of `export_model`."""
QUANTIZATIONS = (None, "float16", "dynamic")
"""TFLite's ``quantize`` options: none, float16 weights or dynamic range (int8 weights)."""
ONNX_OPSET = 17
"""The ONNX opset of `export_onnx`."""

INSTALL_HINT = ("install inpaint_tf with its export extra (docs/installing.md), or "
                 "pip install tf2onnx onnx onnxruntime ai-edge-litert")


def serving_function(model, multiple: int):
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


def input_signature(height: int | None, width: int | None) -> list:
    import tensorflow as tf

    return [tf.TensorSpec([None, height, width, 3], tf.float32, name="image"),
            tf.TensorSpec([None, height, width, 1], tf.float32, name="mask")]


def exported_network(model):
    """The network to export: `model`, or the generator of a GAN (never its wrapper)."""
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model. Received: {type(model).__name__}")
    return inpainting_network(model)


def float32_network(network):
    """`network`, or a float32 copy of it (same weights) when it runs under a mixed policy.

    TFLite's builtin ops and ONNX Runtime's CPU kernels have no bfloat16, and a
    mixed_float16 graph would round every activation: the files compute in float32
    (their quantisation options are the size/accuracy trade-off).
    """
    import keras

    layers = [network, *network._flatten_layers(include_self=False)]
    if all(keras.backend.standardize_dtype(layer.compute_dtype) == "float32"
           for layer in layers):
        return network

    def float32_layer(layer):
        return layer.__class__.from_config({**layer.get_config(), "dtype": "float32"})

    copy = keras.models.clone_model(network, clone_function=float32_layer)
    copy.set_weights(network.get_weights())
    return copy


def checked_multiple(network, multiple) -> int:
    return size_multiple(network) if multiple is None else check_positive_int(multiple,
                                                                              "multiple")


def fixed_size(network, height, width, multiple: int | None = None) -> tuple[int, int]:
    """`height` and `width`, each defaulting to `sizes.default_size` (the model's static
    size, else the size it needs); a free side under `sizes.minimum_size` is refused."""
    static = static_size(network)
    default = default_size(network, multiple)
    height = default[0] if height is None else check_positive_int(height, "height")
    width = default[1] if width is None else check_positive_int(width, "width")
    need = minimum_size(network, multiple)
    if any(side < need for side, fixed in zip((height, width), static) if fixed is None):
        reason = (f"a window of side S gives a hole at most S/4 px of context, and its "
                  f"HarmonicFill needs inpaint's {MIN_CONTEXT} px on every side"
                  if harmonic_levels(network) is not None else
                  "the mirror padding to its size multiple adds at most the side itself")
        raise ValueError(f"Model {network.name!r} needs a fixed size of at least "
                         f"{need}x{need} ({reason}); its default is "
                         f"{default[0]}x{default[1]}. Received: height={height}, "
                         f"width={width}")
    return height, width


def checked_quantize(quantize):
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"`quantize` must be one of {list(QUANTIZATIONS)}. "
                         f"Received: quantize={quantize!r}")
    return quantize


def summary(error: BaseException) -> str:
    """The informative part of a converter's (often very long) message."""
    text = str(error)
    # The TFLite converter reports each op it has no builtin kernel for.
    ops = sorted(set(re.findall(r"'(tf\.\w+)' op is neither a custom op nor a flex op", text)))
    if ops:
        return f"TFLite's builtin ops cannot express {', '.join(ops)}"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if "error:" in line:
            message = line.rsplit("error:", 1)[1].strip()
            return message.rsplit("): ", 1)[-1] if message.startswith("loc(") else message
    return lines[0] if lines else type(error).__name__


@contextlib.contextmanager
def quiet_loggers(*names: str, level: int = logging.WARNING):
    """Raises the level of the named Python loggers to `level` for the block."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(level)
    try:
        yield
    finally:
        for logger, previous in zip(loggers, levels):
            logger.setLevel(previous)


def export_archive(network, multiple: int, height: int | None, width: int | None):
    import keras
    import tensorflow as tf

    archive = keras.export.ExportArchive()
    archive.track(network)
    archive.add_endpoint(SIGNATURE_NAME, tf.function(serving_function(network, multiple)),
                         input_signature=input_signature(height, width))
    return archive


def write_archive(archive, folder: Path) -> None:
    # "Assets written to <temporary folder>" says nothing useful.
    with quiet_loggers("tensorflow"):
        archive.write_out(str(folder), verbose=False)


def contract(network, fmt: str, height: int, width: int, multiple: int, **extra) -> dict:

    def spec(channels: int, meaning: str) -> dict:
        return {"shape": [None, height, width, channels], "dtype": "float32",
                "meaning": meaning}

    return {
        "producer": f"inpaint_tf {__version__}", "format": fmt,
        "model": network.name, "height": height, "width": width, "batch": "any",
        "size_multiple": multiple, "computed_in": "float32",
        "model_dtype_policy": network.dtype_policy.name, **extra,
        "inputs": {"image": spec(3, "RGB in [0, 1]"),
                   "mask": spec(1, "1 = hole (values above 0.5), 0 = known")},
        "outputs": {"inpainted": spec(3, "the composite: model output in the holes, "
                                         "the input image elsewhere, clipped to [0, 1]")},
    }
