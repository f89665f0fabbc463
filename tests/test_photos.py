"""Photo data: listing, reading, scanning (test photos refused by content), crops at
scales, and the streamed pipeline (a pure function of seed, epoch and step)."""

import warnings

import cv2
import numpy as np
import pytest

from inpaint_tf._checksums import pixel_sha256
from inpaint_tf.data import photos as P


def _photo(rng, height, width):
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x / width, y / height, (x + y) / (height + width)], -1)
    noise = rng.normal(0, 0.05, (height, width, 3))
    return np.round(255 * np.clip(base + noise, 0, 1)).astype(np.uint8)


def _write(path, image):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image[:, :, ::-1])
    return path


@pytest.fixture
def folder(tmp_path, rng):
    """Eight photos of several sizes in nested folders, PNG and JPEG."""
    sizes = [(60, 90), (90, 60), (128, 128), (40, 50), (200, 150), (75, 75), (100, 180),
             (64, 64)]
    for number, (h, w) in enumerate(sizes):
        sub = "a" if number % 2 else "b/c"
        suffix = ".png" if number % 3 else ".JPG"
        _write(tmp_path / "photos" / sub / f"p{number}{suffix}", _photo(rng, h, w))
    (tmp_path / "photos" / "notes.txt").write_text("not a photo")
    return tmp_path / "photos"


def test_list_photos_finds_nested_image_files_in_a_fixed_order(folder, tmp_path):
    files = P.list_photos(folder)
    assert len(files) == 8 and files == sorted(files)
    assert all(not f.endswith(".txt") for f in files)
    assert P.list_photos([files[3], folder / "a"]) == sorted({files[3], *P.list_photos(
        folder / "a")})
    with pytest.raises(FileNotFoundError, match="missing"):
        P.list_photos(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="No image files"):
        P.list_photos(tmp_path / "empty")


