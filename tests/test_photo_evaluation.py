"""Photo evaluation: pooled hole figures computed by hand, identical holes for every
method, each method's own seconds, margins over the best classical method (and its
name), the tables, the picture and the CLI."""

import math

import cv2
import numpy as np
import pandas as pd
import pytest

from inpaint_tf.evaluation import photos as PE
from inpaint_tf.evaluation.baselines import NavierStokesBaseline
from inpaint_tf.masks import EVAL_SEED, eval_photo_masks, mask_set_checksum, photo_mask
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
    with pytest.raises(ValueError, match="`photos\\[1\\]` must have 3 channels"):
        PE.evaluate_photos(lambda m, h: m, [photos[0], photos[1][..., :2], photos[2]], masks)


def test_every_method_fills_the_same_holes_the_photo_alone_decides(rng, tiny_model):
    photos = PE.PhotoSet(["a", "b"], _photos(rng, ((48, 64), (64, 64))))
    rows = PE.compare_on_photos(tiny_model, photos, ("blobs", "thin_strokes"), seed=3,
                                name="tiny")
    methods = ("navier_stokes", "telea", "biharmonic", "fsr_fast", "tiny")  # fsr_best: slow
    assert [(r["masks"], r["name"]) for r in rows] == [
        (k, m) for k in ("blobs", "thin_strokes") for m in methods]
    for kind in ("blobs", "thin_strokes"):
        assert len({r["mask_checksum"] for r in rows if r["masks"] == kind}) == 1
    masks = [photo_mask("blobs", image, 3) for image in photos.images]
    direct = PE.evaluate_photos(NavierStokesBaseline().predict, photos.images, masks)
    assert rows[0]["hole_psnr"] == direct["hole_psnr"] and rows[0]["mask_seed"] == 3
    other_seed = PE.compare_on_photos(None, photos, ("blobs",), seed=4)
    assert other_seed[0]["mask_checksum"] != rows[0]["mask_checksum"]


def test_margins_are_over_the_best_baseline_per_family():
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
    rows = PE.compare_on_photos(tiny_model, photos, ("blobs", "object_boxes"), name="tiny",
                                baselines=("navier_stokes", "telea"))
    table = PE.photo_table(rows, name="tiny")
    assert list(table["masks"]) == ["blobs", "object_boxes"]
    assert {"navier_stokes PSNR", "telea PSNR", "tiny PSNR", "tiny margin (dB)",
            "tiny SSIM", "best classical"} <= set(table.columns)
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
def test_cli_evaluates_a_model_file_on_a_photo_folder(tmp_path, rng, capsys):
    from inpaint_tf import cli
    from inpaint_tf.models import build_unet_autoencoder

    tiny_model = build_unet_autoencoder((None, None, 3), filters=(4, 8), bottleneck_filters=8,
                                        prefill="harmonic", composite_output=True)

    for number, (h, w) in enumerate(((48, 64), (64, 80))):
        cv2.imwrite(str(tmp_path / f"p{number}.png"), rng.integers(0, 256, (h, w, 3), np.uint8))
    tiny_model.save(tmp_path / "tiny.keras")
    code = cli.main(["evaluate", str(tmp_path / "tiny.keras"), "--photos", str(tmp_path),
                     "--masks", "blobs", "--masks", "medium_strokes", "--out",
                     str(tmp_path / "table.md"), "--samples", str(tmp_path / "crops.png"),
                     "--baselines", "navier_stokes,fsr_fast"])
    assert code == 0
    table = (tmp_path / "table.md").read_text()
    assert "| blobs | 2 |" in table and "| medium_strokes | 2 |" in table
    assert "| navier_stokes PSNR | fsr_fast PSNR | experiment PSNR | best classical |" in table
    printed = capsys.readouterr().out
    assert "| method | blobs (s/photo) | medium_strokes (s/photo) | all (s/photo) |" in printed
    assert "\n| fsr_fast | " in printed and "\n| experiment | " in printed
    assert (tmp_path / "crops.png").is_file()
    assert cli.main(["evaluate", str(tmp_path / "tiny.keras"), "--masks", "blobs",
                     "--masks", "irregular"]) == 2  # several kinds only with --photos
    assert cli.main(["evaluate", str(tmp_path / "tiny.keras"), "--photos", str(tmp_path),
                     "--baselines", "telea,pm"]) == 2
    assert "Unknown baseline 'pm'" in capsys.readouterr().err


