"""Released models through the CLI: release a finished run, then inpaint, evaluate
and demo with it by name, on a fresh folder of releases (no training afterwards)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from test_cli_commands import _call
from test_resume import write_cifar_like

from inpaint_tf import cli
from inpaint_tf.presets import released as releases

CONFIG = """
name = "tiny_release"
[model]
kind = "unet_autoencoder"
[model.options]
filters = [4, 8]
bottleneck_filters = 8
mask_as_input = true
composite_output = true
[data]
masks = "irregular"
validation_images = 4
test_images = 8
[training]
batch_size = 8
epochs = 1
steps_per_epoch = 2
seed = 0
"""


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    root = tmp_path_factory.mktemp("release")
    data = write_cifar_like(root / "cifar.npz")
    (root / "tiny.toml").write_text(CONFIG)
    assert _call(["train", root / "tiny.toml", "--data", data, "--out", root / "run"])[0] == 0
    code, out = _call(["release", root / "run", "--folder", root / "released",
                       "--data", data])
    assert code == 0, out
    return root, data


@pytest.fixture
def package_releases(released, monkeypatch):
    root, data = released
    monkeypatch.setattr(releases, "RELEASE_FOLDER", root / "released")
    return root, data


def test_release_manifest_holds_what_the_issue_lists(released):
    root, _ = released
    manifest = json.loads((root / "released" / "tiny_release.json").read_text())
    assert manifest["mask_kinds"] == ["irregular", "irregular_area"]
    assert manifest["config"]["name"] == "tiny_release"
    assert manifest["training"]["test_checksum"] and manifest["training"]["device"]
    assert manifest["training"]["epochs"] == 1
    for kind in manifest["mask_kinds"]:
        assert {"study_mse", "hole_psnr", "hole_ssim"} <= set(manifest["test"][kind])
        assert manifest["test"][kind]["n"] == 8
    assert manifest["sha256"] == releases.file_sha256(root / "released" /
                                                      "tiny_release.weights.npz")
    assert "inpaint-tf train experiments/tiny_release.toml" in manifest["reproduce"]


def test_the_manifest_figures_are_the_released_weights_figures(package_releases):
    root, data = package_releases
    manifest = releases.pretrained_manifest("tiny_release")
    code, out = _call(["evaluate", "--model", "tiny_release", "--data", data, "--n", "8",
                       "--masks", "irregular"])
    assert code == 0
    expected = manifest["test"]["irregular"]
    assert float(out.split("hole_psnr=")[1].split()[0]) == pytest.approx(
        expected["hole_psnr"], rel=5e-4)  # printed to 4 digits
    from inpaint_tf.evaluation import evaluate_run

    row = evaluate_run("tiny_release", data=data, n=8, masks="irregular")
    for key in ("study_mse", "study_mae", "hole_mse", "hole_psnr", "hole_ssim"):
        assert row[key] == pytest.approx(expected[key], rel=1e-6)


def test_inpaint_a_large_photo_by_release_name(package_releases):
    root, _ = package_releases
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (512, 600, 3), dtype=np.uint8)
    holes = np.zeros((512, 600), np.uint8)
    cv2.line(holes, (20, 30), (580, 480), 255, 9)
    cv2.circle(holes, (300, 200), 40, 255, -1)
    cv2.imwrite(str(root / "photo.png"), photo[:, :, ::-1])
    cv2.imwrite(str(root / "holes.png"), holes)
    code, out = _call(["inpaint", "--model", "tiny_release", "--image", root / "photo.png",
                       "--mask", root / "holes.png", "--out", root / "out.png"])
    assert code == 0, out
    filled = cv2.imread(str(root / "out.png"))[:, :, ::-1]
    assert filled.shape == photo.shape
    known = holes == 0
    np.testing.assert_array_equal(filled[known], photo[known])
    # The holes hold the released model's fill, as `inpaint` gives it through the Python
    # API (the CLI's call), rounded to 8 bits: not any value that differs from the photo.
    from inpaint_tf.inference import inpainting as inference

    expected = inference.inpaint(releases.pretrained("tiny_release"), photo,
                                 (holes > 0)[..., None])
    expected = np.round(expected * 255.0).astype(np.uint8)
    assert np.abs(filled.astype(int) - expected).max() <= 1
    assert (filled[~known] != photo[~known]).mean() > 0.9


def test_evaluate_by_release_name_with_area_bins(package_releases):
    _, data = package_releases
    code, out = _call(["evaluate", "--model", "tiny_release", "--data", data,
                       "--masks", "irregular_area", "--area-bins"])
    assert code == 0
    assert "holes   0-10%" in out and "holes  40-60%" in out


def test_demo_writes_the_grid_and_figures(package_releases):
    root, data = package_releases
    code, out = _call(["demo", "--out", root / "demo", "--n", "8", "--data", data])
    assert code == 0, out
    assert (root / "demo" / "samples.png").stat().st_size > 1000
    figures = (root / "demo" / "figures.md").read_text()
    assert "| tiny_release | irregular |" in figures and "CIFAR-10 test images" in figures


def test_bad_release_inputs_are_one_line_errors(package_releases, capsys):
    root, _ = package_releases
    assert cli.main(["evaluate", "--model", "nope"]) == 2
    assert "No model found at nope" in capsys.readouterr().err
    assert cli.main(["evaluate", str(root / "run"), "--model", "tiny_release"]) == 2
    assert "Give the model once" in capsys.readouterr().err
    assert cli.main(["evaluate"]) == 2
    assert "Give the model once" in capsys.readouterr().err
    assert cli.main(["release", str(root / "missing")]) == 2
    assert "not a finished run folder" in capsys.readouterr().err
