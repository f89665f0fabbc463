"""TFLite (LiteRT) and ONNX export: every model family, run in its own runtime, matches
Keras; quantised files stay within their stated tolerances; the files record their
contract; bad options and unconvertible models raise one ValueError and write nothing."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_export_options import constant_elements

from inpaint_tf import cli, export, inference
from inpaint_tf.layers import DilatedConv2D, PartialConv2D
from inpaint_tf.models import build_glcic_generator, build_pconv_unet, build_unet_autoencoder

# Max abs difference to Keras (`inference.inpaint`) over the whole composite, and mean
# abs difference over the hole pixels. float32 files: the 1e-4 (measured: at
# most 1.2e-5, the GLCIC generator's 6M weights). Quantised TFLite files change the
# weights, so the holes change: float16 measured up to 3.4e-3 max, 5.6e-4 mean;
# dynamic (int8 weights) up to 0.13 max, 0.021 mean (GLCIC, 16 layers of random
# weights). The bounds leave about 2x headroom.
TOLERANCES = {None: (1e-4, 1e-5), "float16": (1e-2, 2e-3), "dynamic": (0.25, 0.05)}

TINY_PCONV = dict(encoder=((4, 3), (8, 3)), stride_one_first=True, decoder=((8, 8), (4, 3)),
                  decoder_kernel=3, batch_norm=False, decoder_activation="relu",
                  final_conv=True)

# family -> (builder, export options): one size that is no multiple of the model's 4
# (the file pads and crops at a fixed size), two defaults (32 x 32).
FAMILIES = {
    "conv_unet": (lambda: build_unet_autoencoder((None, None, 3), filters=(4, 8),
                                                 bottleneck_filters=8),
                  {"height": 30, "width": 21}),
    "pconv_unet": (lambda: build_pconv_unet((None, None, 3), preset=TINY_PCONV), {}),
    "glcic_generator": (lambda: build_glcic_generator((None, None, 3)), {}),
}
FAMILY_LAYER = {"pconv_unet": PartialConv2D, "glcic_generator": DilatedConv2D}


def _batch(height: int, width: int, n: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    image = rng.uniform(size=(n, height, width, 3)).astype(np.float32)
    mask = (rng.uniform(size=(n, height, width, 1)) > 0.6).astype(np.float32)
    return image, mask


def _spread_weights(model, image, mask, seed: int = 0):
    """He-normal kernels, small random biases and BatchNorm statistics of a real batch.

    Fresh networks answer about 0.5 everywhere (the GLCIC generator within 3e-6), which
    any file would match; these weights give outputs that vary (std 0.1-0.2), so a
    wrong or missing op shows."""
    rng = np.random.default_rng(seed)
    for weight in model.trainable_weights:
        shape = tuple(weight.shape)
        if len(shape) == 4:
            scale = np.sqrt(2.0 / np.prod(shape[:3]))
            weight.assign(rng.normal(0.0, scale, shape).astype(np.float32))
        elif weight.path.endswith(("bias", "beta")):
            weight.assign(rng.normal(0.0, 0.1, shape).astype(np.float32))
    norms = [layer for layer in model._flatten_layers()
             if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in norms:
        layer.momentum = 0.0  # one training-mode call sets the moving statistics
    if norms:
        model({"image": image, "mask": mask}, training=True)
    for layer in norms:
        layer.momentum = 0.99
    return model


@pytest.fixture(scope="module", params=list(FAMILIES))
def family(request):
    """(name, model, image, mask, expected) with Keras' composite as `expected`."""
    keras.mixed_precision.set_global_policy("float32")
    keras.utils.set_random_seed(0)
    build, options = FAMILIES[request.param]
    model = build()
    image, mask = _batch(options.get("height", export.DEFAULT_SIZE),
                         options.get("width", export.DEFAULT_SIZE))
    _spread_weights(model, image, mask)
    expected = inference.inpaint(model, image, mask)
    hole = np.broadcast_to(mask > 0.5, image.shape)
    assert expected[hole].std() > 0.05, "the test network's output barely varies"
    if request.param in FAMILY_LAYER:
        layer = FAMILY_LAYER[request.param]
        assert any(isinstance(x, layer) for x in model._flatten_layers())
    return request.param, model, image, mask, expected


