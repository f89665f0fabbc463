"""Windows around the holes (`inpaint_tf.inference.windows`) and `inpaint` on them: the rule (holes,
context, grid, groups, buckets, fixed sizes), every hole pixel written by exactly one
window, the same output as the whole-image pass, a model that never sees the untouched
area, and fixed-size ONNX and TFLite files serving images of any size.

Stated tolerances, windows against the whole-image pass over hole pixels:
- a context of at least the receptive radius: equal up to float round-off, 1e-5
  (measured: 0, bit for bit, for every family here);
- the default context, the released conv UNet on a photo-like image: max abs difference
  1e-3 (a quarter of one 8-bit level) and PSNR >= 80 dB (measured on four photos of
  this file's kind: 2.5e-5 to 4.7e-5 and 105 to 118 dB; 1.1e-4 and 97 dB on the
  12-megapixel photo of `make bench`; with no context at all: up to 0.11 and 51 dB).
Fixed-size files against Keras with the same `window_size`: 1e-4 (float32 files, as
tests/test_export_formats.py; measured 4e-7).
"""

import cv2
import keras
import numpy as np
import pytest
from _tiny_gan import tiny_discriminator, tiny_generator
from conftest import build_tiny_inpainting_model

from inpaint_tf.inference import windows
from inpaint_tf.inference.inpainting import inpaint, receptive_field, size_multiple
from inpaint_tf.models import (
    InpaintingGAN,
    build_glcic_generator,
    build_pconv_unet,
    build_unet_autoencoder,
)

EXACT = 1e-5
DEFAULT_MAX, DEFAULT_PSNR = 1e-3, 80.0
FILE_TOLERANCE = 1e-4


