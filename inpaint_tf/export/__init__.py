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
  and W (`default_size`: the model's static size, else the size its windows need,
  256 x 256 for the released ``photo_unet`` and 32 x 32 for the study's models; a
  size under `minimum_size` is refused) and any batch size, only TFLite builtin
  ops (no Flex delegate needed); optional float16 or dynamic-range (int8 weights)
  quantisation. Runs in the LiteRT interpreter (``ai_edge_litert``) or
  ``tf.lite.Interpreter``.
- `export_onnx`: one ``.onnx`` file (opset 17) with a fixed H and W and any batch
  size, for ONNX Runtime. Fixed because tf2onnx drops the run-time padding of a
  size-agnostic graph (a size that is no multiple fails in the first skip
  concatenation), while a fixed size pads correctly.
- Every TFLite and ONNX file runs once on a photo-like check input before it is
  written (TFLite under its default delegates, XNNPACK on CPUs): a file that
  returns NaN or Inf is a `ValueError` naming the likely cause (`checks`).
- `load_exported` (from `inpaint_tf.serving`, which needs no TensorFlow): a TFLite or
  ONNX file in its runtime, called like a Keras model; ``inpaint(load_exported(path),
  photo, mask)`` serves images of any size through it, on windows of its fixed size
  around the holes, with or without TensorFlow installed.

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

The ``export`` extra (``pip install "<clone, wheel or git URL>[export]"``,
docs/installing.md) installs tf2onnx, ONNX Runtime and LiteRT.

Example:
    >>> from inpaint_tf.export import export_onnx, export_saved_model, export_tflite
    >>> export_saved_model(model, "exported/unet")                       # doctest: +SKIP
    >>> served = tf.saved_model.load("exported/unet")                    # doctest: +SKIP
    >>> served.serve(image=images, mask=masks)["inpainted"]              # doctest: +SKIP
    >>> export_tflite(model, "exported/unet.tflite", quantize="float16")  # doctest: +SKIP
    >>> export_onnx(model, "exported/unet.onnx", height=64, width=64)    # doctest: +SKIP
"""

from inpaint_tf.export._common import FORMATS, ONNX_OPSET, QUANTIZATIONS
from inpaint_tf.export.formats import export_model, read_export_metadata
from inpaint_tf.export.onnx import export_onnx
from inpaint_tf.export.saved_model import export_saved_model
from inpaint_tf.export.sizes import DEFAULT_SIZE, default_size, minimum_size
from inpaint_tf.export.tflite import export_tflite
from inpaint_tf.serving import METADATA_KEY, SIGNATURE_NAME, ExportedModel, load_exported

__all__ = [
    "DEFAULT_SIZE", "FORMATS", "METADATA_KEY", "ONNX_OPSET", "QUANTIZATIONS",
    "SIGNATURE_NAME", "ExportedModel", "default_size", "export_model", "export_onnx",
    "export_saved_model", "export_tflite", "load_exported", "minimum_size",
    "read_export_metadata",
]
