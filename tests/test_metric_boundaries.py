"""Metrics at their edges: the dtypes they accept, the mask shapes, the cases that are
0/0 or a single pixel, SSIM's window size and constants, and the Keras metrics' names,
variables and resets. Expected values are computed here by hand or with NumPy."""

import math

import numpy as np
import pytest
import tensorflow as tf

from inpaint_tf import metrics


def _exact(y, p, mask, power):
    """The pooled hole error of `y` and `p` (any dtype) in float64, by NumPy."""
    y, p = np.asarray(y, np.float64), np.asarray(p, np.float64)
    weights = np.broadcast_to(np.asarray(mask, np.float64), y.shape)
    return float((np.abs(y - p) ** power * weights).sum() / weights.sum())


def test_errors_are_computed_in_float64_whatever_the_inputs_dtype():
    rng = np.random.default_rng(0)
    y = rng.uniform(size=(1, 64, 64, 1)).astype(np.float16)
    p = rng.uniform(size=(1, 64, 64, 1)).astype(np.float16)
    mask = np.ones((1, 64, 64, 1), np.float16)
    mask[0, 0, :5] = 0  # 4,091 hole pixels: float16 cannot count them
    assert metrics.mae(y, p, mask) == pytest.approx(_exact(y, p, mask, 1), rel=1e-12)
    assert metrics.mse(y, p, mask) == pytest.approx(_exact(y, p, mask, 2), rel=1e-12)
    # uint8 inputs do not wrap around: |0 - 1| is 1, not 255.
    zero, one = np.zeros((1, 1, 1, 3), np.uint8), np.ones((1, 1, 1, 3), np.uint8)
    assert metrics.mae(zero, one) == 1.0 and metrics.mse(zero, one) == 1.0
    assert metrics.dice(zero, one) == 0.0


def test_a_mask_without_its_channel_axis_is_the_same_mask():
    rng = np.random.default_rng(1)
    y, p = rng.uniform(size=(2, 5, 6, 3)), rng.uniform(size=(2, 5, 6, 3))
    mask = (rng.uniform(size=(2, 5, 6)) > 0.5).astype(np.uint8)
    for function in (metrics.mae, metrics.mse, metrics.dice):
        assert function(y, p, mask) == function(y, p, mask[..., None])
    assert metrics.mae(y, p, mask) == pytest.approx(_exact(y, p, mask[..., None], 1))
    with pytest.raises(ValueError, match="mask must have shape"):
        metrics.mae(y, p, mask[0])  # (5, 6): two axes short


def test_a_single_hole_pixel_is_scored():
    y = np.zeros((1, 2, 2, 1))
    p = np.full((1, 2, 2, 1), 0.5)
    mask = np.zeros((1, 2, 2, 1))
    mask[0, 1, 1] = 1
    assert metrics.mae(y, p, mask) == 0.5 and metrics.mse(y, p, mask) == 0.25
    assert metrics.dice(y, p, mask) == 0.0


def test_dice_of_one_value_and_of_a_denominator_of_one():
    y, p = np.full((1, 1, 1, 1), 0.5), np.full((1, 1, 1, 1), 0.5)
    assert metrics.dice(y, p) == 0.5  # 2 * 0.25 / (0.5 + 0.5): the sum is exactly 1
    assert metrics.dice(np.full((1, 1, 1, 1), 0.8), np.full((1, 1, 1, 1), 0.2)) == \
        pytest.approx(0.32)
    assert metrics.dice_ceiling(np.full((1, 1, 1, 1), 0.5)) == 0.5


def test_dice_zero_over_zero_is_one_and_nothing_to_score_is_nan():
    zeros = np.zeros((1, 2, 2, 3))
    assert metrics.dice(zeros, zeros) == 1.0
    assert metrics.dice(zeros, zeros, np.ones((1, 2, 2, 1))) == 1.0
    assert math.isnan(metrics.dice(zeros, zeros, np.zeros((1, 2, 2, 1))))
    empty = np.zeros((0, 2, 2, 3))
    assert math.isnan(metrics.dice(empty, empty))


def test_dice_ceiling_over_the_hole_only():
    y = np.array([0.2, 0.4, 1.0, 0.6]).reshape(1, 1, 4, 1)
    hole = np.array([1, 0, 1, 0]).reshape(1, 1, 4, 1)
    assert metrics.dice_ceiling(y, hole) == pytest.approx((0.04 + 1.0) / 1.2)


def test_psnr_from_mse_keeps_nan():
    assert math.isnan(metrics.psnr_from_mse(math.nan))
    assert metrics.psnr_from_mse(0.1) == pytest.approx(10.0)


