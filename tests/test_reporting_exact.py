"""The report cell by cell, in seconds: run folders written here, CIFAR-10 replaced by a
few constant images and Navier–Stokes and Telea by constant fills, so that every
figure is known by hand; the masks the baselines are scored on are checked to be the
runs' (the fixed evaluation seed, or the validation seed and images for time to
quality); each comparison is pinned at its boundary."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest
from test_readme_figures import section, table

import inpaint_tf.data
import inpaint_tf.evaluation.baselines
from inpaint_tf.configs import STUDY_RESULTS, load_config, save_config, with_overrides
from inpaint_tf.masks import eval_masks
from inpaint_tf.reports import results as reporting

TEST_SEED, VALIDATION_SEED = 20180420, 20180421  # the fixed test and validation mask seeds
N, SIZE = 8, 16


def _row(**values):
    row = dict(name="x", masks="center_box", n=N, hole_share=0.1, study_mae=0.0159,
               study_mse=0.001, study_dice=0.6, dice_ceiling=0.61, hole_mae=0.08,
               hole_mse=0.012, hole_psnr=20.5, hole_ssim=0.7, hole_dice=0.55,
               hole_dice_ceiling=0.58, mask_checksum="3f2a", seconds=1.0,
               mask_seed=TEST_SEED)
    row.update(values)
    return row


def _run(tmp_path, name, experiment, test, *, config=None, history=None, **metrics):
    folder = tmp_path / name
    folder.mkdir()
    record = dict(config=name, study_experiment=experiment, test=test, epochs=3,
                  train_seconds=1500.0, device="CPU (2 cores)", precision="mixed_bfloat16",
                  batch_size=64, steps_per_epoch="full", data_source="cifar.npz",
                  test_checksum="0123abcd")
    record.update(metrics)
    (folder / "metrics.json").write_text(json.dumps(record))
    if config is not None:
        save_config(config, folder / "config.toml")
    if history is not None:
        (folder / "state.json").write_text(json.dumps({"history": history}))
    return folder


class _Constant:
    """A baseline that fills every hole with `value`, recording the masks it was given."""

    calls: list = []

    def __init__(self, name, value):
        self.name, self.value = name, value

    def predict(self, masked, masks):
        _Constant.calls.append((self.name, masked.shape, masks.copy()))
        return np.where(masks > 0, np.float32(self.value), masked)


@pytest.fixture
def offline(monkeypatch):
    """CIFAR-10 as constant 0.25 images (test: N, validation: 2 N), NS filling 0.5 and
    Telea 0.75: hole errors 0.25 and 0.5, whatever the holes."""
    images = SimpleNamespace(test=SimpleNamespace(images=np.full((N, SIZE, SIZE, 3), 0.25,
                                                                 np.float32)),
                             validation=SimpleNamespace(images=np.full(
                                 (2 * N, SIZE, SIZE, 3), 0.25, np.float32)))
    sources = []
    monkeypatch.setattr(inpaint_tf.data, "load_cifar10",
                        lambda data=None: sources.append(data) or images)
    monkeypatch.setattr(inpaint_tf.evaluation.baselines, "NavierStokesBaseline",
                        lambda: _Constant("navier_stokes", 0.5))
    monkeypatch.setattr(inpaint_tf.evaluation.baselines, "TeleaBaseline",
                        lambda: _Constant("telea", 0.75))
    _Constant.calls = []
    return sources


def test_baselines_are_scored_on_the_runs_masks_and_images(offline):
    scores = reporting.baseline_scores("irregular", 6, "cifar.npz")
    assert offline == ["cifar.npz"]
    assert [name for name, _, _ in _Constant.calls] == ["navier_stokes", "telea"]
    for _, shape, masks in _Constant.calls:
        assert shape == (6, SIZE, SIZE, 3)  # the first n test images
        np.testing.assert_array_equal(masks, eval_masks("irregular", 6, TEST_SEED, SIZE, SIZE))
    ns, telea = scores["navier_stokes"], scores["telea"]
    assert (ns["name"], ns["masks"], ns["n"]) == ("navier_stokes", "irregular", 6)
    assert (telea["name"], telea["masks"]) == ("telea", "irregular")
    assert ns["hole_mae"] == pytest.approx(0.25) and ns["hole_mse"] == pytest.approx(0.0625)
    assert telea["hole_psnr"] == pytest.approx(10 * math.log10(1 / 0.25))
    assert "area_bins" not in ns
    _Constant.calls = []
    scores = reporting.baseline_scores("irregular_area", 5, None, area_bins=True,
                                       seed=VALIDATION_SEED, subset="validation")
    for _, shape, masks in _Constant.calls:
        assert shape == (5, SIZE, SIZE, 3)
        np.testing.assert_array_equal(
            masks, eval_masks("irregular_area", 5, VALIDATION_SEED, SIZE, SIZE))
    assert len(scores["telea"]["area_bins"]) == 5


def _report(tmp_path):
    exp1 = _run(tmp_path, "exp1", 1, _row(study_mse=0.001, study_mae=0.0159))
    tie = _run(tmp_path, "exp1_tie", 1, _row(study_mse=0.00108, study_mae=0.0159),
               wall_seconds=3000.0)
    config = with_overrides(load_config("own_unet_irregular"), **{"data.validation_images": 5})
    own = _run(
        tmp_path, "own", 0, _row(masks="irregular", hole_psnr=20.5, hole_share=0.1,
                                 study_mse=0.0009, study_mae=0.012),
        config=config, history=[
            {"epoch": 1, "seconds": 60, "val_hole_psnr": 11.0},
            {"epoch": 2, "seconds": 120, "val_hole_psnr": 13.0},
            {"epoch": 3, "seconds": 60, "val_hole_psnr": 20.0}],
        evaluations=[
            _row(masks="gan_rectangle", hole_mse=0.0125, hole_mae=0.08, hole_psnr=19.0),
            _row(masks="irregular", n=N, hole_psnr=20.25, mask_seed=99),
            _row(masks="irregular_area", hole_psnr=15.0, area_bins=[
                {"bin": "0-10%", "n": 3, "hole_share": 0.05, "hole_mae": 0.04,
                 "hole_mse": 0.003, "hole_psnr": 25.0, "hole_ssim": 0.9}])])
    gan = _run(tmp_path, "own_gan", 0, _row(masks="irregular_area", hole_mse=0.0123,
                                            study_mse=0.0456),
               config=load_config("ablation_gan_irregular_phased"))
    return reporting.build_report([exp1, tie, own, gan], tmp_path / "out" / "R.md",
                                  data="cifar.npz", command="inpaint-tf report runs/*",
                                  notes="# Notes\n\nThe budget.\n")


def test_the_report_is_its_runs_cell_by_cell(tmp_path, offline):
    text = _report(tmp_path)
    assert (tmp_path / "out" / "R.md").read_text() == text
    titles = [line for line in text.splitlines() if line.startswith("#")]
    assert titles == [
        "# Notes",
        "## Under the study's protocol (ours beside the study's reported figures)",
        "## Hole-only protocol, same fixed test masks for models and baselines",
        "## Hole-share bins (irregular strokes of controlled area, same masks for all)",
        "## Time to quality (validation hole PSNR after each epoch; the study bar is the "
        "hole PSNR that the strictest study row of the run's mask kinds implies)",
        "## Held-out check (the same models on masks drawn with another seed)",
        "## Runs"]
    assert text.startswith("# Notes\n\nThe budget.\n\n## Under")
    assert text.endswith(" by:\n\n```\ninpaint-tf report runs/*\n```\n")
    assert "\nGenerated 2" in text

    study = table(section(text, "Under"), "run")
    assert list(study[0]) == ["run", "exp", "masks", "protocol", "epochs", "batch", "MSE",
                              "MAE", "Dice", "Dice ceiling", "study MSE", "study MAE",
                              "study Dice", "study epochs", "beats study"]
    by_run = {}
    for row in study:
        by_run.setdefault(row["run"], []).append(row)
    exp1, = by_run["exp1"]
    assert (exp1["exp"], exp1["masks"], exp1["protocol"], exp1["epochs"], exp1["batch"]) == (
        "1", "center_box", "raw, whole image", "3", "64")
    assert (exp1["MSE"], exp1["MAE"], exp1["Dice"], exp1["Dice ceiling"]) == (
        "0.001", "0.0159", "0.6", "0.61")
    assert (exp1["study MSE"], exp1["study MAE"], exp1["study Dice"], exp1["study epochs"]) == (
        "0.00108", "0.01598", "0.611", "20")
    assert exp1["beats study"] == "yes"
    assert by_run["exp1_tie"][0]["beats study"] == "no"  # an equal MSE does not beat it
    own = {row["exp"]: row for row in by_run["own"]}
    # Every study row of each kind it was scored on; irregular_area has none.
    assert sorted(own) == ["-", "3", "5", "6", "7"]
    assert own["3"]["masks"] == "irregular" and own["3"]["beats study"] == "yes"
    assert own["6"]["protocol"] == "clamped, hole only" and own["6"]["MSE"] == "0.0125"
    assert own["6"]["MAE"] == "0.08" and own["6"]["Dice"] == "0.55"
    assert own["6"]["Dice ceiling"] == "0.58" and own["6"]["beats study"] == "no"
    assert own["7"]["beats study"] == "yes"  # 0.0125 < 0.0161, 0.08 < 0.0906
    gan, = by_run["own_gan"]
    assert (gan["exp"], gan["protocol"], gan["MSE"]) == ("-", "clamped, hole only", "0.0123")
    assert [gan[k] for k in ("study MSE", "study MAE", "study Dice", "study epochs",
                             "beats study")] == ["-"] * 5

    hole = table(section(text, "Hole-only"), "model")
    assert list(hole[0]) == ["model", "masks", "hole MAE", "hole MSE", "hole PSNR (dB)",
                             "hole SSIM", "train min", "device", "NS margin (dB)", "beats NS",
                             "beats NS by 1 dB"]
    rows = {(row["model"], row["masks"]): row for row in hole}
    ns_psnr = 10 * math.log10(1 / 0.0625)
    ours = rows[("own", "irregular")]
    assert (ours["hole MAE"], ours["hole MSE"], ours["hole PSNR (dB)"], ours["hole SSIM"],
            ours["train min"], ours["device"]) == ("0.08", "0.012", "20.5", "0.7", "25",
                                                   "CPU (2 cores)")
    assert float(ours["NS margin (dB)"]) == round(20.5 - ns_psnr, 2)
    assert (ours["beats NS"], ours["beats NS by 1 dB"]) == ("yes", "yes")
    assert rows[("own", "gan_rectangle")]["hole PSNR (dB)"] == "19"
    ns_row = rows[("navier_stokes", "irregular")]
    assert float(ns_row["hole MAE"]) == 0.25 and float(ns_row["hole MSE"]) == 0.0625
    assert float(ns_row["hole PSNR (dB)"]) == pytest.approx(ns_psnr, abs=5e-3)
    assert [ns_row[k] for k in ("train min", "device", "NS margin (dB)", "beats NS",
                                "beats NS by 1 dB")] == ["-"] * 5
    assert float(rows[("telea", "irregular")]["hole MSE"]) == 0.25
    # Baselines once per mask set of the runs (kind and size), in the runs' order.
    baselines = [(row["model"], row["masks"]) for row in hole if row["train min"] == "-"]
    assert baselines == [(name, kind) for kind in ("center_box", "irregular", "gan_rectangle",
                                                   "irregular_area")
                         for name in ("navier_stokes", "telea")]

    bins = table(section(text, "Hole-share bins"), "model")
    assert list(bins[0]) == ["model", "masks", "hole share bin", "n", "mean share",
                             "hole MAE", "hole PSNR (dB)", "hole SSIM"]
    assert list(bins[0].values()) == ["own", "irregular_area", "0-10%", "3", "0.05", "0.04",
                                      "25", "0.9"]
    ns_bins = [row for row in bins if row["model"] == "navier_stokes"]
    assert [row["hole share bin"] for row in ns_bins] == [
        "0-10%", "10-20%", "20-30%", "30-40%", "40-60%"]
    assert {row["hole MAE"] for row in ns_bins if row["n"] != "0"} == {"0.25"}
    assert {row["model"] for row in bins} == {"own", "navier_stokes", "telea"}

    quality, = table(section(text, "Time to quality"), "run")
    bar = 10 * math.log10(1 / (0.00106 / 0.1))  # exp3's MSE over the 10 % hole share
    assert list(quality) == ["run", "validation masks", "NS validation PSNR (dB)",
                             "min to pass NS", "min to pass NS + 1 dB", "study bar (dB)",
                             "min to pass study bar", "train min", "final validation PSNR (dB)"]
    assert (quality["run"], quality["validation masks"]) == ("own", "irregular")
    assert float(quality["NS validation PSNR (dB)"]) == pytest.approx(ns_psnr, abs=5e-3)
    assert (quality["min to pass NS"], quality["min to pass NS + 1 dB"]) == ("3", "4")
    assert float(quality["study bar (dB)"]) == pytest.approx(bar, abs=5e-3)
    assert (quality["min to pass study bar"], quality["train min"],
            quality["final validation PSNR (dB)"]) == ("4", "25", "20")
    validation_calls = [masks for name, shape, masks in _Constant.calls
                        if shape[0] == 5 and name == "navier_stokes"]
    assert len(validation_calls) == 1
    np.testing.assert_array_equal(validation_calls[0],
                                  eval_masks("irregular", 5, VALIDATION_SEED, SIZE, SIZE))

    held, = table(section(text, "Held-out"), "run")
    assert list(held.values()) == ["own", "irregular", "99", "8", "20.5", "20.25", "-0.25",
                                   "yes"]

    runs = table(section(text, "Runs"), "run")
    assert list(runs[0]) == ["run", "config", "epochs", "steps/epoch", "batch", "precision",
                             "device", "train min", "wall min", "test images", "mask set",
                             "data", "test-set checksum"]
    assert list(runs[0].values()) == ["exp1", "exp1", "3", "full", "64", "mixed_bfloat16",
                                      "CPU (2 cores)", "25", "-", "8", "3f2a", "cifar.npz",
                                      "0123abcd"]
    assert runs[1]["wall min"] == "50"


def test_without_baselines_or_optional_tables(tmp_path, offline):
    run = _run(tmp_path, "exp1", 1, _row())
    text = reporting.build_report([run], tmp_path / "R.md")
    assert offline == [None]  # scored on $INPAINT_TF_DATA or Keras' copy
    text = reporting.build_report([run], tmp_path / "R.md", baselines=False)
    assert "navier_stokes" not in text and "## Hole-share" not in text
    assert "## Time to quality" not in text and "## Held-out" not in text
    assert text.startswith("## Under the study's protocol")
    assert text.rstrip().splitlines()[-1].startswith("Generated ") and text.endswith(".\n")


# --------------------------------------------------------------------------- boundaries


def _scored(**test):
    return {"run": "r", "test": _row(**test), "epochs": 1, "batch_size": 1}


def test_ns_margins_at_zero_and_one_db():
    reference = {("irregular", N): {"navier_stokes": _row(hole_psnr=20.0),
                                    "telea": _row(hole_psnr=19.0)}}
    runs = [{**_scored(masks="irregular", hole_psnr=psnr), "run": f"r{psnr}"}
            for psnr in (20.0, 20.5, 21.0)]
    rows = reporting._hole_table(runs, reference).to_dict("records")
    verdicts = [(row["NS margin (dB)"], row["beats NS"], row["beats NS by 1 dB"])
                for row in rows[:3]]
    assert verdicts == [(0.0, "no", "no"), (0.5, "yes", "no"), (1.0, "yes", "yes")]
    assert rows[0]["train min"] == 0.0 and rows[0]["device"] == "-"  # missing: 0 and "-"
    # A run scored on another set size has no baseline to face.
    other = reporting._hole_table([_scored(masks="irregular", n=9)], reference)
    assert other.iloc[0].isna()["NS margin (dB)"]


def test_the_held_out_check_is_within_three_tenths_of_a_db_inclusive():
    def held(psnr, reference=0.2):
        run = {"run": "r", "test": _row(masks="irregular", hole_psnr=reference),
               "evaluations": [_row(masks="irregular", hole_psnr=psnr, mask_seed=7)]}
        return reporting._held_out_table([run]).iloc[0]

    assert held(0.5)["within 0.3 dB"] == "yes"  # 0.5 - 0.2 == 0.3 exactly
    assert held(0.2 - 0.3)["within 0.3 dB"] == "yes"
    assert held(0.51)["within 0.3 dB"] == "no" and held(-0.11)["within 0.3 dB"] == "no"
    assert held(0.2123456)["difference (dB)"] == 0.012
    # Kinds never scored on the fixed set, and fixed-set rows, are not held-out checks.
    run = {"run": "r", "test": _row(masks="irregular"), "evaluations": [
        _row(masks="blobs", mask_seed=7), _row(masks="irregular")]}
    assert reporting._held_out_table([run]) is None


def test_scored_rows_keep_the_latest_fixed_set_row_per_kind_of_the_tests_size():
    run = {"test": _row(masks="irregular", hole_psnr=1.0), "evaluations": [
        _row(masks="irregular", hole_psnr=2.0),  # the test kind again: the test row stays
        _row(masks="center_box", hole_psnr=3.0),
        _row(masks="center_box", hole_psnr=4.0),  # the later one wins
        _row(masks="random_box", n=N + 1),  # another size
        _row(masks="gan_rectangle", mask_seed=5),  # a held-out seed
        {k: v for k, v in _row(masks="boxes").items() if k != "mask_seed"},  # fixed: no seed
    ]}
    rows = reporting.scored_rows(run)
    assert [(row["masks"], row["hole_psnr"]) for row in rows] == [
        ("irregular", 1.0), ("center_box", 4.0), ("boxes", 20.5)]
    assert reporting.scored_rows({"test": _row()}) == [_row()]


def test_study_rows_of_a_reproduction_an_unknown_experiment_and_our_own():
    assert reporting._study_rows_of({"study_experiment": 2}, "irregular") == [
        (2, STUDY_RESULTS[2])]
    assert reporting._study_rows_of({"study_experiment": 9}, "irregular") == []
    assert reporting._study_rows_of({}, "random_box") == [(2, STUDY_RESULTS[2]),
                                                           (4, STUDY_RESULTS[4])]
    assert reporting._study_rows_of({"study_experiment": 0}, "blobs") == []


@pytest.mark.parametrize("mse, mae, beats", [
    (0.00107, 0.0159, "yes"), (0.00108, 0.0159, "no"), (0.00107, 0.01598, "no"),
    (0.00109, 0.0100, "no")])
def test_beating_a_study_row_needs_both_figures_strictly_lower(mse, mae, beats):
    run = {**_scored(study_mse=mse, study_mae=mae), "study_experiment": 1}
    row, = reporting._study_table_rows(run)
    assert row["beats study"] == beats


def test_first_passing_minutes_is_strictly_above_the_bar_and_sums_epoch_times():
    # An epoch without seconds adds none; one without a validation figure passes nothing.
    early = [{"seconds": 2.0, "val_hole_psnr": 18.0}, {"val_hole_psnr": 19.0}]
    assert reporting.first_passing_minutes(early, 18.5) == 0.0  # 2 s, not 3
    assert reporting.first_passing_minutes(early, 17.5) == 0.0
    equal = [{"seconds": 60, "val_hole_psnr": 18.0}, {"seconds": 60, "val_hole_psnr": 19.0}]
    assert reporting.first_passing_minutes(equal, 18.0) == 2.0  # 18 does not pass 18
    late = [{"seconds": 60}, {"seconds": 55, "val_hole_psnr": 20.0}]
    assert reporting.first_passing_minutes(late, 19.0) == 1.9  # 115 s, to 0.1 min
    assert reporting.first_passing_minutes(late, 20.0) is None
    assert reporting.first_passing_minutes([{"seconds": 7}], -1e9) is None


def test_read_run_refuses_runs_without_a_test_evaluation(tmp_path):
    folder = tmp_path / "half"
    folder.mkdir()
    (folder / "metrics.json").write_text(json.dumps({"epochs": 1}))
    with pytest.raises(ValueError, match="has no test evaluation"):
        reporting.read_run(folder)
    run = reporting.read_run(_run(tmp_path, "bare", 0, _row()))
    assert (run["run"], run["is_gan"], run["config_object"], run["history"]) == (
        "bare", False, None, [])
    gan = reporting.read_run(_run(tmp_path, "gan", 0, _row(),
                                  config=load_config("exp6_gan_rectangle_b32"), history=[]))
    assert gan["is_gan"] is True and gan["config_object"].name == "exp6_gan_rectangle_b32"
