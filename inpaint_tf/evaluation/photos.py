"""Scoring on real photos at full size, beside the classical methods on identical holes.

A photo test set is a folder of photos. Each photo is scored at its own size,
never resized. For each mask family, every photo gets its fixed evaluation mask
(`inpaint_tf.masks.photo_mask`), which depends only on the seed, the family and
the photo's pixels. The model and the classical methods (`PHOTO_BASELINES`:
Navier–Stokes, Telea, biharmonic, FSR fast and best) fill the same holes.

The figures are pooled over every hole pixel of the set: the squared error of all
hole pixels of all photos, then the PSNR of that mean. A large photo therefore
counts more than a small one, as in the CIFAR-10 tables. Only the hole protocol
applies (composited output, hole pixels). With ``area_bins`` the photos are also
scored per hole-share bin. Each row also holds its method's seconds per photo.

The classical methods' rows do not depend on the model: with ``classical_scores``
(a file) they are computed once, kept there, and reused by every later evaluation
on the same photos and holes (`inpaint_tf.evaluation.classical_scores`).

A model's margin in a family is its hole PSNR minus that of the best classical
method measured there (`best_baselines`), and the tables name that method. Rows
that hold fewer methods (records made before biharmonic and FSR were measured, or
an evaluation without ``fsr_best``) give the best of those they hold, and the
label lists them.

Example:
    >>> from inpaint_tf import pretrained
    >>> from inpaint_tf.evaluation.photos import compare_on_photos, load_photo_set
    >>> photos = load_photo_set("testsets/Kodak24")                    # doctest: +SKIP
    >>> rows = compare_on_photos(pretrained("photo_unet"), photos)     # doctest: +SKIP
    >>> photo_table(rows, name="photo_unet")                           # doctest: +SKIP
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from inpaint_tf._validation import as_binary_masks, as_float_images
from inpaint_tf.compositing import fill_holes
from inpaint_tf.data.image_files import read_image
from inpaint_tf.data.photos import list_photos
from inpaint_tf.evaluation.baselines import (
    BASELINES,
    CLASSICAL,
    available_baselines,
    checked_baselines,
)
from inpaint_tf.evaluation.classical_scores import (
    as_classical_scores,
    photos_checksum,
    score_key,
)
from inpaint_tf.evaluation.protocols import PooledScores, checked_output
from inpaint_tf.inference.inpainting import inpaint
from inpaint_tf.masks import EVAL_SEED, eval_photo_masks, mask_set_checksum

# The photo mask families a photo model is scored on, and the classical methods a
# photo model is measured against (its margin is over the best of them per family).
PHOTO_MASK_KINDS = ("thin_strokes", "medium_strokes", "thick_strokes", "blobs",
                    "object_boxes", "free_form_area")
# The families a photo model is built for: its goals and speed are measured on these.
PHOTO_GOAL_KINDS = ("thin_strokes", "medium_strokes", "blobs", "object_boxes")
PHOTO_BASELINES = CLASSICAL
HOLE_FIGURES = ("hole_mae", "hole_mse", "hole_psnr", "hole_ssim")


class PhotoSet(NamedTuple):
    """Photos of any sizes (RGB uint8) and their names (paths relative to the source)."""

    names: list[str]
    images: list[np.ndarray]


def load_photo_set(source, limit: int | None = None) -> PhotoSet:
    """The photos of a folder (recursively), a file, or a list of them, decoded, in
    path order; each named by its path relative to its folder's parent
    (``Kodak24/kodim01.png``). `limit` keeps the first photos only (a quick look)."""
    sources = [source] if isinstance(source, (str, Path)) else list(source)
    names, images = [], []
    for item in sources:
        parent = Path(item).expanduser().resolve().parent
        for file in list_photos(item):
            if limit is not None and len(images) >= limit:
                break
            names.append(str(Path(file).resolve().relative_to(parent)))
            images.append(read_image(file))
    return PhotoSet(names, images)


def photo_predict_fn(model, **inpaint_options) -> Callable:
    """``predict(masked, masks)`` over a batch of one photo, with `inpaint_tf.inpaint`
    (windows around the holes, padding, composite) and its options (silent unless
    `verbose` is given: the evaluation has its own progress bar)."""
    inpaint_options = {"verbose": 0, **inpaint_options}

    def predict(masked_images, masks):
        return inpaint(model, masked_images, masks, **inpaint_options)

    return predict


def evaluate_photos(predict, photos: Sequence, masks: Sequence, *, name: str = "model",
                    mask_kind: str | None = None, area_bins=None,
                    progress: bool = False) -> dict:
    """Scores `predict` on photos of any sizes with their masks, pooled over the holes.

    Args:
        predict: ``predict(masked_images, masks)`` on a batch of one photo (a
            baseline's `predict`, `photo_predict_fn(model)`), returning (1, H, W, 3).
            The photo's holes hold 0 in what it receives.
        photos: images (H, W, 3), uint8 or float in [0, 1], of any sizes.
        masks: one mask (H, W[, 1]) per photo, 1 = hole.
        name, mask_kind: labels of the row.
        area_bins: as in `inpaint_tf.evaluation.evaluate`: also score per hole-share bin.
        progress: show a progress bar.

    Returns:
        A row: name, masks, n (photos), hole_share (pooled), the hole figures (and
        the study protocol's, over the composite), the mask set's checksum, seconds
        (all of it), seconds_per_photo (in `predict` only), and with `area_bins` the
        per-bin rows.

    Raises:
        ValueError: photos and masks of different counts or sizes, or an output of
            another shape or with NaN or Inf.
    """
    if len(photos) != len(masks):
        raise ValueError(f"{len(photos)} photos but {len(masks)} masks")
    if not photos:
        raise ValueError("No photos to score")
    scores = PooledScores(area_bins)
    started = time.perf_counter()
    bar = _progress_bar(len(photos)) if progress else None
    hole_pixels = pixels = 0
    predicting = 0.0
    for number, (photo, mask) in enumerate(zip(photos, masks)):
        image = as_float_images(np.asarray(photo)[None], f"photos[{number}]")
        mask = as_binary_masks(np.asarray(mask)[None], like=image, name=f"masks[{number}]")
        masked = fill_holes(image, mask, 0.0)
        before = time.perf_counter()
        output = predict(masked, mask)
        predicting += time.perf_counter() - before
        raw = checked_output(output, image.shape)
        scores.add(image, raw, mask)
        hole_pixels, pixels = hole_pixels + mask.sum(), pixels + mask.size
        if bar is not None:
            bar.update(number + 1)
    extra = {"area_bins": scores.bin_rows()} if scores.bins else {}
    return {"name": name, "masks": mask_kind or "custom", "n": len(photos),
            "hole_share": float(hole_pixels / pixels), **scores.figures(),
            "mask_checksum": mask_set_checksum(masks)[:12],
            "seconds": round(time.perf_counter() - started, 2),
            "seconds_per_photo": predicting / len(photos), **extra}


def _progress_bar(total: int):
    import keras

    return keras.utils.Progbar(total, unit_name="photo")


def compare_on_photos(model, photos: PhotoSet, mask_kinds=PHOTO_MASK_KINDS, *,
                      seed: int = EVAL_SEED, baselines=None, name: str = "model",
                      area_bins_for=("free_form_area",), progress: bool = False,
                      classical_scores=None, reuse_only=(), **inpaint_options) -> list[dict]:
    """The model and the classical methods on every mask family, on identical holes.

    Args:
        model: a Keras model (or None: the baselines only).
        photos: a `PhotoSet`.
        mask_kinds: photo mask families.
        seed: the masks' seed.
        baselines: the methods beside the model (names of
            `inpaint_tf.evaluation.baselines.BASELINES`); default: those of
            `PHOTO_BASELINES` that run here, without ``fsr_best`` (hours on a test
            set: name it to include it).
        name: the model's name in the rows.
        area_bins_for: families also scored per hole-share bin.
        progress: progress bars.
        classical_scores: a scores file (its path, or a
            `inpaint_tf.evaluation.classical_scores.ClassicalScores`): the classical
            methods' rows found there under their key are reused, not recomputed;
            the others are computed and stored there, each as soon as it is done,
            so a rerun of an interrupted evaluation resumes. The model's rows are
            never stored. Default: every row computed.
        reuse_only: methods of `baselines` taken from `classical_scores` where stored
            there and otherwise left out, never computed (``fsr_best``, whose rows
            take hours): the tables then name the methods each family was measured
            against.
        **inpaint_options: for `inpaint_tf.inpaint`.

    Returns:
        One row per (family, method) (see `evaluate_photos`), with ``mask_seed``:
        the baselines' first, in the order given, then the model's.

    Raises:
        ValueError: an unknown baseline, a model named like one, a
            `classical_scores` file that is not a scores file, or `reuse_only`
            naming a method not in `baselines` or given without `classical_scores`.
        ImportError: a baseline named whose package is missing (the message says
            how to install it).
    """
    baselines = (available_baselines(PHOTO_BASELINES) if baselines is None
                 else checked_baselines(baselines))
    if model is not None and name in BASELINES:
        raise ValueError(f"The model needs a name of its own, not a baseline's. "
                         f"Received: name={name!r}")
    stored = None if classical_scores is None else as_classical_scores(classical_scores)
    reuse_only = _checked_reuse_only(reuse_only, baselines, stored)
    predictors = {method: BASELINES[method]().predict for method in baselines}
    if model is not None:
        predictors[name] = photo_predict_fn(model, **inpaint_options)
    photo_sum = None if stored is None else photos_checksum(photos.images)
    rows = []
    for kind in mask_kinds:
        masks = eval_photo_masks(kind, photos.images, seed)
        bins = True if kind in area_bins_for else None
        mask_sum = None if stored is None else mask_set_checksum(masks)
        for method, predict in predictors.items():
            key = (score_key(method, kind, seed, mask_sum, photo_sum, bool(bins))
                   if stored is not None and method in CLASSICAL else None)
            row = None if key is None else stored.get(key)
            if row is None and method in reuse_only:
                continue  # not stored: left out rather than computed
            if row is None:
                row = {**evaluate_photos(predict, photos.images, masks, name=method,
                                         mask_kind=kind, area_bins=bins, progress=progress),
                       "mask_seed": seed}
                if key is not None:
                    stored.put(key, row)
            rows.append(row)
    return rows


def _checked_reuse_only(reuse_only, baselines, stored) -> tuple[str, ...]:
    reuse_only = checked_baselines(reuse_only) if reuse_only else ()
    unknown = [method for method in reuse_only if method not in baselines]
    if unknown:
        raise ValueError(f"`reuse_only` names methods that are not among the baselines "
                         f"{list(baselines)}: {unknown}")
    if reuse_only and stored is None:
        raise ValueError("`reuse_only` takes rows from a classical scores file: give "
                         "`classical_scores` (CLI: --classical-scores FILE)")
    return reuse_only


def plot_photo_samples(model, photos: PhotoSet, kind: str, path, *, count: int = 4,
                       seed: int = EVAL_SEED, size: int = 128, **inpaint_options):
    """Crops around the holes of the first `count` photos: masked input | Navier–Stokes
    | the model | truth (`inpaint_tf.plotting.plot_hole_crops`), written to `path`."""
    from inpaint_tf.plotting import plot_hole_crops

    images = photos.images[:count]
    masks = eval_photo_masks(kind, images, seed)
    baseline = BASELINES["navier_stokes"]()
    outputs = {"navier_stokes": [], "model": []}
    for image, mask in zip(images, masks):
        floats, hole = image[None].astype(np.float32) / 255.0, mask[None].astype(np.float32)
        outputs["navier_stokes"].append(baseline.predict(floats * (1 - hole), hole)[0])
        outputs["model"].append(inpaint(model, floats, hole, **inpaint_options)[0])
    return plot_hole_crops(images, masks, outputs, size=size, path=path, close=True)


def _by_family(rows: list[dict]) -> dict[str, dict[str, dict]]:
    """{family: {method: row}}, families and methods in the order of the rows."""
    families: dict[str, dict[str, dict]] = {}
    for row in rows:
        families.setdefault(row["masks"], {})[row["name"]] = row
    return families


def best_baselines(rows: list[dict], baselines=PHOTO_BASELINES) -> dict[str, str]:
    """Per mask family: the classical method (of `baselines`) with the highest hole
    PSNR among the rows, the first in `baselines` order on a tie; families
    without any of them are left out.

    Example:
        >>> best_baselines([{"masks": "blobs", "name": "telea", "hole_psnr": 21.0},
        ...                 {"masks": "blobs", "name": "fsr_fast", "hole_psnr": 22.5}])
        {'blobs': 'fsr_fast'}
    """
    best = {}
    for kind, of_kind in _by_family(rows).items():
        measured = [method for method in baselines if method in of_kind]
        if measured:
            best[kind] = max(measured, key=lambda method: of_kind[method]["hole_psnr"])
    return best


def best_label(rows: list[dict], kind: str, baselines=PHOTO_BASELINES) -> str:
    """The best classical method of a family, and which were measured when not all
    of `baselines` were: ``"fsr_best"``, or ``"telea (best of navier_stokes, telea)"``."""
    of_kind = _by_family(rows).get(kind, {})
    best = best_baselines([row for row in of_kind.values()], baselines).get(kind)
    if best is None:
        return "none measured"
    measured = [method for method in baselines if method in of_kind]
    if len(measured) == len(baselines):
        return best
    return f"{best} (best of {', '.join(measured)})"


def margins(rows: list[dict], name: str = "model", baselines=PHOTO_BASELINES) -> dict:
    """Per mask family: the model's hole PSNR minus that of the best classical method
    measured there (dB; `best_baselines`). Families without the model or without
    any baseline are left out.

    Example:
        >>> margins([{"masks": "blobs", "name": "telea", "hole_psnr": 21.0},
        ...          {"masks": "blobs", "name": "model", "hole_psnr": 22.5}])
        {'blobs': 1.5}
    """
    families = _by_family(rows)
    return {kind: families[kind][name]["hole_psnr"] - families[kind][method]["hole_psnr"]
            for kind, method in best_baselines(rows, baselines).items()
            if name in families[kind]}


def photo_table(rows: list[dict], name: str = "model", baselines=PHOTO_BASELINES):
    """A pandas table: one line per mask family, the hole PSNR of every method, the
    best classical method (`best_label`), the model's margin over it, and the
    model's SSIM and MAE.

    Example:
        >>> photo_table(compare_on_photos(model, photos), name="model")  # doctest: +SKIP
    """
    import pandas as pd

    gaps = margins(rows, name, baselines)
    lines = []
    for kind, of_kind in _by_family(rows).items():
        first = next(iter(of_kind.values()))
        line = {"masks": kind, "photos": first["n"], "hole share": first["hole_share"]}
        line.update({f"{method} PSNR": row["hole_psnr"] for method, row in of_kind.items()})
        line["best classical"] = best_label(rows, kind, baselines)
        if name in of_kind:
            line[f"{name} margin (dB)"] = gaps.get(kind, math.nan)
            line[f"{name} SSIM"] = of_kind[name]["hole_ssim"]
            line[f"{name} MAE"] = of_kind[name]["hole_mae"]
        lines.append(line)
    # Columns in one order whatever the rows' order: the classical methods, then the rest.
    methods = dict.fromkeys(row["name"] for row in rows)
    ordered = [*(m for m in baselines if m in methods), *(m for m in methods
                                                          if m not in baselines)]
    table = pd.DataFrame(lines)
    front = ["masks", "photos", "hole share", *(f"{method} PSNR" for method in ordered)]
    return table[front + [column for column in table.columns if column not in front]]


def photo_times(rows: list[dict]):
    """A pandas table: one line per method, its seconds per photo in each mask
    family and over all of them (photo-weighted); NaN where a row has no time
    (records made before the times were kept).

    Example:
        >>> photo_times(compare_on_photos(model, photos))                # doctest: +SKIP
    """
    import pandas as pd

    methods = list(dict.fromkeys(row["name"] for row in rows))
    lines = []
    for method in methods:
        own = [row for row in rows if row["name"] == method]
        line = {"method": method}
        line.update({f"{row['masks']} (s/photo)": row.get("seconds_per_photo", math.nan)
                     for row in own})
        photos = sum(row["n"] for row in own)
        line["all (s/photo)"] = sum(row.get("seconds_per_photo", math.nan) * row["n"]
                                    for row in own) / photos
        lines.append(line)
    families = [f"{kind} (s/photo)" for kind in dict.fromkeys(row["masks"] for row in rows)]
    return pd.DataFrame(lines, columns=["method", *families, "all (s/photo)"])
