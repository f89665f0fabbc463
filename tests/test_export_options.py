"""The export's options, on a tiny model in seconds: the checks and defaults, how
`export_model` routes each format, the metadata every file records, and the weights
each TFLite option writes (float32, float16 or int8: read from the file itself, not
inferred from the outputs, which a float32 file would match as closely)."""

import json
import logging
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

import inpaint_tf
from inpaint_tf import export
from inpaint_tf.export import _common, formats


def _model(static=None, name="tiny"):
    """image + mask -> a stride-2 conv (1,152 weights: enough for int8) -> upsampling
    -> a conv (864 weights: below the converter's 1,024, kept float32 by "dynamic")."""
    size = tuple(static or (None, None))
    image = keras.Input((*size, 3), name="image")
    mask = keras.Input((*size, 1), name="mask")
    x = keras.layers.Concatenate()([image, mask])
    x = keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(x)
    x = keras.layers.UpSampling2D(2)(x)
    output = keras.layers.Conv2D(3, 3, padding="same", activation="sigmoid")(x)
    return keras.Model({"image": image, "mask": mask}, output, name=name)


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return _model()


def constant_elements(path) -> dict[str, int]:
    """Elements of a TFLite file's constant tensors (its weights, shapes), by type."""
    from tensorflow.lite.python import schema_py_generated as schema

    names = {value: name for name, value in vars(schema.TensorType).items()
             if not name.startswith("_")}
    flat = schema.Model.GetRootAsModel(open(path, "rb").read(), 0)
    counts = {}
    for number in range(flat.SubgraphsLength()):
        graph = flat.Subgraphs(number)
        for index in range(graph.TensorsLength()):
            tensor = graph.Tensors(index)
            buffer = flat.Buffers(tensor.Buffer())
            if buffer.DataLength() == 0 and buffer.Offset() <= 1:
                continue  # an activation, not a constant
            size = int(np.prod(tensor.ShapeAsNumpy())) if tensor.ShapeLength() else 1
            counts[names[tensor.Type()]] = counts.get(names[tensor.Type()], 0) + size
    return counts


def _run_tflite(path, image, mask):
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=str(path)).get_signature_runner(export.SIGNATURE_NAME)
    return runner(image=image, mask=mask)["inpainted"]


@pytest.fixture(scope="module")
def files(model, tmp_path_factory):
    """The model as a TFLite file per option (float32 at 24 x 40, the others at 32 x 32)."""
    folder = tmp_path_factory.mktemp("tflite")
    size = {None: {"height": 24, "width": 40}}
    return {q: export.export_tflite(model, folder / f"{q}.tflite", quantize=q,
                                    **size.get(q, {}))
            for q in export.QUANTIZATIONS}


def test_each_tflite_option_stores_the_weights_it_promises(model, files):
    weights = {w.path: int(np.prod(w.shape)) for w in model.weights}
    assert sorted(weights.values()) == [3, 32, 864, 1152]
    counts = {q: constant_elements(path) for q, path in files.items()}
    # float32: every weight as float32, nothing narrower.
    assert counts[None]["FLOAT32"] >= sum(weights.values())
    assert "FLOAT16" not in counts[None] and "INT8" not in counts[None]
    # float16: the same constants, every one of them float16.
    assert counts["float16"].get("FLOAT32", 0) == 0
    assert counts["float16"]["FLOAT16"] == counts[None]["FLOAT32"]
    # dynamic: the kernel of 1,152 weights as int8, the rest (under 1,024) float32.
    assert counts["dynamic"]["INT8"] == 1152 and "FLOAT16" not in counts["dynamic"]
    assert counts["dynamic"]["FLOAT32"] == counts[None]["FLOAT32"] - 1152
    # Each narrower weight saves bytes (2 of 4 for float16, 3 for int8) less the cost of
    # the dequantising ops the converter adds: at least half of that here.
    sizes = {q: path.stat().st_size for q, path in files.items()}
    assert sizes[None] - sizes["float16"] >= 1 * counts["float16"]["FLOAT16"]
    assert sizes[None] - sizes["dynamic"] >= 2 * 1152
    for quantize, path in files.items():
        metadata = export.read_export_metadata(path)
        assert (metadata["format"], metadata["quantize"]) == ("tflite", quantize)
        assert metadata["signature"] == "serve"
    assert sorted(p.name for p in files[None].parent.iterdir()) == [
        "None.tflite", "dynamic.tflite", "float16.tflite"]  # nothing left beside them


