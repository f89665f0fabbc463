"""The study's mask kinds and the mask sets, mask by mask: each generator is replayed
here from its documented draws (the same random numbers in the same order, drawn with
OpenCV or NumPy by hand) at sizes that are not square, so that a changed range, order,
offset or axis shows; the checksums, shares, labels and files against references
written here."""

from __future__ import annotations

import hashlib
import math
import zlib

import cv2
import numpy as np
import pytest

from inpaint_tf import masks as M
from inpaint_tf.masks import sets, study

H, W = 40, 48  # not square: a swapped height and width shows


def _box(height, width, top, left, bottom, right):
    mask = np.zeros((height, width), np.uint8)
    mask[top:bottom + 1, left:right + 1] = 1
    return mask


@pytest.mark.parametrize("value_range, height, width, expected", [
    ((4, 9), 32, 32, (4, 9)), ((4, 9), 64, 48, (6, 14)), ((4, 9), 16, 40, (2, 4)),
    ((5, 11), 8, 8, (1, 3)), ((1, 2), 8, 9, (1, 1)), ((1, 4), 96, 64, (2, 8)),
])
def test_ranges_scale_with_the_short_side(value_range, height, width, expected):
    assert study._scaled(value_range, height, width) == expected


def test_sizes_start_at_eight_pixels_each_way():
    assert study._check_size(8, 8) == (8, 8)
    for height, width in ((7, 100), (100, 7)):
        with pytest.raises(ValueError, match=f"at least 8x8 pixels. Received: {height}x{width}"):
            study._check_size(height, width)
    with pytest.raises(ValueError, match="`width` must be a positive integer"):
        study._check_size(8, 0)
    with pytest.raises(ValueError, match="`height` must be a positive integer"):
        study._check_size(8.0, 8)


def test_boxes_are_filled_with_both_corners_included():
    masks = study._boxes_to_masks(np.array([1, 0]), np.array([2, 5]), np.array([3, 0]),
                                  np.array([5, 6]), 6, 7)
    assert masks.shape == (2, 6, 7, 1) and masks.dtype == np.uint8
    np.testing.assert_array_equal(masks[0, ..., 0], _box(6, 7, 1, 2, 3, 5))
    np.testing.assert_array_equal(masks[1, ..., 0], _box(6, 7, 0, 5, 0, 6))


def test_the_seed_may_be_a_generator_used_as_it_is():
    rng = np.random.default_rng(3)
    assert study._rng(rng) is rng
    assert study._rng(3).integers(0, 10**9) == np.random.default_rng(3).integers(0, 10**9)


@pytest.mark.parametrize("height, width, size_range", [(32, 32, None), (H, W, None),
                                                       (W, H, (3, 7))])
def test_center_boxes_replayed(height, width, size_range):
    low, high = size_range or study._scaled((4, 9), height, width)
    sizes = np.random.default_rng(5).integers(low, high + 1, size=50)
    masks = M.center_box_masks(50, seed=5, height=height, width=width, size_range=size_range)
    for mask, b in zip(masks, sizes):
        top, left = (height - b) // 2, (width - b) // 2
        np.testing.assert_array_equal(mask[..., 0], _box(height, width, top, left, top + b,
                                                         left + b))


@pytest.mark.parametrize("height, width, size_range", [(32, 32, None), (H, W, None),
                                                       (W, H, (2, 9))])
def test_random_boxes_replayed(height, width, size_range):
    low, high = size_range or study._scaled((5, 11), height, width)
    rng = np.random.default_rng(6)
    sizes = rng.integers(low, high + 1, size=80)
    left = rng.integers(0, width - sizes)
    top = rng.integers(0, height - sizes)
    masks = M.random_box_masks(80, seed=6, height=height, width=width, size_range=size_range)
    for mask, b, y, x in zip(masks, sizes, top, left):
        np.testing.assert_array_equal(mask[..., 0], _box(height, width, y, x, y + b, x + b))


