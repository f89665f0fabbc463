import numpy as np
import pytest
from conftest import build_tiny_inpainting_model

from inpaint_tf.inference import inpainting as inference
from inpaint_tf.masks import generate_masks


def test_size_multiple_is_the_product_of_downsampling_strides():
    assert inference.size_multiple(build_tiny_inpainting_model(2)) == 2
    assert inference.size_multiple(build_tiny_inpainting_model(4)) == 4


@pytest.mark.parametrize("height, width, expected", [(32, 32, (0, 0)), (33, 30, (3, 2))])
def test_pad_amounts(height, width, expected):
    assert inference.pad_amounts(height, width, 4) == expected


def test_inpaint_keeps_known_pixels_and_any_size(rng):
    model = build_tiny_inpainting_model(4)
    images = rng.integers(0, 256, (3, 37, 45, 3), dtype=np.uint8)
    masks = generate_masks("irregular", 3, seed=0, height=37, width=45)
    out = inference.inpaint(model, images, masks, batch_size=2)
    assert out.shape == (3, 37, 45, 3) and out.dtype == np.float32
    known = np.broadcast_to(masks == 0, out.shape)
    np.testing.assert_array_equal(out[known], (images / np.float32(255))[known])
    assert np.all((0 <= out) & (out <= 1))
    # A single image gives the same result as a batch of one.
    single = inference.inpaint(model, images[0], masks[0])
    np.testing.assert_allclose(single, out[0], atol=1e-6)


def test_inpaint_with_a_filling_model_ignores_hole_content(rng):
    model = build_tiny_inpainting_model(2)
    images = rng.uniform(size=(2, 16, 16, 3)).astype(np.float32)
    masks = generate_masks("center_box", 2, seed=0, height=16, width=16)
    other = np.where(masks > 0, 1.0 - images, images).astype(np.float32)
    np.testing.assert_array_equal(inference.inpaint(model, images, masks),
                                  inference.inpaint(model, other, masks))


def test_inpaint_rejects_bad_input(rng):
    model = build_tiny_inpainting_model(2)
    images = rng.uniform(size=(2, 16, 16, 3)).astype(np.float32)
    masks = generate_masks("center_box", 2, seed=0, height=16, width=16)
    with pytest.raises(ValueError, match="must match"):
        inference.inpaint(model, images, masks[:, :8])
    with pytest.raises(ValueError, match="3 channels"):
        inference.inpaint(model, images[..., :1], masks)
    with pytest.raises(ValueError, match="NaN"):
        inference.inpaint(model, images * np.nan, masks)


def test_cli_inpaint_runs_windows_by_default_and_the_whole_image_with_whole(tmp_path, rng):
    import contextlib
    import io

    import cv2

    from inpaint_tf import cli
    from inpaint_tf.models import build_unet_autoencoder

    model = build_unet_autoencoder((None, None, 3), filters=(4, 8), bottleneck_filters=8)
    model.save(tmp_path / "tiny.keras")
    image = rng.integers(0, 256, (150, 230, 3), dtype=np.uint8)
    mask = np.zeros((150, 230), np.uint8)
    mask[70:80, 100:112] = 255
    cv2.imwrite(str(tmp_path / "image.png"), image)
    cv2.imwrite(str(tmp_path / "mask.png"), mask)
    outputs = []
    for extra in ([], ["--whole"]):
        out = tmp_path / f"filled{len(extra)}.png"
        with contextlib.redirect_stdout(io.StringIO()) as printed:
            code = cli.main(["inpaint", "--model", str(tmp_path / "tiny.keras"), "--image",
                             str(tmp_path / "image.png"), "--mask", str(tmp_path / "mask.png"),
                             "--out", str(out), *extra])
        assert code == 0 and "(120 hole pixels filled)" in printed.getvalue()
        outputs.append(cv2.imread(str(out)))
    np.testing.assert_array_equal(outputs[0][mask == 0], image[mask == 0])
    # The model sees 46 px: windows around the hole give the whole pass's pixels (up to
    # float round-off, which may move a value across an 8-bit step).
    assert np.abs(outputs[0].astype(int) - outputs[1]).max() <= 1