@pytest.mark.parametrize("quantize, tolerance", [(None, 1e-5), ("float16", 2e-3),
                                                 ("dynamic", 0.05)])
def test_every_file_serves_the_composite(model, files, quantize, tolerance):
    height, width = (24, 40) if quantize is None else (32, 32)
    rng = np.random.default_rng(0)
    image = rng.uniform(size=(2, height, width, 3)).astype(np.float32)
    mask = (rng.uniform(size=(2, height, width, 1)) > 0.7).astype(np.float32)
    expected = np.where(mask > 0.5, model({"image": image, "mask": mask}).numpy(), image)
    served = _run_tflite(files[quantize], image, mask)
    known = mask[..., 0] == 0
    np.testing.assert_array_equal(served[known], image[known])  # bit for bit
    np.testing.assert_allclose(served, expected, atol=tolerance)


def test_the_metadata_states_the_contract(model, tmp_path):
    # Its own file, not the module's: a test that writes the file is the one that
    # covers what writing it computes (mutation testing picks tests by the calls they make).
    metadata = export.read_export_metadata(
        export.export_tflite(model, tmp_path / "contract.tflite", height=24, width=40))
    spec = {"dtype": "float32"}
    assert metadata == {
        "producer": f"inpaint_tf {inpaint_tf.__version__}", "format": "tflite",
        "model": "tiny", "height": 24, "width": 40, "batch": "any", "size_multiple": 2,
        "computed_in": "float32", "model_dtype_policy": "float32", "quantize": None,
        "signature": "serve",
        "inputs": {"image": {**spec, "shape": [None, 24, 40, 3], "meaning": "RGB in [0, 1]"},
                   "mask": {**spec, "shape": [None, 24, 40, 1],
                            "meaning": "1 = hole (values above 0.5), 0 = known"}},
        "outputs": {"inpainted": {**spec, "shape": [None, 24, 40, 3], "meaning": (
            "the composite: model output in the holes, the input image elsewhere, "
            "clipped to [0, 1]")}},
    }


@pytest.mark.parametrize("value", [None, "float16", "dynamic"])
def test_known_quantizations_pass(value):
    assert _common.checked_quantize(value) == value


@pytest.mark.parametrize("value", ["FLOAT16", "int8", "", 16, "none"])
def test_other_quantizations_are_refused(value):
    with pytest.raises(ValueError, match=re.escape(
            f"`quantize` must be one of [None, 'float16', 'dynamic']. "
            f"Received: quantize={value!r}")):
        _common.checked_quantize(value)


def test_the_fixed_size_defaults_to_the_models_static_size_else_32():
    dynamic, static = _model(), _model(static=(16, 24))
    assert _common.fixed_size(dynamic, None, None) == (32, 32)
    assert _common.fixed_size(dynamic, 24, None) == (24, 32)
    assert _common.fixed_size(dynamic, None, 40) == (32, 40)
    assert _common.fixed_size(static, None, None) == (16, 24)
    assert _common.fixed_size(static, 8, None) == (8, 24)
    assert _common.fixed_size(static, None, 8) == (16, 8)
    half = _model(static=(16, None))
    assert _common.fixed_size(half, None, None) == (16, 32)
    # A model without an input named "image" has no static size to offer.
    pixels = keras.Input((20, 20, 3), name="pixels")
    other = keras.Model(pixels, keras.layers.Identity()(pixels))
    assert _common.fixed_size(other, None, None) == (32, 32)
    assert _common.fixed_size(object(), None, None) == (32, 32)


def _harmonic_model(levels: int = 8, name="harmonic", pool: int = 1):
    """image + mask -> `HarmonicFill(levels)` -> a 3x3 conv (after `pool` x `pool` max
    pooling and upsampling, so that the size multiple is `pool`)."""
    from inpaint_tf.layers import HarmonicFill

    image = keras.Input((None, None, 3), name="image")
    mask = keras.Input((None, None, 1), name="mask")
    x = HarmonicFill(levels=levels, iterations=2)([image, mask])
    if pool > 1:
        x = keras.layers.UpSampling2D(pool)(keras.layers.MaxPooling2D(pool)(x))
    output = keras.layers.Conv2D(3, 3, padding="same")(x)
    return keras.Model({"image": image, "mask": mask}, output, name=name)


