"""A converted file run once before it is written: a photo-like check input through
the file in the runtime `load_exported` uses (TFLite with its default delegates,
XNNPACK on CPUs; ONNX Runtime's CPU provider), and a `ValueError` that names the
likely cause when it returns NaN or Inf.

The cause is looked for in order: the Keras model itself (same input, same serving
function); for TFLite, whether the builtin kernels without the default delegates
stay finite; for a float16 file, the graph's constants and weights that float16
rounds to 0 or to Inf (``tf.maximum(x, 1e-12)`` becomes ``tf.maximum(x, 0)``, and a
0 / 0 follows).
"""

from __future__ import annotations

import numpy as np

from inpaint_tf.export._common import input_signature, serving_function
from inpaint_tf.serving import SIGNATURE_NAME, tflite_interpreter

FLOAT16_MAX = float(np.finfo(np.float16).max)


def check_input(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """A photo-like image (smooth colour ramps, a wave and an edge) and a mask with a
    band a quarter of the height across the whole width and a thin diagonal stroke:
    float32 (1, H, W, 3) in [0, 1] and (1, H, W, 1), 1 = hole."""
    rows, cols = np.mgrid[0:height, 0:width]
    y, x = rows / max(height, width, 1), cols / max(height, width, 1)
    image = np.stack([0.5 + 0.3 * np.sin(2 * np.pi * (0.8 * y + 0.5 * x)),
                      0.35 + 0.4 * x, 0.65 - 0.3 * y], axis=-1)
    image[:, width // 2:] *= 0.7  # an edge
    band = max(1, height // 4)
    mask = np.zeros((height, width), np.float32)
    mask[(height - band) // 2:(height - band) // 2 + band] = 1.0
    # The diagonal from the top left to the bottom right, 1-2 px wide.
    mask[np.abs(rows * (width - 1) - cols * (height - 1)) <= max(height, width)] = 1.0
    return image[None].astype(np.float32), mask[None, ..., None]


def float16_casualties(network, multiple: int, height: int, width: int) -> list[str]:
    """The constants of the serving graph and the weights of `network` that float16
    holds as 0 (a non-zero constant) or as Inf, as ``"name (value -> float16)"``."""
    import tensorflow as tf

    found = []
    function = tf.function(serving_function(network, multiple))
    graph = function.get_concrete_function(*input_signature(height, width)).graph
    for op in graph.get_operations():
        if op.type != "Const" or not op.outputs[0].dtype.is_floating:
            continue
        value = tf.make_ndarray(op.get_attr("value")).astype(np.float64)
        narrow = value.astype(np.float16)
        lost = ((narrow == 0) & (value != 0)) | np.isinf(narrow)
        if lost.any():
            first = value[lost].flat[0]
            found.append(f"{op.name} ({first:g} -> {float(first.astype(np.float16)):g})")
    for weight in network.weights:
        largest = float(np.abs(np.asarray(weight.numpy(), np.float64)).max(initial=0))
        if largest > FLOAT16_MAX:
            found.append(f"{weight.path} ({largest:g} -> inf)")
    return found


def _non_finite(values) -> int:
    return int(np.size(values) - np.count_nonzero(np.isfinite(values)))


def _raise(network, kind: str, where: str, bad: int, total: int, mask, causes: list[str]):
    share = float(np.mean(mask))
    height, width = mask.shape[1:3]
    raise ValueError(f"The {kind} file of model {network.name!r} returns NaN or Inf in "
                     f"{bad} of {total} values for a check input ({height}x{width}, a "
                     f"photo-like image with {share:.0%} holes) {where}: "
                     + "; ".join(causes) + ". Nothing was written.")


def _keras_cause(network, multiple: int, image, mask) -> str | None:
    import tensorflow as tf

    output = serving_function(network, multiple)(tf.constant(image),
                                                 tf.constant(mask))["inpainted"]
    if _non_finite(np.asarray(output)):
        return ("the Keras model returns NaN or Inf for the same input too: the model "
                "is the cause, not the export")
    return None


def check_tflite(flatbuffer: bytes, network, multiple: int, quantize) -> None:
    """Runs `flatbuffer` once under the default delegates; raises a `ValueError` naming
    the likely cause when it returns NaN or Inf."""
    signature = tflite_interpreter(model_content=flatbuffer).get_signature_runner(
        SIGNATURE_NAME)
    height, width = signature.get_input_details()["image"]["shape"][1:3]
    image, mask = check_input(int(height), int(width))
    output = signature(image=image, mask=mask)["inpainted"]
    bad = _non_finite(output)
    if not bad:
        return
    kind = "TFLite" if quantize is None else f"TFLite ({quantize})"
    where = "under TFLite's default delegates (XNNPACK on CPUs)"
    keras_cause = _keras_cause(network, multiple, image, mask)
    if keras_cause:
        _raise(network, kind, where, bad, output.size, mask, [keras_cause])
    builtin = tflite_interpreter(model_content=flatbuffer, default_delegates=False
                                 ).get_signature_runner(SIGNATURE_NAME)
    causes = ["the Keras model returns finite values for it, so the file is the cause, "
              "not the model"]
    if not _non_finite(builtin(image=image, mask=mask)["inpainted"]):
        causes.append("TFLite's builtin kernels without the default delegates return "
                      "finite values (not necessarily right ones): the NaN shows under "
                      "the XNNPACK delegate")
    if quantize == "float16":
        lost = float16_casualties(network, multiple, int(height), int(width))
        if lost:
            causes.append("float16 quantisation stores every float constant as float16 "
                          f"and rounds {len(lost)} to 0 or Inf: {', '.join(lost[:5])}"
                          + (", ..." if len(lost) > 5 else ""))
        causes.append("export with quantize=None or 'dynamic', or give the model "
                      "constants that float16 holds (a division guarded by "
                      "tf.math.divide_no_nan rather than by a tiny epsilon)")
    else:
        causes.append("export with another quantize option, or serve the file without "
                      "the default delegates")
    _raise(network, kind, where, bad, output.size, mask, causes)


def check_onnx(content: bytes, network, multiple: int, height: int, width: int) -> None:
    """Runs the ONNX model `content` once in ONNX Runtime (when it is installed); raises
    a `ValueError` naming the likely cause when it returns NaN or Inf."""
    try:
        import onnxruntime
    except ImportError:  # the file is still valid; `load_exported` will ask for it
        return
    session = onnxruntime.InferenceSession(content, providers=["CPUExecutionProvider"])
    image, mask = check_input(height, width)
    output = session.run(["inpainted"], {"image": image, "mask": mask})[0]
    bad = _non_finite(output)
    if not bad:
        return
    cause = _keras_cause(network, multiple, image, mask) or (
        "the Keras model returns finite values for it, so the conversion (tf2onnx) or "
        "ONNX Runtime's kernels are the cause")
    _raise(network, "ONNX", "in ONNX Runtime (CPU)", bad, output.size, mask, [cause])
