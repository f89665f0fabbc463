"""The study's convolutional UNet autoencoder."""

from __future__ import annotations

import keras

from inpaint_tf._validation import is_int
from inpaint_tf.layers.conv2d import Conv2D
from inpaint_tf.layers.conv2d_transpose import Conv2DTranspose
from inpaint_tf.layers.harmonic_fill import HarmonicFill
from inpaint_tf.models._common import KeepKnown, check_divisible, model_inputs, with_fill

PREFILLS = ("constant", "harmonic")


def _positive_int(value) -> bool:
    return is_int(value) and value >= 1


def build_unet_autoencoder(input_shape=(32, 32, 3), filters=(32, 64, 128, 256),
                           bottleneck_filters: int = 512, mask_as_input: bool = False,
                           composite_output: bool = False, fill_value: float = 0.0,
                           prefill: str = "constant",
                           name: str = "unet_autoencoder") -> keras.Model:
    """The study's convolutional UNet autoencoder (7,760,931 parameters at 32x32x3).

    Encoder: per stage two 3x3 ReLU convolutions (32, 64, 128, 256 filters), each
    stage followed by 2x2 max-pooling. Decoder: per stage two 3x3 ReLU
    convolutions (512, 256, 128, 64) then a 2x2 stride-2 transposed convolution
    (256, 128, 64, 32) concatenated with the matching encoder output; finally two
    32-filter 3x3 ReLU convolutions and a 3x3 sigmoid convolution to 3 channels.

    The model writes `fill_value` into the holes of "image" itself, so the network
    sees exactly the study's input (the masked image) whatever the holes held; in
    the study's mode (``mask_as_input=False``) that is all the mask is used for.

    Sizes: with a static height and width, a size that is not a multiple of
    ``2 ** len(filters)`` raises a `ValueError` at build time. With None height
    or width the check can only happen at call time, where such a size fails in
    the first decoder concatenation (TensorFlow's shape error); pad the images
    first (`inpaint_tf.inpaint` does).

    Args:
        input_shape: (height, width, 3); height and width may be None, else
            divisible by ``2 ** len(filters)``.
        filters: encoder filters per stage (the depth is their count).
        bottleneck_filters: filters of the deepest decoder stage.
        mask_as_input: also feed the hole mask as a fourth channel (the study fed
            only the masked image, so it could not tell a dark pixel from a hole).
        composite_output: pass the known pixels of "image" through to the output
            (`KeepKnown`), so the raw output is the composite: its known pixels
            are the input's bit for bit, and a loss on it trains the hole only.
        fill_value: value written into holes (with ``prefill="constant"``).
        prefill: what the network sees in the holes: "constant" (`fill_value`, the
            study's input) or "harmonic" (`inpaint_tf.layers.HarmonicFill`, a
            smooth fill from the hole's surroundings, as good as OpenCV's
            Navier–Stokes). With "harmonic" the network learns a correction: its
            last convolution (linear) is added to the smooth fill, then clipped to
            [0, 1].
        name: model name.

    Returns:
        A functional `keras.Model` taking ``{"image": (B, H, W, 3), "mask":
        (B, H, W, 1)}`` (1 = hole) and returning the raw float32 image in [0, 1]
        (with `composite_output`, the composite).

    Example:
        >>> model = build_unet_autoencoder()
        >>> model.count_params()
        7760931
    """
    if (not isinstance(filters, (list, tuple)) or not filters
            or not all(_positive_int(f) for f in filters)):
        raise ValueError("`filters` must be a non-empty sequence of positive integers. "
                         f"Received: filters={filters!r}")
    if not _positive_int(bottleneck_filters):
        raise ValueError("`bottleneck_filters` must be a positive integer. "
                         f"Received: bottleneck_filters={bottleneck_filters!r}")
    if prefill not in PREFILLS:
        raise ValueError(f"`prefill` must be one of {PREFILLS}. Received: prefill={prefill!r}")
    depth = len(filters)
    check_divisible(input_shape, 2**depth, "input_shape")
    inputs = model_inputs(input_shape)
    if prefill == "harmonic":  # float32: the correction is added to it at the output
        smooth = HarmonicFill(dtype="float32", name="harmonic_fill")(
            [inputs["image"], inputs["mask"]])
        x = smooth
    else:
        x = with_fill(inputs, fill_value)
    if mask_as_input:
        x = keras.layers.Concatenate(name="input_with_mask")([x, inputs["mask"]])

    def conv_pair(x, count, prefix):
        for suffix in ("a", "b"):
            x = Conv2D(count, 3, padding="same", activation="relu",
                       name=f"{prefix}_conv_{suffix}")(x)
        return x

    skips = []
    for stage, count in enumerate(filters, start=1):
        x = conv_pair(x, count, f"encoder_stage{stage}")
        skips.append(x)
        x = keras.layers.MaxPooling2D(2, name=f"encoder_stage{stage}_pool")(x)
    # Decoder stage k works at the resolution of encoder stage depth - k + 1.
    decoder_filters = [bottleneck_filters, *reversed(filters[1:])]
    for stage, (count, skip) in enumerate(zip(decoder_filters, reversed(skips)), start=1):
        x = conv_pair(x, count, f"decoder_stage{stage}")
        x = Conv2DTranspose(skip.shape[-1], 2, strides=2, padding="same",
                            name=f"decoder_stage{stage}_upconv")(x)
        x = keras.layers.Concatenate(name=f"decoder_stage{stage}_concat")([x, skip])
    x = conv_pair(x, filters[0], "output")
    if prefill == "harmonic":
        # Keras' usual initialisation: a kernel near zero would pass almost no gradient
        # to the layers before it, which then stay below Adam's epsilon and never learn.
        correction = keras.layers.Conv2D(3, 3, padding="same", dtype="float32",
                                         name="output_conv")(x)
        output = keras.layers.Add(dtype="float32", name="output_add")([smooth, correction])
        output = keras.layers.ReLU(max_value=1.0, dtype="float32", name="output_clip")(output)
    else:
        output = keras.layers.Conv2D(3, 3, padding="same", activation="sigmoid",
                                     dtype="float32", name="output_conv")(x)
    if composite_output:
        output = KeepKnown(name="keep_known")([output, inputs["image"], inputs["mask"]])
    return keras.Model(inputs, output, name=name)
