import numpy as np
import pytest

from inpaint_tf.compositing import fill_holes
from inpaint_tf.evaluation import baselines as B
from inpaint_tf.masks import generate_masks


@pytest.fixture
def batch(tiny_images):
    images = tiny_images.astype(np.float32) / 255.0
    masks = generate_masks("center_box", len(images), seed=0).astype(np.float32)
    return images, masks, fill_holes(images, masks, 0.0)


def test_identity_returns_its_input(batch):
    _, masks, masked = batch
    np.testing.assert_array_equal(B.IdentityBaseline().predict(masked, masks), masked)


def test_mean_fill_uses_each_images_known_mean(batch):
    images, masks, masked = batch
    out = B.MeanFillBaseline().predict(masked, masks)
    for image, mask, result in zip(images, masks, out):
        known = mask[..., 0] == 0
        expected = image[known].mean(axis=0)
        np.testing.assert_allclose(result[~known], np.broadcast_to(expected, result[~known].shape),
                                   rtol=1e-5)
        np.testing.assert_array_equal(result[known], image[known])


@pytest.mark.parametrize("baseline", [B.TeleaBaseline(), B.NavierStokesBaseline()])
def test_opencv_baselines_keep_known_pixels_and_beat_the_fill(batch, baseline):
    images, masks, masked = batch
    out = baseline.predict(masked, masks)
    known = np.broadcast_to(masks == 0, images.shape)
    np.testing.assert_array_equal(out[known], images[known])  # uint8-exact images round-trip
    hole = ~known
    # On smooth synthetic images, diffusion from the border is far better than zeros.
    assert np.abs(out[hole] - images[hole]).mean() < 0.3 * np.abs(images[hole]).mean()


def test_unknown_opencv_method_raises():
    with pytest.raises(ValueError, match="method"):
        B.OpenCVBaseline("patchmatch")


def test_baselines_check_their_inputs(batch):
    _, masks, masked = batch
    with pytest.raises(ValueError, match="masked_images"):
        B.TeleaBaseline().predict(masked[..., :1], masks)
    with pytest.raises(ValueError, match="must lie in"):
        B.TeleaBaseline().predict(masked * 3, masks)


def test_run_baselines_table(batch):
    images, masks, _ = batch
    table = B.run_baselines(images, masks, mask_kind="center_box")
    assert table["name"].tolist() == list(B.BASELINES)
    psnr = dict(zip(table["name"], table["hole_psnr"]))
    assert psnr["navier_stokes"] > psnr["mean_fill"] > psnr["identity"]