def _interpreter(path):
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # the LiteRT package is missing: TensorFlow's own, deprecated
        Interpreter = tf.lite.Interpreter
    return Interpreter(model_path=str(path))


def _run_tflite(path, image, mask):
    runner = _interpreter(path).get_signature_runner(export.SIGNATURE_NAME)
    return runner(image=image, mask=mask)["inpainted"]


def _run_onnx(path, image, mask):
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["inpainted"], {"image": image, "mask": mask})[0]


def _assert_close(served, expected, image, mask, quantize=None):
    largest, hole_mean = TOLERANCES[quantize]
    difference = np.abs(served - expected)
    hole = np.broadcast_to(mask > 0.5, image.shape)
    assert served.shape == expected.shape and served.dtype == np.float32
    assert difference.max() <= largest, f"max abs difference {difference.max():.2e}"
    assert difference[hole].mean() <= hole_mean, f"hole mean {difference[hole].mean():.2e}"
    # Known pixels are the input's, bit for bit, whatever the weights became.
    np.testing.assert_array_equal(served[~hole], image[~hole])


def _assert_weights_stored_as(path, model, quantize):
    """The file holds the weights as `quantize` promises, read from the file itself: a
    float32 file would pass the output bounds of a quantised one. (At 32 x 32 the
    GLCIC generator's DilatedConv2D drops the taps that read only padding: its file
    holds 83 % of the kernels' weights.)"""
    counts = constant_elements(path)
    sizes = [int(np.prod(w.shape)) for w in model.weights]
    kernels = sum(size for w, size in zip(model.weights, sizes) if len(w.shape) == 4)
    if quantize is None:
        assert counts["FLOAT32"] >= 0.8 * kernels and not {"FLOAT16", "INT8"} & set(counts)
    elif quantize == "float16":
        assert counts.get("FLOAT32", 0) == 0 and counts["FLOAT16"] >= 0.8 * kernels
    else:  # int8 for the weights of 1,024 values and more
        assert counts["INT8"] >= 0.8 * sum(size for size in sizes if size >= 1024)
        assert "FLOAT16" not in counts


# --------------------------------------------------------------------------- parity


@pytest.mark.parametrize("quantize", export.QUANTIZATIONS)
def test_tflite_matches_keras(family, quantize, tmp_path):
    name, model, image, mask, expected = family
    path = export.export_tflite(model, tmp_path / f"{name}.tflite", quantize=quantize,
                                **FAMILIES[name][1])
    _assert_close(_run_tflite(path, image, mask), expected, image, mask, quantize)
    _assert_weights_stored_as(path, model, quantize)
    if quantize is None:  # any batch: the signature runner resizes the inputs
        _assert_close(_run_tflite(path, image[:1], mask[:1]), expected[:1], image[:1],
                      mask[:1])


def test_onnx_matches_keras(family, tmp_path):
    name, model, image, mask, expected = family
    path = export.export_onnx(model, tmp_path / f"{name}.onnx", **FAMILIES[name][1])
    _assert_close(_run_onnx(path, image, mask), expected, image, mask)
    _assert_close(_run_onnx(path, image[:1], mask[:1]), expected[:1], image[:1], mask[:1])


def test_mixed_precision_model_is_exported_in_float32(tmp_path):
    """A run trained under mixed_bfloat16 exports: the files compute its weights in
    float32 (TFLite builtins and ONNX Runtime have no bfloat16 kernels)."""
    keras.utils.set_random_seed(0)
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    mixed = build_pconv_unet((None, None, 3), preset=TINY_PCONV)
    keras.mixed_precision.set_global_policy("float32")
    same = build_pconv_unet((None, None, 3), preset=TINY_PCONV)
    same.set_weights(mixed.get_weights())
    image, mask = _batch(32, 32)
    expected = inference.inpaint(same, image, mask)
    tflite = export.export_tflite(mixed, tmp_path / "mixed.tflite")
    onnx_path = export.export_onnx(mixed, tmp_path / "mixed.onnx")
    for served in (_run_tflite(tflite, image, mask), _run_onnx(onnx_path, image, mask)):
        _assert_close(served, expected, image, mask)
    metadata = export.read_export_metadata(tflite)
    assert metadata["model_dtype_policy"] == "mixed_bfloat16"
    assert metadata["computed_in"] == "float32"


