"""PartialConv2D against an independent NumPy reference (explicit windows, float64)."""

import itertools

import keras
import keras_checks
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from inpaint_tf.layers.partial_conv2d import PartialConv2D

# float32 against the float64 reference: a window sums at most 7·7·4 products of O(1)
# values, then the ratio scales it by up to the window size (49·4); a few float32 ulps of
# the unscaled sum, times that ratio, stay well below 1e-4.
ATOL_FLOAT32 = 1e-4
RTOL_FLOAT32 = 1e-5


def _same_padding_before(length, kernel, stride, dilation):
    """Padding TensorFlow puts before the first row/column for padding='same'."""
    effective = (kernel - 1) * dilation + 1
    out = -(-length // stride)
    total = max((out - 1) * stride + effective - length, 0)
    return out, total // 2


def reference_pconv(features, valid, kernel, bias=None, strides=(1, 1), padding="same",
                    dilation=(1, 1), multi_channel=False, activation=None):
    """Partial convolution by explicit windows (Liu et al. 2018, eq. 1-2), in float64."""
    x = np.asarray(features, np.float64)
    m = np.asarray(valid, np.float64)
    batch, height, width, channels = x.shape
    kh, kw, _, filters = kernel.shape
    (sh, sw), (dh, dw) = strides, dilation
    if padding == "same":
        out_h, top = _same_padding_before(height, kh, sh, dh)
        out_w, left = _same_padding_before(width, kw, sw, dw)
    else:
        out_h = (height - (kh - 1) * dh - 1) // sh + 1
        out_w = (width - (kw - 1) * dw - 1) // sw + 1
        top = left = 0
    count = kh * kw * (channels if multi_channel else 1)
    masked = x * np.broadcast_to(m, x.shape)
    out = np.zeros((batch, out_h, out_w, filters))
    new_valid = np.zeros((batch, out_h, out_w, 1))
    for i in range(out_h):
        for j in range(out_w):
            rows = i * sh - top + dh * np.arange(kh)
            cols = j * sw - left + dw * np.arange(kw)
            inside = ((rows >= 0) & (rows < height))[:, None] & ((cols >= 0) & (cols < width))
            r = np.clip(rows, 0, height - 1)
            c = np.clip(cols, 0, width - 1)
            x_win = masked[:, r][:, :, c] * inside[None, :, :, None]  # padding is zero
            m_win = m[:, r][:, :, c] * inside[None, :, :, None]  # and invalid
            mask_sum = m_win.sum(axis=(1, 2, 3))
            conv = np.einsum("bhwc,hwcf->bf", x_win, kernel)
            safe = np.where(mask_sum > 0, mask_sum, 1.0)
            value = conv * (count / safe)[:, None]
            if bias is not None:
                value = value + bias
            if activation == "relu":
                value = np.maximum(value, 0.0)
            elif activation == "sigmoid":
                value = 1.0 / (1.0 + np.exp(-value))
            out[:, i, j] = np.where((mask_sum > 0)[:, None], value, 0.0)
            new_valid[:, i, j, 0] = mask_sum > 0
    if multi_channel:
        new_valid = np.repeat(new_valid, filters, axis=-1)
    return out, new_valid


def _random_inputs(rng, shape, mask_channels=1, hole_fraction=0.4):
    batch, height, width, channels = shape
    features = rng.normal(size=shape).astype(np.float32)
    valid = (rng.random((batch, height, width, mask_channels)) >= hole_fraction)
    return features, valid.astype(np.float32)


def _randomise_weights(layer, rng, scale=0.3):
    layer.set_weights([rng.normal(scale=scale, size=w.shape).astype(np.float32)
                       for w in layer.get_weights()])


def _run(layer, features, valid):
    out, new_valid = layer([features, valid])
    return (np.asarray(keras.ops.convert_to_numpy(keras.ops.cast(out, "float32"))),
            np.asarray(keras.ops.convert_to_numpy(keras.ops.cast(new_valid, "float32"))))


def _reference_for(layer, features, valid):
    weights = layer.get_weights()
    return reference_pconv(
        features, valid, weights[0], weights[1] if layer.use_bias else None,
        strides=layer.strides, padding=layer.padding, dilation=layer.dilation_rate,
        multi_channel=layer.multi_channel,
        activation=keras.activations.serialize(layer.activation),
    )


def test_reference_helper_matches_a_hand_computed_window():
    # 3x3 input, one channel, all-ones 3x3 kernel, centre pixel a hole, 'valid' padding:
    # sum(X ⊙ M) = 45 - 5 = 40 over 8 valid pixels, times 9/8.
    x = np.arange(1, 10, dtype=np.float64).reshape(1, 3, 3, 1)
    m = np.ones((1, 3, 3, 1))
    m[0, 1, 1, 0] = 0
    out, new_valid = reference_pconv(x, m, np.ones((3, 3, 1, 1)), padding="valid")
    assert out[0, 0, 0, 0] == pytest.approx(40 * 9 / 8)
    assert new_valid[0, 0, 0, 0] == 1


CASES = [
    # kernel, strides, dilation, padding, multi_channel, activation, use_bias
    (3, 1, 1, "same", False, None, True),
    (3, 2, 1, "same", False, "relu", True),
    (3, 1, 2, "same", False, None, False),
    (3, 1, 1, "valid", False, "sigmoid", True),
    (5, 1, 1, "same", False, None, True),
    (5, 2, 1, "valid", False, None, True),
    (7, 1, 1, "same", False, "relu", True),
    (7, 2, 1, "same", True, None, True),
    (3, 1, 1, "same", True, "sigmoid", True),
    (3, 1, 2, "valid", True, None, False),
    ((3, 5), (1, 2), 1, "same", False, None, True),
    (4, 2, 1, "SAME", False, None, True),  # even kernel: TensorFlow's asymmetric padding
]


@pytest.mark.parametrize("kernel, strides, dilation, padding, multi, activation, use_bias", CASES)
def test_matches_numpy_reference_on_random_features_and_masks(
    rng, kernel, strides, dilation, padding, multi, activation, use_bias
):
    channels = 4
    features, valid = _random_inputs(rng, (2, 11, 10, channels), channels if multi else 1)
    valid[0, 1:9, 1:9] = 0  # a block hole, so that some windows see no valid input
    layer = PartialConv2D(5, kernel, strides=strides, dilation_rate=dilation, padding=padding,
                          multi_channel=multi, activation=activation, use_bias=use_bias)
    layer.build([features.shape, valid.shape])
    _randomise_weights(layer, rng)
    out, new_valid = _run(layer, features, valid)
    expected_out, expected_valid = _reference_for(layer, features, valid)
    assert out.shape == expected_out.shape
    np.testing.assert_array_equal(new_valid, expected_valid)
    np.testing.assert_allclose(out, expected_out, atol=ATOL_FLOAT32, rtol=RTOL_FLOAT32)
    assert np.all(out[np.broadcast_to(new_valid[..., :1] == 0, out.shape)] == 0)
    assert 0 < expected_valid.mean() < 1  # windows with and without valid input


@pytest.mark.parametrize("kernel, strides, dilation", [(3, 1, 1), (5, 2, 1), (3, 1, 2), (7, 1, 1)])
def test_all_valid_mask_equals_conv2d_with_valid_padding(rng, kernel, strides, dilation):
    features = rng.normal(size=(2, 12, 12, 3)).astype(np.float32)
    valid = np.ones((2, 12, 12, 1), np.float32)
    layer = PartialConv2D(4, kernel, strides=strides, dilation_rate=dilation, padding="valid",
                          activation="relu")
    conv = keras.layers.Conv2D(4, kernel, strides=strides, dilation_rate=dilation,
                               padding="valid", activation="relu")
    layer.build([features.shape, valid.shape])
    conv.build(features.shape)
    _randomise_weights(layer, rng)
    conv.set_weights(layer.get_weights())
    out, new_valid = _run(layer, features, valid)
    np.testing.assert_allclose(out, np.asarray(conv(features)), atol=1e-5, rtol=1e-5)
    assert np.all(new_valid == 1)


def test_all_valid_mask_with_same_padding_renormalises_only_the_border(rng):
    features = rng.normal(size=(2, 9, 9, 3)).astype(np.float32)
    valid = np.ones((2, 9, 9, 1), np.float32)
    layer = PartialConv2D(4, 5, padding="same")
    conv = keras.layers.Conv2D(4, 5, padding="same")
    layer.build([features.shape, valid.shape])
    conv.build(features.shape)
    _randomise_weights(layer, rng)
    conv.set_weights(layer.get_weights())
    out, _ = _run(layer, features, valid)
    plain = np.asarray(conv(features))
    np.testing.assert_allclose(out[:, 2:-2, 2:-2], plain[:, 2:-2, 2:-2], atol=1e-5, rtol=1e-5)
    # Border windows see 25 / (valid pixels) times the zero-padded convolution: a corner
    # 5x5 window covers 3x3 real pixels.
    bias = layer.get_weights()[1]
    np.testing.assert_allclose(out[:, 0, 0], (plain[:, 0, 0] - bias) * 25 / 9 + bias,
                               atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(out, _reference_for(layer, features, valid)[0],
                               atol=ATOL_FLOAT32, rtol=RTOL_FLOAT32)


@pytest.mark.parametrize("multi", [False, True])
def test_all_hole_mask_gives_exact_zeros(rng, multi):
    features = rng.normal(size=(2, 8, 8, 3)).astype(np.float32)
    valid = np.zeros((2, 8, 8, 3 if multi else 1), np.float32)
    # A bias and sigmoid (sigmoid(b) != 0) would leak into holes without the final masking.
    layer = PartialConv2D(4, 3, activation="sigmoid", multi_channel=multi,
                          bias_initializer="ones")
    out, new_valid = _run(layer, features, valid)
    assert np.all(out == 0)
    assert np.all(new_valid == 0)
    assert new_valid.shape == (2, 8, 8, 4 if multi else 1)


def test_per_channel_mask_counts_valid_inputs_over_channels():
    # Ones everywhere, kernel of ones: out = sum(X ⊙ M) · (9·C) / sum(M) = 9·C wherever
    # any input in the window is valid, whichever channels they are in.
    features = np.ones((1, 5, 5, 4), np.float32)
    valid = np.zeros((1, 5, 5, 4), np.float32)
    valid[0, 2, 2, 1] = 1  # a single valid element, in channel 1
    layer = PartialConv2D(2, 3, multi_channel=True, kernel_initializer="ones", use_bias=False)
    out, new_valid = _run(layer, features, valid)
    expected_valid = np.zeros((1, 5, 5, 2))
    expected_valid[0, 1:4, 1:4] = 1
    np.testing.assert_array_equal(new_valid, expected_valid)
    np.testing.assert_allclose(out, 36.0 * expected_valid, rtol=1e-6)


def test_stacked_layers_close_holes_monotonically_and_as_an_erosion():
    # A 6x6 hole in 16x16: each 3x3 'same' layer erodes it by one pixel on each side,
    # so the hole sizes are 6, 4, 2 and then 0.
    features = np.ones((1, 16, 16, 2), np.float32)
    valid = np.ones((1, 16, 16, 1), np.float32)
    valid[0, 5:11, 5:11] = 0
    x, m = features, valid
    holes = [1 - valid[0, ..., 0]]
    for _ in range(3):
        x, m = PartialConv2D(2, 3)([x, m])
        holes.append(1 - np.asarray(m)[0, ..., 0])
    for size, hole in zip([6, 4, 2, 0], holes):
        assert hole.sum() == size * size
    for before, after in zip(holes, holes[1:]):
        assert np.all(after <= before)


@pytest.mark.parametrize("kernels, strides", [([3, 5, 3, 7], [1, 1, 1, 1]),
                                              ([3, 5, 3, 3], [2, 1, 2, 1])])
def test_random_holes_shrink_through_a_stack(rng, kernels, strides):
    x = rng.normal(size=(2, 16, 16, 3)).astype(np.float32)
    m = (rng.random((2, 16, 16, 1)) < 0.15).astype(np.float32)
    for kernel, stride in zip(kernels, strides):
        previous = np.asarray(m)
        x, m = PartialConv2D(3, kernel, strides=stride)([x, m])
        current = np.asarray(m)
        # Resize the previous mask to this layer's grid by sampling each window's centre.
        _, top = _same_padding_before(previous.shape[1], kernel, stride, 1)
        centres = np.arange(current.shape[1]) * stride - top + kernel // 2
        resized = previous[:, centres][:, :, centres]
        assert np.all((current == 0) <= (resized == 0)), "a hole opened"
        assert (current == 0).sum() <= (previous == 0).sum() / stride**2


@pytest.mark.parametrize("multi", [False, True])
def test_gradients_flow_only_from_valid_inputs(rng, multi):
    features = tf.constant(rng.normal(size=(2, 8, 8, 3)).astype(np.float32))
    valid = _random_inputs(rng, (2, 8, 8, 3), 3 if multi else 1, hole_fraction=0.5)[1]
    layer = PartialConv2D(4, 3, activation="sigmoid", multi_channel=multi)
    with tf.GradientTape() as tape:
        tape.watch(features)
        out, _ = layer([features, valid])
        loss = tf.reduce_sum(out * out)
    grad = tape.gradient(loss, features).numpy()
    holes = np.broadcast_to(valid == 0, grad.shape)
    assert np.all(grad[holes] == 0)
    assert np.count_nonzero(grad[~holes]) > 0.9 * (~holes).sum()


def test_activity_regularizer_applies_to_features_only(rng):
    features, valid = _random_inputs(rng, (2, 6, 6, 3))
    layer = PartialConv2D(4, 3, activity_regularizer=keras.regularizers.L1(0.5))
    out, _ = _run(layer, features, valid)
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), 0.5 * np.abs(out).sum() / 2, rtol=1e-5)