@pytest.mark.parametrize("height, width, size_range", [(32, 32, None), (H, W, None),
                                                       (W, H, (1, 12))])
def test_gan_rectangles_replayed(height, width, size_range):
    low, high = size_range or study._scaled((5, 11), height, width)
    rng = np.random.default_rng(7)
    heights = rng.integers(low, high + 1, size=80)
    widths = rng.integers(low, high + 1, size=80)
    top = rng.integers(0, height - heights + 1)
    left = rng.integers(0, width - widths + 1)
    masks = M.gan_rectangle_masks(80, seed=7, height=height, width=width,
                                  size_range=size_range)
    for mask, h, w, y, x in zip(masks, heights, widths, top, left):
        np.testing.assert_array_equal(mask[..., 0], _box(height, width, y, x, y + h - 1,
                                                         x + w - 1))


@pytest.mark.parametrize("height, width, strokes, thickness", [
    (32, 32, (1, 9), None), (H, W, (1, 9), None), (W, H, (2, 4), (3, 5)), (64, 80, (1, 1),
                                                                           None)])
def test_irregular_strokes_replayed(height, width, strokes, thickness):
    rng = np.random.default_rng(8)
    thin, thick = thickness or study._scaled((1, 2), height, width)
    counts = rng.integers(strokes[0], strokes[1] + 1, size=20)
    xs = rng.integers(1, width, size=(counts.sum(), 2))
    ys = rng.integers(1, height, size=(counts.sum(), 2))
    widths = rng.integers(thin, thick + 1, size=counts.sum())
    expected = np.zeros((20, height, width), np.uint8)
    line = 0
    for number, count in enumerate(counts):
        for _ in range(count):
            cv2.line(expected[number], (int(xs[line, 0]), int(ys[line, 0])),
                     (int(xs[line, 1]), int(ys[line, 1])), 1, int(widths[line]))
            line += 1
    masks = M.irregular_masks(20, seed=8, height=height, width=width, strokes=strokes,
                              thickness=thickness)
    np.testing.assert_array_equal(masks[..., 0], expected)


def test_box_mixtures_pick_one_of_the_three_kinds_per_mask():
    rng = np.random.default_rng(9)
    choice = rng.integers(0, 3, size=60)
    kinds = [M.center_box_masks(60, rng, height=H, width=W),
             M.random_box_masks(60, rng, height=H, width=W),
             M.gan_rectangle_masks(60, rng, height=H, width=W)]
    masks = M.box_masks(60, seed=9, height=H, width=W)
    assert masks.dtype == np.uint8 and masks.shape == (60, H, W, 1)
    for number, kind in enumerate(choice):
        np.testing.assert_array_equal(masks[number], kinds[kind][number])
    assert set(choice) == {0, 1, 2}


@pytest.mark.parametrize("bins", [((0.0, 0.1),), ((0.0, 0.9),), ((0.2, 0.3), (0.5, 0.6)),
                                  [[0.1, 0.2]]])
def test_area_bins_accepted(bins):
    np.testing.assert_array_equal(study._check_bins(bins), np.asarray(bins, float))


@pytest.mark.parametrize("bins", [((-0.1, 0.1),), ((0.2, 0.2),), ((0.3, 0.2),),
                                  ((0.5, 0.91),), ((0.1, 0.2, 0.3),), (0.1, 0.2),
                                  ((0.0, 0.1), (0.2, 0.2))])
def test_area_bins_refused(bins):
    with pytest.raises(ValueError, match="`bins` must be \\(low, high\\) hole shares"):
        study._check_bins(bins)


