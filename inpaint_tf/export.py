"""Export for serving: a TensorFlow SavedModel, a TFLite (LiteRT) file or an ONNX file.

Every format has the same contract: inputs ``image`` float32 [N, H, W, 3] in
[0, 1] and ``mask`` float32 [N, H, W, 1] (values above 0.5 are holes, the
library's 1 = hole), output ``inpainted``: the composited image, known pixels
unchanged. Inside, the graph mirror-pads to the model's size multiple, runs the
network, crops back, clips to [0, 1] and composites. None of the files needs
inpaint_tf to run.

- `export_saved_model`: a folder, signature ``serve`` (also ``serving_default``),
  any H and W (at least half the size multiple, e.g. 8 pixels for the UNets).
- `export_tflite`: one ``.tflite`` file with the signature ``serve``, a fixed H
  and W (default the model's static size, else 32 x 32) and any batch size,
  only TFLite builtin ops (no Flex delegate needed); optional float16 or
  dynamic-range (int8 weights) quantisation. Runs in the LiteRT interpreter
  (``ai_edge_litert``) or ``tf.lite.Interpreter``.
- `export_onnx`: one ``.onnx`` file (opset 17) with a fixed H and W and any batch
  size, for ONNX Runtime. Fixed because tf2onnx drops the run-time padding of a
  size-agnostic graph (a size that is no multiple fails in the first skip
  concatenation), while a fixed size pads correctly.
- `load_exported`: a TFLite or ONNX file in its runtime, called like a Keras model;
  ``inpaint(load_exported(path), photo, mask)`` serves images of any size through it,
  on windows of its fixed size around the holes.

Both files compute in float32: a model under a mixed policy (as the experiments
train) is exported as a float32 copy with its weights, since TFLite's builtin ops
and ONNX Runtime's CPU kernels have no bfloat16; ``quantize`` is the TFLite
size/accuracy trade-off. Both record their contract as JSON under the key
``inpaint_tf``: in the TFLite metadata (a named buffer of the flatbuffer) and in
the ONNX ``metadata_props``; `read_export_metadata` reads it back (``height``,
``width``, ``quantize``, input and output shapes).

Route chosen for each converter, with TensorFlow 2.21, NumPy 2.4 and protobuf 7:

- TFLite converts the SavedModel (`tf.lite.TFLiteConverter.from_saved_model`), the
  way Keras' own LiteRT export does. Converting the concrete function directly
  (`from_concrete_functions`) leaves the Keras 3 variables as uninitialised
  resource variables in TF 2.21: the file loads but returns NaN.
- ONNX uses tf2onnx 1.17 (``tf2onnx.convert.from_function`` on the serving
  function), which works with NumPy 2 and protobuf 7 unpatched. tf2onnx keeps an
  op it cannot convert as a TensorFlow op in the ONNX graph (an invalid file)
  instead of failing: such ops are reported here as a `ValueError`, and the
  model is checked with ``onnx.checker`` (types and shapes included) before it
  is written.

The ``export`` extra (``pip install "<clone, wheel or git URL>[export]"``, README
"Installing") installs tf2onnx, ONNX Runtime and LiteRT.

Example:
    >>> from inpaint_tf import export_onnx, export_saved_model, export_tflite
    >>> export_saved_model(model, "exported/unet")                       # doctest: +SKIP
    >>> served = tf.saved_model.load("exported/unet")                    # doctest: +SKIP
    >>> served.serve(image=images, mask=masks)["inpainted"]              # doctest: +SKIP
    >>> export_tflite(model, "exported/unet.tflite", quantize="float16")  # doctest: +SKIP
    >>> export_onnx(model, "exported/unet.onnx", height=64, width=64)    # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import tempfile
from pathlib import Path

from inpaint_tf import _io
from inpaint_tf._validation import check_positive_int

SIGNATURE_NAME = "serve"
FORMATS = ("saved_model", "tflite", "onnx")
QUANTIZATIONS = (None, "float16", "dynamic")
METADATA_KEY = "inpaint_tf"
ONNX_OPSET = 17
DEFAULT_SIZE = 32  # height and width of a fixed-size export when the model has none

_INSTALL_HINT = ("install inpaint_tf with its export extra (README, 'Installing'), or "
                 "pip install tf2onnx onnx onnxruntime ai-edge-litert")


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


def _input_signature(height: int | None, width: int | None) -> list:
    import tensorflow as tf

    return [tf.TensorSpec([None, height, width, 3], tf.float32, name="image"),
            tf.TensorSpec([None, height, width, 1], tf.float32, name="mask")]


def _inference_network(model):
    """The network to export: `model`, or the generator of a GAN (never its wrapper)."""
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model. Received: {type(model).__name__}")
    generator = getattr(model, "generator", None)
    return generator if isinstance(generator, keras.Model) else model


def _float32_network(network):
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


def _checked_multiple(network, multiple) -> int:
    from inpaint_tf.inference import size_multiple  # imports Keras: not at module import

    return size_multiple(network) if multiple is None else check_positive_int(multiple,
                                                                              "multiple")


def _fixed_size(network, height, width) -> tuple[int, int]:
    """`height` and `width`, each defaulting to the model's static size, else 32."""
    images = [t for t in getattr(network, "inputs", None) or [] if t.name == "image"]
    static = tuple(images[0].shape[1:3]) if images else (None, None)
    height = (static[0] or DEFAULT_SIZE) if height is None else height
    width = (static[1] or DEFAULT_SIZE) if width is None else width
    return check_positive_int(height, "height"), check_positive_int(width, "width")


