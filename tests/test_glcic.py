import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import conv_params
from keras_checks import (
    check_config_round_trip,
    check_keras_save_load,
    check_mixed_policy,
    check_symbolic_and_eager,
    check_tf_saved_model,
)

from inpaint_tf.masks import generate_masks
from inpaint_tf.models import glcic


def _trainable(model):
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))



def test_generator_parameter_count():
    model = glcic.build_glcic_generator()
    # Summed from the layer list: each layer's conv plus BatchNorm's gamma and beta.
    total, channels = 0, 4
    for _, filters, kernel, _, _ in glcic.GENERATOR_LAYERS:
        total += conv_params(kernel, channels, filters) + 2 * filters
        channels = filters
    total += conv_params(3, channels, 3)
    assert _trainable(model) == total == 6_072_131


def test_discriminator_parameter_count():
    model = glcic.build_glcic_discriminator((32, 32, 3), region_size=16)
    branch, channels = 0, 4
    for filters in glcic.DISCRIMINATOR_FILTERS:
        branch += conv_params(5, channels, filters) + 2 * filters
        channels = filters
    branch += 512 * 1024 + 1024 + 2 * 1024  # 32 -> 1 after five stride-2 convs
    assert _trainable(model) == 2 * branch + 2049 == 22_787_201


