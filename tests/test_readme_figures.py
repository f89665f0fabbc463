"""The figures of the README and the guides (docs/) against their sources, so that a new
release, a new run record or a new benchmark cannot leave them wrong: the
released-models tables of the README against the manifests (inpaint_tf/released/*.json)
and the weights files; the photo model's table (docs/inpainting.md) against its
manifest; the results summary (docs/study.md) against the run records
(experiments/records/) and RESULTS.md, which `inpaint-tf report` builds from them; the
performance (docs/performance.md), windows (docs/inpainting.md) and export-format
(docs/export.md) tables against the dated sections of benchmarks/BENCHMARKS.md they
name; RESULTS.md's own rows against the records; the masks tables (docs/study.md,
docs/training.md) against the generators.

A printed figure matches its source when it is the source rounded to the digits
printed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from inpaint_tf import masks as M
from inpaint_tf.configs import STUDY_RESULTS, load_config
from inpaint_tf.evaluation.photos import PHOTO_BASELINES
from inpaint_tf.presets.released import RELEASE_FOLDER, pretrained_manifest, pretrained_names
from inpaint_tf.reports.photos import PHOTO_GOALS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
DOCS = ROOT / "docs"
STUDY = (DOCS / "study.md").read_text()
TRAINING = (DOCS / "training.md").read_text()
INPAINTING = (DOCS / "inpainting.md").read_text()
EVALUATION = (DOCS / "evaluation.md").read_text()
EXPORT = (DOCS / "export.md").read_text()
PERFORMANCE = (DOCS / "performance.md").read_text()
RESULTS = (ROOT / "experiments" / "RESULTS.md").read_text()
BENCHMARKS = (ROOT / "benchmarks" / "BENCHMARKS.md").read_text()
RECORDS = ROOT / "experiments" / "records"
STUDY_KINDS = {"center_box", "random_box", "gan_rectangle", "irregular", "boxes",
               "irregular_area"}
SERVES = {"centre box": "center_box", "random box": "random_box",
          "GAN rectangle": "gan_rectangle", "irregular strokes": "irregular",
          "strokes of 0–60 % area": "irregular_area"}
NUMBER = r"-?\d[\d,]*(?:\.\d+)?"


def tables(text: str) -> list[list[list[str]]]:
    """Every Markdown table of `text`: rows of stripped cells, header first, no rule."""
    found, rows = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not all(cell and set(cell) <= set("-: ") for cell in cells):
                rows.append(cells)
        elif rows:
            found.append(rows)
            rows = []
    return found


def table(text: str, *header: str) -> list[dict]:
    """The rows, as {column: cell}, of the first table whose header starts with `header`."""
    for rows in tables(text):
        if tuple(rows[0][:len(header)]) == header:
            return [dict(zip(rows[0], row)) for row in rows[1:]]
    raise AssertionError(f"no table with the header {header}")


def section(text: str, title: str) -> str:
    """The text of the `##` section whose title starts with `title`, up to the next one."""
    start = text.index(f"\n## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def numbers(text: str) -> list[str]:
    return [n.replace(",", "") for n in re.findall(NUMBER, text)]


def shows(printed: str, value: float) -> bool:
    """Whether `printed` ("18.49", "0.00082", "1,234") is `value` rounded to its digits."""
    printed = printed.replace(",", "")
    digits = len(printed.split(".")[1]) if "." in printed else 0
    return abs(float(printed) - value) <= 0.5 * 10.0 ** -digits + 1e-12


def _metrics(run: str) -> dict:
    return json.loads((RECORDS / run / "metrics.json").read_text())


def _results_rows(*header) -> list[dict]:
    return table(RESULTS, *header)


def _ns_psnr(kind: str) -> str:
    rows = [r for r in _results_rows("model", "masks", "hole MAE")
            if r["model"] == "navier_stokes" and r["masks"] == kind]
    assert len(rows) == 1, kind
    return rows[0]["hole PSNR (dB)"]


# --------------------------------------------------------------------------- releases


def _released_rows() -> dict[str, list[dict]]:
    listed, current = {}, None
    for row in table(section(README, "Released models"), "model", "serves"):
        current = row["model"].strip("`") or current
        listed.setdefault(current, []).append(row)
    return listed


def test_every_cifar_release_is_in_the_released_models_table_with_its_kinds():
    listed = _released_rows()
    cifar = [name for name in pretrained_names()
             if set(pretrained_manifest(name)["mask_kinds"]) <= STUDY_KINDS]
    assert sorted(listed) == sorted(cifar)
    for name, rows in listed.items():
        assert [SERVES[row["serves"]] for row in rows] == \
            pretrained_manifest(name)["mask_kinds"]


@pytest.mark.parametrize("name", sorted(_released_rows()))
def test_the_released_models_table_is_its_manifest(name):
    manifest = pretrained_manifest(name)
    rows = _released_rows()[name]
    size, parameters = numbers(rows[0]["size (float16)"])
    with np.load(RELEASE_FOLDER / manifest["weights_file"]) as archive:
        count = sum(archive[key].size for key in archive.files)
    assert shows(size, manifest["bytes"] / 1e6) and shows(parameters, count / 1e6)
    minutes, epochs, cores = numbers(rows[0]["trained"])
    training = manifest["training"]
    assert shows(minutes, training["train_seconds"] / 60)
    assert int(epochs) == training["epochs"] and f"({cores} cores)" in training["device"]
    for row in rows:
        kind = SERVES[row["serves"]]
        figures = manifest["test"][kind]
        assert figures["n"] == 10_000
        psnr_cell = row["hole PSNR on CIFAR-10 test (NS)"]
        psnr = numbers(psnr_cell)[0]
        assert shows(psnr, figures["hole_psnr"]), (kind, psnr)
        if "(" in psnr_cell:
            assert psnr_cell.split("(")[1].rstrip(")") == _ns_psnr(kind)
        study_cell = row["under the study's protocol (study's row)"]
        match = re.fullmatch(rf"(hole )?MSE ({NUMBER}), MAE ({NUMBER}) "
                             rf"\(exp(\d): ({NUMBER}), ({NUMBER})\)", study_cell)
        if match is None:
            assert study_cell == "–" and not any(
                row["masks"] == kind for row in STUDY_RESULTS.values()), kind
            continue
        hole, mse, mae, number, study_mse, study_mae = match.groups()
        study = STUDY_RESULTS[int(number)]
        assert study["masks"] == kind and bool(hole) == (study["protocol"] == "hole")
        prefix = "hole" if hole else "study"
        assert shows(mse, figures[f"{prefix}_mse"]) and shows(mae, figures[f"{prefix}_mae"])
        assert shows(study_mse, study["mse"]) and shows(study_mae, study["mae"])


# --------------------------------------------------------------------------- results


def test_results_md_rows_of_our_runs_are_the_records():
    hole_rows = _results_rows("model", "masks", "hole MAE")
    for run in ("own_unet_boxes", "own_unet_irregular", "exp3_conv_autoencoder_irregular",
                "exp1_conv_autoencoder_center_box", "exp2_conv_autoencoder_random_box",
                "exp4_pconv_autoencoder_random_box", "exp5_pconv_autoencoder_irregular",
                "exp6_gan_rectangle_b32"):
        metrics = _metrics(run)
        scored = {metrics["test"]["masks"]: metrics["test"]}
        scored.update({row["masks"]: row for row in metrics.get("evaluations", [])
                       if row.get("mask_seed", M.EVAL_SEED) == M.EVAL_SEED
                       and row["n"] == metrics["test"]["n"]})
        rows = {r["masks"]: r for r in hole_rows if r["model"] == run}
        assert set(rows) == set(scored), run
        for kind, row in rows.items():
            for column, key in (("hole MAE", "hole_mae"), ("hole MSE", "hole_mse"),
                                ("hole PSNR (dB)", "hole_psnr"), ("hole SSIM", "hole_ssim")):
                assert f"{scored[kind][key]:.4g}" == row[column], (run, kind, column)
            margin = scored[kind]["hole_psnr"] - float(_ns_psnr(kind))  # NS to 4 digits
            assert abs(float(row["NS margin (dB)"]) - margin) < 0.01, (run, kind)


STUDY_FIGURES = {"MSE": "mse", "MAE": "mae", "Dice": "dice"}


def _study_row_sentence(text: str, margins: dict, run: str, masks: str, verdict: str,
                        figures: tuple) -> dict:
    """Checks the summary's sentence on a study row run to its budget ("The study's expN,
    run for its full E epochs (M min here), VERDICT (MSE a against b, ...) at P dB, X dB
    above Navier–Stokes") against the run's record, STUDY_RESULTS and RESULTS.md's
    margin; returns the record's test figures for the verdict's own checks."""
    metrics = _metrics(run)
    number = metrics["study_experiment"]
    quoted = ", ".join(rf"{name} (\S+) against (\S+)" for name in figures)
    found = re.search(rf"exp{number}, run for its full (\d+) epochs \((\S+) min here\), "
                      rf"{re.escape(verdict)} \({quoted}\) at (\S+) dB, (\S+) dB above "
                      r"Navier–Stokes", text)
    assert found, run
    epochs, minutes, *pairs, psnr, margin = found.groups()
    assert int(epochs) == metrics["epochs"] == \
        load_config(RECORDS / run / "config.toml").training.epochs
    assert shows(minutes, metrics["train_seconds"] / 60)
    for name, ours, study in zip(figures, pairs[::2], pairs[1::2]):
        key = STUDY_FIGURES[name]
        assert shows(ours, metrics["test"][f"study_{key}"]), (run, name)
        assert shows(study, STUDY_RESULTS[number][key]), (run, name)
    assert shows(psnr, metrics["test"]["hole_psnr"])
    assert shows(margin, margins[(run, masks)])
    return metrics["test"]


def test_the_results_summary_is_the_records_and_results_md():
    text = " ".join(section(STUDY, "Results").split())
    hole_rows = _results_rows("model", "masks", "hole MAE")
    margins = {(r["model"], r["masks"]): float(r["NS margin (dB)"]) for r in hole_rows
               if r["NS margin (dB)"] != "-"}
    # 14 epochs and under an hour per recipe.
    for run in ("own_unet_boxes", "own_unet_irregular"):
        assert _metrics(run)["epochs"] == 14 and _metrics(run)["train_seconds"] < 3600
    assert "14 epochs and under an hour per recipe" in text
    # The study rows each recipe beats, under the study's protocol.
    study_rows = _results_rows("run", "exp", "masks")
    for run, claim in (("own_unet_boxes", "exp1, exp2, exp4, exp6 and exp7"),
                       ("own_unet_irregular", "exp3 and exp5")):
        beaten = sorted({int(r["exp"]) for r in study_rows
                         if r["run"] == run and r["beats study"] == "yes"})
        assert claim in text and [int(n) for n in re.findall(r"exp(\d)", claim)] == beaten
    # Navier–Stokes margins.
    boxes = [margins[("own_unet_boxes", kind)]
             for kind in ("center_box", "random_box", "gan_rectangle")]
    low, high = re.search(r"Navier–Stokes by (\S+)–(\S+) dB hole PSNR", text).groups()
    assert shows(low, min(boxes)) and shows(high, max(boxes))
    margin, ours, ns = re.search(r"Navier–Stokes by (\S+) dB \((\S+) dB against (\S+)\)",
                                 text).groups()
    irregular = _metrics("own_unet_irregular")["test"]
    assert shows(margin, margins[("own_unet_irregular", "irregular")])
    assert shows(ours, irregular["hole_psnr"]) and ns == _ns_psnr("irregular")
    # The held-out check.
    held_out = {(r["run"], r["masks"]): r for r in _results_rows("run", "masks", "mask seed")}
    within = re.search(r"within (\S+) dB of these figures", text).group(1)
    ours_held = [r for (run, _), r in held_out.items() if run.startswith("own_unet")]
    assert all(r["mask seed"] == "424242" for r in ours_held)
    assert shows(within, max(abs(float(r["difference (dB)"])) for r in ours_held))
    listed = re.search(r"\(float16: ([^)]*?) dB on", text).group(1).split(", ")
    keys = [("own_unet_boxes", "center_box"), ("own_unet_boxes", "random_box"),
            ("own_unet_boxes", "gan_rectangle"), ("own_unet_irregular", "irregular")]
    assert listed == [held_out[key]["held-out PSNR (dB)"] for key in keys]
    # The study's exp3 at its full 20 epochs.
    exp3 = _metrics("exp3_conv_autoencoder_irregular")
    minutes, mse, study_mse, psnr = re.search(
        r"full 20 epochs \((\S+) min here\), beats its own study row narrowly \(MSE (\S+) "
        r"against (\S+)\) at (\S+) dB", text).groups()
    assert exp3["epochs"] == 20 and shows(minutes, exp3["train_seconds"] / 60)
    assert shows(mse, exp3["test"]["study_mse"]) and shows(study_mse, STUDY_RESULTS[3]["mse"])
    assert exp3["test"]["study_mse"] < STUDY_RESULTS[3]["mse"]
    assert shows(psnr, exp3["test"]["hole_psnr"])
    bins = {(r["model"], r["hole share bin"]): float(r["hole PSNR (dB)"])
            for r in _results_rows("model", "masks", "hole share bin")}
    # The study's rows run to their budgets: exp1 and exp4 beat theirs, exp2 matches its
    # MSE but not its MAE.
    exp1 = _study_row_sentence(text, margins, "exp1_conv_autoencoder_center_box", "center_box",
                               "beats its study row", ("MSE",))
    assert exp1["study_mse"] < STUDY_RESULTS[1]["mse"]
    exp2 = _study_row_sentence(text, margins, "exp2_conv_autoencoder_random_box", "random_box",
                               "matches its study row's MSE but not its MAE", ("MSE", "MAE"))
    assert abs(exp2["study_mse"] / STUDY_RESULTS[2]["mse"] - 1) < 0.01
    assert exp2["study_mae"] > STUDY_RESULTS[2]["mae"]
    exp4 = _study_row_sentence(text, margins, "exp4_pconv_autoencoder_random_box", "random_box",
                               "beats its study row", ("MSE", "Dice"))
    assert exp4["study_mse"] < STUDY_RESULTS[4]["mse"]
    assert exp4["study_mae"] < STUDY_RESULTS[4]["mae"]
    assert exp4["study_dice"] > STUDY_RESULTS[4]["dice"]
    exp5 = _study_row_sentence(text, margins, "exp5_pconv_autoencoder_irregular", "irregular",
                               "beats its study row", ("MSE", "MAE", "Dice"))
    assert exp5["study_mse"] < STUDY_RESULTS[5]["mse"]
    assert exp5["study_mae"] < STUDY_RESULTS[5]["mae"]
    assert exp5["study_dice"] > STUDY_RESULTS[5]["dice"]
    assert "falls below Navier–Stokes on holes over 40 %" in text
    assert bins[("exp3_conv_autoencoder_irregular", "40-60%")] < \
        bins[("navier_stokes", "40-60%")]


def _exp6_record():
    run = RECORDS / "exp6_gan_rectangle_b32"
    log = [line.split(",") for line in (run / "log.csv").read_text().split()]
    curve = [float(row[log[0].index("val_hole_psnr")]) for row in log[1:]]
    diagnostics = json.loads((run / "diagnostics.json").read_text())["rows"]
    assert [row["epoch"] for row in diagnostics] == list(range(1, len(curve) + 1))
    return _metrics("exp6_gan_rectangle_b32"), curve, diagnostics


def test_the_exp6_summary_is_its_record_and_diagnostics():
    text = " ".join(section(STUDY, "Results").split())
    metrics, curve, diagnostics = _exp6_record()
    epochs, study_epochs, minutes, mse, study_mse, psnr, margin, passes = re.search(
        r"exp6, the GAN, run for (\d+) of its (\d+) epochs \((\S+) min here\), is short of "
        r"its study row \(hole MSE (\S+) against (\S+), clamped output over the hole\) at "
        r"(\S+) dB, (\S+) dB above Navier–Stokes on the same GAN rectangles; its validation "
        r"figure passes Navier–Stokes after epoch (\d+)", text).groups()
    test = metrics["test"]
    assert int(epochs) == metrics["epochs"] == len(curve)
    assert int(study_epochs) == load_config("exp6_gan_rectangle_b32").training.epochs
    assert shows(minutes, metrics["train_seconds"] / 60)
    assert shows(mse, test["hole_mse"]) and shows(study_mse, STUDY_RESULTS[6]["mse"])
    assert test["hole_mse"] > STUDY_RESULTS[6]["mse"]
    assert shows(psnr, test["hole_psnr"])
    assert shows(margin, test["hole_psnr"] - float(_ns_psnr("gan_rectangle")))
    ns_validation = _exp6_ns_validation()
    first = next(i for i, value in enumerate(curve, 1) if value > ns_validation)
    assert int(passes) == first and min(curve[first - 1:]) > ns_validation
    chance = int(re.search(r"no better than chance for (\w+) epochs", text).group(1)
                 .replace("five", "5"))
    assert all(row["discriminator_accuracy"] < 0.6 for row in diagnostics[:chance])
    assert diagnostics[chance]["discriminator_accuracy"] > 0.8
    assert "stays under 1 % of the hole MSE's until then" in text
    assert all(row["adversarial_share"] < 0.01 for row in diagnostics[:chance])


def test_the_guide_says_why_the_gan_is_not_released():
    text = " ".join(INPAINTING.split())
    epochs, margin, psnr, below = re.search(
        r"after (\d+) of its 30 epochs it is (\S+) dB above Navier–Stokes on GAN rectangles "
        r"\((\S+) dB, `experiments/RESULTS.md`\), (\S+) dB below `own_unet_boxes`",
        text).groups()
    gan = _metrics("exp6_gan_rectangle_b32")
    boxes = next(row for row in _metrics("own_unet_boxes")["evaluations"]
                 if row["masks"] == "gan_rectangle" and row["mask_seed"] == M.EVAL_SEED)
    assert int(epochs) == gan["epochs"] and shows(psnr, gan["test"]["hole_psnr"])
    assert shows(margin, gan["test"]["hole_psnr"] - float(_ns_psnr("gan_rectangle")))
    assert shows(below, boxes["hole_psnr"] - gan["test"]["hole_psnr"])


def _exp6_ns_validation() -> float:
    rows = [r for r in _results_rows("run", "validation masks", "NS validation PSNR (dB)")
            if r["run"] == "exp6_gan_rectangle_b32"]
    assert len(rows) == 1
    return float(rows[0]["NS validation PSNR (dB)"])


def test_the_exp6_notes_are_its_log_and_diagnostics():
    notes = " ".join((ROOT / "experiments" / "results_notes.md").read_text().split())
    _, curve, diagnostics = _exp6_record()
    printed = re.search(r"validation hole PSNR after each epoch: ([\d., ]+) dB", notes).group(1)
    assert printed.split(", ") == [f"{value:.2f}" for value in curve]
    assert f"same validation images ({_exp6_ns_validation():.2f} dB)" in notes
    best, epoch = re.search(r"to a best of (\S+) dB after epoch (\d+)", notes).groups()
    assert shows(best, max(curve)) and curve.index(max(curve)) + 1 == int(epoch)
    test = _metrics("exp6_gan_rectangle_b32")["test"]
    under, study = re.search(r"and (\S+) dB under the study's figure \((\S+)\)", notes).groups()
    assert shows(study, -10 * np.log10(STUDY_RESULTS[6]["mse"]))
    assert shows(under, float(study) - test["hole_psnr"])

    def spread(text, values, scale=1.0):
        low, high = re.search(text, notes).groups()
        return shows(low, min(values) * scale) and shows(high, max(values) * scale)

    early, late = diagnostics[:5], diagnostics[6:]
    assert spread(r"\(accuracy (\S+)–(\S+), scores near 0.5",
                  [r["discriminator_accuracy"] for r in early])
    assert spread(r"gradient on the generator is (\S+)–(\S+) % of the hole MSE's",
                  [r["adversarial_share"] for r in early], 100)
    assert shows(re.search(r"accuracy (\S+) after epoch 6", notes).group(1),
                 diagnostics[5]["discriminator_accuracy"])
    assert spread(r"(\S+)–(\S+) after epochs 7–10", [r["discriminator_accuracy"] for r in late])
    low, high = re.search(r"grows to (\d+)–(\d+) % of the MSE's", notes).groups()
    assert int(low) <= min(r["adversarial_share"] for r in late) * 100
    assert max(r["adversarial_share"] for r in late) * 100 <= int(high)
    cosines = [r["gradient_cosine"] for r in diagnostics]
    low, high = re.search(r"\(−(\S+) to (\S+) over all ten epochs\)", notes).groups()
    assert shows(low, -min(cosines)) and shows(high, max(cosines))


def test_the_dice_ceiling_is_the_records():
    printed = re.search(r"\(the Dice of a perfect reconstruction: (\S+)\s+on the CIFAR-10 test",
                        EVALUATION).group(1)
    for run in ("own_unet_boxes", "own_unet_irregular"):
        assert shows(printed, _metrics(run)["test"]["dice_ceiling"])


# --------------------------------------------------------------------------- benchmarks


def _benchmark_section(date: str) -> str:
    """The BENCHMARKS.md section of the run a page names by its date and time."""
    assert f"\n## {date} UTC" in BENCHMARKS, date
    return section(BENCHMARKS, date)


def test_the_performance_targets_are_the_benchmark_run_they_name():
    performance = PERFORMANCE
    date = re.search(r"from the run of (\d{4}-\d\d-\d\d \d\d:\d\d) UTC",
                     " ".join(performance.split())).group(1)
    source = table(_benchmark_section(date), "target", "measured", "goal")
    ours = table(performance, "target", "measured", "goal", "met")
    assert len(ours) == len(source)
    for row, measured in zip(ours, source):
        available = numbers(" ".join(measured.values()).replace("..", " "))
        for printed in numbers(row["measured"]) + numbers(row["met"]):
            assert any(shows(printed, float(value)) for value in available), \
                (row["target"], printed)
        assert row["met"].split(",")[0] == measured["met"], row["target"]


def test_the_training_throughput_sentence_is_the_same_run():
    performance = " ".join(PERFORMANCE.split())
    date = re.search(r"from the run of (\d{4}-\d\d-\d\d \d\d:\d\d) UTC", performance).group(1)
    rows = table(_benchmark_section(date), "model", "batch", "precision", "XLA", "images/s")
    speed = {(r["model"], int(r["batch"]), r["precision"]): float(r["images/s"]) for r in rows}
    sentence = re.search(r"Training throughput \(images/s, float32 → mixed_bfloat16\): (.*?)"
                         r"\(about", performance).group(1)
    models = ["conv_autoencoder", "pconv_autoencoder", "gan_joint"]
    expected = []
    for model in models:
        batches = sorted({b for m, b, _ in speed if m == model})
        expected += [(speed[(model, b, "float32")], speed[(model, b, "mixed_bfloat16")])
                     for b in batches]
    printed = [(a, b) for a, b, *_ in re.findall(
        r"(\d+(?:\.\d+)?) → (\d+(?:\.\d+)?)", sentence)]
    assert len(printed) == len(expected) == 6
    for (low, high), (float32, mixed) in zip(printed, expected):
        assert shows(low, float32) and shows(high, mixed), (low, high)


_FORMATS = {"Keras": ["keras"], "SavedModel": ["saved_model"], "ONNX Runtime": ["onnx"],
            "TFLite / float16 / dynamic": ["tflite", "tflite (float16)", "tflite (dynamic)"]}
_MODELS = {"conv UNet": "conv_autoencoder", "partial-conv UNet": "pconv_autoencoder",
           "GLCIC generator": "gan_joint"}


def test_the_export_formats_table_is_the_benchmark_run_it_names():
    export = " ".join(EXPORT.split())
    date = re.search(r"\(([\d-]+ [\d:]+) UTC, 2-core Intel Xeon, 2 threads", export).group(1)
    source = {(r["model"], r["format"]): r for r in table(
        _benchmark_section(date), "model", "format", "file size (MB)")}
    model = None
    rows = table(EXPORT, "model", "format", "size (MB)")
    assert len(rows) == 4 * len(_MODELS)
    for row in rows:
        model = _MODELS.get(row["model"], model)
        for column, measured in (("size (MB)", "file size (MB)"),
                                 ("ms/image, batch 1", "ms/image, batch 1"),
                                 ("ms/image, batch 32", "ms/image, batch 32")):
            printed = row[column].split(" / ")
            formats = _FORMATS[row["format"]]
            assert len(printed) == len(formats)
            for value, fmt in zip(printed, formats):
                assert shows(value, float(source[(model, fmt)][measured])), (model, fmt, column)


# --------------------------------------------------------------------------- masks


def _printed_shares(text: str, share_column: str, *header: str) -> dict[str, str]:
    """{kind: printed hole share} of a masks table; a span (a kind that fills the
    hole-share bins) must be the span of `AREA_BINS`."""
    shares = {}
    for row in table(text, *header, share_column):
        kind, printed = row["kind"].strip("`"), row[share_column]
        if "–" in printed:
            low, high = numbers(printed)
            assert (float(low), float(high)) == (M.AREA_BINS[0][0] * 100,
                                                 M.AREA_BINS[-1][1] * 100), kind
        else:
            shares[kind] = numbers(printed)[0]
    return shares


def test_the_masks_tables_hole_shares_are_the_generators():
    for kind, printed in _printed_shares(STUDY, "hole share", "kind", "drawn as (32 × 32)").items():
        share = 100 * M.hole_share(M.generate_masks(kind, 20_000, seed=5))
        assert abs(float(printed) - share) <= 0.1 + 0.05, (kind, share)


def test_the_photo_masks_tables_hole_shares_are_the_generators():
    column = "hole share (512 × 512)"
    shares = _printed_shares(TRAINING, column, "kind", "drawn as (at a short side of 512 px)")
    assert [*shares, "free_form_area"] == list(M.FREE_FORM_KINDS)
    for kind, printed in shares.items():
        share = 100 * M.hole_share(M.generate_masks(kind, 500, seed=5, height=512, width=512))
        # 500 masks (seeded): a share's sampling spread is about 5 % of it for the mixtures
        assert abs(float(printed) - share) <= 0.1 * share, (kind, share)


# --------------------------------------------------------------------------- photos

PHOTO_COLUMNS = {"Navier–Stokes": "navier_stokes", "Telea": "telea",
                 "biharmonic": "biharmonic", "FSR fast": "fsr_fast", "FSR best": "fsr_best"}
PHOTO_RELEASES = [name for name in pretrained_names()
                  if pretrained_manifest(name).get("config", {}).get("data", {}).get("kind")
                  == "photos"]


@pytest.mark.parametrize("name", PHOTO_RELEASES)
def test_the_photo_table_is_its_manifest(name):
    manifest = pretrained_manifest(name)
    rows = table(section(INPAINTING, "The photo model"), "holes", "hole share", "Navier–Stokes")
    assert [row["holes"].strip("`") for row in rows] == manifest["mask_kinds"]
    for row in rows:
        kind = row["holes"].strip("`")
        test, held_out = manifest["test"][kind], manifest["held_out"][kind]
        assert shows(numbers(row["hole share"])[0], 100 * test["model"]["hole_share"])
        for column, method in (*PHOTO_COLUMNS.items(), (f"`{name}`", "model")):
            if method not in test:  # a classical method not measured on this family
                assert row[column] == "–", (kind, column)
                continue
            assert shows(row[column], test[method]["hole_psnr"]), (kind, column)
        assert shows(row["margin"], test["margin_db"]), kind
        # The held-out margin, and the method it is over where that is another one.
        held_margin, *over = row["held-out margin"].split(" (")
        assert shows(held_margin, held_out["margin_db"]), kind
        assert over == ([] if held_out["best_classical"] == test["best_classical"]
                        else [f"{held_out['best_classical']})"]), kind
        # The margin is over the best classical method the manifest holds, named.
        measured = [method for method in PHOTO_BASELINES if method in test]
        best = max(measured, key=lambda method: test[method]["hole_psnr"])
        assert test["best_classical"] == best == row["best classical"], kind
        assert abs(test["model"]["hole_psnr"] - test[best]["hole_psnr"]
                   - test["margin_db"]) < 1e-9
        goal = PHOTO_GOALS.get(kind)
        if goal is None:
            assert row["goal"] == "–", kind
        else:
            assert shows(numbers(row["goal"])[0], goal), kind
            assert row["goal"].endswith(" met") == (test["margin_db"] >= goal), kind


def test_the_photo_models_speed_against_fsr_best_is_its_manifests():
    """docs/inpainting.md and the README: seconds per photo of the model and of FSR best
    on the goal families, and the ratio, rounded to tens, from the manifest's times."""
    test = pretrained_manifest("photo_unet")["test"]
    model = [test[kind]["model"]["seconds_per_photo"] for kind in PHOTO_GOALS]
    fsr = [test[kind]["fsr_best"]["seconds_per_photo"] for kind in PHOTO_GOALS]
    ratios = [slow / fast for slow, fast in zip(fsr, model)]
    text = " ".join(INPAINTING.split())
    found = re.search(r"It is (\d+) to (\d+) times faster than FSR best: (\S+) to (\S+) s per "
                      r"photo against (\S+) to (\S+) s \(the manifest's times\)", text)
    low, high, *seconds = found.groups()
    assert (int(low), int(high)) == (round(min(ratios), -1), round(max(ratios), -1))
    for printed, value in zip(seconds, (min(model), max(model), min(fsr), max(fsr))):
        assert shows(printed, value)
    assert f"at {low} to {high} times FSR best's speed" in " ".join(README.split())