def _checked_quantize(quantize):
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"`quantize` must be one of {list(QUANTIZATIONS)}. "
                         f"Received: quantize={quantize!r}")
    return quantize


def _summary(error: BaseException) -> str:
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
def _quiet_loggers(*names: str, level: int = logging.WARNING):
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


def _archive(network, multiple: int, height: int | None, width: int | None):
    import keras
    import tensorflow as tf

    archive = keras.export.ExportArchive()
    archive.track(network)
    archive.add_endpoint(SIGNATURE_NAME, tf.function(_serving_function(network, multiple)),
                         input_signature=_input_signature(height, width))
    return archive


def _write_archive(archive, folder: Path) -> None:
    # "Assets written to <temporary folder>" says nothing useful.
    with _quiet_loggers("tensorflow"):
        archive.write_out(str(folder), verbose=False)


def _metadata(network, fmt: str, height: int, width: int, multiple: int, **extra) -> dict:
    import inpaint_tf

    def spec(channels: int, meaning: str) -> dict:
        return {"shape": [None, height, width, channels], "dtype": "float32",
                "meaning": meaning}

    return {
        "producer": f"inpaint_tf {inpaint_tf.__version__}", "format": fmt,
        "model": network.name, "height": height, "width": width, "batch": "any",
        "size_multiple": multiple, "computed_in": "float32",
        "model_dtype_policy": network.dtype_policy.name, **extra,
        "inputs": {"image": spec(3, "RGB in [0, 1]"),
                   "mask": spec(1, "1 = hole (values above 0.5), 0 = known")},
        "outputs": {"inpainted": spec(3, "the composite: model output in the holes, "
                                         "the input image elsewhere, clipped to [0, 1]")},
    }


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
    network = _inference_network(model)
    archive = _archive(network, _checked_multiple(network, multiple), None, None)
    path = Path(path)
    with _io.atomic_path(path, suffix="") as temporary:
        _write_archive(archive, temporary)
    return path


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
        height, width: the fixed input size; default the model's static size, else
            32. Any batch size works (the interpreter resizes its inputs).
        multiple: size multiple the model needs; default `size_multiple(model)`.

    A model under a mixed policy is converted as a float32 copy (same weights).

    Returns:
        The path written.

    Raises:
        TypeError: `model` is not a `keras.Model`.
        ValueError: an option is out of range, or the converter cannot express the
            model with TFLite's builtin ops (the message names the op).

    Example:
        >>> export_tflite(model, "unet.tflite", quantize="float16")   # doctest: +SKIP
        >>> from ai_edge_litert.interpreter import Interpreter          # doctest: +SKIP
        >>> serve = Interpreter("unet.tflite").get_signature_runner("serve")  # doctest: +SKIP
        >>> serve(image=images, mask=masks)["inpainted"]                # doctest: +SKIP
    """
    import tensorflow as tf

    network = _inference_network(model)
    quantize = _checked_quantize(quantize)
    height, width = _fixed_size(network, height, width)
    multiple = _checked_multiple(network, multiple)
    try:
        archive = _archive(_float32_network(network), multiple, height, width)
        with tempfile.TemporaryDirectory(prefix="inpaint_tf_tflite_") as folder:
            _write_archive(archive, Path(folder))
            converter = tf.lite.TFLiteConverter.from_saved_model(
                folder, signature_keys=[SIGNATURE_NAME])
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
            if quantize is not None:
                converter.optimizations = [tf.lite.Optimize.DEFAULT]
            if quantize == "float16":
                converter.target_spec.supported_types = [tf.float16]
            with _quiet_loggers("tensorflow", "absl"):
                flatbuffer = converter.convert()
    except Exception as error:  # the converter raises many types; one clear one here
        raise ValueError(f"Cannot convert model {network.name!r} to TFLite: "
                         f"{_summary(error)}") from error
    metadata = _metadata(network, "tflite", height, width, multiple, quantize=quantize,
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


def export_onnx(model, path, *, height: int | None = None, width: int | None = None,
                multiple: int | None = None, opset: int = ONNX_OPSET) -> Path:
    """Writes `model` as an ONNX file (inputs ``image``, ``mask``; output ``inpainted``).

    Converted with tf2onnx; runs in ONNX Runtime or any ONNX runtime of the opset.

    Args:
        model: a Keras model taking ``{"image", "mask"}`` (a GAN exports its generator).
        path: target file (``.onnx``). Written atomically; nothing is written when
            the conversion fails.
        height, width: the fixed input size; default the model's static size, else
            32. Any batch size works.
        multiple: size multiple the model needs; default `size_multiple(model)`.
        opset: ONNX opset (tf2onnx 1.17 supports up to 18).

    A model under a mixed policy is converted as a float32 copy (same weights).

    Returns:
        The path written.

    Raises:
        TypeError: `model` is not a `keras.Model`.
        ImportError: tf2onnx is not installed (the ``export`` extra).
        ValueError: an option is out of range, or the model holds ops ONNX cannot
            express (the message names them).

    Example:
        >>> export_onnx(model, "unet.onnx")                                # doctest: +SKIP
        >>> import onnxruntime                                              # doctest: +SKIP
        >>> session = onnxruntime.InferenceSession("unet.onnx")            # doctest: +SKIP
        >>> session.run(["inpainted"], {"image": images, "mask": masks})[0]  # doctest: +SKIP
    """
    import tensorflow as tf

    network = _inference_network(model)
    height, width = _fixed_size(network, height, width)
    multiple = _checked_multiple(network, multiple)
    opset = check_positive_int(opset, "opset")
    try:
        import onnx
        import tf2onnx
    except ImportError as error:
        raise ImportError(f"ONNX export needs tf2onnx and onnx: {_INSTALL_HINT}") from error
    try:
        # tf2onnx logs each op it cannot convert; the ValueError below names them.
        with _quiet_loggers("tf2onnx", level=logging.CRITICAL), _quiet_loggers("tensorflow"):
            proto, _ = tf2onnx.convert.from_function(
                tf.function(_serving_function(_float32_network(network), multiple)),
                input_signature=_input_signature(height, width), opset=opset)
        unsupported = sorted({node.op_type for node in proto.graph.node
                              if not onnx.defs.has(node.op_type, node.domain)})
        if unsupported:
            raise ValueError(f"ONNX has no op for TensorFlow's {', '.join(unsupported)}")
        onnx.checker.check_model(proto, full_check=True)  # types and shapes too
    except Exception as error:  # tf2onnx and the checker raise many types
        raise ValueError(f"Cannot convert model {network.name!r} to ONNX: "
                         f"{_summary(error)}") from error
    metadata = _metadata(network, "onnx", height, width, multiple, opset=opset)
    proto.metadata_props.add(key=METADATA_KEY, value=json.dumps(metadata))
    proto.doc_string = (f"inpaint_tf inpainting model {network.name!r}: image [N, {height}, "
                        f"{width}, 3] in [0, 1], mask [N, {height}, {width}, 1] (1 = hole) "
                        "-> inpainted (the composite)")
    path = Path(path)
    with _io.atomic_path(path) as temporary:
        temporary.write_bytes(proto.SerializeToString())
    return path


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
            any size).
        multiple: size multiple the model needs; default `size_multiple(model)`.

    Returns:
        The path written.

    Raises:
        TypeError: `model` is not a `keras.Model`.
        ValueError: an unknown format, an option the format does not take or out of
            range, or a model the converter cannot handle. Nothing is written then.
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

    Returns:
        The metadata dict: ``format``, ``height``, ``width``, ``quantize`` (TFLite),
        ``opset`` (ONNX), ``inputs`` and ``outputs`` (shapes, dtypes, meaning), ...

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: the file is neither TFLite nor ONNX, or holds no inpaint_tf metadata.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No exported model file at {path}")
    content = path.read_bytes()
    if content[4:8] == b"TFL3":  # the TFLite flatbuffer's file identifier
        text = _tflite_metadata(content)
    else:
        text = _onnx_metadata(content, path)
    if text is None:
        raise ValueError(f"{path} holds no {METADATA_KEY!r} metadata: not written by "
                         "inpaint_tf's export")
    return json.loads(text)


def _tflite_metadata(content: bytes) -> str | None:
    from tensorflow.lite.python import schema_py_generated as schema

    flat = schema.Model.GetRootAsModel(content, 0)
    for index in range(flat.MetadataLength()):
        entry = flat.Metadata(index)
        if entry.Name().decode() == METADATA_KEY:
            buffer = flat.Buffers(entry.Buffer())
            if buffer.Offset() > 1:  # a model over 2 GB keeps its buffers after the flatbuffer
                return content[buffer.Offset():buffer.Offset() + buffer.Size()].decode()
            return buffer.DataAsNumpy().tobytes().decode()
    return None


def _onnx_metadata(content: bytes, path: Path) -> str | None:
    try:
        import onnx

        proto = onnx.load_model_from_string(content)
    except ImportError as error:
        raise ImportError(f"Reading ONNX metadata needs onnx: {_INSTALL_HINT}") from error
    except Exception as error:  # protobuf's DecodeError and friends
        raise ValueError(f"{path} is neither a TFLite nor an ONNX file") from error
    props = {prop.key: prop.value for prop in proto.metadata_props}
    return props.get(METADATA_KEY)


class ExportedModel:
    """A `.onnx` or `.tflite` file of `export_onnx` / `export_tflite`, run in its own
    runtime (ONNX Runtime's CPU provider; LiteRT, else ``tf.lite.Interpreter``) and
    called like the Keras model it came from, so that `inpaint_tf.inpaint` serves
    images of any size through it: ``inpaint(load_exported(path), photo, mask)`` runs
    the file on windows of its fixed size around the holes.

    Attributes:
        path, format ("onnx" or "tflite"), metadata (`read_export_metadata`),
        fixed_size: the (height, width) every input must have.

    Call arguments:
        inputs: ``{"image": (N, H, W, 3), "mask": (N, H, W, 1)}`` float32 of the fixed
            size, any N. ``training`` is accepted and ignored.

    Returns:
        The file's output ``inpainted`` (the composite, in [0, 1]) as a NumPy array.
    """

    def __init__(self, path, *, threads: int | None = None):
        self.path = Path(path)
        self.metadata = read_export_metadata(self.path)
        self.format = self.metadata.get("format")
        self.fixed_size = (int(self.metadata["height"]), int(self.metadata["width"]))
        self.name = self.metadata.get("model", self.path.stem)
        if self.format == "onnx":
            try:
                import onnxruntime
            except ImportError as error:
                raise ImportError(f"Running ONNX files needs onnxruntime: {_INSTALL_HINT}"
                                  ) from error
            options = onnxruntime.SessionOptions()
            if threads is not None:
                options.intra_op_num_threads = check_positive_int(threads, "threads")
            session = onnxruntime.InferenceSession(str(self.path), options,
                                                   providers=["CPUExecutionProvider"])
            self._run = lambda image, mask: session.run(
                ["inpainted"], {"image": image, "mask": mask})[0]
        else:
            try:
                from ai_edge_litert.interpreter import Interpreter
            except ImportError:
                import tensorflow as tf

                Interpreter = tf.lite.Interpreter
            runner = Interpreter(model_path=str(self.path), num_threads=threads
                                 ).get_signature_runner(SIGNATURE_NAME)
            self._run = lambda image, mask: runner(image=image, mask=mask)["inpainted"]

    def __call__(self, inputs: dict, training: bool = False):
        import numpy as np

        image = np.ascontiguousarray(inputs["image"], np.float32)
        mask = np.ascontiguousarray(inputs["mask"], np.float32)
        if tuple(image.shape[1:3]) != self.fixed_size or image.shape[1:3] != mask.shape[1:3]:
            raise ValueError(f"{self.path.name} takes images and masks of "
                             f"{self.fixed_size[0]}x{self.fixed_size[1]} only (inpaint_tf's "
                             "`inpaint` brings any image to that size). Received: "
                             f"image.shape={image.shape}, mask.shape={mask.shape}")
        return np.asarray(self._run(image, mask), np.float32)

    def __repr__(self) -> str:
        return (f"ExportedModel({str(self.path)!r}, format={self.format!r}, "
                f"fixed_size={self.fixed_size})")


def load_exported(path, *, threads: int | None = None) -> ExportedModel:
    """An exported `.onnx` or `.tflite` file, ready for `inpaint_tf.inpaint`.

    Args:
        path: a file of `export_onnx` or `export_tflite` (with its metadata).
        threads: CPU threads of the runtime; default the runtime's own.

    Returns:
        An `ExportedModel`: callable like a Keras model at its fixed size, and served
        at any size by `inpaint` (windows of the fixed size around the holes).

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: not a file of inpaint_tf's export.
        ImportError: its runtime is not installed (the ``export`` extra).

    Example:
        >>> export_onnx(model, "unet.onnx", height=64, width=64)            # doctest: +SKIP
        >>> from inpaint_tf import inpaint                                   # doctest: +SKIP
        >>> filled = inpaint(load_exported("unet.onnx"), photo, holes)      # doctest: +SKIP
    """
    return ExportedModel(path, threads=threads)