def _area_reference(n, seed, height, width, bins, thickness):
    """irregular_area_masks from its docstring: a bin and a share per mask, then lines
    until the share is reached, each kept within the bin's top where it can be (the
    first half of 8 tries long lines, then short thin ones; the 9th kept anyway)."""
    rng = np.random.default_rng(seed)
    bins = np.asarray(bins, float)
    thin, thick = thickness or study._scaled((1, 4), height, width)
    chosen = rng.integers(0, len(bins), size=n)
    targets = rng.uniform(bins[chosen, 0], bins[chosen, 1])
    masks, pixels = np.zeros((n, height, width), np.uint8), height * width
    for mask, target, number in zip(masks, targets, chosen):
        goal = max(1, math.ceil(target * pixels))
        limit = max(goal, int(bins[number, 1] * pixels))
        while mask.sum() < goal:
            for attempt in range(9):
                x1, x2 = rng.integers(1, width, size=2)
                y1, y2 = rng.integers(1, height, size=2)
                line_width = rng.integers(thin, thick + 1)
                if attempt >= 4:
                    x2 = min(max(x1 + rng.integers(-3, 4), 1), width - 1)
                    y2 = min(max(y1 + rng.integers(-3, 4), 1), height - 1)
                    line_width = thin
                candidate = mask.copy()
                cv2.line(candidate, (int(x1), int(y1)), (int(x2), int(y2)), 1,
                         int(line_width))
                if candidate.sum() <= limit or attempt == 8:
                    mask[:] = candidate
                    break
    return masks


@pytest.mark.parametrize("height, width, bins, thickness", [
    (32, 32, M.AREA_BINS, None), (H, W, ((0.05, 0.15), (0.6, 0.7)), None),
    (W, H, ((0.3, 0.35),), (2, 3)), (12, 10, ((0.2, 0.3),), None)])
def test_area_controlled_masks_replayed(height, width, bins, thickness):
    masks = M.irregular_area_masks(24, seed=10, height=height, width=width, bins=bins,
                                   thickness=thickness)
    assert masks.dtype == np.uint8 and masks.shape == (24, height, width, 1)
    np.testing.assert_array_equal(masks[..., 0],
                                  _area_reference(24, 10, height, width, bins, thickness))
    shares = M.hole_shares(masks)
    low, high = min(b[0] for b in bins), max(b[1] for b in bins)
    assert shares.min() >= low and shares.max() <= high + 0.05


# --------------------------------------------------------------------------- sets


def test_every_kind_is_known_and_others_are_refused():
    for kind in M.ALL_MASK_KINDS:
        assert M.check_mask_kind(kind) == kind
    with pytest.raises(ValueError, match="Unknown mask kind. Expected one of "
                                         "\\['center_box', .*Received: kind='circles'"):
        M.check_mask_kind("circles")
    assert sets.MASK_KINDS == ("center_box", "random_box", "irregular", "gan_rectangle",
                               "boxes", "irregular_area")
    assert sets.VALIDATION_MASK_SEED == 20180421 and sets.EVAL_SEED == 20180420


@pytest.mark.parametrize("kind", M.MASK_KINDS)
def test_generate_masks_is_the_kinds_generator_and_eval_masks_its_fixed_seed(kind):
    generator = sets.MASK_GENERATORS[kind]
    np.testing.assert_array_equal(M.generate_masks(kind, 6, 4, H, W),
                                  generator(6, 4, height=H, width=W))
    np.testing.assert_array_equal(M.eval_masks(kind, 6, height=H, width=W),
                                  generator(6, np.random.default_rng(20180420), height=H,
                                            width=W))
    np.testing.assert_array_equal(M.eval_masks(kind, 5, seed=3),
                                  generator(5, np.random.default_rng(3)))
    assert M.generate_masks(kind, 2).shape == (2, 32, 32, 1)


def test_the_default_evaluation_set_is_ten_thousand_masks():
    assert M.eval_masks("center_box").shape == (10_000, 32, 32, 1)


def _photo_reference(kind, image, seed):
    image = np.ascontiguousarray(image)
    digest = hashlib.sha256(f"{image.shape}{image.dtype}".encode() + image.tobytes()).digest()
    words = [int.from_bytes(digest[i:i + 4], "big") for i in range(0, 32, 4)]
    entropy = [seed, zlib.crc32(kind.encode()), *words, *image.shape[:2]]
    rng = np.random.default_rng(np.random.SeedSequence(entropy))
    return M.generate_masks(kind, 1, rng, image.shape[0], image.shape[1])[0]