@pytest.mark.parametrize("policy, tolerance", [("mixed_bfloat16", 3e-2), ("mixed_float16", 4e-3)])
@pytest.mark.parametrize("multi", [False, True])
def test_mixed_precision_is_finite_and_close_to_float32(rng, policy, tolerance, multi):
    # Tolerance relative to the output scale: bfloat16 keeps 8 significant bits (relative
    # rounding 2**-9 = 2e-3 per operation), float16 11 bits (2**-12 = 2.4e-4); inputs,
    # weights, the products' sum and the ratio are each rounded, and the ratio amplifies
    # the sum's rounding, so allow a little over 10 roundings.
    channels = 6
    features, valid = _random_inputs(rng, (2, 10, 10, channels), channels if multi else 1,
                                     hole_fraction=0.6)
    valid[0, :5, :5] = 0  # windows with no valid input at all
    reference = PartialConv2D(5, 3, activation="relu", multi_channel=multi)
    reference.build([features.shape, valid.shape])
    _randomise_weights(reference, rng)
    expected, expected_valid = _run(reference, features, valid)
    keras.mixed_precision.set_global_policy(policy)
    layer = PartialConv2D(5, 3, activation="relu", multi_channel=multi)
    layer.build([features.shape, valid.shape])
    layer.set_weights(reference.get_weights())
    assert layer.compute_dtype == policy.split("_")[1]
    out, new_valid = _run(layer, features, valid)
    assert np.all(np.isfinite(out))
    np.testing.assert_array_equal(new_valid, expected_valid)
    assert np.all(out[np.broadcast_to(new_valid[..., :1] == 0, out.shape)] == 0)
    np.testing.assert_allclose(out, expected, atol=tolerance * np.abs(expected).max())


