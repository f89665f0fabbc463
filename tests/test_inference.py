import numpy as np
import pytest
from conftest import build_tiny_inpainting_model

from inpaint_tf.inference import inpainting as inference
from inpaint_tf.inference import windows
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


def test_inpaint_takes_a_list_of_photos_of_different_sizes(rng):
    model = build_tiny_inpainting_model(4)
    sizes = [(37, 45), (20, 64), (64, 20), (37, 45)]
    images = [rng.integers(0, 256, (*size, 3), dtype=np.uint8) for size in sizes]
    images[1] = images[1] / np.float32(255)
    masks = [generate_masks("irregular", 1, seed=i, height=h, width=w)[0]
             for i, (h, w) in enumerate(sizes)]
    masks[2] = np.zeros(sizes[2], np.uint8)  # no hole: returned as it is
    out = inference.inpaint(model, images, masks, batch_size=3)
    assert isinstance(out, list) and [o.shape for o in out] == [(*s, 3) for s in sizes]
    for image, mask, filled in zip(images, masks, out):
        alone = inference.inpaint(model, image, mask)
        np.testing.assert_allclose(filled, alone, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(out[2], images[2] / np.float32(255))
    whole = inference.inpaint(model, images, masks, windows=False)
    assert [o.shape for o in whole] == [(*s, 3) for s in sizes]


@pytest.mark.parametrize("masks, message", [
    (lambda m: m[0], "`masks` must be a list of one mask per image"),
    (lambda m: m[:1], r"Received: 2 images, masks of type list \(1\)"),
    (lambda m: [m[0], m[0]], r"`masks\[1\]` must match"),
])
def test_a_list_of_photos_needs_one_mask_of_its_size_each(masks, message, rng):
    model = build_tiny_inpainting_model(2)
    images = [rng.uniform(size=(8, 10, 3)).astype(np.float32),
              rng.uniform(size=(6, 12, 3)).astype(np.float32)]
    holes = [np.ones((8, 10)), np.ones((6, 12))]
    with pytest.raises(ValueError, match=message):
        inference.inpaint(model, images, masks(holes))
    with pytest.raises(ValueError, match=r"`images\[1\]` must have shape \(H, W, 3\)"):
        inference.inpaint(model, [images[0], images[1][None]], holes)
    with pytest.raises(ValueError, match="`images` is empty"):
        inference.inpaint(model, [], [])


def _many_windows(rng):
    """A photo with 12 holes far apart: 12 windows."""
    image = rng.uniform(size=(300, 400, 3)).astype(np.float32)
    mask = np.zeros((300, 400), np.uint8)
    mask[20::100, 20::100] = 1
    return image, mask


def test_verbose_shows_a_progress_bar_over_the_windows(monkeypatch, capsys, rng):
    model = build_tiny_inpainting_model(2)
    image, mask = _many_windows(rng)
    assert [w.size for w in windows.hole_windows(mask, multiple=2, limit=3)[1]] == [(32, 32)] * 12
    quiet = inference.inpaint(model, image, mask, windows=True, verbose=0)
    assert capsys.readouterr().out == ""
    shown = inference.inpaint(model, image, mask, windows=True, verbose=1)
    assert "12/12" in capsys.readouterr().out
    np.testing.assert_array_equal(shown, quiet)
    inference.inpaint(model, image, mask, windows=True, verbose=2)
    assert "12/12" in capsys.readouterr().out
    inference.inpaint(model, image, mask, windows=True)  # "auto": one call, no bar
    assert capsys.readouterr().out == ""
    monkeypatch.setattr(inference, "BATCH_PIXELS", 32 * 32)  # 12 calls: a bar
    inference.inpaint(model, image, mask, windows=True)
    assert "12/12" in capsys.readouterr().out
    for bad in ("yes", 3, -1, 0.5, None):
        with pytest.raises(ValueError, match="`verbose` must be 'auto', 0, 1 or 2"):
            inference.inpaint(model, image, mask, verbose=bad)


def test_cli_inpaint_shows_progress_for_many_windows(tmp_path, monkeypatch, rng):
    import contextlib
    import io

    import cv2

    from inpaint_tf import cli
    from inpaint_tf.models import build_unet_autoencoder

    build_unet_autoencoder((None, None, 3), filters=(4, 8), bottleneck_filters=8).save(
        tmp_path / "tiny.keras")
    image, mask = _many_windows(rng)
    cv2.imwrite(str(tmp_path / "image.png"), np.round(image * 255).astype(np.uint8))
    cv2.imwrite(str(tmp_path / "mask.png"), mask * 255)
    monkeypatch.setattr(inference, "BATCH_PIXELS", 64 * 64)  # one window per call
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        code = cli.main(["inpaint", "--model", str(tmp_path / "tiny.keras"), "--image",
                         str(tmp_path / "image.png"), "--mask", str(tmp_path / "mask.png"),
                         "--out", str(tmp_path / "filled.png")])
    assert code == 0
    lines = printed.getvalue().splitlines()
    assert any("/" in line and "window" in line for line in lines), lines
    assert "(12 hole pixels filled)" in lines[-1]


def test_a_mask_over_90_percent_hole_warns_with_its_share_and_one_at_half_does_not(rng):
    import warnings

    model = build_tiny_inpainting_model(2)
    image = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)
    inverted = np.ones((20, 20), np.uint8)
    inverted[:4, :5] = 0  # 380 of 400 pixels: 95 % hole, as an inverted blemish mask
    with pytest.warns(UserWarning, match=r"^95\.0% of the mask is hole \(over 90%\): almost "
                                         r"no known pixels.*The mask may be inverted"):
        inference.inpaint(model, image, inverted)
    half = np.zeros((20, 20), np.uint8)
    half[:10] = 1
    edge = np.ones((20, 20), np.uint8)
    edge[:2, :] = 0  # 90.0 %: not over
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        inference.inpaint(model, image, half)
        inference.inpaint(model, image, edge)
        inference.inpaint(model, image, np.zeros((20, 20), np.uint8))
    # In a batch or a list, the mask is named by its index.
    with pytest.warns(UserWarning, match=r"^95\.0% of masks\[1\] is hole") as caught:
        inference.inpaint(model, np.stack([image, image]), np.stack([half, inverted]))
    assert len(caught) == 1
    with pytest.warns(UserWarning, match=r"^100\.0% of masks\[0\] is hole"):
        inference.inpaint(model, [image], [np.ones((20, 20))])
