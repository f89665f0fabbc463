"""The networks of the globally and locally consistent GAN (Iizuka et al. 2017).

Generator, global discriminator, local discriminator on a patch around the hole,
and the combined discriminator, as the study ran them (its PyTorch notebook).
"""

from __future__ import annotations

import keras
from keras import ops

from inpaint_tf.layers.conv2d import Conv2D
from inpaint_tf.layers.dilated_conv2d import DilatedConv2D
from inpaint_tf.models._common import check_divisible, model_inputs, with_fill

LEAKY_SLOPE = 0.1
DISCRIMINATOR_FILTERS = (64, 128, 256, 512, 512)

# The generator as (kind, filters, kernel, strides, dilation), top to bottom.
GENERATOR_LAYERS = (
    ("conv", 64, 5, 1, 1),
    ("conv", 128, 3, 2, 1), ("conv", 128, 3, 1, 1),
    ("conv", 256, 3, 2, 1), ("conv", 256, 3, 1, 1), ("conv", 256, 3, 1, 1),
    ("conv", 256, 3, 1, 2), ("conv", 256, 3, 1, 4), ("conv", 256, 3, 1, 8),
    ("conv", 256, 3, 1, 16),
    ("conv", 256, 3, 1, 1), ("conv", 256, 3, 1, 1),
    ("deconv", 128, 4, 2, 1), ("conv", 128, 3, 1, 1),
    ("deconv", 64, 4, 2, 1), ("conv", 32, 3, 1, 1),
)


def _normalised(x, name: str):
    import tensorflow as tf

    # Built inside a tf.distribute scope, BatchNorm statistics span the global batch,
    # so that several devices train exactly like one.
    x = keras.layers.BatchNormalization(synchronized=tf.distribute.has_strategy(),
                                        name=f"{name}_bn")(x)
    return keras.layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=f"{name}_lrelu")(x)


def build_glcic_generator(input_shape=(32, 32, 3), fill_value: float = 0.0,
                          output_activation: str | None = "sigmoid",
                          name: str = "glcic_generator") -> keras.Model:
    """The completion network: 6,072,131 trainable parameters for 32x32 inputs.

    Input: the masked image and the mask as a fourth channel. A 5x5 conv (64),
    stride-2 3x3 convs down to 1/4 resolution (128, then 256, with stride-1
    convs between), four 3x3 dilated convs (rates 2, 4, 8, 16), two 3x3 convs,
    4x4 stride-2 transposed convs back up (128, 64) each followed by a 3x3 conv
    (128, 32), and a final 3x3 conv to 3 channels. Every layer but the last is
    followed by BatchNorm and LeakyReLU(0.1), as in the study.

    Two deliberate differences from the study's notebook: the first conv uses
    'same' padding (the study padded its 5x5 kernel by 1, shifting the image by
    2 pixels), and the output goes through a sigmoid so that it lies in [0, 1]
    like every model of the library (the study's output was linear and clamped
    when scored; pass ``output_activation=None`` for that).

    Built inside a `tf.distribute` strategy scope, the BatchNorm layers are
    synchronised across replicas, so that several devices train like one.

    Args:
        input_shape: (height, width, 3), each None or a multiple of 4. A static
            size that is not a multiple of 4 raises a `ValueError` here; with
            None, the model raises a `ValueError` when called (or traced) on such
            a size, and a `tf.errors.InvalidArgumentError` when the size is known
            only at run time. Pad first: `inpaint_tf.inpaint` and the exported
            SavedModel do.
        fill_value: value written into holes before the network sees them.
        output_activation: final activation ("sigmoid" or None).
        name: model name.

    Returns:
        A functional `keras.Model` ``{"image", "mask"} -> image`` (float32).

    Example:
        >>> build_glcic_generator().count_params() - 5952  # moving BatchNorm statistics
        6072131

    Reference:
        Iizuka, Simo-Serra and Ishikawa, "Globally and Locally Consistent Image
        Completion", SIGGRAPH 2017.
    """
    check_divisible(input_shape, 4, "input_shape")
    inputs = model_inputs(input_shape)
    # Stride-2 'same' convs round odd sizes up, so a size that is no multiple of 4
    # would come back larger than it went in: refuse it instead.
    image = CheckSizeMultiple(4, name="size_check")(inputs["image"])
    x = with_fill({"image": image, "mask": inputs["mask"]}, fill_value)
    x = keras.layers.Concatenate(name="input_with_mask")([x, inputs["mask"]])
    for index, (kind, filters, kernel, strides, dilation) in enumerate(GENERATOR_LAYERS, 1):
        layer_name = f"generator_layer{index}_{'dilated' if dilation > 1 else kind}"
        if kind == "conv":
            # DilatedConv2D = Conv2D without the taps that only read padding (at 32x32,
            # rates 8 and 16 see nothing but the centre on the 8x8 map).
            conv = DilatedConv2D if dilation > 1 else keras.layers.Conv2D
            x = conv(filters, kernel, strides=strides, dilation_rate=dilation,
                     padding="same", name=layer_name)(x)
        else:
            x = keras.layers.Conv2DTranspose(filters, kernel, strides=strides, padding="same",
                                             name=layer_name)(x)
        x = _normalised(x, layer_name)
    output = keras.layers.Conv2D(3, 3, padding="same", activation=output_activation,
                                 dtype="float32", name="generator_output")(x)
    return keras.Model(inputs, output, name=name)


