import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inpaint_tf import masks as M

DRAWS = 4000


def _box_extents(mask):
    rows = np.flatnonzero(mask[..., 0].any(axis=1))
    cols = np.flatnonzero(mask[..., 0].any(axis=0))
    return rows[0], rows[-1], cols[0], cols[-1]


def _assert_filled_rectangles(masks):
    """Every mask is one solid axis-aligned rectangle."""
    for mask in masks:
        top, bottom, left, right = _box_extents(mask)
        assert mask.sum() == (bottom - top + 1) * (right - left + 1)


def test_center_box_reproduces_the_study_holes():
    masks = M.center_box_masks(DRAWS, seed=0)
    _assert_filled_rectangles(masks)
    sides = set()
    for mask in masks:
        top, bottom, left, right = _box_extents(mask)
        side = bottom - top + 1
        assert side == right - left + 1
        b = side - 1  # cv2.rectangle from (x, y) to (x + b, y + b) fills b + 1 pixels
        assert top == left == (32 - b) // 2
        sides.add(side)
    assert sides == set(range(5, 11))


def test_center_box_matches_cv2_rectangle_drawing():
    # Independent reference: draw the study's rectangle with OpenCV itself.
    for b in range(4, 10):
        reference = np.zeros((32, 32), np.uint8)
        corner = (32 - b) // 2
        cv2.rectangle(reference, (corner, corner), (corner + b, corner + b), 1, -1)
        ours = M.center_box_masks(1, seed=0, size_range=(b, b))[0, ..., 0]
        np.testing.assert_array_equal(ours, reference)


def test_random_box_sizes_and_positions_stay_in_range():
    masks = M.random_box_masks(DRAWS, seed=1)
    _assert_filled_rectangles(masks)
    sides, corners = set(), set()
    for mask in masks:
        top, bottom, left, right = _box_extents(mask)
        side = bottom - top + 1
        assert side == right - left + 1
        b = side - 1
        assert 0 <= top <= 31 - b and 0 <= left <= 31 - b
        sides.add(side)
        corners.add((top, left))
    assert sides == set(range(6, 13))
    assert (0, 0) in corners or len(corners) > 300  # corners spread over the image


def test_random_box_touches_both_far_borders():
    masks = M.random_box_masks(DRAWS, seed=2)
    assert masks[:, 31, :, 0].any() and masks[:, :, 31, 0].any()
    assert masks[:, 0, :, 0].any() and masks[:, :, 0, 0].any()


def test_gan_rectangle_heights_and_widths_independent_5_to_11():
    masks = M.gan_rectangle_masks(DRAWS, seed=3)
    _assert_filled_rectangles(masks)
    shapes = set()
    for mask in masks:
        top, bottom, left, right = _box_extents(mask)
        shapes.add((bottom - top + 1, right - left + 1))
    assert shapes == {(h, w) for h in range(5, 12) for w in range(5, 12)}


def test_irregular_masks_are_strokes_of_the_study_ranges():
    masks = M.irregular_masks(DRAWS, seed=4)
    assert masks.dtype == np.uint8 and set(np.unique(masks)) <= {0, 1}
    assert masks.reshape(DRAWS, -1).sum(axis=1).min() > 0  # at least one stroke


def test_irregular_single_stroke_matches_cv2_line():
    rng = np.random.default_rng(7)
    mask = M.irregular_masks(1, seed=np.random.default_rng(7), strokes=(1, 1))[0, ..., 0]
    # Replay the same draws in the documented order.
    rng.integers(1, 2, size=1)
    xs = rng.integers(1, 32, size=(1, 2))
    ys = rng.integers(1, 32, size=(1, 2))
    width = rng.integers(1, 3, size=1)
    reference = np.zeros((32, 32), np.uint8)
    cv2.line(reference, (int(xs[0, 0]), int(ys[0, 0])), (int(xs[0, 1]), int(ys[0, 1])), 1,
             int(width[0]))
    np.testing.assert_array_equal(mask, reference)


@pytest.mark.parametrize("kind, expected", [
    ("center_box", 0.0578),  # mean of (b + 1)^2 for b in 4..9, over 1024 pixels
    ("random_box", 0.0830),  # (b + 1)^2 for b in 5..11
    ("gan_rectangle", 0.0625),  # E[h] E[w] = 8 * 8
    ("irregular", 0.148),  # reference figure of the study's strokes
])
def test_hole_share_matches_the_study(kind, expected):
    share = M.hole_share(M.generate_masks(kind, 20_000, seed=5))
    assert share == pytest.approx(expected, abs=0.002)


