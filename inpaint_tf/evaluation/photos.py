"""Scoring on real photos at full size, beside OpenCV on identical holes.

A photo test set is a folder of photos. Each photo is scored at its own size,
never resized. For each mask family, every photo gets its fixed evaluation mask
(`inpaint_tf.masks.photo_mask`), which depends only on the seed, the family and
the photo's pixels. The model, Navier–Stokes and Telea fill the same holes.

The figures are pooled over every hole pixel of the set: the squared error of all
hole pixels of all photos, then the PSNR of that mean. A large photo therefore
counts more than a small one, as in the CIFAR-10 tables. Only the hole protocol
applies (composited output, hole pixels). With ``area_bins`` the photos are also
scored per hole-share bin.

Example:
    >>> from inpaint_tf import pretrained
    >>> from inpaint_tf.evaluation.photos import compare_on_photos, load_photo_set
    >>> photos = load_photo_set("testsets/Kodak24")                    # doctest: +SKIP
    >>> rows = compare_on_photos(pretrained("photo_unet"), photos)     # doctest: +SKIP
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
from inpaint_tf.evaluation.baselines import BASELINES
from inpaint_tf.evaluation.protocols import PooledScores, checked_output
from inpaint_tf.inference.inpainting import inpaint
from inpaint_tf.masks import EVAL_SEED, eval_photo_masks, mask_set_checksum

# The photo mask families a photo model is scored on, and the baselines beside it.
PHOTO_MASK_KINDS = ("thin_strokes", "medium_strokes", "thick_strokes", "blobs",
                    "object_boxes", "free_form_area")
PHOTO_BASELINES = ("navier_stokes", "telea")
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
    (windows around the holes, padding, composite) and its options."""

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
        the study protocol's, over the composite), the mask set's checksum, seconds,
        and with `area_bins` the per-bin rows.

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
    for number, (photo, mask) in enumerate(zip(photos, masks)):
        image = as_float_images(np.asarray(photo)[None], f"photos[{number}]")
        mask = as_binary_masks(np.asarray(mask)[None], like=image, name=f"masks[{number}]")
        raw = checked_output(predict(fill_holes(image, mask, 0.0), mask), image.shape)
        scores.add(image, raw, mask)
        hole_pixels, pixels = hole_pixels + mask.sum(), pixels + mask.size
        if bar is not None:
            bar.update(number + 1)
    extra = {"area_bins": scores.bin_rows()} if scores.bins else {}
    return {"name": name, "masks": mask_kind or "custom", "n": len(photos),
            "hole_share": float(hole_pixels / pixels), **scores.figures(),
            "mask_checksum": mask_set_checksum(masks)[:12],
            "seconds": round(time.perf_counter() - started, 2), **extra}


def _progress_bar(total: int):
    import keras

    return keras.utils.Progbar(total, unit_name="photo")


def compare_on_photos(model, photos: PhotoSet, mask_kinds=PHOTO_MASK_KINDS, *,
                      seed: int = EVAL_SEED, baselines=PHOTO_BASELINES, name: str = "model",
                      area_bins_for=("free_form_area",), progress: bool = False,
                      **inpaint_options) -> list[dict]:
    """The model and the baselines on every mask family, on identical holes.

    Returns one row per (family, method): the baselines' first, then the model's
    (name `name`; `model` None scores the baselines only). Families in
    `area_bins_for` are also scored per hole-share bin.
    """
    predictors = {method: BASELINES[method]().predict for method in baselines}
    if model is not None:
        predictors[name] = photo_predict_fn(model, **inpaint_options)
    rows = []
    for kind in mask_kinds:
        masks = eval_photo_masks(kind, photos.images, seed)
        bins = True if kind in area_bins_for else None
        for method, predict in predictors.items():
            row = evaluate_photos(predict, photos.images, masks, name=method, mask_kind=kind,
                                  area_bins=bins, progress=progress)
            rows.append({**row, "mask_seed": seed})
    return rows


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


def margins(rows: list[dict], name: str = "model", baselines=PHOTO_BASELINES) -> dict:
    """Per mask family: the model's hole PSNR minus that of the better baseline (dB)."""
    result = {}
    for kind in dict.fromkeys(row["masks"] for row in rows):
        of_kind = {row["name"]: row for row in rows if row["masks"] == kind}
        if name not in of_kind or not any(b in of_kind for b in baselines):
            continue
        best = max(of_kind[b]["hole_psnr"] for b in baselines if b in of_kind)
        result[kind] = of_kind[name]["hole_psnr"] - best
    return result


def photo_table(rows: list[dict], name: str = "model", baselines=PHOTO_BASELINES):
    """A pandas table: one line per mask family, the hole PSNR of every method, the
    model's margin over the better baseline, and the model's SSIM and MAE."""
    import pandas as pd

    kinds = list(dict.fromkeys(row["masks"] for row in rows))
    gaps = margins(rows, name, baselines)
    lines = []
    for kind in kinds:
        of_kind = {row["name"]: row for row in rows if row["masks"] == kind}
        first = next(iter(of_kind.values()))
        line = {"masks": kind, "photos": first["n"], "hole share": first["hole_share"]}
        line.update({f"{method} PSNR": row["hole_psnr"] for method, row in of_kind.items()})
        if name in of_kind:
            line[f"{name} margin (dB)"] = gaps.get(kind, math.nan)
            line[f"{name} SSIM"] = of_kind[name]["hole_ssim"]
            line[f"{name} MAE"] = of_kind[name]["hole_mae"]
        lines.append(line)
    return pd.DataFrame(lines)
