"""release_run on a finished run folder written here (a tiny network, no training): what
the manifest holds, figures that are the float16 weights' (recomputed here with
`evaluate` on the same images and the fixed masks), and every refusal: a run scored on
other test images, an unfinished run, a photo run without its photo folders."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import keras
import numpy as np
import pytest

from inpaint_tf.configs import config_from_dict, save_config
from inpaint_tf.data import synthetic_split
from inpaint_tf.evaluation.classical_scores import ClassicalScores
from inpaint_tf.evaluation.photos import evaluate_photos, photo_predict_fn
from inpaint_tf.evaluation.protocols import as_predict_fn, evaluate
from inpaint_tf.masks import eval_masks, eval_photo_masks
from inpaint_tf.models import build_unet_autoencoder
from inpaint_tf.presets import released
from inpaint_tf.presets import releasing as releases

OPTIONS = {"filters": [4, 8], "bottleneck_filters": 8, "mask_as_input": True,
           "composite_output": True}
CONFIG = {"name": "tiny_release", "description": "A tiny network.",
          "model": {"kind": "unet_autoencoder", "options": {**OPTIONS,
                                                            "vgg_weights": "vgg.h5"}},
          "data": {"masks": "irregular", "validation_images": 4, "test_images": 6,
                   "fill_value": 0.0},
          "training": {"batch_size": 8, "epochs": 1, "steps_per_epoch": 2}}
TRAINING = {"epochs": 1, "train_seconds": 12.5, "wall_seconds": 14.0, "device": "CPU (2 cores)",
            "precision": "float32", "batch_size": 8, "steps_per_epoch": 2,
            "data_source": "cifar.npz", "train_checksum": "feed"}


def _cifar_like(path, seed):
    """A CIFAR-10-like .npz: 10,000 validation + 8 training images, 12 test images."""
    split = synthetic_split(n_train=8, n_validation=1, n_test=12, seed=seed)
    x_train = np.concatenate([np.zeros((10_000, 32, 32, 3), np.uint8), split.train.images])
    np.savez(path, x_train=x_train, y_train=np.zeros(len(x_train), np.int64),
             x_test=split.test.images, y_test=np.zeros(12, np.int64))
    return path, x_train[10_000:], split.test.images


def _checksum(images):
    return hashlib.sha256(np.ascontiguousarray(images).tobytes()).hexdigest()[:16]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished run folder (config, metrics with the test images' checksum, model) and
    its data copy."""
    root = tmp_path_factory.mktemp("release_run")
    data, train, test = _cifar_like(root / "cifar.npz", seed=1)
    run = root / "run"
    run.mkdir()
    config = config_from_dict(json.loads(json.dumps(CONFIG)))
    save_config(config, run / "config.toml")
    keras.utils.set_random_seed(0)
    model = build_unet_autoencoder((None, None, 3), **OPTIONS, fill_value=0.0)
    rng = np.random.default_rng(1)
    for weight in model.weights:  # weights whose float16 rounding changes the outputs
        if weight.path.endswith(("kernel", "bias")):
            weight.assign(rng.normal(0, 0.3, weight.shape))
    model.save(run / "model.keras")
    (run / "metrics.json").write_text(json.dumps(
        {"test": {"hole_psnr": 1.0}, **TRAINING, "test_checksum": _checksum(test)}))
    rounded = keras.models.clone_model(model)
    rounded.set_weights([w.astype(np.float16).astype(np.float32) for w in model.get_weights()])
    return root, run, data, train, test, rounded


def _scores(network, images, masks, kind):
    row = evaluate(as_predict_fn(network), images, masks, mask_kind=kind, name="release")
    return {k: v for k, v in row.items() if k not in ("name", "seconds")}


def _assert_same_figures(got: dict, expected: dict):
    assert set(got) == set(expected)
    for key, value in expected.items():
        if isinstance(value, (int, float)):
            assert got[key] == pytest.approx(value, rel=1e-6), key
        else:
            assert got[key] == value, key


@pytest.fixture
def small_check_set(monkeypatch):
    """16 check images instead of 256: the figures are the same computation, faster."""
    monkeypatch.setattr(releases, "CHECK_IMAGES", 16)