# --------------------------------------------------------------------------- metadata


@pytest.fixture(scope="module")
def tiny_unet():
    keras.mixed_precision.set_global_policy("float32")
    keras.utils.set_random_seed(0)
    return build_unet_autoencoder((None, None, 3), filters=(4, 8), bottleneck_filters=8)


def test_files_state_their_fixed_size_in_their_metadata(tiny_unet, tmp_path):
    import onnx

    tflite = export.export_tflite(tiny_unet, tmp_path / "u.tflite", quantize="float16",
                                  height=24, width=40)
    onnx_path = export.export_onnx(tiny_unet, tmp_path / "u.onnx")
    first, second = export.read_export_metadata(tflite), export.read_export_metadata(onnx_path)
    assert (first["format"], first["height"], first["width"]) == ("tflite", 24, 40)
    assert (first["quantize"], first["signature"]) == ("float16", "serve")
    assert (second["format"], second["height"], second["width"]) == ("onnx", 32, 32)
    assert second["opset"] == export.ONNX_OPSET
    for metadata, size in ((first, [24, 40]), (second, [32, 32])):
        assert metadata["inputs"]["image"]["shape"] == [None, *size, 3]
        assert metadata["inputs"]["mask"]["shape"] == [None, *size, 1]
        assert "1 = hole" in metadata["inputs"]["mask"]["meaning"]
        assert metadata["outputs"]["inpainted"]["shape"] == [None, *size, 3]
        assert metadata["model"] == "unet_autoencoder" and metadata["size_multiple"] == 4

    # What each runtime itself reports agrees with the metadata.
    details = {d["name"]: list(d["shape_signature"])
               for d in _interpreter(tflite).get_input_details()}
    assert sorted(details.values()) == [[-1, 24, 40, 1], [-1, 24, 40, 3]]
    proto = onnx.load(str(onnx_path))
    props = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(props[export.METADATA_KEY]) == second
    shapes = {i.name: [d.dim_value or None for d in i.type.tensor_type.shape.dim]
              for i in proto.graph.input}
    assert shapes == {"image": [None, 32, 32, 3], "mask": [None, 32, 32, 1]}
    assert [o.name for o in proto.graph.output] == ["inpainted"]


def test_static_model_size_is_the_default(tmp_path):
    keras.utils.set_random_seed(0)
    model = build_unet_autoencoder((16, 24, 3), filters=(4,), bottleneck_filters=4)
    path = export.export_model(model, tmp_path / "m.tflite", format="tflite")
    metadata = export.read_export_metadata(path)
    assert (metadata["height"], metadata["width"]) == (16, 24)


