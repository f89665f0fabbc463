"""A dilated Conv2D that skips the kernel taps which can only ever see padding."""

from __future__ import annotations

import keras
from keras import ops

from inpaint_tf.layers.conv2d import Conv2D


def reachable_taps(kernel_size: int, dilation: int, size: int | None) -> int:
    """How many taps each side of the centre can land inside an axis of `size`.

    With 'same' padding and stride 1, tap ``i`` of an odd kernel reads the input at
    ``p + (i - k // 2) * dilation`` for output position ``p``: it reaches the image
    for some ``p`` only when ``|i - k // 2| * dilation < size``.

    Example:
        >>> reachable_taps(3, 16, 8)  # rate 16 on an 8-pixel axis: the centre only
        0
    """
    half = kernel_size // 2
    if size is None:
        return half
    return min(half, (size - 1) // dilation)


@keras.saving.register_keras_serializable(package="inpaint_tf")
class DilatedConv2D(Conv2D):
    """`keras.layers.Conv2D` whose dilated kernel drops the taps that only see padding.

    A 3x3 kernel at dilation 16 on an 8x8 feature map (the GLCIC generator's last
    dilated layer for 32x32 images) reads the zero padding with all its taps but
    the centre, and TensorFlow runs it as a space-to-batch convolution over a
    padded 48x48 grid: most of the work multiplies zeros. When the spatial size
    is known, each axis keeps only the taps that can reach the image (the centre
    row or column alone when the dilation is at least the size), which gives the
    same output and the same gradients (the dropped taps' gradients are exactly 0
    in a plain Conv2D too) for a fraction of the arithmetic. Its variables are
    those of a Conv2D of the same arguments (`get_weights`/`set_weights` move
    across), but a `.weights.h5` file keys layers by class name: a file written by
    a model built with Conv2D in its place does not load into one with this layer.

    Only stride 1, 'same' padding, odd kernels and channels_last are pruned; any
    other setting, or an unknown spatial size, runs the plain convolution.

    Example:
        >>> layer = DilatedConv2D(8, 3, dilation_rate=16, padding="same")
        >>> layer(keras.ops.zeros((2, 8, 8, 4))).shape
        TensorShape([2, 8, 8, 8])
    """

    def _prunable(self) -> bool:
        return (self.padding == "same" and self.data_format == "channels_last"
                and tuple(self.strides) == (1, 1)
                and all(k % 2 == 1 for k in self.kernel_size))

    def convolution_op(self, inputs, kernel):
        if not self._prunable():
            return super().convolution_op(inputs, kernel)
        kept = [reachable_taps(k, d, size) for k, d, size in
                zip(self.kernel_size, self.dilation_rate, tuple(inputs.shape[1:3]))]
        if kept == [k // 2 for k in self.kernel_size]:
            return super().convolution_op(inputs, kernel)
        centre = [k // 2 for k in self.kernel_size]
        pruned = kernel[centre[0] - kept[0]:centre[0] + kept[0] + 1,
                        centre[1] - kept[1]:centre[1] + kept[1] + 1]
        # An axis left with its centre tap alone no longer needs dilating.
        dilation = [d if n else 1 for d, n in zip(self.dilation_rate, kept)]
        return ops.conv(inputs, pruned, strides=1, padding="same", dilation_rate=dilation,
                        data_format=self.data_format)
