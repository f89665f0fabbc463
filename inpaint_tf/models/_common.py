"""Pieces every model of the library shares: named inputs, hole filling, size checks."""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="inpaint_tf")
class FillHoles(keras.layers.Layer):
    """Writes `fill_value` into the holes of an image: ``image * (1 - mask) + fill * mask``.

    Models start with it so the network sees exactly the input it was trained on,
    whatever the caller left in the holes, NaN or Inf included: where the mask is 1
    the output is exactly `fill_value`.

    Args:
        fill_value: value written into hole pixels.

    Call arguments:
        inputs: ``[image, hole_mask]``, the mask (B, H, W, 1) with 1 = hole.

    Returns:
        The filled image.

    Example:
        >>> layer = FillHoles(1.0)
        >>> out = layer([keras.ops.zeros((1, 2, 2, 3)), keras.ops.ones((1, 2, 2, 1))])
        >>> float(keras.ops.min(out))
        1.0
    """

    def __init__(self, fill_value: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.fill_value = float(fill_value)

    def call(self, inputs):
        image, hole = inputs
        hole = keras.ops.cast(hole, image.dtype)
        blended = image * (1.0 - hole) + self.fill_value * hole
        # NaN * 0 is NaN: a full hole takes the fill value by selection, not arithmetic.
        return keras.ops.where(hole >= 1.0, keras.ops.cast(self.fill_value, image.dtype),
                               blended)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "fill_value": self.fill_value}


@keras.saving.register_keras_serializable(package="inpaint_tf")
class RepeatChannels(keras.layers.Layer):
    """Repeats a single-channel tensor (a validity mask) to `channels` channels.

    Args:
        channels: number of output channels.

    Example:
        >>> RepeatChannels(4)(keras.ops.ones((1, 2, 2, 1))).shape
        (1, 2, 2, 4)
    """

    def __init__(self, channels: int, **kwargs):
        super().__init__(**kwargs)
        self.channels = int(channels)

    def call(self, inputs):
        return keras.ops.repeat(inputs, self.channels, axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.channels)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels}


@keras.saving.register_keras_serializable(package="inpaint_tf")
class KeepKnown(keras.layers.Layer):
    """Composites inside the model: hole pixels from the network, known pixels from the input.

    ``where(mask >= 0.5, prediction, image)``, a selection in float32 whatever the
    dtype policy (an image cast to bfloat16 and back would lose its low bits), so the
    known pixels of the output equal the input's bit for bit and the raw output
    already is the composite. Losses on that output see the hole only.

    Call arguments:
        inputs: ``[prediction, image, hole_mask]``, the mask (B, H, W, 1), 1 = hole.

    Returns:
        The float32 composite, the shape of `prediction`.

    Example:
        >>> layer = KeepKnown()
        >>> image = keras.ops.full((1, 2, 2, 3), 0.25)
        >>> hole = keras.ops.convert_to_tensor([[[[1.0], [0.0]], [[0.0], [0.0]]]])
        >>> out = layer([keras.ops.ones((1, 2, 2, 3)), image, hole])
        >>> [float(v) for v in keras.ops.convert_to_numpy(out)[0, :, :, 0].ravel()]
        [1.0, 0.25, 0.25, 0.25]
    """

    def __init__(self, **kwargs):
        kwargs["dtype"] = "float32"  # the selection must not round the known pixels
        super().__init__(**kwargs)

    def call(self, inputs):
        prediction, image, hole = inputs
        hole = keras.ops.broadcast_to(hole >= 0.5, keras.ops.shape(prediction))
        return keras.ops.where(hole, prediction, image)

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def model_inputs(input_shape) -> dict:
    """The named inputs of every model: "image" (H, W, 3) and "mask" (H, W, 1), 1 = hole."""
    height, width, channels = input_shape
    if channels != 3:
        raise ValueError(f"Models take RGB images: `input_shape` must end in 3. "
                         f"Received: input_shape={tuple(input_shape)}")
    return {"image": keras.Input((height, width, 3), name="image"),
            "mask": keras.Input((height, width, 1), name="mask")}


def with_fill(inputs: dict, fill_value: float, name: str = "fill_holes"):
    return FillHoles(fill_value, name=name)([inputs["image"], inputs["mask"]])


def check_divisible(input_shape, multiple: int, argument: str) -> None:
    """Raises a `ValueError` when a static height or width is not a multiple."""
    if len(input_shape) != 3:
        raise ValueError(f"`{argument}` must be (height, width, channels). "
                         f"Received: {argument}={tuple(input_shape)}")
    for size in input_shape[:2]:
        if size is not None and (size < multiple or size % multiple):
            raise ValueError(
                f"Height and width must be multiples of {multiple} for this architecture "
                f"(its downsampling factor). Received: {argument}={tuple(input_shape)}; "
                "pad the images (inpaint_tf.inpaint does) or change the depth")
