"""The TFLite (LiteRT) export: one file at a fixed size, builtin ops only, its
contract as JSON in a metadata buffer of the flatbuffer."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from inpaint_tf import _io
from inpaint_tf.export._common import (
    checked_multiple,
    checked_quantize,
    contract,
    export_archive,
    exported_network,
    fixed_size,
    float32_network,
    quiet_loggers,
    summary,
    write_archive,
)
from inpaint_tf.export.checks import check_tflite
from inpaint_tf.serving import METADATA_KEY, SIGNATURE_NAME


def export_tflite(model, path, *, quantize: str | None = None, height: int | None = None,
                  width: int | None = None, multiple: int | None = None) -> Path:
    """Writes `model` as a TFLite (LiteRT) file with the inpainting signature ``serve``.

    Args:
        model: a Keras model taking ``{"image", "mask"}`` (a GAN exports its generator).
        path: target file (``.tflite``). Written atomically; nothing is written
            when the conversion fails.
        quantize: None (float32), "float16" (float16 weights, which the CPU
            kernels dequantise to float32: half the size) or "dynamic" (int8
            weights, activations quantised at run time where a kernel supports it:
            a quarter of the size).
        height, width: the fixed input size; default `default_size(model)` (the
            model's static size, else the size its windows need: 256 for the released
            ``photo_unet``, 32 for the study's models). Any batch size works (the
            interpreter resizes its inputs).
        multiple: size multiple the model needs; default `size_multiple(model)`.

    A model under a mixed policy is converted as a float32 copy (same weights).
    Before it is written, the file runs once on a photo-like check input under
    TFLite's default delegates (XNNPACK on CPUs, as `load_exported` runs it).

    Returns:
        The path written.

    Raises:
        TypeError: `model` is not a `keras.Model`.
        ValueError: an option is out of range, a size under `minimum_size(model)`
            (the message states the size it needs), the converter cannot express the
            model with TFLite's builtin ops (the message names the op), or the file
            returns NaN or Inf for the check input (the message names the likely
            cause: the model, the delegate, float16 constants).

    Example:
        >>> export_tflite(model, "unet.tflite", quantize="float16")   # doctest: +SKIP
        >>> from ai_edge_litert.interpreter import Interpreter          # doctest: +SKIP
        >>> serve = Interpreter("unet.tflite").get_signature_runner("serve")  # doctest: +SKIP
        >>> serve(image=images, mask=masks)["inpainted"]                # doctest: +SKIP
    """
    import tensorflow as tf

    network = exported_network(model)
    quantize = checked_quantize(quantize)
    multiple = checked_multiple(network, multiple)
    height, width = fixed_size(network, height, width, multiple)
    served = float32_network(network)
    try:
        archive = export_archive(served, multiple, height, width)
        with tempfile.TemporaryDirectory(prefix="inpaint_tf_tflite_") as folder:
            write_archive(archive, Path(folder))
            converter = tf.lite.TFLiteConverter.from_saved_model(
                folder, signature_keys=[SIGNATURE_NAME])
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
            if quantize is not None:
                converter.optimizations = [tf.lite.Optimize.DEFAULT]
            if quantize == "float16":
                converter.target_spec.supported_types = [tf.float16]
            with quiet_loggers("tensorflow", "absl"):
                flatbuffer = converter.convert()
    except Exception as error:  # the converter raises many types; one clear one here
        raise ValueError(f"Cannot convert model {network.name!r} to TFLite: "
                         f"{summary(error)}") from error
    check_tflite(flatbuffer, served, multiple, quantize)
    metadata = contract(network, "tflite", height, width, multiple, quantize=quantize,
                         signature=SIGNATURE_NAME)
    flatbuffer = _with_tflite_metadata(flatbuffer, metadata)
    path = Path(path)
    with _io.atomic_path(path) as temporary:
        temporary.write_bytes(flatbuffer)
    return path


def _with_tflite_metadata(flatbuffer: bytes, metadata: dict) -> bytes:
    """The flatbuffer with `metadata` as JSON in a metadata buffer named METADATA_KEY."""
    import numpy as np
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    content = flatbuffer_utils.read_model_from_bytearray(bytearray(flatbuffer))
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(json.dumps(metadata).encode(), np.uint8)
    content.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = METADATA_KEY
    entry.buffer = len(content.buffers) - 1
    content.metadata = [*(content.metadata or []), entry]
    return flatbuffer_utils.convert_object_to_bytearray(content)
