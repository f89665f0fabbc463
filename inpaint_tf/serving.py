"""Serving an exported TFLite or ONNX file without TensorFlow: NumPy, OpenCV and the
file's own runtime (ONNX Runtime; LiteRT, the TFLite runtime, or TensorFlow's
interpreter where it is installed) are all it needs.

`load_exported` opens a file of `inpaint_tf.export.export_onnx` or `export_tflite`
as an `ExportedModel`, called like the Keras model it came from at the file's fixed
size; `inpaint_tf.inpaint` serves photos of any size through it with the library's
window rules (`inpaint_tf.inference.windows`): windows of the fixed size around the
holes, larger groups of holes in tiles. Neither this module nor `inpaint` imports
TensorFlow or Keras for a file, and the metadata (fixed size, size multiple, model
name, ...) is read from the file's bytes, without the ``onnx`` package or
TensorFlow's flatbuffer schema. Installed without its dependencies (``pip install
--no-deps``) beside ``numpy``, ``opencv-python-headless`` and ``onnxruntime``, the
package fills photos with an ONNX file (`tests/test_serving.py` runs it with
TensorFlow, Keras and ``onnx`` blocked).

Example:
    >>> from inpaint_tf import inpaint                                   # doctest: +SKIP
    >>> from inpaint_tf.serving import load_exported                     # doctest: +SKIP
    >>> model = load_exported("photo_unet.onnx")                         # doctest: +SKIP
    >>> filled = inpaint(model, photo, holes)  # any size; 1 = hole      # doctest: +SKIP
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from inpaint_tf._validation import check_positive_int

__all__ = ["ExportedModel", "load_exported", "read_metadata"]

# The exported files' contract: the metadata's key and the signature's name (the export
# writes them from here, so that serving imports nothing of the export).
METADATA_KEY = "inpaint_tf"
"""Key of the JSON contract in a TFLite file's metadata and an ONNX file's properties."""
SIGNATURE_NAME = "serve"
"""Name of the serving signature of every exported file."""
ONNX_HINT = "pip install onnxruntime (or inpaint_tf's export extra)"
TFLITE_HINT = "pip install ai-edge-litert (or inpaint_tf's export extra)"


class ExportedModel:
    """A `.onnx` or `.tflite` file of `export_onnx` / `export_tflite`, run in its own
    runtime (ONNX Runtime's CPU provider; LiteRT, else ``tflite_runtime``, else
    ``tf.lite.Interpreter``) and called like the Keras model it came from, so that
    `inpaint_tf.inpaint` serves images of any size through it: ``inpaint(
    load_exported(path), photo, mask)`` runs the file on windows of its fixed size
    around the holes. Needs no TensorFlow.

    Attributes:
        path: the file.
        format: "onnx" or "tflite".
        metadata: the contract the file records (as
            `inpaint_tf.export.read_export_metadata` reads it).
        fixed_size: the (height, width) every input must have.

    Call arguments:
        inputs: ``{"image": (N, H, W, 3), "mask": (N, H, W, 1)}`` float32 of the fixed
            size, any N. ``training`` is accepted and ignored.

    Returns:
        The file's output ``inpainted`` (the composite, in [0, 1]) as a NumPy array.

    Raises:
        ValueError: inputs not of the fixed size or not finite, or an output with NaN
            or Inf (the message names the file and its runtime as the likely cause).
    """

    def __init__(self, path, *, threads: int | None = None):
        self.path = Path(path)
        self.metadata = read_metadata(self.path)
        self.format = self.metadata.get("format")
        self.fixed_size = (int(self.metadata["height"]), int(self.metadata["width"]))
        self.name = self.metadata.get("model", self.path.stem)
        threads = None if threads is None else check_positive_int(threads, "threads")
        if self.format == "onnx":
            try:
                import onnxruntime
            except ImportError as error:
                raise ImportError(f"Running ONNX files needs onnxruntime: {ONNX_HINT}"
                                  ) from error
            options = onnxruntime.SessionOptions()
            if threads is not None:
                options.intra_op_num_threads = threads
            session = onnxruntime.InferenceSession(str(self.path), options,
                                                   providers=["CPUExecutionProvider"])
            self._run = lambda image, mask: session.run(
                ["inpainted"], {"image": image, "mask": mask})[0]
        else:
            runner = tflite_interpreter(model_path=str(self.path), threads=threads
                                        ).get_signature_runner(SIGNATURE_NAME)
            self._run = lambda image, mask: runner(image=image, mask=mask)["inpainted"]
        quantize = self.metadata.get("quantize")
        self._runtime = ("ONNX Runtime, CPU" if self.format == "onnx" else
                         "TFLite with its default delegates (XNNPACK on CPUs)"
                         + (f", {quantize} weights" if quantize else ""))

    def __call__(self, inputs: dict, training: bool = False):
        image = np.ascontiguousarray(inputs["image"], np.float32)
        mask = np.ascontiguousarray(inputs["mask"], np.float32)
        if tuple(image.shape[1:3]) != self.fixed_size or image.shape[1:3] != mask.shape[1:3]:
            raise ValueError(f"{self.path.name} takes images and masks of "
                             f"{self.fixed_size[0]}x{self.fixed_size[1]} only (inpaint_tf's "
                             "`inpaint` brings any image to that size). Received: "
                             f"image.shape={image.shape}, mask.shape={mask.shape}")
        if not (np.isfinite(image).all() and np.isfinite(mask).all()):
            raise ValueError(f"The image and mask given to {self.path.name} must be finite. "
                             "Received: NaN or Inf values")
        output = np.asarray(self._run(image, mask), np.float32)
        if not np.isfinite(output).all():
            raise ValueError(f"{self.path.name} returned NaN or Inf values for finite "
                             f"inputs: the file or its runtime is the likely cause, not the "
                             f"image ({self._runtime}). Re-export it with this version of "
                             "inpaint_tf, which runs every file once before writing it and "
                             "names the cause, or export it without quantize")
        return output

    def __repr__(self) -> str:
        return (f"ExportedModel({str(self.path)!r}, format={self.format!r}, "
                f"fixed_size={self.fixed_size})")


def load_exported(path, *, threads: int | None = None) -> ExportedModel:
    """An exported `.onnx` or `.tflite` file, ready for `inpaint_tf.inpaint`, without
    TensorFlow.

    Args:
        path: a file of `export_onnx` or `export_tflite` (with its metadata).
        threads: CPU threads of the runtime; default the runtime's own.

    Returns:
        An `ExportedModel`: callable like a Keras model at its fixed size, and served
        at any size by `inpaint` (windows of the fixed size around the holes).

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: not a file of inpaint_tf's export.
        ImportError: its runtime is not installed (onnxruntime; ai-edge-litert).

    Example:
        >>> export_onnx(model, "unet.onnx", height=64, width=64)            # doctest: +SKIP
        >>> from inpaint_tf import inpaint                                   # doctest: +SKIP
        >>> filled = inpaint(load_exported("unet.onnx"), photo, holes)      # doctest: +SKIP
    """
    return ExportedModel(path, threads=threads)


def tflite_interpreter(*, model_path=None, model_content=None, threads: int | None = None,
                       default_delegates: bool = True):
    """A TFLite interpreter of `model_path` or `model_content`: LiteRT's
    (``ai_edge_litert``), else the TFLite runtime's, else ``tf.lite.Interpreter``; with
    its default delegates (XNNPACK on CPUs) unless `default_delegates` is False.

    Raises:
        ImportError: none of the three is installed (the message names the package).
    """
    try:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter, OpResolverType
        except ImportError:
            try:
                import tensorflow as tf
            except ImportError as error:
                raise ImportError(f"Running TFLite files needs LiteRT: {TFLITE_HINT}"
                                  ) from error
            Interpreter = tf.lite.Interpreter
            OpResolverType = tf.lite.experimental.OpResolverType
    options = {} if default_delegates else {
        "experimental_op_resolver_type": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}
    return Interpreter(model_path=model_path, model_content=model_content,
                       num_threads=threads, **options)


def read_metadata(path) -> dict:
    """The contract a `.tflite` or `.onnx` file of the export records, read from its
    bytes (no runtime, no TensorFlow, no ``onnx`` package).

    Returns:
        The metadata dict: ``format``, ``height``, ``width``, ``size_multiple``, ...

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: the file is neither TFLite nor ONNX, or holds no inpaint_tf metadata.

    Example:
        >>> read_metadata("unet.onnx")["height"]                             # doctest: +SKIP
        64
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No exported model file at {path}")
    content = path.read_bytes()
    try:
        if content[4:8] == b"TFL3":  # the TFLite flatbuffer's file identifier
            text = _tflite_metadata(content)
        else:
            text = _onnx_metadata(content)
    except (ValueError, IndexError, struct.error, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is neither a TFLite nor an ONNX file") from error
    if text is None:
        raise ValueError(f"{path} holds no {METADATA_KEY!r} metadata: not written by "
                         "inpaint_tf's export")
    return json.loads(text)


def _tflite_metadata(content: bytes) -> str | None:
    """The `METADATA_KEY` entry of a TFLite flatbuffer, or None.

    The schema's parts read here: the root table ``Model`` has ``buffers`` (field 4, a
    vector of ``Buffer {data: [ubyte], offset: ulong, size: ulong}``) and
    ``metadata`` (field 6, a vector of ``Metadata {name: string, buffer: uint}``).
    A model over 2 GB keeps a buffer's bytes after the flatbuffer, at ``offset``.
    """

    def unsigned(at: int, form: str = "<I") -> int:
        return struct.unpack_from(form, content, at)[0]

    def field(table: int, index: int) -> int | None:
        """Where field `index` of the table at `table` lies, None when absent."""
        vtable = table - struct.unpack_from("<i", content, table)[0]
        if 4 + 2 * index >= unsigned(vtable, "<H"):
            return None
        offset = unsigned(vtable + 4 + 2 * index, "<H")
        return table + offset if offset else None

    def vector(at: int) -> tuple[int, int]:
        """(first element, length) of the vector a field refers to."""
        start = at + unsigned(at)
        return start + 4, unsigned(start)

    def tables(at: int) -> list[int]:
        start, length = vector(at)
        return [start + 4 * i + unsigned(start + 4 * i) for i in range(length)]

    def data(at: int) -> bytes:
        start, length = vector(at)
        return content[start:start + length]

    model = unsigned(0)
    entries, buffers = field(model, 6), field(model, 4)
    for entry in [] if entries is None else tables(entries):
        name = field(entry, 0)
        if name is None or data(name).decode() != METADATA_KEY:
            continue
        index = field(entry, 1)
        buffer = tables(buffers)[0 if index is None else unsigned(index)]
        offset, size = field(buffer, 1), field(buffer, 2)
        if offset is not None and unsigned(offset, "<Q") > 1:
            start = unsigned(offset, "<Q")
            return content[start:start + unsigned(size, "<Q")].decode()
        return data(field(buffer, 0)).decode()
    return None


def _onnx_metadata(content: bytes) -> str | None:
    """The `METADATA_KEY` entry of an ONNX file's ``metadata_props``, or None.

    An ONNX file is a protobuf ``ModelProto``; its field 14 holds the entries
    ``StringStringEntryProto {key = 1, value = 2}``. Every other field is skipped.
    """
    for number, value in _protobuf_fields(content, 0, len(content)):
        if number == 14 and isinstance(value, tuple):
            entry = {key: content[start:end] for key, (start, end) in
                     ((k, v) for k, v in _protobuf_fields(content, *value)
                      if isinstance(v, tuple))}
            if entry.get(1, b"").decode() == METADATA_KEY:
                return entry.get(2, b"").decode()
    return None


def _varint(content: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = content[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def _protobuf_fields(content: bytes, start: int, end: int):
    """(field number, value) of a protobuf message's bytes: an int, None (a fixed-width
    number), or the (start, end) of a length-delimited field."""
    at = start
    while at < end:
        key, at = _varint(content, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = _varint(content, at)
        elif wire in (1, 5):
            value, at = None, at + (8 if wire == 1 else 4)
        elif wire == 2:
            length, at = _varint(content, at)
            value, at = (at, at + length), at + length
        else:
            raise ValueError(f"protobuf wire type {wire} at byte {at}")
        if at > end:
            raise ValueError(f"a protobuf field runs past byte {end}")
        yield number, value
