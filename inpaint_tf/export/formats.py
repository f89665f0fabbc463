"""One entry point for every format (`export_model`) and the contract a file records
(`read_export_metadata`)."""

from __future__ import annotations

from pathlib import Path

from inpaint_tf.export._common import FORMATS
from inpaint_tf.export.onnx import export_onnx
from inpaint_tf.export.saved_model import export_saved_model
from inpaint_tf.export.tflite import export_tflite
from inpaint_tf.serving import read_metadata


def export_model(model, path, *, format: str = "saved_model", quantize: str | None = None,
                 height: int | None = None, width: int | None = None,
                 multiple: int | None = None) -> Path:
    """Exports `model` in `format`: `export_saved_model`, `export_tflite` or `export_onnx`.

    Args:
        model: a Keras model taking ``{"image", "mask"}``.
        path: target folder (SavedModel) or file (TFLite, ONNX).
        format: "saved_model", "tflite" or "onnx".
        quantize: TFLite only: None, "float16" or "dynamic".
        height, width: TFLite and ONNX only: the fixed input size (a SavedModel takes
            any size); default `default_size(model)`: the model's static size, else
            the size its windows need (256 for the released ``photo_unet``, whose
            harmonic prefill needs known context on every side of a hole; 32 for the
            study's models). A size under `minimum_size(model)` (128 for
            ``photo_unet``) is refused.
        multiple: size multiple the model needs; default `size_multiple(model)`.

    Returns:
        The path written.

    Raises:
        TypeError: `model` is not a `keras.Model`.
        ValueError: an unknown format, an option the format does not take or out of
            range, a size the model cannot serve with (the message states the size it
            needs), a model the converter cannot handle, or a file that returns NaN or
            Inf for a check input (the message names the likely cause). Nothing is
            written then.

    Example:
        >>> export_model(pretrained("photo_unet"), "photo.onnx", format="onnx")  # doctest: +SKIP
        >>> read_export_metadata("photo.onnx")["height"]                  # doctest: +SKIP
        256
    """
    if format not in FORMATS:
        raise ValueError(f"`format` must be one of {list(FORMATS)}. Received: format={format!r}")
    if quantize is not None and format != "tflite":
        raise ValueError("`quantize` applies to format='tflite' only. "
                         f"Received: quantize={quantize!r} with format={format!r}")
    if format == "saved_model":
        if height is not None or width is not None:
            raise ValueError("A SavedModel takes any height and width: `height` and `width` "
                             f"apply to 'tflite' and 'onnx'. Received: height={height!r}, "
                             f"width={width!r}")
        return export_saved_model(model, path, multiple=multiple)
    if format == "tflite":
        return export_tflite(model, path, quantize=quantize, height=height, width=width,
                             multiple=multiple)
    return export_onnx(model, path, height=height, width=width, multiple=multiple)


def read_export_metadata(path) -> dict:
    """The contract a `.tflite` or `.onnx` file of `export_tflite` / `export_onnx` records.

    The file's bytes are read by `inpaint_tf.serving.read_metadata` (no TensorFlow, no
    ``onnx`` package).

    Returns:
        The metadata dict: ``format``, ``height``, ``width``, ``quantize`` (TFLite),
        ``opset`` (ONNX), ``inputs`` and ``outputs`` (shapes, dtypes, meaning), ...

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: the file is neither TFLite nor ONNX, or holds no inpaint_tf metadata.
    """
    return read_metadata(path)
