import keras
import numpy as np
import pytest
from conftest import conv_params, inpainting_batch
from keras_checks import (
    check_config_round_trip,
    check_keras_save_load,
    check_mixed_policy,
    check_symbolic_and_eager,
    check_tf_saved_model,
    check_train_step,
)

from inpaint_tf.data import make_dataset, synthetic_split
from inpaint_tf.models import PCONV_PRESETS, RepeatChannels, build_pconv_unet


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


def test_the_study_filters_are_the_intended_ones():
    model = build_pconv_unet()
    assert [model.get_layer(f"encoder_stage{i}_pconv_a").filters for i in range(1, 5)] == [
        32, 64, 128, 256]


def test_paper_preset_builds_at_256_and_runs():
    model = build_pconv_unet((256, 256, 3), preset="paper")
    encoder = [model.get_layer(f"encoder_stage{i}_pconv_b") for i in range(1, 8)]
    assert [layer.kernel_size[0] for layer in encoder] == [7, 5, 5, 3, 3, 3, 3]
    assert [layer.filters for layer in encoder] == [64, 128, 256, 512, 512, 512, 512]
    assert "encoder_stage1_bn" not in [layer.name for layer in model.layers]
    masks = np.zeros((1, 256, 256, 1), np.float32)
    masks[:, 100:160, 40:200] = 1
    out = np.asarray(model({"image": np.full((1, 256, 256, 3), 0.5, np.float32),
                            "mask": masks}))
    assert out.shape == (1, 256, 256, 3) and np.isfinite(out).all()
    assert set(PCONV_PRESETS) == {"study", "paper"}


def test_hole_content_does_not_change_the_output(rng):
    model = build_pconv_unet((16, 16, 3))
    inputs, images = inpainting_batch(rng)
    altered = dict(inputs, image=np.where(inputs["mask"] > 0, rng.uniform(size=images.shape),
                                          images).astype(np.float32))
    np.testing.assert_array_equal(model(inputs), model(altered))
    out = np.asarray(model(inputs))
    assert out.min() >= 0 and out.max() <= 1 and out.dtype == np.float32


def test_gradients_never_reach_hole_pixels(rng):
    import tensorflow as tf

    model = build_pconv_unet((16, 16, 3))
    inputs, _ = inpainting_batch(rng)
    image = tf.Variable(inputs["image"])
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(model({"image": image, "mask": tf.constant(inputs["mask"])}))
    gradient = tape.gradient(total, image).numpy()
    hole = np.broadcast_to(inputs["mask"] > 0, gradient.shape)
    assert np.all(gradient[hole] == 0) and np.any(gradient[~hole] != 0)


def test_sizes_and_errors():
    model = build_pconv_unet((None, None, 3))
    out = model({"image": np.zeros((1, 32, 48, 3), np.float32),
                 "mask": np.zeros((1, 32, 48, 1), np.float32)})
    assert out.shape == (1, 32, 48, 3)
    with pytest.raises(ValueError, match="multiples of 16"):
        build_pconv_unet((24, 32, 3))
    with pytest.raises(ValueError, match="multiples of 128"):
        build_pconv_unet((64, 64, 3), preset="paper")
    with pytest.raises(ValueError, match="preset"):
        build_pconv_unet(preset="large")


def test_repeat_channels_layer():
    layer = RepeatChannels(3)
    out = np.asarray(layer(np.arange(4, dtype=np.float32).reshape(1, 2, 2, 1)))
    np.testing.assert_array_equal(out[..., 2], out[..., 0])
    assert check_config_round_trip(layer).channels == 3


def test_keras_contracts(rng, tmp_path):
    model = build_pconv_unet((16, 16, 3))
    inputs, images = inpainting_batch(rng)
    check_symbolic_and_eager(model, inputs)
    check_keras_save_load(model, inputs, tmp_path)
    check_tf_saved_model(model, inputs, tmp_path)
    check_train_step(model, inputs, images)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_policies_serve_float32(rng, policy):
    inputs, _ = inpainting_batch(rng)
    check_mixed_policy(lambda: build_pconv_unet((16, 16, 3)), inputs, policy)


def test_training_on_the_pipeline_lowers_the_loss():
    keras.utils.set_random_seed(0)
    split = synthetic_split(64, 8, 8, size=16)
    model = build_pconv_unet((16, 16, 3))
    model.compile(keras.optimizers.Adam(1e-3), loss="mae")
    dataset = make_dataset(split.train.images, "irregular", batch_size=8, seed=0,
                           fill_value=1.0)
    losses = model.fit(dataset, epochs=8, steps_per_epoch=8, verbose=0,
                       shuffle=False).history["loss"]
    assert losses[-1] < 0.85 * losses[0]