@pytest.mark.parametrize("policy, rtol", [("float32", 1e-6), ("mixed_bfloat16", 2e-2),
                                          ("mixed_float16", 2e-3)])
def test_window_count_4608_is_exact_enough_under_mixed_precision(policy, rtol):
    # 3x3 window over 512 channels: sum(1) = 4608, not representable in bfloat16 (nor any
    # count above 256). With features and kernel all ones the output is sum(M)·4608/sum(M)
    # = 4608 wherever a window has a valid input; a count rounded or accumulated in
    # bfloat16, or a ratio over the kernel area (9), is off by far more than `rtol`.
    keras.mixed_precision.set_global_policy(policy)
    rng = np.random.default_rng(7)
    features = np.ones((1, 4, 4, 512), np.float32)
    valid = (rng.random((1, 4, 4, 512)) < 0.7).astype(np.float32)
    valid[0, :2, :2] = 0  # output (0, 0) sees no valid input
    layer = PartialConv2D(2, 3, multi_channel=True, kernel_initializer="ones", use_bias=False)
    out, new_valid = _run(layer, features, valid)
    expected_valid = np.ones((1, 4, 4, 2))
    expected_valid[0, 0, 0] = 0
    np.testing.assert_array_equal(new_valid, expected_valid)
    np.testing.assert_allclose(out, 4608.0 * expected_valid, rtol=rtol)


