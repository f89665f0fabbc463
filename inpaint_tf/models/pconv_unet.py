"""The partial-convolution UNet: the study's network and the paper's 7-stage network."""

from __future__ import annotations

from collections.abc import Mapping

import keras

from inpaint_tf._validation import is_int
from inpaint_tf.layers.partial_conv2d import PartialConv2D
from inpaint_tf.models._common import RepeatChannels, check_divisible, model_inputs, with_fill

# Each preset is data: encoder stages as (filters, kernel) from the top, decoder stages
# as tuples of per-conv filters from the deepest stage up (one decoder stage per encoder
# stage). A mapping with these keys can be passed as `preset` to build other sizes.
PRESETS = {
    # The study's network with the filter counts it asked for: every encoder stage is a
    # stride-1 then a stride-2 3x3 partial conv; every decoder stage two 3x3 partial
    # convs, the last one down to 3 channels; then a 3x3 sigmoid conv.
    "study": dict(encoder=((32, 3), (64, 3), (128, 3), (256, 3)), stride_one_first=True,
                  decoder=((256, 256), (128, 128), (64, 64), (32, 3)), decoder_kernel=3,
                  batch_norm=False, decoder_activation="relu", final_conv=True),
    # Liu et al. 2018 for 256/512 inputs: 7 stride-2 stages (kernels 7, 5, 5, 3, ...),
    # BatchNorm except on the first encoder and last decoder layer, ReLU in the encoder,
    # LeakyReLU(0.2) in the decoder; the last skip is the input image and its mask.
    "paper": dict(encoder=((64, 7), (128, 5), (256, 5), (512, 3), (512, 3), (512, 3),
                           (512, 3)), stride_one_first=False,
                  decoder=((512,), (512,), (512,), (256,), (128,), (64,), (3,)),
                  decoder_kernel=3, batch_norm=True, decoder_activation="leaky_relu",
                  final_conv=False),
}
"""The partial-convolution UNet's presets by name (``study``, ``paper``): encoder
stages as (filters, kernel), decoder stages as per-conv filters."""


_SPEC_KEYS = ("encoder", "stride_one_first", "decoder", "decoder_kernel", "batch_norm",
              "decoder_activation", "final_conv")


def _positive_ints(values) -> bool:
    return all(is_int(v) and v >= 1 for v in values)


def _checked_spec(preset) -> dict:
    """The stage configuration of `preset` (a name of `PRESETS` or such a mapping)."""
    if isinstance(preset, str):
        if preset not in PRESETS:
            raise ValueError(f"`preset` must be one of {list(PRESETS)} or a mapping with keys "
                             f"{list(_SPEC_KEYS)}. Received: preset={preset!r}")
        return PRESETS[preset]
    if not isinstance(preset, Mapping) or set(preset) != set(_SPEC_KEYS):
        raise ValueError(f"`preset` must be one of {list(PRESETS)} or a mapping with exactly "
                         f"the keys {list(_SPEC_KEYS)}. Received: preset={preset!r}")
    spec = dict(preset)
    encoder, decoder = spec["encoder"], spec["decoder"]
    if not (isinstance(encoder, (list, tuple)) and encoder
            and all(isinstance(s, (list, tuple)) and len(s) == 2 and _positive_ints(s)
                    for s in encoder)):
        raise ValueError("`preset['encoder']` must be a non-empty sequence of (filters, kernel) "
                         f"pairs of positive integers. Received: {encoder!r}")
    if not (isinstance(decoder, (list, tuple)) and len(decoder) == len(encoder)
            and all(isinstance(s, (list, tuple)) and 1 <= len(s) <= 2 and _positive_ints(s)
                    for s in decoder)):
        raise ValueError("`preset['decoder']` must hold one stage per encoder stage, each a "
                         "tuple of one or two positive filter counts. Received: "
                         f"decoder={decoder!r} for {len(encoder)} encoder stages")
    if not spec["final_conv"] and decoder[-1][-1] != 3:
        raise ValueError("Without `final_conv` the last decoder conv gives the image: it must "
                         f"have 3 filters. Received: decoder={decoder!r}")
    if not _positive_ints([spec["decoder_kernel"]]):
        raise ValueError("`preset['decoder_kernel']` must be a positive integer. "
                         f"Received: decoder_kernel={spec['decoder_kernel']!r}")
    if spec["decoder_activation"] not in ("relu", "leaky_relu"):
        raise ValueError("`preset['decoder_activation']` must be 'relu' or 'leaky_relu'. "
                         f"Received: decoder_activation={spec['decoder_activation']!r}")
    return spec


def _activate(x, activation: str, name: str):
    if activation == "leaky_relu":
        return keras.layers.LeakyReLU(negative_slope=0.2, name=name)(x)
    return keras.layers.Activation(activation, name=name)(x)


def _per_channel(mask, channels: int, name: str):
    # Per-channel validity for a concatenation: each part keeps its own holes.
    return mask if mask.shape[-1] == channels else RepeatChannels(channels, name=name)(mask)