def test_the_cli_keeps_a_run_folders_classical_rows_and_a_rerun_reuses_them(
        tmp_path, rng, monkeypatch, capsys, tiny_model):
    import json

    from inpaint_tf import cli
    from inpaint_tf.evaluation import runs
    from inpaint_tf.evaluation.baselines import BASELINES

    (tmp_path / "photos").mkdir()
    for number, (h, w) in enumerate(((40, 56), (48, 48))):
        cv2.imwrite(str(tmp_path / "photos" / f"p{number}.png"),
                    rng.integers(0, 256, (h, w, 3), np.uint8))
    run = tmp_path / "run"
    run.mkdir()
    monkeypatch.setattr(runs, "load_inference_model", lambda reference, precision=None: tiny_model)
    argv = ["evaluate", str(run), "--photos", str(tmp_path / "photos"), "--masks", "blobs",
            "--baselines", "navier_stokes,telea"]
    assert cli.main(argv) == 0
    table = capsys.readouterr().out.split("\n\n")[0]
    stored = json.loads((run / "classical_scores.json").read_text())["rows"]
    assert sorted(row["key"]["method"] for row in stored) == ["navier_stokes", "telea"]
    originals = {name: BASELINES[name] for name in ("navier_stokes", "telea")}

    class Refused(NavierStokesBaseline):
        def predict(self, masked_images, masks):
            raise AssertionError("a stored row was computed again")

    for name in originals:
        monkeypatch.setitem(BASELINES, name, Refused)
    assert cli.main(argv) == 0  # the same figures, from the run folder's file
    assert capsys.readouterr().out.split("\n\n")[0] == table
    for name, original in originals.items():
        monkeypatch.setitem(BASELINES, name, original)
    shared = tmp_path / "records" / "classical.json"
    assert cli.main([*argv, "--classical-scores", str(shared)]) == 0
    computed = json.loads(shared.read_text())["rows"]  # computed anew, timed anew
    assert [row["key"] for row in computed] == [row["key"] for row in stored]
    assert [row["row"]["hole_psnr"] for row in computed] == \
        [row["row"]["hole_psnr"] for row in stored]
    # Three evaluations of three rows each in the run's record.
    assert len(json.loads((run / "metrics.json").read_text())["photo_evaluations"]) == 9


def test_the_cli_scores_a_photo_run_on_the_photos_its_config_held_out(
        tmp_path, rng, monkeypatch, capsys, tiny_model):
    import json

    from inpaint_tf import cli
    from inpaint_tf.configs import config_from_dict, save_config
    from inpaint_tf.evaluation import runs
    from inpaint_tf.training.data import held_out_photos

    photos = tmp_path / "photos"
    photos.mkdir()
    for number in range(5):
        cv2.imwrite(str(photos / f"p{number}.png"),
                    rng.integers(0, 256, (40 + 4 * number, 48, 3), np.uint8))
    config = config_from_dict({"name": "probe", "data": {
        "kind": "photos", "source": str(photos), "held_out_photos": 2, "crop_size": 32}})
    run = tmp_path / "run"
    save_config(config, run / "config.toml")
    monkeypatch.setattr(runs, "load_inference_model", lambda reference, precision=None: tiny_model)
    loaded, load_photo_set = [], runs.load_photo_set
    monkeypatch.setattr(runs, "load_photo_set",
                        lambda sources, limit=None: loaded.append(list(sources))
                        or load_photo_set(sources, limit))
    assert cli.main(["evaluate", str(run), "--held-out-photos", "--masks", "blobs",
                     "--baselines", "navier_stokes"]) == 0
    assert loaded == [held_out_photos(config)] and len(loaded[0]) == 2
    rows = json.loads((run / "metrics.json").read_text())["photo_evaluations"]
    assert [(row["name"], row["n"]) for row in rows] == [("navier_stokes", 2), ("probe", 2)]
    with pytest.raises(SystemExit):
        cli.main(["evaluate", str(run), "--held-out-photos", "--photos", str(photos)])
    assert "not allowed with argument" in capsys.readouterr().err


