"""The report of a photo model's run: its figures on real photos, from its run record.

`build_photo_report` reads a photos run folder (or its record in
``experiments/records/``). Its metrics.json holds the ``photo_evaluations`` that
``inpaint-tf evaluate RUN --photos ...`` appended. The report is one Markdown file
with:

- the photo test sets at full size: per mask family, the model and the classical
  methods (Navier–Stokes, Telea, biharmonic, FSR fast and best: those the
  evaluation measured) on identical holes, the best classical method, the
  model's margin over it, and whether it meets its goal (`PHOTO_GOALS`); an
  evaluation recorded with fewer methods (Navier–Stokes and Telea only) is
  measured against the best of those, and the table says so;
- each method's seconds per photo;
- the held-out check: the same margins on masks of another seed;
- hole-share bins of the area-controlled family;
- time to quality: the minutes of training after which the validation hole PSNR
  first passed the best classical method that runs here (``fsr_best`` left out)
  on the same validation crops and holes (and that plus 1 dB). This needs the
  run's photos (``data.source`` or ``$INPAINT_TF_PHOTOS``); without them the
  table is left out, and the report says so;
- the run: budget, device, data checksums.

Example:
    >>> build_photo_report("experiments/records/photo_unet",
    ...                    "experiments/PHOTOS.md")                   # doctest: +SKIP
"""

from __future__ import annotations

import datetime

import pandas as pd

from inpaint_tf import _io
from inpaint_tf.evaluation.baselines import BASELINES, available_baselines
from inpaint_tf.evaluation.photos import (
    PHOTO_BASELINES,
    PHOTO_GOAL_KINDS,
    best_label,
    margins,
    photo_table,
    photo_times,
)
from inpaint_tf.evaluation.protocols import evaluate, format_markdown
from inpaint_tf.masks import EVAL_SEED, VALIDATION_MASK_SEED
from inpaint_tf.reports.results import first_passing_minutes, read_run
from inpaint_tf.training.data import fixed_masks, scoring_split

# The margins over the best classical method of each family a photo model aims at (dB):
# +1 dB over the best of all five, on the holes the photo model is for.
PHOTO_GOALS = dict.fromkeys(PHOTO_GOAL_KINDS, 1.0)
HELD_OUT_TOLERANCE = 0.3  # dB between the fixed masks' margin and the held-out seed's


def _rows_of_seed(run: dict, seed: int) -> list[dict]:
    """The run's latest photo evaluation rows of a mask seed, one per (family, method)."""
    latest = {}
    for row in run.get("photo_evaluations", []):
        if row.get("mask_seed", EVAL_SEED) == seed:
            latest[(row["masks"], row["name"])] = row
    return list(latest.values())


def goals_table(rows: list[dict], name: str) -> pd.DataFrame:
    """Per family with a goal: the best classical method, the margin over it, the
    goal, and whether it is met."""
    gaps = margins(rows, name)
    return pd.DataFrame([{"masks": kind, "over": best_label(rows, kind),
                          "margin (dB)": round(gaps[kind], 2),
                          "goal (dB)": f">= {goal:+.1f}",
                          "met": "yes" if gaps[kind] >= goal else "no"}
                         for kind, goal in PHOTO_GOALS.items() if kind in gaps])


def held_out_table(fixed: list[dict], held_out: list[dict], name: str,
                   seed: int) -> pd.DataFrame | None:
    """The margins on the held-out seed beside the fixed masks' (each over the best
    classical method on its own masks)."""
    fixed_gaps, held_gaps = margins(fixed, name), margins(held_out, name)
    common = [kind for kind in fixed_gaps if kind in held_gaps]
    if not common:
        return None
    def over(kind):
        labels = dict.fromkeys((best_label(fixed, kind), best_label(held_out, kind)))
        return " / ".join(labels)

    return pd.DataFrame([{
        "masks": kind, "mask seed": seed, "over": over(kind),
        "fixed-set margin (dB)": round(fixed_gaps[kind], 2),
        "held-out margin (dB)": round(held_gaps[kind], 2),
        "difference (dB)": round(held_gaps[kind] - fixed_gaps[kind], 2),
        f"within {HELD_OUT_TOLERANCE} dB": "yes" if abs(held_gaps[kind] - fixed_gaps[kind])
        <= HELD_OUT_TOLERANCE else "no"} for kind in common])


