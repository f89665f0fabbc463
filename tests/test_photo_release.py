"""Releasing a photo model: figures at full size beside OpenCV, the held-out seed, the
data record, and an offline check set any machine reproduces."""

import json

import cv2
import numpy as np
import pytest

from inpaint_tf import cli
from inpaint_tf.configs import config_from_dict
from inpaint_tf.evaluation.photos import PHOTO_BASELINES, PHOTO_MASK_KINDS, best_label
from inpaint_tf.presets import releasing as releases
from inpaint_tf.presets.released import pretrained
from inpaint_tf.training.loop import train

CONFIG = {
    "name": "tiny_photo_release",
    "model": {"options": {"filters": [4, 8], "bottleneck_filters": 8, "mask_as_input": True,
                          "composite_output": True, "prefill": "harmonic"}},
    "data": {"kind": "photos", "masks": "free_form", "crop_size": 32, "held_out_photos": 2,
             "validation_images": 4, "test_images": 4, "mask_canvas_min": 64,
             "mask_canvas_max": 96},
    "training": {"batch_size": 2, "epochs": 1, "steps_per_epoch": 2, "loss": "mse"}}


def _write_photos(folder, rng, sizes):
    folder.mkdir(parents=True)
    y, x = np.mgrid[0:128, 0:160]
    for number, (h, w) in enumerate(sizes):
        base = np.stack([x / 160, y / 128, np.sin(x / 9.0 + number) * 0.5 + 0.5], -1)[:h, :w]
        image = np.clip(base + rng.normal(0, 0.04, base.shape), 0, 1)
        cv2.imwrite(str(folder / f"{number}.png"), np.round(255 * image[..., ::-1]))


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    root = tmp_path_factory.mktemp("photo_release")
    rng = np.random.default_rng(0)
    _write_photos(root / "train", rng, [(96, 128)] * 6)
    _write_photos(root / "test" / "Set", rng, [(80, 120), (128, 96)])
    config = config_from_dict({**CONFIG, "data": {**CONFIG["data"],
                                                  "source": str(root / "train")}})
    train(config, root / "run", verbose=0)
    path = releases.release_run(root / "run", folder=root / "released",
                                photos=[root / "test" / "Set"])
    return root, json.loads(path.read_text())


@pytest.mark.slow
def test_the_manifest_holds_full_size_figures_beside_opencv_and_the_held_out_seed(released):
    root, manifest = released
    assert manifest["mask_kinds"] == list(PHOTO_MASK_KINDS)
    for key in ("test", "held_out"):
        for kind in PHOTO_MASK_KINDS:
            figures = manifest[key][kind]
            # The five classical methods (the release's default), the best of them named.
            assert set(figures) == {"model", *PHOTO_BASELINES, "margin_db", "best_classical"}
            best = max(PHOTO_BASELINES, key=lambda method: figures[method]["hole_psnr"])
            assert figures["best_classical"] == best
            assert figures["margin_db"] == pytest.approx(figures["model"]["hole_psnr"]
                                                         - figures[best]["hole_psnr"])
            assert figures["model"]["n"] == 2
    assert manifest["test"]["blobs"]["model"]["mask_checksum"] != \
        manifest["held_out"]["blobs"]["model"]["mask_checksum"]
    data = manifest["data"]
    assert data["test_sets"] == ["Set"] and data["test_photos"] == 2
    assert data["held_out_seed"] == releases.HELD_OUT_SEED != data["mask_seed"]
    assert len(data["train_checksum"]) == 16 and len(data["test_checksum"]) == 16
    assert "area_bins" in manifest["test"]["free_form_area"]["model"]


@pytest.mark.slow
def test_the_released_photo_model_reproduces_its_check_figures(released):
    root, manifest = released
    model = pretrained("tiny_photo_release", root / "released")
    scores = releases.score_release(model, manifest["mask_kinds"],
                                    fill_value=manifest["fill_value"])
    for kind, expected in manifest["check"].items():
        assert scores[kind]["hole_psnr"] == pytest.approx(expected["hole_psnr"], rel=1e-5)
        assert scores[kind]["mask_checksum"] == expected["mask_checksum"]


@pytest.mark.slow
def test_a_photo_run_is_released_only_with_its_test_folders(released, capsys):
    root, _ = released
    with pytest.raises(ValueError, match="photo test folders"):
        releases.release_run(root / "run", folder=root / "other")
    assert cli.main(["release", str(root / "run"), "--folder", str(root / "other")]) == 2
    assert "--photos" in capsys.readouterr().err