@pytest.mark.parametrize("name", PHOTO_RELEASES)
def test_the_photo_models_size_and_training_are_its_manifest(name):
    manifest = pretrained_manifest(name)
    row, = [r for r in table(section(README, "Released models"), "photo model", "size (float16)")
            if r["photo model"] == f"`{name}`"]
    size, parameters = numbers(row["size (float16)"])
    with np.load(RELEASE_FOLDER / manifest["weights_file"]) as archive:
        count = sum(archive[key].size for key in archive.files)
    assert shows(size, manifest["bytes"] / 1e6) and shows(parameters, count / 1e6)
    minutes, steps, batch, cores = numbers(row["trained"])
    training = manifest["training"]
    assert shows(minutes, training["train_seconds"] / 60)
    assert int(steps) == training["epochs"] * manifest["config"]["training"]["steps_per_epoch"]
    assert int(batch) == manifest["config"]["training"]["batch_size"]
    assert f"({cores} cores)" in training["device"]
    assert int(numbers(row["test photos"])[0]) == manifest["data"]["test_photos"]


def _assert_cells_show(row: dict, measured: dict, columns: dict) -> None:
    """Each page cell (`columns`: page column -> benchmark column) shows the benchmark's
    number, or "–" where the benchmark left the cell empty."""
    for column, name in columns.items():
        if not measured[name]:
            assert row[column] == "–", column
            continue
        assert shows(numbers(row[column])[0], float(numbers(measured[name])[0])), column


