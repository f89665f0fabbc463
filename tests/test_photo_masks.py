"""Free-form masks for images of any size, and the fixed masks of photo sets."""

import math
import shutil
from fractions import Fraction

import cv2
import numpy as np
import pytest

from inpaint_tf import masks as M
from inpaint_tf.masks import free_form as F

SIZES = [(256, 384), (512, 512), (1024, 768)]
STROKE_GENERATORS = {"thin_strokes": M.thin_stroke_masks,
                     "medium_strokes": M.medium_stroke_masks,
                     "thick_strokes": M.thick_stroke_masks}


def _scale(height, width):
    return min(height, width) / 512


def _distances(mask):
    """Each hole pixel's distance to the nearest known pixel (outside counts as known)."""
    padded = np.pad(mask.reshape(mask.shape[:2]), 1)
    return cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]


def _touches_border(mask):
    mask = mask[..., 0]
    return bool(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())


def _bin_index(shares, bins=M.AREA_BINS):
    """The bin of each share as `evaluate(..., area_bins=True)` assigns it."""
    index = np.full(len(shares), -1)
    for number, (low, high) in enumerate(bins):
        last = number == len(bins) - 1
        inside = (shares >= low) & ((shares < high) | (last & (shares <= high)))
        index[inside & (index < 0)] = number
    return index


@pytest.mark.parametrize("kind", M.FREE_FORM_KINDS)
@pytest.mark.parametrize("height, width", [(8, 8), (32, 32), (33, 47), (128, 96), (64, 6000)])
def test_masks_are_binary_uint8_nonempty_and_never_all_hole(kind, height, width):
    n = 10 if height * width < 100_000 else 5
    masks = M.generate_masks(kind, n, seed=0, height=height, width=width)
    assert masks.shape == (n, height, width, 1) and masks.dtype == np.uint8
    assert set(np.unique(masks)) <= {0, 1}
    shares = M.hole_shares(masks)
    assert (shares > 0).all() and (shares < 1).all()


def test_a_photo_of_6000_pixels_a_side_gets_every_kind_quickly():
    image = np.zeros((6000, 4000), np.uint8)
    for kind in M.FREE_FORM_KINDS:
        mask = M.photo_mask(kind, image)
        assert mask.shape == (6000, 4000, 1) and 0 < mask.mean() < 0.6


@pytest.mark.parametrize("kind", M.FREE_FORM_KINDS)
def test_same_seed_same_masks_other_seed_other_masks(kind):
    first = M.generate_masks(kind, 20, seed=5, height=96, width=128)
    np.testing.assert_array_equal(first, M.generate_masks(kind, 20, seed=5, height=96,
                                                          width=128))
    np.testing.assert_array_equal(
        first, M.generate_masks(kind, 20, np.random.default_rng(5), height=96, width=128))
    assert not np.array_equal(first, M.generate_masks(kind, 20, seed=6, height=96, width=128))


def test_generators_default_to_the_reference_size_and_check_arguments():
    assert M.blob_masks(1, seed=0).shape == (1, 512, 512, 1)
    with pytest.raises(ValueError, match="at least 8x8"):
        M.thin_stroke_masks(1, height=7)
    with pytest.raises(ValueError, match="n"):
        M.free_form_masks(0)
    with pytest.raises(ValueError, match="bins"):
        M.free_form_area_masks(1, bins=((0.5, 0.95),))
    assert set(M.ALL_MASK_KINDS) == set(M.MASK_GENERATORS)
    for kind in M.ALL_MASK_KINDS:
        assert M.check_mask_kind(kind) == kind