def test_float16_window_beyond_float16_range_stays_finite():
    # 3x3 over 8192 channels counts 73728 > 65504 (float16's max): the ratio must not
    # overflow to Inf where a single element is valid.
    keras.mixed_precision.set_global_policy("mixed_float16")
    features = np.full((1, 3, 3, 8192), 1e-3, np.float32)
    valid = np.zeros((1, 3, 3, 8192), np.float32)
    valid[0, 1, 1, 0] = 1
    layer = PartialConv2D(1, 3, padding="valid", multi_channel=True,
                          kernel_initializer="ones", use_bias=False)
    out, _ = _run(layer, features, valid)
    np.testing.assert_allclose(out, [[[[73.728]]]], rtol=4e-3)


@pytest.mark.parametrize("kwargs, message", [
    ({"filters": 0, "kernel_size": 3}, "filters=0"),
    ({"filters": 2.5, "kernel_size": 3}, "filters=2.5"),
    ({"filters": 4, "kernel_size": 0}, "kernel_size=0"),
    ({"filters": 4, "kernel_size": (3, 3, 3)}, r"kernel_size=\(3, 3, 3\)"),
    ({"filters": 4, "kernel_size": 3, "strides": 0}, "strides=0"),
    ({"filters": 4, "kernel_size": 3, "dilation_rate": -1}, "dilation_rate=-1"),
    ({"filters": 4, "kernel_size": 3, "padding": "full"}, "padding='full'"),
    ({"filters": 4, "kernel_size": 3, "padding": "causal"}, "padding='causal'"),
    ({"filters": 4, "kernel_size": 3, "strides": 2, "dilation_rate": 2},
     r"strides=\(2, 2\) and dilation_rate=\(2, 2\)"),
])
def test_bad_arguments_raise_value_error_naming_them(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PartialConv2D(**kwargs)


@pytest.mark.parametrize("multi, features_shape, mask_shape, message", [
    (False, (1, 8, 8, 3), (1, 8, 8), "rank 4"),
    (False, (1, 8, 8, 3), (1, 8, 8, 3), r"1 channel.*valid_mask.shape=\(1, 8, 8, 3\)"),
    (True, (1, 8, 8, 3), (1, 8, 8, 1), r"3 channel.*valid_mask.shape=\(1, 8, 8, 1\)"),
    (False, (1, 8, 8, 3), (1, 8, 6, 1), "spatial size"),
    (False, (1, 2, 2, 3), (1, 2, 2, 1), "too small"),
])
def test_bad_inputs_raise_value_error_naming_them(multi, features_shape, mask_shape, message):
    layer = PartialConv2D(4, 3, multi_channel=multi,
                          padding="valid" if message == "too small" else "same")
    with pytest.raises(ValueError, match=message):
        layer([np.zeros(features_shape, np.float32), np.ones(mask_shape, np.float32)])


@pytest.mark.parametrize("kwargs, features_shape, expected", [
    ({"kernel_size": 3}, (2, 9, 7, 3), [(2, 9, 7, 4), (2, 9, 7, 1)]),
    ({"kernel_size": 3, "strides": 2}, (2, 9, 7, 3), [(2, 5, 4, 4), (2, 5, 4, 1)]),
    ({"kernel_size": 5, "padding": "valid"}, (2, 9, 7, 3), [(2, 5, 3, 4), (2, 5, 3, 1)]),
    ({"kernel_size": 3, "dilation_rate": 2, "padding": "valid"}, (2, 9, 7, 3),
     [(2, 5, 3, 4), (2, 5, 3, 1)]),
    ({"kernel_size": 3, "multi_channel": True}, (2, 9, 7, 3), [(2, 9, 7, 4), (2, 9, 7, 4)]),
    ({"kernel_size": 3, "strides": 2}, (None, None, None, 3),
     [(None, None, None, 4), (None, None, None, 1)]),
])
def test_compute_output_shape_matches_the_call(kwargs, features_shape, expected):
    layer = PartialConv2D(4, **kwargs)
    mask_channels = 3 if kwargs.get("multi_channel") else 1
    input_shape = [features_shape, features_shape[:3] + (mask_channels,)]
    assert layer.compute_output_shape(input_shape) == expected
    if None not in features_shape:
        actual = layer([np.ones(shape, np.float32) for shape in input_shape])
        assert [tuple(t.shape) for t in actual] == expected
    symbolic = layer([keras.KerasTensor(shape) for shape in input_shape])
    assert [tuple(t.shape) for t in symbolic] == expected


def test_config_round_trip_keeps_every_argument():
    layer = PartialConv2D(
        6, (3, 5), strides=(1, 2), padding="Valid", activation="relu", use_bias=False,
        multi_channel=True, kernel_initializer="he_normal",
        kernel_regularizer=keras.regularizers.L2(1e-4), activity_regularizer="l1",
        kernel_constraint=keras.constraints.MaxNorm(2.0), name="encoder_stage1_pconv_a",
    )
    clone = keras_checks.check_config_round_trip(layer)
    config = clone.get_config()
    assert config["padding"] == "valid"
    assert config["kernel_size"] == (3, 5) and config["strides"] == (1, 2)
    assert config["multi_channel"] is True and config["use_bias"] is False
    assert config["activity_regularizer"] is not None
    assert clone.name == "encoder_stage1_pconv_a"
    # A config that went through JSON (lists for tuples) rebuilds the same layer.
    rebuilt = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(layer))
    assert isinstance(rebuilt, PartialConv2D)
    assert rebuilt.get_config() == layer.get_config()


