"""inpaint_tf's Conv2D and Conv2DTranspose compute Keras' function with Keras' variables.

Each reformulation is checked against the Keras layer it replaces, with the same
weights: outputs and the gradients of the inputs, kernel and bias, over shapes that
take each path (odd channel counts, batch 1, non-square maps, strides, dilations,
'valid'). Tolerances: float32 round-off (1e-5 of the largest magnitude); under
mixed_bfloat16 one to two bfloat16 roundings (1e-2 of the largest magnitude; an
output rounded once to bfloat16 is within 2^-8 = 0.4%). Whole models built both ways
agree, count the same parameters under the same weight paths, and their files load
into each other: old `.keras` files (which name Keras' classes), `.weights.h5`
checkpoints (keyed by class name) and the released float16 weights (keyed by path).

Kernel taps that never read the image (a 5x5 stride-2 kernel on a 1x1 or 2x2 map) have
a gradient of exactly 0. Ours gives exactly 0 there; TensorFlow's oneDNN kernel
gradient in bfloat16 (TensorFlow 2.21, x86 CPU) can leave uninitialised memory there
instead (values up to 1e38 seen), so under mixed_bfloat16 those taps are compared
with 0, not with Keras.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import inpainting_batch

from inpaint_tf.layers import Conv2D, Conv2DTranspose, DilatedConv2D
from inpaint_tf.layers.conv2d import axis_plan, kernel_gradient_by_taps
from inpaint_tf.layers.conv2d_transpose import matmul_kernel
from inpaint_tf.models import build_glcic_discriminator, build_glcic_generator
from inpaint_tf.models.unet_autoencoder import build_unet_autoencoder
from inpaint_tf.presets import released

TOLERANCE = {"float32": 1e-5, "mixed_bfloat16": 1e-2}


def _values_and_gradients(layer, x, seed=0):
    """The layer's output, and the gradients of a fixed random projection of it with
    respect to the input and every trainable variable, all as float32 arrays."""
    x = tf.Variable(x)
    with tf.GradientTape() as tape:
        y = layer(x)
        weights = tf.random.stateless_normal(y.shape, (seed, 1))
        loss = tf.reduce_sum(tf.cast(y, tf.float32) * weights)
    gradients = tape.gradient(loss, [x, *layer.trainable_variables])
    return [np.asarray(tf.cast(v, tf.float32)) for v in (y, *gradients)]


def _assert_same(ours, theirs, policy, masks=None, scales=None):
    """Every array of `ours` equals `theirs` within the policy's tolerance times the
    array's scale (its largest magnitude unless `scales` gives one); where a mask (one
    per array, or None) is False, `ours` is exactly 0 instead."""
    masks = masks or [None] * len(ours)
    scales = scales or [None] * len(ours)
    for a, b, mask, scale in zip(ours, theirs, masks, scales, strict=True):
        if mask is not None:
            assert np.all(a[~mask] == 0), "a tap that reads no pixel has a gradient"
            a, b = a[mask], b[mask]
        scale = max(scale or float(np.max(np.abs(b))), 1e-3)
        np.testing.assert_allclose(a, b, rtol=0, atol=TOLERANCE[policy] * scale)


def reading_taps(layer, input_shape):
    """(kh, kw, 1, 1) booleans: the kernel taps of a Conv2D that read the image."""
    rows, cols = (axis_plan(size, kernel, stride, dilation, layer.padding)
                  for size, kernel, stride, dilation in
                  zip(input_shape[1:3], layer.kernel_size, layer.strides, layer.dilation_rate))
    mask = np.zeros(tuple(layer.kernel_size) + (1, 1), bool)
    mask[rows[2]:rows[3] + 1, cols[2]:cols[3] + 1] = True
    return mask


def _pair(ours_class, keras_class, config, shape, policy, seed=0):
    """Ours and Keras' layer, same config and random weights, and an input."""
    rng = np.random.default_rng(seed)
    ours, theirs = ours_class(**config, dtype=policy), keras_class(**config, dtype=policy)
    theirs.build(shape)
    ours.build(shape)
    weights = [rng.normal(size=w.shape).astype("float32") for w in theirs.weights]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    return ours, theirs, rng.normal(size=shape).astype("float32")


# --------------------------------------------------------------------------- Conv2DTranspose

