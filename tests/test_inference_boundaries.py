"""`inpaint`'s helpers and options at their edges, against values worked out by hand:
the size multiple and receptive field of small graphs, padding, chunking, clipping, the
option checks, and which pass (whole image or windows) runs the model."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from inpaint_tf.inference import inpainting as I


def _graph(*layers, nested=None):
    """image (and mask) -> `layers` in a chain -> 3 channels; `nested` wraps the
    chain in an inner functional model."""
    image = keras.Input((None, None, 3), name="image")
    mask = keras.Input((None, None, 1), name="mask")
    x = keras.layers.Concatenate()([image, mask])
    chain_input = x
    for layer in layers:
        x = layer(x)
    if nested:
        inner = keras.Model(chain_input, x)
        x = inner(keras.layers.Concatenate()([image, mask]))
    return keras.Model({"image": image, "mask": mask}, x)


L = keras.layers


@pytest.mark.parametrize("layers, multiple", [
    ([L.Conv2D(4, 3, padding="same")], 1),
    ([L.Conv2D(4, 3, strides=2, padding="same")], 2),
    ([L.Conv2D(4, 3, strides=(1, 2), padding="same")], 2),
    ([L.Conv2D(4, 3, strides=2, padding="same"), L.MaxPooling2D(2), L.AveragePooling2D(3)], 12),
    ([L.DepthwiseConv2D(3, strides=2, padding="same"), L.SeparableConv2D(4, 3, strides=2,
                                                                        padding="same")], 4),
    ([L.Conv2DTranspose(4, 3, strides=2, padding="same"), L.UpSampling2D(2)], 1),
])
def test_the_size_multiple_is_the_product_of_downsampling_strides(layers, multiple):
    assert I.size_multiple(_graph(*layers)) == multiple


def test_nested_models_count_in_the_size_multiple_and_the_field():
    model = _graph(L.Conv2D(4, 3, strides=2, padding="same"), L.MaxPooling2D(2), nested=True)
    assert I.size_multiple(model) == 4
    assert I.receptive_field(model) == 1 + 2 + 1 * 2  # conv 3 (+2), then pool 2 at step 2


@pytest.mark.parametrize("layers, field", [
    ([], 1),
    ([L.Conv2D(4, 3, padding="same")], 3),
    ([L.Conv2D(4, 5, padding="same"), L.Conv2D(4, 3, padding="same")], 7),
    ([L.Conv2D(4, 3, dilation_rate=2, padding="same")], 5),
    ([L.Conv2D(4, 3, strides=2, padding="same"), L.Conv2D(4, 3, padding="same")], 7),
    ([L.MaxPooling2D(2), L.Conv2D(4, 3, padding="same")], 6),
    ([L.MaxPooling2D(3, strides=1, padding="same"), L.Conv2D(4, 3, padding="same")], 5),
    # Upsampling halves the step: a 3x3 conv after it reaches one input pixel each way.
    ([L.Conv2D(4, 3, strides=2, padding="same"), L.UpSampling2D(2),
      L.Conv2D(4, 3, padding="same")], 5),
    # A transposed conv adds ceil(kernel / stride) - 1 steps and divides the step.
    ([L.Conv2D(4, 3, strides=2, padding="same"), L.Conv2DTranspose(4, 4, strides=2,
                                                                  padding="same"),
      L.Conv2D(4, 3, padding="same")], 3 + 2 + 2),
    ([L.Flatten()], None), ([L.GlobalAveragePooling2D()], None),
])
def test_the_receptive_field_of_small_graphs(layers, field):
    assert I.receptive_field(_graph(*layers)) == field


def test_where_paths_meet_the_widest_field_and_step_count():
    image = keras.Input((None, None, 3), name="image")
    mask = keras.Input((None, None, 1), name="mask")
    narrow = L.Conv2D(4, 3, padding="same")(image)
    wide = L.Conv2D(4, 7, padding="same")(L.Concatenate()([image, mask]))
    merged = L.Conv2D(3, 3, padding="same")(L.Concatenate()([narrow, wide]))
    assert I.receptive_field(keras.Model({"image": image, "mask": mask}, merged)) == 9


def test_a_pyramid_layer_adds_its_coarsest_cell():
    class Pyramid(keras.layers.Layer):
        levels = 3

        def call(self, x):
            return x

    assert I.receptive_field(_graph(Pyramid(), L.Conv2D(4, 3, padding="same"))) == 1 + 8 + 2


def test_fields_without_a_graph_are_unknown():
    class Subclassed(keras.Model):
        def call(self, inputs):
            return inputs["image"]

    assert I.receptive_field(Subclassed()) is None
    sequential = keras.Sequential([keras.Input((None, None, 4)), L.Conv2D(3, 5, padding="same")])
    assert I.receptive_field(sequential) == 5


def test_a_gan_runs_its_generator():
    generator = _graph(L.Conv2D(3, 3, strides=2, padding="same"))

    class GAN:
        pass

    gan = GAN()
    gan.generator = generator
    assert I.inpainting_network(gan) is generator
    assert I.size_multiple(I.inpainting_network(gan)) == 2
    gan.generator = None
    assert I.inpainting_network(gan) is gan
    gan.generator = "not a network"
    assert I.inpainting_network(gan) is gan


@pytest.mark.parametrize("height, width, multiple, expected", [
    (32, 32, 16, (0, 0)), (33, 30, 16, (15, 2)), (1, 1, 1, (0, 0)), (7, 9, 8, (1, 7))])
def test_pad_amounts(height, width, multiple, expected):
    assert I.pad_amounts(height, width, multiple) == expected


def test_mirror_padding_repeats_the_edge_pixel_and_nothing_is_padded_for_nothing():
    array = np.arange(6, dtype=np.float32).reshape(1, 2, 3, 1)
    assert I._mirror_pad(array, 0, 0) is array
    padded = I._mirror_pad(array, 2, 1)
    np.testing.assert_array_equal(padded[0, ..., 0], [[0, 1, 2, 2], [3, 4, 5, 5],
                                                      [3, 4, 5, 5], [0, 1, 2, 2]])
    np.testing.assert_array_equal(I._mirror_pad(array, 1, 0)[0, ..., 0],
                                  [[0, 1, 2], [3, 4, 5], [3, 4, 5]])
    np.testing.assert_array_equal(I._mirror_pad(array, 0, 1)[0, ..., 0],
                                  [[0, 1, 2, 2], [3, 4, 5, 5]])


def test_chunks_hold_at_most_a_batch_and_a_megapixel():
    def slices(*args):
        return [(s.start, s.stop) for s in I._chunks(*args)]

    assert slices(10, 1, 4) == [(0, 4), (4, 8), (8, 10)]
    assert slices(3, I.BATCH_PIXELS // 2, 32) == [(0, 2), (2, 3)]
    assert slices(2, I.BATCH_PIXELS * 4, 32) == [(0, 1), (1, 2)]  # one when one is larger
    assert slices(2, 0, 32) == [(0, 2)]
    assert slices(0, 1, 32) == []
    assert I.BATCH_PIXELS == 2**19


def test_run_pads_to_the_multiple_crops_back_and_clips():
    seen = []

    def predict(image, mask):
        seen.append((image.shape, mask.shape))
        return np.full(image.shape, 1.5, np.float32) - image * 3

    image = np.full((2, 5, 6, 3), 0.25, np.float32)
    out = I._run(predict, image, np.zeros((2, 5, 6, 1), np.float32), 4)
    assert seen == [((2, 8, 8, 3), (2, 8, 8, 1))]
    assert out.shape == (2, 5, 6, 3) and float(out.max()) == 0.75
    out = I._run(lambda i, m: np.full(i.shape, -0.5, np.float32), image, image[..., :1], 1)
    assert float(out.min()) == 0.0 and float(out.max()) == 0.0
    out = I._run(lambda i, m: np.full(i.shape, 2.0, np.float32), image, image[..., :1], 1)
    assert float(out.min()) == 1.0
    with pytest.raises(ValueError, match="NaN or Inf"):
        I._run(lambda i, m: np.full(i.shape, np.inf, np.float32), image, image[..., :1], 1)


class _Fixed:
    """A stand-in for an exported file: a fixed input size, called like a Keras model."""

    def __init__(self, size=(16, 16)):
        self.fixed_size = size
        self.calls = []

    def __call__(self, inputs, training=None):
        self.calls.append((inputs["image"].shape, training))
        return np.clip(inputs["image"] + 0.5 * inputs["mask"], 0, 1)


@pytest.mark.parametrize("window_size, expected", [
    (None, (16, 16)), (16, (16, 16)), ((16, 16), (16, 16)), (np.int64(16), (16, 16))])
def test_a_fixed_size_model_runs_at_its_size(window_size, expected):
    assert I._fixed_size(_Fixed(), window_size) == expected


def test_window_sizes_are_checked():
    keras_like = object()
    assert I._fixed_size(keras_like, None) is None
    assert I._fixed_size(keras_like, 24) == (24, 24)
    assert I._fixed_size(keras_like, (8, 40)) == (8, 40)
    for bad, message in (((8, 8, 8), "`window_size` must be an int or \\(height, width\\)"),
                         (0, "`window_size` must be a positive integer"),
                         ((8, -1), "`window_size` must be a positive integer"),
                         (2.5, "`window_size` must be a positive integer")):
        with pytest.raises(ValueError, match=message):
            I._fixed_size(keras_like, bad)
    with pytest.raises(ValueError, match=r"must be the model's fixed size \(16, 16\)"):
        I._fixed_size(_Fixed(), 32)


@pytest.mark.parametrize("context, expected", [(None, None), (0, 0), (7, 7),
                                               (np.int64(3), 3)])
def test_context_is_none_or_a_non_negative_integer(context, expected):
    value = I._checked_context(context)
    assert value == expected and (value is None or type(value) is int)


@pytest.mark.parametrize("context", [-1, True, False, 2.5, "3"])
def test_other_contexts_are_refused(context):
    with pytest.raises(ValueError, match="`context` must be None or a non-negative integer"):
        I._checked_context(context)


def _half_model():
    """A Keras model that fills holes with 0.5."""
    image = keras.Input((None, None, 3), name="image")
    mask = keras.Input((None, None, 1), name="mask")
    filled = L.Lambda(lambda t: t[0] * (1 - t[1]) + 0.5 * t[1])([image, mask])
    return keras.Model({"image": image, "mask": mask}, filled)


def test_auto_runs_windows_around_small_holes_and_the_whole_image_for_large_ones(
        model_input_shapes):
    model, shapes = _half_model(), model_input_shapes
    image = np.full((1, 128, 128, 3), 0.25, np.float32)
    small = np.zeros((1, 128, 128, 1), np.float32)
    small[0, 60:62, 60:62] = 1
    out = I.inpaint(model, image, small)
    assert shapes[-1][1] * shapes[-1][2] < 0.5 * 128 * 128  # a window, not the photo
    assert float(out[0, 60, 60, 0]) == 0.5 and float(out[0, 0, 0, 0]) == 0.25
    spread = np.zeros_like(small)
    spread[0, ::20, ::20] = 1  # holes everywhere: windows would cover the photo
    I.inpaint(model, image, spread)
    assert shapes[-1] == (1, 128, 128, 3)
    I.inpaint(model, image, small, windows=False)
    assert shapes[-1] == (1, 128, 128, 3)
    I.inpaint(model, image, spread, windows=True)
    assert shapes[-1] != (1, 128, 128, 3)


def test_a_mask_without_holes_never_calls_the_model(model_input_shapes):
    model, shapes = _half_model(), model_input_shapes
    image = np.random.default_rng(0).uniform(size=(2, 20, 24, 3)).astype(np.float32)
    for windows in ("auto", True, False):
        out = I.inpaint(model, image, np.zeros((2, 20, 24)), windows=windows)
        np.testing.assert_array_equal(out, image)
    assert shapes == []


def test_whole_passes_go_in_batches_of_batch_size(model_input_shapes):
    model, shapes = _half_model(), model_input_shapes
    image = np.full((5, 8, 8, 3), 0.25, np.float32)
    masks = np.ones((5, 8, 8, 1), np.float32)
    out = I.inpaint(model, image, masks, batch_size=2, windows=False)
    assert [s[0] for s in shapes] == [2, 2, 1] and float(out.max()) == 0.5
    single = I.inpaint(model, image[0], masks[0], windows=False)
    assert single.shape == (8, 8, 3)


def test_inpaint_refuses_bad_options():
    model = _half_model()
    image, mask = np.zeros((1, 16, 16, 3), np.float32), np.ones((1, 16, 16, 1), np.float32)
    for options, message in (({"windows": "yes"}, "`windows` must be 'auto', True or False"),
                             ({"windows": 1}, "`windows` must be 'auto', True or False"),
                             ({"batch_size": 0}, "`batch_size` must be a positive integer"),
                             ({"multiple": 0}, "`multiple` must be a positive integer"),
                             ({"context": -2}, "`context` must be None")):
        with pytest.raises(ValueError, match=message):
            I.inpaint(model, image, mask, **options)
    fixed = _Fixed((16, 16))
    with pytest.raises(ValueError, match="The model takes 16x16 images only"):
        I.inpaint(fixed, np.zeros((1, 24, 24, 3), np.float32), np.ones((1, 24, 24, 1)),
                  windows=False)


def test_a_fixed_size_model_is_called_at_its_size_whatever_the_image(monkeypatch):
    fixed = _Fixed((16, 16))
    image = np.full((1, 40, 48, 3), 0.25, np.float32)
    mask = np.zeros((1, 40, 48, 1), np.float32)
    mask[0, 10:13, 30:34] = 1
    out = I.inpaint(fixed, image, mask)
    assert fixed.calls and all(shape[1:3] == (16, 16) and training is False
                               for shape, training in fixed.calls)
    np.testing.assert_allclose(out[0, 10:13, 30:34], 0.75)
    np.testing.assert_array_equal(out[mask[..., 0] == 0], image[mask[..., 0] == 0])
    same = I.inpaint(fixed, image[:, :16, :16], np.ones((1, 16, 16, 1)), windows=False)
    assert same.shape == (1, 16, 16, 3) and math.isclose(float(same.max()), 0.75)


def test_keras_models_are_compiled_once_and_other_callables_called_as_they_are():
    model = _half_model()
    first = I._predictor(model)
    assert I._COMPILED.get(model) is not None
    compiled = I._COMPILED[model]
    I._predictor(model)
    assert I._COMPILED[model] is compiled
    out = first(np.full((1, 4, 4, 3), 0.25, np.float32), np.ones((1, 4, 4, 1), np.float32))
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and float(out.max()) == 0.5
    fixed = _Fixed()
    out = I._predictor(fixed)(np.zeros((1, 16, 16, 3), np.float64), np.ones((1, 16, 16, 1)))
    assert out.dtype == np.float32 and fixed.calls == [((1, 16, 16, 3), False)]


@pytest.mark.parametrize("size", [(16, 16), (32, 16)])
def test_holes_larger_than_a_fixed_size_are_cut_into_tiles_filled_at_full_resolution(size):
    """The stand-in adds 0.5 to each hole pixel it is given, pixel by pixel: tiles at full
    resolution give exactly that on every hole pixel, thin lines and a large box alike
    (a scaled window would blend the box's rim and lose the lines' pixels)."""
    fixed = _Fixed(size)
    image = np.random.default_rng(0).uniform(0, 0.5, (1, 96, 96, 3)).astype(np.float32)
    mask = np.zeros((1, 96, 96, 1), np.float32)
    mask[0, 10:70, 20:60] = 1  # 60 x 40: larger than the fixed size
    mask[0, 80, 2:94] = 1  # a line across the image
    mask[0, 2:94, 90] = 1
    out = I.inpaint(fixed, image, mask)
    assert fixed.calls and {shape[1:3] for shape, _ in fixed.calls} == {size}
    hole = mask[0, ..., 0] > 0
    np.testing.assert_array_equal(out[0][hole], image[0][hole] + np.float32(0.5))
    np.testing.assert_array_equal(out[0][~hole], image[0][~hole])


def test_batch_pixels_of_one_pixel_items_is_the_largest_chunk():
    limit = I.BATCH_PIXELS
    chunks = list(I._chunks(limit + 1, 1, 2 * limit))
    assert [(s.start, s.stop) for s in chunks] == [(0, limit), (limit, limit + 1)]


def test_whole_and_window_passes_split_batches_by_pixels(model_input_shapes, monkeypatch):
    model, shapes = _half_model(), model_input_shapes
    monkeypatch.setattr(I, "BATCH_PIXELS", 64)
    image = np.full((3, 8, 16, 3), 0.25, np.float32)  # 128 pixels each: one per call
    I.inpaint(model, image, np.ones((3, 8, 16, 1), np.float32), windows=False)
    assert [s[0] for s in shapes] == [1, 1, 1]
    # A model of a fixed 32 x 16 size: 512-pixel windows, one per call under 600 pixels.
    monkeypatch.setattr(I, "BATCH_PIXELS", 600)
    fixed = _Fixed((32, 16))
    assert I._fixed_size(fixed, None) == (32, 16)
    image = np.full((1, 96, 96, 3), 0.25, np.float32)
    mask = np.zeros((1, 96, 96, 1), np.float32)
    mask[0, 5:7, 5:7] = mask[0, 80:82, 80:82] = 1  # two holes far apart: two windows
    I.inpaint(fixed, image, mask)
    assert [shape for shape, _ in fixed.calls] == [(1, 32, 16, 3), (1, 32, 16, 3)]


def test_a_fixed_size_smaller_than_its_context_needs_still_cuts_cores_of_a_pixel_or_more():
    fixed = _Fixed((3, 3))
    image = np.full((1, 20, 30, 3), 0.25, np.float32)
    mask = np.zeros((1, 20, 30, 1), np.float32)
    mask[0, 5:15, 5:25] = 1
    out = I.inpaint(fixed, image, mask, context=40)
    assert {shape[1:3] for shape, _ in fixed.calls} == {(3, 3)}
    np.testing.assert_array_equal(out[0][mask[0, ..., 0] > 0], 0.75)


def test_a_layer_without_a_dilation_rate_counts_its_kernel_once():
    class Window(keras.layers.Layer):  # a kernel and strides, no dilation_rate
        kernel_size, strides = (5, 5), (1, 1)

        def call(self, x):
            return x

    assert I.receptive_field(_graph(Window())) == 5


def test_an_input_beside_a_layer_at_the_same_depth_does_not_hide_the_layer():
    for order in (0, 1):
        image = keras.Input((None, None, 3), name="image")
        mask = keras.Input((None, None, 1), name="mask")
        conv = L.Conv2D(3, 5, padding="same")(image)
        merged = L.Concatenate()([conv, mask] if order else [mask, conv])
        model = keras.Model({"image": image, "mask": mask}, merged)
        assert I.receptive_field(model) == 5, order


def _dilated(field_radius: int):
    """A model whose receptive field is 1 + 2 * field_radius (one dilated 3x3 conv)."""
    return _graph(L.Conv2D(3, 3, dilation_rate=field_radius, padding="same"))


def _record_windows(monkeypatch):
    """Records the keyword arguments inpaint gives the window rules."""
    calls = []
    for name in ("hole_windows", "fixed_size_windows"):
        original = getattr(I._windows, name)

        def recorded(*args, _original=original, _name=name, **kwargs):
            calls.append((_name, kwargs))
            return _original(*args, **kwargs)
        monkeypatch.setattr(I._windows, name, recorded)
    return calls


def test_the_window_rules_get_the_context_the_image_index_and_the_receptive_radius(
        monkeypatch):
    calls = _record_windows(monkeypatch)
    model = _dilated(20)  # field 41: context at most ceil(41 / 2) = 21
    assert I.receptive_field(model) == 41
    image = np.full((2, 96, 96, 3), 0.25, np.float32)
    mask = np.zeros((2, 96, 96, 1), np.float32)
    mask[:, 40:42, 40:42] = 1
    I.inpaint(model, image, mask, context=3, windows=True)
    assert [(n, k["context"], k["limit"], k["image"], k["multiple"]) for n, k in calls] == [
        ("hole_windows", 3, 21, 0, 1), ("hole_windows", 3, 21, 1, 1)]
    calls.clear()
    I.inpaint(_Fixed((16, 16)), image, mask, context=5)
    assert [(n, k["context"], k["image"]) for n, k in calls] == [
        ("fixed_size_windows", 5, 0), ("fixed_size_windows", 5, 1)]


def test_a_keras_model_at_a_window_size_runs_every_window_at_that_size(model_input_shapes):
    model, shapes = _half_model(), model_input_shapes
    image = np.full((1, 96, 96, 3), 0.25, np.float32)
    mask = np.zeros((1, 96, 96, 1), np.float32)
    mask[0, 10:12, 10:12] = mask[0, 50:80, 40:70] = 1
    out = I.inpaint(model, image, mask, window_size=16)
    assert shapes and {s[1:3] for s in shapes} == {(16, 16)}
    assert float(out[0, 11, 11, 0]) == 0.5


def test_a_given_multiple_pads_the_whole_pass_to_it(model_input_shapes):
    model, shapes = _half_model(), model_input_shapes
    I.inpaint(model, np.zeros((1, 10, 13, 3), np.float32), np.ones((1, 10, 13, 1)),
              multiple=4, windows=False)
    assert shapes == [(1, 12, 16, 3)]


def test_whole_passes_take_thirty_two_images_at_a_time_by_default(model_input_shapes):
    model, shapes = _half_model(), model_input_shapes
    I.inpaint(model, np.zeros((33, 8, 8, 3), np.float32), np.ones((33, 8, 8, 1)),
              windows=False)
    assert [s[0] for s in shapes] == [32, 1]


def test_auto_takes_the_whole_image_once_windows_cover_half_of_it(model_input_shapes):
    """The rule at its boundary: windows of exactly half the padded image's pixels go
    to the whole pass; the padding counts in the image's pixels."""
    shapes = model_input_shapes
    model = _dilated(10)  # field 21: context at most 11
    mask = np.zeros((128, 128), np.float32)
    mask[54:74, 20:100] = 1
    _, windows = I._windows.hole_windows(mask, multiple=1, limit=11)
    assert sum(w.pixels for w in windows) == 0.5 * 128 * 128  # the boundary itself
    I.inpaint(model, np.full((1, 128, 128, 3), 0.25, np.float32), mask[None, ..., None])
    assert shapes == [(1, 128, 128, 3)]
    # 100 x 100 pads to 112 x 112 for a multiple of 16: windows under half of that run
    # as windows, though they cover more than half of 88 x 112 (the padding taken off).
    shapes.clear()
    strided = _graph(L.Conv2D(3, 3, strides=16, padding="same"), L.UpSampling2D(16))
    small = np.zeros((100, 100), np.float32)
    small[5:55, 5:55] = small[80:90, 80:90] = 1
    limit = math.ceil(I.receptive_field(strided) / 2)
    _, windows = I._windows.hole_windows(small, multiple=16, limit=limit)
    pixels = sum(w.pixels for w in windows)
    assert 0.5 * 88 * 112 <= pixels < 0.5 * 112 * 112
    I.inpaint(strided, np.full((1, 100, 100, 3), 0.25, np.float32), small[None, ..., None])
    assert shapes and (1, 112, 112, 3) not in shapes