def test_read_photo_gives_rgb_and_names_a_bad_file(tmp_path, rng):
    image = _photo(rng, 20, 30)
    assert np.array_equal(P.read_image(_write(tmp_path / "x.png", image)), image)
    gray = _write(tmp_path / "g.png", image[..., :1].repeat(3, -1))
    cv2.imwrite(str(gray), image[..., 0])
    assert P.read_image(gray).shape == (20, 30, 3)
    (tmp_path / "bad.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match="bad.jpg"):
        P.read_image(tmp_path / "bad.jpg")


def test_the_test_photo_registry_holds_the_three_test_sets():
    registry = P.test_photo_checksums()
    names = {value.split("/")[0] for value in registry.values()}
    assert names == {"Kodak24", "McMaster", "CBSD68"} and len(registry) == 24 + 18 + 68
    assert all(len(checksum) == 64 for checksum in registry)


def test_scan_refuses_a_test_photo_under_any_name_and_skips_or_names_bad_files(folder,
                                                                                tmp_path):
    files = P.list_photos(folder)
    secret = P.read_image(files[2])
    refuse = {pixel_sha256(secret): "Kodak24/kodim99.png"}
    renamed = _write(tmp_path / "elsewhere" / "holiday.png", secret)
    with pytest.raises(ValueError, match="holiday.png is the test photo Kodak24/kodim99.png"):
        P.scan_photos([files[0], renamed], refuse=refuse)
    scan = P.scan_photos(files, refuse={})
    assert scan.files == files and scan.skipped == []
    assert scan.sizes[files.index(str(folder / "a" / "p1.png"))] == (90, 60)
    bad = tmp_path / "elsewhere" / "broken.png"
    bad.write_bytes(b"\x89PNG broken")
    with pytest.raises(ValueError, match="broken.png"):
        P.scan_photos([files[0], bad], refuse={})
    with pytest.warns(UserWarning, match="broken.png"):
        skipped = P.scan_photos([files[0], bad], refuse={}, on_error="skip")
    assert skipped.files == [files[0]] and skipped.skipped == [str(bad)]
    with pytest.raises(ValueError, match="on_error"):
        P.scan_photos(files, on_error="ignore")


def test_the_scan_checksum_depends_on_pixels_not_names_or_order(folder, tmp_path):
    files = P.list_photos(folder)
    copies = [str(_write(tmp_path / "copy" / f"{i}.png", P.read_image(f)))
              for i, f in enumerate(reversed(files))]
    assert P.scan_photos(files, refuse={}).checksum == P.scan_photos(copies,
                                                                    refuse={}).checksum
    assert P.scan_photos(files[:-1], refuse={}).checksum != P.scan_photos(
        files, refuse={}).checksum


@pytest.mark.parametrize("height,width,crop,scale,side", [
    (300, 400, 64, 1.0, 64),     # the photo's own resolution
    (300, 400, 64, 0.5, 128),    # twice the content per crop pixel
    (300, 400, 64, 0.1, 300),    # more than the short side: the whole short side
    (40, 50, 64, 1.0, 40),       # a photo smaller than the crop: scaled up
])
def test_crop_window_side_and_position(height, width, crop, scale, side):
    rng = np.random.default_rng(0)
    for _ in range(50):
        top, left, got = P.crop_window(height, width, crop, scale, rng)
        assert got == side and 0 <= top <= height - side and 0 <= left <= width - side


def test_random_crops_at_scale_one_are_regions_of_the_photo(rng):
    image = _photo(rng, 120, 160)
    for seed in range(10):
        crop = P.random_crop(image, 32, (1.0, 1.0), np.random.default_rng(seed), flip=False)
        found = [(t, l) for t in range(120 - 31) for l in range(160 - 31)
                 if np.array_equal(image[t:t + 32, l:l + 32], crop)]
        assert found
    small = P.random_crop(image[:20, :30], 32, (1.0, 1.0), rng)
    assert small.shape == (32, 32, 3)
    with pytest.raises(ValueError, match="scale_range"):
        P.check_scale_range((0.5, 0.25))
    with pytest.raises(ValueError, match="scale_range"):
        P.check_scale_range((0, 1))


def _batches(files, steps, **kwargs):
    options = dict(batch_size=4, seed=3, scale_range=(0.5, 1.0), epochs=2,
                   steps_per_epoch=steps)
    options.update(kwargs)
    return [(x["image"].numpy(), x["mask"].numpy(), y.numpy())
            for x, y in P.make_photo_dataset(files, 32, "irregular", **options)]


def test_batches_have_the_training_contract(folder):
    (image, mask, crop), *_ = _batches(P.list_photos(folder), 2, fill_value=0.5)
    assert image.shape == crop.shape == (4, 32, 32, 3) and mask.shape == (4, 32, 32, 1)
    assert image.dtype == crop.dtype == mask.dtype == np.float32
    assert set(np.unique(mask)) <= {0.0, 1.0} and mask.sum() > 0
    np.testing.assert_allclose(image, crop * (1 - mask) + 0.5 * mask)
    assert 0 <= crop.min() and crop.max() <= 1


def test_batches_are_a_pure_function_of_seed_epoch_and_step(folder):
    files = P.list_photos(folder)
    whole = _batches(files, 3)
    resumed = _batches(files, 3, start_epoch=1)
    assert len(whole) == 6 and len(resumed) == 3
    for a, b in zip(whole[3:], resumed):
        assert all(np.array_equal(x, y) for x, y in zip(a, b))
    other = _batches(files, 3, seed=4)
    assert not np.array_equal(whole[0][2], other[0][2])
    assert not np.array_equal(whole[0][2], whole[3][2])  # epochs differ


def test_an_epoch_decodes_only_its_batches(folder, monkeypatch):
    # Memory and work follow the batches, not the number of files: the dataset reads
    # nothing when it is built, then one file per crop.
    reads = []
    real = P.read_image

    def counting(path):
        reads.append(path)
        return real(path)

    monkeypatch.setattr(P, "read_image", counting)
    files = P.list_photos(folder) * 2000  # 16,000 paths, none read at build time
    dataset = P.make_photo_dataset(files, 32, "irregular", batch_size=4, epochs=1,
                                   steps_per_epoch=3)
    assert reads == []
    assert sum(1 for _ in dataset) == 3 and len(reads) == 12


def test_unreadable_files_raise_by_name_or_are_skipped_deterministically(folder, tmp_path):
    files = P.list_photos(folder)
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"broken")
    with pytest.raises(Exception, match="broken.jpg"):
        _batches([*files, str(bad)], 3, epochs=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = _batches([*files, str(bad)], 3, epochs=1, on_error="skip")
        second = _batches([*files, str(bad)], 3, epochs=1, on_error="skip")
    assert any("broken.jpg" in str(w.message) for w in caught)
    assert all(np.array_equal(a[2], b[2]) for a, b in zip(first, second))


@pytest.mark.parametrize("bad,match", [
    (dict(crop_size=0), "crop_size"), (dict(batch_size=0), "batch_size"),
    (dict(mask_kind="hexagons"), "hexagons"), (dict(seed=-1), "seed"),
    (dict(on_error="ignore"), "on_error"), (dict(scale_range=(2, 1)), "scale_range"),
    (dict(files=[]), "empty")])
def test_bad_arguments_are_refused_before_any_batch(folder, bad, match):
    arguments = dict(files=P.list_photos(folder), crop_size=32, mask_kind="irregular")
    arguments.update(bad)
    with pytest.raises(ValueError, match=match):
        P.make_photo_dataset(arguments.pop("files"), arguments.pop("crop_size"), **arguments)


def test_fixed_crops_are_seeded_and_sized(folder):
    files = P.list_photos(folder)[:3]
    crops = P.fixed_crops(files, 24, per_photo=2, scale_range=(0.5, 1.0), seed=5)
    assert crops.shape == (6, 24, 24, 3) and crops.dtype == np.uint8
    assert np.array_equal(crops, P.fixed_crops(files, 24, 2, scale_range=(0.5, 1.0), seed=5))
    assert not np.array_equal(crops, P.fixed_crops(files, 24, 2, scale_range=(0.5, 1.0),
                                                   seed=6))


TINY_PHOTO_CONFIG = {
    "name": "tiny_photos",
    "model": {"options": {"filters": [4, 8], "bottleneck_filters": 8, "mask_as_input": True,
                          "composite_output": True, "prefill": "harmonic"}},
    "data": {"kind": "photos", "masks": "irregular", "crop_size": 32, "held_out_photos": 2,
             "validation_images": 6, "test_images": 8},
    "training": {"batch_size": 2, "epochs": 1, "steps_per_epoch": 2, "loss": "mse"}}


def _photo_config(folder):
    from inpaint_tf.configs import config_from_dict

    mapping = {**TINY_PHOTO_CONFIG, "data": {**TINY_PHOTO_CONFIG["data"], "source": str(folder)}}
    return config_from_dict(mapping)


def test_a_photos_config_holds_photos_out_and_scores_on_their_crops(folder):
    from inpaint_tf.training.data import epoch_steps, load_training_data

    data = load_training_data(_photo_config(folder))
    assert data.is_photos and data.input_shape == (32, 32, 3)
    assert len(data.train_files) == 6 and data.split.train.images.shape == (0, 32, 32, 3)
    assert data.split.validation.images.shape == (6, 32, 32, 3)
    assert data.split.test.images.shape == (8, 32, 32, 3)
    assert not np.array_equal(data.split.validation.images[:6], data.split.test.images[:6])
    assert epoch_steps(_photo_config(folder), data) == 2
    assert len(data.train_checksum) == 16


def test_held_out_photos_are_the_ones_training_leaves_out_and_validation_crops(folder):
    from inpaint_tf.configs import ExperimentConfig
    from inpaint_tf.training.data import VALIDATION_CROP_SEED, held_out_photos, load_training_data

    config = _photo_config(folder)
    held_out = held_out_photos(config)
    data = load_training_data(config)
    assert len(held_out) == 2 and not set(held_out) & set(data.train_files)
    assert sorted(held_out + list(data.train_files)) == sorted(P.list_photos(folder))
    assert held_out == held_out_photos(config)  # a fixed draw
    crops = P.fixed_crops(held_out, 32, 3, scale_range=(config.data.min_scale,
                                                       config.data.max_scale),
                          seed=VALIDATION_CROP_SEED)
    assert np.array_equal(crops[:6], data.split.validation.images)
    with pytest.raises(ValueError, match="holds no photos out"):
        held_out_photos(ExperimentConfig())


def test_training_refuses_a_test_photo_in_its_source(folder, monkeypatch):
    from inpaint_tf.training.data import load_training_data

    files = P.list_photos(folder)
    secret = {pixel_sha256(P.read_image(f)): "McMaster/1.tif" for f in files}
    monkeypatch.setattr(P, "test_photo_checksums", lambda: secret)
    with pytest.raises(ValueError, match="is the test photo McMaster/1.tif"):
        load_training_data(_photo_config(folder))


def test_a_photos_config_without_photos_says_how_to_give_them(monkeypatch):
    from inpaint_tf.configs import config_from_dict
    from inpaint_tf.training.data import load_training_data

    monkeypatch.delenv("INPAINT_TF_PHOTOS", raising=False)
    with pytest.raises(ValueError, match="INPAINT_TF_PHOTOS"):
        load_training_data(config_from_dict(TINY_PHOTO_CONFIG))


@pytest.mark.slow
def test_train_on_a_photo_folder_writes_a_full_run_record(folder, tmp_path):
    from inpaint_tf.training.loop import train

    run = train(_photo_config(folder), tmp_path / "run", verbose=0)
    metrics = run.read_metrics()
    assert metrics["data_source"] == str(folder) and len(metrics["train_checksum"]) == 16
    assert metrics["test"]["n"] == 8 and np.isfinite(metrics["test"]["hole_psnr"])
    assert run.model.is_file() and run.samples.is_file()


def test_photo_runs_score_on_masks_drawn_as_their_training_masks(folder):
    from inpaint_tf.configs import with_overrides
    from inpaint_tf.evaluation.runs import fixed_test_set
    from inpaint_tf.masks import eval_masks
    from inpaint_tf.training.data import scoring_split

    config = with_overrides(_photo_config(folder), **{"data.mask_canvas_min": 64,
                                                      "data.mask_canvas_max": 96})
    images, masks = fixed_test_set(config, scoring_split(config), "thin_strokes", seed=5)
    expected = P.photo_scale_masks("thin_strokes", len(images), np.random.default_rng(5), 32,
                                   (64, 96))
    assert np.array_equal(masks, expected)
    plain = with_overrides(config, **{"data.mask_canvas_min": 0, "data.mask_canvas_max": 0})
    _, at_crop_size = fixed_test_set(plain, scoring_split(plain), "thin_strokes", seed=5)
    assert np.array_equal(at_crop_size, eval_masks("thin_strokes", len(images), 5, 32, 32))
    with pytest.raises(ValueError, match="mask_canvas"):
        with_overrides(config, **{"data.mask_canvas_min": 16})


def test_photo_scale_masks_keep_a_photos_stroke_widths_in_a_crop():
    rng = np.random.default_rng(0)
    crops = P.photo_scale_masks("medium_strokes", 40, rng, 64, (512, 512))
    assert crops.shape == (40, 64, 64, 1) and all(c.sum() > 0 for c in crops)
    # Medium strokes are 8-20 px wide at a 512 px side: their half width, the largest
    # distance to a known pixel, stays so in the crop (at the crop size it would be 1-3 px).
    widths = [cv2.distanceTransform(c[..., 0], cv2.DIST_L2, 5).max() for c in crops]
    assert 3.5 <= np.median(widths) <= 14  # joints and crossings widen a little


def test_collect_photos_leaves_out_test_small_grey_unreadable_and_duplicate_photos(
        tmp_path, rng, monkeypatch):
    from inpaint_tf import cli

    source = tmp_path / "BSDS"
    keep = [_write(source / "train" / f"k{i}.png", _photo(rng, 300, 260)) for i in range(3)]
    secret = _photo(rng, 300, 300)
    _write(source / "val" / "renamed_test.png", secret)
    _write(source / "val" / "small.png", _photo(rng, 100, 400))
    _write(source / "val" / "grey.png", _photo(rng, 300, 300)[..., :1].repeat(3, -1))
    _write(source / "val" / "copy.png", P.read_image(keep[0]))
    (source / "val" / "broken.jpg").write_bytes(b"broken")
    monkeypatch.setattr(P, "test_photo_checksums", lambda: {pixel_sha256(secret): "Kodak24/x"})
    result = P.collect_photos(source, tmp_path / "train_photos")
    assert sorted(P.Path(f).name for f in result.copied) == ["k0.png", "k1.png", "k2.png"]
    assert {reason: [P.Path(f).name for f in files]
            for reason, files in result.left_out.items()} == {
        "test photo": ["renamed_test.png"], "small": ["small.png"], "grey": ["grey.png"],
        "unreadable": ["broken.jpg"], "duplicate": ["copy.png"]}
    assert all(f.startswith(str(tmp_path / "train_photos" / "BSDS")) for f in result.copied)
    P.scan_photos(P.list_photos(tmp_path / "train_photos"))  # training accepts the folder
    assert cli.main(["collect-photos", str(source), "--out", str(tmp_path / "again"),
                     "--min-side", "50", "--grey"]) == 0
    assert len(P.list_photos(tmp_path / "again")) == 5  # the small and grey ones too