TRANSPOSE_CASES = [
    # (input shape, config): the UNet's 2x2 stride-2 upconvs and their edges
    ((2, 2, 2, 16), dict(filters=8, kernel_size=2, strides=2, padding="same")),
    ((1, 3, 5, 7), dict(filters=5, kernel_size=2, strides=2, padding="same")),
    ((3, 4, 2, 3), dict(filters=1, kernel_size=2, strides=2, padding="valid",
                        activation="relu")),
    ((2, 2, 3, 5), dict(filters=4, kernel_size=3, strides=3, padding="same",
                        use_bias=False)),
    ((2, 4, 4, 6), dict(filters=3, kernel_size=4, strides=2, padding="same")),  # Keras' path
    ((2, 3, 3, 6), dict(filters=3, kernel_size=2, strides=1, padding="same")),  # Keras' path
]


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize("shape,config", TRANSPOSE_CASES)
def test_conv2d_transpose_matches_keras(shape, config, policy):
    ours, theirs, x = _pair(Conv2DTranspose, keras.layers.Conv2DTranspose, config, shape,
                            policy)
    _assert_same(_values_and_gradients(ours, x), _values_and_gradients(theirs, x), policy)
    # Traced, as `fit` runs it.
    traced = tf.function(lambda t: ours(t))(x)
    _assert_same([np.asarray(tf.cast(traced, tf.float32))],
                 [np.asarray(tf.cast(theirs(x), tf.float32))], policy)


def test_conv2d_transpose_matmul_kernel_is_the_block_of_each_pixel():
    kernel = np.arange(2 * 2 * 3 * 4, dtype="float32").reshape(2, 2, 3, 4)  # (a, b, f, c)
    matrix = np.asarray(matmul_kernel(tf.constant(kernel)))
    assert matrix.shape == (4, 12)
    for a in range(2):
        for b in range(2):
            for f in range(3):
                np.testing.assert_array_equal(matrix[:, (a * 2 + b) * 3 + f], kernel[a, b, f])


def test_conv2d_transpose_takes_any_height_and_width():
    layer = Conv2DTranspose(4, 2, strides=2, padding="same")
    inputs = keras.Input((None, None, 6))
    model = keras.Model(inputs, layer(inputs))
    plain = keras.layers.Conv2DTranspose(4, 2, strides=2, padding="same")
    plain.build((None, None, None, 6))
    plain.set_weights(layer.get_weights())
    x = np.random.default_rng(0).normal(size=(2, 3, 5, 6)).astype("float32")
    assert model.output.shape == (None, None, None, 4)
    np.testing.assert_allclose(model(x), plain(x), atol=1e-5)
    np.testing.assert_allclose(tf.function(model)(x), plain(x), atol=1e-5)


def test_conv2d_transpose_keeps_keras_variables_and_config():
    ours = Conv2DTranspose(8, 2, strides=2, padding="same", name="up")
    theirs = keras.layers.Conv2DTranspose(8, 2, strides=2, padding="same", name="up")
    ours.build((None, 4, 4, 16))
    theirs.build((None, 4, 4, 16))
    assert [(v.path, v.shape) for v in ours.weights] == [(v.path, v.shape)
                                                         for v in theirs.weights]
    assert ours.get_config() == theirs.get_config()
    assert ours.count_params() == theirs.count_params() == 2 * 2 * 16 * 8 + 8
    assert Conv2DTranspose.from_config(ours.get_config()).get_config() == ours.get_config()
    assert tuple(ours.compute_output_shape((None, 4, 4, 16))) == (None, 8, 8, 8)


# --------------------------------------------------------------------------- Conv2D

