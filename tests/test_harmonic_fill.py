"""HarmonicFill against a NumPy reference of the same passes, and closed forms: a linear
ramp (harmonic) is filled back exactly, known pixels are untouched, edge cases."""

import cv2
import keras
import numpy as np
import pytest
from keras_checks import (
    check_config_round_trip,
    check_keras_save_load,
    check_symbolic_and_eager,
    check_tf_saved_model,
)

from inpaint_tf.layers import HarmonicFill
from inpaint_tf.models import build_unet_autoencoder


def _pool(x):
    """2x2 average pooling, stride 2, SAME padding that averages only real cells."""
    h, w = x.shape[:2]
    ph, pw = h + h % 2, w + w % 2
    padded = np.zeros((ph, pw, x.shape[2]))
    count = np.zeros((ph, pw, 1))
    padded[:h, :w], count[:h, :w] = x, 1
    total = padded.reshape(ph // 2, 2, pw // 2, 2, -1).sum(axis=(1, 3))
    return total / count.reshape(ph // 2, 2, pw // 2, 2, 1).sum(axis=(1, 3))


def _box3(x):
    """3x3 mean over the cells inside the image (SAME padding, padding not counted)."""
    ones = np.ones(x.shape[:2] + (1,))
    return (cv2.boxFilter(x, -1, (3, 3), normalize=False, borderType=cv2.BORDER_CONSTANT)
            .reshape(x.shape)
            / cv2.boxFilter(ones, -1, (3, 3), normalize=False,
                            borderType=cv2.BORDER_CONSTANT).reshape(ones.shape))


def reference_fill(image, mask, levels, iterations):
    """The layer's passes written independently in NumPy/OpenCV (float64)."""
    known = 1.0 - mask
    sums, shares = [image * known], [known]
    for _ in range(levels):
        sums.append(_pool(sums[-1]))
        shares.append(_pool(shares[-1]))

    def relax(filled, total, share):
        fixed, exact = share >= 1.0, total / np.maximum(share, 1e-12)
        for _ in range(iterations):
            filled = np.where(fixed, exact, _box3(filled))
        return filled

    filled = np.where(shares[-1] > 0, sums[-1] / np.maximum(shares[-1], 1e-12), 0.5)
    filled = relax(filled, sums[-1], shares[-1])
    for level in range(levels - 1, -1, -1):
        share = shares[level]
        h, w = share.shape[:2]
        up = cv2.resize(filled, (w, h), interpolation=cv2.INTER_LINEAR).reshape(h, w, -1)
        filled = share * (sums[level] / np.maximum(share, 1e-12)) + (1 - share) * up
        filled = relax(filled, sums[level], share)
    return np.where(known > 0.5, image, filled)


@pytest.mark.parametrize("shape,levels,iterations", [((16, 16), 3, 2), ((21, 34), 4, 5),
                                                     ((9, 40), 6, 1)])
def test_the_fill_equals_the_numpy_reference(rng, shape, levels, iterations):
    image = rng.uniform(size=(*shape, 3))
    mask = (rng.uniform(size=(*shape, 1)) < 0.3).astype(np.float64)
    mask[2:7, 3:9] = 1
    got = np.asarray(HarmonicFill(levels, iterations)([image[None].astype(np.float32),
                                                       mask[None].astype(np.float32)]))[0]
    np.testing.assert_allclose(got, reference_fill(image, mask, levels, iterations),
                               atol=2e-5)


def test_a_linear_ramp_is_filled_back_as_the_same_ramp():
    # A linear function is harmonic: Laplace's equation with its values around a hole
    # has the function itself as solution.
    y, x = np.mgrid[0:64, 0:64] / 63.0
    image = np.stack([0.2 + 0.5 * x, 0.7 - 0.4 * y, 0.3 + 0.3 * x + 0.2 * y], -1)
    mask = np.zeros((64, 64, 1))
    mask[20:40, 10:30] = 1
    filled = np.asarray(HarmonicFill()([image[None].astype(np.float32),
                                        mask[None].astype(np.float32)]))[0]
    hole = mask[..., 0] > 0
    assert np.abs(filled[hole] - image[hole]).max() < 2e-3


def test_known_pixels_are_returned_bit_for_bit_and_the_holes_change(rng):
    image = rng.uniform(size=(1, 32, 48, 3)).astype(np.float32)
    mask = np.zeros((1, 32, 48, 1), np.float32)
    mask[0, 5:20, 7:30] = 1
    filled = np.asarray(HarmonicFill()([image, mask]))
    known = mask[..., 0] == 0
    assert np.array_equal(filled[known], image[known])
    assert not np.allclose(filled[~known], image[~known])


def test_no_hole_is_the_identity_and_no_known_pixel_gives_one_half(rng):
    image = rng.uniform(size=(2, 16, 16, 3)).astype(np.float32)
    none = np.zeros((2, 16, 16, 1), np.float32)
    assert np.array_equal(np.asarray(HarmonicFill()([image, none])), image)
    everything = np.ones((2, 16, 16, 1), np.float32)
    np.testing.assert_array_equal(np.asarray(HarmonicFill()([image, everything])), 0.5)


def test_a_constant_image_stays_that_constant(rng):
    image = np.full((1, 40, 24, 3), 0.37, np.float32)
    mask = (rng.uniform(size=(1, 40, 24, 1)) < 0.5).astype(np.float32)
    np.testing.assert_allclose(np.asarray(HarmonicFill()([image, mask])), 0.37, atol=1e-6)


@pytest.mark.parametrize("argument", ["levels", "iterations"])
@pytest.mark.parametrize("value", [-1, 1.5, True, "4"])
def test_bad_arguments_are_refused_with_the_received_value(argument, value):
    with pytest.raises(ValueError, match=f"Received: {argument}="):
        HarmonicFill(**{argument: value})


def test_keras_contract(rng, tmp_path):
    image = keras.Input((None, None, 3), name="image")
    mask = keras.Input((None, None, 1), name="mask")
    model = keras.Model({"image": image, "mask": mask},
                        HarmonicFill(levels=3, iterations=3)([image, mask]))
    inputs = {"image": rng.uniform(size=(2, 24, 16, 3)).astype(np.float32),
              "mask": (rng.uniform(size=(2, 24, 16, 1)) < 0.4).astype(np.float32)}
    clone = check_config_round_trip(model.layers[-1])
    assert (clone.levels, clone.iterations) == (3, 3)
    check_symbolic_and_eager(model, inputs)
    check_keras_save_load(model, inputs, tmp_path)
    check_tf_saved_model(model, inputs, tmp_path)


def test_under_bfloat16_the_fill_is_computed_in_float32_and_cast(rng):
    image = rng.uniform(size=(1, 16, 16, 3)).astype(np.float32)
    mask = np.zeros((1, 16, 16, 1), np.float32)
    mask[0, 4:12, 4:12] = 1
    exact = np.asarray(HarmonicFill()([image, mask]))
    layer = HarmonicFill(dtype="mixed_bfloat16")
    got = layer([image, mask])
    assert got.dtype == "bfloat16"
    np.testing.assert_allclose(np.asarray(got, np.float32), exact, atol=2 ** -8)


def test_the_harmonic_unet_adds_a_correction_to_the_smooth_fill_and_keeps_known_pixels(rng):
    model = build_unet_autoencoder((None, None, 3), filters=(4, 8), bottleneck_filters=8,
                                   mask_as_input=True, composite_output=True,
                                   prefill="harmonic")
    image = rng.uniform(size=(1, 32, 32, 3)).astype(np.float32)
    mask = np.zeros((1, 32, 32, 1), np.float32)
    mask[0, 8:20, 10:22] = 1
    out = np.asarray(model({"image": image, "mask": mask}))
    smooth = np.asarray(HarmonicFill()([image, mask]))
    features = keras.Model(model.inputs, model.get_layer("output_conv").input)
    kernel, bias = model.get_layer("output_conv").get_weights()
    hidden = np.asarray(features({"image": image, "mask": mask}))
    correction = np.asarray(keras.ops.conv(hidden, kernel, padding="same")) + bias
    np.testing.assert_allclose(out, np.where(mask > 0, np.clip(smooth + correction, 0, 1),
                                             image), atol=1e-5)
    assert np.array_equal(out[mask[..., 0] == 0], image[mask[..., 0] == 0])
    with pytest.raises(ValueError, match="Received: prefill='nearest'"):
        build_unet_autoencoder(prefill="nearest")
