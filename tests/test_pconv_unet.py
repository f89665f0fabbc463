import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import conv_params, inpainting_batch
from keras_checks import (
    check_callbacks_resume,
    check_fit_lowers_the_loss,
    check_mixed_policy,
    check_model_contracts,
)

from inpaint_tf.data import make_dataset, synthetic_split
from inpaint_tf.models.pconv_unet import PRESETS, build_pconv_unet

# Tiny networks with the two presets' structure, for the checks that run a model.
TINY_STUDY = dict(PRESETS["study"], encoder=((4, 3), (8, 3)), decoder=((8, 8), (4, 3)))
TINY_PAPER = dict(PRESETS["paper"], encoder=((4, 7), (8, 5)), decoder=((4,), (3,)))
TINY = {"study": TINY_STUDY, "paper": TINY_PAPER}


def bn_params(channels: int) -> int:
    return 4 * channels  # gamma, beta, moving mean and variance


def test_study_preset_parameter_count_from_its_description():
    # Encoder: per stage a stride-1 and a stride-2 3x3 pconv; decoder: per stage two 3x3
    # pconvs on [upsampled, skip]; a final 3x3 conv. Summed here from the stage list.
    channels, total, skips = 3, 0, []
    for filters in (32, 64, 128, 256):
        total += conv_params(3, channels, filters) + conv_params(3, filters, filters)
        skips.append(filters)
        channels = filters
    for (first, second), skip in zip(((256, 256), (128, 128), (64, 64), (32, 3)),
                                     reversed(skips)):
        total += conv_params(3, channels + skip, first) + conv_params(3, first, second)
        channels = second
    total += conv_params(3, 3, 3)
    assert build_pconv_unet().count_params() == total == 3_708_535


def test_paper_preset_parameter_count_from_its_description():
    # Liu et al. 2018, supplementary table: PConv1-8 (BatchNorm from PConv2 on), PConv9-16
    # on [upsampled, skip] with BatchNorm except PConv16; the last skip is the RGB input.
    encoder = [(7, 64), (5, 128), (5, 256), (3, 512), (3, 512), (3, 512), (3, 512)]
    channels, total, skips = 3, 0, []
    for stage, (kernel, filters) in enumerate(encoder):
        skips.append(channels)
        total += conv_params(kernel, channels, filters) + (bn_params(filters) if stage else 0)
        channels = filters
    for filters, skip in zip((512, 512, 512, 256, 128, 64, 3), reversed(skips)):
        total += conv_params(3, channels + skip, filters) + (bn_params(filters)
                                                             if filters != 3 else 0)
        channels = filters
    model = build_pconv_unet((None, None, 3), preset="paper")
    assert model.count_params() == total == 25_793_108


def test_the_study_filters_are_the_intended_ones():
    model = build_pconv_unet()
    assert [model.get_layer(f"encoder_stage{i}_pconv_a").filters for i in range(1, 5)] == [
        32, 64, 128, 256]
    assert model.get_layer("decoder_stage4_pconv_b").filters == 3
    assert model.get_layer("output_conv").dtype_policy.name == "float32"


def test_paper_preset_builds_at_256_and_512_and_runs():
    model = build_pconv_unet((256, 256, 3), preset="paper")
    encoder = [model.get_layer(f"encoder_stage{i}_pconv_b") for i in range(1, 8)]
    assert [layer.kernel_size[0] for layer in encoder] == [7, 5, 5, 3, 3, 3, 3]
    assert [layer.filters for layer in encoder] == [64, 128, 256, 512, 512, 512, 512]
    names = [layer.name for layer in model.layers]
    assert "encoder_stage1_bn" not in names and "encoder_stage2_bn" in names
    assert "decoder_stage7_bn_a" not in names and "decoder_stage6_bn_a" in names
    assert isinstance(model.get_layer("decoder_stage1_activation_a"), keras.layers.LeakyReLU)
    # The last skip is the input image and its (per-channel) mask.
    assert model.get_layer("decoder_stage7_pconv_a").input[0].shape[-1] == 64 + 3
    masks = np.zeros((1, 256, 256, 1), np.float32)
    masks[:, 100:160, 40:200] = 1
    out = np.asarray(model({"image": np.full((1, 256, 256, 3), 0.5, np.float32),
                            "mask": masks}))
    assert out.shape == (1, 256, 256, 3) and np.isfinite(out).all()
    assert out.min() >= 0 and out.max() <= 1
    assert build_pconv_unet((512, 512, 3), preset="paper").output.shape == (None, 512, 512, 3)


