"""Small stand-ins for the GLCIC networks, for tests of the GAN's training logic.

They keep what that logic touches (hole filling, BatchNorm, synchronised under a
strategy, the local crop around the hole, a float32 output and score) at a
fraction of the full networks' cost; tests of the full networks build those.
`build_tiny_gan` puts them in the GAN where `inpaint_tf.training.loop.train` builds a
config's model.
"""

import keras
import tensorflow as tf

from inpaint_tf.models import InpaintingGAN
from inpaint_tf.models._common import FillHoles
from inpaint_tf.models.glcic import LocalCrop


def _inputs(size):
    return {"image": keras.Input((size, size, 3), name="image"),
            "mask": keras.Input((size, size, 1), name="mask")}


def _normalised(x):
    x = keras.layers.BatchNormalization(synchronized=tf.distribute.has_strategy())(x)
    return keras.layers.LeakyReLU(negative_slope=0.1)(x)


def tiny_generator(size=None) -> keras.Model:
    inputs = _inputs(size)
    x = FillHoles(0.0)([inputs["image"], inputs["mask"]])
    x = keras.layers.Concatenate()([x, inputs["mask"]])
    x = _normalised(keras.layers.Conv2D(8, 3, strides=2, padding="same")(x))
    x = _normalised(keras.layers.Conv2DTranspose(8, 4, strides=2, padding="same")(x))
    output = keras.layers.Conv2D(3, 3, padding="same", activation="sigmoid",
                                 dtype="float32")(x)
    return keras.Model(inputs, output, name="tiny_generator")


def tiny_discriminator(size=16, region_size=8) -> keras.Model:
    inputs = _inputs(size)
    with_mask = keras.layers.Concatenate()([inputs["image"], inputs["mask"]])

    def branch(x):
        x = _normalised(keras.layers.Conv2D(8, 5, strides=2, padding="same")(x))
        return _normalised(keras.layers.Dense(16)(keras.layers.Flatten()(x)))

    patch = LocalCrop(region_size)([with_mask, inputs["mask"]])
    features = keras.layers.Concatenate()([branch(with_mask), branch(patch)])
    score = keras.layers.Dense(1, dtype="float32")(features)
    return keras.Model(inputs, score, name="tiny_discriminator")


def build_tiny_gan(config, input_shape, total_steps=1, *, optimizer) -> InpaintingGAN:
    """`inpaint_tf.training.building.build_model` for a GAN config, on the tiny networks:
    the config's adversarial weight and phase lengths, `optimizer` (a Keras optimizer
    class) for both networks at the config's learning rates."""
    gan = InpaintingGAN(tiny_generator(None), tiny_discriminator(input_shape[0], 8),
                        adversarial_weight=config.gan.adversarial_weight,
                        T_c=config.gan.T_c, T_d=config.gan.T_d)
    gan.compile(optimizer(config.gan.generator_learning_rate),
                optimizer(config.gan.discriminator_learning_rate))
    return gan
