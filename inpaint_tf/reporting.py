"""The comparison table of runs, the study's figures and the classical baselines.

`build_report` reads run folders (their metrics.json), scores Navier–Stokes and
Telea on the same fixed test masks, and writes one Markdown file with:

- the study's protocol: the study's reported MSE, MAE, Dice beside ours, scored
  the way the study scored that row (raw output over the whole image for the
  autoencoders, clamped output over the hole for the GAN), with the Dice of a
  perfect reconstruction beside every Dice;
- the hole protocol for every run and baseline: hole MAE, MSE, PSNR, SSIM;
- the two goals, checked per row: beats the study's row under its own protocol,
  and beats Navier–Stokes on hole PSNR for its mask type.

Example:
    >>> from inpaint_tf.reporting import build_report
    >>> build_report(["runs/exp1", "runs/exp3"], "experiments/RESULTS.md")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pandas as pd

from inpaint_tf import _io
from inpaint_tf.evaluation import format_markdown
from inpaint_tf.experiments import STUDY_RESULTS, load_config


def read_run(path) -> dict:
    """The metrics.json of a run folder, with the folder's name."""
    metrics_file = Path(path) / "metrics.json"
    if not metrics_file.is_file():
        raise FileNotFoundError(f"{path} is not a finished run folder (no metrics.json)")
    metrics = json.loads(metrics_file.read_text())
    if "test" not in metrics:
        raise ValueError(f"{metrics_file} has no test evaluation")
    config_file = Path(path) / "config.toml"
    is_gan = config_file.is_file() and load_config(config_file).is_gan
    return {"run": Path(path).name, "is_gan": is_gan, **metrics}


_STUDY_COLUMNS = ("study MSE", "study MAE", "study Dice", "study epochs", "beats study")


def _study_row(run: dict) -> dict:
    """Ours beside the study's, each under the protocol the study used for the row."""
    test = run["test"]
    study = STUDY_RESULTS.get(run.get("study_experiment", 0))
    # Rows of our own follow the study's choice for their model family: the GAN is
    # trained on the hole only, so it is scored clamped over the hole.
    protocol = (study["protocol"] if study
                else "hole" if run.get("is_gan") else "study")
    ours = ({"mse": test["study_mse"], "mae": test["study_mae"], "dice": test["study_dice"],
             "ceiling": test["dice_ceiling"]} if protocol == "study" else
            {"mse": test["hole_mse"], "mae": test["hole_mae"], "dice": test["hole_dice"],
             "ceiling": test["hole_dice_ceiling"]})
    row = {
        "run": run["run"], "exp": run.get("study_experiment") or "-", "masks": test["masks"],
        "protocol": "raw, whole image" if protocol == "study" else "clamped, hole only",
        "epochs": run["epochs"], "batch": run["batch_size"],
        "MSE": ours["mse"], "MAE": ours["mae"], "Dice": ours["dice"],
        "Dice ceiling": ours["ceiling"],
    }
    if study:
        row.update({"study MSE": study["mse"], "study MAE": study["mae"],
                    "study Dice": study["dice"], "study epochs": study["epochs"],
                    "beats study": "yes" if (ours["mse"] < study["mse"]
                                             and ours["mae"] < study["mae"]) else "no"})
    else:
        row.update(dict.fromkeys(_STUDY_COLUMNS, "-"))
    return row


def _hole_row(name: str, masks: str, scores: dict, minutes=None, device="-") -> dict:
    return {"model": name, "masks": masks, "hole MAE": scores["hole_mae"],
            "hole MSE": scores["hole_mse"], "hole PSNR (dB)": scores["hole_psnr"],
            "hole SSIM": scores["hole_ssim"], "train min": minutes if minutes is not None
            else "-", "device": device}


def baseline_scores(mask_kind: str, n: int, data=None) -> dict:
    """Navier–Stokes and Telea on the fixed test masks of a kind: {name: row}."""
    from inpaint_tf.baselines import NavierStokesBaseline, TeleaBaseline
    from inpaint_tf.data import load_cifar10
    from inpaint_tf.evaluation import evaluate
    from inpaint_tf.masks import eval_masks

    test = load_cifar10(data).test.images[:n]
    masks = eval_masks(mask_kind, len(test), height=test.shape[1], width=test.shape[2])
    return {baseline.name: evaluate(baseline.predict, test, masks, name=baseline.name,
                                    mask_kind=mask_kind)
            for baseline in (NavierStokesBaseline(), TeleaBaseline())}


def build_report(run_dirs, out, *, data=None, command: str = "", baselines: bool = True,
                 notes: str = "") -> str:
    """Writes the comparison Markdown of `run_dirs` to `out` (atomically); returns it.

    `notes` (Markdown: the budget, the data copy, what the figures say) goes first.
    """
    runs = [read_run(path) for path in run_dirs]
    if not runs:
        raise ValueError("No run folders given")
    study_table = pd.DataFrame([_study_row(run) for run in runs])
    hole_rows, reference = [], {}
    for run in runs:
        test = run["test"]
        key = (test["masks"], test["n"])
        if baselines and key not in reference:
            reference[key] = baseline_scores(test["masks"], test["n"], data)
        row = _hole_row(run["run"], test["masks"], test,
                        round(run.get("train_seconds", 0) / 60, 1), run.get("device", "-"))
        if key in reference:
            ns_psnr = reference[key]["navier_stokes"]["hole_psnr"]
            row["beats NS"] = "yes" if test["hole_psnr"] > ns_psnr else "no"
        hole_rows.append(row)
    for (masks, _), scores in reference.items():
        hole_rows += [{**_hole_row(name, masks, row), "beats NS": "-"}
                      for name, row in scores.items()]
    hole_table = pd.DataFrame(hole_rows)

    details = pd.DataFrame([{
        "run": run["run"], "config": run.get("config"), "epochs": run["epochs"],
        "steps/epoch": run.get("steps_per_epoch"), "batch": run["batch_size"],
        "precision": run.get("precision"), "device": run.get("device"),
        "train min": round(run.get("train_seconds", 0) / 60, 1),
        "test images": run["test"]["n"], "mask set": run["test"]["mask_checksum"],
        "data": run.get("data_source"), "test-set checksum": run.get("test_checksum"),
    } for run in runs])
    text = "\n\n".join([
        *([notes.strip()] if notes.strip() else []),
        "## Under the study's protocol (ours beside the study's reported figures)",
        format_markdown(study_table),
        "## Hole-only protocol, same fixed test masks for models and baselines",
        format_markdown(hole_table),
        "## Runs",
        format_markdown(details),
        f"Generated {datetime.date.today().isoformat()}"
        + (f" by:\n\n```\n{command}\n```" if command else "."),
    ]) + "\n"
    _io.write_text(out, text)
    return text