def test_the_cli_takes_classical_scores_with_photos_only(tmp_path, capsys):
    from inpaint_tf import cli
    from inpaint_tf.configs import ExperimentConfig, save_config

    cifar_run = tmp_path / "run"
    save_config(ExperimentConfig(), cifar_run / "config.toml")
    (cifar_run / "metrics.json").write_text('{"test": {}}')
    for command, message in (("evaluate", "--classical-scores and --reuse-only go with --photos"),
                             ("release", "Classical scores go with a photo model's release")):
        assert cli.main([command, str(cifar_run), "--classical-scores",
                         str(tmp_path / "s.json")]) == 2
        assert message in capsys.readouterr().err
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        assert "--classical-scores FILE" in capsys.readouterr().out
    assert not (tmp_path / "s.json").exists()
    (tmp_path / "bad.json").write_text("{not json")
    assert cli.main(["evaluate", str(tmp_path), "--photos", str(tmp_path),
                     "--classical-scores", str(tmp_path / "bad.json")]) == 2
    assert f"{tmp_path / 'bad.json'} is not a classical scores file" in capsys.readouterr().err


def test_the_clis_baseline_lists():
    from inpaint_tf import cli

    assert cli._baseline_names(None, ("a", "b")) is None  # the library's default
    assert cli._baseline_names(" all ", ("a", "b")) == ("a", "b")
    assert cli._baseline_names("telea,fsr_best", ("a",)) == ("telea", "fsr_best")


# --------------------------------------------------------------------------- reading photos


def _write_sets(root, rng, sets=("Kodak", "Mc"), count=3):
    written = {}
    for folder in sets:
        for number in range(count):
            path = root / folder / f"{number}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            image = rng.integers(0, 256, (20, 30, 3), np.uint8)
            cv2.imwrite(str(path), image[..., ::-1])  # OpenCV writes BGR
            written[f"{folder}/{number}.png"] = image
    return written


def test_photos_are_decoded_as_rgb_and_named_from_any_source_form(tmp_path, rng, monkeypatch):
    written = _write_sets(tmp_path, rng)
    photos = PE.load_photo_set(str(tmp_path / "Kodak"))  # a string
    assert photos.names == ["Kodak/0.png", "Kodak/1.png", "Kodak/2.png"]
    for name, image in zip(photos.names, photos.images):
        np.testing.assert_array_equal(image, written[name])
    single = PE.load_photo_set(tmp_path / "Mc" / "1.png")  # one file
    assert single.names == ["1.png"] and len(single.images) == 1
    np.testing.assert_array_equal(single.images[0], written["Mc/1.png"])
    monkeypatch.chdir(tmp_path)  # relative folders
    assert PE.load_photo_set(["Mc", "Kodak/2.png"]).names == ["Mc/0.png", "Mc/1.png",
                                                              "Mc/2.png", "2.png"]
    monkeypatch.setenv("HOME", str(tmp_path))
    assert PE.load_photo_set("~/Kodak", limit=1).names == ["Kodak/0.png"]
    assert PE.load_photo_set(tmp_path / "Kodak", limit=3).names[-1] == "Kodak/2.png"


# --------------------------------------------------------------------------- scoring


class _Clock:
    """A perf_counter that stands still until a fake predict moves it on."""

    def __init__(self):
        self.now = 100.0

    def perf_counter(self):
        return self.now