def _build_pconv_model(multi_channel=False, outputs="both"):
    features = keras.Input((None, None, 3), name="features")
    valid = keras.Input((None, None, 3 if multi_channel else 1), name="valid_mask")
    x, m = PartialConv2D(8, 5, strides=2, activation="relu", multi_channel=multi_channel,
                         name="stage1_pconv")([features, valid])
    x, m = PartialConv2D(4, 3, multi_channel=multi_channel, name="stage2_pconv")([x, m])
    y = keras.layers.Activation("linear", dtype="float32", name="to_float32")(x)
    m = keras.layers.Activation("linear", dtype="float32", name="mask_to_float32")(m)
    return keras.Model([features, valid], [y, m] if outputs == "both" else y, name="pconv")


@pytest.fixture
def model_inputs(rng):
    features = rng.normal(size=(2, 12, 12, 3)).astype(np.float32)
    valid = (rng.random((2, 12, 12, 1)) > 0.5).astype(np.float32)
    return [features, valid]


def test_model_saves_to_keras_and_reloads_with_identical_outputs(model_inputs, tmp_path):
    keras.utils.set_random_seed(0)
    model = _build_pconv_model()
    reloaded = keras_checks.check_keras_save_load(model, model_inputs, tmp_path)
    assert isinstance(reloaded.get_layer("stage1_pconv"), PartialConv2D)
    assert reloaded.get_layer("stage1_pconv").get_config() == (
        model.get_layer("stage1_pconv").get_config())


