"""The benchmark suite of inpaint_tf: `make bench`, or ``python benchmarks/run.py``.

Measures, in one run on one machine: the matmul ceiling; training throughput, FLOPs and
share of the ceiling of each model at two batch sizes, float32 and mixed; the study's
input pipeline against ours; the conv autoencoder's layers at both precisions; input
pipeline samples/s; Keras against SavedModel
inference; file size and CPU latency per image of each export format (Keras, SavedModel,
TFLite, ONNX Runtime); inference on windows around the holes against the whole image on
a 12-megapixel photo, and the memory of a 24-megapixel one; time per hole pixel and peak
memory of each hole shape (strokes, scribbles, frames, dust, blemishes, half the photo)
at 12 and 24 megapixels; a folder of JPEGs through
`inpaint_folder` against the model alone; peak memory of a training run on the full split;
XLA on and off; and whether mixed precision costs accuracy. Prints Markdown tables,
writes the results as JSON (``benchmarks/results/<date>.json``) and, for a full run,
appends a dated section to ``benchmarks/BENCHMARKS.md``.

    python benchmarks/run.py                   # the full suite
    python benchmarks/run.py --skip-accuracy   # without the mixed-vs-float32 training runs
    python benchmarks/run.py --quick           # tiny settings: checks that everything runs
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

SECTIONS = ("training", "reference", "layers", "pipeline", "inference", "formats", "windows",
            "folders", "memory", "xla", "accuracy")


@dataclasses.dataclass(frozen=True)
class Settings:
    models: tuple = ("conv_autoencoder", "pconv_autoencoder", "gan_joint")
    batches: dict = dataclasses.field(default_factory=lambda: {
        "conv_autoencoder": (32, 128), "pconv_autoencoder": (32, 128), "gan_joint": (32, 64)})
    precisions: tuple = ("float32", "mixed")
    images: int = 4096  # the pool the training pipelines draw batches from
    warmup_steps: int = 2  # the first traces the step, the others time it
    window_seconds: float = 2.5  # length of a timed window (at least one step)
    windows: int = 3  # timed windows per measurement; figures are their median
    matmul_size: int = 2048
    matmul_repeats: int = 10
    reference_batch: int = 32  # also the batch of the per-layer times
    # Each family against the study's pipeline feeding it (the first: the target).
    reference_models: tuple = ("conv_autoencoder", "pconv_autoencoder", "gan_joint")
    layer_repeats: int = 10
    pipeline_batch: int = 32
    pipeline_batches: int = 150
    inference_images: int = 1024
    inference_batch: int = 128
    inference_repeats: int = 5
    latency_calls: int = 30
    formats_models: tuple = ("conv_autoencoder", "pconv_autoencoder", "gan_joint")
    formats_batches: tuple = (1, 32)  # ms per image at each batch size
    formats_repeats: int = 5
    windows_model: str = "own_unet_irregular"  # a released model (pretrained name)
    windows_size: tuple = (3000, 4000)  # (height, width): 12 megapixels
    windows_blemishes: int = 20
    windows_repeats: int = 3  # windowed runs (median); the whole pass runs once
    windows_memory_size: tuple = (4000, 6000)  # 24 megapixels, windowed only
    windows_shapes_model: str = "photo_unet"  # the hole shapes of scanned photos
    windows_shapes_sizes: tuple = ((3000, 4000), (4000, 6000))  # 12 and 24 megapixels
    windows_shapes_check_size: tuple = (1200, 1600)  # where the whole pass fits
    folders_model: str = "own_unet_irregular"  # inpaint_folder against the model alone
    folders_size: tuple = (3000, 4000)  # (height, width) of each JPEG: 12 megapixels
    folders_photos: int = 8
    folders_blemishes: int = 20  # one mask for every photo
    memory_counts: tuple = (40_000, 10_000, 10_000)
    memory_steps: int = 5
    memory_scored_images: int = 1000
    xla_models: tuple = ("conv_autoencoder", "pconv_autoencoder", "gan_joint")
    # XLA compiles slowly on CPU and runs the GAN at about one image/s there: a small
    # GAN batch keeps its measurement to about a minute.
    xla_batches: dict = dataclasses.field(default_factory=lambda: {
        "conv_autoencoder": 32, "pconv_autoencoder": 32, "gan_joint": 8})
    xla_precision: str = "mixed"
    accuracy_steps: int = 150
    accuracy_batch: int = 32
    accuracy_seeds: tuple = (0, 1, 2)
    accuracy_test_images: int = 1000


# Seconds per section: checks that every part of the suite runs, measures nothing useful.
QUICK = Settings(
    batches={"conv_autoencoder": (2,), "pconv_autoencoder": (2,), "gan_joint": (2,)},
    precisions=("mixed",), images=64, window_seconds=0.0, windows=2, matmul_size=256,
    matmul_repeats=3, reference_batch=2, layer_repeats=2, pipeline_batch=8, pipeline_batches=4,
    inference_images=16, inference_batch=8, inference_repeats=2, latency_calls=3,
    formats_models=("conv_autoencoder",), formats_repeats=2,
    windows_size=(240, 320), windows_blemishes=4, windows_repeats=1,
    windows_memory_size=(300, 400), windows_shapes_sizes=((240, 320),),
    windows_shapes_check_size=(160, 224), folders_size=(120, 160), folders_photos=3,
    folders_blemishes=2,
    memory_counts=(256, 32, 32), memory_steps=2, memory_scored_images=16,
    xla_models=("conv_autoencoder",), xla_batches={"conv_autoencoder": 2},
    accuracy_steps=2, accuracy_batch=4, accuracy_seeds=(0,), accuracy_test_images=8)


def _log(message: str) -> None:
    print(message, flush=True)


def machine() -> dict:
    import keras
    import tensorflow as tf

    from inpaint_tf._system import cpu_model, describe_device, gpu_names

    return {"device": describe_device(), "cpu_model": cpu_model(), "cores": os.cpu_count(),
            "gpus": gpu_names(), "tensorflow": tf.__version__, "keras": keras.__version__,
            "python": platform.python_version(), "platform": platform.platform()}


def ceiling(settings: Settings) -> dict:
    """Matmul GFLOP/s at float32 and at the mixed policy's compute dtype."""
    from _compute import matmul_gflops

    from inpaint_tf._system import has_gpu

    mixed_dtype = "float16" if has_gpu() else "bfloat16"
    size = settings.matmul_size * (4 if has_gpu() else 1)  # a GPU needs a larger product
    result = {"size": size, "float32_dtype": "float32", "mixed_dtype": mixed_dtype,
              "float32": matmul_gflops(size, "float32", repeats=settings.matmul_repeats),
              "mixed": matmul_gflops(size, mixed_dtype, repeats=settings.matmul_repeats)}
    _log(f"  float32 {result['float32']:.1f} GFLOP/s, {mixed_dtype} {result['mixed']:.1f}")
    return result


