"""Flip averaging at test time, a lever for the photo model: a released model alone
against the mean of its pass and its pass on the mirrored photo (mirrored back), on
the photos its config held out of training, each family's masks of one seed, pooled
hole PSNR (`inpaint_tf.evaluation.photos.evaluate_photos`, the evaluation's own).

It doubles the model's time per photo. Needs the training photos (``--photos``, else
``$INPAINT_TF_PHOTOS``; `inpaint-tf collect-photos`, docs/training.md).

    python benchmarks/flip_average.py --model photo_unet --photos photo_train

Writes its record (date, machine, command, wall time, rows) to
``benchmarks/flip_average_held_out.json`` unless ``--json`` says otherwise.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from inpaint_tf.evaluation.photos import PHOTO_GOAL_KINDS

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))



def flip_averaged(predict):
    """``predict`` averaged with its pass on the left-right mirrored batch."""

    def averaged(masked, masks):
        mirrored = np.asarray(predict(masked[:, :, ::-1], masks[:, :, ::-1]))[:, :, ::-1]
        return (np.asarray(predict(masked, masks), np.float32) + mirrored) / 2

    return averaged


def measure(model_name: str, families, seed: int) -> list[dict]:
    from inpaint_tf.evaluation.photos import evaluate_photos, load_photo_set, photo_predict_fn
    from inpaint_tf.masks import eval_photo_masks
    from inpaint_tf.presets.loading import load_inference_model, model_config
    from inpaint_tf.training.data import held_out_photos

    photos = load_photo_set(held_out_photos(model_config(model_name)))
    predict = photo_predict_fn(load_inference_model(model_name))
    rows = []
    for kind in families:
        masks = eval_photo_masks(kind, photos.images, seed)
        plain, flipped = (evaluate_photos(fn, photos.images, masks, name=name, mask_kind=kind)
                          for name, fn in (("plain", predict),
                                           ("flip_averaged", flip_averaged(predict))))
        rows.append({"masks": kind, "n": plain["n"], "plain_psnr": plain["hole_psnr"],
                     "flip_averaged_psnr": flipped["hole_psnr"],
                     "gain_db": flipped["hole_psnr"] - plain["hole_psnr"],
                     "time_ratio": flipped["seconds_per_photo"] / plain["seconds_per_photo"]})
        print(f"{kind}: {rows[-1]['plain_psnr']:.3f} -> {rows[-1]['flip_averaged_psnr']:.3f} dB"
              f" ({rows[-1]['gain_db']:+.3f}), {rows[-1]['time_ratio']:.2f}x the time",
              flush=True)
    return rows


def main(argv=None) -> dict:
    from run import machine

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="photo_unet", help="a released photo model")
    parser.add_argument("--photos", default=None, help="the training photos' folder")
    parser.add_argument("--seed", type=int, default=7, help="the masks' seed")
    parser.add_argument("--json", type=Path, default=HERE / "flip_average_held_out.json")
    args = parser.parse_args(argv)
    if args.photos:
        os.environ["INPAINT_TF_PHOTOS"] = args.photos
    started = time.perf_counter()
    rows = measure(args.model, PHOTO_GOAL_KINDS, args.seed)
    record = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "command": " ".join(["python benchmarks/flip_average.py",
                                   *(argv if argv is not None else sys.argv[1:])]),
              "machine": machine(), "model": args.model, "mask_seed": args.seed,
              "wall_seconds": round(time.perf_counter() - started, 1), "rows": rows}
    args.json.write_text(json.dumps(record, indent=2) + "\n")
    print(f"Record: {args.json}")
    return record


if __name__ == "__main__":
    main()