def test_multi_channel_model_saves_and_reloads(rng, tmp_path):
    keras.utils.set_random_seed(0)
    model = _build_pconv_model(multi_channel=True)
    inputs = [rng.normal(size=(1, 8, 8, 3)).astype(np.float32),
              (rng.random((1, 8, 8, 3)) > 0.5).astype(np.float32)]
    keras_checks.check_keras_save_load(model, inputs, tmp_path)


def test_model_exports_a_saved_model(model_inputs, tmp_path):
    keras.utils.set_random_seed(0)
    model = _build_pconv_model()
    keras_checks.check_tf_saved_model(model, model_inputs, tmp_path)


def test_model_symbolic_eager_and_training_step(model_inputs, rng):
    keras.utils.set_random_seed(0)
    model = _build_pconv_model(outputs="features")
    keras_checks.check_symbolic_and_eager(model, model_inputs)
    targets = rng.normal(size=(2, 6, 6, 4)).astype(np.float32)
    keras_checks.check_train_step(model, model_inputs, targets)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_model_under_mixed_policy(model_inputs, policy):
    model = keras_checks.check_mixed_policy(_build_pconv_model, model_inputs, policy=policy)
    layer = model.get_layer("stage1_pconv")
    assert layer.compute_dtype == policy.split("_")[1]
    assert layer.kernel.dtype == "float32"


