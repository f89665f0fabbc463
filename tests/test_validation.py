"""The shared input checks, case by case: every refusal triggered, each boundary from
both sides, and the exact values and types that come back."""

import re

import numpy as np
import pytest

from inpaint_tf._validation import as_binary_masks, as_float_images, check_positive_int


def test_uint8_images_are_scaled_by_one_255th_exactly():
    images = np.array([0, 1, 128, 255], np.uint8).reshape(1, 1, 4, 1).repeat(3, axis=-1)
    out = as_float_images(images)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[0, 0, :, 0], np.float32([0, 1, 128, 255]) / 255)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_float_images_come_back_float32_with_the_same_values(dtype):
    images = np.linspace(0, 1, 2 * 3 * 4 * 3).reshape(2, 3, 4, 3).astype(dtype)
    out = as_float_images(images)
    assert out.dtype == np.float32 and out.shape == images.shape
    np.testing.assert_array_equal(out, images.astype(np.float32))


@pytest.mark.parametrize("low, high", [(-0.0009, 1.0), (0.0, 1.0009), (-0.0009, 1.0009)])
def test_round_off_just_outside_zero_one_is_clipped(low, high):
    images = np.full((1, 2, 2, 3), 0.5, np.float32)
    images[0, 0, 0] = low
    images[0, 1, 1] = high
    out = as_float_images(images)
    assert out.min() == np.float32(max(low, 0.0)) and out.max() == np.float32(min(high, 1.0))
    assert out[0, 0, 1, 0] == np.float32(0.5)


@pytest.mark.parametrize("value", [-0.0011, 1.0011, -1.0, 2.0])
def test_values_beyond_the_round_off_are_refused(value):
    images = np.full((1, 2, 2, 3), 0.5, np.float32)
    images[0, 1, 0, 2] = value
    with pytest.raises(ValueError, match=r"`images` must lie in \[0, 1\]"):
        as_float_images(images)


@pytest.mark.parametrize("images, message", [
    (np.zeros((2, 2, 3), np.float32), r"batch of shape \(N, H, W, 3\)"),
    (np.zeros((1, 1, 2, 2, 3), np.float32), r"batch of shape \(N, H, W, 3\)"),
    (np.zeros((1, 2, 2, 1), np.float32), "must have 3 channels"),
    (np.zeros((1, 2, 2, 4), np.float32), "must have 3 channels"),
    (np.zeros((0, 2, 2, 3), np.float32), "is empty"),
    (np.zeros((1, 2, 2, 3), bool), "must be uint8"),
    (np.zeros((1, 2, 2, 3), np.int64), "must be uint8"),
    (np.zeros((1, 2, 2, 3), np.uint16), "must be uint8"),
    (np.full((1, 2, 2, 3), np.nan, np.float32), "NaN or Inf"),
    (np.full((1, 2, 2, 3), np.inf, np.float32), "NaN or Inf"),
])
def test_bad_images_are_refused(images, message):
    with pytest.raises(ValueError, match=message):
        as_float_images(images)


def test_the_channel_count_and_name_are_the_callers():
    masks_as_images = np.zeros((1, 2, 2, 1), np.float32)
    assert as_float_images(masks_as_images, channels=1).shape == (1, 2, 2, 1)
    with pytest.raises(ValueError, match=r"`photo` must have 3 channels"):
        as_float_images(masks_as_images, name="photo")


@pytest.mark.parametrize("dtype", [bool, np.uint8, np.int32, np.float32, np.float64])
def test_binary_masks_of_any_numeric_dtype_come_back_float32(dtype):
    masks = np.array([[0, 1], [1, 0]]).astype(dtype)[None]  # (1, 2, 2): no channel axis
    out = as_binary_masks(masks)
    assert out.dtype == np.float32 and out.shape == (1, 2, 2, 1)
    np.testing.assert_array_equal(out[0, ..., 0], [[0, 1], [1, 0]])


@pytest.mark.parametrize("masks, message", [
    (np.zeros((2, 2), np.uint8), r"shape \(N, H, W\) or \(N, H, W, 1\)"),
    (np.zeros((1, 2, 2, 3), np.uint8), r"shape \(N, H, W\) or \(N, H, W, 1\)"),
    (np.zeros((1, 1, 2, 2, 1), np.uint8), r"shape \(N, H, W\) or \(N, H, W, 1\)"),
    (np.full((1, 2, 2), "a"), "must be numeric or bool"),
    (np.zeros((1, 2, 2), object), "must be numeric or bool"),
    (np.full((1, 2, 2), np.nan), "NaN or Inf"),
    (np.full((1, 2, 2), np.nan, np.float32), "NaN or Inf"),
    (np.full((1, 2, 2), np.inf, np.float16), "NaN or Inf"),
    (np.full((1, 2, 2), -np.inf), "NaN or Inf"),
    (np.full((1, 2, 2), 2, np.uint8), "must be binary"),
    (np.full((1, 2, 2), -1, np.int8), "must be binary"),
])
def test_bad_masks_are_refused(masks, message):
    with pytest.raises(ValueError, match=message) as error:
        as_binary_masks(masks)
    assert str(error.value).startswith("`masks` ")  # the default name


def test_a_non_binary_mask_is_shown_by_its_first_five_values():
    masks = np.arange(7, dtype=np.float32).reshape(1, 1, 7) / 10  # 0.0, 0.1, ..., 0.6
    with pytest.raises(ValueError) as error:
        as_binary_masks(masks, name="holes")
    message = str(error.value)
    assert message.startswith("`holes` must be binary")
    values = [float(v) for v in message.split("such as [")[1].split("]")[0].split(", ")]
    np.testing.assert_allclose(values, [0.0, 0.1, 0.2, 0.3, 0.4])


def test_masks_must_match_the_images_batch_and_size():
    images = np.zeros((2, 4, 5, 3), np.float32)
    assert as_binary_masks(np.zeros((2, 4, 5)), like=images).shape == (2, 4, 5, 1)
    for shape in ((1, 4, 5), (2, 5, 5), (2, 4, 4)):
        with pytest.raises(ValueError, match=r"match the images' batch and spatial size "
                                             r"\(2, 4, 5\)"):
            as_binary_masks(np.zeros(shape), like=images)


@pytest.mark.parametrize("value", [1, 2, 10**9, np.int64(1), np.uint8(3)])
def test_positive_integers_are_accepted_as_int(value):
    out = check_positive_int(value, "n")
    assert out == value and type(out) is int


@pytest.mark.parametrize("value", [0, -1, True, False, 1.0, 2.5, "3", None, np.float32(2)])
def test_everything_else_is_refused_with_its_name_and_value(value):
    expected = f"`steps` must be a positive integer. Received: steps={value!r}"
    with pytest.raises(ValueError, match=re.escape(expected)):
        check_positive_int(value, "steps")
