import numpy as np
import pytest

from inpaint_tf.compositing import fill_holes
from inpaint_tf.evaluation import baselines as B
from inpaint_tf.masks import generate_masks


@pytest.fixture
def batch(tiny_images):
    images = tiny_images.astype(np.float32) / 255.0
    masks = generate_masks("center_box", len(images), seed=0).astype(np.float32)
    return images, masks, fill_holes(images, masks, 0.0)


def test_identity_returns_its_input(batch):
    _, masks, masked = batch
    np.testing.assert_array_equal(B.IdentityBaseline().predict(masked, masks), masked)


def test_mean_fill_uses_each_images_known_mean(batch):
    images, masks, masked = batch
    out = B.MeanFillBaseline().predict(masked, masks)
    for image, mask, result in zip(images, masks, out):
        known = mask[..., 0] == 0
        expected = image[known].mean(axis=0)
        np.testing.assert_allclose(result[~known], np.broadcast_to(expected, result[~known].shape),
                                   rtol=1e-5)
        np.testing.assert_array_equal(result[known], image[known])


@pytest.mark.parametrize("baseline", [B.TeleaBaseline(), B.NavierStokesBaseline()])
def test_opencv_baselines_keep_known_pixels_and_beat_the_fill(batch, baseline):
    images, masks, masked = batch
    out = baseline.predict(masked, masks)
    known = np.broadcast_to(masks == 0, images.shape)
    np.testing.assert_array_equal(out[known], images[known])  # uint8-exact images round-trip
    hole = ~known
    # On smooth synthetic images, diffusion from the border is far better than zeros.
    assert np.abs(out[hole] - images[hole]).mean() < 0.3 * np.abs(images[hole]).mean()


def test_unknown_opencv_method_raises():
    with pytest.raises(ValueError, match="method"):
        B.OpenCVBaseline("patchmatch")


def test_baselines_check_their_inputs(batch):
    _, masks, masked = batch
    with pytest.raises(ValueError, match="masked_images"):
        B.TeleaBaseline().predict(masked[..., :1], masks)
    with pytest.raises(ValueError, match="must lie in"):
        B.TeleaBaseline().predict(masked * 3, masks)


def test_run_baselines_table(batch):
    images, masks, _ = batch
    table = B.run_baselines(images, masks, mask_kind="center_box")
    assert table["name"].tolist() == ["identity", "mean_fill", "navier_stokes", "telea",
                                      "biharmonic", "fsr_fast"]  # fsr_best is slow
    psnr = dict(zip(table["name"], table["hole_psnr"]))
    assert psnr["navier_stokes"] > psnr["mean_fill"] > psnr["identity"]
    assert psnr["biharmonic"] > psnr["mean_fill"] and psnr["fsr_fast"] > psnr["mean_fill"]
    assert (table["ms_per_image"] > 0).all()


# --------------------------------------------------------------------------- biharmonic

# The discrete bilaplacian (the 5-point Laplacian applied twice): 13 points.
STENCIL = {(0, 0): 20.0, (-1, 0): -8.0, (1, 0): -8.0, (0, -1): -8.0, (0, 1): -8.0,
           (-1, -1): 2.0, (-1, 1): 2.0, (1, -1): 2.0, (1, 1): 2.0,
           (-2, 0): 1.0, (2, 0): 1.0, (0, -2): 1.0, (0, 2): 1.0}