def test_a_photos_mask_is_seeded_by_the_seed_the_kind_and_its_pixels():
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (40, 56, 3), np.uint8)
    for kind, seed in (("blobs", 20180420), ("thin_strokes", 5), ("irregular", 0)):
        np.testing.assert_array_equal(M.photo_mask(kind, photo, seed),
                                      _photo_reference(kind, photo, seed))
    np.testing.assert_array_equal(M.photo_mask("blobs", photo),
                                  _photo_reference("blobs", photo, 20180420))
    gray = photo[..., 0]
    np.testing.assert_array_equal(M.photo_mask("blobs", gray),
                                  _photo_reference("blobs", gray, 20180420))
    photos = [photo, photo[:32, :48].copy()]
    found = M.eval_photo_masks("blobs", photos, 9)
    assert len(found) == 2
    for mask, image in zip(found, photos):
        np.testing.assert_array_equal(mask, _photo_reference("blobs", image, 9))


@pytest.mark.parametrize("seed", [-1, True, 2.0, "1"])
def test_photo_mask_seeds_are_non_negative_integers(seed):
    with pytest.raises(ValueError, match="`seed` must be a non-negative integer"):
        M.photo_mask("blobs", np.zeros((16, 16, 3), np.uint8), seed)


def test_photo_masks_take_one_image():
    for shape in ((16,), (1, 16, 16, 3)):
        with pytest.raises(ValueError, match="`image` must be one image"):
            M.photo_mask("blobs", np.zeros(shape, np.uint8))
    with pytest.raises(ValueError, match="Unknown mask kind"):
        M.photo_mask("circles", np.zeros((16, 16, 3), np.uint8))


def test_mask_checksums_are_sha256_of_the_shape_and_the_packed_holes():
    masks = (np.random.default_rng(1).uniform(size=(3, 9, 10)) > 0.7)
    expected = hashlib.sha256(b"(3, 9, 10, 1)" + np.packbits(masks).tobytes()).hexdigest()
    assert M.mask_checksum(masks) == expected
    assert M.mask_checksum(masks[..., None].astype(np.float32)) == expected
    sizes = [np.zeros((4, 6, 1), np.uint8), masks[0].astype(np.uint8)]
    digest = hashlib.sha256(b"2 masks")
    for mask in sizes:
        digest.update(str(mask.shape[:2]).encode())
        digest.update(np.packbits(mask.astype(bool)).tobytes())
    assert M.mask_set_checksum(sizes) == digest.hexdigest()
    assert M.mask_set_checksum(iter(sizes)) == digest.hexdigest()
    with pytest.raises(ValueError, match="`masks\\[1\\]` must be binary"):
        M.mask_set_checksum([sizes[0], np.full((4, 4), 2)])


def test_hole_shares_count_every_non_zero_pixel():
    masks = np.zeros((2, 4, 5, 1), np.uint8)
    masks[0, 0, :2] = 255
    masks[1] = 1
    assert M.hole_share(masks) == pytest.approx(22 / 40)
    np.testing.assert_array_equal(M.hole_shares(masks), [0.1, 1.0])
    assert isinstance(M.hole_share(masks), float)


@pytest.mark.parametrize("low, high, label", [(0.0, 0.1, "0-10%"), (0.1, 0.2, "10-20%"),
                                              (0.4, 0.6, "40-60%"), (0.125, 0.375, "12-38%")])
def test_bin_labels_are_whole_percentages(low, high, label):
    assert M.area_bin_label(low, high) == label


