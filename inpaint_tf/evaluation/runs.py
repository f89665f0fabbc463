"""Scoring a run, a `.keras` file or a released model on its fixed test set.

The test set of a run is the first ``data.test_images`` test images with the
fixed evaluation masks of a mask kind (`inpaint_tf.masks.eval_masks`), the same
holes for every model and classical baseline.

Example:
    >>> from inpaint_tf import evaluate_run
    >>> row = evaluate_run("runs/exp3", masks="irregular")           # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from inpaint_tf import _io
from inpaint_tf._validation import check_positive_int
from inpaint_tf.configs import ExperimentConfig, with_overrides
from inpaint_tf.data import Split
from inpaint_tf.evaluation.classical_scores import as_classical_scores
from inpaint_tf.evaluation.photos import (
    PHOTO_MASK_KINDS,
    compare_on_photos,
    load_photo_set,
    plot_photo_samples,
)
from inpaint_tf.evaluation.protocols import as_predict_fn, evaluate
from inpaint_tf.masks import EVAL_SEED
from inpaint_tf.presets.loading import load_inference_model, model_config
from inpaint_tf.training.data import fixed_masks, scoring_split
from inpaint_tf.training.run_folders import RunFolder


def fixed_test_set(config: ExperimentConfig, split: Split, kind: str | None = None,
                   n: int | None = None, seed: int = EVAL_SEED):
    """The fixed test images and masks a run is scored on (shared with the baselines).

    `n` (a positive integer, default ``data.test_images``) caps the number of test
    images; a cap above the test set's size takes them all. `seed` draws another
    mask set (a held-out check); the default is the fixed evaluation set.
    """
    n = config.data.test_images if n is None else check_positive_int(n, "n")
    images = split.test.images[:n]
    height, width = images.shape[1:3]
    return images, fixed_masks(config, kind or config.data.masks, len(images), seed, height,
                               width)


def evaluate_run(run_or_model, *, masks: str | None = None, n: int | None = None,
                 data=None, split: Split | None = None, seed: int = EVAL_SEED,
                 area_bins=None, precision: str | None = None) -> dict:
    """Scores a run's model (or a `.keras` file) on the test set with a fixed mask set,
    under both protocols; a run folder gets the row appended to its metrics.json.

    `masks` is a mask kind (default the run's), `n` a positive number of test images
    (default the config's ``data.test_images``), `seed` the mask set's (default the
    fixed evaluation seed; another one is a held-out check, marked ``mask_seed`` in
    the row), `area_bins` as in `inpaint_tf.evaluation.evaluate` (e.g. True with
    ``masks="irregular_area"``), `precision` as in
    `inpaint_tf.presets.loading.load_inference_model`. A missing model raises
    `FileNotFoundError`; an unreadable one or a bad `n` a `ValueError`.
    """
    path = Path(run_or_model)
    run = RunFolder(path) if path.is_dir() else None
    config = model_config(run_or_model)
    if data is not None:
        config = with_overrides(config, **{"data.source": str(data)})
    network = load_inference_model(run_or_model, precision)
    split = scoring_split(config, split)
    images, mask_set = fixed_test_set(config, split, masks, n, seed)
    row = evaluate(as_predict_fn(network), images, mask_set, fill_value=config.data.fill_value,
                   name=config.name, mask_kind=masks or config.data.masks, area_bins=area_bins)
    row["mask_seed"] = seed
    if run is not None:
        metrics = run.read_metrics()
        metrics.setdefault("evaluations", []).append(row)
        _io.write_json(run.metrics, metrics)
    return row


def evaluate_run_on_photos(run_or_model, photo_sources, *, masks=PHOTO_MASK_KINDS,
                           seed: int = EVAL_SEED, n: int | None = None, samples=None,
                           baselines=None, progress: bool = False,
                           classical_scores=None, reuse_only=(),
                           precision: str | None = None) -> list[dict]:
    """Scores a run's model (a `.keras` file, a released model) on photos at full size,
    beside the classical methods on identical holes, one row per (mask family,
    method); a run folder gets the rows appended to its metrics.json
    (``photo_evaluations``).

    Args:
        run_or_model: a run folder, a `.keras` file or a released model's name.
        photo_sources: a folder of photos (searched recursively) or a list of them.
        masks: photo mask families (`inpaint_tf.evaluation.photos.PHOTO_MASK_KINDS`).
        seed: the masks' seed (default the fixed evaluation seed; another one is a
            held-out check).
        n: score only the first `n` photos.
        samples: a PNG path: crops around the holes of the first photos (masked
            input, Navier–Stokes, the model, the truth), for the first family.
        baselines: the classical methods (default: those that run here, without
            ``fsr_best``; see `inpaint_tf.evaluation.photos.compare_on_photos`).
        progress: progress bars.
        classical_scores: the file of the classical methods' rows, reused where
            their key matches and written as each one is computed (see
            `inpaint_tf.evaluation.classical_scores`); default, for a run folder,
            its ``classical_scores.json`` (a rerun of an interrupted evaluation
            resumes), else none (every row computed).
        reuse_only: classical methods only reused from `classical_scores`, never
            computed (see `inpaint_tf.evaluation.photos.compare_on_photos`).
        precision: the model's, as in
            `inpaint_tf.presets.loading.load_inference_model` (None: as stored).

    Example:
        >>> rows = evaluate_run_on_photos("photo_unet", ["Kodak24", "McMaster"])  # doctest: +SKIP
    """
    path = Path(run_or_model)
    run = RunFolder(path) if path.is_dir() else None
    if classical_scores is None and run is not None:
        classical_scores = run.classical_scores
    if classical_scores is not None:  # a bad file is refused before the model loads
        classical_scores = as_classical_scores(classical_scores)
    name = model_config(run_or_model).name
    network = load_inference_model(run_or_model, precision)
    photos = load_photo_set(photo_sources, None if n is None else check_positive_int(n, "n"))
    rows = compare_on_photos(network, photos, tuple(masks), seed=seed, name=name,
                             baselines=baselines, progress=progress,
                             classical_scores=classical_scores, reuse_only=reuse_only)
    if samples is not None:
        plot_photo_samples(network, photos, masks[0], samples, seed=seed)
    if run is not None:
        metrics = run.read_metrics()
        metrics.setdefault("photo_evaluations", []).extend(rows)
        _io.write_json(run.metrics, metrics)
    return rows