@pytest.mark.parametrize("preset", ["study", "tiny_paper"])
def test_hole_content_does_not_change_the_output(rng, preset):
    model = build_pconv_unet((16, 16, 3), preset=TINY_PAPER if preset == "tiny_paper" else preset)
    inputs, images = inpainting_batch(rng)
    altered = dict(inputs, image=np.where(inputs["mask"] > 0, rng.uniform(size=images.shape),
                                          images).astype(np.float32))
    np.testing.assert_array_equal(model(inputs), model(altered))
    out = np.asarray(model(inputs))
    assert out.min() >= 0 and out.max() <= 1 and out.dtype == np.float32


@pytest.mark.parametrize("preset", ["study", "tiny_paper"])
def test_the_fill_value_inside_the_network_does_not_matter(rng, preset):
    # Partial convolutions never read hole pixels: the same weights with another fill
    # value written into the holes give the same output (the autoencoder's would differ).
    spec = TINY_PAPER if preset == "tiny_paper" else preset
    ones = build_pconv_unet((16, 16, 3), preset=spec, fill_value=1.0)
    other = build_pconv_unet((16, 16, 3), preset=spec, fill_value=0.37)
    other.set_weights(ones.get_weights())
    inputs, _ = inpainting_batch(rng)
    np.testing.assert_array_equal(ones(inputs), other(inputs))
    # ...while the image's known pixels do matter.
    changed = dict(inputs, image=np.where(inputs["mask"] > 0, inputs["image"], 0.5))
    assert not np.array_equal(ones(inputs), ones(changed))


def test_gradients_never_reach_hole_pixels(rng):
    model = build_pconv_unet((16, 16, 3))
    inputs, _ = inpainting_batch(rng)
    image = tf.Variable(inputs["image"])
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(model({"image": image, "mask": tf.constant(inputs["mask"])}))
    gradient = tape.gradient(total, image).numpy()
    hole = np.broadcast_to(inputs["mask"] > 0, gradient.shape)
    assert np.all(gradient[hole] == 0) and np.any(gradient[~hole] != 0)


def test_decoder_masks_are_per_channel_and_concatenated_with_the_skip():
    model = build_pconv_unet((16, 16, 3))
    for stage, (up, skip) in enumerate([(256, 256), (256, 128), (128, 64), (64, 32)], 1):
        layer = model.get_layer(f"decoder_stage{stage}_pconv_a")
        features, valid = layer.input
        assert layer.multi_channel and features.shape[-1] == valid.shape[-1] == up + skip


