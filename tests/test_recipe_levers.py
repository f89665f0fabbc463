"""The levers of our recipes: composite output inside the model, learning-rate
schedules, the box mixture and the area-controlled strokes, hole-share bins."""

import math

import keras
import numpy as np
import pytest
from conftest import inpainting_batch
from keras_checks import check_config_round_trip, check_keras_save_load

from inpaint_tf import masks
from inpaint_tf.evaluation import protocols as evaluation
from inpaint_tf.models import KeepKnown, build_unet_autoencoder
from inpaint_tf.training.schedules import learning_rate_schedule

SMALL = dict(filters=(4, 8), bottleneck_filters=16, mask_as_input=True)


# --------------------------------------------------------------------------- composite output


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16", "mixed_float16"])
def test_composite_output_keeps_known_pixels_bit_exact(rng, policy):
    keras.mixed_precision.set_global_policy(policy)
    model = build_unet_autoencoder((16, 16, 3), composite_output=True, **SMALL)
    inputs, images = inpainting_batch(rng)
    # Values bfloat16 cannot hold: a cast to the compute dtype would change them.
    inputs["image"] = (images * 0.999 + 1e-4).astype(np.float32)
    output = np.asarray(model(inputs))
    known = np.broadcast_to(inputs["mask"] == 0, output.shape)
    assert output.dtype == np.float32
    np.testing.assert_array_equal(output[known], inputs["image"][known])
    # The hole holds the network's output, not the input.
    raw = build_unet_autoencoder((16, 16, 3), **SMALL)
    raw.set_weights(model.get_weights())
    np.testing.assert_array_equal(output[~known], np.asarray(raw(inputs))[~known])


def test_keep_known_against_numpy_and_saves(rng, tmp_path):
    layer = KeepKnown()
    prediction = rng.uniform(size=(2, 5, 5, 3)).astype(np.float32)
    image = rng.uniform(size=(2, 5, 5, 3)).astype(np.float32)
    hole = (rng.uniform(size=(2, 5, 5, 1)) > 0.5).astype(np.float32)
    expected = np.where(hole > 0, prediction, image)
    np.testing.assert_array_equal(np.asarray(layer([prediction, image, hole])), expected)
    check_config_round_trip(layer)
    model = build_unet_autoencoder((None, None, 3), composite_output=True, **SMALL)
    inputs, _ = inpainting_batch(rng)
    check_keras_save_load(model, inputs, tmp_path)


# --------------------------------------------------------------------------- schedules


def _rate(schedule, step):
    return float(schedule(step)) if callable(schedule) else schedule


def test_schedules_follow_their_closed_forms():
    assert learning_rate_schedule("constant", 1e-3, 100) == 1e-3
    cosine = learning_rate_schedule("cosine", 1e-3, 100)
    for step in (0, 25, 50, 100):
        expected = 1e-3 * 0.5 * (1 + math.cos(math.pi * step / 100))
        assert _rate(cosine, step) == pytest.approx(expected, rel=1e-5, abs=1e-12)
    cycle = learning_rate_schedule("one_cycle", 1e-3, 100)  # 30 warm-up steps
    assert _rate(cycle, 0) == pytest.approx(1e-3 / 25, rel=1e-5)
    assert _rate(cycle, 15) == pytest.approx((1e-3 / 25 + 1e-3) / 2, rel=1e-5)
    assert _rate(cycle, 30) == pytest.approx(1e-3, rel=1e-5)
    assert _rate(cycle, 65) == pytest.approx(1e-3 * 0.5, rel=1e-4)
    assert _rate(cycle, 100) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="schedule"):
        learning_rate_schedule("linear", 1e-3, 10)
    with pytest.raises(ValueError, match="total_steps"):
        learning_rate_schedule("cosine", 1e-3, 0)


def test_config_schedule_is_checked():
    from inpaint_tf.configs import config_from_dict

    config = config_from_dict({"model": {"kind": "unet_autoencoder"},
                               "training": {"schedule": "one_cycle"}})
    assert config.training.schedule == "one_cycle"
    with pytest.raises(ValueError, match="training.schedule"):
        config_from_dict({"model": {"kind": "unet_autoencoder"},
                          "training": {"schedule": "warm"}})


# --------------------------------------------------------------------------- masks


def _bounding_box(mask):
    rows, cols = np.nonzero(mask[..., 0])
    return rows.min(), rows.max(), cols.min(), cols.max(), len(rows)


