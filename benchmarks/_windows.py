"""Inference on windows around the holes against the whole-image pass, on photo-sized images.

A child process (so that the whole pass's memory stays out of the suite, and the peak
is the inpainting's own) builds a synthetic photo (smooth gradients, waves and
texture; uint8, drawn in strips so that making it costs little memory) with blemishes
(filled ellipses 6-20 px across, a fixed seed), and inpaints it with `inpaint`:

- ``compare`` (12 megapixels, 4000 x 3000, 20 blemishes): the windowed pass (the
  default, ``windows="auto"``; median of a few runs after a warm-up run) against the
  whole-image pass (``windows=False``, run once after a warm-up on a small image: it
  takes minutes and about 10 GB on a CPU), their ratio, and the largest difference of
  their outputs over the hole pixels, with its PSNR. The peak RSS after the windowed
  runs and after the whole pass. The whole pass is left out (and said so) when the
  machine has less free memory than it needs.
- ``memory`` (24 megapixels, 6000 x 4000, the same blemishes' density): the peak RSS
  (``VmHWM``) of the windowed pass, everything included: Python, TensorFlow, the model,
  the photo and the result.
- ``shape`` (each hole shape at 12 and 24 megapixels, `photo_unet` by default, one child
  per measurement): a thin stroke from corner to corner, a hand-drawn scribble, a frame
  along the borders, 300 dust specks and blemishes, each at 0.2-1 % hole pixels, and
  holes over half of the photo at the largest size (`damage`). The second of two runs
  of `inpaint` (``windows="auto"``) is timed (the one run, for half the photo), as
  microseconds per hole pixel; the model's pixels per hole pixel and its calls; the
  peak RSS. Then, on the same shape at a size where the whole pass fits
  (`windows_shapes_check_size`), the largest difference over hole pixels between
  `inpaint` and the whole-image pass (``windows=False``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DIAMETERS = (6, 20)  # pixels across a blemish
WHOLE_BYTES_PER_PIXEL = 1000  # the whole pass's peak on a CPU (measured: 980 at 12 MP)
SHAPES = ("stroke", "scribble", "frame", "dust", "blemishes")  # 0.2-1 % hole pixels
HALF = "half"  # holes over half of the photo


def photo(height: int, width: int, seed: int = 0, strip: int = 256):
    """A photo-like uint8 image: per-channel gradients, low-frequency waves, fine
    stripes and blurred noise; drawn `strip` rows at a time."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    scale = float(max(height, width))
    gradient = rng.uniform(-0.4, 0.4, (2, 3))
    offset = rng.uniform(0.3, 0.7, 3)
    # Waves of 1-6 cycles across the image (shapes), and of 40-120 (texture).
    cycles = np.concatenate([rng.uniform(1, 6, (6, 2)), rng.uniform(40, 120, (2, 2))])
    cycles *= rng.choice([-1, 1], cycles.shape)
    amplitude = np.concatenate([rng.uniform(0.03, 0.1, (6, 3)), rng.uniform(0.02, 0.05, (2, 3))])
    phase = rng.uniform(0, 2 * np.pi, (8, 3))
    out = np.empty((height, width, 3), np.uint8)
    x = (np.arange(width, dtype=np.float32) / scale)[None, :, None]
    for start in range(0, height, strip):
        stop = min(start + strip, height)
        y = (np.arange(start, stop, dtype=np.float32) / scale)[:, None, None]
        value = offset + gradient[0] * x + gradient[1] * y
        for k in range(len(cycles)):
            value = value + amplitude[k] * np.sin(
                2 * np.pi * (cycles[k, 0] * x + cycles[k, 1] * y) + phase[k])
        noise = rng.normal(0.0, 0.06, (stop - start, width, 3)).astype(np.float32)
        value = value + cv2.GaussianBlur(noise, (0, 0), 1.2)
        out[start:stop] = np.clip(np.round(255 * value), 0, 255).astype(np.uint8)
    return out