def test_read_export_metadata_rejects_other_files(tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("not a model")
    with pytest.raises(ValueError, match="no 'inpaint_tf' metadata|neither"):
        export.read_export_metadata(other)
    with pytest.raises(FileNotFoundError):
        export.read_export_metadata(tmp_path / "missing.onnx")


# --------------------------------------------------------------------------- bad input


@keras.saving.register_keras_serializable(package="test_export_formats")
class Igamma(keras.layers.Layer):
    """The regularised incomplete gamma function: neither TFLite's builtin ops nor ONNX
    have it."""

    def call(self, inputs):
        return tf.math.igamma(inputs + 1.0, inputs + 2.0)


def _unconvertible_model():
    image = keras.Input((None, None, 3), name="image")
    mask = keras.Input((None, None, 1), name="mask")
    return keras.Model({"image": image, "mask": mask}, Igamma()(image), name="gamma")


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("fmt", ["tflite", "onnx"])
def test_unconvertible_model_is_one_value_error_and_writes_nothing(fmt, tmp_path):
    target = tmp_path / f"gamma.{fmt}"
    with pytest.raises(ValueError, match="Cannot convert model 'gamma' to .*Igamma"):
        export.export_model(_unconvertible_model(), target, format=fmt)
    assert not target.exists() and _leftovers(tmp_path) == []


def test_failed_conversion_keeps_the_previous_file(tiny_unet, tmp_path):
    target = tmp_path / "model.onnx"
    export.export_onnx(tiny_unet, target)
    before = target.read_bytes()
    with pytest.raises(ValueError, match="Cannot convert"):
        export.export_onnx(_unconvertible_model(), target)
    assert target.read_bytes() == before and _leftovers(tmp_path) == ["model.onnx"]


@pytest.mark.parametrize("options, message", [
    ({"format": "tflite", "quantize": "int3"}, r"`quantize` must be one of .*quantize='int3'"),
    ({"format": "xyz"}, r"`format` must be one of .*format='xyz'"),
    ({"format": "onnx", "quantize": "float16"}, "applies to format='tflite' only"),
    ({"format": "saved_model", "height": 32}, "A SavedModel takes any height and width"),
    ({"format": "tflite", "height": 0}, r"Received: height=0"),
    ({"format": "onnx", "width": 2.5}, r"Received: width=2.5"),
    ({"format": "tflite", "multiple": -1}, r"Received: multiple=-1"),
])
def test_bad_options_are_one_value_error_and_write_nothing(tiny_unet, tmp_path, options,
                                                            message):
    target = tmp_path / "model.out"
    with pytest.raises(ValueError, match=message):
        export.export_model(tiny_unet, target, **options)
    assert not target.exists() and _leftovers(tmp_path) == []


@pytest.mark.parametrize("function", [export.export_tflite, export.export_onnx])
def test_export_rejects_non_models(function, tmp_path):
    with pytest.raises(TypeError, match="keras.Model"):
        function(lambda x: x, tmp_path / "x")


# --------------------------------------------------------------------------- CLI


def test_cli_exports_each_format(tiny_unet, tmp_path, capsys):
    model = tmp_path / "model.keras"
    tiny_unet.save(model)
    assert cli.main(["export", str(model), "--format", "tflite", "--quantize", "dynamic",
                     "--height", "16", "--out", str(tmp_path / "m.tflite")]) == 0
    assert "fixed 16x32, any batch" in capsys.readouterr().out
    assert export.read_export_metadata(tmp_path / "m.tflite")["quantize"] == "dynamic"
    assert cli.main(["export", str(model), "--format", "onnx",
                     "--out", str(tmp_path / "m.onnx")]) == 0
    assert "onnx file written to" in capsys.readouterr().out
    image, mask = _batch(32, 32, n=1)
    _assert_close(_run_onnx(tmp_path / "m.onnx", image, mask),
                  inference.inpaint(tiny_unet, image, mask), image, mask)


@pytest.mark.parametrize("argv, message", [
    (["--format", "xyz"], "invalid choice: 'xyz'"),
    (["--format", "onnx", "--quantize", "float16"], "applies to format='tflite' only"),
])
def test_cli_bad_export_options_exit_2_and_write_nothing(tiny_unet, tmp_path, capsys, argv,
                                                         message):
    model = tmp_path / "model.keras"
    tiny_unet.save(model)
    target = tmp_path / "out.file"
    try:
        code = cli.main(["export", str(model), "--out", str(target), *argv])
    except SystemExit as stop:  # argparse's usage error
        code = stop.code
    assert code == cli.EXIT_BAD_INPUT
    assert message in capsys.readouterr().err
    assert not target.exists()


@pytest.mark.parametrize("fmt, message", [
    ("tflite", "to TFLite: TFLite's builtin ops cannot express tf.Igamma"),
    ("onnx", "to ONNX: ONNX has no op for TensorFlow's Igamma"),
])
def test_cli_unconvertible_model_is_one_line_and_exit_2(fmt, message, tmp_path, capfd):
    model = tmp_path / "gamma.keras"
    _unconvertible_model().save(model)
    target = tmp_path / f"gamma.{fmt}"
    code = cli.main(["export", str(model), "--format", fmt, "--out", str(target)])
    lines = capfd.readouterr().err.strip().splitlines()
    assert code == cli.EXIT_BAD_INPUT and not target.exists()
    assert lines == [f"inpaint-tf: error: Cannot convert model 'gamma' {message}"]