CONV_CASES = [
    # stride 1 on small maps: the kernel gradient by taps, nothing pruned
    ((2, 2, 2, 16), dict(filters=8, kernel_size=3, padding="same", activation="relu")),
    ((1, 4, 4, 5), dict(filters=7, kernel_size=3, padding="same")),
    ((3, 2, 5, 3), dict(filters=4, kernel_size=3, padding="same", use_bias=False)),
    ((2, 4, 4, 3), dict(filters=2, kernel_size=2, padding="same")),  # even kernel
    ((2, 5, 4, 3), dict(filters=2, kernel_size=3, padding="valid")),
    ((2, 1, 1, 6), dict(filters=3, kernel_size=3, padding="same")),  # centre tap only
    # strided, taps that read only padding left out (the GLCIC discriminator's ends)
    ((2, 2, 2, 6), dict(filters=4, kernel_size=5, strides=2, padding="same")),
    ((1, 1, 1, 6), dict(filters=4, kernel_size=5, strides=2, padding="same")),
    ((2, 4, 4, 5), dict(filters=3, kernel_size=5, strides=2, padding="same")),
    ((2, 8, 8, 3), dict(filters=3, kernel_size=5, strides=2, padding="same")),
    ((2, 6, 7, 3), dict(filters=3, kernel_size=3, strides=2, padding="valid")),
    ((2, 3, 5, 3), dict(filters=3, kernel_size=(3, 5), strides=(1, 2), padding="same")),
    # dilated: pruned, and by taps on 8x8
    ((2, 8, 8, 4), dict(filters=3, kernel_size=3, dilation_rate=2, padding="same")),
    ((2, 8, 8, 4), dict(filters=3, kernel_size=3, dilation_rate=8, padding="same")),
    ((2, 6, 10, 2), dict(filters=3, kernel_size=3, dilation_rate=(2, 10), padding="same")),
    ((2, 5, 6, 3), dict(filters=3, kernel_size=3, dilation_rate=2, padding="valid")),
    # large maps: Keras' own computation
    ((2, 8, 8, 3), dict(filters=4, kernel_size=3, padding="same")),
]


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize("shape,config", CONV_CASES)
def test_conv2d_matches_keras(shape, config, policy):
    ours, theirs, x = _pair(Conv2D, keras.layers.Conv2D, config, shape, policy)
    values = _values_and_gradients(ours, x)
    masks = [None] * len(values)  # output, input gradient, kernel gradient, bias gradient
    masks[2] = np.broadcast_to(reading_taps(ours, shape), values[2].shape)
    _assert_same(values, _values_and_gradients(theirs, x), policy, masks)
    traced = tf.function(lambda t: ours(t))(x)
    _assert_same([np.asarray(tf.cast(traced, tf.float32))],
                 [np.asarray(tf.cast(theirs(x), tf.float32))], policy)


@pytest.mark.parametrize("size,kernel,stride,dilation,padding,expected", [
    (4, 3, 1, 1, "same", (4, 1, 0, 2)),    # every tap reads the map
    (2, 5, 2, 1, "same", (1, 1, 1, 2)),    # a discriminator's last global conv: 2 taps
    (1, 5, 2, 1, "same", (1, 2, 2, 2)),    # its last local conv: the centre
    (4, 5, 2, 1, "same", (2, 1, 0, 4)),    # padded 1 before, 2 after: every tap
    (8, 3, 1, 16, "same", (8, 16, 1, 1)),  # the GLCIC rate-16 layer: the centre
    (8, 3, 1, 4, "same", (8, 4, 0, 2)),
    (5, 3, 1, 1, "valid", (3, 0, 0, 2)),
])
def test_axis_plan_by_hand(size, kernel, stride, dilation, padding, expected):
    assert axis_plan(size, kernel, stride, dilation, padding) == expected


@pytest.mark.parametrize("shape,kernel,strides,dilation,padding", [
    ((2, 4, 4, 3), (3, 3), (1, 1), (1, 1), "SAME"),
    ((1, 5, 3, 2), (3, 2), (1, 1), (1, 1), "VALID"),
    ((2, 6, 6, 3), (5, 5), (2, 2), (1, 1), "SAME"),
    ((2, 7, 7, 3), (3, 3), (1, 1), (2, 2), "SAME"),
])
def test_kernel_gradient_by_taps_is_tensorflows(shape, kernel, strides, dilation, padding):
    rng = np.random.default_rng(3)
    x = rng.normal(size=shape).astype("float32")
    k = rng.normal(size=(*kernel, shape[-1], 4)).astype("float32")
    y = tf.nn.conv2d(x, k, strides, padding, dilations=dilation)
    dy = rng.normal(size=y.shape).astype("float32")
    expected = tf.raw_ops.Conv2DBackpropFilter(
        input=x, filter_sizes=k.shape, out_backprop=dy, strides=[1, *strides, 1],
        padding=padding, dilations=[1, *dilation, 1])
    paddings = []
    for axis in range(2):
        out, pad, _, _ = axis_plan(shape[1 + axis], kernel[axis], strides[axis],
                                   dilation[axis], padding.lower())
        needed = (out - 1) * strides[axis] + (kernel[axis] - 1) * dilation[axis] + 1
        paddings.append((pad, max(needed - shape[1 + axis] - pad, 0)))
    ours = kernel_gradient_by_taps(tf.constant(x), tf.constant(dy), kernel, strides, dilation,
                                   paddings)
    np.testing.assert_allclose(ours, expected, atol=1e-4)


