"""Photo evaluation: pooled hole figures computed by hand, identical holes for every
method, margins over the better baseline, the table, the picture and the CLI."""

import math

import cv2
import numpy as np
import pytest

from inpaint_tf.evaluation import photos as PE
from inpaint_tf.evaluation.baselines import NavierStokesBaseline
from inpaint_tf.masks import photo_mask
from inpaint_tf.plotting import hole_crop_box, plot_hole_crops


def _photos(rng, sizes=((40, 60), (64, 48), (50, 50))):
    return [rng.integers(0, 256, (h, w, 3), np.uint8) for h, w in sizes]


def _box_masks(photos):
    masks = []
    for number, photo in enumerate(photos):
        mask = np.zeros(photo.shape[:2] + (1,), np.uint8)
        mask[5:15 + number, 10:20] = 1
        masks.append(mask)
    return masks


def test_hole_figures_are_pooled_over_every_hole_pixel_of_every_photo(rng):
    photos = _photos(rng)
    masks = _box_masks(photos)
    errors = [0.1, 0.2, 0.05]  # each photo's holes are off by its own constant
    calls = iter(range(len(photos)))

    def predict(masked, hole):
        return np.clip(masked + errors[next(calls)] * hole, 0, 1)

    # The masked input holds 0 in the holes, so the "prediction" there is the error
    # itself: the truth is the photo, so compute the expected figures from the photos.
    row = PE.evaluate_photos(predict, photos, masks, name="shift", mask_kind="boxes")
    squared = absolute = count = 0.0
    for photo, mask, error in zip(photos, masks, errors):
        truth = photo.astype(np.float64) / 255
        hole = np.broadcast_to(mask.astype(bool), truth.shape)
        squared += ((error - truth[hole]) ** 2).sum()
        absolute += np.abs(error - truth[hole]).sum()
        count += hole.sum()
    assert row["n"] == 3 and row["name"] == "shift" and row["masks"] == "boxes"
    assert row["hole_mse"] == pytest.approx(squared / count, rel=1e-6)
    assert row["hole_mae"] == pytest.approx(absolute / count, rel=1e-6)
    assert row["hole_psnr"] == pytest.approx(-10 * math.log10(squared / count), rel=1e-6)
    shares = sum(m.sum() for m in masks) / sum(m.size for m in masks)
    assert row["hole_share"] == pytest.approx(shares)


def test_a_perfect_fill_scores_infinite_psnr_and_ssim_one(rng):
    photos = _photos(rng)
    masks = _box_masks(photos)
    truths = iter(photos)

    def perfect(masked, hole):
        return next(truths)[None].astype(np.float32) / 255

    row = PE.evaluate_photos(perfect, photos, masks)
    assert row["hole_mse"] == 0 and math.isinf(row["hole_psnr"])
    assert row["hole_ssim"] == pytest.approx(1.0)


def test_bad_inputs_are_refused_by_name(rng):
    photos = _photos(rng)
    masks = _box_masks(photos)
    with pytest.raises(ValueError, match="3 photos but 2 masks"):
        PE.evaluate_photos(lambda m, h: m, photos, masks[:2])
    with pytest.raises(ValueError, match="No photos"):
        PE.evaluate_photos(lambda m, h: m, [], [])
    with pytest.raises(ValueError, match="masks\\[1\\]"):
        PE.evaluate_photos(lambda m, h: m, photos, [masks[0], masks[0], masks[2]])
    with pytest.raises(ValueError, match="shape"):
        PE.evaluate_photos(lambda m, h: m[:, :10], photos, masks)


def test_every_method_fills_the_same_holes_the_photo_alone_decides(rng, tiny_model):
    photos = PE.PhotoSet(["a", "b"], _photos(rng, ((48, 64), (64, 64))))
    rows = PE.compare_on_photos(tiny_model, photos, ("blobs", "thin_strokes"), seed=3,
                                name="tiny")
    assert [(r["masks"], r["name"]) for r in rows] == [
        (k, m) for k in ("blobs", "thin_strokes") for m in ("navier_stokes", "telea", "tiny")]
    for kind in ("blobs", "thin_strokes"):
        assert len({r["mask_checksum"] for r in rows if r["masks"] == kind}) == 1
    masks = [photo_mask("blobs", image, 3) for image in photos.images]
    direct = PE.evaluate_photos(NavierStokesBaseline().predict, photos.images, masks)
    assert rows[0]["hole_psnr"] == direct["hole_psnr"] and rows[0]["mask_seed"] == 3
    other_seed = PE.compare_on_photos(None, photos, ("blobs",), seed=4)
    assert other_seed[0]["mask_checksum"] != rows[0]["mask_checksum"]


