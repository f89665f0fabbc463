"""Building a model from an experiment config: the network, its options checked, compiled.

`configs.MODEL_BUILDERS` names the builder of the network that inpaints for each
model kind; `build_model` builds and compiles a config's model (a GAN with both networks and
optimizers).

Example:
    >>> from inpaint_tf import build_model, load_config
    >>> model = build_model(load_config("exp3_conv_autoencoder_irregular"))  # doctest: +SKIP
"""

from __future__ import annotations

import inspect

from inpaint_tf.configs import MODEL_BUILDERS, ExperimentConfig
from inpaint_tf.training.schedules import learning_rate_schedule, make_optimizer

MASKED_LOSSES = ("masked_l1", "hole_mse", "hole_edge_mse", "pconv")
"""The config losses that take the hole mask as `sample_weight`."""


def _loss(config: ExperimentConfig):
    import keras

    name = config.training.loss
    if name == "mae":
        return keras.losses.MeanAbsoluteError()
    if name == "mse":
        return keras.losses.MeanSquaredError()
    from inpaint_tf import losses

    if name == "masked_l1":
        return losses.MaskedL1(hole_weight=6.0, valid_weight=1.0)
    if name == "hole_mse":
        return losses.MaskedL2(hole_weight=1.0, valid_weight=0.0, normalize="region")
    if name == "hole_edge_mse":
        return losses.HoleEdgeL2(gradient_weight=1.0)
    return losses.PConvLoss(vgg_weights=config.model.options.get("vgg_weights", "imagenet"))


def uses_mask_weights(config: ExperimentConfig) -> bool:
    """Masked losses receive the hole mask as `sample_weight` from the dataset."""
    return not config.is_gan and config.training.loss in MASKED_LOSSES


def _call_builder(builder, input_shape, options: dict, **defaults):
    accepted = inspect.signature(builder).parameters
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(f"Unknown option `model.options.{unknown[0]}` for {builder.__name__}."
                         f" Accepted: {sorted(p for p in accepted if p != 'input_shape')}")
    for key, value in options.items():
        _check_option_type(builder, key, value, accepted[key].default)
    arguments = {k: v for k, v in defaults.items() if k in accepted}
    arguments.update(options)
    return builder(input_shape=input_shape, **arguments)


def _option_fits(value, default) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, (int, float, str)):
        kinds = (int, float) if isinstance(default, float) else type(default)
        return isinstance(value, kinds)
    if isinstance(default, (tuple, list)) and default:
        return (isinstance(value, (tuple, list)) and len(value) > 0
                and all(_option_fits(item, default[0]) for item in value))
    return True  # no default to compare with


def _check_option_type(builder, key: str, value, default) -> None:
    """A model option must have the type of the builder's default (a TOML file cannot
    say None): `mask_as_input = "yes"` would otherwise pass as true, `filters = 4`
    fail deep inside the builder."""
    if not _option_fits(value, default):
        where = f"model.options.{key}"
        expected = (f"a non-empty list of {type(default[0]).__name__}"
                    if isinstance(default, (tuple, list)) else type(default).__name__)
        raise ValueError(f"Config key `{where}` must be {expected} (as the default of "
                         f"{builder.__name__}, {default!r}). Received: {where}={value!r}")


def _any_size_network(builder, input_shape, options: dict, **defaults):
    """The network that inpaints, built for any height and width (so that its model
    file and SavedModel serve images of any size), after checking that images of
    `input_shape` suit it."""
    from inpaint_tf.inference.inpainting import size_multiple
    from inpaint_tf.models._common import check_divisible

    check_divisible(input_shape, 1, "input_shape")  # (height, width, channels)
    if input_shape[-1] != 3:
        raise ValueError("Models take RGB images: `input_shape` must end in 3. "
                         f"Received: input_shape={tuple(input_shape)}")
    network = _call_builder(builder, (None, None, 3), options, **defaults)
    check_divisible(input_shape, size_multiple(network), "input_shape")
    return network


def build_model(config: ExperimentConfig, input_shape=(32, 32, 3), total_steps: int = 1):
    """Builds and compiles the config's model. Call inside ``strategy.scope()``.

    `total_steps` (all epochs' optimizer steps) sets the length of the config's
    learning-rate schedule (``training.schedule``; unused for "constant").

    The network that inpaints (the autoencoder, the GAN's generator) takes images of
    any height and width that are multiples of its downsampling factor; images of
    `input_shape` (the training images') must be, else a `ValueError` says so. A
    GAN's discriminator is built for `input_shape`.
    """
    from inpaint_tf import models

    if config.is_gan:
        options = dict(config.model.options)
        generator = _any_size_network(getattr(models, MODEL_BUILDERS["glcic_gan"]), input_shape,
                                      options, fill_value=config.data.fill_value)
        discriminator = models.build_glcic_discriminator(
            input_shape=input_shape, region_size=config.gan.region_size)
        model = models.InpaintingGAN(
            generator, discriminator, adversarial_weight=config.gan.adversarial_weight,
            T_c=config.gan.T_c, T_d=config.gan.T_d)
        model.compile(
            generator_optimizer=make_optimizer("adam", config.gan.generator_learning_rate),
            discriminator_optimizer=make_optimizer("adam", config.gan.discriminator_learning_rate))
        return model
    options = config.model.network_options()
    builder = getattr(models, MODEL_BUILDERS[config.model.kind])
    model = _any_size_network(builder, input_shape, options, fill_value=config.data.fill_value)
    training = config.training
    rate = learning_rate_schedule(training.schedule, training.learning_rate, total_steps)
    model.compile(optimizer=make_optimizer(training.optimizer, rate), loss=_loss(config))
    return model