@pytest.mark.slow
def test_the_demo_headline_is_a_real_photo_filled_by_the_photo_model(released, monkeypatch):
    from inpaint_tf.presets import released as released_models
    from inpaint_tf.reports.demo import PHOTO_DEMO_KINDS, run_demo

    root, _ = released
    monkeypatch.setattr(released_models, "RELEASE_FOLDER", root / "released")
    lines = run_demo(root / "demo", n=8)
    figures = (root / "demo" / "figures.md").read_text()
    assert figures.startswith("# A real photo at full size: Grace Hopper")
    assert "| model hole PSNR (dB) | navier_stokes (dB) | telea (dB) | biharmonic (dB) | " \
        "fsr_fast (dB) | best classical | margin (dB) |" in figures
    for kind in PHOTO_DEMO_KINDS:
        line, = [line for line in figures.splitlines()
                 if line.startswith(f"| tiny_photo_release | {kind} |")]
        cells = line.strip("|").split(" | ")
        model, classical = float(cells[3]), dict(zip(PHOTO_BASELINES, map(float, cells[4:8])))
        best = max(classical, key=classical.get)
        assert cells[8] == best and abs(float(cells[9]) - (model - classical[best])) <= 0.011
    for method in (*PHOTO_BASELINES[:4], "tiny_photo_release"):
        assert f"\n| {method} | " in figures.split("| method | seconds per photo")[1]
    assert "CIFAR-10" not in figures  # no CIFAR-10 model released in this folder
    for picture in ("samples.png", "photo_tiny_photo_release.png",
                    "photo_samples_tiny_photo_release.png"):
        assert (root / "demo" / picture).stat().st_size > 10_000
    assert any("pictures:" in line for line in lines)


@pytest.mark.slow
def test_the_photo_report_reads_the_run_record(released):
    from inpaint_tf.evaluation.photos import margins
    from inpaint_tf.evaluation.runs import evaluate_run_on_photos
    from inpaint_tf.reports.photos import PHOTO_GOALS, build_photo_report

    root, _ = released
    kinds = ("blobs", "thin_strokes")
    fixed = evaluate_run_on_photos(root / "run", [root / "test" / "Set"], masks=kinds)
    held = evaluate_run_on_photos(root / "run", [root / "test" / "Set"], masks=kinds,
                                  seed=releases.HELD_OUT_SEED)
    text = build_photo_report(root / "run", root / "PHOTOS.md", notes="# Photos\n\nBudget.",
                              command="inpaint-tf report RUN --photos")
    assert text.startswith("# Photos") and (root / "PHOTOS.md").read_text() == text
    # The release recorded its rows, fsr_best's among them; the evaluations ran the four
    # that run by default, and their rows are the latest of those four.
    recorded = json.loads((root / "run" / "metrics.json").read_text())["photo_evaluations"]

    def with_fsr_best(rows, seed):
        return rows + [row for row in recorded if row["name"] == "fsr_best"
                       and row["mask_seed"] == seed and row["masks"] in kinds]

    fixed = with_fsr_best(fixed, releases.EVAL_SEED)
    held = with_fsr_best(held, releases.HELD_OUT_SEED)
    assert len(fixed) == len(held) == 2 * 6  # two families: five methods and the model
    gaps, held_gaps = margins(fixed, "tiny_photo_release"), margins(held, "tiny_photo_release")
    for kind in kinds:
        met = "yes" if gaps[kind] >= PHOTO_GOALS[kind] else "no"
        over = best_label(fixed, kind)
        assert "best of" not in over  # all five measured
        assert f"| {kind} | {over} | {round(gaps[kind], 2):.4g} | >= {PHOTO_GOALS[kind]:+.1f} " \
            f"| {met} |" in text
        difference = round(round(held_gaps[kind], 2) - round(gaps[kind], 2), 2)
        assert f"| {kind} | {releases.HELD_OUT_SEED} | " in text
        assert abs(round(held_gaps[kind] - gaps[kind], 2) - difference) <= 0.011
    assert "## Time to quality" in text and "min to pass the best" in text
    assert "## Seconds per photo" in text
    assert cli.main(["report", str(root / "run"), str(root / "run"), "--photos", "--out",
                     str(root / "x.md")]) == 2