def test_a_methods_seconds_per_photo_are_its_own_predict_time(rng, monkeypatch):
    photos = _photos(rng)
    masks = _box_masks(photos)
    clock = _Clock()
    monkeypatch.setattr(PE, "time", clock)
    seen = []

    def predict(masked, hole):
        seen.append((masked, hole))
        clock.now += 0.25 * (len(seen) + 1) + 0.001  # 0.501, 0.751, 1.001 s
        return masked

    row = PE.evaluate_photos(predict, photos, masks)
    assert row["seconds_per_photo"] == pytest.approx(0.751)
    assert row["seconds"] == 2.25  # 2.253, to the hundredth
    assert row["name"] == "model" and row["masks"] == "custom" and "area_bins" not in row
    assert row["mask_checksum"] == mask_set_checksum(masks)[:12]
    # Each predict sees one photo scaled to [0, 1] with 0 in its holes, and its mask.
    for (masked, hole), photo, mask in zip(seen, photos, masks):
        assert masked.shape == (1, *photo.shape) and hole.shape == (1, *mask.shape)
        np.testing.assert_array_equal(hole[0], mask)
        expected = np.where(mask > 0, 0.0, photo / np.float32(255))
        np.testing.assert_array_equal(masked[0], expected.astype(np.float32))


def test_scoring_time_is_not_the_methods(rng, monkeypatch):
    photos = _photos(rng)
    clock = _Clock()
    monkeypatch.setattr(PE, "time", clock)
    original = PE.checked_output

    def slow_check(output, shape):
        clock.now += 1.0  # the scoring's own time
        return original(output, shape)

    monkeypatch.setattr(PE, "checked_output", slow_check)
    row = PE.evaluate_photos(lambda masked, hole: masked, photos, _box_masks(photos))
    assert row["seconds_per_photo"] == 0.0 and row["seconds"] == 3.0


def test_uint8_and_float_photos_score_alike(rng):
    photos = _photos(rng)
    masks = _box_masks(photos)
    predict = NavierStokesBaseline().predict
    as_uint8 = PE.evaluate_photos(predict, photos, masks)
    as_float = PE.evaluate_photos(predict, [p / np.float32(255) for p in photos], masks)
    for key in PE.HOLE_FIGURES:
        assert as_uint8[key] == pytest.approx(as_float[key], rel=1e-6)


def test_area_bins_score_each_photo_in_its_bin(rng):
    photos = _photos(rng, ((40, 40), (40, 40)))
    masks = [np.zeros((40, 40, 1), np.uint8) for _ in photos]
    masks[0][:4] = 1   # 10 % holes
    masks[1][:12] = 1  # 30 % holes
    row = PE.evaluate_photos(lambda m, h: m, photos, masks, area_bins=[(0.0, 0.2), (0.2, 0.5)])
    assert [(b["bin"], b["n"]) for b in row["area_bins"]] == [("0-20%", 1), ("20-50%", 1)]
    alone = PE.evaluate_photos(lambda m, h: m, photos[1:], masks[1:])
    assert row["area_bins"][1]["hole_psnr"] == pytest.approx(alone["hole_psnr"])


def test_the_progress_bar_counts_photos(rng, monkeypatch):
    bar = PE._progress_bar(7)
    assert bar.target == 7 and bar.unit_name == "photo"
    photos = _photos(rng)

    def no_bar(total):
        raise AssertionError("a progress bar nobody asked for")

    monkeypatch.setattr(PE, "_progress_bar", no_bar)
    PE.evaluate_photos(lambda m, h: m, photos, _box_masks(photos))
    updates = []

    class Bar:
        def update(self, done):
            updates.append(done)

    monkeypatch.setattr(PE, "_progress_bar", lambda total: updates.append(("total", total))
                        or Bar())
    PE.evaluate_photos(lambda m, h: m, photos, _box_masks(photos), progress=True)
    assert updates == [("total", 3), 1, 2, 3]