@pytest.mark.parametrize("levels, pool, minimum, default", [
    # 4 * MIN_CONTEXT (32 px): inpaint's minimum context on each side of a hole, a
    # quarter of a window's side; the default adds the coarsest cell, 2 ** levels.
    (8, 1, 128, 256), (9, 1, 128, 512), (2, 1, 128, 128), (5, 1, 128, 128),
    # ... rounded up to the size multiple.
    (2, 48, 144, 144), (8, 48, 144, 288),
])
def test_a_harmonic_prefill_needs_windows_that_hold_its_context(levels, pool, minimum,
                                                                 default):
    network = _harmonic_model(levels, pool=pool)
    assert export.minimum_size(network) == minimum
    assert export.default_size(network) == (default, default)
    assert _common.fixed_size(network, None, None) == (default, default)


@pytest.mark.parametrize("multiple, minimum", [(1, 1), (2, 1), (16, 8), (64, 32), (5, 3)])
def test_other_networks_need_half_their_size_multiple_and_default_to_32(multiple, minimum):
    """The mirror padding to the multiple adds at most the side itself."""
    network = _model()
    assert export.minimum_size(network, multiple) == minimum
    assert export.default_size(network, multiple) == (32, 32)
    assert _common.fixed_size(network, minimum, minimum, multiple) == (minimum, minimum)
    if minimum == 1:
        return  # 0 is no positive integer
    with pytest.raises(ValueError, match=re.escape(
            f"needs a fixed size of at least {minimum}x{minimum} (the mirror padding to "
            "its size multiple adds at most the side itself)")):
        _common.fixed_size(network, 32, minimum - 1, multiple)


def test_released_models_default_to_the_size_they_need():
    photo = inpaint_tf.pretrained("photo_unet")
    assert (export.default_size(photo), export.minimum_size(photo)) == ((256, 256), 128)
    study = inpaint_tf.pretrained("own_unet_irregular")  # trained on 32 x 32 images
    assert (export.default_size(study), export.minimum_size(study)) == ((32, 32), 8)
    from inpaint_tf.models import build_unet_autoencoder

    static = build_unet_autoencoder((32, 32, 3))  # a study model built for 32 x 32
    assert export.default_size(static) == (32, 32)


@pytest.mark.parametrize("height, width", [(64, None), (None, 127), (32, 32), (127, 500)])
def test_a_size_smaller_than_the_model_needs_is_refused_with_the_size(height, width,
                                                                      tmp_path):
    network = _harmonic_model(8)
    shown = (height or 256, width or 256)
    message = ("Model 'harmonic' needs a fixed size of at least 128x128 (a window of side S "
               "gives a hole at most S/4 px of context, and its HarmonicFill needs "
               "inpaint's 32 px on every side); its default is 256x256. Received: "
               f"height={shown[0]}, width={shown[1]}")
    with pytest.raises(ValueError, match=re.escape(message)):
        _common.fixed_size(network, height, width)
    for fmt in ("tflite", "onnx"):  # refused before any conversion: nothing written
        with pytest.raises(ValueError, match=re.escape(message)):
            formats.export_model(network, tmp_path / f"f.{fmt}", format=fmt, height=height,
                                 width=width)
        assert not (tmp_path / f"f.{fmt}").exists()
    assert _common.fixed_size(network, 128, 300) == (128, 300)


def test_a_static_side_is_never_refused():
    """A model built for one size takes that size (and says so at conversion)."""
    assert _common.fixed_size(_model(static=(16, 24)), None, None) == (16, 24)


@pytest.mark.parametrize("height, width, name", [
    (0, 32, "height"), (32, 0, "width"), (-8, None, "height"), (2.5, None, "height"),
    (None, True, "width"),
])
def test_sizes_that_are_no_positive_integer_are_refused(model, height, width, name):
    with pytest.raises(ValueError, match=f"`{name}` must be a positive integer"):
        _common.fixed_size(model, height, width)


def test_the_size_multiple_defaults_to_the_models(model):
    assert _common.checked_multiple(model, None) == 2
    assert _common.checked_multiple(model, 8) == 8
    with pytest.raises(ValueError, match="`multiple` must be a positive integer"):
        _common.checked_multiple(model, 0)


