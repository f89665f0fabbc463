"""The photo report from run records: margins over the best classical method (named),
older records with Navier–Stokes and Telea only, the seconds per photo, the held-out
check, the bins, time to quality; without training (hand-made records)."""

# ruff: noqa: E501  (the expected report holds Markdown tables, one line per row)
import datetime
import json
import math

import numpy as np
import pandas as pd
import pytest

from inpaint_tf.masks import EVAL_SEED
from inpaint_tf.reports import photos as RP

FIVE = ("navier_stokes", "telea", "biharmonic", "fsr_fast", "fsr_best")


def _row(kind, name, psnr, seed=EVAL_SEED, **more):
    return {"masks": kind, "name": name, "hole_psnr": psnr, "n": 4, "hole_share": 0.1,
            "hole_ssim": 0.8, "hole_mae": 0.05, "seconds_per_photo": 0.5,
            "mask_seed": seed, **more}


def _five(kind, psnrs, model, seed=EVAL_SEED, name="photo_m"):
    return [*(_row(kind, method, psnr, seed) for method, psnr in zip(FIVE, psnrs)),
            _row(kind, name, model, seed)]


def test_goals_are_margins_over_the_best_classical_method():
    rows = [*_five("blobs", (20, 21, 22, 23, 23.5), 24.6),
            *_five("thin_strokes", (25, 24, 26, 26.2, 26.1), 26.5),
            *_five("object_boxes", (18, 18.5, 18.2, 18.1, 18.4), 18.3),
            *_five("thick_strokes", (20, 20, 20, 20, 20), 30)]  # no goal
    table = RP.goals_table(rows, "photo_m")
    expected = pd.DataFrame([
        {"masks": "thin_strokes", "over": "fsr_fast", "margin (dB)": 0.3,
         "goal (dB)": ">= +1.0", "met": "no"},
        {"masks": "blobs", "over": "fsr_best", "margin (dB)": 1.1, "goal (dB)": ">= +1.0",
         "met": "yes"},
        {"masks": "object_boxes", "over": "telea", "margin (dB)": -0.2,
         "goal (dB)": ">= +1.0", "met": "no"}])
    pd.testing.assert_frame_equal(table, expected)


def test_a_goal_met_exactly_is_met():
    rows = _five("object_boxes", (18, 18, 18, 18, 18), 19.0)
    assert RP.goals_table(rows, "photo_m")["met"].tolist() == ["yes"]


def test_an_older_record_is_measured_against_the_best_of_its_two():
    rows = [_row("blobs", "navier_stokes", 20.0), _row("blobs", "telea", 20.6),
            _row("blobs", "photo_m", 21.7)]
    table = RP.goals_table(rows, "photo_m")
    assert table.loc[0, "over"] == "telea (best of navier_stokes, telea)"
    assert table.loc[0, "margin (dB)"] == 1.1 and table.loc[0, "met"] == "yes"


def test_the_held_out_table_names_the_best_on_each_seed():
    fixed = [*_five("blobs", (20, 21, 22, 23, 23.5), 24.5),
             *_five("thin_strokes", (25, 24, 26, 26.2, 26.1), 26.5)]
    held = [*_five("blobs", (20, 21, 22, 23.6, 23.5), 24.0, seed=7),
            *_five("thin_strokes", (25, 24, 26, 26.2, 26.1), 26.0, seed=7),
            *_five("object_boxes", (18, 18, 18, 18, 18), 18.0, seed=7)]  # not in fixed
    table = RP.held_out_table(fixed, held, "photo_m", 7)
    expected = pd.DataFrame([
        {"masks": "blobs", "mask seed": 7, "over": "fsr_best / fsr_fast",
         "fixed-set margin (dB)": 1.0, "held-out margin (dB)": 0.4,
         "difference (dB)": -0.6, "within 0.3 dB": "no"},
        {"masks": "thin_strokes", "mask seed": 7, "over": "fsr_fast",
         "fixed-set margin (dB)": 0.3, "held-out margin (dB)": -0.2,
         "difference (dB)": -0.5, "within 0.3 dB": "no"}])
    pd.testing.assert_frame_equal(table, expected)
    near = [*_five("blobs", (20, 21, 22, 23, 23.5), 24.75, seed=7)]  # 0.25 dB apart
    assert RP.held_out_table(fixed, near, "photo_m", 7)["within 0.3 dB"].tolist() == ["yes"]
    # Exactly the tolerance apart (0.3 - 0.0 is exact in floating point): within.
    edge = RP.held_out_table(_five("blobs", (0,) * 5, 0.0), _five("blobs", (0,) * 5, 0.3, 7),
                             "photo_m", 7)
    assert edge["within 0.3 dB"].tolist() == ["yes"]
    assert RP.held_out_table(fixed, [], "photo_m", 7) is None


