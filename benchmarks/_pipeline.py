"""Input pipeline throughput: batches per second of `make_dataset`, without a model."""

from __future__ import annotations

import time

from _timing import median
from study_pipeline import StudySequence


def _samples_per_second(next_batch, batch_size: int, *, batches: int, windows: int) -> dict:
    for _ in range(max(1, batches // 10)):  # fills tf.data's buffers and thread pool
        next_batch()
    rates = []
    for _ in range(windows):
        started = time.perf_counter()
        for _ in range(batches):
            next_batch()
        rates.append(batches * batch_size / (time.perf_counter() - started))
    return {"samples_per_second": median(rates), "window_rates": rates}


def _make_dataset_rate(images, kind: str, batch_size: int, options: dict) -> dict:
    from inpaint_tf.data import make_dataset

    iterator = iter(make_dataset(images, kind, batch_size=batch_size))
    return _samples_per_second(lambda: next(iterator), batch_size, **options)


def _study_rate(images, kind: str, batch_size: int, options: dict) -> dict:
    sequence = StudySequence(images, batch_size, kind)
    indices = iter(range(10**12))
    return _samples_per_second(lambda: sequence[next(indices) % len(sequence)], batch_size,
                               **options)


def pipeline_table(images, settings) -> list[dict]:
    """Samples/s of the training pipeline for each mask kind, and of the study's."""
    from inpaint_tf.masks import MASK_KINDS

    batch_size = settings.pipeline_batch
    options = {"batches": settings.pipeline_batches, "windows": settings.windows}
    rows = [{"pipeline": "make_dataset", "mask_kind": kind, "batch_size": batch_size,
             **_make_dataset_rate(images, kind, batch_size, options)} for kind in MASK_KINDS]
    rows.append({"pipeline": "study_reference", "mask_kind": "irregular",
                 "batch_size": batch_size,
                 **_study_rate(images, "irregular", batch_size, options)})
    for row in rows:
        print(f"  {row['pipeline']:16s} {row['mask_kind']:14s} "
              f"{row['samples_per_second']:10.0f} samples/s", flush=True)
    return rows