def biharmonic_reference(image: np.ndarray, hole: np.ndarray, clip: bool = True) -> np.ndarray:
    """Solves bilaplacian(u) = 0 at every hole pixel (holes at least 2 pixels from the
    border), the known pixels given, with a dense NumPy solve per channel; then, as
    scikit-image documents, clips each channel to the range of its known pixels."""
    unknown = list(zip(*np.nonzero(hole)))
    index = {pixel: number for number, pixel in enumerate(unknown)}
    matrix = np.zeros((len(unknown), len(unknown)))
    rhs = np.zeros((len(unknown), image.shape[-1]))
    for row, (y, x) in enumerate(unknown):
        for (dy, dx), weight in STENCIL.items():
            neighbour = (y + dy, x + dx)
            if neighbour in index:
                matrix[row, index[neighbour]] += weight
            else:
                rhs[row] -= weight * image[neighbour]
    out = image.astype(np.float64).copy()
    out[hole] = np.linalg.solve(matrix, rhs)
    if clip:
        out = np.clip(out, image[~hole].min(axis=0), image[~hole].max(axis=0))
    return out


def test_biharmonic_solves_the_biharmonic_equation(rng):
    image = rng.uniform(0.3, 0.7, (12, 14, 3))
    hole = np.zeros((12, 14), bool)
    hole[3:8, 4:9] = True
    hole[8, 6] = True  # not a rectangle
    expected = biharmonic_reference(image, hole)
    out = B.BiharmonicBaseline().predict(image[None] * ~hole[None, ..., None], hole[None])
    assert out.dtype == np.float32 and out.shape == (1, 12, 14, 3)
    np.testing.assert_allclose(out[0], expected, atol=1e-6)
    np.testing.assert_array_equal(out[0][~hole], image[~hole].astype(np.float32))


def test_biharmonic_clips_its_overshoot_to_the_known_range_per_channel():
    checkerboard = np.indices((12, 12)).sum(axis=0) % 2
    image = np.stack([0.2 + 0.6 * checkerboard, 0.1 + 0.3 * checkerboard,
                      0.5 + 0 * checkerboard], -1)
    hole = np.zeros((12, 12), bool)
    hole[4:8, 4:8] = True
    solution = biharmonic_reference(image, hole, clip=False)
    assert solution[..., 0].min() < 0.195 and solution[..., 0].max() > 0.805  # overshoots
    assert solution[..., 1].min() < 0.098 and solution[..., 1].max() > 0.402
    out = B.BiharmonicBaseline().predict(image[None], hole[None])[0]
    np.testing.assert_allclose(out, biharmonic_reference(image, hole), atol=1e-6)
    assert out[..., 0].min() == np.float32(0.2) and out[..., 1].max() == np.float32(0.4)


def test_biharmonic_fills_constants_and_ramps_exactly():
    y, x = np.mgrid[0:24, 0:30]
    ramp = np.stack([x / 29, y / 23, 0.5 + 0 * x], -1)
    hole = np.zeros((24, 30), bool)
    hole[5:15, 2:12] = True
    hole[20, 14:28] = True
    images = np.stack([ramp, np.full_like(ramp, 0.25)])
    out = B.BiharmonicBaseline().predict(images, np.stack([hole, hole]))
    np.testing.assert_allclose(out, images, atol=1e-5)


# --------------------------------------------------------------------------- FSR


def fsr_reference(image_rgb: np.ndarray, hole: np.ndarray, flag: int) -> np.ndarray:
    """cv2.xphoto.inpaint called as its documentation says: 8-bit BGR, mask 1 = known."""
    import cv2

    bgr = np.ascontiguousarray(image_rgb[..., ::-1])
    out = np.zeros_like(bgr)
    cv2.xphoto.inpaint(bgr, (~hole).astype(np.uint8), out, flag)
    return out[..., ::-1]


def _photo_like(rng, height=40, width=48):
    y, x = np.mgrid[0:height, 0:width]
    image = np.stack([x / width, y / height, 0.5 + 0.4 * np.sin(x / 5 + y / 7)], -1)
    return np.round(255 * np.clip(image + rng.normal(0, 0.05, image.shape), 0, 1)
                    ).astype(np.uint8)