@pytest.mark.parametrize("kind", M.MASK_KINDS)
def test_same_seed_same_masks_other_seed_other_masks(kind):
    first = M.generate_masks(kind, 64, seed=11)
    np.testing.assert_array_equal(first, M.generate_masks(kind, 64, seed=11))
    np.testing.assert_array_equal(first, M.generate_masks(kind, 64, np.random.default_rng(11)))
    assert not np.array_equal(first, M.generate_masks(kind, 64, seed=12))


@pytest.mark.parametrize("kind", M.MASK_KINDS)
def test_other_image_sizes_scale_the_ranges(kind):
    masks = M.generate_masks(kind, 200, seed=0, height=64, width=96)
    assert masks.shape == (200, 64, 96, 1)
    # The area-controlled strokes aim at shares over 0-60 % (mean 0.27) at any size.
    high = 0.35 if kind == "irregular_area" else 0.25
    assert 0.02 < M.hole_share(masks) < high


# Stored checksums: the evaluation sets must be identical in every process and on
# every machine (NumPy's PCG64 streams and OpenCV's line drawing are fixed).
EVAL_CHECKSUMS = {
    "center_box": "239363112921",
    "random_box": "d770c9291252",
    "irregular": "3e3e05de5c0e",
    "gan_rectangle": "27c4e1d030c3",
    "boxes": "d784ce729fb6",
    "irregular_area": "b5a1acb4f651",
}


@pytest.mark.parametrize("kind", M.MASK_KINDS)
def test_eval_masks_match_the_stored_checksum(kind):
    checksum = M.mask_checksum(M.eval_masks(kind, 1000))
    assert checksum[:12] == EVAL_CHECKSUMS[kind]


def test_save_and_load_masks_round_trip(tmp_path):
    masks = M.eval_masks("irregular", 50)
    path = tmp_path / "set.npz"
    M.save_masks(path, masks, kind="irregular", seed=M.EVAL_SEED)
    loaded = M.load_masks(path)
    np.testing.assert_array_equal(loaded, masks)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_load_masks_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        M.load_masks(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="bad.npz"):
        M.load_masks(bad)
    other = tmp_path / "other.npz"
    np.savez(other, something=np.zeros(3))
    with pytest.raises(ValueError, match="no `masks`"):
        M.load_masks(other)


def test_load_mask_image_any_nonzero_is_a_hole(tmp_path):
    picture = np.zeros((20, 30, 3), np.uint8)
    picture[2:5, 3:9, 1] = 7  # a dim green mark still counts
    picture[10, 10] = 255
    path = tmp_path / "mask.png"
    cv2.imwrite(str(path), picture)
    mask = M.load_mask_image(path, size=(20, 30))
    assert mask.shape == (20, 30, 1)
    assert mask.sum() == 3 * 6 + 1
    with pytest.raises(ValueError, match="same size"):
        M.load_mask_image(path, size=(32, 32))


def test_load_mask_image_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        M.load_mask_image(tmp_path / "none.png")
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG broken")
    with pytest.raises(ValueError, match="corrupt"):
        M.load_mask_image(corrupt)


@pytest.mark.parametrize("call, message", [
    (lambda: M.generate_masks("circle", 4), "Unknown mask kind"),
    (lambda: M.generate_masks("irregular", 0), "n"),
    (lambda: M.generate_masks("random_box", 4, height=4, width=4), "at least 8x8"),
    (lambda: M.generate_masks("random_box", 4, height=0), "height"),
])
def test_bad_arguments_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(M.MASK_KINDS), n=st.integers(1, 8),
       height=st.integers(8, 80), width=st.integers(8, 80), seed=st.integers(0, 2**32))
def test_property_masks_are_binary_nonempty_and_in_bounds(kind, n, height, width, seed):
    masks = M.generate_masks(kind, n, seed=seed, height=height, width=width)
    assert masks.shape == (n, height, width, 1) and masks.dtype == np.uint8
    assert set(np.unique(masks)) <= {0, 1}
    assert (masks.reshape(n, -1).sum(axis=1) > 0).all()
    assert (masks.reshape(n, -1).mean(axis=1) < 1).all()  # never all hole