def blemishes(height: int, width: int, count: int, seed: int = 0):
    """uint8 mask (1 = hole) with `count` filled ellipses 6-20 px across at random places."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    mask = np.zeros((height, width), np.uint8)
    for _ in range(count):
        diameter = rng.uniform(*DIAMETERS)
        axes = (max(1, round(diameter / 2)), max(1, round(diameter / 2 * rng.uniform(0.6, 1))))
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    return mask


def damage(kind: str, height: int, width: int, seed: int = 0):
    """uint8 mask (1 = hole) of one hole shape, drawn at the photo's size: "stroke" (a
    line from corner to corner, ``side / 500`` px thick), "scribble" (a pen's random
    walk over the middle, ``side / 400`` px), "frame" (a rectangle ``side / 100`` px in
    from the borders, ``side / 1000`` px), "dust" (300 round specks of 2 to
    ``side / 300`` px radius), "blemishes" (12 per megapixel), all at 0.2-1 % of the
    pixels; or "half" (thick strokes and blobs until half of the pixels are holes)."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    side = min(height, width)
    mask = np.zeros((height, width), np.uint8)
    if kind == "stroke":
        return cv2.line(mask, (0, 0), (width - 1, height - 1), 1, max(3, side // 500))
    if kind == "scribble":
        angles = np.cumsum(rng.normal(0, 0.9, 40))
        steps = np.stack([np.cos(angles), np.sin(angles)], 1).cumsum(axis=0)
        steps = (steps - steps.min(0)) / np.maximum(np.ptp(steps, 0), 1e-9)
        points = np.stack([width * (0.15 + 0.7 * steps[:, 0]),
                           height * (0.15 + 0.7 * steps[:, 1])], 1)
        return cv2.polylines(mask, [np.round(points).astype(np.int32)], False, 1,
                             max(3, side // 400))
    if kind == "frame":
        inset = side // 100
        return cv2.rectangle(mask, (inset, inset), (width - 1 - inset, height - 1 - inset), 1,
                             max(2, side // 1000))
    if kind == "dust":
        for _ in range(300):
            centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
            cv2.circle(mask, centre, int(rng.integers(2, max(3, side // 300) + 1)), 1, -1)
        return mask
    if kind == "blemishes":
        return blemishes(height, width, max(1, round(12 * height * width / 1e6)), seed=seed)
    if kind == HALF:
        while mask.mean() < 0.5:
            a = (int(rng.integers(0, width)), int(rng.integers(0, height)))
            b = (int(rng.integers(0, width)), int(rng.integers(0, height)))
            cv2.line(mask, a, b, 1, max(2, int(side * rng.uniform(0.02, 0.08))))
            cv2.circle(mask, b, max(2, int(side * rng.uniform(0.02, 0.1))), 1, -1)
        return mask
    raise ValueError(f"Unknown hole shape {kind!r}: one of {(*SHAPES, HALF)}")


def _peak_rss_bytes() -> int:
    from _memory import peak_rss_bytes

    return peak_rss_bytes()


def _available_bytes() -> int | None:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _compare(options: dict) -> dict:
    import numpy as np

    from inpaint_tf import pretrained
    from inpaint_tf.inference.inpainting import inpaint

    height, width = options["size"]
    image = photo(height, width)
    mask = blemishes(height, width, options["blemishes"])
    model = pretrained(options["model"])
    inpaint(model, image, mask)  # warm-up: traces the model, first windows
    seconds = []
    for _ in range(options["repeats"]):
        started = time.perf_counter()
        windowed = inpaint(model, image, mask)
        seconds.append(time.perf_counter() - started)
    report = {"size": [height, width], "megapixels": height * width / 1e6,
              "blemishes": options["blemishes"], "hole_pixels": int(mask.sum()),
              "model": options["model"], "windowed_seconds": seconds,
              "windowed_median_seconds": float(np.median(seconds)),
              "peak_rss_after_windowed_bytes": _peak_rss_bytes()}
    needed = WHOLE_BYTES_PER_PIXEL * height * width
    available = _available_bytes()
    if available is not None and available < needed:
        report["whole_skipped"] = (f"needs about {needed / 1e9:.1f} GB, "
                                   f"{available / 1e9:.1f} GB available")
        return report
    inpaint(model, image[:256, :256], mask[:256, :256], windows=False)  # warm-up
    started = time.perf_counter()
    whole = inpaint(model, image, mask, windows=False)
    report["whole_seconds"] = time.perf_counter() - started
    report["peak_rss_after_whole_bytes"] = _peak_rss_bytes()
    hole = np.broadcast_to(mask[..., None] > 0, whole.shape)
    difference = np.abs(windowed - whole)[hole]
    mse = float(np.mean(difference.astype(np.float64) ** 2))
    report["max_abs_difference"] = float(difference.max())
    report["hole_psnr_between"] = float("inf") if mse == 0 else float(-10 * np.log10(mse))
    report["known_pixels_equal"] = bool(np.array_equal(windowed[~hole], whole[~hole]))
    report["speedup"] = report["whole_seconds"] / report["windowed_median_seconds"]
    return report


def _memory(options: dict) -> dict:
    from inpaint_tf import pretrained
    from inpaint_tf.inference.inpainting import inpaint

    height, width = options["size"]
    image = photo(height, width)
    mask = blemishes(height, width, options["blemishes"], seed=1)
    model = pretrained(options["model"])
    before = _peak_rss_bytes()
    started = time.perf_counter()  # the first call: tracing included
    filled = inpaint(model, image, mask)
    return {"size": [height, width], "megapixels": height * width / 1e6,
            "blemishes": options["blemishes"], "seconds": time.perf_counter() - started,
            "peak_rss_bytes": _peak_rss_bytes(), "peak_rss_before_inpainting_bytes": before,
            "output_shape": list(filled.shape)}


def _shape(options: dict) -> dict:
    import numpy as np

    from inpaint_tf import pretrained
    from inpaint_tf.inference import inpainting

    calls = []
    original = inpainting._predictor

    def recording(network):  # the model's input pixels, call by call
        predict = original(network)
        return lambda image, mask: calls.append(image.shape) or predict(image, mask)

    inpainting._predictor = recording
    kind, (height, width) = options["kind"], options["size"]
    model = pretrained(options["model"])
    image, mask = photo(height, width), damage(kind, height, width, seed=1)
    hole_pixels = int(mask.sum())
    small = photo(256, 256, seed=3)  # warm-up: traces the model
    inpainting.inpaint(model, small, blemishes(256, 256, 3), verbose=0)
    runs = 1 if kind == HALF else 2
    for _ in range(runs):
        calls.clear()
        started = time.perf_counter()
        inpainting.inpaint(model, image, mask, verbose=0)
        seconds = time.perf_counter() - started
    model_pixels = sum(n * h * w for n, h, w, _ in calls)
    report = {"kind": kind, "size": [height, width], "megapixels": height * width / 1e6,
              "model": options["model"], "hole_pixels": hole_pixels,
              "hole_share": hole_pixels / (height * width), "seconds": seconds,
              "runs": runs, "microseconds_per_hole_pixel": 1e6 * seconds / hole_pixels,
              "model_calls": len(calls), "model_pixels": model_pixels,
              "model_pixels_per_hole_pixel": model_pixels / hole_pixels,
              "peak_rss_bytes": _peak_rss_bytes()}
    check = options.get("check_size")
    if check:  # the same shape where the whole pass fits: tiles against it
        height, width = check
        image, mask = photo(height, width, seed=2), damage(kind, height, width, seed=1)
        windowed = inpainting.inpaint(model, image, mask, verbose=0)
        whole = inpainting.inpaint(model, image, mask, windows=False, verbose=0)
        difference = np.abs(windowed - whole)[np.broadcast_to(mask[..., None] > 0,
                                                              whole.shape)]
        report["check"] = {"size": [height, width], "hole_pixels": int(mask.sum()),
                           "max_abs_difference": float(difference.max()),
                           "mean_abs_difference": float(difference.mean())}
    return report


def _child(mode: str, options: dict) -> dict:
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    completed = subprocess.run([sys.executable, __file__, mode, json.dumps(options)],
                               capture_output=True, text=True, env=environment, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"The windows measurement ({mode}) failed with code "
                           f"{completed.returncode}:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def windows_table(settings) -> dict:
    """Windowed against whole-image inference on a 12 MP photo, and the peak memory of
    a 24 MP one (both in child processes)."""
    model = settings.windows_model
    compare = _child("compare", {"size": list(settings.windows_size), "model": model,
                                 "blemishes": settings.windows_blemishes,
                                 "repeats": settings.windows_repeats})
    # The same density of blemishes on the larger photo.
    area = settings.windows_memory_size[0] * settings.windows_memory_size[1]
    count = round(settings.windows_blemishes * area
                  / (settings.windows_size[0] * settings.windows_size[1]))
    memory = _child("memory", {"size": list(settings.windows_memory_size), "model": model,
                               "blemishes": count})
    memory["peak_rss_gb"] = memory["peak_rss_bytes"] / 1e9
    print(f"  {compare['megapixels']:.3g} MP, {compare['blemishes']} blemishes: windows "
          f"{compare['windowed_median_seconds']:.2f} s", flush=True)
    if "whole_seconds" in compare:
        print(f"  whole image {compare['whole_seconds']:.1f} s ({compare['speedup']:.0f}x), "
              f"max hole difference {compare['max_abs_difference']:.2g}", flush=True)
    else:
        print(f"  whole image not run: {compare['whole_skipped']}", flush=True)
    print(f"  {memory['megapixels']:.3g} MP with windows: peak RSS {memory['peak_rss_gb']:.2f} GB "
          f"({memory['seconds']:.1f} s)", flush=True)
    return {"model": model, "compare": compare, "memory": memory,
            "shapes": shapes_table(settings)}


def shapes_table(settings) -> list[dict]:
    """Every hole shape at every size of `settings.windows_shapes_sizes`, and half of the
    photo in holes at the largest, each in its own child process."""
    sizes = [list(size) for size in settings.windows_shapes_sizes]
    jobs = [(kind, size) for size in sizes for kind in SHAPES]
    jobs.append((HALF, max(sizes, key=lambda s: s[0] * s[1])))
    rows = []
    for kind, size in jobs:
        checked = size == sizes[0] or kind == HALF  # once per shape
        check = list(settings.windows_shapes_check_size) if checked else None
        row = _child("shape", {"kind": kind, "size": size, "check_size": check,
                               "model": settings.windows_shapes_model})
        rows.append(row)
        difference = row.get("check", {}).get("max_abs_difference")
        print(f"  {kind} at {row['megapixels']:.3g} MP ({100 * row['hole_share']:.2f} % holes):"
              f" {row['seconds']:.1f} s, {row['microseconds_per_hole_pixel']:.1f} us per hole "
              f"pixel, peak RSS {row['peak_rss_bytes'] / 1e9:.2f} GB"
              + ("" if difference is None else f", max hole difference {difference:.2g}"),
              flush=True)
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    mode, options = sys.argv[1], json.loads(sys.argv[2])
    measure = {"compare": _compare, "memory": _memory, "shape": _shape}[mode]
    print(json.dumps(measure(options)))