def _reference_crop(images, masks, region):
    """A slow loop: centre the patch on the hole's bounding box, then shift it inside."""
    patches = []
    height, width = masks.shape[1:3]
    for image, mask in zip(images, masks):
        rows = np.flatnonzero(mask[..., 0].any(axis=1))
        cols = np.flatnonzero(mask[..., 0].any(axis=0))
        top, bottom = (rows[0], rows[-1]) if len(rows) else (0, height - 1)
        left, right = (cols[0], cols[-1]) if len(cols) else (0, width - 1)
        y = min(max((top + bottom + 1 - region) // 2, 0), height - region)
        x = min(max((left + right + 1 - region) // 2, 0), width - region)
        patches.append(image[y:y + region, x:x + region])
    return np.stack(patches)


@pytest.mark.parametrize("kind", ["random_box", "gan_rectangle", "irregular", "center_box"])
def test_local_crops_equal_a_reference_loop(rng, kind):
    masks = generate_masks(kind, 64, seed=3).astype(np.float32)
    images = rng.uniform(size=(64, 32, 32, 4)).astype(np.float32)
    ours = np.asarray(glcic.crop_local_regions(images, masks, 16))
    np.testing.assert_array_equal(ours, _reference_crop(images, masks, 16))


def test_local_crops_at_every_border_and_without_hole(rng):
    masks = np.zeros((6, 32, 32, 1), np.float32)
    masks[0, 0:3, 10:14] = 1  # top
    masks[1, 29:32, 10:14] = 1  # bottom
    masks[2, 10:14, 0:2] = 1  # left
    masks[3, 10:14, 30:32] = 1  # right
    masks[4, 0:32, 31:32] = 1  # a full-height stripe on the right border
    images = rng.uniform(size=(6, 32, 32, 3)).astype(np.float32)
    ours = np.asarray(glcic.crop_local_regions(images, masks, 16))
    np.testing.assert_array_equal(ours, _reference_crop(images, masks, 16))
    corners = np.asarray(glcic.local_region_corners(masks, 16))
    assert corners.tolist() == [[0, 4], [16, 4], [4, 0], [4, 16], [8, 16], [8, 8]]


@pytest.mark.parametrize("region", [1, 7, 8, 24])
def test_local_crops_of_random_boxes_on_a_non_square_image(rng, region):
    # Boxes of any size anywhere, many touching one or two borders (corners included).
    height, width, n = 24, 40, 200
    tops = rng.integers(0, height, n)
    lefts = rng.integers(0, width, n)
    bottoms = np.minimum(tops + rng.integers(1, height + 1, n), height)
    rights = np.minimum(lefts + rng.integers(1, width + 1, n), width)
    masks = np.zeros((n, height, width, 1), np.float32)
    for mask, top, bottom, left, right in zip(masks, tops, bottoms, lefts, rights):
        mask[top:bottom, left:right] = 1
    assert masks[:, 0].any() and masks[:, -1].any() and masks[:, :, 0].any()
    assert masks[:, :, -1].any()
    images = rng.uniform(size=(n, height, width, 2)).astype(np.float32)
    ours = np.asarray(glcic.crop_local_regions(images, masks, region))
    np.testing.assert_array_equal(ours, _reference_crop(images, masks, region))


def test_local_crop_rejects_a_region_larger_than_the_image():
    with pytest.raises(ValueError, match="region_size=17"):
        glcic.crop_local_regions(np.zeros((1, 16, 32, 3), np.float32),
                                 np.zeros((1, 16, 32, 1), np.float32), 17)


def test_local_crop_passes_gradients_to_the_patch_only(rng):
    images = tf.Variable(rng.uniform(size=(2, 32, 32, 3)).astype(np.float32))
    masks = generate_masks("random_box", 2, seed=0).astype(np.float32)
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(glcic.crop_local_regions(images, masks, 16))
    gradient = tape.gradient(total, images).numpy()
    assert gradient.sum() == 2 * 16 * 16 * 3 and set(np.unique(gradient)) == {0.0, 1.0}


def test_size_check_layer_contracts():
    layer = glcic.CheckSizeMultiple(4)
    assert check_config_round_trip(layer).multiple == 4
    assert layer.compute_output_shape((None, 8, None, 3)) == (None, 8, None, 3)
    with pytest.raises(ValueError, match="multiple=0"):
        glcic.CheckSizeMultiple(0)


def test_local_crop_layer_contracts():
    layer = glcic.LocalCrop(8)
    assert check_config_round_trip(layer).region_size == 8
    assert layer.compute_output_shape(((None, 32, 32, 4), (None, 32, 32, 1))) == (
        None, 8, 8, 4)
    with pytest.raises(ValueError, match="region_size"):
        glcic.LocalCrop(0)


def test_generator_is_fully_convolutional_and_ignores_hole_content(rng):
    model = glcic.build_glcic_generator((None, None, 3))
    masks = generate_masks("gan_rectangle", 2, seed=1, height=24, width=40).astype(np.float32)
    images = rng.uniform(size=(2, 24, 40, 3)).astype(np.float32)
    out = np.asarray(model({"image": images, "mask": masks}))
    assert out.shape == (2, 24, 40, 3) and out.min() >= 0 and out.max() <= 1
    other = np.where(masks > 0, 0.3, images).astype(np.float32)
    np.testing.assert_array_equal(out, model({"image": other, "mask": masks}))
    with pytest.raises(ValueError, match="multiples of 4"):
        glcic.build_glcic_generator((30, 32, 3))
    # Stride-2 convs would round 30 up to 32: the size is refused, not silently changed.
    odd = {"image": images[:, :22], "mask": masks[:, :22]}
    with pytest.raises(ValueError, match=r"multiples of 4 .* \(22, 40\)"):
        model(odd)
    traced = tf.function(lambda x: model(x), input_signature=[{
        "image": tf.TensorSpec([None, None, None, 3]),
        "mask": tf.TensorSpec([None, None, None, 1])}])
    assert traced({"image": images, "mask": masks}).shape == (2, 24, 40, 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="multiples of 4"):
        traced(odd)
    linear = glcic.build_glcic_generator(output_activation=None)
    assert linear.get_layer("generator_output").activation.__name__ == "linear"


def test_discriminator_errors():
    with pytest.raises(ValueError, match="fixed image size"):
        glcic.build_glcic_discriminator((None, None, 3))
    with pytest.raises(ValueError, match="region_size"):
        glcic.build_glcic_discriminator((16, 16, 3), region_size=32)


def _small_batch(rng, size=16):
    masks = generate_masks("gan_rectangle", 2, seed=0, height=size, width=size)
    return {"image": rng.uniform(size=(2, size, size, 3)).astype(np.float32),
            "mask": masks.astype(np.float32)}


def test_generator_keras_contracts(rng, tmp_path):
    model = glcic.build_glcic_generator((16, 16, 3))
    inputs = _small_batch(rng)
    check_symbolic_and_eager(model, inputs)
    check_keras_save_load(model, inputs, tmp_path)
    check_tf_saved_model(model, inputs, tmp_path)


def test_discriminator_saves_and_reloads(rng, tmp_path):
    model = glcic.build_glcic_discriminator((16, 16, 3), region_size=8)
    inputs = _small_batch(rng)
    check_keras_save_load(model, inputs, tmp_path)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_policies(rng, policy):
    inputs = _small_batch(rng)
    check_mixed_policy(lambda: glcic.build_glcic_generator((16, 16, 3)), inputs, policy)
    check_mixed_policy(lambda: glcic.build_glcic_discriminator((16, 16, 3), region_size=8),
                       inputs, policy)
    keras.mixed_precision.set_global_policy("float32")