def _updated_validity(valid, kernel: int, stride: int):
    """NumPy mask update of a 'same' partial conv: 1 where the window holds a valid pixel
    (TensorFlow's 'same' padding: the extra padded row and column go after)."""
    size = valid.shape[0]
    out = -(-size // stride)
    pad = max((out - 1) * stride + kernel - size, 0)
    padded = np.zeros((size + pad,) * 2, valid.dtype)
    padded[pad // 2:pad // 2 + size, pad // 2:pad // 2 + size] = valid
    return np.array([[padded[i * stride:i * stride + kernel,
                             j * stride:j * stride + kernel].max() for j in range(out)]
                     for i in range(out)])


def test_decoder_masks_keep_the_skip_holes_apart_from_the_upsampled_ones():
    # A large hole: the deep, upsampled mask has closed it while the full-resolution skip
    # mask has not; the per-channel concatenation must keep both, in [upsampled, skip]
    # order, as the NumPy mask updates along the network predict.
    model = build_pconv_unet((16, 16, 3), preset=TINY_STUDY)
    layer = model.get_layer("decoder_stage2_pconv_a")
    valid_model = keras.Model(model.inputs, layer.input[1])
    masks = np.zeros((1, 16, 16, 1), np.float32)
    masks[:, 2:14, 3:13] = 1
    valid = np.asarray(valid_model({"image": np.zeros((1, 16, 16, 3), np.float32),
                                    "mask": masks}))[0]

    def up(m):  # nearest-neighbour upsampling by 2
        return m.repeat(2, axis=0).repeat(2, axis=1)

    skip1 = _updated_validity(1 - masks[0, ..., 0], 3, 1)
    skip2 = _updated_validity(_updated_validity(skip1, 3, 2), 3, 1)
    deep = _updated_validity(skip2, 3, 2)
    # Decoder stage 1 on [up(deep), skip2]: a window is valid if any channel is.
    deep = _updated_validity(np.maximum(up(deep), skip2), 3, 1)
    deep = up(_updated_validity(deep, 3, 1))
    expected = np.concatenate([np.repeat(deep[..., None], 8, -1),
                               np.repeat(skip1[..., None], 4, -1)], axis=-1)
    assert (deep != skip1).any()  # the check tells the two parts apart
    np.testing.assert_array_equal(valid, expected)


def test_sizes_and_errors():
    model = build_pconv_unet((None, None, 3), preset=TINY_STUDY)
    out = model({"image": np.zeros((1, 8, 12, 3), np.float32),
                 "mask": np.zeros((1, 8, 12, 1), np.float32)})
    assert out.shape == (1, 8, 12, 3)
    assert build_pconv_unet((64, 48, 3)).output.shape == (None, 64, 48, 3)
    with pytest.raises(ValueError, match=r"multiples of 16.*input_shape=\(24, 32, 3\)"):
        build_pconv_unet((24, 32, 3))
    with pytest.raises(ValueError, match="multiples of 128"):
        build_pconv_unet((64, 64, 3), preset="paper")
    with pytest.raises(ValueError, match="multiples of 4"):
        build_pconv_unet((6, 8, 3), preset=TINY_STUDY)


@pytest.mark.parametrize("preset, match", [
    ("large", "preset='large'"),
    ({"encoder": ((4, 3),)}, "exactly the keys"),
    (dict(TINY_STUDY, decoder=((8, 8),)), "one stage per encoder stage"),
    (dict(TINY_STUDY, encoder=((4, 3), (0, 3))), "encoder"),
    (dict(TINY_PAPER, decoder=((4,), (5,))), "3 filters"),
    (dict(TINY_STUDY, decoder_activation="tanh"), "decoder_activation"),
])
def test_bad_presets_are_refused(preset, match):
    with pytest.raises(ValueError, match=match):
        build_pconv_unet((16, 16, 3), preset=preset)


@pytest.mark.parametrize("preset", ["study", "paper"])
def test_keras_contracts(rng, tmp_path, preset):
    model = build_pconv_unet((None, None, 3), preset=TINY[preset])
    inputs, images = inpainting_batch(rng)
    check_model_contracts(model, inputs, images, tmp_path)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
@pytest.mark.parametrize("preset", ["study", "paper"])
def test_mixed_policies_serve_float32(rng, policy, preset):
    inputs, _ = inpainting_batch(rng)
    check_mixed_policy(lambda: build_pconv_unet((16, 16, 3), preset=TINY[preset]), inputs,
                       policy)


def test_training_on_the_pipeline_lowers_the_loss():
    keras.utils.set_random_seed(0)
    split = synthetic_split(64, 8, 8, size=16)
    model = build_pconv_unet((16, 16, 3), preset=dict(TINY_STUDY, encoder=((8, 3), (16, 3)),
                                                      decoder=((16, 16), (8, 3))))
    model.compile(keras.optimizers.Adam(1e-2), loss="mae")
    dataset = make_dataset(split.train.images, "irregular", batch_size=8, seed=0,
                           fill_value=1.0, steps_per_epoch=30)
    check_fit_lowers_the_loss(model, dataset, steps=30)


def test_callbacks_log_checkpoint_and_resume_at_the_right_epoch(tmp_path):
    split = synthetic_split(32, 8, 8, size=16)
    dataset = make_dataset(split.train.images, "random_box", batch_size=8, seed=0,
                           fill_value=1.0, steps_per_epoch=2)

    def build():
        keras.utils.set_random_seed(0)
        model = build_pconv_unet((16, 16, 3), preset=TINY_PAPER)
        model.compile("adam", "mae")
        return model

    check_callbacks_resume(build, dataset, tmp_path)