@keras.saving.register_keras_serializable(package="inpaint_tf")
class CheckSizeMultiple(keras.layers.Layer):
    """Passes images through unchanged, refusing a height or width that is no multiple.

    Args:
        multiple: the factor height and width must be divisible by.

    Call arguments:
        inputs: images (B, H, W, C).

    Returns:
        `inputs`. A static H or W that is no multiple raises a `ValueError`; one
        known only at run time fails an assertion (`tf.errors.InvalidArgumentError`).

    Example:
        >>> CheckSizeMultiple(4)(keras.ops.zeros((1, 8, 12, 3))).shape
        TensorShape([1, 8, 12, 3])
    """

    def __init__(self, multiple: int, **kwargs):
        super().__init__(**kwargs)
        if int(multiple) < 1:
            raise ValueError(f"`multiple` must be >= 1. Received: multiple={multiple}")
        self.multiple = int(multiple)

    def _message(self, size) -> str:
        return (f"Height and width must be multiples of {self.multiple} for this model "
                f"(its downsampling factor). Received: height, width = {size}; pad the "
                "images first (inpaint_tf.inpaint does)")

    def call(self, inputs):
        import tensorflow as tf

        static = tuple(inputs.shape[1:3])
        if None not in static:
            if any(size % self.multiple for size in static):
                raise ValueError(self._message(static))
            return inputs
        remainder = tf.shape(inputs)[1:3] % self.multiple
        check = tf.debugging.assert_equal(remainder, 0, message=self._message("dynamic"))
        with tf.control_dependencies([check]):
            return tf.identity(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "multiple": self.multiple}


def _discriminator_branch(input_shape, name: str) -> keras.Model:
    """Five 5x5 stride-2 convs with BatchNorm and LeakyReLU, then Dense 1024."""
    image = keras.Input(input_shape, name=f"{name}_input")
    x = image
    for index, filters in enumerate(DISCRIMINATOR_FILTERS, 1):
        # inpaint_tf's Conv2D: on the last maps (2x2 and 1x1 at 32x32) most of the 5x5
        # taps read only padding and are left out; the same function and variables.
        x = Conv2D(filters, 5, strides=2, padding="same", name=f"{name}_conv{index}")(x)
        x = _normalised(x, f"{name}_conv{index}")
    x = keras.layers.Flatten(name=f"{name}_flatten")(x)
    x = keras.layers.Dense(1024, name=f"{name}_dense")(x)
    return keras.Model(image, _normalised(x, f"{name}_dense"), name=name)


def build_global_discriminator(input_shape=(32, 32, 3)) -> keras.Model:
    """The global branch: the whole image plus the mask channel -> 1024 features."""
    height, width, _ = input_shape
    if height is None or width is None:
        raise ValueError("Discriminators need a fixed image size (their Dense layer does). "
                         f"Received: input_shape={tuple(input_shape)}")
    return _discriminator_branch((height, width, 4), "global_discriminator")


def build_local_discriminator(region_size: int = 16) -> keras.Model:
    """The local branch: a region_size x region_size patch plus mask -> 1024 features."""
    return _discriminator_branch((region_size, region_size, 4), "local_discriminator")


def hole_bounding_boxes(masks):
    """Per mask, (top, bottom, left, right) of the hole pixels, inclusive, as int32 (B, 4).

    A mask without holes gives the whole image's box.
    """
    masks = ops.convert_to_tensor(masks)
    height, width = ops.shape(masks)[1], ops.shape(masks)[2]
    rows = ops.cast(ops.max(masks, axis=(2, 3)) > 0.5, "int32")  # (B, H)
    cols = ops.cast(ops.max(masks, axis=(1, 3)) > 0.5, "int32")  # (B, W)

    def extent(present, size):
        first = ops.argmax(present, axis=1)
        last = size - 1 - ops.argmax(ops.flip(present, axis=1), axis=1)
        empty = ops.max(present, axis=1) == 0
        return (ops.where(empty, 0, ops.cast(first, "int32")),
                ops.where(empty, size - 1, ops.cast(last, "int32")))

    top, bottom = extent(rows, height)
    left, right = extent(cols, width)
    return ops.stack([top, bottom, left, right], axis=1)