def test_left_out_taps_get_exactly_zero_gradient():
    layer = Conv2D(4, 5, strides=2, padding="same")
    values = _values_and_gradients(layer, np.ones((2, 2, 2, 3), "float32"))
    kernel_gradient = values[2]
    assert np.all(kernel_gradient[[0, 3, 4]] == 0) and np.all(kernel_gradient[:, [0, 3, 4]] == 0)
    assert np.all(kernel_gradient[1:3, 1:3] != 0)


def test_taps_that_read_no_pixel_get_zero_gradient_in_bfloat16_too():
    """TensorFlow's own bfloat16 kernel gradient may leave garbage in these taps (see
    the module docstring); ours computes their true gradient, 0."""
    layer = Conv2D(4, 5, strides=2, padding="same", dtype="mixed_bfloat16")
    for shape in ((3, 1, 1, 8), (3, 2, 2, 8)):
        kernel_gradient = _values_and_gradients(layer, np.ones(shape, "float32"))[2]
        mask = np.broadcast_to(reading_taps(layer, shape), kernel_gradient.shape)
        assert np.all(kernel_gradient[~mask] == 0) and np.all(np.isfinite(kernel_gradient))


def test_conv2d_with_unknown_size_is_keras_conv2d():
    layer = Conv2D(3, 3, padding="same")
    inputs = keras.Input((None, None, 2))
    model = keras.Model(inputs, layer(inputs))
    x = np.random.default_rng(0).normal(size=(1, 2, 2, 2)).astype("float32")
    plain = keras.layers.Conv2D(3, 3, padding="same")
    plain.build((None, None, None, 2))
    plain.set_weights(layer.get_weights())
    np.testing.assert_allclose(model(x), plain(x), atol=1e-6)


def test_conv2d_keeps_keras_variables_and_config():
    ours, theirs = Conv2D(8, 3, padding="same", name="c"), keras.layers.Conv2D(
        8, 3, padding="same", name="c")
    ours.build((None, 2, 2, 5))
    theirs.build((None, 2, 2, 5))
    assert [(v.path, v.shape) for v in ours.weights] == [(v.path, v.shape)
                                                         for v in theirs.weights]
    assert ours.get_config() == theirs.get_config()
    assert Conv2D.from_config(ours.get_config()).get_config() == ours.get_config()
    assert tuple(ours.compute_output_shape((None, 2, 2, 5))) == (None, 2, 2, 8)


# --------------------------------------------------------------------------- whole models


def _keras_layer(layer):
    """Keras' own class for each of ours (DilatedConv2D computes Keras' Conv2D)."""
    for ours, theirs in ((Conv2D, keras.layers.Conv2D),
                         (Conv2DTranspose, keras.layers.Conv2DTranspose)):
        if isinstance(layer, ours):
            return theirs.from_config(layer.get_config())
    return type(layer).from_config(layer.get_config())


def keras_twin(model):
    """`model` built with Keras' own layers in place of inpaint_tf's, same weights."""
    twin = keras.models.clone_model(model, clone_function=_keras_layer, recursive=True)
    twin.set_weights(model.get_weights())
    return twin


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


def _conv_input_shapes(model, inputs) -> dict:
    """The input shape of each of the model's Conv2D layers in a call on `inputs`."""
    layers = [layer for layer in _all_layers(model) if isinstance(layer, Conv2D)]
    shapes = {}

    def recording(layer, call):
        def record(x):
            shapes[layer.name] = tuple(x.shape)
            return call(x)

        return record

    for layer in layers:
        layer.call = recording(layer, layer.call)
    try:
        model(inputs)
    finally:
        for layer in layers:
            del layer.call
    return shapes


def _model_values_and_gradients(model, inputs):
    with tf.GradientTape() as tape:
        y = tf.cast(model(inputs, training=False), tf.float32)
        loss = tf.reduce_sum(y * tf.random.stateless_normal(y.shape, (5, 1)))
    return [np.asarray(y), *(np.asarray(g) for g in
                             tape.gradient(loss, model.trainable_variables))]