def test_box_mixture_draws_each_of_the_three_kinds():
    drawn = masks.box_masks(600, seed=3)
    assert drawn.shape == (600, 32, 32, 1) and drawn.dtype == np.uint8
    centred = square = 0
    for mask in drawn:
        top, bottom, left, right, count = _bounding_box(mask)
        height, width = bottom - top + 1, right - left + 1
        assert count == height * width  # a filled rectangle
        assert 5 <= min(height, width) and max(height, width) <= 12
        # The study's centre box: side b + 1, corner ((32 - b) // 2, (32 - b) // 2).
        centred += height == width and top == left == (32 - (height - 1)) // 2
        square += height == width
    # A third are centre boxes (a random square lands there now and then), a third
    # random squares, a third rectangles of independent sides (square 1 time in 7).
    assert 170 < centred < 260, centred
    assert 380 < square < 470, square
    np.testing.assert_array_equal(drawn, masks.box_masks(600, seed=3))
    assert "boxes" in masks.MASK_KINDS


def test_area_masks_fill_every_bin_with_the_strokes_they_target():
    drawn = masks.irregular_area_masks(500, seed=0)
    shares = masks.hole_shares(drawn)
    assert drawn.shape == (500, 32, 32, 1) and set(np.unique(drawn)) <= {0, 1}
    counts = [int(((shares >= low) & (shares < high)).sum()) for low, high in masks.AREA_BINS]
    # About 100 per bin: strokes that would carry a mask past its bin are not drawn.
    assert all(80 <= count <= 120 for count in counts), counts
    assert shares.min() > 0 and shares.max() < 0.75
    np.testing.assert_array_equal(drawn, masks.eval_masks("irregular_area", 500, seed=0))
    with pytest.raises(ValueError, match="bins"):
        masks.irregular_area_masks(4, bins=[(0.5, 0.2)])


def test_hole_shares_by_hand():
    drawn = np.zeros((2, 4, 4, 1), np.uint8)
    drawn[0, :2] = 1
    drawn[1, 0, 0] = 1
    np.testing.assert_allclose(masks.hole_shares(drawn), [0.5, 1 / 16])
    assert masks.area_bin_label(0.1, 0.2) == "10-20%"


# --------------------------------------------------------------------------- area bins


def test_area_bins_equal_evaluating_each_bin_alone(tiny_images):
    images = np.concatenate([tiny_images] * 3)
    drawn = masks.irregular_area_masks(len(images), seed=1)
    predict = evaluation.as_predict_fn(_blur_model())
    row = evaluation.evaluate(predict, images, drawn, area_bins=True, batch_size=7)
    shares = masks.hole_shares(drawn)
    assert [b["bin"] for b in row["area_bins"]] == ["0-10%", "10-20%", "20-30%", "30-40%",
                                                   "40-60%"]
    for (low, high), scores in zip(masks.AREA_BINS, row["area_bins"]):
        inside = (shares >= low) & ((shares < high) | ((high == 0.6) & (shares <= high)))
        assert scores["n"] == int(inside.sum())
        if not inside.any():
            assert math.isnan(scores["hole_psnr"])
            continue
        alone = evaluation.evaluate(predict, images[inside], drawn[inside])
        for key in ("hole_mae", "hole_mse", "hole_psnr", "hole_ssim"):
            assert scores[key] == pytest.approx(alone[key], rel=1e-6)
        assert scores["hole_share"] == pytest.approx(shares[inside].mean())
    assert "area_bins" not in evaluation.evaluate(predict, images, drawn)
    with pytest.raises(ValueError, match="area_bins"):
        evaluation.evaluate(predict, images, drawn, area_bins=[(0.3, 0.1)])


def _blur_model():
    from conftest import build_tiny_inpainting_model

    keras.utils.set_random_seed(0)
    return build_tiny_inpainting_model()


# --------------------------------------------------------------------------- hole_mse loss


def test_hole_mse_weighs_each_image_by_its_own_hole_pixels():
    from inpaint_tf import losses
    from inpaint_tf.configs import config_from_dict
    from inpaint_tf.training.building import _loss, uses_mask_weights

    config = config_from_dict({"training": {"loss": "hole_mse"}})
    loss = _loss(config)
    assert isinstance(loss, losses.MaskedL2) and uses_mask_weights(config)
    assert (loss.hole_weight, loss.valid_weight, loss.normalize) == (1.0, 0.0, "region")
    truth = np.zeros((2, 4, 4, 1), np.float32)
    prediction = np.zeros_like(truth)
    hole = np.zeros_like(truth)
    hole[0, 0, 0], prediction[0, 0, 0] = 1, 0.5        # one hole pixel, error 0.5
    hole[1, :2, :2], prediction[1, :2, :2] = 1, 0.1     # four hole pixels, error 0.1
    prediction[:, 3, 3] = 0.9                           # known pixels do not count
    # By hand: image 0's hole MSE 0.25, image 1's 0.01; the batch mean 0.13.
    assert float(loss(truth, prediction, sample_weight=hole)) == pytest.approx(0.13)