def test_the_manifest_holds_the_run_and_the_float16_weights_figures(finished,
                                                                      small_check_set):
    root, run, data, train, test, rounded = finished
    path = releases.release_run(run, folder=root / "released", data=data)
    assert path == root / "released" / "tiny_release.json"
    manifest = json.loads(path.read_text())
    config = config_from_dict(json.loads(json.dumps(CONFIG)))
    assert (manifest["format"], manifest["name"]) == (1, "tiny_release")
    assert manifest["description"] == "A tiny network." and manifest["config"] == \
        json.loads(json.dumps(config.to_dict()))
    assert manifest["builder"] == "build_unet_autoencoder"
    assert manifest["options"] == {**OPTIONS, "fill_value": 0.0}  # vgg_weights left out
    assert manifest["mask_kinds"] == ["irregular", "irregular_area"]
    assert manifest["fill_value"] == 0.0
    assert manifest["training"] == {**TRAINING, "test_checksum": _checksum(test)}
    assert manifest["reproduce"] == (
        "inpaint-tf train experiments/tiny_release.toml --precision mixed --out "
        "runs/tiny_release && inpaint-tf release runs/tiny_release")
    assert manifest["data"] == {"source": "cifar.npz", "train_checksum": _checksum(train),
                                "test_checksum": _checksum(test)}
    # The config's 6 test images, the fixed masks (seed 20180420), the float16 weights.
    for kind in ("irregular", "irregular_area"):
        expected = _scores(rounded, test[:6], eval_masks(kind, 6, seed=20180420), kind)
        _assert_same_figures(manifest["test"][kind], expected)
    check = synthetic_split(n_train=1, n_validation=1, n_test=16, seed=7).test.images
    for kind in ("irregular", "irregular_area"):
        expected = _scores(rounded, check, eval_masks(kind, 16, seed=20180420), kind)
        _assert_same_figures(manifest["check"][kind], expected)
    # The weights file holds the float16 weights; the release loads to the same network.
    release = released.pretrained("tiny_release", root / "released")
    image = check[:2].astype(np.float32) / 255
    mask = eval_masks("irregular", 2)[..., :1].astype(np.float32)
    np.testing.assert_array_equal(release({"image": image, "mask": mask}),
                                  rounded({"image": image, "mask": mask}))


def test_a_release_takes_its_name_and_number_of_test_images(finished, small_check_set,
                                                              tmp_path):
    root, run, data, _, test, rounded = finished
    # A run trained on one study kind serves that kind alone.
    boxes = tmp_path / "boxes_run"
    boxes.mkdir()
    for name in ("model.keras", "metrics.json"):
        (boxes / name).write_bytes((run / name).read_bytes())
    save_config(config_from_dict({**json.loads(json.dumps(CONFIG)),
                                  "data": {**CONFIG["data"], "masks": "center_box"}}),
                boxes / "config.toml")
    path = releases.release_run(boxes, "renamed", folder=root / "other", data=data,
                                test_images=3)
    manifest = json.loads(path.read_text())
    assert path.name == "renamed.json" and manifest["name"] == "renamed"
    assert manifest["mask_kinds"] == ["center_box"] and list(manifest["test"]) == [
        "center_box"]
    expected = _scores(rounded, test[:3], eval_masks("center_box", 3, seed=20180420),
                       "center_box")
    _assert_same_figures(manifest["test"]["center_box"], expected)


def test_other_test_images_than_the_runs_are_refused_and_nothing_is_written(finished):
    root, run, _, _, test, _ = finished
    other, _, other_test = _cifar_like(root / "other.npz", seed=2)
    with pytest.raises(ValueError, match=f"The test images read \\({_checksum(other_test)}\\) "
                                         f"are not those the run was scored on "
                                         f"\\({_checksum(test)}\\)"):
        releases.release_run(run, folder=root / "refused", data=other)
    assert not (root / "refused").exists() or list((root / "refused").iterdir()) == []