@pytest.mark.parametrize("message, summary", [
    ("x\n'tf.Lgamma' op is neither a custom op nor a flex op\n"
     "'tf.Igamma' op is neither a custom op nor a flex op\n"
     "'tf.Lgamma' op is neither a custom op nor a flex op",
     "TFLite's builtin ops cannot express tf.Igamma, tf.Lgamma"),
    ("Converter failed\n  at model.py: error: the op is wrong\n  more: error: later",
     "the op is wrong"),
    ("a: error: b error: the last part", "the last part"),
    ("fail\n x error: loc(callsite(\"a\" at \"b\")): unsupported thing",
     "unsupported thing"),
    ("\n\n  first line  \nsecond line", "first line"),
    ("", "RuntimeError"),
])
def test_a_converter_message_is_summed_up_in_its_informative_part(message, summary):
    assert _common.summary(RuntimeError(message)) == summary


def test_loggers_are_quiet_inside_the_block_only():
    first, second = logging.getLogger("inpaint_tf_a"), logging.getLogger("inpaint_tf_b")
    first.setLevel(logging.DEBUG)
    second.setLevel(logging.INFO)
    with _common.quiet_loggers("inpaint_tf_a", "inpaint_tf_b"):
        assert (first.level, second.level) == (logging.WARNING, logging.WARNING)
    assert (first.level, second.level) == (logging.DEBUG, logging.INFO)
    with pytest.raises(KeyError):
        with _common.quiet_loggers("inpaint_tf_a", level=logging.CRITICAL):
            assert first.level == logging.CRITICAL
            raise KeyError
    assert first.level == logging.DEBUG


def _recorder(calls, name):
    def record(model, path, **options):
        calls.append((name, path, options))
        return path
    return record


def test_export_model_routes_each_format_with_its_options(model, monkeypatch):
    calls = []
    for name in ("export_saved_model", "export_tflite", "export_onnx"):
        monkeypatch.setattr(formats, name, _recorder(calls, name))
    assert export.export_model(model, "a") == "a"
    export.export_model(model, "b", format="saved_model", multiple=4)
    export.export_model(model, "c", format="tflite", quantize="dynamic", height=8, width=16,
                        multiple=2)
    export.export_model(model, "d", format="tflite")
    export.export_model(model, "e", format="onnx", height=24, width=40, multiple=8)
    assert calls == [
        ("export_saved_model", "a", {"multiple": None}),
        ("export_saved_model", "b", {"multiple": 4}),
        ("export_tflite", "c", {"quantize": "dynamic", "height": 8, "width": 16,
                                "multiple": 2}),
        ("export_tflite", "d", {"quantize": None, "height": None, "width": None,
                                "multiple": None}),
        ("export_onnx", "e", {"height": 24, "width": 40, "multiple": 8}),
    ]


@pytest.mark.parametrize("options, message", [
    ({"format": "pb"}, "`format` must be one of ['saved_model', 'tflite', 'onnx']. "
                       "Received: format='pb'"),
    ({"format": "onnx", "quantize": "float16"}, "`quantize` applies to format='tflite' only"),
    ({"quantize": "dynamic"}, "`quantize` applies to format='tflite' only. Received: "
                              "quantize='dynamic' with format='saved_model'"),
    ({"height": 32}, "A SavedModel takes any height and width"),
    ({"width": 32}, "Received: height=None, width=32"),
])
def test_export_model_refuses_options_its_format_does_not_take(model, monkeypatch, options,
                                                               message):
    calls = []
    for name in ("export_saved_model", "export_tflite", "export_onnx"):
        monkeypatch.setattr(export, name, _recorder(calls, name))
    with pytest.raises(ValueError, match=re.escape(message)):
        export.export_model(model, "x", **options)
    assert calls == []


def test_the_network_exported_is_a_gans_generator_never_its_wrapper(model):
    class Wrapper(keras.Model):
        def __init__(self, generator):
            super().__init__()
            self.generator = generator

    assert _common.exported_network(Wrapper(model)) is model
    assert _common.exported_network(model) is model
    model_with_a_name = _model()
    model_with_a_name.generator = "not a model"
    assert _common.exported_network(model_with_a_name) is model_with_a_name
    with pytest.raises(TypeError, match="`model` must be a keras.Model. Received: function"):
        _common.exported_network(lambda x: x)


