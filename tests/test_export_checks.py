"""Files that keep their promise: a float16 TFLite file of a network with a harmonic
prefill stays finite under TFLite's default delegates (XNNPACK) and close to Keras;
every file runs once before it is written, and one that returns NaN is refused with
its cause named; a served file that returns NaN names the file and its runtime; the
released photo model's files at their default size serve a photo as Keras does."""

import re

import cv2
import keras
import numpy as np
import pytest
import tensorflow as tf

import inpaint_tf
from inpaint_tf import export, inpaint
from inpaint_tf.export import checks
from inpaint_tf.layers import HarmonicFill


@keras.saving.register_keras_serializable(package="inpaint_tf_tests")
class EpsilonFill(keras.layers.Layer):
    """One push level of the harmonic fill as HarmonicFill wrote it before: a mean over
    each 2x2 cell's known pixels, divided by ``tf.maximum(share, 1e-12)``."""

    def call(self, inputs):
        image, mask = inputs
        known = 1.0 - mask
        sums = tf.nn.avg_pool2d(image * known, 2, 2, "SAME")
        share = tf.nn.avg_pool2d(known, 2, 2, "SAME")
        means = sums / tf.maximum(share, 1e-12)
        filled = share * means + (1.0 - share) * 0.5
        return tf.image.resize(filled, tf.shape(image)[1:3])


def _inputs():
    return keras.Input((None, None, 3), name="image"), keras.Input((None, None, 1), name="mask")


def _epsilon_network():
    image, mask = _inputs()
    return keras.Model({"image": image, "mask": mask}, EpsilonFill()([image, mask]),
                       name="epsilon_fill")


def _harmonic_network(levels: int = 3):
    """image + mask -> HarmonicFill -> + a 3x3 conv's correction (random weights)."""
    keras.utils.set_random_seed(1)
    image, mask = _inputs()
    smooth = HarmonicFill(levels=levels, iterations=4)([image, mask])
    features = keras.layers.Concatenate()([smooth, mask])
    correction = keras.layers.Conv2D(
        3, 3, padding="same", kernel_initializer=keras.initializers.RandomNormal(stddev=0.1)
    )(features)
    return keras.Model({"image": image, "mask": mask},
                       keras.layers.Add()([smooth, correction]), name="harmonic")