@pytest.mark.parametrize("quality", ["fast", "best"])
def test_fsr_is_opencvs_on_the_bgr_image_with_known_pixels_kept(rng, quality):
    import cv2

    image = _photo_like(rng)
    hole = np.zeros(image.shape[:2], bool)
    hole[10:22, 12:30] = True
    flag = {"fast": cv2.xphoto.INPAINT_FSR_FAST, "best": cv2.xphoto.INPAINT_FSR_BEST}[quality]
    reference = fsr_reference(image, hole, flag)
    baseline = B.BASELINES[f"fsr_{quality}"]()
    assert baseline.name == f"fsr_{quality}" and baseline.quality == quality
    out = baseline.predict(image[None] * ~hole[None, ..., None], hole[None])[0]
    np.testing.assert_array_equal(np.round(out[hole] * 255), reference[hole])
    np.testing.assert_array_equal(out[~hole], image[~hole] / np.float32(255))
    # FSR itself moves some known pixels by one level, and the channel order matters.
    assert (reference[~hole] != image[~hole]).any()
    rgb_order = fsr_reference(image[..., ::-1], hole, flag)[..., ::-1]
    assert (rgb_order[hole] != reference[hole]).any()


def test_fsr_fast_and_best_differ(rng):
    image = _photo_like(rng)[None]
    hole = np.zeros((1, 40, 48), bool)
    hole[0, 8:30, 10:34] = True
    fast = B.FSRBaseline("fast").predict(image, hole)
    best = B.FSRBaseline("best").predict(image, hole)
    assert np.abs(fast - best).max() > 0.01


@pytest.mark.parametrize("name", ["biharmonic", "fsr_fast"])
def test_images_without_holes_or_without_known_pixels_come_back_as_given(rng, name):
    images = np.stack([_photo_like(rng)] * 3).astype(np.float32) / 255
    masks = np.zeros((3, 40, 48, 1), np.float32)
    masks[1] = 1.0
    masks[2, 10:20, 10:20] = 1.0
    out = B.BASELINES[name]().predict(images * (1 - masks), masks)
    np.testing.assert_array_equal(out[0], images[0])
    np.testing.assert_array_equal(out[1], 0.0)  # all holes: nothing to fill them from
    filled = out[2][masks[2, ..., 0] > 0]
    assert np.abs(filled - images[2][masks[2, ..., 0] > 0]).mean() < 0.1
    np.testing.assert_array_equal(out[2][masks[2, ..., 0] == 0],
                                  images[2][masks[2, ..., 0] == 0])


def test_fsr_fills_a_constant_image_with_the_constant():
    image = np.full((1, 32, 40, 3), 100, np.uint8)
    hole = np.zeros((1, 32, 40), bool)
    hole[0, 8:20, 10:30] = True
    out = B.FSRBaseline("fast").predict(image, hole)
    np.testing.assert_array_equal(out, image / np.float32(255))


def test_unknown_fsr_quality_raises():
    with pytest.raises(ValueError, match="quality"):
        B.FSRBaseline("medium")


# --------------------------------------------------------------------------- availability


def test_fsr_without_opencv_contrib_names_the_fix(monkeypatch):
    import cv2

    monkeypatch.delattr(cv2, "xphoto")
    assert "pip install opencv-contrib-python-headless" in B.FSRBaseline.missing()
    with pytest.raises(ImportError, match="opencv-contrib-python-headless"):
        B.FSRBaseline("fast")
    with pytest.raises(ImportError, match="cv2.xphoto"):
        B.BASELINES["fsr_best"]()
    with pytest.warns(UserWarning, match="fsr_fast is left out: .*cv2.xphoto") as caught:
        assert B.available_baselines() == ("navier_stokes", "telea", "biharmonic")
    assert len(caught) == 2 and "fsr_best is left out" in str(caught[1].message)


def test_biharmonic_without_scikit_image_names_the_fix(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "skimage.restoration", None)  # import fails
    assert "inpaint-tf[classical]" in B.BiharmonicBaseline.missing()
    with pytest.raises(ImportError, match=r"inpaint-tf\[classical\]"):
        B.BiharmonicBaseline()
    with pytest.warns(UserWarning, match="biharmonic is left out") as caught:
        assert B.available_baselines(slow=True) == ("navier_stokes", "telea", "fsr_fast",
                                                    "fsr_best")
    assert len(caught) == 1