MODELS = {
    "unet": lambda: build_unet_autoencoder(),
    "glcic_generator": lambda: build_glcic_generator(),
    "glcic_discriminator": lambda: build_glcic_discriminator(),
}


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_models_built_both_ways_agree(name, policy, rng):
    keras.mixed_precision.set_global_policy(policy)
    keras.utils.set_random_seed(0)
    model = MODELS[name]()
    twin = keras_twin(model)
    ours_classes = {type(layer) for layer in _all_layers(model)}
    assert not {Conv2D, Conv2DTranspose, DilatedConv2D} & {type(layer) for layer in
                                                            _all_layers(twin)}
    assert ours_classes & {Conv2D, Conv2DTranspose, DilatedConv2D}
    assert model.count_params() == twin.count_params()
    assert [v.path for v in model.weights] == [v.path for v in twin.weights]
    inputs, _ = inpainting_batch(rng, n=3, size=32)
    shapes = _conv_input_shapes(model, inputs)
    kernels = {layer.kernel.path: reading_taps(layer, shapes[layer.name])
               for layer in _all_layers(model) if isinstance(layer, Conv2D)}
    values = _model_values_and_gradients(model, inputs)
    theirs = _model_values_and_gradients(twin, inputs)
    masks = [None] + [None if v.path not in kernels else
                      np.broadcast_to(kernels[v.path], value.shape)
                      for v, value in zip(model.trainable_variables, values[1:])]
    # A gradient's scale is its largest magnitude, at least 1% of the model's largest
    # gradient: a bias before BatchNorm has a gradient of 0 up to round-off, which no
    # tolerance of its own fits.
    largest = max(float(np.max(np.abs(value))) for value in theirs[1:])
    scales = [None] + [max(float(np.max(np.abs(value))), 1e-2 * largest)
                       for value in theirs[1:]]
    _assert_same(values, theirs, policy, masks, scales)


def test_unet_parameters_and_layer_names_are_unchanged():
    model = build_unet_autoencoder()
    assert model.count_params() == 7_760_931
    assert isinstance(model.get_layer("decoder_stage1_upconv"), Conv2DTranspose)
    assert isinstance(model.get_layer("decoder_stage1_conv_b"), Conv2D)
    assert model.get_layer("decoder_stage1_upconv").kernel.path == \
        "decoder_stage1_upconv/kernel"


def test_an_old_keras_file_loads_and_gives_the_same_outputs(tmp_path, rng):
    """A `.keras` file written before the reformulation names Keras' classes: it loads
    as them, and computes what the model built today computes with its weights."""
    model = build_unet_autoencoder((None, None, 3), filters=(8, 16), bottleneck_filters=32)
    old = keras_twin(model)
    old.save(tmp_path / "old.keras")
    loaded = keras.saving.load_model(tmp_path / "old.keras")
    assert type(loaded.get_layer("decoder_stage1_upconv")) is keras.layers.Conv2DTranspose
    fresh = build_unet_autoencoder((None, None, 3), filters=(8, 16), bottleneck_filters=32)
    fresh.set_weights(loaded.get_weights())
    inputs, _ = inpainting_batch(rng, size=16)
    np.testing.assert_allclose(fresh(inputs), loaded(inputs), atol=1e-5)
    # And a file written today reloads as inpaint_tf's classes, bit for bit.
    model.save(tmp_path / "new.keras")
    reloaded = keras.saving.load_model(tmp_path / "new.keras")
    assert type(reloaded.get_layer("decoder_stage1_upconv")) is Conv2DTranspose
    np.testing.assert_array_equal(reloaded(inputs), model(inputs))


@pytest.mark.parametrize("build", [
    lambda: build_unet_autoencoder(filters=(8, 16), bottleneck_filters=32),
    lambda: build_glcic_discriminator()])
def test_weights_h5_checkpoints_load_across(build, tmp_path, rng):
    """Keras keys `.weights.h5` files by class name: a run folder's checkpoint written
    with Keras' classes loads into today's model, and the other way round."""
    model = build()
    old = keras_twin(build())  # other random weights
    old.save_weights(tmp_path / "old.weights.h5")
    model.load_weights(tmp_path / "old.weights.h5")
    for a, b in zip(model.weights, old.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    model.save_weights(tmp_path / "new.weights.h5")
    other = keras_twin(build())
    other.load_weights(tmp_path / "new.weights.h5")
    inputs, _ = inpainting_batch(rng, size=32)
    np.testing.assert_allclose(other(inputs), model(inputs), atol=1e-4)


@pytest.mark.parametrize("name", released.pretrained_names())
def test_released_weights_give_keras_layers_outputs(name, rng):
    network = released.pretrained(name)
    twin = keras_twin(network)
    inputs, _ = inpainting_batch(rng, n=4, size=32)
    np.testing.assert_allclose(network(inputs), twin(inputs), atol=1e-5)
