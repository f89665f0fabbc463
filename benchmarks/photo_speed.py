"""A photo model's seconds per photo at a fixed photo size, after the first call: the
speed that the photo model's goal (at most 1 s per 0.5 MP photo) is about.

Each photo of ``--photos`` is resized to ``--megapixels`` (its aspect kept) and gets its
fixed mask of each family, drawn at that size (the evaluation's masks, seed 20180420).
`inpaint_tf.inpaint` (windows around the holes, as a user calls it) runs over all of
them once untimed, so that every window size has been traced, then once more timed
photo by photo. Run it on a quiet machine: the figures are absolute.

    python benchmarks/photo_speed.py --model photo_unet --photos FFDNet/testsets/Kodak24

``--precision mixed`` rebuilds the model to compute in bfloat16 (on a CPU) with the same
weights; the pooled hole PSNR of each family shows what that costs in quality:

    python benchmarks/photo_speed.py --model photo_unet --photos FFDNet/testsets/Kodak24 \
        --precision mixed --json benchmarks/photo_speed_mixed.json

Prints a Markdown table (median, 90th percentile and slowest seconds per photo per
family, the first call's, and the hole PSNR) and writes its record to
``benchmarks/photo_speed.json`` unless ``--json`` says otherwise.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np

from inpaint_tf.evaluation.photos import PHOTO_GOAL_KINDS
from inpaint_tf.metrics import psnr_from_mse

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))



def resized(image: np.ndarray, megapixels: float) -> np.ndarray:
    """`image` scaled (aspect kept, area interpolation) to about `megapixels`."""
    import cv2

    height, width = image.shape[:2]
    scale = (megapixels * 1e6 / (height * width)) ** 0.5
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, size, interpolation=interpolation)


def time_family(predict, images, masks) -> dict:
    """One untimed pass over the photos (the first call's seconds kept), then one timed
    photo by photo; the hole PSNR pooled over the timed pass's outputs."""
    first = None
    for image, mask in zip(images, masks):
        started = time.perf_counter()
        predict(image, mask)
        first = time.perf_counter() - started if first is None else first
    seconds, squared, count = [], 0.0, 0
    for image, mask in zip(images, masks):
        started = time.perf_counter()
        output = predict(image, mask)
        seconds.append(time.perf_counter() - started)
        hole = np.broadcast_to(np.reshape(mask, (*image.shape[:2], 1)) > 0.5, image.shape)
        error = np.asarray(output, np.float64)[hole] - image[hole] / 255.0
        squared, count = squared + float(np.sum(error ** 2)), count + error.size
    return {"photos": len(seconds), "median_seconds": float(np.median(seconds)),
            "p90_seconds": float(np.percentile(seconds, 90)), "max_seconds": max(seconds),
            "first_call_seconds": first,
            "hole_share": float(np.mean([m.mean() for m in masks])),
            "hole_psnr": psnr_from_mse(squared / count)}


def markdown(record: dict) -> str:
    lines = ["| family | photos | hole share | median s/photo | 90th pct | slowest | first call "
             "| hole PSNR |", "|---|---|---|---|---|---|---|---|"]
    for row in record["rows"]:
        lines.append(f"| {row['masks']} | {row['photos']} | {row['hole_share']:.4f} | "
                     f"{row['median_seconds']:.3f} | {row['p90_seconds']:.3f} | "
                     f"{row['max_seconds']:.3f} | {row['first_call_seconds']:.2f} | "
                     f"{row['hole_psnr']:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> dict:
    from run import machine

    from inpaint_tf import inpaint
    from inpaint_tf.evaluation.photos import load_photo_set
    from inpaint_tf.masks import eval_photo_masks
    from inpaint_tf.presets.loading import load_inference_model

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="photo_unet",
                        help="a released model, a run folder or a .keras file")
    parser.add_argument("--photos", nargs="+", required=True, help="photo folders or files")
    parser.add_argument("--megapixels", type=float, default=0.5)
    parser.add_argument("--families", nargs="+", default=list(PHOTO_GOAL_KINDS))
    parser.add_argument("--precision", choices=("float32", "mixed"), default=None,
                        help="rebuild the model to compute so (default: as stored)")
    parser.add_argument("--json", type=Path, default=HERE / "photo_speed.json")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    images = [resized(image, args.megapixels) for image in load_photo_set(args.photos).images]
    model = load_inference_model(args.model, args.precision)

    def predict(image, mask):
        return inpaint(model, image, mask, verbose=0)

    rows = []
    for kind in args.families:
        rows.append({"masks": kind, **time_family(predict, images, eval_photo_masks(kind, images))})
        print(f"{kind}: median {rows[-1]['median_seconds']:.3f} s per photo", flush=True)
    record = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "command": " ".join(["python benchmarks/photo_speed.py",
                                   *(argv if argv is not None else sys.argv[1:])]),
              "machine": machine(), "model": args.model, "precision": args.precision,
              "megapixels": args.megapixels,
              "sizes": sorted({image.shape[:2] for image in images}),
              "wall_seconds": round(time.perf_counter() - started, 1), "rows": rows}
    print(markdown(record))
    args.json.write_text(json.dumps(record, indent=2) + "\n")
    print(f"Record: {args.json}")
    return record


if __name__ == "__main__":
    main()
