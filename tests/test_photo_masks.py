"""Free-form masks for images of any size, and the fixed masks of photo sets."""

import shutil

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
    from inpaint_tf.evaluation import evaluate

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
