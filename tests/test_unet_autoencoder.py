import keras
import numpy as np
import pytest
from conftest import conv_params, inpainting_batch
from keras_checks import (
    check_callbacks_resume,
    check_fit_lowers_the_loss,
    check_mixed_policy,
    check_model_contracts,
)

from inpaint_tf.data import make_dataset, synthetic_split
from inpaint_tf.models.unet_autoencoder import build_unet_autoencoder

SMALL = dict(filters=(4, 8), bottleneck_filters=16)


def test_study_parameter_count_exactly():
    assert build_unet_autoencoder().count_params() == 7_760_931
    # The same count, summed from the architecture's description.
    encoder = [(3, 32), (32, 32), (32, 64), (64, 64), (64, 128), (128, 128), (128, 256),
               (256, 256)]
    decoder = [(256, 512), (512, 512), (512, 256),  # stage 1 convs + 2x2 upconv
               (512, 256), (256, 256), (256, 128),
               (256, 128), (128, 128), (128, 64),
               (128, 64), (64, 64), (64, 32)]
    total = sum(conv_params(3, a, b) for a, b in encoder)
    for index, (a, b) in enumerate(decoder):
        total += conv_params(2 if index % 3 == 2 else 3, a, b)
    total += conv_params(3, 64, 32) + conv_params(3, 32, 32) + conv_params(3, 32, 3)
    assert total == 7_760_931


def test_layer_names_read_like_the_architecture():
    model = build_unet_autoencoder()
    names = [layer.name for layer in model.layers]
    for name in ("encoder_stage1_conv_a", "encoder_stage4_pool", "decoder_stage1_upconv",
                 "decoder_stage4_concat", "output_conv"):
        assert name in names
    assert model.get_layer("decoder_stage1_conv_a").filters == 512
    assert model.get_layer("decoder_stage4_upconv").filters == 32
    assert model.get_layer("output_conv").dtype_policy.name == "float32"


def test_mask_as_input_adds_a_fourth_channel():
    plain = build_unet_autoencoder(**SMALL).get_layer("encoder_stage1_conv_a")
    with_mask = build_unet_autoencoder(mask_as_input=True, **SMALL).get_layer(
        "encoder_stage1_conv_a")
    assert plain.kernel.shape == (3, 3, 3, 4) and with_mask.kernel.shape == (3, 3, 4, 4)


@pytest.mark.parametrize("mask_as_input", [False, True])
def test_hole_content_does_not_change_the_output(rng, mask_as_input):
    model = build_unet_autoencoder((16, 16, 3), mask_as_input=mask_as_input, **SMALL)
    inputs, images = inpainting_batch(rng)
    altered = dict(inputs, image=np.where(inputs["mask"] > 0, 1 - images, images))
    np.testing.assert_array_equal(model(inputs), model(altered))
    output = np.asarray(model(inputs))
    assert output.dtype == np.float32 and output.min() >= 0 and output.max() <= 1


def test_the_mask_reaches_the_network_only_with_mask_as_input(rng):
    # With the fill value equal to the image, holes are invisible to the study's model.
    image = np.zeros((1, 16, 16, 3), np.float32)
    no_hole, hole = np.zeros((1, 16, 16, 1), np.float32), np.zeros((1, 16, 16, 1), np.float32)
    hole[:, 4:8, 4:8] = 1
    for mask_as_input, same in ((False, True), (True, False)):
        keras.utils.set_random_seed(0)
        model = build_unet_autoencoder((16, 16, 3), mask_as_input=mask_as_input, **SMALL)
        a = np.asarray(model({"image": image, "mask": no_hole}))
        b = np.asarray(model({"image": image, "mask": hole}))
        assert np.array_equal(a, b) == same


def test_any_divisible_size_and_clear_errors():
    model = build_unet_autoencoder((None, None, 3), **SMALL)
    out = model({"image": np.zeros((1, 8, 12, 3), np.float32),
                 "mask": np.zeros((1, 8, 12, 1), np.float32)})
    assert out.shape == (1, 8, 12, 3)
    assert build_unet_autoencoder((64, 48, 3)).output.shape == (None, 64, 48, 3)
    with pytest.raises(ValueError, match=r"multiples of 4.*input_shape=\(18, 16, 3\)"):
        build_unet_autoencoder((18, 16, 3), **SMALL)
    with pytest.raises(ValueError, match="multiples of 16"):
        build_unet_autoencoder((40, 40, 3))
    with pytest.raises(ValueError, match="must end in 3"):
        build_unet_autoencoder((16, 16, 1))
    with pytest.raises(ValueError, match="filters"):
        build_unet_autoencoder(filters=())
    with pytest.raises(ValueError, match="filters"):
        build_unet_autoencoder(filters=(4, 0))
    with pytest.raises(ValueError, match="bottleneck_filters"):
        build_unet_autoencoder(bottleneck_filters=0)


def test_keras_contracts(rng, tmp_path):
    model = build_unet_autoencoder((None, None, 3), mask_as_input=True, **SMALL)
    inputs, images = inpainting_batch(rng)
    check_model_contracts(model, inputs, images, tmp_path)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_policies_serve_float32(rng, policy):
    inputs, _ = inpainting_batch(rng)
    check_mixed_policy(lambda: build_unet_autoencoder((16, 16, 3), **SMALL), inputs, policy)


def test_training_on_the_pipeline_lowers_the_loss():
    keras.utils.set_random_seed(0)
    split = synthetic_split(64, 8, 8, size=16)
    model = build_unet_autoencoder((16, 16, 3), filters=(8, 16), bottleneck_filters=32)
    model.compile(keras.optimizers.Adam(1e-2), loss="mae")
    dataset = make_dataset(split.train.images, "irregular", batch_size=8, seed=0,
                           steps_per_epoch=30)
    check_fit_lowers_the_loss(model, dataset, steps=30)


def test_callbacks_log_checkpoint_and_resume_at_the_right_epoch(tmp_path):
    split = synthetic_split(32, 8, 8, size=16)
    dataset = make_dataset(split.train.images, "center_box", batch_size=8, seed=0,
                           steps_per_epoch=2)

    def build():
        keras.utils.set_random_seed(0)
        model = build_unet_autoencoder((16, 16, 3), **SMALL)
        model.compile("adam", "mae")
        return model

    check_callbacks_resume(build, dataset, tmp_path)