def test_photo_predict_fn_is_inpaint_with_its_options(monkeypatch):
    calls = []
    monkeypatch.setattr(PE, "inpaint", lambda *args, **options: calls.append((args, options))
                        or "filled")
    predict = PE.photo_predict_fn("network", windows=False, batch_size=3)
    assert predict("masked", "holes") == "filled"
    assert calls == [(("network", "masked", "holes"),
                      {"verbose": 0, "windows": False, "batch_size": 3})]  # silent by default
    PE.photo_predict_fn("network", verbose=1)("masked", "holes")
    assert calls[-1] == (("network", "masked", "holes"), {"verbose": 1})


# --------------------------------------------------------------------------- comparing


def _mean_fill_inpaint(calls):
    """A stand-in for `inpaint_tf.inpaint`: each photo's holes get its known mean. It
    takes float32 images and masks only, as the networks do."""
    from inpaint_tf.evaluation.baselines import MeanFillBaseline

    def fake(model, masked, masks, **options):
        assert masked.dtype == np.float32 and masks.dtype == np.float32
        calls.append((model, options))
        return MeanFillBaseline().predict(masked, masks)

    return fake


def test_compare_on_photos_wires_seeds_bins_names_and_options(rng, monkeypatch):
    calls, scored = [], []
    monkeypatch.setattr(PE, "inpaint", _mean_fill_inpaint(calls))
    real = PE.evaluate_photos

    def spy(predict, photos, masks, **options):
        scored.append(options)
        return real(predict, photos, masks, **options)

    monkeypatch.setattr(PE, "evaluate_photos", spy)
    photos = PE.PhotoSet(["a", "b"], _photos(rng, ((48, 64), (64, 48))))
    rows = PE.compare_on_photos("net", photos, ("blobs", "object_boxes"), seed=5,
                                baselines="telea,identity", name="ours",
                                area_bins_for=("object_boxes",), progress=True, windows=False)
    assert [(r["masks"], r["name"], r["mask_seed"]) for r in rows] == [
        (kind, method, 5) for kind in ("blobs", "object_boxes")
        for method in ("telea", "identity", "ours")]
    assert calls == [("net", {"verbose": 0, "windows": False})] * 4  # 2 photos, 2 families
    assert [(o["name"], o["mask_kind"], o["area_bins"], o["progress"]) for o in scored] == [
        (method, kind, bins, True) for kind, bins in (("blobs", None), ("object_boxes", True))
        for method in ("telea", "identity", "ours")]
    for row in rows:
        masks = eval_photo_masks(row["masks"], photos.images, 5)
        assert row["mask_checksum"] == mask_set_checksum(masks)[:12]
        assert ("area_bins" in row) == (row["masks"] == "object_boxes")
    scored.clear()
    PE.compare_on_photos(None, photos, ("blobs",), baselines=("identity",))
    assert [o["progress"] for o in scored] == [False]


def test_compare_on_photos_defaults(rng, monkeypatch):
    monkeypatch.setattr(PE, "inpaint", _mean_fill_inpaint([]))
    photos = PE.PhotoSet(["a"], _photos(rng, ((48, 64),)))
    rows = PE.compare_on_photos("net", photos, baselines=("identity",))
    assert [row["masks"] for row in rows[::2]] == list(PE.PHOTO_MASK_KINDS)
    assert {row["name"] for row in rows} == {"identity", "model"}
    assert {row["mask_seed"] for row in rows} == {EVAL_SEED}
    for row in rows:
        masks = eval_photo_masks(row["masks"], photos.images, EVAL_SEED)
        assert row["mask_checksum"] == mask_set_checksum(masks)[:12]
        assert ("area_bins" in row) == (row["masks"] == "free_form_area")
    default = PE.compare_on_photos(None, photos, ("thin_strokes",))
    assert [row["name"] for row in default] == ["navier_stokes", "telea", "biharmonic",
                                                "fsr_fast"]