def measure_all(settings: Settings, skip: set[str]) -> dict:
    import _models
    from _accuracy import accuracy_check
    from _folders import folders_table
    from _formats import formats_table
    from _inference import inference_table
    from _layers import layer_table
    from _memory import peak_memory
    from _pipeline import pipeline_table
    from _training import reference_comparison, training_table, xla_table
    from _windows import windows_table

    images = _models.random_images(settings.images)
    results = {}
    _log("Matmul ceiling")
    results["ceiling"] = ceiling(settings)
    ceilings = {"float32": results["ceiling"]["float32"], "mixed": results["ceiling"]["mixed"]}
    steps = (
        ("training", "Training throughput",
         lambda: training_table(images, settings, ceilings)),
        ("reference", "The study's pipeline against ours, each model family",
         lambda: reference_comparison(images, settings)),
        ("layers", "Per-layer forward and backward, conv autoencoder",
         lambda: layer_table(settings, results["ceiling"]["mixed_dtype"])),
        ("pipeline", "Input pipeline", lambda: pipeline_table(images, settings)),
        ("inference", "Inference", lambda: inference_table(images, settings)),
        ("formats", "Export formats: file size and CPU latency",
         lambda: formats_table(images, settings)),
        ("windows", "Inference on windows around the holes, photo-sized (subprocesses)",
         lambda: windows_table(settings)),
        ("folders", "A folder of photos: inpaint_folder against the model alone",
         lambda: folders_table(settings)),
        ("memory", "Peak memory (subprocess)", lambda: peak_memory(settings)),
        ("xla", "XLA", lambda: xla_table(images, settings, results.get("training", []))),
        ("accuracy", "Mixed precision and accuracy", lambda: accuracy_check(settings)),
    )
    for key, title, measure in steps:
        if key in skip:
            continue
        _log(title)
        started = time.perf_counter()
        results[key] = measure()
        _log(f"  ({time.perf_counter() - started:.0f} s)")
    return results


