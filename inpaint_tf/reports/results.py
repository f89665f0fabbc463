"""The comparison table of runs, the study's figures and the classical baselines.

`build_report` reads run folders (their metrics.json), scores Navier–Stokes and
Telea on the same fixed test masks, and writes one Markdown file with:

- the study's protocol: the study's reported MSE, MAE, Dice beside ours, scored
  the way the study scored that row (raw output over the whole image for the
  autoencoders, clamped output over the hole for the GAN), with the Dice of a
  perfect reconstruction beside every Dice;
- the hole protocol for every run and baseline: hole MAE, MSE, PSNR, SSIM;
- the two goals, checked per row: beats the study's row under its own protocol,
  and beats Navier–Stokes on hole PSNR for its mask type (with the margin in dB).
  A run of our own is set against every study row of each mask kind it was
  scored on (its test kind and the kinds of its later `evaluate_run` calls);
- hole PSNR/SSIM/MAE per hole-share bin, for runs scored on the
  `irregular_area` masks with ``area_bins`` and the baselines on the same masks;
- time to quality: the minutes of training after which the validation hole PSNR
  first passed Navier–Stokes (on the same validation images and holes) and the
  hole PSNR that the strictest study row of the run's mask kinds implies (a study
  config's own row for a reproduction);
- a held-out check: hole PSNR on masks drawn with another seed beside the fixed set's.

Example:
    >>> from inpaint_tf.reports.results import build_report
    >>> build_report(["runs/exp1", "runs/exp3"], "experiments/RESULTS.md")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pandas as pd

from inpaint_tf import _io
from inpaint_tf.configs import STUDY_RESULTS, load_config
from inpaint_tf.evaluation.protocols import format_markdown
from inpaint_tf.masks import EVAL_SEED, VALIDATION_MASK_SEED
from inpaint_tf.metrics import psnr_from_mse


def read_run(path) -> dict:
    """The metrics.json of a run folder, with the folder's name, its config and its log."""
    metrics_file = Path(path) / "metrics.json"
    if not metrics_file.is_file():
        raise FileNotFoundError(f"{path} is not a finished run folder (no metrics.json)")
    metrics = json.loads(metrics_file.read_text())
    if "test" not in metrics:
        raise ValueError(f"{metrics_file} has no test evaluation")
    config_file = Path(path) / "config.toml"
    config = load_config(config_file) if config_file.is_file() else None
    state_file = Path(path) / "state.json"
    history = json.loads(state_file.read_text()).get("history", []) if state_file.is_file() \
        else []
    return {"run": Path(path).name, "is_gan": bool(config and config.is_gan),
            "config_object": config, "history": history, **metrics}


def _is_fixed_set(row: dict) -> bool:
    return row.get("mask_seed", EVAL_SEED) == EVAL_SEED


def scored_rows(run: dict) -> list[dict]:
    """The run's test row, then its latest evaluation of each other mask kind on the
    fixed masks with the test's number of images (held-out seeds left out)."""
    rows = {run["test"]["masks"]: run["test"]}
    for row in run.get("evaluations", []):
        if _is_fixed_set(row) and row.get("n") == run["test"]["n"] \
                and row["masks"] != run["test"]["masks"]:
            rows[row["masks"]] = row
    return list(rows.values())


_STUDY_COLUMNS = ("study MSE", "study MAE", "study Dice", "study epochs", "beats study")


def _study_rows_of(run: dict, masks: str) -> list[tuple[int, dict]]:
    """The study rows a run is set against: its own experiment's, or for a run of our
    own every study row of the mask kind."""
    number = run.get("study_experiment", 0)
    if number:
        return [(number, STUDY_RESULTS[number])] if number in STUDY_RESULTS else []
    return [(n, row) for n, row in STUDY_RESULTS.items() if row["masks"] == masks]


def _rows_facing_study(run: dict) -> list[dict]:
    """The scored rows set against study rows: a reproduction's test row only (its
    study row holds for its own mask kind), every scored row of a run of our own."""
    return [run["test"]] if run.get("study_experiment") else scored_rows(run)


def _ours(test: dict, protocol: str) -> dict:
    if protocol == "study":
        return {"mse": test["study_mse"], "mae": test["study_mae"], "dice": test["study_dice"],
                "ceiling": test["dice_ceiling"]}
    return {"mse": test["hole_mse"], "mae": test["hole_mae"], "dice": test["hole_dice"],
            "ceiling": test["hole_dice_ceiling"]}