def test_the_hole_shapes_table_is_the_benchmark_run_it_names():
    photos = " ".join(INPAINTING.split())
    date = re.search(r"By hole shape \(`make bench`, the run of (\d{4}-\d\d-\d\d \d\d:\d\d) "
                     r"UTC", photos).group(1)
    source = table(_benchmark_section(date), "holes (photo_unet)", "photo")
    ours = table(INPAINTING, "holes", "photo", "hole pixels")
    assert len(ours) == len(source) == 11
    columns = {"hole pixels": "hole pixels", "µs per hole pixel": "us per hole pixel",
               "vs blemishes": "vs blemishes", "peak memory (GB)": "peak RSS (GB)",
               "max hole difference from the whole pass":
                   "max hole difference from the whole pass"}
    for row, measured in zip(ours, source):
        assert row["holes"] == measured["holes (photo_unet)"]
        assert numbers(row["photo"])[:3] == numbers(measured["photo"])[:3]
        _assert_cells_show(row, measured, columns)


def test_the_folder_figures_are_the_benchmark_run_they_name():
    text = " ".join(INPAINTING.split())
    folder, alone, ratio, in_turn, date = re.search(
        r"`inpaint_folder` fills (\S+) photos/s against (\S+) for the model alone \((\S+)×\), "
        r"and (\S+) when each photo is read, filled and written in turn \(`make bench`, the run "
        r"of (\d{4}-\d\d-\d\d \d\d:\d\d) UTC", text).groups()
    measured, = table(_benchmark_section(date), "photos (own_unet_irregular)")
    assert shows(folder, float(measured["inpaint_folder (photos/s)"]))
    assert shows(alone, float(measured["model alone (photos/s)"]))
    assert shows(ratio, float(measured["folder / model"]))
    assert shows(in_turn, float(measured["read + model + write in turn (photos/s)"]))


