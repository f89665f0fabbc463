"""The fixed size of a TFLite or ONNX file: the smallest one a model needs
(`minimum_size`) and the one it is exported at by default (`default_size`).

A fixed-size file serves a photo on windows of its size around the holes
(`inpaint_tf.inference.windows.fixed_size_windows`). A window of side S gives a hole
at most S / 4 pixels of known context on each side, and the mirror padding to the
model's size multiple adds at most the side itself. So:

- every network needs a side of at least half its size multiple (8 px for the
  UNets), for the padding;
- a network with a harmonic prefill (`inpaint_tf.layers.HarmonicFill`, the
  released ``photo_unet``) fills a hole from the known pixels its window holds, so
  its windows must give every hole the minimum context `inpaint` gives the Keras
  model, ``MIN_CONTEXT`` = 32 px: a side of 4 x 32 = 128 px at least. Its default
  adds the pyramid's coarsest cell (``2 ** levels``, 256 px), so that holes up to
  64 px deep get their whole context rule. Measured on the released `photo_unet`
  (200 x 300 synthetic and 500 x 500 Kodak photos, strokes 5-31 px wide, blobs,
  boxes up to 120 px): at 32 x 32 strokes 31 px wide lose 1.9 dB of hole PSNR
  against the Keras model (a window holds no known pixel across them), at 128 at
  most 0.4 dB (a 120-px box), at 256 at most 0.06 dB;
- other networks (the study's conv UNets, the partial-conv UNet, the GLCIC
  generator, trained on 32 x 32 images) default to 32 x 32: their holes at 32 are
  within 0.04 dB of the Keras model's on the same photos.

A model with a static height and width (built for one size) defaults to it.

Example:
    >>> photo = pretrained("photo_unet")                                # doctest: +SKIP
    >>> default_size(photo), minimum_size(photo)                        # doctest: +SKIP
    ((256, 256), 128)
"""

from __future__ import annotations

from inpaint_tf._validation import check_positive_int
from inpaint_tf.inference.inpainting import inpainting_network, size_multiple
from inpaint_tf.inference.windows import MIN_CONTEXT

DEFAULT_SIZE = 32
"""Height and width of a fixed-size export of a network without a harmonic prefill."""


def _round_up(value: int, multiple: int) -> int:
    return -(-int(value) // multiple) * multiple


def harmonic_levels(model) -> int | None:
    """The most pyramid levels of a `HarmonicFill` in `model`, or None without one."""
    network = inpainting_network(model)
    layers = [network, *network._flatten_layers(include_self=False)] if hasattr(
        network, "_flatten_layers") else []
    levels = [int(layer.levels) for layer in layers
              if type(layer).__name__ == "HarmonicFill"]
    return max(levels) if levels else None


def _multiple(network, multiple) -> int:
    return size_multiple(network) if multiple is None else check_positive_int(multiple,
                                                                              "multiple")


def minimum_size(model, multiple: int | None = None) -> int:
    """The smallest fixed height and width `model`'s file serves with.

    Half the size multiple (the mirror padding to it adds at most the side itself);
    for a network with a `HarmonicFill`, ``4 * MIN_CONTEXT`` = 128 px rounded up to
    the multiple (its windows hold `inpaint`'s minimum context on every side of a
    hole). See the module docstring for the measurements.

    Args:
        model: a Keras model taking ``{"image", "mask"}`` (a GAN: its generator).
        multiple: size multiple the model needs; default `size_multiple(model)`.

    Returns:
        The side in pixels.

    Example:
        >>> minimum_size(pretrained("photo_unet"))                      # doctest: +SKIP
        128
    """
    network = inpainting_network(model)
    multiple = _multiple(network, multiple)
    need = -(-multiple // 2)
    if harmonic_levels(network) is not None:
        need = max(need, _round_up(4 * MIN_CONTEXT, multiple))
    return need


def default_size(model, multiple: int | None = None) -> tuple[int, int]:
    """The (height, width) a TFLite or ONNX file of `model` has by default.

    The model's static size when it has one; else, for a network with a
    `HarmonicFill`, the larger of `minimum_size` and its coarsest cell
    (``2 ** levels``), rounded up to the multiple: 256 x 256 for the released
    ``photo_unet``; else 32 x 32 (at least `minimum_size`).

    Args:
        model: a Keras model taking ``{"image", "mask"}`` (a GAN: its generator).
        multiple: size multiple the model needs; default `size_multiple(model)`.

    Returns:
        (height, width) in pixels.

    Example:
        >>> default_size(pretrained("photo_unet"))                      # doctest: +SKIP
        (256, 256)
        >>> default_size(pretrained("own_unet_irregular"))              # doctest: +SKIP
        (32, 32)
    """
    network = inpainting_network(model)
    multiple = _multiple(network, multiple)
    need = minimum_size(network, multiple)
    levels = harmonic_levels(network)
    side = (max(need, DEFAULT_SIZE) if levels is None
            else max(need, _round_up(2 ** levels, multiple)))
    static = static_size(network)
    return static[0] or side, static[1] or side


def static_size(network) -> tuple[int | None, int | None]:
    """The static (height, width) of `network`'s ``image`` input; None where free."""
    images = [t for t in getattr(network, "inputs", None) or [] if t.name == "image"]
    return tuple(images[0].shape[1:3]) if images else (None, None)