def test_the_bins_table_lists_every_methods_bins():
    bins = [{"bin": "0-10%", "n": 2, "hole_share": 0.05, "hole_psnr": 30.0, "hole_ssim": 0.9},
            {"bin": "10-20%", "n": 2, "hole_share": 0.15, "hole_psnr": 25.0, "hole_ssim": 0.8}]
    rows = [_row("free_form_area", "telea", 20, area_bins=bins[:1]),
            _row("free_form_area", "photo_m", 21, area_bins=bins), _row("blobs", "telea", 20)]
    table = RP.bins_table(rows)
    assert table.to_dict("records") == [
        {"method": "telea", "masks": "free_form_area", "hole share bin": "0-10%", "photos": 2,
         "mean share": 0.05, "hole PSNR (dB)": 30.0, "hole SSIM": 0.9},
        {"method": "photo_m", "masks": "free_form_area", "hole share bin": "0-10%",
         "photos": 2, "mean share": 0.05, "hole PSNR (dB)": 30.0, "hole SSIM": 0.9},
        {"method": "photo_m", "masks": "free_form_area", "hole share bin": "10-20%",
         "photos": 2, "mean share": 0.15, "hole PSNR (dB)": 25.0, "hole SSIM": 0.8}]
    assert RP.bins_table([_row("blobs", "telea", 20)]) is None


def test_the_latest_rows_of_a_seed_count():
    run = {"photo_evaluations": [_row("blobs", "telea", 20), _row("blobs", "telea", 21),
                                 _row("blobs", "telea", 22, seed=7),
                                 {**_row("blobs", "m", 23), "mask_seed": None}]}
    del run["photo_evaluations"][3]["mask_seed"]  # older rows: the fixed seed
    assert [r["hole_psnr"] for r in RP._rows_of_seed(run, EVAL_SEED)] == [21, 23]
    assert [r["hole_psnr"] for r in RP._rows_of_seed(run, 7)] == [22]
    assert RP._rows_of_seed({}, EVAL_SEED) == []


def _run_folder(tmp_path, rows):
    folder = tmp_path / "photo_run"
    folder.mkdir()
    metrics = {"test": {"masks": "free_form"}, "epochs": 3, "batch_size": 8,
               "steps_per_epoch": 100, "train_seconds": 600, "wall_seconds": 660,
               "train_checksum": "beef", "photo_evaluations": rows}
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


def test_the_report_of_a_record_with_the_five_methods(tmp_path):
    fixed = [*_five("blobs", (20, 21, 22, 23, 23.5), 24.6),
             *_five("thin_strokes", (25, 24, 26, 26.2, 26.1), 26.5)]
    held = _five("blobs", (20, 21, 22, 23, 23.5), 24.4, seed=424242)
    text = RP.build_photo_report(_run_folder(tmp_path, fixed + held), tmp_path / "P.md",
                                 notes="# Photos\n", command="inpaint-tf report RUN --photos")
    assert (tmp_path / "P.md").read_text() == text and text.startswith("# Photos\n\n## Photo")
    assert "| blobs | fsr_best | 1.1 | >= +1.0 | yes |" in text
    assert "| thin_strokes | fsr_fast | 0.3 | >= +1.0 | no |" in text
    assert "## Seconds per photo" in text and "| fsr_best | 0.5 | 0.5 | 0.5 |" in text
    assert "| blobs | 424242 | fsr_best | 1.1 | 0.9 | -0.2 | yes |" in text
    assert "Time to quality" not in text  # no config: nothing to score on
    assert "| photo_run | 3 | 100 | 8 |" in text and "inpaint-tf report RUN --photos" in text


def test_the_report_of_an_older_record(tmp_path):
    rows = [_row("blobs", "navier_stokes", 20.0), _row("blobs", "telea", 20.6),
            _row("blobs", "photo_m", 21.7)]
    for row in rows:
        del row["seconds_per_photo"]
    text = RP.build_photo_report(_run_folder(tmp_path, rows), tmp_path / "P.md")
    assert "| blobs | telea (best of navier_stokes, telea) | 1.1 | >= +1.0 | yes |" in text
    assert "| photo_m | nan | nan |" in text
    assert "Held-out" not in text and "Hole-share bins" not in text