def test_compare_on_photos_refuses_bad_methods_and_names(rng):
    photos = PE.PhotoSet(["a"], _photos(rng, ((48, 64),)))
    with pytest.raises(ValueError, match="Unknown baseline 'patchmatch'"):
        PE.compare_on_photos(None, photos, ("blobs",), baselines=("patchmatch",))
    with pytest.raises(ValueError, match="name of its own"):
        PE.compare_on_photos("net", photos, ("blobs",), name="telea")
    rows = PE.compare_on_photos(None, photos, ("blobs",), baselines=("telea",), name="telea")
    assert [row["name"] for row in rows] == ["telea"]  # no model: the name is unused


def test_the_samples_show_navier_stokes_and_the_model_on_the_fixed_holes(rng, monkeypatch,
                                                                         tmp_path):
    import inpaint_tf.plotting as plotting

    calls, drawn = [], []
    monkeypatch.setattr(PE, "inpaint", _mean_fill_inpaint(calls))
    monkeypatch.setattr(plotting, "plot_hole_crops",
                        lambda *args, **options: drawn.append((args, options)) or "figure")
    photos = PE.PhotoSet(list("abcde"), _photos(rng, ((48, 64), (64, 48), (50, 50), (40, 60),
                                                      (44, 44))))
    assert PE.plot_photo_samples("net", photos, "blobs", tmp_path / "s.png",
                                 windows=False) == "figure"
    (images, masks, outputs), options = drawn[0]
    assert options == {"size": 128, "path": tmp_path / "s.png", "close": True}
    assert len(images) == 4 and all(a is b for a, b in zip(images, photos.images))
    expected_masks = eval_photo_masks("blobs", photos.images[:4], EVAL_SEED)
    for mask, expected in zip(masks, expected_masks):
        np.testing.assert_array_equal(mask, expected)
    assert list(outputs) == ["navier_stokes", "model"]
    assert calls == [("net", {"windows": False})] * 4
    for image, mask, ns, ours in zip(images, masks, outputs["navier_stokes"], outputs["model"]):
        floats, hole = image[None] / np.float32(255), mask[None].astype(np.float32)
        np.testing.assert_array_equal(ns, NavierStokesBaseline().predict(floats * (1 - hole),
                                                                          hole)[0])
        known = np.broadcast_to(mask == 0, image.shape)
        np.testing.assert_allclose(ours[known], image[known] / 255, atol=1e-6)
        assert ours[~known].std() < 0.05  # the stand-in's mean fill
    PE.plot_photo_samples("net", photos, "thin_strokes", tmp_path / "t.png", count=2, seed=9,
                          size=32)
    (images, masks, _), options = drawn[1]
    assert len(images) == 2 and options["size"] == 32
    for mask, expected in zip(masks, eval_photo_masks("thin_strokes", photos.images[:2], 9)):
        np.testing.assert_array_equal(mask, expected)


# --------------------------------------------------------------------------- the best


def _row(kind, name, psnr, **more):
    return {"masks": kind, "name": name, "hole_psnr": psnr, **more}


FIVE = [_row("blobs", "navier_stokes", 20.0), _row("blobs", "telea", 20.5),
        _row("blobs", "biharmonic", 21.0), _row("blobs", "fsr_fast", 22.0),
        _row("blobs", "fsr_best", 21.9), _row("blobs", "model", 22.4)]


def test_the_best_is_the_highest_psnr_of_the_classical_methods():
    assert PE.best_baselines(FIVE) == {"blobs": "fsr_fast"}
    assert PE.best_label(FIVE, "blobs") == "fsr_fast"  # all five measured
    assert PE.margins(FIVE) == pytest.approx({"blobs": 0.4})
    # A model above every baseline is never "the best classical method".
    assert PE.best_baselines(FIVE, baselines=("telea", "model")) == {"blobs": "model"}
    assert PE.best_baselines(FIVE, baselines=("navier_stokes", "telea")) == {"blobs": "telea"}


def test_a_tie_goes_to_the_first_in_the_order_given():
    rows = [_row("blobs", "telea", 21.0), _row("blobs", "navier_stokes", 21.0)]
    assert PE.best_baselines(rows) == {"blobs": "navier_stokes"}
    assert PE.best_baselines(rows, ("telea", "navier_stokes")) == {"blobs": "telea"}