def test_the_photo_windows_table_is_the_benchmark_run_it_names():
    photos = " ".join(INPAINTING.split())
    date = re.search(r"for memory \(`make bench`, the run of (\d{4}-\d\d-\d\d \d\d:\d\d) UTC",
                     photos).group(1)
    source = table(_benchmark_section(date), "photo (own_unet_irregular)", "windows (s)")
    ours = table(INPAINTING, "photo", "windows (s)", "whole image (s)")
    assert len(ours) == len(source) == 2
    columns = {"windows (s)": "windows (s)", "whole image (s)": "whole image (s)",
               "speed-up": "speed-up", "max hole difference": "max hole difference",
               "peak memory, windows (GB)": "peak RSS with windows (GB)",
               "whole image (GB)": "peak RSS, whole image (GB)"}
    for row, measured in zip(ours, source):
        assert numbers(row["photo"])[:3] == numbers(measured["photo (own_unet_irregular)"])[:3]
        _assert_cells_show(row, measured, columns)



# Export guide column -> the format label of benchmarks/export_quality.py's photo rows.
_PHOTO_EXPORT_COLUMNS = {"TFLite float16, 256 × 256": "tflite (float16) 256x256",
                         "ONNX, 256 × 256": "onnx 256x256"}


def test_the_exported_files_photo_table_is_the_run_it_names():
    record = json.loads((ROOT / "benchmarks" / "export_quality_photos.json").read_text())
    text = " ".join(EXPORT.split())
    assert f"`{record['command']}`" in text
    date, minutes = re.search(r"the run of (\d{4}-\d\d-\d\d \d\d:\d\d) UTC, 2-core AMD EPYC, "
                              r"(\S+) min", text).groups()
    assert f"{date} UTC" == record["date"] and shows(minutes, record["wall_minutes"])
    assert record["n"] == 110 and shows(numbers(re.search(r"on the (\S+) test photos",
                                                          text).group(1))[0], record["n"])
    measured = {(row["masks"], row["format"]): row for row in record["rows"]}
    ours = table(EXPORT, "masks", "Keras")
    assert [row["masks"] for row in ours] == [kind.replace("_", " ") for kind in
                                              dict.fromkeys(r["masks"] for r in record["rows"])]
    for row in ours:
        kind = row["masks"].replace(" ", "_")
        assert shows(numbers(row["Keras"])[0], measured[(kind, "keras")]["hole PSNR (dB)"])
        for column, label in _PHOTO_EXPORT_COLUMNS.items():
            psnr, cost = numbers(row[column])
            assert shows(psnr, measured[(kind, label)]["hole PSNR (dB)"]), (kind, column)
            assert shows(cost, measured[(kind, label)]["PSNR cost (dB)"]), (kind, column)
    worst = max(abs(row["PSNR cost (dB)"]) for row in record["rows"])
    assert shows(re.search(r"every family within (\S+) dB of the Keras model", text).group(1),
                 worst)


