"""The joint step's one discriminator pass on the completed images against the three
passes it replaced (one with the completed images behind `tf.stop_gradient` for the
discriminator's loss, one more for the generator's adversarial term).

Both networks must train alike, up to round-off; only the discriminator's BatchNorm
moving statistics, which no training-mode call reads, move once less per step.
"""

import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from _tiny_gan import tiny_discriminator, tiny_generator

from inpaint_tf.masks import generate_masks
from inpaint_tf.models.inpainting_gan import InpaintingGAN

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from gan_joint_step import three_pass_gan  # noqa: E402  (the step as it was)

SIZE, BATCH, STEPS = 16, 4, 3
WEIGHT = 0.5  # large, so that a missing or doubled adversarial gradient shows


def _gans():
    """The GAN and the three-pass reference, with the same initial weights.

    Plain SGD: Adam would scale the round-off-sized gradients of the biases that
    BatchNorm follows (zero in exact arithmetic) up to steps of the learning rate.
    """
    keras.utils.set_random_seed(0)
    ours, other = (InpaintingGAN(tiny_generator(SIZE), tiny_discriminator(SIZE, 8),
                                 adversarial_weight=WEIGHT) for _ in range(2))
    for gan in (ours, other):
        gan.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1))
    reference = three_pass_gan(other)
    reference.generator.set_weights(ours.generator.get_weights())
    reference.discriminator.set_weights(ours.discriminator.get_weights())
    return ours, reference


def _batches(rng):
    batches = []
    for step in range(STEPS):
        images = rng.uniform(size=(BATCH, SIZE, SIZE, 3)).astype(np.float32)
        masks, real_masks = (generate_masks(kind, BATCH, seed=10 * step + i, height=SIZE,
                                            width=SIZE).astype(np.float32)
                             for i, kind in enumerate(("irregular", "random_box")))
        batches.append(({"image": images * (1 - masks), "mask": masks,
                         "real_mask": real_masks}, images))
    return batches


def _first_batch_norm_inputs(gan, inputs, images):
    """The input batches of each discriminator BatchNorm that has no BatchNorm before
    it, on the completed and on the real images, from the networks as they are.

    The generator runs in training mode (as in the step), its weights restored after.
    """
    saved = gan.generator.get_weights()
    generated = gan.generator({"image": inputs["image"], "mask": inputs["mask"]},
                              training=True).numpy()
    gan.generator.set_weights(saved)
    completed = np.where(inputs["mask"] > 0.5, generated, images)
    found = {}  # by index: the two GANs' layers have different names
    for index, layer in enumerate(gan.discriminator.layers):
        if not isinstance(layer, keras.layers.BatchNormalization):
            continue
        upstream = keras.Model(gan.discriminator.inputs, layer.input)
        if any(isinstance(inner, keras.layers.BatchNormalization)
               for inner in upstream.layers):
            continue
        found[index] = [
            upstream({"image": image, "mask": mask}, training=False).numpy()
            for image, mask in ((completed, inputs["mask"]), (images, inputs["real_mask"]))]
    assert len(found) == 2  # the global and the local branch's first BatchNorm
    return found


def _moving_statistics(fake, real, momentum, passes):
    """Moving mean and variance after one step from (0, 1): the completed images'
    batch statistics, then the real images', then the completed images' again when
    the step runs three passes."""
    mean, variance = 0.0, 1.0
    for batch in [fake, real, fake][:passes]:
        axes = tuple(range(batch.ndim - 1))
        mean = momentum * mean + (1 - momentum) * batch.mean(axis=axes)
        variance = momentum * variance + (1 - momentum) * batch.var(axis=axes)
    return mean, variance


def _numpy(variables):
    return [keras.ops.convert_to_numpy(v).astype(np.float64) for v in variables]


def _assert_same_updates(ours, reference, initial, rtol):
    """Each variable's change over training agrees, within `rtol` of itself and of the
    largest change of any of them."""
    ours, reference = _numpy(ours), _numpy(reference)
    updates = [(a - w0, b - w0) for a, b, w0 in zip(ours, reference, initial, strict=True)]
    largest = max(float(np.max(np.abs(b))) for _, b in updates)
    assert largest > 1e-3  # they train
    for index, (a, b) in enumerate(updates):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * largest, err_msg=str(index))


def _moving(network):
    return [v for v in network.non_trainable_weights if "moving" in v.path]


@pytest.mark.parametrize("policy, rtol, atol", [
    ("float32", 1e-5, 1e-7),
    ("mixed_bfloat16", 2e-2, 1e-3),
    ("mixed_float16", 2e-2, 1e-3),  # loss scaling on each network's loss
])
def test_one_pass_trains_both_networks_as_three_passes(rng, policy, rtol, atol):
    keras.mixed_precision.set_global_policy(policy)  # conftest restores float32
    ours, reference = _gans()
    if policy == "mixed_float16":
        assert isinstance(ours.generator_optimizer, keras.optimizers.LossScaleOptimizer)
    batches = _batches(rng)
    initial = {"generator": _numpy(ours.generator.trainable_weights),
               "discriminator": _numpy(ours.discriminator.trainable_weights)}
    if policy == "float32":
        expected_statistics = _first_batch_norm_inputs(ours, *batches[0])
    for step, (inputs, images) in enumerate(batches):
        logs = [gan.train_on_batch(inputs, images, return_dict=True)
                for gan in (ours, reference)]
        assert ours.phase == reference.phase == "joint"
        for key in ("g_loss", "d_loss", "fake_err", "real_err", "hole_mse"):
            assert logs[0][key] == pytest.approx(logs[1][key], rel=rtol, abs=atol), (step, key)
        if step == 0 and policy == "float32":
            _assert_first_step_statistics(ours, reference, expected_statistics)

    # Every trainable weight of both networks, and the generator's moving statistics.
    for network in ("generator", "discriminator"):
        _assert_same_updates(getattr(ours, network).trainable_weights,
                             getattr(reference, network).trainable_weights,
                             initial[network], rtol)
    for a, b in zip(_numpy(ours.generator.non_trainable_weights),
                    _numpy(reference.generator.non_trainable_weights), strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    # The discriminator's other weights are its moving statistics, and they differ.
    assert {id(v) for v in ours.discriminator.non_trainable_weights} == {
        id(v) for v in _moving(ours.discriminator)}
    for a, b in zip(_numpy(_moving(ours.discriminator)),
                    _numpy(_moving(reference.discriminator)), strict=True):
        assert not np.allclose(a, b, rtol=1e-3, atol=0)


def _assert_first_step_statistics(ours, reference, expected_statistics):
    """After one step, each first BatchNorm's moving statistics are two updates (ours)
    or three (the reference) from the batches computed by hand."""
    for gan, passes in ((ours, 2), (reference, 3)):
        for index, (fake, real) in expected_statistics.items():
            layer = gan.discriminator.layers[index]
            mean, variance = _moving_statistics(fake, real, layer.momentum, passes)
            np.testing.assert_allclose(layer.moving_mean.numpy(), mean, rtol=1e-5, atol=1e-7,
                                       err_msg=f"{layer.name}, {passes} passes")
            np.testing.assert_allclose(layer.moving_variance.numpy(), variance, rtol=1e-5,
                                       atol=1e-7, err_msg=f"{layer.name}, {passes} passes")