def bins_table(rows: list[dict]) -> pd.DataFrame | None:
    """Every method's figures per hole-share bin, where the rows were scored per bin."""
    lines = [{"method": row["name"], "masks": row["masks"], "hole share bin": b["bin"],
              "photos": b["n"], "mean share": b["hole_share"], "hole PSNR (dB)": b["hole_psnr"],
              "hole SSIM": b["hole_ssim"]}
             for row in rows for b in row.get("area_bins", [])]
    return pd.DataFrame(lines) if lines else None


def time_to_quality(run: dict) -> pd.DataFrame | None:
    """Minutes to pass the best classical method that runs here (``fsr_best`` left
    out) and it + 1 dB, on the run's validation crops and holes."""
    config = run.get("config_object")
    if config is None or not run["history"]:
        return None
    split = scoring_split(config)
    images = split.validation.images[:config.data.validation_images]
    masks = fixed_masks(config, config.data.masks, len(images), VALIDATION_MASK_SEED,
                        *images.shape[1:3])
    scores = {name: evaluate(BASELINES[name]().predict, images, masks)["hole_psnr"]
              for name in available_baselines(PHOTO_BASELINES)}
    best = max(scores.values())

    def passed(bar):
        minutes = first_passing_minutes(run["history"], bar)
        return "not yet" if minutes is None else minutes

    return pd.DataFrame([{
        "run": run["run"], "validation crops": len(images), "masks": config.data.masks,
        **{f"{name} PSNR (dB)": value for name, value in scores.items()},
        "best classical": max(scores, key=scores.get),
        "min to pass the best": passed(best), "min to pass it + 1 dB": passed(best + 1.0),
        "train min": round(run.get("train_seconds", 0) / 60, 1),
        "final validation PSNR (dB)": run["history"][-1].get("val_hole_psnr")}])


def build_photo_report(run_dir, out, *, notes: str = "", command: str = "",
                       held_out_seed: int = 424242) -> str:
    """Writes the photo report of a run (see the module docstring); returns its text."""
    run = read_run(run_dir)
    fixed = _rows_of_seed(run, EVAL_SEED)
    if not fixed:
        raise ValueError(f"{run_dir} has no photo evaluation on the fixed masks: run "
                         "`inpaint-tf evaluate RUN --photos DIR ...` first")
    models = [row["name"] for row in fixed if row["name"] not in BASELINES]
    if not models:
        raise ValueError(f"{run_dir} has photo evaluations of the classical methods only: "
                         "run `inpaint-tf evaluate RUN --photos DIR ...` with its model")
    name = models[0]
    held_out = _rows_of_seed(run, held_out_seed)
    sections = [*([notes.strip()] if notes.strip() else []),
                "## Photo test sets at full size (the same holes for every method)",
                format_markdown(photo_table(fixed, name=name)),
                "## Goals: margin over the best classical method of each family",
                format_markdown(goals_table(fixed, name)),
                "## Seconds per photo (each method's own time, without the scoring)",
                format_markdown(photo_times(fixed))]
    optional = [
        (f"## Held-out check (masks of seed {held_out_seed}, used by nothing else)",
         held_out_table(fixed, held_out, name, held_out_seed)),
        ("## Hole-share bins (area-controlled strokes and blobs)", bins_table(fixed))]
    for title, table in optional:
        if table is not None:
            sections += [title, format_markdown(table)]
    try:
        table = time_to_quality(run)
        if table is not None:
            sections += ["## Time to quality (validation crops of held-out training photos, "
                         "after each epoch)", format_markdown(table)]
    except (ValueError, FileNotFoundError) as error:
        sections += ["## Time to quality", f"Not computed here: {error}"]
    details = pd.DataFrame([{
        "run": run["run"], "epochs": run["epochs"], "steps/epoch": run.get("steps_per_epoch"),
        "batch": run["batch_size"], "precision": run.get("precision"),
        "device": run.get("device"), "train min": round(run.get("train_seconds", 0) / 60, 1),
        "wall min": round(run.get("wall_seconds", 0) / 60, 1),
        "training photos checksum": run.get("train_checksum"),
        "test photos": fixed[0]["n"]}])
    sections += ["## Run", format_markdown(details),
                 f"Generated {datetime.date.today().isoformat()}"
                 + (f" by:\n\n```\n{command}\n```" if command else ".")]
    text = "\n\n".join(sections) + "\n"
    _io.write_text(out, text)
    return text