def test_available_baselines_keep_their_order_and_leave_the_slow_one_out(recwarn):
    assert B.CLASSICAL == ("navier_stokes", "telea", "biharmonic", "fsr_fast", "fsr_best")
    assert B.available_baselines() == B.CLASSICAL[:4]
    assert B.available_baselines(slow=True) == B.CLASSICAL
    assert B.available_baselines(("fsr_best", "telea", "identity")) == ("telea", "identity")
    assert B.available_baselines("fsr_best,telea", slow=True) == ("fsr_best", "telea")
    assert B.IdentityBaseline.missing() is None and B.TeleaBaseline.missing() is None
    assert not recwarn.list  # everything runs here: nothing to warn about


def test_a_missing_package_leaves_its_method_out_quietly_when_asked(monkeypatch, recwarn):
    import cv2

    monkeypatch.delattr(cv2, "xphoto")
    assert B.available_baselines(warn=False) == ("navier_stokes", "telea", "biharmonic")
    assert not recwarn.list


@pytest.mark.parametrize("names,expected", [
    ("telea", ("telea",)),
    ("telea, fsr_best", ("telea", "fsr_best")),
    (["identity", "biharmonic"], ("identity", "biharmonic")),
    (("fsr_fast",), ("fsr_fast",)),
])
def test_checked_baselines(names, expected):
    assert B.checked_baselines(names) == expected


@pytest.mark.parametrize("names,message", [
    ("telea,patchmatch", "Unknown baseline 'patchmatch'"),
    (["NS"], "Unknown baseline 'NS'"),
    ((), "No baselines"),
    ("telea,telea", "named twice"),
])
def test_checked_baselines_refuses(names, message):
    with pytest.raises(ValueError, match=message):
        B.checked_baselines(names)


def test_run_baselines_times_each_predict(batch, monkeypatch):
    images, masks, _ = batch
    clock = iter(range(0, 1000, 2))  # each reading 2 s after the last
    monkeypatch.setattr(B, "time", type("Clock", (), {"perf_counter": lambda: next(clock)}))
    table = B.run_baselines(images[:4], masks[:4], names="identity,telea")
    assert table["name"].tolist() == ["identity", "telea"]
    # One predict call per baseline (4 images in one chunk): 2 s over 4 images.
    assert table["ms_per_image"].tolist() == [500.0, 500.0]


def test_the_stopwatch_counts_a_failing_predict_too(monkeypatch):
    clock = iter([10.0, 13.5])
    monkeypatch.setattr(B, "time", type("Clock", (), {"perf_counter": lambda: next(clock)}))

    def failing(masked, masks):
        raise RuntimeError("no")

    watch = B._Stopwatch(failing)
    with pytest.raises(RuntimeError):
        watch(None, None)
    assert watch.seconds == 3.5


# --------------------------------------------------------------------------- OpenCV's, exactly


def _opencv_reference(masked, masks, radius, flag):
    import cv2

    pixels = np.round(masked * 255).astype(np.uint8)
    return np.stack([cv2.inpaint(p, m[..., 0].astype(np.uint8), radius, flag)
                     for p, m in zip(pixels, masks)]) / np.float32(255)