@pytest.mark.parametrize("kind", STROKE_GENERATORS)
@pytest.mark.parametrize("height, width", SIZES)
def test_one_segment_strokes_have_the_family_width_scaled(kind, height, width):
    low, high = np.array(F.STROKE_FAMILIES[kind]["thickness"]) * _scale(height, width)
    masks = STROKE_GENERATORS[kind](60, seed=1, height=height, width=width, strokes=(1, 1),
                                    segments=(1, 1))
    inside = [mask for mask in masks if not _touches_border(mask)]  # not cut by the border
    assert len(inside) > 20
    # A stroke w pixels wide is drawn (w - 1 .. w + 1) wide; the hole pixel farthest
    # from the known ones is half the drawn width away, within a pixel.
    radii = np.array([_distances(mask).max() for mask in inside])
    assert (radii >= low / 2 - 1).all() and (radii <= high / 2 + 1).all(), radii
    assert radii.mean() == pytest.approx((low + high) / 4 + 0.25, abs=0.05 * high + 0.6)


@pytest.mark.parametrize("kind", STROKE_GENERATORS)
@pytest.mark.parametrize("height, width", SIZES)
def test_stroke_masks_widths_stay_in_range_beyond_joints_and_crossings(kind, height, width):
    high = F.STROKE_FAMILIES[kind]["thickness"][1] * _scale(height, width)
    masks = M.generate_masks(kind, 30, seed=2, height=height, width=width)
    distances = np.concatenate([_distances(mask)[mask[..., 0] > 0] for mask in masks])
    # Joints and crossings are wider than a stroke; they are a few pixels in 100.
    assert np.percentile(distances, 95) <= high / 2 + 1


@pytest.mark.parametrize("height, width", SIZES)
def test_blobs_count_and_size(height, width):
    scale = _scale(height, width)
    masks = M.blob_masks(60, seed=3, height=height, width=width)
    counts, sides = [], []
    for mask in masks:
        number, _, stats, _ = cv2.connectedComponentsWithStats(mask[..., 0], connectivity=8)
        counts.append(number - 1)
        sides.extend(np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]))
    counts, sides = np.array(counts), np.array(sides)
    # 6..15 blobs per mask; blobs that touch merge into one component (rarely).
    assert counts.min() >= 1 and counts.max() <= 15
    assert 9.5 <= counts.mean() <= 10.6
    # 6..20 px across at 512: a blob's box side is 60..100 % of its size.
    assert np.mean(sides > 20 * scale + 1) < 0.02
    assert sides.min() >= 0.6 * 6 * scale - 1
    assert np.median(sides) == pytest.approx(0.85 * 13 * scale, rel=0.2)


@pytest.mark.parametrize("height, width", SIZES + [(33, 47), (100, 100)])
def test_object_boxes_are_one_box_of_12_to_20_percent_of_the_short_side(height, width):
    short = min(height, width)
    masks = M.object_box_masks(150, seed=4, height=height, width=width)
    heights, widths = [], []
    for mask in masks[..., 0]:
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        h, w = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
        assert mask.sum() == h * w  # one solid rectangle
        heights.append(h)
        widths.append(w)
    sides = np.array(heights + widths)
    assert (sides >= 0.12 * short).all() and (sides <= 0.20 * short).all()
    assert len(set(heights)) > 1 and not np.array_equal(heights, widths)  # independent
    corners = {tuple(np.argwhere(mask[..., 0])[0]) for mask in masks}
    assert len(corners) > 50  # placed all over the image


@pytest.mark.parametrize("kind", [*F.FREE_FORM_FAMILIES, "free_form"])
def test_hole_share_does_not_depend_on_the_image_size(kind):
    # The same seed draws the same shapes at both sizes, scaled: the shares differ by
    # the drawing's rounding only (measured: at most 5 %, for the blobs).
    shares = {}
    for side in (256, 1024):
        shares[side] = np.mean([M.hole_share(M.generate_masks(
            kind, 25, np.random.default_rng([7, chunk]), height=side, width=side))
            for chunk in range(8)])
    assert shares[1024] == pytest.approx(shares[256], rel=0.10)


def _is_one_box(mask):
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return mask.sum() == (rows[-1] - rows[0] + 1) * (cols[-1] - cols[0] + 1)


def _is_blobs(mask, scale):
    """Four components or more, none larger than a blob (99 % of blob masks)."""
    number, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    sides = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT])
    return number - 1 >= 4 and sides.max() <= 20 * scale + 2