def _photo(height: int = 200, width: int = 300, seed: int = 0) -> np.ndarray:
    """A photo-like float32 image: smooth colour waves, a rectangle, a disc, mild noise."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.full((height, width, 3), 0.45, np.float32)
    for channel in range(3):
        for _ in range(4):
            fy, fx = rng.uniform(0.005, 0.05, 2)
            image[..., channel] += rng.uniform(0.05, 0.15) * np.sin(
                fy * rows + fx * cols + rng.uniform(0, 2 * np.pi))
    cv2.rectangle(image, (width // 8, height // 7), (2 * width // 5, 3 * height // 4),
                  (0.8, 0.3, 0.2), -1)
    cv2.circle(image, (3 * width // 4, height // 2), height // 4, (0.2, 0.5, 0.7), -1)
    image += rng.normal(0, 0.02, image.shape).astype(np.float32)
    return np.clip(cv2.GaussianBlur(image, (3, 3), 0), 0, 1)


def _long_stroke(height: int = 200, width: int = 300, thickness: int = 15) -> np.ndarray:
    """A stroke across the whole photo, (H, W, 1) float32, 1 = hole."""
    points = np.array([[0.03, 0.1], [0.33, 0.8], [0.67, 0.2], [0.97, 0.9]]) * [width, height]
    mask = np.zeros((height, width), np.uint8)
    cv2.polylines(mask, [points.astype(np.int32)], False, 1, thickness)
    return mask[..., None].astype(np.float32)


def _hole_psnr(a, b, mask) -> float:
    holes = mask[..., 0] > 0
    return float(10 * np.log10(1.0 / np.mean((a[holes] - b[holes]) ** 2)))


def test_the_check_input_holds_a_wide_band_and_a_thin_stroke():
    image, mask = checks.check_input(64, 96)
    assert image.shape == (1, 64, 96, 3) and mask.shape == (1, 64, 96, 1)
    assert image.dtype == mask.dtype == np.float32
    assert 0.0 <= image.min() and image.max() <= 1.0 and image.std() > 0.05
    holes = mask[0, ..., 0] > 0.5
    assert np.array_equal(np.unique(mask), [0.0, 1.0])
    assert holes[24:40].all()  # the band: a quarter of the height, rows 24-39
    # The stroke: from the top left to the bottom right, a few px on each other row.
    assert holes[0, 0] and holes[63, 95]
    assert all(1 <= holes[row].sum() <= 4 for row in (*range(24), *range(40, 64)))


def test_the_harmonic_fill_keeps_its_float32_values_without_the_epsilon():
    """`divide_no_nan` instead of ``tf.maximum(share, 1e-12)``: a share is 0 or at
    least 4^-levels, so the float32 result is the same, bit for bit."""
    rng = np.random.default_rng(3)
    image = rng.uniform(size=(2, 45, 70, 3)).astype(np.float32)
    mask = np.zeros((2, 45, 70, 1), np.float32)
    mask[0, 10:30, 5:60] = 1
    mask[1] = rng.uniform(size=(45, 70, 1)) > 0.3
    layer = HarmonicFill(levels=5, iterations=3)

    def epsilon_fill(image, mask):  # the formulation before, line for line
        known = 1.0 - mask
        sums, shares = [image * known], [known]
        for _ in range(layer.levels):
            sums.append(tf.nn.avg_pool2d(sums[-1], 2, 2, "SAME"))
            shares.append(tf.nn.avg_pool2d(shares[-1], 2, 2, "SAME"))

        def relax(filled, total, share):
            exact = total / tf.maximum(share, 1e-12)
            for _ in range(layer.iterations):
                filled = tf.where(share >= 1.0, exact, tf.nn.avg_pool2d(filled, 3, 1, "SAME"))
            return filled

        filled = tf.where(shares[-1] > 0, sums[-1] / tf.maximum(shares[-1], 1e-12), 0.5)
        filled = relax(filled, sums[-1], shares[-1])
        for level in range(layer.levels - 1, -1, -1):
            share = shares[level]
            upsampled = tf.image.resize(filled, tf.shape(share)[1:3], method="bilinear")
            means = sums[level] / tf.maximum(share, 1e-12)
            filled = relax(share * means + (1.0 - share) * upsampled, sums[level], share)
        return tf.where(known > 0.5, image, filled)

    assert np.array_equal(np.asarray(layer([image, mask])),
                          np.asarray(epsilon_fill(image, mask)))


@pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated:UserWarning")
def test_a_float16_file_with_a_harmonic_prefill_is_finite_under_the_default_delegates(
        tmp_path):
    """The file the default interpreters run (XNNPACK) on a photo-like image: finite and
    within the float16 tolerance of tests/test_export_formats.py (1e-2 max, 2e-3 mean
    over the holes) of the Keras model on the same windows."""
    from ai_edge_litert.interpreter import Interpreter

    network = _harmonic_network()
    path = export.export_tflite(network, tmp_path / "harmonic.tflite", quantize="float16")
    assert export.read_export_metadata(path)["height"] == 128  # its default size
    image, mask = checks.check_input(128, 128)
    for interpreter in (Interpreter(model_path=str(path)),
                        tf.lite.Interpreter(model_path=str(path))):
        output = interpreter.get_signature_runner("serve")(image=image, mask=mask)
        assert np.isfinite(output["inpainted"]).all()
    photo, stroke = _photo(150, 260), _long_stroke(150, 260)
    served = inpaint(export.load_exported(path), photo, stroke, verbose=0)
    expected = inpaint(network, photo, stroke, window_size=128, verbose=0)
    holes = stroke[..., 0] > 0
    difference = np.abs(served - expected)
    assert np.isfinite(served).all() and difference.max() <= 1e-2
    assert difference[holes].mean() <= 2e-3 and np.array_equal(served[~holes], photo[~holes])


def test_a_file_that_returns_nan_is_refused_at_export_with_its_cause(tmp_path):
    network = _epsilon_network()
    path = tmp_path / "epsilon.tflite"
    with pytest.raises(ValueError) as error:
        export.export_tflite(network, path, quantize="float16")
    message = str(error.value)
    assert message.startswith("The TFLite (float16) file of model 'epsilon_fill' returns "
                              "NaN or Inf in ")
    for part in ("for a check input (32x32, a photo-like image with 32% holes) under "
                 "TFLite's default delegates (XNNPACK on CPUs)",
                 "the Keras model returns finite values for it, so the file is the cause",
                 "rounds 1 to 0 or Inf: ", "/Maximum/y (1e-12 -> 0)",
                 "export with quantize=None or 'dynamic'", "Nothing was written."):
        assert part in message
    assert not path.exists()
    export.export_tflite(network, path)  # float32 holds 1e-12: finite, written
    assert path.is_file()


@pytest.mark.parametrize("fmt", ["tflite", "onnx"])
def test_a_model_that_returns_nan_itself_is_named_as_the_cause(fmt, tmp_path):
    image, mask = _inputs()
    output = keras.layers.Lambda(lambda t: t[0] * tf.math.log(t[1] - 2.0))([image, mask])
    network = keras.Model({"image": image, "mask": mask}, output, name="log")
    path = tmp_path / f"log.{fmt}"
    with pytest.raises(ValueError, match=re.escape(
            "the Keras model returns NaN or Inf for the same input too: the model is the "
            "cause, not the export. Nothing was written.")):
        export.export_model(network, path, format=fmt)
    assert not path.exists()


def test_the_onnx_check_needs_onnx_runtime_and_is_skipped_without_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    assert checks.check_onnx(b"not a model", None, 1, 8, 8) is None


def test_a_served_file_that_returns_nan_names_the_file_and_its_runtime(tmp_path,
                                                                      monkeypatch):
    """A file written without the check (as an earlier version wrote them)."""
    from inpaint_tf.export import tflite

    monkeypatch.setattr(tflite, "check_tflite", lambda *args: None)
    path = export.export_tflite(_epsilon_network(), tmp_path / "old.tflite",
                                quantize="float16")
    photo, stroke = _photo(40, 50), _long_stroke(40, 50, thickness=9)
    with pytest.raises(ValueError, match=re.escape(
            "old.tflite returned NaN or Inf values for finite inputs: the file or its "
            "runtime is the likely cause, not the image (TFLite with its default delegates "
            "(XNNPACK on CPUs), float16 weights)")):
        inpaint(export.load_exported(path), photo, stroke, verbose=0)


@pytest.mark.slow
@pytest.mark.parametrize("fmt, quantize", [("tflite", "float16"), ("onnx", None)])
def test_the_released_photo_model_exported_at_its_default_size_serves_as_keras(
        fmt, quantize, tmp_path):
    """`photo_unet` exported with the defaults and served by `load_exported` + `inpaint`
    on a 200 x 300 photo with a long 15-px stroke: hole PSNR against the Keras model's
    own `inpaint` of at least 50 dB (an RMS difference under one 8-bit level) and no
    hole pixel off by more than 0.05. Measured: 63.3 dB, 0.013 at 256 x 256; the former
    default, 32 x 32, gives 36.0 dB, 0.117 and 0.66 dB less hole PSNR against the photo
    (measured with the Keras model on 32 x 32 windows, which the files match to
    round-off: its windows hold no known pixel across the stroke). The float16 file
    runs under TFLite's default delegates."""
    model = inpaint_tf.pretrained("photo_unet")
    path = export.export_model(model, tmp_path / f"photo.{fmt}", format=fmt,
                               quantize=quantize)
    metadata = export.read_export_metadata(path)
    assert (metadata["height"], metadata["width"]) == (256, 256)
    photo, stroke = _photo(), _long_stroke()
    served = inpaint(export.load_exported(path), photo, stroke, verbose=0)
    expected = inpaint(model, photo, stroke, verbose=0)
    holes = stroke[..., 0] > 0
    assert _hole_psnr(served, expected, stroke) >= 50.0
    assert np.abs(served - expected)[holes].max() <= 0.05
    assert np.array_equal(served[~holes], photo[~holes])
