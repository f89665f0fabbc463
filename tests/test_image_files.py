"""Image files as they came (`inpaint_tf.data.image_files`): 16-bit, grey and RGBA files
read as stored, handed to `inpaint` as RGB, and written back in their form as far as the
output format holds it; known pixels and alpha bit for bit."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from inpaint_tf.data.image_files import (
    model_input,
    output_pixels,
    read_image,
    read_image_as_is,
    write_image,
)

SIZE = (9, 13)


def _pixels(channels: int | None, dtype, seed: int = 0) -> np.ndarray:
    """Random pixels of the full range of `dtype`: (H, W) when `channels` is None."""
    top = np.iinfo(dtype).max
    shape = SIZE if channels is None else (*SIZE, channels)
    return np.random.default_rng(seed).integers(0, top + 1, shape, dtype=np.int64).astype(dtype)


def _store(path: Path, pixels: np.ndarray) -> Path:
    """Writes RGB(A) or grey `pixels` with OpenCV (BGR order)."""
    stored = pixels if pixels.ndim == 2 else pixels[:, :, [2, 1, 0, 3][:pixels.shape[2]]]
    assert cv2.imwrite(str(path), stored)
    return path


def _tinted(image: np.ndarray) -> np.ndarray:
    """A fill with a colour tint, as a model returns for a grey photo: channels differ."""
    filled = image.astype(np.float32).copy()
    filled[:4, :5] = np.array([0.2, 0.5, 0.8], np.float32)
    return filled


@pytest.mark.parametrize("suffix", [".png", ".tif", ".tiff"])
@pytest.mark.parametrize("channels", [None, 3, 4])
def test_16_bit_files_are_read_as_16_bits_and_written_back_bit_for_bit(suffix, channels,
                                                                       tmp_path):
    stored = _pixels(channels, np.uint16)
    pixels = read_image_as_is(_store(tmp_path / f"a{suffix}", stored))
    assert pixels.dtype == np.uint16
    np.testing.assert_array_equal(pixels, stored)
    image = model_input(pixels)
    assert image.shape == (*SIZE, 3) and image.dtype == np.float32
    rgb = stored[..., None].repeat(3, axis=2) if channels is None else stored[:, :, :3]
    np.testing.assert_array_equal(image, rgb / np.float32(65535))
    write_image(tmp_path / f"b{suffix}", image, like=pixels)  # nothing filled: as it came
    np.testing.assert_array_equal(read_image_as_is(tmp_path / f"b{suffix}"), stored)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_a_grey_photo_is_filled_as_grey_and_written_grey(dtype, tmp_path):
    grey = _pixels(None, dtype)
    scale = np.float32(np.iinfo(dtype).max)
    pixels = read_image_as_is(_store(tmp_path / "grey.png", grey))
    assert pixels.shape == SIZE
    image = model_input(pixels).astype(np.float32) / (1 if dtype == np.uint16 else scale)
    filled = _tinted(image)
    write_image(tmp_path / "out.png", filled, like=pixels)
    out = read_image_as_is(tmp_path / "out.png")
    assert out.shape == SIZE and out.dtype == dtype
    # The holes: the mean of the three channels, 0.5 here; the rest bit for bit.
    np.testing.assert_array_equal(out[:4, :5], np.round(np.float32(0.5) * scale))
    known = np.ones(SIZE, bool)
    known[:4, :5] = False
    np.testing.assert_array_equal(out[known], grey[known])


def test_a_grey_photo_stored_as_rgb_keeps_three_equal_channels(tmp_path):
    grey = np.repeat(_pixels(None, np.uint8)[..., None], 3, axis=2)
    pixels = read_image_as_is(_store(tmp_path / "grey.png", grey))
    assert pixels.shape == (*SIZE, 3)
    out = output_pixels(_tinted(model_input(pixels) / np.float32(255)), like=pixels)
    assert out.shape == (*SIZE, 3)
    assert np.all(out[:4, :5] == 128)  # round(0.5 * 255): no tint
    np.testing.assert_array_equal(out[5:], grey[5:])
    # A colour photo keeps its fill's colours.
    colour = _pixels(3, np.uint8)
    out = output_pixels(_tinted(colour / np.float32(255)), like=colour)
    np.testing.assert_array_equal(out[0, 0], [51, 128, 204])


@pytest.mark.parametrize("dtype, suffix", [(np.uint8, ".png"), (np.uint16, ".png"),
                                           (np.uint8, ".tif"), (np.uint16, ".tiff"),
                                           (np.uint8, ".webp")])
def test_alpha_is_passed_through_where_the_format_holds_it(dtype, suffix, tmp_path):
    stored = _pixels(4, dtype)
    pixels = read_image_as_is(_store(tmp_path / f"a{suffix}", stored))
    assert pixels.shape == (*SIZE, 4)
    image = model_input(pixels)
    assert image.shape == (*SIZE, 3)
    filled = np.asarray(image, np.float32) / (np.float32(255) if dtype == np.uint8 else 1)
    filled[2:5, 3:7] = 0.25
    write_image(tmp_path / f"out{suffix}", filled, like=pixels)
    out = read_image_as_is(tmp_path / f"out{suffix}")
    assert out.dtype == dtype and out.shape == (*SIZE, 4)
    np.testing.assert_array_equal(out[:, :, 3], stored[:, :, 3])
    np.testing.assert_array_equal(out[2:5, 3:7, :3], np.round(0.25 * np.iinfo(dtype).max))
    np.testing.assert_array_equal(out[5:], stored[5:])


def test_formats_that_hold_less_get_8_bits_and_no_alpha(tmp_path):
    stored = _pixels(4, np.uint16)
    image = model_input(stored)
    # 16 bits into WebP: 8 bits, alpha rounded to 8 bits (value / 257).
    webp = output_pixels(image, like=stored, suffix=".WEBP")
    assert webp.dtype == np.uint8 and webp.shape == (*SIZE, 4)
    np.testing.assert_array_equal(webp[:, :, :3], np.round(stored[:, :, :3] / 257.0))
    np.testing.assert_array_equal(webp[:, :, 3], np.round(stored[:, :, 3] / 257.0))
    # JPEG and BMP: 8-bit RGB, no alpha.
    for suffix in (".jpg", ".bmp"):
        out = output_pixels(image, like=stored, suffix=suffix)
        assert out.dtype == np.uint8 and out.shape == (*SIZE, 3)
    write_image(tmp_path / "out.jpg", image, like=stored)
    assert cv2.imread(str(tmp_path / "out.jpg"), cv2.IMREAD_UNCHANGED).shape == (*SIZE, 3)
    # Without a form: 8-bit RGB.
    assert output_pixels(image).dtype == np.uint8


def test_a_jpeg_is_read_as_read_image_reads_it(tmp_path):
    path = _store(tmp_path / "a.jpg", _pixels(3, np.uint8))
    np.testing.assert_array_equal(read_image_as_is(path), read_image(path))
    grey = _store(tmp_path / "g.jpg", _pixels(None, np.uint8))
    assert read_image_as_is(grey).shape == SIZE


def test_files_that_cannot_be_read_as_they_are_name_why(tmp_path):
    floats = tmp_path / "float.tif"
    assert cv2.imwrite(str(floats), np.random.default_rng(0).random((*SIZE, 3), np.float32))
    with pytest.raises(ValueError, match=r"float\.tif: its pixels are float32; 8- and "
                                         r"16-bit images are read"):
        read_image_as_is(floats)
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n not an image")
    with pytest.raises(ValueError, match=r"corrupt\.png: empty, corrupt or not an image"):
        read_image_as_is(corrupt)
    with pytest.raises(OSError, match=r"Cannot write .*out\.png"):
        write_image(tmp_path / "out.png", np.zeros((0, 0, 3), np.float32))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corrupt.png", "float.tif"]