def local_region_corners(masks, region_size: int):
    """Top-left corners (B, 2) of the region_size patches centred on each hole's
    bounding box and shifted to stay inside the image."""
    boxes = hole_bounding_boxes(masks)
    height, width = ops.shape(masks)[1], ops.shape(masks)[2]
    top = (boxes[:, 0] + boxes[:, 1] + 1 - region_size) // 2
    left = (boxes[:, 2] + boxes[:, 3] + 1 - region_size) // 2
    top = ops.clip(top, 0, height - region_size)
    left = ops.clip(left, 0, width - region_size)
    return ops.stack([top, left], axis=1)


def crop_local_regions(images, masks, region_size: int):
    """Crops the region_size x region_size patch around each hole (vectorised).

    The patch is centred on the bounding box of each mask's hole pixels (a box
    hole or an irregular one alike; with an even/odd mismatch the extra pixel
    goes to the bottom/right), then shifted to lie inside the image. A mask
    without holes gives the patch at the image centre. Integer indices select
    the pixels (no resampling) for the whole batch at once.

    Args:
        images: (B, H, W, C) tensor.
        masks: (B, H, W, 1) hole masks, 1 = hole.
        region_size: side of the patch (at most min(H, W)).

    Returns:
        (B, region_size, region_size, C); gradients flow to `images`.

    Example:
        >>> crop_local_regions(keras.ops.zeros((2, 32, 32, 4)),
        ...                    keras.ops.zeros((2, 32, 32, 1)), 16).shape
        TensorShape([2, 16, 16, 4])
    """
    import tensorflow as tf

    static = tuple(size for size in images.shape[1:3] if size is not None)
    if region_size < 1 or region_size > min(static, default=region_size):
        raise ValueError(f"`region_size` must be between 1 and the image's height and "
                         f"width. Received: region_size={region_size} for images of shape "
                         f"{tuple(images.shape)}")
    corners = local_region_corners(masks, region_size)
    offsets = tf.range(region_size, dtype=tf.int32)
    rows = corners[:, :1] + offsets[None, :]  # (B, r)
    cols = corners[:, 1:] + offsets[None, :]
    patches = tf.gather(images, rows, axis=1, batch_dims=1)  # (B, r, W, C)
    return tf.gather(patches, cols, axis=2, batch_dims=1)  # (B, r, r, C)


@keras.saving.register_keras_serializable(package="inpaint_tf")
class LocalCrop(keras.layers.Layer):
    """Crops the patch around each image's hole, for the local discriminator.

    Args:
        region_size: side of the square patch.

    Call arguments:
        inputs: ``[images, hole_mask]``, images (B, H, W, C), mask (B, H, W, 1).

    Returns:
        (B, region_size, region_size, C).

    Example:
        >>> crop = LocalCrop(16)
        >>> crop([keras.ops.zeros((2, 32, 32, 4)), keras.ops.zeros((2, 32, 32, 1))]).shape
        TensorShape([2, 16, 16, 4])
    """

    def __init__(self, region_size: int = 16, **kwargs):
        super().__init__(**kwargs)
        if region_size < 1:
            raise ValueError(f"`region_size` must be >= 1. Received: region_size={region_size}")
        self.region_size = int(region_size)

    def call(self, inputs):
        images, masks = inputs
        return crop_local_regions(images, masks, self.region_size)

    def compute_output_shape(self, input_shape):
        images_shape = input_shape[0]
        return (images_shape[0], self.region_size, self.region_size, images_shape[-1])

    def get_config(self):
        return {**super().get_config(), "region_size": self.region_size}


def build_glcic_discriminator(input_shape=(32, 32, 3), region_size: int = 16,
                              name: str = "glcic_discriminator") -> keras.Model:
    """The combined discriminator: 22,787,201 trainable parameters for 32x32 inputs.

    Global branch on the whole image plus mask, local branch on the patch around
    the hole (see `crop_local_regions`), their 1024-vectors concatenated, Dense 1
    (a linear score, float32; the GAN uses least-squares losses on it). As in the
    generator, BatchNorm is synchronised across replicas when built inside a
    `tf.distribute` strategy scope.

    Args:
        input_shape: fixed (height, width, 3).
        region_size: side of the local patch (16 for 32x32 images).
        name: model name.

    Returns:
        A `keras.Model` ``{"image", "mask"} -> (B, 1)``.
    """
    height, width, _ = input_shape
    if height is not None and width is not None and region_size > min(height, width):
        raise ValueError(f"`region_size` must fit in the image. Received: region_size="
                         f"{region_size} for input_shape={tuple(input_shape)}")
    inputs = model_inputs(input_shape)
    with_mask = keras.layers.Concatenate(name="image_with_mask")(
        [inputs["image"], inputs["mask"]])
    global_features = build_global_discriminator(input_shape)(with_mask)
    patch = LocalCrop(region_size, name="local_crop")([with_mask, inputs["mask"]])
    local_features = build_local_discriminator(region_size)(patch)
    features = keras.layers.Concatenate(name="global_local_concat")(
        [global_features, local_features])
    score = keras.layers.Dense(1, dtype="float32", name="discriminator_score")(features)
    return keras.Model(inputs, score, name=name)