def photo_like(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Smooth gradients plus low-frequency blobs, stripes and fine texture, float32."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32) / max(height, width)
    base = np.stack([rng.uniform(-0.5, 0.5) * x + rng.uniform(-0.5, 0.5) * y
                     + rng.uniform(0.3, 0.7) for _ in range(3)], -1)
    low = cv2.resize(rng.uniform(-0.2, 0.2, (height // 48 + 2, width // 48 + 2, 3)),
                     (width, height), interpolation=cv2.INTER_CUBIC)
    texture = cv2.GaussianBlur(rng.normal(0, 1, (height, width, 3)), (0, 0), 1.2) * 0.06
    stripes = 0.05 * np.sin(2 * np.pi * (37 * x + 11 * y))[..., None]
    return np.clip(base + low + texture + stripes, 0, 1).astype(np.float32)


def blemishes(height: int, width: int, spots, seed: int = 0) -> np.ndarray:
    """uint8 mask of filled ellipses: (centre row, centre column, diameter) each."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((height, width), np.uint8)
    for row, col, diameter in spots:
        axes = (max(1, diameter // 2), max(1, int(diameter / 2 * rng.uniform(0.6, 1))))
        cv2.ellipse(mask, (col, row), axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    return mask


# A blemish in the middle, at each corner and border, three close together (one
# group), a few alone and one large hole: on a 300 x 451 photo.
SPOTS = [(150, 200, 12), (4, 4, 10), (296, 447, 14), (0, 300, 8), (150, 449, 10),
         (100, 100, 16), (108, 125, 10), (120, 110, 8), (230, 330, 60), (60, 380, 6)]


class Recorder:
    """A model stand-in that records the size of every batch it is given."""

    def __init__(self, model):
        self.model, self.layers, self.calls = model, model.layers, []
        self._functional = model  # the graph `receptive_field` follows

    def __call__(self, inputs, training=False):
        self.calls.append(inputs["image"].shape)
        return self.model(inputs, training=False)

    @property
    def pixels(self) -> int:
        return sum(n * h * w for n, h, w, _ in self.calls)


# --------------------------------------------------------------------------- the rule


def test_hole_components_label_each_hole_and_box_it():
    mask = np.zeros((20, 30), np.uint8)
    mask[2:5, 3:9] = 1
    mask[10:18, 20:22] = 1
    mask[18, 22] = 1  # touches the second hole at a corner: the same hole (8-connected)
    labels, boxes = windows.hole_components(mask[..., None])
    assert labels.dtype == np.int32 and set(np.unique(labels)) == {0, 1, 2}
    np.testing.assert_array_equal(boxes, [[2, 3, 5, 9], [10, 20, 19, 23]])
    np.testing.assert_array_equal(labels > 0, mask > 0)
    labels, boxes = windows.hole_components(np.zeros((5, 5)))
    assert boxes.shape == (0, 4) and not labels.any()


def test_context_margins_follow_the_rule():
    boxes = np.array([[0, 0, 10, 20], [0, 0, 100, 30], [0, 0, 500, 400]])
    np.testing.assert_array_equal(windows.context_margins(boxes), [32, 50, 250])
    np.testing.assert_array_equal(windows.context_margins(boxes, limit=101), [32, 50, 101])
    np.testing.assert_array_equal(windows.context_margins(boxes, context=7), [7, 7, 7])
    np.testing.assert_array_equal(
        windows.context_margins(boxes, min_context=4, ratio=0.1), [4, 10, 50])


def test_grown_boxes_are_clipped_and_aligned_outwards():
    boxes = np.array([[40, 40, 50, 50], [5, 90, 10, 99]])
    grown = windows.grown_boxes(boxes, [10, 10], (100, 101), multiple=16)
    np.testing.assert_array_equal(grown, [[16, 16, 64, 64], [0, 80, 32, 101]])


def test_group_boxes_merges_overlapping_touching_and_chained_boxes():
    boxes = np.array([[0, 0, 16, 16], [8, 8, 24, 24],  # overlap
                      [0, 48, 16, 64], [16, 48, 32, 64],  # share an edge
                      [80, 80, 96, 96]])  # alone
    groups = windows.group_boxes(boxes, (128, 128), cell=8)
    found = {box: list(members) for box, members in groups}
    assert found == {(0, 0, 24, 24): [0, 1], (0, 48, 32, 64): [2, 3], (80, 80, 96, 96): [4]}
    # The union of two boxes holds a third that neither touches: merged in a second round.
    chained = windows.group_boxes(np.array([[0, 0, 16, 16], [8, 8, 24, 24], [18, 0, 22, 4]]),
                                  (32, 32), cell=1)
    assert [(box, list(members)) for box, members in chained] == [((0, 0, 24, 24), [0, 1, 2])]
    # Corners that only meet diagonally stay apart.
    apart = windows.group_boxes(np.array([[0, 0, 8, 8], [8, 8, 16, 16]]), (16, 16), cell=8)
    assert len(apart) == 2


def _check_windows(mask, labels, found, multiple, context):
    """Every hole pixel written by exactly one window, with its context, on the grid;
    windows of whole groups (not tiles) never overlap."""
    height, width = labels.shape
    writes = np.zeros((height, width), int)
    cover = np.zeros((height, width), int)
    for w in found:
        assert w.top % multiple == 0 and w.left % multiple == 0
        assert w.bottom % multiple == 0 or w.bottom == height
        assert w.right % multiple == 0 or w.right == width
        assert w.height % multiple == 0 and w.width % multiple == 0
        assert 0 <= w.height - (w.bottom - w.top) < multiple
        if w.core is None:
            cover[w.top:w.bottom, w.left:w.right] += 1
        part, owned = windows.owned_pixels(labels, w)
        writes[part] += owned
        ys, xs = np.nonzero(owned)
        top, left = part[0].start + ys.min(), part[1].start + xs.min()
        bottom, right = part[0].start + ys.max() + 1, part[1].start + xs.max() + 1
        assert top - w.top >= min(context, top) and left - w.left >= min(context, left)
        assert w.bottom - bottom >= min(context, height - bottom)
        assert w.right - right >= min(context, width - right)
    np.testing.assert_array_equal(writes, mask > 0)
    assert cover.max() <= 1


@pytest.mark.parametrize("seed", range(6))
def test_hole_windows_own_every_hole_once_with_its_context(seed):
    rng = np.random.default_rng(seed)
    height, width = rng.integers(60, 400, 2)
    spots = [(int(rng.integers(0, height)), int(rng.integers(0, width)),
              int(rng.integers(2, 40))) for _ in range(rng.integers(1, 15))]
    mask = blemishes(height, width, spots, seed)
    multiple = int(rng.choice([1, 4, 16]))
    context = int(rng.integers(0, 40))
    labels, found = windows.hole_windows(mask, multiple=multiple, context=context,
                                         bucket=None)
    _check_windows(mask, labels, found, multiple, context)
    # Buckets only grow windows (inside the image), to multiples of the bucket.
    _, bucketed = windows.hole_windows(mask, multiple=multiple, context=context, bucket=32)
    for plain, grown in zip(found, bucketed):
        assert plain.labels == grown.labels
        assert grown.top <= plain.top and grown.left <= plain.left
        assert grown.bottom >= plain.bottom and grown.right >= plain.right
        assert grown.height % 32 == 0 or grown.bottom - grown.top == height
        assert grown.width % 32 == 0 or grown.right - grown.left == width


def test_hole_windows_of_a_mask_without_holes_is_empty():
    labels, found = windows.hole_windows(np.zeros((40, 50)), multiple=16)
    assert found == [] and not labels.any()


def test_fixed_size_windows_centre_small_groups_and_cut_large_ones_into_tiles():
    mask = np.zeros((300, 451), np.uint8)
    mask[100:110, 200:212] = 1  # small: a 64 x 64 window around it
    mask[2:6, 2:6] = 1  # in a corner: the window shifts inside the image
    mask[200:290, 300:340] = 1  # 90 px high: tiles of the fixed size
    labels, found = windows.fixed_size_windows(mask, (64, 64))
    by_label = {}
    for w in found:
        by_label.setdefault(w.labels, []).append(w)
    (small,), (corner,), large = by_label[(2,)], by_label[(1,)], by_label[(3,)]
    assert (small.top, small.left, small.size, small.core) == (73, 174, (64, 64), None)
    assert small.bottom - small.top == 64 and small.right - small.left == 64
    assert (corner.top, corner.left, corner.bottom, corner.right) == (0, 0, 64, 64)
    # Depth 20 (half the 40-px side): a margin of 16, a quarter of 64, so cores of
    # 32 x 32: rows 192-224-256-288-300, columns 288-320-352.
    assert {w.size for w in large} == {(64, 64)}
    assert sorted(w.core for w in large) == [
        (row, col, min(row + 32, 300), col + 32) for row in (192, 224, 256, 288)
        for col in (288, 320)]
    for w in large:  # each tile's window is centred on its own pixels
        part, owned = windows.owned_pixels(labels, w)
        ys, xs = np.nonzero(owned)
        centre = (part[0].start + (ys.min() + ys.max() + 1) / 2,
                  part[1].start + (xs.min() + xs.max() + 1) / 2)
        assert abs(w.top + 32 - centre[0]) <= 1 or w.bottom == 300
        assert abs(w.left + 32 - centre[1]) <= 1
    # An image smaller than the fixed size: the whole image, mirror-padded.
    labels, (only,) = windows.fixed_size_windows(mask[:40, :50], (64, 64))
    assert (only.top, only.left, only.bottom, only.right, only.size) == (0, 0, 40, 50, (64, 64))


def test_crop_pads_like_the_whole_pass_and_paste_writes_only_owned_holes():
    array = np.arange(5 * 6 * 2, dtype=np.float32).reshape(5, 6, 2)
    window = windows.Window(0, 2, 3, 5, 6, 4, 4, (1,))
    np.testing.assert_array_equal(windows.crop(array, window),
                                  np.pad(array[2:, 3:], ((0, 1), (0, 1), (0, 0)), "symmetric"))
    labels = np.zeros((5, 6), np.int32)
    labels[3, 4], labels[4, 5] = 1, 2
    target = np.zeros((5, 6, 2), np.float32)
    windows.paste(target, labels, window, np.ones((4, 4, 2), np.float32))
    assert target[3, 4].tolist() == [1, 1] and target.sum() == 2  # label 2 is not its own
    # A tile writes its holes' pixels inside its core only.
    labels[2, 3] = 1
    tile = windows.Window(0, 2, 3, 5, 6, 4, 4, (1, 2), core=(3, 0, 5, 5))
    target = np.zeros((5, 6, 2), np.float32)
    windows.paste(target, labels, tile, np.full((4, 4, 2), 7, np.float32))
    assert np.argwhere(target[..., 0]).tolist() == [[3, 4]]


# --------------------------------------------------------------------------- inpaint


def _spread(model, seed=0):
    """He-normal kernels and random biases: outputs that depend on their whole field."""
    rng = np.random.default_rng(seed)
    for weight in model.trainable_weights:
        shape = tuple(weight.shape)
        if len(shape) == 4:
            weight.assign(rng.normal(0, np.sqrt(2 / np.prod(shape[:3])), shape)
                          .astype(np.float32))
        elif weight.path.endswith("bias"):
            weight.assign(rng.normal(0, 0.1, shape).astype(np.float32))
    return model


TINY_PCONV = dict(encoder=((4, 3), (8, 3)), stride_one_first=True, decoder=((8, 8), (4, 3)),
                  decoder_kernel=3, batch_norm=False, decoder_activation="relu",
                  final_conv=True)
FAMILIES = {
    "unet_autoencoder": lambda: _spread(build_unet_autoencoder(
        (None, None, 3), filters=(4, 8), bottleneck_filters=8, mask_as_input=True)),
    "pconv_unet": lambda: _spread(build_pconv_unet((None, None, 3), preset=TINY_PCONV)),
    "glcic_generator": lambda: _spread(build_glcic_generator((None, None, 3))),
    "inpainting_gan": lambda: InpaintingGAN(_spread(tiny_generator()), tiny_discriminator()),
}


@pytest.mark.parametrize("family", FAMILIES)
def test_windows_equal_the_whole_pass_given_the_receptive_radius(family):
    keras.utils.set_random_seed(0)
    model = FAMILIES[family]()
    radius = -(-receptive_field(model) // 2)
    size = (200, 280) if family == "glcic_generator" else (120, 200)  # its radius: 151
    image = photo_like(*size)
    mask = blemishes(*size, [(3, 5, 6), (60, 100, 10), (115, 195, 8)])
    whole = inpaint(model, image, mask, windows=False)
    recorder = Recorder(model.generator if family == "inpainting_gan" else model)
    windowed = inpaint(recorder, image, mask, windows=True, context=radius)
    hole = np.broadcast_to(mask[..., None] > 0, image.shape)
    np.testing.assert_array_equal(windowed[~hole], image[~hole])
    np.testing.assert_allclose(windowed[hole], whole[hole], rtol=0, atol=EXACT)
    assert np.abs(windowed - image)[hole].mean() > 1e-3  # the model filled them
    if family != "glcic_generator":  # its windows hold the whole image
        assert recorder.pixels < 0.8 * size[0] * size[1]
    if radius > 16:  # (windows are at least 32 px: the tiny GAN's 4 px are always there)
        # Too little context changes the result: the test can tell.
        narrow = inpaint(model, image, mask, windows=True, context=2)
        assert np.abs(narrow - whole)[hole].max() > 10 * EXACT


def test_receptive_field_is_unknown_for_global_layers_and_non_graphs():
    image = keras.Input((8, 8, 3), name="image")
    mask = keras.Input((8, 8, 1), name="mask")
    x = keras.layers.Dense(192)(keras.layers.Flatten()(image))
    flat = keras.Model({"image": image, "mask": mask}, keras.layers.Reshape((8, 8, 3))(x))
    assert receptive_field(flat) is None
    assert receptive_field(object()) is None


def test_receptive_field_of_the_library_networks():
    assert receptive_field(build_unet_autoencoder((None, None, 3))) == 202
    assert receptive_field(build_glcic_generator((None, None, 3))) == 301
    assert receptive_field(build_tiny_inpainting_model(2)) == 5
    gan = InpaintingGAN(tiny_generator(), tiny_discriminator())
    assert receptive_field(gan) == receptive_field(gan.generator)
    assert size_multiple(gan.generator) == 2


@pytest.fixture(scope="module")
def released():
    from inpaint_tf import pretrained

    return pretrained("own_unet_irregular")


@pytest.fixture(scope="module")
def photo():
    image = photo_like(300, 451)
    return image, blemishes(300, 451, SPOTS)


def test_released_unet_windows_equal_the_whole_pass_within_the_stated_tolerance(
        released, photo):
    image, mask = photo
    uint8 = np.round(image * 255).astype(np.uint8)
    whole = inpaint(released, uint8, mask, windows=False)
    recorder = Recorder(released)
    windowed = inpaint(recorder, uint8, mask, windows=True)
    hole = np.broadcast_to(mask[..., None] > 0, image.shape)
    np.testing.assert_array_equal(windowed[~hole], (uint8 / np.float32(255))[~hole])
    difference = np.abs(windowed - whole)[hole]
    assert difference.max() <= DEFAULT_MAX
    assert -10 * np.log10(max(np.mean(difference ** 2), 1e-30)) >= DEFAULT_PSNR
    # The network saw the windows and nothing else: a bound from the rule, and far
    # less than the photo.
    _, found = windows.hole_windows(mask, multiple=16, limit=101)
    assert 1 < len(found) < len(SPOTS)  # nearby holes share a window
    assert recorder.pixels == sum(w.pixels for w in found) < 0.7 * 304 * 464
    assert {shape[1:3] for shape in recorder.calls} == {w.size for w in found}
    # Two thirds of the image: "auto" runs the whole image instead (the rule: half).
    recorder = Recorder(released)
    np.testing.assert_array_equal(inpaint(recorder, uint8, mask), whole)
    assert recorder.calls == [(1, 304, 464, 3)]


def test_the_network_never_sees_a_photo_s_untouched_area(released):
    image = photo_like(480, 720, seed=2)
    mask = blemishes(480, 720, [(100, 100, 12), (300, 500, 18), (470, 20, 8), (200, 650, 14)])
    recorder = Recorder(released)
    out = inpaint(recorder, image, mask)  # "auto": windows
    _, found = windows.hole_windows(mask, multiple=16, limit=101)
    assert recorder.pixels == sum(w.pixels for w in found) <= 0.1 * 480 * 720
    hole = np.broadcast_to(mask[..., None] > 0, image.shape)
    np.testing.assert_array_equal(out[~hole], image[~hole])


def test_auto_picks_the_whole_pass_when_windows_would_cover_most_of_the_image(released):
    image = photo_like(64, 96)
    mask = blemishes(64, 96, [(10, 10, 6), (50, 80, 6)])
    recorder = Recorder(released)
    inpaint(recorder, image, mask)
    assert recorder.calls == [(1, 64, 96, 3)]


def test_a_mask_without_holes_never_calls_the_model(released):
    image = photo_like(40, 50)
    for mode in ("auto", True, False):
        recorder = Recorder(released)
        out = inpaint(recorder, image, np.zeros((40, 50)), windows=mode)
        assert recorder.calls == [] and np.array_equal(out, image)


def test_a_batch_mixes_windowed_whole_and_untouched_images(released):
    images = np.stack([photo_like(128, 160, seed) for seed in range(3)])
    masks = np.zeros((3, 128, 160), np.uint8)
    masks[0, 60:70, 70:80] = 1  # windows
    masks[2] = blemishes(128, 160, [(20, 20, 30), (100, 130, 30), (20, 140, 20)])  # whole
    out = inpaint(released, images, masks, batch_size=2)
    for index in range(3):
        alone = inpaint(released, images[index], masks[index])
        np.testing.assert_allclose(out[index], alone, rtol=0, atol=EXACT)
    np.testing.assert_array_equal(out[1], images[1])


@pytest.mark.parametrize("options, message", [
    (dict(windows="yes"), "windows='yes'"), (dict(windows=1), "windows=1"),
    (dict(context=-1), "context=-1"), (dict(context=2.5), "context=2.5"),
    (dict(window_size=(64, 0)), "window_size=0"), (dict(window_size=(8, 8, 8)), "window_size"),
])
def test_inpaint_rejects_bad_window_options(options, message, tiny_model):
    image, mask = photo_like(16, 16), np.ones((16, 16))
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        inpaint(tiny_model, image, mask, **options)


def test_keras_model_at_a_fixed_window_size_fills_large_holes_in_tiles(released, photo):
    image, mask = photo
    out = inpaint(released, image, mask, window_size=64)
    hole = np.broadcast_to(mask[..., None] > 0, image.shape)
    np.testing.assert_array_equal(out[~hole], image[~hole])
    assert np.all(np.isfinite(out)) and np.all((out >= 0) & (out <= 1))
    # Filled from the surroundings: far closer to the truth than the input's hole content.
    damaged = np.where(hole, 1.0, image)
    again = inpaint(released, damaged, mask, window_size=64)
    np.testing.assert_array_equal(again, out)  # hole content is never read
    assert np.abs(out - image)[hole].mean() < 0.5 * np.abs(damaged - image)[hole].mean()


# --------------------------------------------------------------------------- exported files


def test_an_onnx_file_of_64x64_inpaints_a_photo_of_any_size(released, photo, tmp_path):
    from inpaint_tf.export import export_onnx, load_exported

    image, mask = photo
    path = export_onnx(released, tmp_path / "unet64.onnx", height=64, width=64)
    served = load_exported(path)
    assert served.fixed_size == (64, 64) and served.format == "onnx"
    uint8 = np.round(image * 255).astype(np.uint8)
    out = inpaint(served, uint8, mask)
    assert out.shape == (300, 451, 3) and out.dtype == np.float32
    hole = np.broadcast_to(mask[..., None] > 0, image.shape)
    np.testing.assert_array_equal(out[~hole], (uint8 / np.float32(255))[~hole])
    keras_out = inpaint(released, uint8, mask, window_size=64)
    np.testing.assert_allclose(out[hole], keras_out[hole], rtol=0, atol=FILE_TOLERANCE)
    with pytest.raises(ValueError, match="windows=False"):
        inpaint(served, uint8, mask, windows=False)
    with pytest.raises(ValueError, match="64x64 only"):
        served({"image": image[None, :32, :32], "mask": mask[None, :32, :32, None]})


def test_tflite_and_onnx_files_of_a_tiny_model_serve_any_size(tiny_model, tmp_path):
    from inpaint_tf.export import export_onnx, export_tflite, load_exported

    image = photo_like(70, 90)
    mask = blemishes(70, 90, [(5, 5, 6), (40, 60, 12), (69, 89, 8)])
    expected = inpaint(tiny_model, image, mask, window_size=(16, 24))
    for path in (export_onnx(tiny_model, tmp_path / "t.onnx", height=16, width=24),
                 export_tflite(tiny_model, tmp_path / "t.tflite", height=16, width=24)):
        served = load_exported(path)
        assert served.fixed_size == (16, 24)
        np.testing.assert_allclose(inpaint(served, image, mask), expected, rtol=0,
                                   atol=FILE_TOLERANCE)
        with pytest.raises(ValueError, match="window_size"):
            inpaint(served, image, mask, window_size=32)
