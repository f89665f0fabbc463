"""Conv2D: Keras' Conv2D, faster on small feature maps (same function, same variables)."""

from __future__ import annotations

import keras
import tensorflow as tf

# Outputs of at most this many pixels per image take the kernel gradient by taps.
# Measured at batch 32 and 128 in bfloat16 and float32 on 2 AVX512-BF16 cores: 2-7x
# faster than TensorFlow's Conv2DBackpropFilter on 2x2 maps, about 2x on 4x4, even on
# 8x8 and slower above (benchmarks/ab_layers.py).
SMALL_MAP_PIXELS = 16
# Dilated convolutions (whose oneDNN kernel gradient is slower still) up to this size:
# 1.4-2.9x faster at 8x8 (the GLCIC generator's rates 2 and 4 at 32x32).
SMALL_DILATED_MAP_PIXELS = 64


def axis_plan(size: int, kernel: int, stride: int, dilation: int, padding: str):
    """How one spatial axis of a convolution reads its input, as TensorFlow pads it.

    Output position ``o`` reads input ``o·stride + t·dilation − pad`` with kernel tap
    ``t``; a read outside ``[0, size)`` is zero padding. Taps that only ever read
    padding contribute nothing, whatever their weights.

    Returns:
        ``(out, pad, first, last)``: the output length, the padding before the input
        (TensorFlow puts the odd pixel after), and the first and last taps that read
        the input for some output.

    Example:
        >>> axis_plan(2, 5, 2, 1, "same")  # a 5x5 stride-2 kernel on a 2x2 map
        (1, 1, 1, 2)
    """
    if padding == "same":
        out = -(-size // stride)
        pad = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0) // 2
    else:
        out = (size - (kernel - 1) * dilation - 1) // stride + 1
        pad = 0
    reaching = [t for t in range(kernel)
                if any(0 <= o * stride + t * dilation - pad < size for o in range(out))]
    if not reaching:  # no output at all ('valid' on too small an input)
        return out, pad, 0, kernel - 1
    return out, pad, reaching[0], reaching[-1]


def _pad_or_crop(inputs, axis: int, before: int, after: int):
    """Zero-pads (positive) or crops (negative) `before`/`after` pixels along `axis`."""
    if before < 0 or after < 0:
        size = inputs.shape[axis]
        start, stop = max(-before, 0), size - max(-after, 0)
        inputs = inputs[:, start:stop] if axis == 1 else inputs[:, :, start:stop]
    if before > 0 or after > 0:
        paddings = [(0, 0)] * 4
        paddings[axis] = (max(before, 0), max(after, 0))
        inputs = tf.pad(inputs, paddings)
    return inputs