def test_unfinished_runs_and_photo_runs_without_photos_are_refused(finished, tmp_path):
    _, run, _, _, _, _ = finished
    no_config = tmp_path / "no_config"
    no_config.mkdir()
    (no_config / "metrics.json").write_text(json.dumps({"test": {}}))
    no_test = tmp_path / "no_test"
    no_test.mkdir()
    (no_test / "config.toml").write_text((run / "config.toml").read_text())
    (no_test / "metrics.json").write_text(json.dumps({"epochs": 1}))
    for folder in (no_config, no_test, tmp_path / "missing"):
        with pytest.raises(FileNotFoundError, match="is not a finished run folder"):
            releases.release_run(folder, folder=tmp_path / "released")
    photos = tmp_path / "photos"
    photos.mkdir()
    save_config(config_from_dict({**json.loads(json.dumps(CONFIG)),
                                  "data": {"kind": "photos", "masks": "free_form"}}),
                photos / "config.toml")
    (photos / "metrics.json").write_text(json.dumps({"test": {}}))
    with pytest.raises(ValueError, match="A photo model is released with its photo test "
                                         "folders"):
        releases.release_run(photos, folder=tmp_path / "released")
    assert not (tmp_path / "released").exists()


@pytest.mark.parametrize("trained_on, served", [
    ("boxes", ["center_box", "random_box", "gan_rectangle"]),
    ("irregular", ["irregular", "irregular_area"]),
    ("random_box", ["random_box"]),
])
def test_the_kinds_a_release_serves(trained_on, served):
    assert list(releases.SERVED_KINDS.get(trained_on, (trained_on,))) == served


def test_the_check_sets_are_synthetic_images_with_fixed_masks():
    images, masks = releases.check_set("center_box")
    expected = synthetic_split(n_train=1, n_validation=1, n_test=256, seed=7).test.images
    np.testing.assert_array_equal(images, expected)
    np.testing.assert_array_equal(masks, eval_masks("center_box", 256, seed=20180420))
    few, _ = releases.check_set("random_box", 5)
    np.testing.assert_array_equal(few, synthetic_split(n_train=1, n_validation=1, n_test=5,
                                                       seed=7).test.images)
    photos, photo_masks = releases.check_set("blobs")
    split = synthetic_split(n_train=1, n_validation=1, n_test=8, size=128, seed=7)
    assert len(photos) == 8 and all(p.shape == (96, 128, 3) for p in photos)
    for photo, image in zip(photos, split.test.images):
        np.testing.assert_array_equal(photo, image[16:112])
    for got, want in zip(photo_masks, eval_photo_masks("blobs", photos, 7)):
        np.testing.assert_array_equal(got, want)
    assert len(releases.check_set("blobs", 3)[0]) == 3


def test_photo_kinds_are_scored_on_the_photo_check_set(finished):
    *_, rounded = finished
    scores = releases.score_release(rounded, ["blobs"], fill_value=0.0)
    images, masks = releases.check_set("blobs")
    row = evaluate_photos(photo_predict_fn(rounded), images, masks, mask_kind="blobs")
    # The check figures are what any machine reproduces: no times.
    expected = {k: v for k, v in row.items() if k not in ("name", "seconds",
                                                           "seconds_per_photo")}
    assert set(scores) == {"blobs"}
    _assert_same_figures(scores["blobs"], expected)


def _without_times(figures) -> str:
    """Figures (or rows) as JSON text with every time taken out (they vary run to run)."""
    return json.dumps(json.loads(json.dumps(figures), object_hook=lambda entry: {
        k: v for k, v in entry.items() if "seconds" not in k}), sort_keys=True)


THREE = ("navier_stokes", "telea", "fsr_fast")  # fsr_best, the default's fifth, is slow