def test_older_records_give_the_best_of_what_they_hold_and_say_so():
    rows = [_row("blobs", "navier_stokes", 20.0), _row("blobs", "telea", 20.5),
            _row("blobs", "model", 21.0), _row("thin_strokes", "model", 25.0),
            _row("object_boxes", "telea", 18.0)]
    assert PE.best_baselines(rows) == {"blobs": "telea", "object_boxes": "telea"}
    assert PE.best_label(rows, "blobs") == "telea (best of navier_stokes, telea)"
    assert PE.best_label(rows, "object_boxes") == "telea (best of telea)"
    assert PE.best_label(rows, "thin_strokes") == "none measured"
    assert PE.best_label(rows, "medium_strokes") == "none measured"
    assert PE.best_label(rows, "blobs", ("telea",)) == "telea"
    assert PE.margins(rows) == pytest.approx({"blobs": 0.5})  # families with both only


def test_margins_follow_the_models_name():
    rows = [*FIVE, _row("blobs", "ours", 23.5)]
    assert PE.margins(rows, "ours") == pytest.approx({"blobs": 1.5})
    assert PE.margins(rows, "nobody") == {}


def test_the_photo_table_line_by_line():
    rows = [_row("blobs", "navier_stokes", 20.0, n=3, hole_share=0.1),
            _row("blobs", "telea", 20.5, n=3, hole_share=0.1),
            _row("blobs", "m", 21.0, n=3, hole_share=0.1, hole_ssim=0.8, hole_mae=0.05),
            _row("boxes", "m", 19.0, n=3, hole_share=0.2, hole_ssim=0.7, hole_mae=0.07),
            _row("strokes", "telea", 24.0, n=2, hole_share=0.05)]
    table = PE.photo_table(rows, name="m")
    expected = pd.DataFrame([
        {"masks": "blobs", "photos": 3, "hole share": 0.1, "navier_stokes PSNR": 20.0,
         "telea PSNR": 20.5, "m PSNR": 21.0,
         "best classical": "telea (best of navier_stokes, telea)", "m margin (dB)": 0.5,
         "m SSIM": 0.8, "m MAE": 0.05},
        {"masks": "boxes", "photos": 3, "hole share": 0.2, "m PSNR": 19.0,
         "best classical": "none measured", "m margin (dB)": math.nan, "m SSIM": 0.7,
         "m MAE": 0.07},
        {"masks": "strokes", "photos": 2, "hole share": 0.05, "telea PSNR": 24.0,
         "best classical": "telea (best of telea)"}])
    pd.testing.assert_frame_equal(table, expected)
    renamed = PE.photo_table([{**row, "name": "model"} if row["name"] == "m" else row
                              for row in rows])  # the default name
    assert list(renamed.columns) == [column.replace("m ", "model ") for column in
                                     expected.columns]
    narrow = PE.photo_table(rows, name="m", baselines=("navier_stokes",))
    assert narrow["best classical"].tolist() == ["navier_stokes", "none measured",
                                                 "none measured"]
    assert narrow.loc[0, "m margin (dB)"] == 1.0


def test_the_times_table_weighs_families_by_their_photos():
    rows = [_row("blobs", "telea", 0, n=2, seconds_per_photo=0.5),
            _row("boxes", "telea", 0, n=6, seconds_per_photo=1.5),
            _row("blobs", "m", 0, n=2, seconds_per_photo=0.25),
            _row("boxes", "m", 0, n=6)]  # an older record: no time
    table = PE.photo_times(rows)
    expected = pd.DataFrame([
        {"method": "telea", "blobs (s/photo)": 0.5, "boxes (s/photo)": 1.5,
         "all (s/photo)": 1.25},
        {"method": "m", "blobs (s/photo)": 0.25, "boxes (s/photo)": math.nan,
         "all (s/photo)": math.nan}])
    pd.testing.assert_frame_equal(table, expected)