def test_the_photo_notes_flip_averaging_figures_are_its_record():
    notes = " ".join((ROOT / "experiments" / "photo_notes.md").read_text().split())
    record = json.loads((ROOT / "benchmarks" / "flip_average_held_out.json").read_text())
    found = re.search(r"gains (\S+) dB on thin strokes, (\S+) on medium strokes, (\S+) on "
                      r"blobs and (\S+) on object boxes, for (\S+)–(\S+)× the time", notes)
    assert found and record["mask_seed"] == 7
    *gains, fastest, slowest = found.groups()
    assert [row["masks"] for row in record["rows"]] == ["thin_strokes", "medium_strokes",
                                                        "blobs", "object_boxes"]
    for printed, row in zip(gains, record["rows"]):
        assert shows(printed, row["gain_db"]) and row["n"] == 32, row["masks"]
    ratios = [row["time_ratio"] for row in record["rows"]]
    assert shows(fastest, min(ratios)) and shows(slowest, max(ratios))


def test_the_gan_joint_step_figures_are_its_record():
    text = " ".join(PERFORMANCE.split())
    record = json.loads((ROOT / "benchmarks" / "gan_joint_step_mixed_bfloat16.json").read_text())
    found = re.search(r"It gains (\S+)× \((\S+) → (\S+) ms per step, (\S+) → (\S+) img/s, batch "
                      r"(\d+), (\S+), (\d+) steps of each in turn; median of step-by-step "
                      r"ratios (\S+)×\)", text)
    assert found
    speedup, before, after, before_rate, after_rate, batch, precision, steps, paired = \
        found.groups()
    runs, settings = record["runs"], record["settings"]
    assert shows(speedup, record["speedup"]) and shows(paired, record["speedup_paired"])
    assert shows(before, runs["three_passes"]["median_ms"])
    assert shows(after, runs["one_pass"]["median_ms"])
    assert shows(before_rate, runs["three_passes"]["images_per_second"])
    assert shows(after_rate, runs["one_pass"]["images_per_second"])
    assert (int(batch), precision, int(steps)) == (settings["batch_size"],
                                                   settings["precision"], settings["steps"])
    assert f"Run of {record['date'][:-4]} UTC" in text