def test_free_form_draws_each_family_for_a_fifth_of_the_masks():
    masks = M.free_form_masks(400, seed=8, height=128, width=128)[..., 0]
    boxes = np.mean([_is_one_box(mask) for mask in masks])
    blobs = np.mean([_is_blobs(mask, _scale(128, 128)) for mask in masks])
    assert 0.13 < boxes < 0.27 and 0.13 < blobs < 0.27  # each 0.2
    # The three stroke families: thick strokes cover the most.
    assert M.hole_shares(masks).max() > 0.15


@pytest.mark.parametrize("height, width", [(128, 128), (96, 160), (384, 512)])
def test_free_form_area_fills_every_bin_evenly_and_stays_inside(height, width):
    n = 25 if height * width > 100_000 else 100
    masks = M.free_form_area_masks(n, seed=9, height=height, width=width)
    index = _bin_index(M.hole_shares(masks))
    assert (index >= 0).all()
    assert np.bincount(index, minlength=5).tolist() == [n // 5] * 5
    assert ((index[1:] - index[:-1]) % 5 == 1).all()  # consecutive masks, consecutive bins


@pytest.mark.parametrize("tries", [1, 2, 10])
def test_free_form_area_ends_inside_even_a_narrow_bin(tries):
    # A 1 %-wide bin forces the rejected and partly drawn pieces.
    bins = ((0.0, 0.01), (0.2, 0.21), (0.55, 0.56))
    masks = M.free_form_area_masks(30, seed=10, height=96, width=128, bins=bins, tries=tries)
    index = _bin_index(M.hole_shares(masks), bins)
    assert np.bincount(index, minlength=3).tolist() == [10, 10, 10]


def test_evaluation_finds_every_area_bin_filled_evenly():
    from inpaint_tf.evaluation.protocols import evaluate

    masks = M.free_form_area_masks(20, seed=11, height=48, width=64)
    images = np.random.default_rng(0).uniform(size=(20, 48, 64, 3)).astype(np.float32)
    row = evaluate(lambda image, mask: image, images, masks, area_bins=True)
    assert [b["n"] for b in row["area_bins"]] == [4] * 5


def _photos():
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (h, w, 3), np.uint8)
            for h, w in [(48, 64), (100, 75), (128, 128), (300, 451)]]