def test_ssim_equals_tf_image_ssim_on_dark_and_bright_images():
    """SSIM's constants (K1 = 0.01, K2 = 0.03) weigh most where the means are small."""
    rng = np.random.default_rng(2)
    for scale in (0.02, 1.0):
        y = (scale * rng.uniform(size=(2, 16, 16, 3))).astype(np.float32)
        p = np.clip(y + rng.normal(0, 0.01 * scale, y.shape), 0, 1).astype(np.float32)
        expected = float(tf.reduce_mean(tf.image.ssim(y, p, max_val=1.0)))
        assert metrics.ssim(y, p) == pytest.approx(expected, abs=1e-6)


def test_ssim_needs_eleven_pixels_each_way():
    square = np.random.default_rng(3).uniform(size=(1, 11, 11, 3)).astype(np.float32)
    expected = float(tf.reduce_mean(tf.image.ssim(square, square * 0.9, max_val=1.0)))
    assert metrics.ssim(square, square * 0.9) == pytest.approx(expected, abs=1e-6)
    for shape in ((1, 10, 16, 3), (1, 16, 10, 3)):
        with pytest.raises(ValueError, match="at least 11x11 pixels"):
            metrics.ssim(np.zeros(shape), np.zeros(shape))


def test_hole_ssim_takes_masks_of_any_dtype_with_or_without_channel_axis():
    rng = np.random.default_rng(4)
    y = rng.uniform(size=(2, 16, 16, 3)).astype(np.float32)
    p = np.clip(y + rng.normal(0, 0.1, y.shape), 0, 1).astype(np.float32)
    mask = np.zeros((2, 16, 16), np.uint8)
    mask[:, 4:9, 3:12] = 1
    reference = metrics.ssim(y, p, mask[..., None].astype(np.float32))
    assert metrics.ssim(y, p, mask) == reference
    assert metrics.ssim(y, p, mask.astype(bool)[..., None]) == reference
    assert metrics.ssim(y, p, mask.astype(np.float64)) == reference
    assert math.isnan(metrics.ssim(y, p, np.zeros((2, 16, 16, 1))))


def test_ssim_is_the_ratio_of_its_pooled_sums(monkeypatch):
    monkeypatch.setattr(metrics, "ssim_sums", lambda *args: (0.25, 1.0))
    assert metrics.ssim(None, None) == 0.25
    monkeypatch.setattr(metrics, "ssim_sums", lambda *args: (0.0, 0.0))
    assert math.isnan(metrics.ssim(None, None))


@pytest.mark.parametrize("metric_class, name", [
    (metrics.PooledMAE, "mae"), (metrics.PooledMSE, "mse"),
    (metrics.DiceCoefficient, "dice"),
])
def test_keras_metrics_names_dtypes_and_variables(metric_class, name):
    metric = metric_class()
    assert metric.name == name
    assert metric_class(name="hole_" + name).name == "hole_" + name
    assert metric_class(dtype="float64").dtype == "float64"
    # The pooled sums are float32 variables named for what they hold, whatever the
    # metric's dtype: a float16 metric still counts past 2,048 pixels exactly.
    narrow = metric_class(dtype="float16")
    assert [(v.name, v.dtype) for v in narrow.variables] == [
        ("numerator", "float32"), ("denominator", "float32")]
    y = np.full((1, 4097, 1, 1), 0.5, np.float32)
    narrow.update_state(y, y)
    assert float(narrow.denominator.numpy()) == 4097.0  # a count, or 4,097 times 0.5 + 0.5


@pytest.mark.parametrize("metric_class, function", [
    (metrics.PooledMAE, metrics.mae), (metrics.PooledMSE, metrics.mse),
    (metrics.DiceCoefficient, metrics.dice),
])
def test_a_reset_metric_scores_only_what_follows(metric_class, function):
    rng = np.random.default_rng(5)
    y, p = rng.uniform(size=(2, 4, 4, 3)), rng.uniform(size=(2, 4, 4, 3))
    metric = metric_class()
    metric.update_state(y * 0.0, p)
    metric.reset_state()
    assert float(metric.numerator.numpy()) == 0.0 == float(metric.denominator.numpy())
    metric.update_state(y, p)
    assert float(metric.result()) == pytest.approx(function(y, p), rel=1e-5)


def test_whole_image_psnr_is_exactly_tensorflows_float32_figure():
    rng = np.random.default_rng(6)
    y = rng.uniform(size=(3, 8, 8, 3))
    p = np.clip(y + rng.normal(0, 0.05, y.shape), 0, 1)
    expected = np.mean(tf.image.psnr(y.astype(np.float32), p.astype(np.float32), 1.0).numpy())
    assert metrics.psnr(y, p) == float(expected)