def test_the_photo_notes_five_method_table_is_the_manifest_and_the_stored_rows():
    from inpaint_tf.evaluation.classical_scores import ClassicalScores

    text = (ROOT / "experiments" / "photo_notes.md").read_text()
    manifest = pretrained_manifest("photo_unet")
    rows = table(text, "masks", "best classical", "its PSNR", "photo_unet")
    assert [row["masks"] for row in rows] == list(PHOTO_GOALS)
    for row in rows:
        test, held = manifest["test"][row["masks"]], manifest["held_out"][row["masks"]]
        best = test["best_classical"]
        assert row["best classical"] == best, row
        assert shows(row["its PSNR"], test[best]["hole_psnr"])
        assert shows(row["photo_unet"], test["model"]["hole_psnr"])
        assert shows(row["margin"].replace("−", "-"), test["margin_db"])
        held_margin, over = row["held-out margin (over)"].replace("−", "-").split(" (")
        assert shows(held_margin, held["margin_db"]) and over == held["best_classical"] + ")"
        assert row["goal +1.0 dB"] == ("met" if test["margin_db"] >= 1.0 else "missed")
    # FSR best against FSR fast on object boxes, on both seeds, from the stored rows.
    stored = json.loads((RECORDS / "classical_photo_scores.json").read_text())["rows"]
    assert len(ClassicalScores(RECORDS / "classical_photo_scores.json")) == len(stored)
    boxes = {(r["key"]["mask_seed"], r["key"]["method"]): r["row"]["hole_psnr"]
             for r in stored if r["key"]["masks"] == "object_boxes"}
    notes = " ".join(text.split())
    found = re.search(r"the best only on object boxes \((\S+) against FSR fast's (\S+) dB; "
                      r"(\S+) against (\S+) on the held-out seed\)", notes)
    assert found, "the notes' object boxes sentence"
    for printed, key in zip(found.groups(), [(M.EVAL_SEED, "fsr_best"), (M.EVAL_SEED, "fsr_fast"),
                                             (424242, "fsr_best"), (424242, "fsr_fast")]):
        assert shows(printed, boxes[key]), key