def test_margins_are_over_the_better_baseline_per_family():
    rows = [{"masks": "blobs", "name": "navier_stokes", "hole_psnr": 20.0},
            {"masks": "blobs", "name": "telea", "hole_psnr": 21.5},
            {"masks": "blobs", "name": "model", "hole_psnr": 22.0},
            {"masks": "thin_strokes", "name": "navier_stokes", "hole_psnr": 25.0},
            {"masks": "thin_strokes", "name": "telea", "hole_psnr": 24.0},
            {"masks": "thin_strokes", "name": "model", "hole_psnr": 24.5}]
    assert PE.margins(rows) == pytest.approx({"blobs": 0.5, "thin_strokes": -0.5})
    assert PE.margins(rows, baselines=("navier_stokes",)) == pytest.approx(
        {"blobs": 2.0, "thin_strokes": -0.5})
    assert PE.margins(rows[:2]) == {}


def test_the_table_has_one_line_per_family_with_each_method(rng, tiny_model):
    photos = PE.PhotoSet(["a"], _photos(rng, ((48, 64),)))
    rows = PE.compare_on_photos(tiny_model, photos, ("blobs", "object_boxes"), name="tiny")
    table = PE.photo_table(rows, name="tiny")
    assert list(table["masks"]) == ["blobs", "object_boxes"]
    assert {"navier_stokes PSNR", "telea PSNR", "tiny PSNR", "tiny margin (dB)",
            "tiny SSIM"} <= set(table.columns)
    gap = PE.margins(rows, "tiny")["blobs"]
    assert table.loc[0, "tiny margin (dB)"] == pytest.approx(gap)


def test_load_photo_set_names_photos_by_folder_and_limits(tmp_path, rng):
    for folder in ("Kodak", "Mc"):
        for number in range(3):
            path = tmp_path / folder / f"{number}.png"
            path.parent.mkdir(exist_ok=True)
            cv2.imwrite(str(path), rng.integers(0, 256, (20, 30, 3), np.uint8))
    photos = PE.load_photo_set([tmp_path / "Kodak", tmp_path / "Mc"])
    assert photos.names == ["Kodak/0.png", "Kodak/1.png", "Kodak/2.png", "Mc/0.png",
                            "Mc/1.png", "Mc/2.png"]
    assert PE.load_photo_set([tmp_path / "Kodak", tmp_path / "Mc"], limit=4).names[-1] == \
        "Mc/0.png"


@pytest.mark.parametrize("shape,box,size", [
    ((200, 300), (50, 80, 20, 30), 64),    # small hole: the least side
    ((200, 300), (20, 40, 100, 120), 64),  # large hole: 1.5 times its extent
    ((100, 100), (0, 0, 10, 10), 64),      # at a corner: inside the image
])
def test_the_crop_box_holds_the_largest_hole(shape, box, size):
    top, left, height, width = box
    mask = np.zeros(shape, np.uint8)
    mask[top:top + height, left:left + width] = 1
    mask[shape[0] - 3:, shape[1] - 3:] = 1  # a smaller hole elsewhere
    y, x, side = hole_crop_box(mask, size)
    assert side == min(max(size, int(1.5 * max(height, width))), *shape)
    assert 0 <= y <= shape[0] - side and 0 <= x <= shape[1] - side
    assert y <= top + height // 2 <= y + side and x <= left + width // 2 <= x + side


def test_plot_hole_crops_draws_one_row_per_photo(rng, tmp_path):
    photos = _photos(rng)
    masks = _box_masks(photos)
    figure = plot_hole_crops(photos, masks, {"a": photos, "b": photos}, size=32,
                             path=tmp_path / "crops.png", close=True)
    assert (tmp_path / "crops.png").is_file() and len(figure.axes) == 3 * 4
    with pytest.raises(ValueError, match="one item per photo"):
        plot_hole_crops(photos, masks[:2], {"a": photos})


@pytest.mark.slow
def test_cli_evaluates_a_model_file_on_a_photo_folder(tmp_path, rng):
    from inpaint_tf import cli
    from inpaint_tf.models import build_unet_autoencoder

    tiny_model = build_unet_autoencoder((None, None, 3), filters=(4, 8), bottleneck_filters=8,
                                        prefill="harmonic", composite_output=True)

    for number, (h, w) in enumerate(((48, 64), (64, 80))):
        cv2.imwrite(str(tmp_path / f"p{number}.png"), rng.integers(0, 256, (h, w, 3), np.uint8))
    tiny_model.save(tmp_path / "tiny.keras")
    code = cli.main(["evaluate", str(tmp_path / "tiny.keras"), "--photos", str(tmp_path),
                     "--masks", "blobs", "--masks", "medium_strokes", "--out",
                     str(tmp_path / "table.md"), "--samples", str(tmp_path / "crops.png")])
    assert code == 0
    table = (tmp_path / "table.md").read_text()
    assert "| blobs | 2 |" in table and "| medium_strokes | 2 |" in table
    assert (tmp_path / "crops.png").is_file()
    assert cli.main(["evaluate", str(tmp_path / "tiny.keras"), "--masks", "blobs",
                     "--masks", "irregular"]) == 2  # several kinds only with --photos