def test_a_photo_release_records_full_size_figures_beside_opencv(finished, tmp_path):
    """_photo_figures on two small photos: per family the model and the classical
    methods on the fixed masks and on the held-out seed, the margins over the best of
    them and its name, each method's seconds per photo, the data record."""
    import inspect

    import cv2

    from inpaint_tf.evaluation.photos import (
        PHOTO_BASELINES,
        PHOTO_MASK_KINDS,
        compare_on_photos,
        load_photo_set,
    )

    for function in (releases._photo_figures, releases.release_run):  # all five by default
        assert inspect.signature(function).parameters["baselines"].default == PHOTO_BASELINES
    *_, rounded = finished
    folder = tmp_path / "Set5"
    folder.mkdir()
    photos = synthetic_split(n_train=1, n_validation=1, n_test=2, size=64, seed=3).test.images
    for number, photo in enumerate(photos):
        cv2.imwrite(str(folder / f"{number}.png"), photo[:, :, ::-1])
    metrics = {"data_source": "photos/train", "train_checksum": "beef"}
    figures, rows_given = releases._photo_figures(rounded, [folder], metrics, THREE, name="m")
    photo_set = load_photo_set([folder])
    pixels = sorted(hashlib.sha256(f"{p.shape}{p.dtype}".encode() + p.tobytes()).hexdigest()
                    for p in photos)
    assert figures["data"] == {
        "source": "photos/train", "train_checksum": "beef", "test_sets": ["Set5"],
        "test_photos": 2, "test_checksum": hashlib.sha256("".join(pixels).encode()
                                                          ).hexdigest()[:16],
        "mask_seed": 20180420, "held_out_seed": 424242}
    assert set(figures) == {"test", "held_out", "data"}
    for key, seed in (("test", 20180420), ("held_out", 424242)):
        rows = compare_on_photos(rounded, photo_set, PHOTO_MASK_KINDS, seed=seed, name="m",
                                 baselines=THREE)
        given = [row for row in rows_given if row["mask_seed"] == seed]
        assert _without_times(given) == _without_times(rows)
        assert list(figures[key]) == list(PHOTO_MASK_KINDS)
        for kind in PHOTO_MASK_KINDS:
            by_method = {("model" if r["name"] == "m" else r["name"]): r for r in rows
                         if r["masks"] == kind}
            entry = figures[key][kind]
            assert set(entry) == {"model", *THREE, "margin_db", "best_classical"}
            for method, row in by_method.items():
                assert entry[method]["seconds_per_photo"] > 0
                kept = {k: row[k] for k in ("n", "hole_share", "hole_mae", "hole_mse",
                                            "hole_psnr", "hole_ssim", "mask_checksum")}
                if "area_bins" in row:
                    kept["area_bins"] = row["area_bins"]
                assert _without_times(entry[method]) == \
                    json.dumps(kept, sort_keys=True), (key, kind, method)
            best = max(THREE, key=lambda method: entry[method]["hole_psnr"])
            assert entry["best_classical"] == best
            assert entry["margin_db"] == pytest.approx(entry["model"]["hole_psnr"]
                                                       - entry[best]["hole_psnr"])
    assert figures["test"]["blobs"]["model"]["mask_checksum"] != \
        figures["held_out"]["blobs"]["model"]["mask_checksum"]


def test_a_photo_run_is_released_with_its_photo_figures(finished, tmp_path, monkeypatch):
    import cv2

    from inpaint_tf.evaluation.photos import PHOTO_MASK_KINDS

    root, run, _, _, _, rounded = finished
    monkeypatch.setattr(releases, "CHECK_PHOTOS", 2)
    folder = tmp_path / "Set5"
    folder.mkdir()
    photo = synthetic_split(n_train=1, n_validation=1, n_test=1, size=64, seed=3).test.images[0]
    cv2.imwrite(str(folder / "0.png"), photo[:, :, ::-1])
    photos_run = tmp_path / "photo_run"
    photos_run.mkdir()
    (photos_run / "model.keras").write_bytes((run / "model.keras").read_bytes())
    save_config(config_from_dict({**json.loads(json.dumps(CONFIG)),
                                  "data": {"kind": "photos", "masks": "free_form"}}),
                photos_run / "config.toml")
    (photos_run / "metrics.json").write_text(json.dumps({"test": {}, **TRAINING}))
    path = releases.release_run(photos_run, folder=tmp_path / "released", photos=[folder],
                                baselines=THREE)
    assert path == tmp_path / "released" / "tiny_release.json"
    assert (tmp_path / "released" / "tiny_release.weights.npz").is_file()
    manifest = json.loads(path.read_text())
    assert manifest["mask_kinds"] == list(PHOTO_MASK_KINDS)
    assert manifest["data"]["test_photos"] == 1 and manifest["data"]["test_sets"] == ["Set5"]
    assert manifest["reproduce"].endswith(
        f"inpaint-tf release runs/tiny_release --photos {folder} --baselines {','.join(THREE)}")
    recomputed, rows = releases._photo_figures(rounded, [folder], TRAINING, THREE,
                                               name="tiny_release")
    assert _without_times(manifest["test"]) == _without_times(recomputed["test"])
    # The run's report shows the released weights' rows, under the run's name.
    recorded = json.loads((photos_run / "metrics.json").read_text())["photo_evaluations"]
    assert _without_times(recorded) == _without_times(rows)
    assert {row["name"] for row in recorded} == {"tiny_release", *THREE}
    assert manifest["test"]["blobs"]["best_classical"] in THREE
    assert set(manifest["check"]) == set(PHOTO_MASK_KINDS)
    assert all(row["n"] == 2 for row in manifest["check"].values())  # the photo check set
    assert manifest["training"]["train_checksum"] == "feed"