def kernel_gradient_by_taps(inputs, output_gradient, kernel_size, strides=(1, 1),
                            dilation_rate=(1, 1), paddings=((0, 0), (0, 0))):
    """The gradient of a convolution's kernel as one matmul over its taps.

    ``dK[i, j] = X_ij^T · dY``, where ``X_ij`` is the zero-padded input read by tap
    (i, j) (shifted by the tap, strided), flattened to (batch × out_h × out_w,
    channels): exactly the sums `Conv2DBackpropFilter` computes, in another order.
    The taps' inputs are laid side by side (kh·kw·C columns), so that one matmul gives
    the kernel in its layout.

    Args:
        inputs: the convolution's input (B, H, W, C), static H and W.
        output_gradient: the gradient of its output (B, H', W', F), static H', W'.
        kernel_size: (kh, kw).
        strides, dilation_rate: pairs, as the convolution's.
        paddings: ((top, bottom), (left, right)) zero padding the convolution applied.

    Returns:
        (kh, kw, C, F) in the dtype of the inputs.
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, strides, dilation_rate
    out_h, out_w = output_gradient.shape[1], output_gradient.shape[2]
    if any(any(pair) for pair in paddings):
        inputs = tf.pad(inputs, [(0, 0), *paddings, (0, 0)])
    channels, filters = inputs.shape[-1], output_gradient.shape[-1]
    if (sh, sw) == (1, 1):
        read = tf.concat([inputs[:, i * dh:i * dh + out_h, j * dw:j * dw + out_w, :]
                          for i in range(kh) for j in range(kw)], axis=-1)
    else:  # strided slices are slow; one op reads every tap, in the same layout
        read = tf.image.extract_patches(
            inputs[:, :sh * (out_h - 1) + (kh - 1) * dh + 1, :sw * (out_w - 1) + (kw - 1) * dw + 1],
            sizes=[1, kh, kw, 1], strides=[1, sh, sw, 1], rates=[1, dh, dw, 1], padding="VALID")
    gradient = tf.matmul(tf.reshape(read, (-1, kh * kw * channels)),
                         tf.reshape(output_gradient, (-1, filters)), transpose_a=True)
    return tf.reshape(gradient, (kh, kw, channels, filters))


def convolve_with_tap_gradient(inputs, kernel, forward, padding: str, paddings, strides,
                               dilation_rate, name: str = "conv2d"):
    """``forward(inputs, kernel)`` (a convolution), whose kernel gradient is taken by taps.

    The input gradient is the op TensorFlow's own gradient of a convolution runs
    (`Conv2DBackpropInput` with the forward pass's `padding`, strides and dilations);
    the kernel gradient is `kernel_gradient_by_taps` with the zero `paddings` that
    `padding` amounts to. The gradient's ops are named ``gradient_tape/<name>/…``, as
    TensorFlow names a layer's backward ops.
    """
    kernel_size = tuple(kernel.shape[:2])

    @tf.custom_gradient
    def convolve(x, k):
        def gradient(dy):
            with tf.name_scope(f"gradient_tape/{name}/"):
                dx = tf.raw_ops.Conv2DBackpropInput(
                    input_sizes=tf.shape(x), filter=k, out_backprop=dy,
                    strides=[1, *strides, 1], padding=padding.upper(),
                    dilations=[1, *dilation_rate, 1])
                return dx, kernel_gradient_by_taps(x, dy, kernel_size, strides,
                                                   dilation_rate, paddings)

        return forward(x, k), gradient

    return convolve(inputs, kernel)


@keras.saving.register_keras_serializable(package="inpaint_tf")
class Conv2D(keras.layers.Conv2D):
    """`keras.layers.Conv2D`, computed faster on small feature maps.

    The same function with the same variables, in two ways that apply when the input's
    height and width are known:

    - **Taps that only read padding are left out.** A 5x5 stride-2 kernel on a 2x2
      map (a discriminator's last layers) reads the image with 2x2 of its 25 taps and
      zero padding with the rest; a dilated kernel larger than the map likewise. The
      convolution then runs with the taps that read the image (their gradients are
      exactly 0 in a plain Conv2D too, and stay 0 here).
    - **The kernel gradient of a small output is one matmul over the taps.** On the
      CPU, TensorFlow's kernel gradient (`Conv2DBackpropFilter`, oneDNN) is slow when
      the map is small and the channels many, as in a UNet's bottleneck: several
      times the forward pass at 2x2. For outputs of at most `SMALL_MAP_PIXELS` pixels
      per image it is computed as `kernel_gradient_by_taps` instead (the same sums in
      another order, so it agrees within floating-point round-off). The forward pass
      and the input gradient stay TensorFlow's own.

    Anything else (channels_first, groups, an unknown height or width, a large output
    with every tap reading the image) is `keras.layers.Conv2D` exactly.

    The class has Keras' name on purpose: Keras keys each layer's variables in a
    ``.weights.h5`` file by its class name, so files written by a model built with
    `keras.layers.Conv2D` load into one built with this layer, and back. The
    variables (``kernel``, ``bias``), their shapes and the config are Keras' own.

    Args:
        *args, **kwargs: those of `keras.layers.Conv2D`.

    Call arguments:
        inputs: (B, H, W, C).

    Returns:
        (B, H', W', filters), as `keras.layers.Conv2D`.

    Example:
        >>> layer = Conv2D(8, 5, strides=2, padding="same")
        >>> layer(keras.ops.zeros((2, 2, 2, 16))).shape  # reads the map with 2x2 taps
        TensorShape([2, 1, 1, 8])
    """

    def _plans(self, inputs):
        """Per spatial axis `axis_plan`, or None where this layer is Keras' own."""
        height, width = inputs.shape[1], inputs.shape[2]
        if (self.data_format != "channels_last" or self.groups != 1
                or height is None or width is None):
            return None
        plans = [axis_plan(size, kernel, stride, dilation, self.padding)
                 for size, kernel, stride, dilation in
                 zip((height, width), self.kernel_size, self.strides, self.dilation_rate)]
        if min(out for out, *_ in plans) < 1:
            return None  # too small for 'valid': Keras raises its own error
        return plans

    def convolution_op(self, inputs, kernel):
        plans = self._plans(inputs)
        if plans is None:
            return super().convolution_op(inputs, kernel)
        pruned = any(first > 0 or last < kernel - 1
                     for (_, _, first, last), kernel in zip(plans, self.kernel_size))
        pixels = plans[0][0] * plans[1][0]
        dilated = max(self.dilation_rate) > 1
        small = pixels <= (SMALL_DILATED_MAP_PIXELS if dilated else SMALL_MAP_PIXELS)
        if not (pruned or small):
            return super().convolution_op(inputs, kernel)
        kernel = tf.cast(kernel, inputs.dtype)
        strides, dilation = tuple(self.strides), tuple(self.dilation_rate)
        if not pruned:  # TensorFlow's own forward pass, padding and all
            # 'valid' may leave input pixels unread at the end: no padding there.
            paddings = [(pad, max((out - 1) * stride + (k - 1) * d + 1 - size - pad, 0))
                        for (out, pad, _, _), k, stride, d, size in
                        zip(plans, self.kernel_size, strides, dilation, inputs.shape[1:3])]
            return convolve_with_tap_gradient(inputs, kernel, super().convolution_op,
                                              self.padding, paddings, strides, dilation,
                                              self.name)
        for axis, ((out, pad, first, last), stride, d) in enumerate(
                zip(plans, strides, dilation), start=1):
            before = pad - first * d
            after = (out - 1) * stride + (last - first) * d + 1 - before - inputs.shape[axis]
            inputs = _pad_or_crop(inputs, axis, before, after)
        kernel = kernel[plans[0][2]:plans[0][3] + 1, plans[1][2]:plans[1][3] + 1]

        def forward(x, k):
            return tf.nn.conv2d(x, k, strides, "VALID", dilations=dilation)

        if small:
            return convolve_with_tap_gradient(inputs, kernel, forward, "valid",
                                              ((0, 0), (0, 0)), strides, dilation, self.name)
        return forward(inputs, kernel)
