"""PartialConv2D: the partial convolution of Liu et al. (2018) as a Keras 3 layer."""

from __future__ import annotations

import keras
from keras import ops

from inpaint_tf._validation import check_positive_int, is_int

_PADDINGS = ("same", "valid")
_FLOAT16_MAX = 65504.0


def _pair(value, name: str) -> tuple[int, int]:
    """Returns `value` (an int or a pair of ints, each >= 1) as a 2-tuple of ints."""
    items = (value, value) if is_int(value) else value
    try:
        items = tuple(items)
    except TypeError:
        items = ()
    if len(items) != 2 or not all(is_int(v) and v >= 1 for v in items):
        raise ValueError(
            f"`{name}` must be a positive integer or a pair of positive integers. "
            f"Received: {name}={value!r}"
        )
    return int(items[0]), int(items[1])


def _output_length(length, kernel: int, stride: int, dilation: int, padding: str):
    """Output length of a convolution along one axis (None stays None), as TensorFlow has it."""
    if length is None:
        return None
    if padding == "same":
        return (length + stride - 1) // stride
    return (length - (kernel - 1) * dilation - 1) // stride + 1


@keras.saving.register_keras_serializable(package="inpaint_tf")
class PartialConv2D(keras.layers.Layer):
    """2D partial convolution: convolves only valid pixels and renormalises per window.

    For each output position, with X the features and M the validity mask (1 = known,
    0 = hole; the inverse of the library's hole masks):

    ``out = W·(X ⊙ M) · sum(1) / sum(M) + b`` where ``sum(M) > 0``, else ``0``;
    ``mask' = 1`` where ``sum(M) > 0``, else ``0``.

    ``sum(M)`` runs over the kernel window (and, with ``multi_channel=True``, over the input
    channels too); ``sum(1)`` counts the elements that sum runs over: ``kh·kw`` for a
    single-channel mask, ``kh·kw·C_in`` for a per-channel one. The activation is applied
    after the renormalisation and bias, and the result is then multiplied by the updated
    mask, so outputs where ``mask' = 0`` are exactly 0 whatever the bias and activation.
    With ``padding="same"`` the zero-padded border counts as invalid ("partial convolution
    as padding"): border windows are renormalised even when every pixel is valid, so only
    the interior equals a plain `Conv2D` with the same weights.

    Gradients flow only from valid inputs: the features are multiplied by the mask before
    the convolution, so the derivative of the output with respect to a hole pixel is 0.
    Holes must hold finite values (the models write a fill value into them); the mask must
    lie in [0, 1] (binary in the paper).

    Numerics: window counts and ratios are computed in float32 whatever the dtype policy
    (bfloat16 holds integers exactly only up to 256, float16 up to 2048, while a 3x3
    window over 512 channels counts 4608), and cast to the compute dtype afterwards. A
    window without any valid input gives exactly 0, never NaN or Inf.

    Defects of the study's notebook implementation, deliberately not repeated here: its
    encoder ignored the requested filter count (every layer had 32 filters), and its
    ratio divided by the kernel area while its mask convolution summed over the channels
    too, so the ratio was wrong by a factor of the channel count.

    Only `channels_last` data is supported.

    Args:
        filters: number of output channels, >= 1.
        kernel_size: int or pair of ints, the window height and width.
        strides: int or pair of ints. Cannot be > 1 together with `dilation_rate > 1`
            (as in `keras.layers.Conv2D`).
        padding: `"same"` or `"valid"` (case-insensitive). In `"same"`, padded pixels count
            as holes.
        dilation_rate: int or pair of ints.
        activation: activation function or its name; `None` for linear.
        use_bias: whether to add a bias (only where the updated mask is 1).
        multi_channel: `False` for a mask of shape (B, H, W, 1) broadcast over the feature
            channels; `True` for a mask with one channel per feature channel, summed over
            channels too.
        kernel_initializer, bias_initializer: as in `keras.layers.Conv2D`.
        kernel_regularizer, bias_regularizer: as in `keras.layers.Conv2D`.
        kernel_constraint, bias_constraint: as in `keras.layers.Conv2D`.
        activity_regularizer: regularizer applied to the feature output only (not to the
            updated mask).
        **kwargs: base `Layer` arguments (`name`, `dtype`, `trainable`).

    Call arguments:
        inputs: a list `[features, valid_mask]`: features of shape (B, H, W, C) and the
            validity mask (1 = known, 0 = hole) of shape (B, H, W, 1), or (B, H, W, C) with
            `multi_channel=True`. H and W may be `None`.
        training: unused; accepted for API symmetry with other layers.

    Returns:
        A list `[output, updated_valid_mask]`: output of shape (B, H', W', filters) and the
        updated mask of shape (B, H', W', 1), or (B, H', W', filters) with identical
        channels when `multi_channel=True`, both in the compute dtype.

    Example:
        >>> import numpy as np
        >>> x = np.random.rand(2, 8, 8, 3).astype("float32")
        >>> valid = np.ones((2, 8, 8, 1), "float32"); valid[:, 2:6, 2:6] = 0.0
        >>> out, new_valid = PartialConv2D(16, 3)([x, valid])
        >>> tuple(out.shape), tuple(new_valid.shape)
        ((2, 8, 8, 16), (2, 8, 8, 1))

    Reference:
        Liu, Reda, Shih, Wang, Tao, Catanzaro, "Image Inpainting for Irregular Holes Using
        Partial Convolutions", ECCV 2018, arXiv:1804.07723.
    """

    def __init__(
        self,
        filters: int,
        kernel_size,
        strides=1,
        padding: str = "same",
        dilation_rate=1,
        activation=None,
        use_bias: bool = True,
        multi_channel: bool = False,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        # The base layer would apply an activity regularizer to every output, the updated
        # mask included; this layer applies it to the features only.
        super().__init__(**kwargs)
        self.filters = check_positive_int(filters, "filters")
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.strides = _pair(strides, "strides")
        self.dilation_rate = _pair(dilation_rate, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "`strides > 1` is not supported together with `dilation_rate > 1`. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )
        if not isinstance(padding, str) or padding.lower() not in _PADDINGS:
            raise ValueError(f"`padding` must be 'same' or 'valid'. Received: padding={padding!r}")
        self.padding = padding.lower()
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.multi_channel = bool(multi_channel)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.output_activity_regularizer = keras.regularizers.get(activity_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self._window_size = None
        self._renormalise_in_float32 = False

    def _check_shapes(self, input_shape):
        """Validates `[features_shape, mask_shape]` and returns both as tuples."""
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
            raise ValueError(
                "`inputs` must be a list `[features, valid_mask]`. "
                f"Received: input_shape={input_shape!r}"
            )
        features_shape, mask_shape = (tuple(s) for s in input_shape)
        if len(features_shape) != 4 or len(mask_shape) != 4:
            raise ValueError(
                "`features` and `valid_mask` must both have rank 4 (B, H, W, C). "
                f"Received: features.shape={features_shape}, valid_mask.shape={mask_shape}"
            )
        channels = features_shape[-1]
        if channels is None:
            raise ValueError(
                "The channel dimension of `features` must be defined. "
                f"Received: features.shape={features_shape}"
            )
        expected = channels if self.multi_channel else 1
        if mask_shape[-1] != expected:
            raise ValueError(
                f"With multi_channel={self.multi_channel}, `valid_mask` must have {expected} "
                f"channel(s). Received: valid_mask.shape={mask_shape}, "
                f"features.shape={features_shape}"
            )
        for axis in range(3):
            a, b = features_shape[axis], mask_shape[axis]
            if a is not None and b is not None and a != b:
                raise ValueError(
                    "`features` and `valid_mask` must agree in batch and spatial size. "
                    f"Received: features.shape={features_shape}, valid_mask.shape={mask_shape}"
                )
        return features_shape, mask_shape

    def build(self, input_shape):
        features_shape, _ = self._check_shapes(input_shape)
        self.compute_output_shape(input_shape)  # rejects inputs too small for 'valid'
        channels = int(features_shape[-1])
        kh, kw = self.kernel_size
        self._window_size = kh * kw * (channels if self.multi_channel else 1)
        # A per-channel window count can exceed float16's range (65504); renormalise in
        # float32 then rather than overflow the ratio.
        self._renormalise_in_float32 = (
            keras.backend.standardize_dtype(self.compute_dtype) == "float16"
            and self._window_size > _FLOAT16_MAX
        )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(kh, kw, channels, self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.filters,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None

    def _conv(self, x, kernel):
        return ops.conv(
            x, kernel, strides=self.strides, padding=self.padding,
            data_format="channels_last", dilation_rate=self.dilation_rate,
        )

    def call(self, inputs, training=None):
        features, valid_mask = inputs
        # Window counts in float32: exact for any realistic window (< 2**24 elements).
        # Summing a per-channel mask over channels first keeps the counting convolution
        # single-channel (cheap) in both modes.
        mask32 = ops.cast(valid_mask, "float32")
        if self.multi_channel:
            mask32 = ops.sum(mask32, axis=-1, keepdims=True)
        ones = ops.ones(self.kernel_size + (1, 1), dtype="float32")  # a constant, not a weight
        mask_sum = self._conv(mask32, ones)
        updated32 = ops.cast(ops.greater(mask_sum, 0.0), "float32")
        ratio32 = ops.divide_no_nan(ops.convert_to_tensor(self._window_size, "float32"), mask_sum)

        raw = self._conv(features * ops.cast(valid_mask, features.dtype), self.kernel)
        if self._renormalise_in_float32:
            outputs = ops.cast(ops.cast(raw, "float32") * ratio32, raw.dtype)
        else:
            outputs = raw * ops.cast(ratio32, raw.dtype)
        if self.use_bias:
            outputs = outputs + self.bias
        linear = self.activation is keras.activations.linear
        if not linear:
            outputs = self.activation(outputs)
        updated = ops.cast(updated32, outputs.dtype)
        if self.use_bias or not linear:
            # Without bias and activation the ratio (0 there) already zeroes these outputs.
            outputs = outputs * updated
        if self.output_activity_regularizer is not None:
            loss = self.output_activity_regularizer(outputs)
            self.add_loss(loss / ops.cast(ops.shape(outputs)[0], loss.dtype))
        if self.multi_channel:
            updated = ops.tile(updated, (1, 1, 1, self.filters))
        return [outputs, updated]

    def compute_output_shape(self, input_shape):
        features_shape, _ = self._check_shapes(input_shape)
        spatial = []
        for axis in range(2):
            length = _output_length(
                features_shape[1 + axis], self.kernel_size[axis], self.strides[axis],
                self.dilation_rate[axis], self.padding,
            )
            if length is not None and length < 1:
                raise ValueError(
                    "The input is too small for the window with padding='valid'. Received: "
                    f"features.shape={features_shape}, kernel_size={self.kernel_size}, "
                    f"dilation_rate={self.dilation_rate}"
                )
            spatial.append(length)
        batch = features_shape[0]
        mask_channels = self.filters if self.multi_channel else 1
        return [
            (batch, *spatial, self.filters),
            (batch, *spatial, mask_channels),
        ]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "dilation_rate": self.dilation_rate,
                "activation": keras.activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "multi_channel": self.multi_channel,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": keras.regularizers.serialize(
                    self.output_activity_regularizer
                ),
                "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
                "bias_constraint": keras.constraints.serialize(self.bias_constraint),
            }
        )
        return config