def build_pconv_unet(input_shape=(32, 32, 3), preset: str | Mapping = "study",
                     fill_value: float = 1.0, name: str | None = None) -> keras.Model:
    """A UNet of partial convolutions (Liu et al. 2018): the study's or the paper's.

    The hole mask is converted once, at the input, to the validity mask partial
    convolutions work on (``valid = 1 - mask``). The encoder uses single-channel
    masks broadcast over the image channels. The decoder upsamples features and
    masks (nearest neighbour) and concatenates both with the encoder's skip;
    masks become per-channel there (``multi_channel=True``, as in the paper), so
    the upsampled part and the skip part each keep their own holes — a union of
    the two would renormalise the skip's hole features as if they were known.

    Presets:
        "study": the study's network with the filter counts it intended (its
            notebook silently gave every encoder layer 32 filters): encoder stages
            of 32, 64, 128, 256 filters, each a stride-1 and a stride-2 3x3
            partial conv; decoder stages of two 3x3 partial convs (256, 128, 64,
            then 32 and 3), ReLU; a final 3x3 sigmoid conv. Depth 4.
        "paper": the paper's 7-stage network for 256x256 or 512x512 images:
            encoder partial convs 7x7/64, 5x5/128, 5x5/256, then 3x3/512 four
            times, each stride 2, BatchNorm (not on the first) and ReLU; decoder
            stages of nearest upsampling, skip concatenation and one 3x3 partial
            conv (512, 512, 512, 256, 128, 64, 3) with BatchNorm (not on the
            last) and LeakyReLU(0.2); the last skip is the input image and its
            mask. The paper's last layer has no activation; here a sigmoid keeps
            the output in [0, 1] like every model of the library.
        A mapping with the keys of ``PRESETS["study"]`` builds another network
        from the same stage description (e.g. a tiny one for tests).

    Sizes: with a static height and width, a size that is not a multiple of
    ``2 ** depth`` raises a `ValueError` at build time. With None height or
    width the check can only happen at call time, where such a size fails in
    the first decoder concatenation (TensorFlow's shape error); pad the images
    first (`inpaint_tf.inpaint` does).

    Args:
        input_shape: (height, width, 3); height and width may be None, else
            divisible by ``2 ** depth`` (16 for "study", 128 for "paper").
        preset: "study", "paper" or a stage mapping (see Presets).
        fill_value: value written into holes (the study used 1; partial
            convolutions never read hole pixels, so it does not change the output).
        name: model name (default "pconv_unet_<preset>", "pconv_unet" for a mapping).

    Returns:
        A functional `keras.Model` taking ``{"image", "mask"}`` (1 = hole) and
        returning the raw float32 image in [0, 1].

    Example:
        >>> model = build_pconv_unet((32, 32, 3))
        >>> model.output.shape
        (None, 32, 32, 3)

    Reference:
        Liu et al., "Image Inpainting for Irregular Holes Using Partial
        Convolutions", ECCV 2018, arXiv:1804.07723.
    """
    spec = _checked_spec(preset)
    depth = len(spec["encoder"])
    check_divisible(input_shape, 2**depth, "input_shape")
    inputs = model_inputs(input_shape)
    features = with_fill(inputs, fill_value)
    valid = keras.layers.Rescaling(scale=-1.0, offset=1.0, name="validity_mask")(inputs["mask"])

    skips = []
    for stage, (filters, kernel) in enumerate(spec["encoder"], start=1):
        prefix = f"encoder_stage{stage}"
        if spec["stride_one_first"]:
            features, valid = PartialConv2D(filters, kernel, activation="relu",
                                            name=f"{prefix}_pconv_a")([features, valid])
        skips.append((features, valid))
        features, valid = PartialConv2D(filters, kernel, strides=2,
                                        name=f"{prefix}_pconv_b")([features, valid])
        if spec["batch_norm"] and stage > 1:
            features = keras.layers.BatchNormalization(name=f"{prefix}_bn")(features)
        features = _activate(features, "relu", f"{prefix}_relu")

    last_stage = len(spec["decoder"])
    for stage, (convs, (skip, skip_valid)) in enumerate(
            zip(spec["decoder"], reversed(skips)), start=1):
        prefix = f"decoder_stage{stage}"
        features = keras.layers.UpSampling2D(2, name=f"{prefix}_upsample")(features)
        valid = keras.layers.UpSampling2D(2, name=f"{prefix}_upsample_mask")(valid)
        up_channels = features.shape[-1]
        valid = _per_channel(valid, up_channels, f"{prefix}_mask_channels")
        skip_valid = _per_channel(skip_valid, skip.shape[-1], f"{prefix}_skip_mask_channels")
        features = keras.layers.Concatenate(name=f"{prefix}_concat")([features, skip])
        valid = keras.layers.Concatenate(name=f"{prefix}_concat_mask")([valid, skip_valid])
        for index, filters in enumerate(convs):
            suffix = "ab"[index]
            last = stage == last_stage and index == len(convs) - 1
            features, valid = PartialConv2D(filters, spec["decoder_kernel"], multi_channel=True,
                                            name=f"{prefix}_pconv_{suffix}")([features, valid])
            if last and not spec["final_conv"]:
                break
            if spec["batch_norm"] and not last:
                features = keras.layers.BatchNormalization(name=f"{prefix}_bn_{suffix}")(
                    features)
            features = _activate(features, spec["decoder_activation"],
                                 f"{prefix}_activation_{suffix}")

    if spec["final_conv"]:
        output = keras.layers.Conv2D(3, 3, padding="same", activation="sigmoid",
                                     dtype="float32", name="output_conv")(features)
    else:
        output = keras.layers.Activation("sigmoid", dtype="float32", name="output")(features)
    default_name = f"pconv_unet_{preset}" if isinstance(preset, str) else "pconv_unet"
    return keras.Model(inputs, output, name=name or default_name)