def test_mask_files_round_trip_with_their_metadata(tmp_path):
    masks = np.random.default_rng(2).uniform(size=(3, 8, 9)) > 0.5
    M.save_masks(tmp_path / "m.npz", masks, kind="irregular", seed=4)
    with np.load(tmp_path / "m.npz") as data:
        assert str(data["kind"]) == "irregular" and int(data["seed"]) == 4
        assert data["masks"].dtype == np.uint8 and data["masks"].shape == (3, 8, 9, 1)
    loaded = M.load_masks(tmp_path / "m.npz")
    assert loaded.dtype == np.uint8
    np.testing.assert_array_equal(loaded[..., 0], masks)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]
    with pytest.raises(ValueError, match="must be binary"):
        M.save_masks(tmp_path / "bad.npz", masks * 2)
    assert not (tmp_path / "bad.npz").exists()


def test_unreadable_mask_files_are_refused_naming_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="Mask file not found"):
        M.load_masks(tmp_path / "none.npz")
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(ValueError, match="Cannot read masks from .*empty.npz: empty"):
        M.load_masks(tmp_path / "empty.npz")
    np.savez(tmp_path / "other.npz", holes=np.zeros((1, 8, 8)))
    with pytest.raises(ValueError, match="holds no `masks` array \\(keys: \\['holes'\\]\\)"):
        M.load_masks(tmp_path / "other.npz")
    np.savez(tmp_path / "wrong.npz", masks=np.full((1, 8, 8), 3))
    with pytest.raises(ValueError, match="wrong.npz` must be binary"):
        M.load_masks(tmp_path / "wrong.npz")


def test_mask_images_count_any_colour_and_ignore_alpha(tmp_path):
    gray = np.zeros((6, 7), np.uint8)
    gray[1, 2], gray[4, 5] = 1, 255
    cv2.imwrite(str(tmp_path / "gray.png"), gray)
    mask = M.load_mask_image(tmp_path / "gray.png", size=(6, 7))
    assert mask.shape == (6, 7, 1) and mask.dtype == np.uint8
    np.testing.assert_array_equal(mask[..., 0], gray > 0)
    colour = np.zeros((6, 7, 4), np.uint8)
    colour[..., 3] = 255  # opaque everywhere: alpha says nothing
    colour[0, 0, 2] = 9  # one colour channel set
    colour[5, 6, 0] = 1
    cv2.imwrite(str(tmp_path / "colour.png"), colour)
    expected = np.zeros((6, 7), bool)
    expected[0, 0] = expected[5, 6] = True
    np.testing.assert_array_equal(M.load_mask_image(tmp_path / "colour.png")[..., 0], expected)
    with pytest.raises(ValueError, match="is 6x7 but the image is 7x6"):
        M.load_mask_image(tmp_path / "gray.png", size=(7, 6))
    with pytest.raises(FileNotFoundError, match="Mask image not found"):
        M.load_mask_image(tmp_path / "none.png")
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(ValueError, match="Cannot read mask image .*not an image file"):
        M.load_mask_image(tmp_path / "text.png")


@pytest.mark.parametrize("generator", [M.center_box_masks, M.random_box_masks,
                                       M.gan_rectangle_masks, M.irregular_masks,
                                       M.box_masks, M.irregular_area_masks])
def test_every_generator_names_a_bad_count(generator):
    for n in (0, -1, 2.0):
        with pytest.raises(ValueError, match=f"`n` must be a positive integer. Received: "
                                             f"n={n!r}"):
            generator(n, seed=0)


def test_mask_images_of_sixteen_bits_and_of_one_pixel(tmp_path):
    deep = np.zeros((4, 5), np.uint16)
    deep[1, 1], deep[2, 3] = 1, 40_000  # 1 of 65,535 is still a hole
    cv2.imwrite(str(tmp_path / "deep.png"), deep)
    np.testing.assert_array_equal(M.load_mask_image(tmp_path / "deep.png")[..., 0], deep > 0)
    cv2.imwrite(str(tmp_path / "one.png"), np.full((1, 1), 255, np.uint8))
    assert M.load_mask_image(tmp_path / "one.png", size=(1, 1)).tolist() == [[[1]]]