def test_the_photo_notes_probe_table_and_figures_are_its_record():
    import importlib.util

    spec = importlib.util.spec_from_file_location("photo_probes",
                                                  ROOT / "benchmarks" / "photo_probes.py")
    photo_probes = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(photo_probes)
    raw = (ROOT / "experiments" / "photo_notes.md").read_text()
    notes = " ".join(raw.split())
    record = json.loads((ROOT / "experiments" / "photo_probes" / "held_out.json").read_text())
    assert record["mask_seed"] == 7
    assert photo_probes.table(record["probes"]) in raw
    probes = {row["probe"]: row for row in record["probes"]}
    assert set(probes) >= {p.stem for p in (ROOT / "experiments" / "photo_probes").glob("*.toml")}

    def family(probe, kind, key="psnr"):
        return probes[probe]["families"][kind][key]

    gains = [family("photo_unet", k) - family("v5", k)
             for k in ("thin_strokes", "medium_strokes", "blobs")]
    low, high = re.search(r"is (\S+) to (\S+) dB above its 1,000-step probe", notes).groups()
    assert shows(low, min(gains)) and shows(high, max(gains))
    slower, deep, base = re.search(r"and (\S+)× the time per photo \((\S+) s against (\S+)\)",
                                   notes).groups()
    assert shows(deep, probes["v8_deep"]["seconds_per_photo"])
    assert shows(base, probes["v5"]["seconds_per_photo"])
    assert shows(slower, probes["v8_deep"]["seconds_per_photo"]
                 / probes["v5"]["seconds_per_photo"])
    wide = probes["v7_wide"]
    train, infer = re.search(r"for (\S+)× the training time and (\S+)× the time per photo",
                             notes).groups()
    assert shows(train, wide["train_minutes"] / probes["v5"]["train_minutes"])
    assert shows(infer, wide["seconds_per_photo"] / probes["v5"]["seconds_per_photo"])
    boxes = re.search(r"within (\S+) dB of v5, (\S+) dB under FSR best, and the released run "
                      r"still (\S+) dB under it", notes).groups()
    spread = max(abs(family(p, "object_boxes") - family("v5", "object_boxes"))
                 for p in probes if p != "photo_unet")
    assert float(boxes[0]) >= spread
    assert shows(boxes[1], -family("v5", "object_boxes", "margin_db"))
    assert shows(boxes[2], -family("photo_unet", "object_boxes", "margin_db"))
    assert family("v5", "object_boxes", "best_classical") == "fsr_best"
    medium = re.search(r"medium strokes \((\S+) dB\) need", notes).group(1)
    assert shows(medium, family("photo_unet", "medium_strokes", "margin_db"))
    for kind in ("thin_strokes", "blobs"):
        assert family("photo_unet", kind, "margin_db") > 1.0