def test_a_model_the_converter_cannot_express_is_one_error_and_no_file(tmp_path):
    image = keras.Input((None, None, 3), name="image")
    mask = keras.Input((None, None, 1), name="mask")
    gamma = keras.layers.Lambda(lambda t: tf.math.igamma(t + 1.0, t + 2.0))(image)
    unconvertible = keras.Model({"image": image, "mask": mask}, gamma, name="gamma")
    with pytest.raises(ValueError, match=re.escape(
            "Cannot convert model 'gamma' to TFLite: TFLite's builtin ops cannot express "
            "tf.Igamma")):
        export.export_tflite(unconvertible, tmp_path / "gamma.tflite")
    assert list(tmp_path.iterdir()) == []


def _onnx_file(path, props):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    proto = helper.make_model(graph)
    for key, value in props.items():
        proto.metadata_props.add(key=key, value=value)
    path.write_bytes(proto.SerializeToString())
    onnx.checker.check_model(proto)
    return path


def test_onnx_metadata_is_read_by_its_key(tmp_path):
    path = _onnx_file(tmp_path / "m.onnx", {"author": "someone",
                                            export.METADATA_KEY: json.dumps({"height": 64})})
    assert export.read_export_metadata(path) == {"height": 64}
    foreign = _onnx_file(tmp_path / "f.onnx", {"author": "someone"})
    with pytest.raises(ValueError, match="holds no 'inpaint_tf' metadata: not written by"):
        export.read_export_metadata(foreign)


def test_files_of_other_kinds_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="No exported model file at"):
        export.read_export_metadata(tmp_path / "missing.tflite")
    text = tmp_path / "notes.onnx"
    text.write_bytes(b"\x08\x07not a protobuf at all \xff\xfe")
    with pytest.raises(ValueError, match="is neither a TFLite nor an ONNX file"):
        export.read_export_metadata(text)
    # A TFLite file of another tool: metadata entries, none of them inpaint_tf's.
    function = tf.function(lambda x: x * 2.0,
                           input_signature=[tf.TensorSpec([1, 2], tf.float32)])
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [function.get_concrete_function()], function)
    foreign = tmp_path / "foreign.tflite"
    foreign.write_bytes(converter.convert())
    with pytest.raises(ValueError, match="holds no 'inpaint_tf' metadata"):
        export.read_export_metadata(foreign)


def test_metadata_stored_after_the_flatbuffer_is_read_too(files, tmp_path):
    """Files over 2 GB keep their buffers after the flatbuffer, by offset and size."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    path = tmp_path / "m.tflite"
    content = flatbuffer_utils.read_model_from_bytearray(bytearray(files[None].read_bytes()))
    text = json.dumps({"height": 7, "format": "tflite"}).encode()
    entry = next(m for m in content.metadata if m.name.decode() == export.METADATA_KEY)
    buffer = schema.BufferT()
    buffer.offset, buffer.size = 2**40, len(text)  # a placeholder of the same width
    content.buffers.append(buffer)
    entry.buffer = len(content.buffers) - 1
    first = bytes(flatbuffer_utils.convert_object_to_bytearray(content))
    buffer.offset = len(first)
    second = bytes(flatbuffer_utils.convert_object_to_bytearray(content))
    assert len(second) == len(first)
    path.write_bytes(second + text)
    assert export.read_export_metadata(path) == {"height": 7, "format": "tflite"}


def test_cli_export_refuses_a_size_the_model_cannot_serve_and_states_its_need(tmp_path,
                                                                             capsys):
    from inpaint_tf import cli

    target = tmp_path / "photo.onnx"
    code = cli.main(["export", "photo_unet", "--format", "onnx", "--height", "64",
                     "--out", str(target)])
    assert code == cli.EXIT_BAD_INPUT and not target.exists()
    assert ("needs a fixed size of at least 128x128" in capsys.readouterr().err)


def test_cli_export_help_names_the_sizes_the_models_need(capsys):
    from inpaint_tf import cli

    with pytest.raises(SystemExit):
        cli.main(["export", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert ("default: the size the model needs: its static size, else 256 for a model with "
            "a harmonic prefill such as photo_unet, 32 for the study's models; a smaller "
            "one than it needs is refused") in text
    assert "inpaint-tf export photo_unet --format onnx --out photo_unet.onnx" in text