def load_average() -> tuple[float, float, float]:
    return os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3


def _plain(value):
    """NumPy scalars as Python numbers in the JSON file."""
    return value.item() if hasattr(value, "item") else str(value)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny settings (seconds per section): checks the suite runs")
    parser.add_argument("--skip", default="", metavar="SECTIONS",
                        help=f"comma-separated sections to leave out: {', '.join(SECTIONS)}")
    parser.add_argument("--skip-accuracy", action="store_true",
                        help="leave out the mixed-vs-float32 accuracy runs (the slowest part)")
    parser.add_argument("--json", type=Path, default=None,
                        help="results file (default benchmarks/results/<date>.json)")
    parser.add_argument("--markdown", type=Path, default=None,
                        help="Markdown file to append the run to (default: "
                             "benchmarks/BENCHMARKS.md for a full run, none for --quick)")
    args = parser.parse_args(argv)
    args.skip = {s for s in args.skip.split(",") if s} | (
        {"accuracy"} if args.skip_accuracy else set())
    unknown = args.skip - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    return args


def main(argv=None) -> dict:
    from _formats import formats_md
    from _memory import peak_rss_bytes
    from _report import append_section, markdown, targets

    args = parse_args(argv)
    started, load_start = time.perf_counter(), load_average()
    now = datetime.datetime.now(datetime.timezone.utc)
    settings = QUICK if args.quick else Settings()
    results = {"date": now.strftime("%Y-%m-%d %H:%M UTC"), "quick": args.quick,
               "command": " ".join(["python benchmarks/run.py", *(argv or sys.argv[1:])]),
               "machine": machine(), "settings": dataclasses.asdict(settings),
               "skipped": sorted(args.skip)}
    results.update(measure_all(settings, args.skip))
    load_end = load_average()
    # The end figure includes the suite's own threads: only the start tells of other work.
    busy = load_start[0] > 0.5 * (os.cpu_count() or 1)
    results["load_average"] = {
        "start": load_start, "end": load_end,
        "note": " — other work was running: figures are pessimistic" if busy else ""}
    results["wall_seconds"] = time.perf_counter() - started
    results["suite_peak_rss_gb"] = peak_rss_bytes() / 1e9
    results["targets"] = targets(results)

    section = markdown(results)
    if results.get("formats"):
        formats = results["formats"]
        section += (f"\n### Export formats ({formats['size']}x{formats['size']} images, CPU, "
                    f"{formats['threads']} threads)\n\n{formats_md(formats)}\n")
    print("\n" + section)
    suffix = "-quick" if args.quick else ""
    path = args.json or HERE / "results" / f"{now:%Y-%m-%d}{suffix}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=_plain) + "\n")
    markdown_path = args.markdown or (None if args.quick else HERE / "BENCHMARKS.md")
    if markdown_path is not None:
        append_section(markdown_path, section)
    _log(f"Results: {path}" + (f"; appended to {markdown_path}" if markdown_path else ""))
    return results


if __name__ == "__main__":
    main()