def test_the_photo_notes_test_set_margins_and_speed_are_the_records():
    notes = " ".join((ROOT / "experiments" / "photo_notes.md").read_text().split())
    rows = json.loads((RECORDS / "classical_photo_scores.json").read_text())["rows"]
    model = {r["masks"]: r["hole_psnr"] for r in _metrics("photo_unet")["photo_evaluations"]
             if r["name"] == "photo_unet" and r["mask_seed"] == M.EVAL_SEED}
    found = re.search(r"margins there \(fixed masks\) are (\S+) dB on thin strokes \(FSR fast\), "
                      r"(\S+) on medium strokes \(FSR fast\) and (\S+) on blobs \(FSR fast\)",
                      notes)
    assert found
    for printed, kind in zip(found.groups(), ("thin_strokes", "medium_strokes", "blobs")):
        classical = {r["key"]["method"]: r["row"]["hole_psnr"] for r in rows
                     if r["key"]["masks"] == kind and r["key"]["mask_seed"] == M.EVAL_SEED}
        assert set(classical) == set(PHOTO_BASELINES)
        assert max(classical, key=classical.get) == "fsr_fast", kind
        assert shows(printed, model[kind] - classical["fsr_fast"]), kind
    record = json.loads((ROOT / "benchmarks" / "photo_speed.json").read_text())
    assert record["model"] == "photo_unet" and record["megapixels"] == 0.5
    speed = re.search(r"a median of (\S+) s per photo on thin strokes, (\S+) on medium strokes, "
                      r"(\S+) on blobs and (\S+) on object boxes", notes).groups()
    assert [r["masks"] for r in record["rows"]] == ["thin_strokes", "medium_strokes", "blobs",
                                                    "object_boxes"]
    for printed, row in zip(speed, record["rows"]):
        assert shows(printed, row["median_seconds"]), row["masks"]
    assert record["rows"][0]["median_seconds"] > 1.0  # the heading's claim


def test_the_photo_notes_bfloat16_speeds_are_their_records():
    notes = " ".join((ROOT / "experiments" / "photo_notes.md").read_text().split())
    mixed, full = (json.loads((ROOT / "benchmarks" / name).read_text())
                   for name in ("photo_speed_mixed.json", "photo_speed_float32_v2.json"))
    assert (mixed["precision"], full["precision"]) == ("mixed", "float32")
    assert mixed["model"] == full["model"] and mixed["megapixels"] == 0.5
    medians = re.search(r"a median of (\S+) s per photo on thin strokes, (\S+) on medium "
                        r"strokes, (\S+) on blobs and (\S+) on object boxes \(`python "
                        r"benchmarks/photo_speed.py --model runs/photo_unet_v2", notes).groups()
    floats = re.search(r"\): (\S+), (\S+), (\S+) and (\S+) s, so bfloat16 is (\S+), (\S+), "
                       r"(\S+) and (\S+) times as fast", notes).groups()
    for index, (ours, theirs) in enumerate(zip(mixed["rows"], full["rows"])):
        assert ours["masks"] == theirs["masks"]
        assert shows(medians[index], ours["median_seconds"]), ours["masks"]
        assert shows(floats[index], theirs["median_seconds"]), ours["masks"]
        assert shows(floats[4 + index], theirs["median_seconds"] / ours["median_seconds"])
        assert ours["median_seconds"] < 1.0  # the goal the notes say is met
        assert abs(ours["hole_psnr"] - theirs["hole_psnr"]) <= 0.015  # "0.01 dB ... or equal"
