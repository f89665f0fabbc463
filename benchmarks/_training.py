"""Training throughput: each model by batch and precision, XLA, and the study's reference."""

from __future__ import annotations

import _models
from _compute import model_flops
from _timing import interleaved_throughput, release, training_throughput
from study_pipeline import StudySequence

REFERENCE_MODEL = "conv_autoencoder"


def _log(message: str) -> None:
    print(message, flush=True)


def _timing_options(settings) -> dict:
    return {"warmup_steps": settings.warmup_steps, "window_seconds": settings.window_seconds,
            "windows": settings.windows}


def flops_per_image(model: str, images, batch_size: int) -> dict:
    """Forward and training-step FLOPs per image, traced on a fresh float32 model."""
    from inpaint_tf.inference.inpainting import inpainting_network

    trainer = _models.build(model, "float32")
    spec = _models.dataset(model, images, batch_size).element_spec
    result = model_flops(inpainting_network(trainer), trainer, spec, batch_size)
    release()
    return result


def measure(model: str, batch_size: int, precision: str, images, settings,
            jit_compile: bool | None = None) -> dict:
    """One row: images/s of `fit` on the real pipeline (Keras' default XLA when None)."""
    trainer = _models.build(model, precision, jit_compile)
    data = _models.dataset(model, images, batch_size)
    result = training_throughput(trainer, data, batch_size, **_timing_options(settings))
    row = {"model": model, "batch_size": batch_size, "precision": precision,
           "policy": trainer.dtype_policy.name,
           "jit_compile": bool(trainer.jit_compile), **result}
    release()
    _log(f"  {model:18s} batch {batch_size:4d} {precision:8s} xla={row['jit_compile']!s:5s} "
         f"{row['images_per_second']:9.1f} images/s")
    return row


def with_compute(row: dict, flops: dict, ceilings: dict) -> dict:
    """Adds FLOPs, achieved GFLOP/s and the fraction of the ceiling of the row's precision."""
    achieved = row["images_per_second"] * flops["train_gflop_per_image"]
    ceiling = ceilings[row["precision"]]
    return {**row, **flops, "achieved_gflops": achieved, "ceiling_gflops": ceiling,
            "ceiling_fraction": achieved / ceiling}


def training_table(images, settings, ceilings: dict) -> list[dict]:
    """Every model at every batch size and precision of `settings`."""
    rows = []
    for model in settings.models:
        batches = settings.batches[model]
        flops = flops_per_image(model, images, batches[0])
        for batch_size in batches:
            for precision in settings.precisions:
                row = measure(model, batch_size, precision, images, settings)
                rows.append(with_compute(row, flops, ceilings))
    return rows


def xla_table(images, settings, rows: list[dict]) -> list[dict]:
    """Each model with and without XLA (`jit_compile`), at its XLA batch size.

    A setting already in `rows` (Keras' default) is reused; the other one is measured.
    """
    table = []
    for model in settings.xla_models:
        batch_size, precision = settings.xla_batches[model], settings.xla_precision
        found = {row["jit_compile"]: row for row in rows
                 if (row["model"], row["batch_size"], row["precision"])
                 == (model, batch_size, precision)}
        for jit in (False, True):
            if jit not in found:
                found[jit] = measure(model, batch_size, precision, images, settings, jit)
        without, with_xla = found[False]["images_per_second"], found[True]["images_per_second"]
        table.append({"model": model, "batch_size": batch_size, "precision": precision,
                      "without_xla": without, "with_xla": with_xla,
                      "xla_speedup": with_xla / without, "xla_wins": with_xla > without})
    return table


def study_sequence(model: str, images, batch_size: int) -> StudySequence:
    """The study's per-image Python pipeline with the masks of `model`'s config."""
    settings = _models.config(model)
    return StudySequence(images, batch_size, settings.data.masks, real_masks=settings.is_gan)


def family_comparison(model: str, images, settings, cached: bool = False) -> dict:
    """The study's pipeline against ours on `model`, windows taken in turn.

    Runs: the study's PyDataset feeding the model at float32 (the reference); our
    pipeline at float32 and under the mixed policy; with `cached`, also the mixed model
    on one cached batch repeated (the same model as "ours_mixed"), which shows what the
    input pipeline costs.
    """
    batch_size = settings.reference_batch
    ours = _models.build(model, "mixed")
    real = _models.dataset(model, images, batch_size)
    runs = {
        "reference": (_models.build(model, "float32"),
                      study_sequence(model, images, batch_size)),
        "ours_float32": (_models.build(model, "float32"), real),
        "ours_mixed": (ours, real),
    }
    if cached:
        runs["ours_mixed_cached_batch"] = (ours, real.take(1).cache().repeat())
    result = interleaved_throughput(runs, batch_size, **_timing_options(settings))
    release()
    rates = {name: value["images_per_second"] for name, value in result.items()}
    for name, rate in rates.items():
        _log(f"  {model:18s} {name:24s} batch {batch_size:4d} {rate:9.1f} images/s")
    row = {"model": model, "batch_size": batch_size,
           "mask_kind": _models.config(model).data.masks, "runs": result,
           "speedup": rates["ours_mixed"] / rates["reference"],
           "speedup_float32": rates["ours_float32"] / rates["reference"]}
    if cached:
        row["real_over_cached"] = rates["ours_mixed"] / rates["ours_mixed_cached_batch"]
    return row


def reference_comparison(images, settings) -> dict:
    """The study's pipeline against ours: the conv autoencoder (the target, with the
    cached-batch run), then each other family of `settings.reference_models`."""
    result = family_comparison(REFERENCE_MODEL, images, settings, cached=True)
    result["families"] = [family_comparison(model, images, settings)
                          for model in settings.reference_models if model != REFERENCE_MODEL]
    return result
