import math

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from inpaint_tf import metrics
from inpaint_tf.evaluation import protocols as E
from inpaint_tf.masks import generate_masks


@pytest.fixture
def batch(tiny_images):
    images = tiny_images.astype(np.float32) / 255.0
    masks = generate_masks("random_box", len(images), seed=0).astype(np.float32)
    return images, masks


def test_composite_keeps_known_pixels_bit_exact(batch, rng):
    images, masks = batch
    prediction = rng.uniform(size=images.shape).astype(np.float32)
    for result in (E.composite(prediction, images, masks),
                   E.composite(tf.constant(prediction), tf.constant(images),
                               tf.constant(masks)).numpy()):
        known = np.broadcast_to(masks == 0, images.shape)
        assert np.array_equal(result[known], images[known])  # bit-exact, not close
        assert np.array_equal(result[~known], prediction[~known])


def test_perfect_prediction_scores_the_ceilings(batch):
    images, masks = batch
    row = E.evaluate(lambda masked, m: images, images, masks, name="oracle")
    assert row["study_mae"] == 0 and row["hole_mse"] == 0 and row["hole_psnr"] == math.inf
    assert row["study_dice"] == pytest.approx(row["dice_ceiling"])
    assert row["dice_ceiling"] == pytest.approx(metrics.dice_ceiling(images))
    assert row["hole_ssim"] == pytest.approx(1.0)
    assert row["n"] == len(images) and row["name"] == "oracle"


def test_identity_prediction_scores_the_fill_value(batch):
    images, masks = batch
    row = E.evaluate(lambda masked, m: masked, images, masks, fill_value=0.0, batch_size=5)
    # With holes at 0, the hole error is the image itself over the hole.
    assert row["hole_mae"] == pytest.approx(metrics.mae(images, 0 * images, masks), rel=1e-6)
    assert row["study_mse"] == pytest.approx(
        metrics.mse(images, images * (1 - masks)), rel=1e-6)
    assert row["hole_psnr"] == pytest.approx(
        10 * math.log10(1 / metrics.mse(images, 0 * images, masks)), rel=1e-6)
    assert row["hole_share"] == pytest.approx(masks.mean())


def test_chunking_does_not_change_the_figures(batch):
    images, masks = batch

    def predict(masked, m):
        return np.clip(masked + 0.3, 0, 1)

    one = E.evaluate(predict, images, masks, batch_size=len(images))
    many = E.evaluate(predict, images, masks, batch_size=3)
    for key in E.STUDY_COLUMNS + E.HOLE_COLUMNS:
        assert one[key] == pytest.approx(many[key], rel=1e-6)  # SSIM maps are float32


def test_raw_output_is_clipped_like_the_study_clamped_it(batch):
    images, masks = batch
    row = E.evaluate(lambda masked, m: masked * 0 + 2.0, images, masks)
    assert row["hole_mae"] == pytest.approx(metrics.mae(images, np.ones_like(images), masks))


@pytest.mark.parametrize("output, message", [
    (lambda x: x[:, :16], "keep the image shape"),
    (lambda x: x * np.nan, "NaN or Inf"),
])
def test_bad_model_outputs_raise(batch, output, message):
    images, masks = batch
    with pytest.raises(ValueError, match=message):
        E.evaluate(lambda masked, m: output(masked), images, masks)


def test_bad_evaluation_inputs_raise(batch):
    images, masks = batch
    with pytest.raises(ValueError, match="must match"):
        E.evaluate(lambda x, m: x, images, masks[:2])
    with pytest.raises(ValueError, match="binary"):
        E.evaluate(lambda x, m: x, images, masks * 0.5)
    with pytest.raises(TypeError, match="callable"):
        E.evaluate("model", images, masks)


def test_keras_model_is_accepted(batch):
    import keras

    images, masks = batch
    image = keras.Input((32, 32, 3), name="image")
    mask = keras.Input((32, 32, 1), name="mask")
    model = keras.Model({"image": image, "mask": mask}, keras.layers.Identity()(image))
    row = E.evaluate(model, images, masks)
    direct = E.evaluate(lambda x, m: x, images, masks)
    assert row["hole_mae"] == pytest.approx(direct["hole_mae"])


def test_results_table_and_files(batch, tmp_path):
    images, masks = batch
    rows = [E.evaluate(lambda x, m: x, images, masks, name="identity", mask_kind="random_box")]
    table = E.results_table(rows)
    assert list(table.columns[:4]) == ["name", "masks", "n", "hole_share"]
    E.write_table(table, tmp_path / "t.csv")
    E.write_table(table, tmp_path / "t.md")
    assert pd.read_csv(tmp_path / "t.csv")["name"].tolist() == ["identity"]
    markdown = (tmp_path / "t.md").read_text()
    assert markdown.startswith("| name | masks |") and "identity" in markdown
    with pytest.raises(ValueError, match=".csv or .md"):
        E.write_table(table, tmp_path / "t.xlsx")
