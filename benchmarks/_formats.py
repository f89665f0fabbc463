"""Export formats: file size, CPU latency per image and agreement with Keras of each model
as a Keras model in process, its SavedModel, its TFLite files (float32, float16, dynamic)
and its ONNX file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import _models
from _report import table
from _timing import median, release, time_calls

SIZE = 32  # CIFAR-sized images: the fixed size of the TFLite and ONNX files
# (format, quantize) in the order of the table.
PATHS = (("keras", None), ("saved_model", None), ("tflite", None), ("tflite", "float16"),
         ("tflite", "dynamic"), ("onnx", None))


def _bytes(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _litert(path: Path, threads: int):
    """The signature runner of a TFLite file in LiteRT (else TensorFlow's interpreter)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    return Interpreter(model_path=str(path), num_threads=threads).get_signature_runner("serve")


def _callers(network, folder: Path, fmt: str, quantize, threads: int):
    """(path written, {batch size: call(image, mask) -> numpy composite})."""
    import tensorflow as tf

    from inpaint_tf import export
    from inpaint_tf.export._common import serving_function
    from inpaint_tf.inference.inpainting import size_multiple

    if fmt == "keras":
        path = folder / "model.keras"
        network.save(path)
        # The model in process with the files' padding and composite, so that every row
        # computes the same thing.
        serve = tf.function(serving_function(network, size_multiple(network)))

        def keras_call(image, mask):
            with tf.device("/CPU:0"):
                return serve(image, mask)["inpainted"].numpy()

        return path, lambda batch: keras_call
    if fmt == "saved_model":
        path = export.export_saved_model(network, folder / "saved_model")
        served = tf.saved_model.load(str(path))

        def saved_model_call(image, mask):
            with tf.device("/CPU:0"):
                return served.serve(image=image, mask=mask)["inpainted"].numpy()

        return path, lambda batch: saved_model_call
    if fmt == "tflite":
        path = export.export_tflite(network, folder / f"model_{quantize}.tflite",
                                    quantize=quantize, height=SIZE, width=SIZE)

        def tflite_callers(batch):
            runner = _litert(path, threads)  # one interpreter per batch size: no resizing
            return lambda image, mask: runner(image=image, mask=mask)["inpainted"]

        return path, tflite_callers
    import onnxruntime

    path = export.export_onnx(network, folder / "model.onnx", height=SIZE, width=SIZE)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return path, lambda batch: (
        lambda image, mask: session.run(["inpainted"], {"image": image, "mask": mask})[0])


def formats_table(images, settings) -> dict:
    """Per model and format: bytes on disk, ms per image at each batch size (median of
    `formats_repeats` calls after three warm-up calls, on the CPU), and the max abs
    difference of the served composite to the Keras model's on the largest batch."""
    import numpy as np

    from inpaint_tf.export._common import exported_network
    from inpaint_tf.masks import generate_masks

    threads = os.cpu_count() or 1
    largest = max(settings.formats_batches)
    floats = images[:largest].astype(np.float32) / 255.0
    masks = generate_masks("irregular", largest, seed=0, height=SIZE,
                           width=SIZE).astype(np.float32)
    rows = []
    for model in settings.formats_models:
        network = exported_network(_models.build(model, "float32"))
        reference = None
        with tempfile.TemporaryDirectory() as folder:
            for fmt, quantize in PATHS:
                path, callers = _callers(network, Path(folder), fmt, quantize, threads)
                ms_per_image, served = {}, None
                for batch in settings.formats_batches:
                    call = callers(batch)
                    image, mask = floats[:batch], masks[:batch]
                    seconds = time_calls(lambda: call(image, mask), warmup=3,  # noqa: B023
                                         repeats=settings.formats_repeats)
                    ms_per_image[batch] = 1000 * median(seconds) / batch
                    if batch == largest:
                        served = np.asarray(call(image, mask))
                reference = served if fmt == "keras" else reference
                row = {"model": model, "format": fmt, "quantize": quantize,
                       "bytes": _bytes(path), "ms_per_image": ms_per_image,
                       "max_abs_diff": float(np.abs(served - reference).max())}
                rows.append(row)
                name = fmt + (f" ({quantize})" if quantize else "")
                print(f"  {model:18s} {name:20s} {row['bytes'] / 1e6:7.2f} MB  " + ", ".join(
                    f"batch {b}: {ms:.3f} ms/image" for b, ms in ms_per_image.items())
                    + f"  max |diff| {row['max_abs_diff']:.1e}", flush=True)
        release()
    return {"size": SIZE, "batches": list(settings.formats_batches), "threads": threads,
            "rows": rows}


def formats_md(result: dict) -> str:
    """The section's Markdown: one row per model and format."""
    batches = result["batches"]
    return table(
        ["model", "format", "file size (MB)",
         *(f"ms/image, batch {b}" for b in batches), "max abs diff to Keras"],
        [[r["model"], r["format"] + (f" ({r['quantize']})" if r["quantize"] else ""),
          f"{r['bytes'] / 1e6:.2f}",
          # JSON turns the batch keys into strings: read either.
          *(f"{r['ms_per_image'].get(b, r['ms_per_image'].get(str(b))):.3f}"
            for b in batches),
          f"{r['max_abs_diff']:.1e}"] for r in result["rows"]])