def test_the_release_command_names_a_photo_models_folders_and_scores_file(tmp_path):
    assert releases._release_command("m") == "inpaint-tf release runs/m"
    assert releases._release_command("m", "Kodak24") == "inpaint-tf release runs/m --photos Kodak24"
    assert releases._release_command("m", ["Kodak24", Path("McMaster")], "s.json") == \
        "inpaint-tf release runs/m --photos Kodak24 McMaster --classical-scores s.json"
    scores = ClassicalScores(tmp_path / "s.json")
    assert releases._release_command("m", ["Kodak24"], scores) == \
        f"inpaint-tf release runs/m --photos Kodak24 --classical-scores {tmp_path / 's.json'}"
    assert releases._release_command("m", ["K"], "s.json", ("telea", "fsr_best"), ("fsr_best",)) \
        == "inpaint-tf release runs/m --photos K --baselines telea,fsr_best " \
           "--classical-scores s.json --reuse-only fsr_best"
    assert releases._release_command("m", ["K"], "s.json", "telea,fsr_best", "fsr_best") \
        == "inpaint-tf release runs/m --photos K --baselines telea,fsr_best " \
           "--classical-scores s.json --reuse-only fsr_best"  # the CLI's text


def test_scores_are_taken_on_the_splits_first_images_with_the_fill_value():
    """Any network, any image size: score_release passes the fill value and the
    images' height and width on (an identity network shows the fill in its figures)."""
    from types import SimpleNamespace

    image = keras.Input((None, None, 3), name="image")
    mask = keras.Input((None, None, 1), name="mask")
    identity = keras.Model({"image": image, "mask": mask}, keras.layers.Identity()(image))
    images = synthetic_split(n_train=1, n_validation=1, n_test=6, size=48, seed=4
                             ).test.images[:, :40]  # 40 x 48
    split = SimpleNamespace(test=SimpleNamespace(images=images))
    scores = releases.score_release(identity, ["center_box"], fill_value=0.5, split=split,
                                    n=4)
    masks = eval_masks("center_box", 4, seed=20180420, height=40, width=48)
    row = evaluate(as_predict_fn(identity), images[:4], masks, fill_value=0.5,
                   mask_kind="center_box")
    _assert_same_figures(scores["center_box"],
                         {k: v for k, v in row.items() if k not in ("name", "seconds")})
    assert scores["center_box"]["n"] == 4


def test_the_data_copy_defaults_to_the_configs_source(finished, small_check_set, tmp_path,
                                                      monkeypatch):
    root, run, data, _, _, _ = finished
    other, _, _ = _cifar_like(tmp_path / "other.npz", seed=5)
    monkeypatch.setenv("INPAINT_TF_DATA", str(other))  # not the run's test images
    sourced = tmp_path / "sourced"
    sourced.mkdir()
    for name in ("model.keras", "metrics.json"):
        (sourced / name).write_bytes((run / name).read_bytes())
    save_config(config_from_dict({**json.loads(json.dumps(CONFIG)),
                                  "data": {**CONFIG["data"], "source": str(data)}}),
                sourced / "config.toml")
    path = releases.release_run(sourced, folder=tmp_path / "released")
    assert json.loads(path.read_text())["data"]["test_checksum"] == \
        json.loads((run / "metrics.json").read_text())["test_checksum"]
