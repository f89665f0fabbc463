"""The ONNX export (tf2onnx): one file at a fixed size, its contract as JSON in the
model's ``metadata_props``."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from inpaint_tf import _io
from inpaint_tf._validation import check_positive_int
from inpaint_tf.export._common import (
    INSTALL_HINT,
    ONNX_OPSET,
    checked_multiple,
    contract,
    exported_network,
    fixed_size,
    float32_network,
    input_signature,
    quiet_loggers,
    serving_function,
    summary,
)
from inpaint_tf.export.checks import check_onnx
from inpaint_tf.serving import METADATA_KEY


def export_onnx(model, path, *, height: int | None = None, width: int | None = None,
                multiple: int | None = None, opset: int = ONNX_OPSET) -> Path:
    """Writes `model` as an ONNX file (inputs ``image``, ``mask``; output ``inpainted``).

    Converted with tf2onnx; runs in ONNX Runtime or any ONNX runtime of the opset.

    Args:
        model: a Keras model taking ``{"image", "mask"}`` (a GAN exports its generator).
        path: target file (``.onnx``). Written atomically; nothing is written when
            the conversion fails.
        height, width: the fixed input size; default `default_size(model)` (the
            model's static size, else the size its windows need: 256 for the released
            ``photo_unet``, 32 for the study's models). Any batch size works.
        multiple: size multiple the model needs; default `size_multiple(model)`.
        opset: ONNX opset (tf2onnx 1.17 supports up to 18).

    A model under a mixed policy is converted as a float32 copy (same weights).
    Before it is written, the file runs once on a photo-like check input in ONNX
    Runtime (when installed).

    Returns:
        The path written.

    Raises:
        TypeError: `model` is not a `keras.Model`.
        ImportError: tf2onnx is not installed (the ``export`` extra).
        ValueError: an option is out of range, a size under `minimum_size(model)`
            (the message states the size it needs), the model holds ops ONNX cannot
            express (the message names them), or the file returns NaN or Inf for the
            check input.

    Example:
        >>> export_onnx(model, "unet.onnx")                                # doctest: +SKIP
        >>> import onnxruntime                                              # doctest: +SKIP
        >>> session = onnxruntime.InferenceSession("unet.onnx")            # doctest: +SKIP
        >>> session.run(["inpainted"], {"image": images, "mask": masks})[0]  # doctest: +SKIP
    """
    import tensorflow as tf

    network = exported_network(model)
    multiple = checked_multiple(network, multiple)
    height, width = fixed_size(network, height, width, multiple)
    served = float32_network(network)
    opset = check_positive_int(opset, "opset")
    try:
        import onnx
        import tf2onnx
    except ImportError as error:
        raise ImportError(f"ONNX export needs tf2onnx and onnx: {INSTALL_HINT}") from error
    try:
        # tf2onnx logs each op it cannot convert; the ValueError below names them.
        with quiet_loggers("tf2onnx", level=logging.CRITICAL), quiet_loggers("tensorflow"):
            proto, _ = tf2onnx.convert.from_function(
                tf.function(serving_function(served, multiple)),
                input_signature=input_signature(height, width), opset=opset)
        unsupported = sorted({node.op_type for node in proto.graph.node
                              if not onnx.defs.has(node.op_type, node.domain)})
        if unsupported:
            raise ValueError(f"ONNX has no op for TensorFlow's {', '.join(unsupported)}")
        onnx.checker.check_model(proto, full_check=True)  # types and shapes too
    except Exception as error:  # tf2onnx and the checker raise many types
        raise ValueError(f"Cannot convert model {network.name!r} to ONNX: "
                         f"{summary(error)}") from error
    check_onnx(proto.SerializeToString(), served, multiple, height, width)
    metadata = contract(network, "onnx", height, width, multiple, opset=opset)
    proto.metadata_props.add(key=METADATA_KEY, value=json.dumps(metadata))
    proto.doc_string = (f"inpaint_tf inpainting model {network.name!r}: image [N, {height}, "
                        f"{width}, 3] in [0, 1], mask [N, {height}, {width}, 1] (1 = hole) "
                        "-> inpainted (the composite)")
    path = Path(path)
    with _io.atomic_path(path) as temporary:
        temporary.write_bytes(proto.SerializeToString())
    return path