def test_a_report_needs_the_models_rows(tmp_path):
    with pytest.raises(ValueError, match="no photo evaluation"):
        RP.build_photo_report(_run_folder(tmp_path, []), tmp_path / "P.md")
    (tmp_path / "photo_run" / "metrics.json").unlink()
    (tmp_path / "photo_run").rmdir()
    baselines_only = [_row("blobs", "telea", 20.0), _row("blobs", "identity", 5.0)]
    with pytest.raises(ValueError, match="classical methods only"):
        RP.build_photo_report(_run_folder(tmp_path, baselines_only), tmp_path / "P.md")


def test_time_to_quality_is_against_the_best_method_that_runs_here(tiny_images, monkeypatch):
    from types import SimpleNamespace

    from inpaint_tf.evaluation.protocols import evaluate
    from inpaint_tf.masks import generate_masks

    images = tiny_images[:6]
    masks = generate_masks("irregular", 6, seed=3)
    config = SimpleNamespace(data=SimpleNamespace(validation_images=5, masks="irregular"))
    monkeypatch.setattr(RP, "scoring_split", lambda c: c is config and SimpleNamespace(
        validation=SimpleNamespace(images=images)))
    asked = []
    monkeypatch.setattr(RP, "fixed_masks", lambda *args: asked.append(args) or masks[:5])
    scores = {name: evaluate(RP.BASELINES[name]().predict, images[:5], masks[:5])["hole_psnr"]
              for name in FIVE[:4]}
    best = max(scores, key=scores.get)
    history = [{"seconds": 60, "val_hole_psnr": scores[best] - 1},
               {"seconds": 90, "val_hole_psnr": scores[best] + 0.5},
               {"seconds": 30, "val_hole_psnr": scores[best] + 2}]
    run = {"run": "r", "config_object": config, "history": history, "train_seconds": 1800}
    table = RP.time_to_quality(run)
    line = table.iloc[0].to_dict()
    assert asked == [(config, "irregular", 5, RP.VALIDATION_MASK_SEED, 32, 32)]
    assert [c for c in table.columns if c.endswith("PSNR (dB)")] == [
        f"{name} PSNR (dB)" for name in FIVE[:4]] + ["final validation PSNR (dB)"]
    for name in FIVE[:4]:
        assert line[f"{name} PSNR (dB)"] == pytest.approx(scores[name])
    assert line["run"] == "r" and line["masks"] == "irregular"
    assert line["best classical"] == best and line["validation crops"] == 5
    assert line["min to pass the best"] == 2.5 and line["min to pass it + 1 dB"] == 3.0
    assert line["train min"] == 30.0 and line["final validation PSNR (dB)"] == history[-1][
        "val_hole_psnr"]
    run["history"] = history[:2]
    assert RP.time_to_quality(run).iloc[0]["min to pass it + 1 dB"] == "not yet"
    assert RP.time_to_quality({**run, "history": []}) is None
    assert RP.time_to_quality({**run, "config_object": None}) is None
    assert not math.isnan(np.float64(line["min to pass the best"]))