@st.composite
def _pconv_cases(draw):
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    multi = draw(st.booleans())
    if draw(st.booleans()):
        strides, dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3))), (1, 1)
    else:
        strides, dilation = (1, 1), (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = draw(st.sampled_from(["same", "valid"]))
    min_h = (kh - 1) * dilation[0] + 1 if padding == "valid" else 1
    min_w = (kw - 1) * dilation[1] + 1 if padding == "valid" else 1
    height = draw(st.integers(min_h, min_h + 6))
    width = draw(st.integers(min_w, min_w + 6))
    channels = draw(st.integers(1, 3))
    return {
        "layer": {"filters": draw(st.integers(1, 3)), "kernel_size": (kh, kw),
                  "strides": strides, "dilation_rate": dilation, "padding": padding,
                  "multi_channel": multi,
                  "activation": draw(st.sampled_from([None, "relu", "sigmoid"])),
                  "use_bias": draw(st.booleans())},
        "shape": (draw(st.integers(1, 2)), height, width, channels),
        "hole_fraction": draw(st.sampled_from([0.0, 0.3, 0.7, 0.95, 1.0])),
        "seed": draw(st.integers(0, 2**16)),
    }


def _onednn_miscomputes(batch, kernel_size, strides, out_shape):
    """Shapes where TensorFlow 2.21's oneDNN float32 convolution (tf.nn.conv2d itself,
    against float64) may get wrong values for a one-channel input, as the layer's
    window-counting convolution always has: a kernel wider than one column, a stride
    along the width only, an output one column wide and at least two rows high, and
    two or more images. The next test checks that this covers every miscomputed shape
    of its grid; not our case to test."""
    return (batch > 1 and kernel_size[1] > 1 and strides[0] == 1 and strides[1] > 1
            and out_shape[2] == 1 and out_shape[1] >= 2)


def test_onednn_exclusion_covers_every_miscomputed_shape():
    rng = np.random.default_rng(0)
    excluded, wrong = set(), set()
    for kh, kw, sh, sw, h, w, padding, batch in itertools.product(
            (1, 2, 3), (1, 2, 3), (1, 2), (1, 2), (1, 2, 3), (1, 2, 3, 5),
            ("VALID", "SAME"), (1, 2)):
        if padding == "VALID" and (h < kh or w < kw):
            continue
        x = rng.normal(size=(batch, h, w, 1)).astype(np.float32)
        kernel = rng.normal(size=(kh, kw, 1, 1)).astype(np.float32)
        out = tf.nn.conv2d(x, kernel, strides=(1, sh, sw, 1), padding=padding)
        reference = tf.nn.conv2d(x.astype(np.float64), kernel.astype(np.float64),
                                 strides=(1, sh, sw, 1), padding=padding)
        case = (kh, kw, sh, sw, h, w, padding, batch)
        if not np.allclose(out, reference, atol=1e-4):
            wrong.add(case)
        if _onednn_miscomputes(batch, (kh, kw), (sh, sw), out.shape):
            excluded.add(case)
    if not wrong:  # a TensorFlow with the fix: drop the exclusion
        pytest.skip("this TensorFlow computes every shape correctly")
    assert wrong <= excluded
    assert len(excluded) <= 2 * len(wrong)  # and not much more


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_pconv_cases())
def test_property_matches_reference_finite_binary_and_zero_in_holes(case):
    rng = np.random.default_rng(case["seed"])
    layer = PartialConv2D(**case["layer"])
    mask_channels = case["shape"][-1] if layer.multi_channel else 1
    features, valid = _random_inputs(rng, case["shape"], mask_channels, case["hole_fraction"])
    layer.build([features.shape, valid.shape])
    _randomise_weights(layer, rng)
    out, new_valid = _run(layer, features, valid)
    assume(not _onednn_miscomputes(case["shape"][0], layer.kernel_size, layer.strides,
                                   out.shape))
    assert np.all(np.isfinite(out))
    assert set(np.unique(new_valid)) <= {0.0, 1.0}
    assert np.all(out[np.broadcast_to(new_valid[..., :1] == 0, out.shape)] == 0)
    expected_out, expected_valid = _reference_for(layer, features, valid)
    np.testing.assert_array_equal(new_valid, expected_valid)
    np.testing.assert_allclose(out, expected_out, atol=ATOL_FLOAT32, rtol=RTOL_FLOAT32)