def _study_table_rows(run: dict) -> list[dict]:
    """Ours beside the study's, each under the protocol the study used for the row."""
    rows = []
    for test in _rows_facing_study(run):
        for number, study in _study_rows_of(run, test["masks"]) or [(None, None)]:
            # Rows without study figures follow the study's choice for their model
            # family: the GAN is trained on the hole only, so it is scored on the hole.
            protocol = (study["protocol"] if study
                        else "hole" if run.get("is_gan") else "study")
            ours = _ours(test, protocol)
            row = {
                "run": run["run"], "exp": number or "-", "masks": test["masks"],
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
            rows.append(row)
    return rows


def _hole_row(name: str, masks: str, scores: dict, minutes=None, device="-") -> dict:
    return {"model": name, "masks": masks, "hole MAE": scores["hole_mae"],
            "hole MSE": scores["hole_mse"], "hole PSNR (dB)": scores["hole_psnr"],
            "hole SSIM": scores["hole_ssim"], "train min": minutes if minutes is not None
            else "-", "device": device}


def baseline_scores(mask_kind: str, n: int, data=None, area_bins=None, seed: int = EVAL_SEED,
                    subset: str = "test") -> dict:
    """Navier–Stokes and Telea on the fixed masks of a kind: {name: row}.

    `subset` "validation" scores the validation images (the first `n`) instead of
    the test images; `seed` is the mask set's (default the fixed evaluation seed).
    """
    from inpaint_tf.data import load_cifar10
    from inpaint_tf.evaluation.baselines import NavierStokesBaseline, TeleaBaseline
    from inpaint_tf.evaluation.protocols import evaluate
    from inpaint_tf.masks import eval_masks

    images = getattr(load_cifar10(data), subset).images[:n]
    masks = eval_masks(mask_kind, len(images), seed, images.shape[1], images.shape[2])
    return {baseline.name: evaluate(baseline.predict, images, masks, name=baseline.name,
                                    mask_kind=mask_kind, area_bins=area_bins)
            for baseline in (NavierStokesBaseline(), TeleaBaseline())}


def _minutes(run: dict):
    return round(run.get("train_seconds", 0) / 60, 1)


def _hole_table(runs, reference) -> pd.DataFrame:
    rows = []
    for run in runs:
        for test in scored_rows(run):
            row = _hole_row(run["run"], test["masks"], test, _minutes(run), run.get("device", "-"))
            scores = reference.get((test["masks"], test["n"]))
            if scores:
                margin = test["hole_psnr"] - scores["navier_stokes"]["hole_psnr"]
                row.update({"NS margin (dB)": round(margin, 2),
                            "beats NS": "yes" if margin > 0 else "no",
                            "beats NS by 1 dB": "yes" if margin >= 1.0 else "no"})
            rows.append(row)
    for (masks, _), scores in reference.items():
        rows += [{**_hole_row(name, masks, row), "NS margin (dB)": "-", "beats NS": "-",
                  "beats NS by 1 dB": "-"} for name, row in scores.items()]
    return pd.DataFrame(rows)


def _bin_evaluations(runs):
    """(run, evaluation) pairs scored per hole-share bin on the fixed masks."""
    return [(run, test) for run in runs for test in run.get("evaluations", [])
            if "area_bins" in test and _is_fixed_set(test)]


def _bin_table(runs, reference) -> pd.DataFrame | None:
    """Hole figures per hole-share bin: runs' area-bin evaluations and the baselines' on
    the same masks (from `reference`, scored with bins)."""
    rows, done = [], set()
    for run, test in _bin_evaluations(runs):
        rows += [_bin_row(run["run"], test["masks"], b) for b in test["area_bins"]]
        key = (test["masks"], test["n"])
        if key in reference and key not in done:
            done.add(key)
            for name, row in reference[key].items():
                rows += [_bin_row(name, test["masks"], b) for b in row["area_bins"]]
    return pd.DataFrame(rows) if rows else None


def _bin_row(name: str, masks: str, scores: dict) -> dict:
    return {"model": name, "masks": masks, "hole share bin": scores["bin"], "n": scores["n"],
            "mean share": scores["hole_share"], "hole MAE": scores["hole_mae"],
            "hole PSNR (dB)": scores["hole_psnr"], "hole SSIM": scores["hole_ssim"]}


def implied_hole_psnr(study: dict, hole_share: float) -> float:
    """The hole PSNR a composite needs to match a study row's MSE: the study's
    whole-image MSE over the mask set's hole share (a composite errs in the hole
    only), or its hole MSE as it is."""
    mse = study["mse"] / hole_share if study["protocol"] == "study" else study["mse"]
    return psnr_from_mse(mse)


def first_passing_minutes(history: list[dict], bar: float):
    """Minutes of training (summed epoch times) until the validation hole PSNR first
    exceeds `bar`, or None."""
    seconds = 0.0
    for row in history:
        seconds += row.get("seconds", 0.0)
        if row.get("val_hole_psnr", float("-inf")) > bar:
            return round(seconds / 60, 1)
    return None


def _time_to_quality(runs, data, baselines: bool) -> pd.DataFrame | None:

    rows = []
    for run in runs:
        config = run.get("config_object")
        if not run["history"] or config is None:
            continue
        n = config.data.validation_images
        ns = (baseline_scores(config.data.masks, n, data, seed=VALIDATION_MASK_SEED,
                              subset="validation")["navier_stokes"]["hole_psnr"]
              if baselines else None)
        study_bars = [implied_hole_psnr(study, test["hole_share"])
                      for test in _rows_facing_study(run)
                      for _, study in _study_rows_of(run, test["masks"])]
        study_bar = max(study_bars) if study_bars else None

        def passed(bar, history=run["history"]):
            if bar is None:
                return "-"
            minutes = first_passing_minutes(history, bar)
            return "not yet" if minutes is None else minutes

        rows.append({"run": run["run"], "validation masks": config.data.masks,
                     "NS validation PSNR (dB)": ns if ns is not None else "-",
                     "min to pass NS": passed(ns),
                     "min to pass NS + 1 dB": passed(None if ns is None else ns + 1.0),
                     "study bar (dB)": study_bar if study_bar is not None else "-",
                     "min to pass study bar": passed(study_bar),
                     "train min": _minutes(run),
                     "final validation PSNR (dB)": run["history"][-1].get("val_hole_psnr")})
    return pd.DataFrame(rows) if rows else None


def _held_out_table(runs) -> pd.DataFrame | None:
    rows = []
    for run in runs:
        fixed = {row["masks"]: row for row in scored_rows(run)}
        for row in run.get("evaluations", []):
            if _is_fixed_set(row) or row["masks"] not in fixed:
                continue
            reference = fixed[row["masks"]]["hole_psnr"]
            rows.append({"run": run["run"], "masks": row["masks"],
                         "mask seed": row["mask_seed"], "n": row["n"],
                         "fixed-set PSNR (dB)": reference,
                         "held-out PSNR (dB)": row["hole_psnr"],
                         "difference (dB)": round(row["hole_psnr"] - reference, 3),
                         "within 0.3 dB": "yes" if abs(row["hole_psnr"] - reference) <= 0.3
                         else "no"})
    return pd.DataFrame(rows) if rows else None


def build_report(run_dirs, out, *, data=None, command: str = "", baselines: bool = True,
                 notes: str = "") -> str:
    """Writes the comparison Markdown of `run_dirs` to `out` (atomically); returns it.

    `notes` (Markdown: the budget, the data copy, what the figures say) goes first.
    """
    runs = [read_run(path) for path in run_dirs]
    if not runs:
        raise ValueError("No run folders given")
    study_table = pd.DataFrame([row for run in runs for row in _study_table_rows(run)])
    # Navier–Stokes and Telea once per mask set, per bin where a run was scored per bin.
    binned = {(test["masks"], test["n"]) for _, test in _bin_evaluations(runs)}
    keys = dict.fromkeys([*((test["masks"], test["n"]) for run in runs
                            for test in scored_rows(run)), *binned])  # in the runs' order
    reference = {key: baseline_scores(*key, data, area_bins=key in binned or None)
                 for key in keys} if baselines else {}
    details = pd.DataFrame([{
        "run": run["run"], "config": run.get("config"), "epochs": run["epochs"],
        "steps/epoch": run.get("steps_per_epoch"), "batch": run["batch_size"],
        "precision": run.get("precision"), "device": run.get("device"),
        "train min": _minutes(run),
        "wall min": round(run["wall_seconds"] / 60, 1) if run.get("wall_seconds") else "-",
        "test images": run["test"]["n"], "mask set": run["test"]["mask_checksum"],
        "data": run.get("data_source"), "test-set checksum": run.get("test_checksum"),
    } for run in runs])
    sections = [
        *([notes.strip()] if notes.strip() else []),
        "## Under the study's protocol (ours beside the study's reported figures)",
        format_markdown(study_table),
        "## Hole-only protocol, same fixed test masks for models and baselines",
        format_markdown(_hole_table(runs, reference)),
    ]
    optional = (
        ("## Hole-share bins (irregular strokes of controlled area, same masks for all)",
         _bin_table(runs, reference)),
        ("## Time to quality (validation hole PSNR after each epoch; the study bar is the "
         "hole PSNR that the strictest study row of the run's mask kinds implies)",
         _time_to_quality(runs, data, baselines)),
        ("## Held-out check (the same models on masks drawn with another seed)",
         _held_out_table(runs)),
    )
    for title, table in optional:
        if table is not None:
            sections += [title, format_markdown(table)]
    sections += [
        "## Runs",
        format_markdown(details),
        f"Generated {datetime.date.today().isoformat()}"
        + (f" by:\n\n```\n{command}\n```" if command else "."),
    ]
    text = "\n\n".join(sections) + "\n"
    _io.write_text(out, text)
    return text
