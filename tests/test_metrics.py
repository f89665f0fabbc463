import math

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from inpaint_tf import metrics

# A 1 x 2 x 2 x 1 example computed by hand.
Y = np.array([0.0, 0.5, 1.0, 0.5]).reshape(1, 2, 2, 1)
P = np.array([0.5, 0.5, 0.5, 1.0]).reshape(1, 2, 2, 1)
HOLE = np.array([1, 0, 1, 1]).reshape(1, 2, 2, 1)


@pytest.mark.parametrize("function, mask, expected", [
    (metrics.mae, None, (0.5 + 0 + 0.5 + 0.5) / 4),
    (metrics.mae, HOLE, (0.5 + 0.5 + 0.5) / 3),
    (metrics.mse, None, (0.25 + 0 + 0.25 + 0.25) / 4),
    (metrics.mse, HOLE, 0.75 / 3),
    # Dice = 2 Σ y·p / Σ (y + p)
    (metrics.dice, None, 2 * (0 + 0.25 + 0.5 + 0.5) / (2.0 + 2.5)),
    (metrics.dice, HOLE, 2 * (0 + 0.5 + 0.5) / (1.5 + 2.0)),
])
def test_hand_computed_values(function, mask, expected):
    assert function(Y, P, mask) == pytest.approx(expected, rel=1e-12)


def test_metrics_pool_over_channels_and_images():
    y = np.zeros((2, 1, 1, 3))
    p = np.array([[[[1.0, 0, 0]]], [[[0, 0, 0]]]])
    assert metrics.mae(y, p) == pytest.approx(1 / 6)
    hole = np.array([1, 0]).reshape(2, 1, 1, 1)
    assert metrics.mae(y, p, hole) == pytest.approx(1 / 3)  # 3 hole values, one error


def test_dice_ceiling_is_sum_of_squares_over_sum():
    y = np.array([0.2, 0.4, 1.0]).reshape(1, 1, 3, 1)
    assert metrics.dice_ceiling(y) == pytest.approx((0.04 + 0.16 + 1.0) / 1.6)
    assert metrics.dice(y, y) == metrics.dice_ceiling(y)


def test_empty_hole_gives_nan_not_zero():
    empty = np.zeros_like(HOLE)
    assert math.isnan(metrics.mae(Y, P, empty))
    assert math.isnan(metrics.psnr(Y, P, empty))


@pytest.mark.parametrize("value, expected", [(0.01, 20.0), (1.0, 0.0), (0.0, math.inf)])
def test_psnr_from_mse(value, expected):
    assert metrics.psnr_from_mse(value) == expected


def test_whole_psnr_is_the_mean_of_tf_image_psnr(rng):
    y = rng.uniform(size=(3, 8, 8, 3))
    p = np.clip(y + rng.normal(0, 0.05, y.shape), 0, 1)
    per_image = [10 * math.log10(1 / np.mean((y[i] - p[i]) ** 2)) for i in range(3)]
    assert metrics.psnr(y, p) == pytest.approx(np.mean(per_image), rel=1e-5)


def test_hole_psnr_comes_from_pooled_hole_mse():
    assert metrics.psnr(Y, P, HOLE) == pytest.approx(10 * math.log10(3 / 0.75))


def test_ssim_map_mean_equals_tf_image_ssim(rng):
    y = rng.uniform(size=(2, 16, 20, 3)).astype(np.float32)
    p = np.clip(y + rng.normal(0, 0.1, y.shape), 0, 1).astype(np.float32)
    expected = float(tf.reduce_mean(tf.image.ssim(y, p, max_val=1.0)))
    assert metrics.ssim(y, p) == pytest.approx(expected, abs=1e-5)
    # An all-hole mask weights every window equally: plain SSIM again.
    all_hole = np.ones((2, 16, 20, 1), np.float32)
    assert metrics.ssim(y, p, all_hole) == pytest.approx(expected, abs=1e-5)


def test_hole_ssim_ignores_windows_without_hole(rng):
    y = rng.uniform(size=(1, 32, 32, 3)).astype(np.float32)
    p = y.copy()
    hole = np.zeros((1, 32, 32, 1), np.float32)
    hole[0, 2:6, 2:6] = 1
    p[0, 2:6, 2:6] = 1.0 - p[0, 2:6, 2:6]  # damage only the hole
    whole = metrics.ssim(y, p)
    in_hole = metrics.ssim(y, p, hole)
    assert in_hole < whole < 1.0  # the hole-weighted figure is not diluted by intact windows
    assert metrics.ssim(y, y, hole) == pytest.approx(1.0)


def test_ssim_rejects_images_smaller_than_the_window():
    with pytest.raises(ValueError, match="at least 11x11"):
        metrics.ssim(np.zeros((1, 8, 8, 3)), np.zeros((1, 8, 8, 3)))


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match="same shape"):
        metrics.mae(Y, P[:, :1])
    with pytest.raises(ValueError, match="mask must have shape"):
        metrics.mae(Y, P, np.ones((1, 3, 3, 1)))


@pytest.mark.parametrize("metric_class, function", [
    (metrics.PooledMAE, metrics.mae),
    (metrics.PooledMSE, metrics.mse),
    (metrics.DiceCoefficient, metrics.dice),
])
def test_keras_metrics_pool_like_the_numpy_functions(metric_class, function, rng):
    y = rng.uniform(size=(4, 6, 6, 3)).astype(np.float32)
    p = rng.uniform(size=(4, 6, 6, 3)).astype(np.float32)
    hole = (rng.uniform(size=(4, 6, 6, 1)) > 0.6).astype(np.float32)
    whole, holes = metric_class(), metric_class()
    for part in (slice(0, 1), slice(1, 4)):  # two updates pool like one
        whole.update_state(y[part], p[part])
        holes.update_state(y[part], p[part], sample_weight=hole[part])
    assert float(whole.result()) == pytest.approx(function(y, p), rel=1e-5)
    assert float(holes.result()) == pytest.approx(function(y, p, hole), rel=1e-5)
    whole.reset_state()
    assert float(whole.result()) == 0.0


def test_keras_metric_config_round_trip():
    metric = metrics.DiceCoefficient(name="hole_dice")
    clone = metrics.DiceCoefficient.from_config(metric.get_config())
    assert clone.name == "hole_dice"


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 3), size=st.integers(1, 6), seed=st.integers(0, 10_000))
def test_property_metrics_bounded_and_consistent(n, size, seed):
    generator = np.random.default_rng(seed)
    y = generator.uniform(size=(n, size, size, 3))
    p = generator.uniform(size=(n, size, size, 3))
    hole = (generator.uniform(size=(n, size, size, 1)) > 0.5).astype(float)
    assert 0 <= metrics.mae(y, p) <= 1
    assert metrics.mse(y, p) <= metrics.mae(y, p) + 1e-12  # |e|² <= |e| on [0, 1]
    assert 0 <= metrics.dice(y, p) <= 1
    assert metrics.dice(y, y) == pytest.approx(metrics.dice_ceiling(y))
    if hole.sum():
        # The whole-image error is the hole error weighted by the hole share plus the rest.
        share = hole.mean()
        rest = metrics.mae(y, p, 1 - hole) if share < 1 else 0.0
        assert metrics.mae(y, p) == pytest.approx(
            share * metrics.mae(y, p, hole) + (1 - share) * rest)
