"""Running an exported TFLite or ONNX file in its own runtime, called like a Keras
model, so that `inpaint` serves it at any size."""

from __future__ import annotations

from pathlib import Path

from inpaint_tf._validation import check_positive_int
from inpaint_tf.export._common import INSTALL_HINT, SIGNATURE_NAME
from inpaint_tf.export.formats import read_export_metadata


class ExportedModel:
    """A `.onnx` or `.tflite` file of `export_onnx` / `export_tflite`, run in its own
    runtime (ONNX Runtime's CPU provider; LiteRT, else ``tf.lite.Interpreter``) and
    called like the Keras model it came from, so that `inpaint_tf.inpaint` serves
    images of any size through it: ``inpaint(load_exported(path), photo, mask)`` runs
    the file on windows of its fixed size around the holes.

    Attributes:
        path: the file.
        format: "onnx" or "tflite".
        metadata: the contract the file records (`read_export_metadata`).
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
                raise ImportError(f"Running ONNX files needs onnxruntime: {INSTALL_HINT}"
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
