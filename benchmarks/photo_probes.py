"""The photo probes' table: each probe run's pooled hole PSNR on the held-out photos, its
margin over the best of the five classical methods per family, its training time and
its seconds per photo (over the families scored).

A probe is a short photo run (`experiments/photo_probes/*.toml`) scored by
``inpaint-tf evaluate RUN --held-out-photos --seed 7 --baselines all`` (four families);
its ``metrics.json`` then holds the model's rows and the classical methods' rows on the
same photos and holes. This script reads them back, never computing anything:

    python benchmarks/photo_probes.py runs/probes/v5 runs/probes/v8_deep --seed 7

Prints a Markdown table and writes its record (date, command, the probes' rows) to
``experiments/photo_probes/held_out.json`` unless ``--json`` says otherwise.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

from inpaint_tf.evaluation.photos import PHOTO_BASELINES as CLASSICAL
from inpaint_tf.evaluation.photos import PHOTO_GOAL_KINDS

HERE = Path(__file__).resolve().parent
RECORD = HERE.parent / "experiments" / "photo_probes" / "held_out.json"


def probe_row(run: Path, seed: int) -> dict:
    """One probe's figures per family: its hole PSNR, the best classical method's name
    and PSNR on the same holes, the margin, and the model's seconds per photo."""
    metrics = json.loads((run / "metrics.json").read_text())
    rows = [r for r in metrics.get("photo_evaluations", []) if r["mask_seed"] == seed]
    families = {}
    for kind in PHOTO_GOAL_KINDS:
        model = [r for r in rows if r["masks"] == kind and r["name"] not in CLASSICAL]
        classical = [r for r in rows if r["masks"] == kind and r["name"] in CLASSICAL]
        if not model:
            continue
        if {r["name"] for r in classical} != set(CLASSICAL):
            raise ValueError(f"{run}: the {kind} rows of seed {seed} lack classical methods "
                             f"(score it with --baselines all)")
        best = max(classical, key=lambda r: r["hole_psnr"])
        families[kind] = {"psnr": model[-1]["hole_psnr"], "best_classical": best["name"],
                          "best_classical_psnr": best["hole_psnr"],
                          "margin_db": model[-1]["hole_psnr"] - best["hole_psnr"],
                          "seconds_per_photo": model[-1]["seconds_per_photo"],
                          "photos": model[-1]["n"]}
    if not families:
        raise ValueError(f"{run}: no photo evaluation of mask seed {seed} in its metrics.json")
    seconds = [f["seconds_per_photo"] * f["photos"] for f in families.values()]
    photos = sum(f["photos"] for f in families.values())
    return {"probe": metrics["config"], "steps": metrics["epochs"] * metrics["steps_per_epoch"],
            "seconds_per_photo": sum(seconds) / photos,
            "batch_size": metrics["batch_size"], "train_minutes": metrics["train_seconds"] / 60,
            "device": metrics["device"], "precision": metrics["precision"],
            "families": families}


def table(rows: list[dict]) -> str:
    """The probes as Markdown: PSNR and margin over the best classical method per family."""
    head = ("| probe | steps | training (min) | "
            + " | ".join(f"{k} PSNR (margin)" for k in PHOTO_GOAL_KINDS) + " | model s/photo |")
    lines = [head, "|" + "---|" * (4 + len(PHOTO_GOAL_KINDS))]
    for row in rows:
        cells = []
        for kind in PHOTO_GOAL_KINDS:
            figures = row["families"].get(kind)
            cells.append("–" if figures is None else
                         f"{figures['psnr']:.2f} ({figures['margin_db']:+.2f})")
        lines.append(f"| {row['probe']} | {row['steps']:,} | {row['train_minutes']:.1f} | "
                     + " | ".join(cells) + f" | {row['seconds_per_photo']:.2f} |")
    best = {k: r["families"][k] for r in rows for k in PHOTO_GOAL_KINDS if k in r["families"]}
    lines.append("")
    lines.append("Best classical method per family: " + ", ".join(
        f"{k} {v['best_classical']} {v['best_classical_psnr']:.2f} dB" for k, v in best.items()))
    return "\n".join(lines)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="probe run folders, scored")
    parser.add_argument("--seed", type=int, default=7, help="the masks' seed")
    parser.add_argument("--json", type=Path, default=RECORD)
    args = parser.parse_args(argv)
    rows = [probe_row(run, args.seed) for run in args.runs]
    print(table(rows))
    record = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "command": " ".join(["python benchmarks/photo_probes.py",
                                   *(argv if argv is not None else sys.argv[1:])]),
              "mask_seed": args.seed, "probes": rows}
    args.json.write_text(json.dumps(record, indent=2) + "\n")
    print(f"Record: {args.json}")
    return record


if __name__ == "__main__":
    main()