EXPECTED_REPORT = """\
## Photo test sets at full size (the same holes for every method)

| masks | photos | hole share | navier_stokes PSNR | telea PSNR | biharmonic PSNR | fsr_fast PSNR | fsr_best PSNR | photo_m PSNR | best classical | photo_m margin (dB) | photo_m SSIM | photo_m MAE |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
| free_form_area | 2 | 0.1 | nan | 18 | nan | nan | nan | 19.2 | telea (best of telea) | 1.2 | 0.8 | 0.05 |
| blobs | 4 | 0.1 | 20 | 21 | 22 | 23 | 23.5 | 24.61 | fsr_best | 1.113 | 0.8 | 0.05 |

## Goals: margin over the best classical method of each family

| masks | over | margin (dB) | goal (dB) | met |
|---|---|---|---|---|
| blobs | fsr_best | 1.11 | >= +1.0 | yes |

## Seconds per photo (each method's own time, without the scoring)

| method | free_form_area (s/photo) | blobs (s/photo) | all (s/photo) |
|---|---|---|---|
| telea | 0.03 | 0.02 | 0.02333 |
| navier_stokes | nan | 0.01 | 0.01 |
| biharmonic | nan | 0.3 | 0.3 |
| fsr_fast | nan | 4 | 4 |
| fsr_best | nan | 20 | 20 |
| photo_m | 1 | 0.7 | 0.8 |

## Held-out check (masks of seed 424242, used by nothing else)

| masks | mask seed | over | fixed-set margin (dB) | held-out margin (dB) | difference (dB) | within 0.3 dB |
|---|---|---|---|---|---|---|
| blobs | 424242 | fsr_best / fsr_fast | 1.11 | 0.62 | -0.5 | no |

## Hole-share bins (area-controlled strokes and blobs)

| method | masks | hole share bin | photos | mean share | hole PSNR (dB) | hole SSIM |
|---|---|---|---|---|---|---|
| telea | free_form_area | 0-10% | 2 | 0.05 | 21 | 0.7 |
| photo_m | free_form_area | 0-10% | 2 | 0.05 | 21 | 0.7 |

## Time to quality

Not computed here: no photos here

## Run

| run | epochs | steps/epoch | batch | precision | device | train min | wall min | training photos checksum | test photos |
|---|---|---|---|---|---|---|---|---|---|
| photo_run | 3 | 100 | 8 | mixed_bfloat16 | CPU (2 cores) | 10.3 | 11.7 | beef | 2 |

Generated {today}.
"""


def _hand_checked_record(tmp_path):
    """A record worked out by hand: blobs' margin 24.613 - 23.5 over FSR best (its
    held-out one 24.417 - 23.8 over FSR fast), free-form area over Telea alone, Telea's
    seconds over all photos (0.03 * 2 + 0.02 * 4) / 6, the minutes 617 / 60 and 700 / 60,
    the photo count of the first row."""
    bins = [{"bin": "0-10%", "n": 2, "hole_share": 0.05, "hole_psnr": 21.0, "hole_ssim": 0.7}]
    fixed = [_row("free_form_area", "telea", 18.0, n=2, seconds_per_photo=0.03,
                  area_bins=bins),
             *_five("blobs", (20, 21, 22, 23, 23.5), 24.613),
             _row("free_form_area", "photo_m", 19.2, n=2, seconds_per_photo=1.0,
                  area_bins=bins)]
    for row, seconds in zip(fixed[1:], (0.01, 0.02, 0.3, 4, 20, 0.7)):
        row["seconds_per_photo"] = seconds
    held = _five("blobs", (20, 21, 22, 23.8, 23.5), 24.417, seed=424242)
    folder = _run_folder(tmp_path, fixed + held)
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics.update(precision="mixed_bfloat16", device="CPU (2 cores)", train_seconds=617,
                   wall_seconds=700)
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


def test_the_whole_report_of_a_record_checked_by_hand(tmp_path, monkeypatch):
    """Every section, heading and figure of the report, with no notes and no command."""
    def no_photos(run):
        raise FileNotFoundError("no photos here")

    monkeypatch.setattr(RP, "time_to_quality", no_photos)
    text = RP.build_photo_report(_hand_checked_record(tmp_path), tmp_path / "P.md")
    assert text == EXPECTED_REPORT.format(today=datetime.date.today().isoformat())
    assert (tmp_path / "P.md").read_text() == text


def test_time_to_quality_comes_after_the_bins(tmp_path, monkeypatch):
    quality = pd.DataFrame([{"run": "photo_run", "min to pass the best": 2.5}])
    monkeypatch.setattr(RP, "time_to_quality", lambda run: quality)
    text = RP.build_photo_report(_hand_checked_record(tmp_path), tmp_path / "P.md")
    expected = EXPECTED_REPORT.format(today=datetime.date.today().isoformat()).replace(
        "## Time to quality\n\nNot computed here: no photos here",
        "## Time to quality (validation crops of held-out training photos, after each "
        "epoch)\n\n| run | min to pass the best |\n|---|---|\n| photo_run | 2.5 |")
    assert text == expected != EXPECTED_REPORT
    monkeypatch.setattr(RP, "time_to_quality", lambda run: None)  # no history
    (tmp_path / "again").mkdir()
    assert "Time to quality" not in RP.build_photo_report(
        _hand_checked_record(tmp_path / "again"), tmp_path / "P.md")
