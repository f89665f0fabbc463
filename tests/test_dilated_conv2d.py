"""DilatedConv2D against a direct NumPy dilated convolution and against keras Conv2D."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from inpaint_tf.layers import DilatedConv2D
from inpaint_tf.layers.dilated_conv2d import reachable_taps


def numpy_dilated_same_conv(x, kernel, bias, dilation):
    """Stride 1, 'same' zero padding, odd kernel: the definition, loop by loop."""
    _, height, width, _ = x.shape
    kh, kw = kernel.shape[:2]
    top, left = kh // 2 * dilation[0], kw // 2 * dilation[1]
    padded = np.pad(x.astype(np.float64), ((0, 0), (top, top), (left, left), (0, 0)))
    out = 0.0
    for i in range(kh):
        for j in range(kw):
            y, x0 = i * dilation[0], j * dilation[1]
            out = out + padded[:, y:y + height, x0:x0 + width] @ kernel[i, j].astype(np.float64)
    return out + bias


def _pair(filters, kernel, dilation, shape, seed=0):
    """A DilatedConv2D and a keras Conv2D with the same random weights, built."""
    rng = np.random.default_rng(seed)
    ours = DilatedConv2D(filters, kernel, dilation_rate=dilation, padding="same")
    plain = keras.layers.Conv2D(filters, kernel, dilation_rate=dilation, padding="same")
    ours.build(shape)
    plain.build(shape)
    weights = [rng.normal(size=w.shape).astype("float32") for w in plain.weights]
    ours.set_weights(weights)
    plain.set_weights(weights)
    x = rng.normal(size=shape).astype("float32")
    return ours, plain, x, weights


@pytest.mark.parametrize("kernel,size,dilation,kept", [
    (3, 8, 16, 0), (3, 8, 8, 0), (3, 8, 7, 1), (3, 8, 4, 1), (5, 8, 4, 1), (5, 8, 2, 2),
    (7, 6, 2, 2), (3, 1, 2, 0)])
def test_reachable_taps_by_hand(kernel, size, dilation, kept):
    assert reachable_taps(kernel, dilation, size) == kept


def test_reachable_taps_unknown_size_keeps_all():
    assert reachable_taps(5, 16, None) == 2


@pytest.mark.parametrize("kernel,dilation,shape", [
    (3, (16, 16), (2, 8, 8, 3)),    # the GLCIC rate-16 layer: centre tap only
    (3, (8, 8), (2, 8, 8, 3)),
    (3, (4, 4), (2, 8, 8, 3)),      # nothing to prune
    (5, (4, 4), (2, 8, 8, 3)),      # 5 taps -> 3 per axis
    (3, (16, 2), (2, 8, 8, 3)),     # rows to the centre, columns kept
    (3, (2, 9), (1, 6, 10, 2)),     # non-square, nothing to prune (9 < 10)
    (3, (2, 10), (1, 6, 10, 2)),    # columns to the centre (10 >= 10), rows kept
    (3, (11, 11), (1, 10, 12, 2)),  # rows to the centre (11 >= 10), columns kept (11 < 12)
])
def test_matches_numpy_reference_and_conv2d(kernel, dilation, shape):
    ours, plain, x, (w, b) = _pair(4, kernel, dilation, shape)
    expected = numpy_dilated_same_conv(x, w, b, dilation)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ours(x)), expected,
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ours(x)),
                               keras.ops.convert_to_numpy(plain(x)), rtol=1e-5, atol=1e-5)


def test_gradients_equal_conv2d_and_dropped_taps_get_zero():
    ours, plain, x, _ = _pair(5, 3, 16, (2, 8, 8, 3), seed=1)
    x = tf.constant(x)
    grads = []
    for layer in (ours, plain):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(tf.sin(layer(x)))
        grads.append(tape.gradient(loss, [x, layer.kernel.value, layer.bias.value]))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-5)
    kernel_grad = grads[0][1].numpy()
    assert np.abs(kernel_grad[1, 1]).sum() > 0
    kernel_grad[1, 1] = 0
    assert not kernel_grad.any()  # every tap but the centre reads padding only


def test_unknown_spatial_size_runs_the_full_convolution():
    ours, plain, x, _ = _pair(3, 3, 16, (1, 8, 8, 2))
    function = tf.function(ours, input_signature=[tf.TensorSpec((None, None, None, 2))])
    np.testing.assert_allclose(function(x).numpy(), keras.ops.convert_to_numpy(plain(x)),
                               rtol=1e-5, atol=1e-5)


def test_strided_or_valid_settings_are_plain_conv2d():
    for kwargs in ({"strides": 2, "padding": "same"}, {"padding": "valid"}):
        ours = DilatedConv2D(3, 3, **kwargs)
        plain = keras.layers.Conv2D(3, 3, **kwargs)
        x = np.random.default_rng(2).normal(size=(1, 9, 9, 2)).astype("float32")
        ours.build(x.shape)
        plain.build(x.shape)
        plain.set_weights(ours.get_weights())
        np.testing.assert_allclose(keras.ops.convert_to_numpy(ours(x)),
                                   keras.ops.convert_to_numpy(plain(x)), rtol=1e-5, atol=1e-6)


def test_mixed_policy_output_dtype_and_values():
    ours, plain, x, weights = _pair(4, 3, 16, (2, 8, 8, 3))
    mixed = DilatedConv2D(4, 3, dilation_rate=16, padding="same", dtype="mixed_bfloat16")
    mixed.build(x.shape)
    mixed.set_weights(weights)
    out = mixed(x)
    assert out.dtype == "bfloat16"
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras.ops.cast(out, "float32")),
                               keras.ops.convert_to_numpy(plain(x)), rtol=0.05, atol=0.1)


def test_saves_and_loads_as_itself_with_the_weights_of_a_conv2d(tmp_path):
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, DilatedConv2D(4, 3, dilation_rate=8, padding="same",
                                              name="dilated")(inputs))
    x = np.random.default_rng(3).normal(size=(2, 8, 8, 3)).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.get_layer("dilated"), DilatedConv2D)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(x)),
                                  keras.ops.convert_to_numpy(model(x)))
    # The same variables as a Conv2D of the same arguments: weights move across as they are.
    plain = keras.layers.Conv2D(4, 3, dilation_rate=8, padding="same")
    plain.build(x.shape)
    plain.set_weights(model.get_layer("dilated").get_weights())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(plain(x)),
                               keras.ops.convert_to_numpy(model(x)), rtol=1e-5, atol=1e-5)