@pytest.mark.parametrize("make,radius,flag", [
    (lambda: B.TeleaBaseline(), 3, "INPAINT_TELEA"),
    (lambda: B.NavierStokesBaseline(), 3, "INPAINT_NS"),
    (lambda: B.OpenCVBaseline(), 3, "INPAINT_TELEA"),
    (lambda: B.TeleaBaseline(radius=7), 7, "INPAINT_TELEA"),
    (lambda: B.NavierStokesBaseline(radius=7), 7, "INPAINT_NS"),
    (lambda: B.OpenCVBaseline("navier_stokes", radius=1), 1, "INPAINT_NS"),
])
def test_opencv_baselines_are_cv2_inpaint_with_their_radius(batch, make, radius, flag):
    import cv2

    _, masks, masked = batch
    baseline = make()
    assert baseline.radius == radius
    assert baseline.name == {"INPAINT_TELEA": "telea", "INPAINT_NS": "navier_stokes"}[flag]
    expected = _opencv_reference(masked, masks, radius, getattr(cv2, flag))
    np.testing.assert_array_equal(baseline.predict(masked, masks), expected)
    other = _opencv_reference(masked, masks, radius + 2, getattr(cv2, flag))
    assert (other != expected).any()  # the radius shows in the figures


def test_mean_fill_of_an_image_with_one_known_pixel_is_that_pixel():
    image = np.full((1, 4, 4, 3), 0.6, np.float32)
    masks = np.ones((1, 4, 4, 1), np.float32)
    masks[0, 2, 1] = 0.0
    out = B.MeanFillBaseline().predict(image * (1 - masks), masks)
    np.testing.assert_allclose(out, image)
    everything = B.MeanFillBaseline().predict(np.zeros_like(image), np.ones_like(masks))
    np.testing.assert_array_equal(everything, 0.0)  # no known pixel: mean 0


def test_predict_names_its_arguments_and_checks_sizes(batch):
    _, masks, masked = batch
    with pytest.raises(ValueError, match="`masked_images` must have 3 channels"):
        B.IdentityBaseline().predict(masked[..., :2], masks)
    with pytest.raises(ValueError, match="`masks` must match the images"):
        B.IdentityBaseline().predict(masked, masks[:, :16])
    assert B.IdentityBaseline()(masked, masks) is not None  # __call__ is predict


def test_the_default_fsr_is_the_fast_one():
    assert B.FSRBaseline().quality == "fast" and B.FSRBaseline().name == "fsr_fast"


def test_the_missing_messages_name_the_installed_opencv(monkeypatch):
    import cv2

    monkeypatch.delattr(cv2, "xphoto")
    message = B.FSRBaseline.missing()
    assert f"(OpenCV {cv2.__version__} at {cv2.__file__})" in message
    assert message == B._NO_XPHOTO.format(version=cv2.__version__, path=cv2.__file__)


def test_run_baselines_passes_its_options_on(batch, monkeypatch):
    from inpaint_tf.evaluation import protocols

    images, masks, _ = batch
    seen = []
    real = protocols.evaluate

    def spy(predict, images, masks, **options):
        seen.append(options)
        return real(predict, images, masks, **options)

    monkeypatch.setattr(protocols, "evaluate", spy)
    table = B.run_baselines(images, masks, names=("identity",))
    assert seen[-1] == {"fill_value": 0.0, "name": "identity", "mask_kind": None,
                        "progress": False}
    assert table.loc[0, "masks"] == "custom"
    direct = real(B.IdentityBaseline().predict, images, masks, fill_value=0.0)
    assert table.loc[0, "hole_mae"] == direct["hole_mae"]
    table = B.run_baselines(images, masks, names=("identity",), mask_kind="center_box",
                            fill_value=0.5, progress=True)
    assert seen[-1] == {"fill_value": 0.5, "name": "identity", "mask_kind": "center_box",
                        "progress": True}
    assert table.loc[0, "masks"] == "center_box"


def test_the_stopwatch_adds_up_its_calls(monkeypatch):
    clock = iter([0.0, 1.0, 5.0, 7.5])
    monkeypatch.setattr(B, "time", type("Clock", (), {"perf_counter": lambda: next(clock)}))
    watch = B._Stopwatch(lambda masked, masks: masked)
    assert watch("a", None) == "a" and watch("b", None) == "b"
    assert watch.seconds == 3.5
