"""Conv2DTranspose: Keras' Conv2DTranspose, computed as a matmul when kernel = stride."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops


def matmul_kernel(kernel):
    """A (kh, kw, filters, channels) transposed-convolution kernel as the (channels,
    kh·kw·filters) matrix whose product with a pixel gives its kh x kw output block,
    ordered as `tf.nn.depth_to_space` reads it.

    Example:
        >>> matmul_kernel(keras.ops.zeros((2, 2, 8, 16))).shape
        TensorShape([16, 32])
    """
    kh, kw, filters, channels = kernel.shape
    return tf.reshape(tf.transpose(kernel, (3, 0, 1, 2)), (channels, kh * kw * filters))


@keras.saving.register_keras_serializable(package="inpaint_tf")
class Conv2DTranspose(keras.layers.Conv2DTranspose):
    """`keras.layers.Conv2DTranspose`, computed as a matmul when the kernel equals the stride.

    With a k x k kernel and stride k (the UNet's 2x2 stride-2 upsampling) the output
    blocks do not overlap: input pixel (i, j) alone gives the k x k block at (k·i, k·j),
    ``y[k·i + a, k·j + b, f] = Σ_c x[i, j, c] · K[a, b, f, c] + bias[f]``. That is one
    matmul of the pixels with the kernel laid out as a (channels, k·k·filters) matrix,
    followed by `tf.nn.depth_to_space`. It computes the same function with the same
    variables (agreeing within floating-point round-off, in the outputs and in every
    gradient), and on the CPU it is 1.5-4x faster than TensorFlow's transposed
    convolution at the UNet's shapes in bfloat16 (benchmarks/ab_layers.py).

    That path is taken for a square kernel equal to the strides, dilation 1, no
    `output_padding` and channels_last ('same' and 'valid' padding give the same
    output then); anything else is `keras.layers.Conv2DTranspose` exactly.

    The class has Keras' name on purpose: Keras keys each layer's variables in a
    ``.weights.h5`` file by its class name, so files written by a model built with
    `keras.layers.Conv2DTranspose` load into one built with this layer, and back. The
    variables (``kernel`` of shape (k, k, filters, channels), ``bias``) and the config
    are Keras' own.

    Args:
        *args, **kwargs: those of `keras.layers.Conv2DTranspose`.

    Call arguments:
        inputs: (B, H, W, C).

    Returns:
        (B, k·H, k·W, filters), as `keras.layers.Conv2DTranspose`.

    Example:
        >>> layer = Conv2DTranspose(8, 2, strides=2, padding="same")
        >>> layer(keras.ops.zeros((2, 4, 6, 16))).shape
        TensorShape([2, 8, 12, 8])
    """

    def _as_matmul(self) -> bool:
        kh, kw = self.kernel_size
        return (kh == kw and tuple(self.strides) == (kh, kw)
                and tuple(self.dilation_rate) == (1, 1) and self.output_padding is None
                and self.data_format == "channels_last")

    def call(self, inputs):
        if not self._as_matmul():
            return super().call(inputs)
        block = self.kernel_size[0]
        kernel = tf.cast(self.kernel, inputs.dtype)
        shape = tf.shape(inputs)
        pixels = tf.reshape(inputs, (-1, inputs.shape[-1]))
        blocks = tf.reshape(tf.matmul(pixels, matmul_kernel(kernel)),
                            (shape[0], shape[1], shape[2], block * block * self.filters))
        outputs = tf.nn.depth_to_space(blocks, block)
        if self.use_bias:
            outputs = ops.add(outputs, ops.reshape(self.bias, (1, 1, 1, self.filters)))
        if self.activation is not None:
            return self.activation(outputs)
        return outputs