def test_photo_mask_depends_on_pixels_seed_and_kind_only(tmp_path):
    photo = _photos()[3]
    mask = M.photo_mask("free_form", photo)
    assert mask.shape == (300, 451, 1) and mask.dtype == np.uint8
    np.testing.assert_array_equal(mask, M.photo_mask("free_form", photo.copy()))
    np.testing.assert_array_equal(mask, M.photo_mask("free_form", np.asfortranarray(photo)))
    other = photo.copy()
    other[0, 0, 0] ^= 1  # one pixel differs by one level
    assert not np.array_equal(mask, M.photo_mask("free_form", other))
    assert not np.array_equal(mask, M.photo_mask("free_form", photo, seed=M.EVAL_SEED + 1))
    assert not np.array_equal(M.photo_mask("blobs", photo), M.photo_mask("thin_strokes", photo))
    # The same pixels in another file: renamed, and saved again at another compression.
    cv2.imwrite(str(tmp_path / "photo.png"), photo)
    shutil.copy(tmp_path / "photo.png", tmp_path / "renamed copy.png")
    cv2.imwrite(str(tmp_path / "resaved.png"), photo, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    decoded = [cv2.imread(str(tmp_path / name))
               for name in ("photo.png", "renamed copy.png", "resaved.png")]
    first = M.photo_mask("blobs", decoded[0])
    for again in decoded[1:]:
        np.testing.assert_array_equal(first, M.photo_mask("blobs", again))


def test_photo_mask_of_a_grey_image_and_bad_arguments():
    grey = np.full((40, 60), 128, np.uint8)
    assert M.photo_mask("object_boxes", grey).shape == (40, 60, 1)
    with pytest.raises(ValueError, match="Unknown mask kind"):
        M.photo_mask("circles", grey)
    with pytest.raises(ValueError, match="seed"):
        M.photo_mask("blobs", grey, seed=-1)
    with pytest.raises(ValueError, match="one image"):
        M.photo_mask("blobs", np.zeros((2, 40, 60, 3), np.uint8))


def test_photo_masks_of_a_set_are_each_photos_own():
    photos = _photos()
    masks = M.eval_photo_masks("thin_strokes", photos)
    assert [m.shape[:2] for m in masks] == [p.shape[:2] for p in photos]
    # A photo's mask does not depend on the other photos of the set or its place in it.
    reordered = M.eval_photo_masks("thin_strokes", photos[::-1][:2])
    np.testing.assert_array_equal(reordered[0], masks[3])
    np.testing.assert_array_equal(reordered[1], masks[2])


def test_mask_set_checksum_names_sizes_order_and_pixels():
    masks = M.eval_photo_masks("blobs", _photos())
    checksum = M.mask_set_checksum(masks)
    assert checksum == M.mask_set_checksum([m[..., 0].astype(bool) for m in masks])
    assert checksum != M.mask_set_checksum(masks[::-1])
    assert checksum != M.mask_set_checksum(masks[:-1])
    flipped = [m.copy() for m in masks]
    flipped[2][5, 5, 0] ^= 1
    assert checksum != M.mask_set_checksum(flipped)
    with pytest.raises(ValueError, match=r"masks\[0\]"):
        M.mask_set_checksum([np.full((4, 4), 2)])


# Stored checksums of the photo masks of four synthetic photos: identical in every
# process and on every machine (NumPy's PCG64 and SeedSequence, SHA-256, CRC-32 and
# OpenCV's drawing are fixed).
PHOTO_SET_CHECKSUMS = {
    "thin_strokes": "f87ff290d531",
    "medium_strokes": "4e0847ffba0a",
    "thick_strokes": "449ae23f6a7e",
    "blobs": "536692927dce",
    "object_boxes": "158d466eaed2",
    "free_form": "2ec7becfff04",
    "small_holes": "5167f9e47fd0",
    "free_form_area": "18d58b434b10",
}


@pytest.mark.parametrize("kind", M.FREE_FORM_KINDS)
def test_photo_set_masks_match_the_stored_checksum(kind):
    checksum = M.mask_set_checksum(M.eval_photo_masks(kind, _photos()))
    assert checksum[:12] == PHOTO_SET_CHECKSUMS[kind]


def test_the_study_kinds_are_unchanged():
    assert M.MASK_KINDS == ("center_box", "random_box", "irregular", "gan_rectangle", "boxes",
                            "irregular_area")
    assert not set(M.MASK_KINDS) & set(M.FREE_FORM_KINDS)
    # Their fixed sets keep the checksums stored in tests/test_masks.py.
    assert M.mask_checksum(M.eval_masks("irregular", 1000))[:12] == "3e3e05de5c0e"
    assert M.mask_checksum(M.eval_masks("irregular_area", 1000))[:12] == "b5a1acb4f651"


def test_small_holes_draw_only_thin_and_medium_strokes_and_blobs():
    rng = np.random.default_rng(3)
    masks = M.small_hole_masks(300, rng, 512, 512)
    widths = [cv2.distanceTransform(m[..., 0], cv2.DIST_L2, 5).max() for m in masks]
    # Medium strokes are at most 20 px wide (half width 10; more where a stroke turns
    # back on itself); an object box (61 px and more, half width 30 and more) never appears,
    # and the typical mask is much thinner than the five-family mixture's.
    assert max(widths) < 30 and np.median(widths) <= 8
    assert min(m.sum() for m in masks) > 0
    shares = M.hole_shares(masks)
    assert shares.max() < 0.2 and 0.01 < shares.mean() < 0.05


# ------------------------------------------------- exact rules, boundaries and refusals

FREE_FORM_GENERATORS = [F.thin_stroke_masks, F.medium_stroke_masks, F.thick_stroke_masks,
                        F.blob_masks, F.object_box_masks, F.free_form_masks,
                        F.small_hole_masks, F.free_form_area_masks]


@pytest.mark.parametrize("generator", FREE_FORM_GENERATORS)
def test_every_free_form_generator_defaults_to_512_pixels_a_side(generator):
    assert generator(1, seed=0).shape == (1, 512, 512, 1)


@pytest.mark.parametrize("generator", FREE_FORM_GENERATORS)
def test_every_free_form_generator_names_a_bad_count(generator):
    for n in (0, -1, 2.0):
        with pytest.raises(ValueError, match=f"`n` must be a positive integer. Received: "
                                             f"n={n!r}"):
            generator(n, seed=0, height=16, width=16)


def _extent(mask):
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


@pytest.mark.parametrize("kind", STROKE_GENERATORS)
@pytest.mark.parametrize("side, width, drawn", [
    (512, 0, 1), (512, 1, 1), (512, 1.9, 1), (512, 2, 3), (512, 3, 3), (512, 4.9, 5),
    (512, 8, 9), (512, 13, 13), (512, 20, 21), (1024, 4, 9), (1024, 2.6, 5), (256, 9, 5),
    (256, 3, 1)])
def test_a_stroke_of_zero_length_is_a_dot_as_wide_as_the_stroke(kind, side, width, drawn):
    # One stroke of one segment of length 0: a round dot as wide as the stroke is drawn,
    # the odd 2 * floor(w / 2) + 1 pixels for w = width * side / 512 (at least 1).
    masks = STROKE_GENERATORS[kind](12, seed=12, height=side, width=side + 8, strokes=(1, 1),
                                    segments=(1, 1), length=(0.0, 0.0), thickness=(width, width))
    inside = [mask[..., 0] for mask in masks if not _touches_border(mask)]
    assert len(inside) >= 10
    for mask in inside:
        assert _extent(mask) == (drawn, drawn)


@pytest.mark.parametrize("kind", STROKE_GENERATORS)
@pytest.mark.parametrize("height, width", [(256, 384), (512, 512)])
def test_a_one_segment_stroke_is_as_long_as_its_length_share(kind, height, width):
    # One one-pixel stroke of one segment 20 % of the short side long: a straight line
    # whose end pixels are that far apart (each end rounded to a pixel: within 1.5).
    length = 0.2 * min(height, width)
    masks = STROKE_GENERATORS[kind](30, seed=13, height=height, width=width, strokes=(1, 1),
                                    segments=(1, 1), length=(0.2, 0.2), thickness=(0, 0))
    inside = [mask[..., 0] for mask in masks if not _touches_border(mask)]
    assert len(inside) >= 15
    for mask in inside:
        points = np.argwhere(mask).astype(float)
        span = np.sqrt(((points[:, None] - points[None]) ** 2).sum(-1)).max()
        assert abs(span - length) <= 1.5
        assert len(points) <= length + 2  # one pixel wide


def test_strokes_start_anywhere_in_the_image_and_end_clipped_to_it():
    # Dots one pixel across: the start, uniform over every pixel, edges included.
    dots = M.thin_stroke_masks(1500, seed=14, height=8, width=12, strokes=(1, 1),
                               segments=(1, 1), length=(0.0, 0.0), thickness=(0, 0))[..., 0]
    assert (dots.sum(axis=(1, 2)) == 1).all()
    rows, cols = np.nonzero(dots)[1:]
    assert set(rows.tolist()) == set(range(8)) and set(cols.tolist()) == set(range(12))
    # Segments 10 times the short side long: each coordinate of the end is clipped to the
    # image, so most lines end in a corner, and every corner is reached.
    lines = M.thin_stroke_masks(400, seed=15, height=8, width=12, strokes=(1, 1),
                                segments=(1, 1), length=(10.0, 10.0), thickness=(0, 0))[..., 0]
    corners = lines[:, [0, 0, -1, -1], [0, -1, 0, -1]]
    assert corners.any(axis=1).mean() > 0.7 and corners.any(axis=0).all()


def _box_range(short, side):
    """The integer sides in [side[0] * short, side[1] * short] computed in fractions;
    when there is none, the integer nearest to the middle of the range."""
    low = math.ceil(Fraction(str(side[0])) * short)
    high = math.floor(Fraction(str(side[1])) * short)
    if low > high:
        low = high = max(1, round((Fraction(str(side[0])) + Fraction(str(side[1]))) / 2 * short))
    return max(1, low), max(1, high)


@pytest.mark.parametrize("side", [(0.12, 0.20), (0.6, 0.7), (0.31, 0.32), (0.05, 0.9),
                                  (0.0, 0.05)])
def test_box_sides_are_the_integers_of_the_share_range_exactly(side):
    for short in range(8, 4001):
        assert F._box_sides(short, side) == _box_range(short, side), short


@pytest.mark.parametrize("height, width, side", [
    (8, 8, F.OBJECT_BOX_SIDE), (9, 9, F.OBJECT_BOX_SIDE), (10, 12, F.OBJECT_BOX_SIDE),
    (33, 47, F.OBJECT_BOX_SIDE), (100, 100, F.OBJECT_BOX_SIDE), (30, 40, (0.31, 0.32)),
    (100, 60, (0.6, 0.7))])
def test_object_boxes_take_every_side_of_their_range_and_every_place(height, width, side):
    low, high = _box_range(min(height, width), side)
    masks = M.object_box_masks(400, seed=16, height=height, width=width, side=side)[..., 0]
    heights, widths, tops, lefts = [], [], [], []
    for mask in masks:
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        h, w = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
        assert mask.sum() == h * w
        heights.append(h)
        widths.append(w)
        tops.append(rows[0])
        lefts.append(cols[0])
    sides = set(range(low, high + 1))
    assert set(heights) == sides and set(widths) == sides
    # Placed uniformly inside: both edges of the image are reached, never crossed.
    heights, widths = np.array(heights), np.array(widths)
    assert min(tops) == 0 and (tops + heights).max() == height
    assert min(lefts) == 0 and (lefts + widths).max() == width


def _counts_in_bin(low, high, pixels):
    """The hole-pixel counts 1..pixels-1 whose share count / pixels (in float64) lies in
    [low, high), found by trying every count."""
    counts = np.arange(1, pixels)
    shares = counts / pixels
    return counts[(shares >= low) & (shares < high)]


@pytest.mark.parametrize("pixels", [64, 91, 100, 1000, 96 * 128])
def test_count_range_is_every_count_whose_share_lies_in_the_bin(pixels):
    edges = [0.0, 0.01, 0.1, 0.2, 0.21, 0.25, 0.3, 1 / 3, 0.4, 0.5, 0.55, 0.56, 0.6, 0.9,
             1.0]
    edges += [1.5 / pixels, 1 - 1.5 / pixels, 0.2 + 0.5 / pixels]
    for low in edges:
        for high in edges:
            if low >= high:
                continue
            first, last = F._count_range(low, high, pixels)
            counts = _counts_in_bin(low, high, pixels)
            if counts.size:
                assert (first, last) == (counts[0], counts[-1]), (low, high)
            else:
                assert first > last, (low, high)


def test_count_range_takes_a_few_steps_at_any_pixel_count():
    # A 10^12-pixel mask: counting from 1 would never end; float64 shares still decide.
    pixels = 10**12 + 7
    for low, high in ((0.3, 0.7), (0.1, 0.2), (1 / 3, 0.4)):
        first = math.ceil(Fraction(low) * pixels)  # the exact edge, then float64's rounding
        while (first - 1) / pixels >= low:
            first -= 1
        last = math.ceil(Fraction(high) * pixels) - 1
        while last / pixels >= high:
            last -= 1
        assert F._count_range(low, high, pixels) == (first, last)


def test_free_form_area_reaches_a_bin_holding_one_count_from_either_edge():
    # 8 x 8 = 64 pixels: the bin [0, 1.5 / 64) holds only 1 hole pixel, [0.5, 0.51) only
    # 32 (32 / 64 = 0.5 is in it), [0.49, 0.5) none (32 / 64 is not below 0.5).
    one = M.free_form_area_masks(10, seed=17, height=8, width=8, bins=((0.0, 1.5 / 64),))
    assert (one.sum(axis=(1, 2, 3)) == 1).all()
    half = M.free_form_area_masks(10, seed=17, height=8, width=8, bins=((0.5, 0.51),))
    assert (half.sum(axis=(1, 2, 3)) == 32).all()
    with pytest.raises(ValueError, match="No hole-pixel count of a 8x8 mask"):
        M.free_form_area_masks(10, seed=17, height=8, width=8, bins=((0.49, 0.5),))
    with pytest.raises(ValueError, match="No hole-pixel count of a 8x9 mask"):
        M.free_form_area_masks(2, seed=17, height=8, width=9, bins=((0.1, 0.5), (0.53, 0.54)))


@pytest.mark.parametrize("tries", [0, -1, 2.0, True])
def test_free_form_area_refuses_a_bad_number_of_tries(tries):
    with pytest.raises(ValueError, match=f"`tries` must be a positive integer. Received: "
                                         f"tries={tries!r}"):
        M.free_form_area_masks(2, seed=0, height=16, width=16, tries=tries)


def test_free_form_area_tries_ten_pieces_by_default():
    # A bin one count wide (1,024 of 4,096 pixels): every step ends with a partial piece,
    # after `tries` rejected ones.
    bins = ((0.25, 0.25 + 0.5 / 4096),)
    masks = M.free_form_area_masks(6, seed=18, height=64, width=64, bins=bins)
    assert (masks.sum(axis=(1, 2, 3)) == 1024).all()
    np.testing.assert_array_equal(
        masks, M.free_form_area_masks(6, seed=18, height=64, width=64, bins=bins, tries=10))
    assert not np.array_equal(
        masks, M.free_form_area_masks(6, seed=18, height=64, width=64, bins=bins, tries=11))


def test_free_form_area_aims_at_shares_spread_over_the_bin():
    # Targets uniform in [0.05, 0.45): the shares spread over the bin, not at one edge.
    shares = M.hole_shares(M.free_form_area_masks(40, seed=0, height=64, width=64,
                                                  bins=((0.05, 0.45),)))
    assert ((shares >= 0.05) & (shares < 0.45)).all()
    assert shares.min() < 0.12 and shares.max() > 0.38 and 0.2 < shares.mean() < 0.33


class _Draws:
    """Stands in for a generator whose `random()` returns the values given, in order."""

    def __init__(self, values):
        self.values = list(values)

    def random(self):
        return self.values.pop(0)


class _SamePieces:
    """Stands in for `free_form._Pieces`: every piece is `shape` (a boolean image), drawn
    as it is, starting from `start` (x, y); records the kind asked for."""

    def __init__(self, shape, start, draws=()):
        self.shape, self.start, self.rng, self.kinds = shape, start, _Draws(draws), []

    def draw(self, mask, piece):
        self.kinds.append(piece)
        mask[self.shape] = 1
        return self.start


@pytest.mark.parametrize("tries, kinds, draws", [
    (1, [0], 1), (2, [0, 2], 1), (3, [0, 2, 2], 1), (4, [0, 1, 2, 2], 2),
    (5, [0, 1, 2, 2, 2], 2), (10, [0, 1, 1, 2, 0, 2, 2, 2, 2, 2], 5),
    (11, [0, 1, 1, 2, 0, 2, 2, 2, 2, 2, 2], 5)])
def test_a_rejected_piece_is_tried_again_then_only_blobs(tries, kinds, draws):
    # Medium stroke (0) for a draw under 0.4, thick stroke (1) under 0.8, else a blob (2);
    # after tries // 2 rejections (at least one: a single try is not always a blob) only
    # blobs, without a draw.
    shape = np.zeros((10, 10), bool)
    shape[2:5, 2:5] = True
    pieces = _SamePieces(shape, (3, 3), draws=[0.39999, 0.4, 0.79999, 0.8, 0.0])
    mask = np.zeros((10, 10), np.uint8)
    assert F._add_piece(mask, pieces, 0, 4, 8, tries) == 4  # 9 pixels: one too many
    assert pieces.kinds == kinds and len(pieces.rng.values) == 5 - draws


def test_a_piece_that_ends_at_the_last_count_is_kept():
    shape = np.zeros((10, 10), bool)
    shape[2:5, 2:5] = True
    pieces = _SamePieces(shape, (3, 3), draws=[0.5])
    mask = np.zeros((10, 10), np.uint8)
    mask[9, 9] = 1
    assert F._add_piece(mask, pieces, 1, 3, 10, tries=10) == 10  # 1 + 9 = 10: kept
    assert pieces.kinds == [1] and mask.sum() == 10 and mask[shape].all()


@pytest.mark.parametrize("new, expected", [
    (2, [(19, 21), (20, 20)]),
    (6, [(19, 21), (20, 20), (20, 22), (21, 21), (18, 21), (20, 19)]),
    (9, [(19, 21), (20, 20), (20, 22), (21, 21), (18, 21), (20, 19), (20, 23), (22, 21),
         (17, 21)])])
def test_the_last_rejected_piece_is_drawn_from_its_start_in_part(new, expected):
    # A cross through its start (x 21, y 20, already a hole): the new pixels nearest to
    # the start are kept, equal distances in row-major order (up, left, right, down).
    height = width = 44
    x, y = 21, 20
    shape = np.zeros((height, width), bool)
    shape[y, 2:42] = shape[2:42, x] = True
    mask = np.zeros((height, width), np.uint8)
    mask[y, x] = mask[0, 0] = 1
    pieces = _SamePieces(shape, (x, y), draws=[0.1] * 5)
    assert F._add_piece(mask, pieces, 2, 2 + new, 2 + new, tries=10) == 2 + new
    expected_mask = np.zeros_like(mask)
    expected_mask[y, x] = expected_mask[0, 0] = 1
    for row, col in expected:
        expected_mask[row, col] = 1
    np.testing.assert_array_equal(mask, expected_mask)


@pytest.mark.parametrize("centre, start", [
    ((7, 11), (7, 11)), ((0, 0), (0, 0)), ((29, 19), (29, 19)), ((-3, -4), (0, 0)),
    ((33, 22), (29, 19)), ((-1, 19), (0, 19)), ((29, -2), (29, 0))])
def test_a_blob_piece_starts_at_its_centre_inside_the_image(centre, start):
    # A 30 x 20 image; a square blob 4 pixels across its centre (points in 1/16 pixel).
    pieces = F._Pieces(np.random.default_rng(0), 20, 30)
    x, y = centre
    corners = [(x - 2, y - 2), (x + 2, y - 2), (x + 2, y + 2), (x - 2, y + 2)]
    pieces.queues[2].append(np.array(corners, np.int32) * 16)
    mask = np.zeros((20, 30), np.uint8)
    assert pieces.draw(mask, 2) == start
    expected = np.zeros((20 + 16, 30 + 16), np.uint8)  # the square, cut by the image
    expected[y + 6:y + 11, x + 6:x + 11] = 1
    np.testing.assert_array_equal(mask, expected[8:-8, 8:-8])


def test_a_stroke_piece_starts_at_its_first_vertex_and_draws_its_segments():
    pieces = F._Pieces(np.random.default_rng(0), 20, 30)
    vertices = [[3, 4], [10, 4], [10, 12], [20, 12]]
    pieces.queues[0].append((vertices, 2, 1))
    pieces.queues[1].append((vertices, 1, 1))
    expected = np.zeros((20, 30), np.uint8)
    expected[4, 3:11] = 1
    mask = np.zeros((20, 30), np.uint8)
    assert pieces.draw(mask, 1) == (3, 4)
    np.testing.assert_array_equal(mask, expected)  # one segment
    expected[4:13, 10] = 1
    mask = np.zeros((20, 30), np.uint8)
    assert pieces.draw(mask, 0) == (3, 4)
    np.testing.assert_array_equal(mask, expected)  # two segments
