"""The benchmarked models, built exactly as a training run builds them, and their inputs."""

from __future__ import annotations

# Each benchmarked model is a shipped experiment config: its builder, loss, optimizer,
# mask kind and fill value are those of a real run.
CONFIGS = {
    "conv_autoencoder": "exp3_conv_autoencoder_irregular",
    "pconv_autoencoder": "exp5_pconv_autoencoder_irregular",
    "gan_joint": "exp6_gan_rectangle_b32",  # T_c = T_d = 0: every step is the joint phase
}
MODELS = tuple(CONFIGS)


def config(model: str):
    from inpaint_tf.configs import load_config

    return load_config(CONFIGS[model])


def build(model: str, precision: str, jit_compile: bool | None = None):
    """The compiled model under the policy of `precision` ("float32" or "mixed").

    `jit_compile` None keeps Keras' default (XLA off on CPU, on on GPU).
    """
    from inpaint_tf.training.loop import build_model, dtype_policy, policy_for

    with dtype_policy(policy_for(precision)):
        compiled = build_model(config(model))
    if jit_compile is not None:
        compiled.jit_compile = jit_compile
    return compiled


def dataset(model: str, images, batch_size: int, seed: int = 0):
    """The training pipeline of a run of `model` (`inpaint_tf.data.make_dataset`)."""
    from inpaint_tf.data import make_dataset

    settings = config(model)
    return make_dataset(images, settings.data.masks, batch_size=batch_size, seed=seed,
                        fill_value=settings.data.fill_value, real_masks=settings.is_gan)


def random_images(count: int, seed: int = 0):
    """uint8 CIFAR-sized images; speed and memory do not depend on what they show."""
    import numpy as np

    return np.random.default_rng(seed).integers(0, 256, (count, 32, 32, 3), dtype=np.uint8)
