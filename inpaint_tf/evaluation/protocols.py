"""Evaluation under two protocols, so that every number is comparable.

- **study**: the raw output of the model scored over the whole image (MAE, MSE,
  Dice), as the study scored its autoencoders;
- **hole**: the composited output (known pixels copied from the input, so only
  the hole differs) scored over the hole pixels only: MAE, MSE, Dice, PSNR, SSIM.
  The study scored its GAN this way (with outputs clamped to [0, 1]).

Both run on identical images and masks (use `inpaint_tf.masks.eval_masks`), for
models and classical baselines alike.

Example:
    >>> from inpaint_tf import evaluate, eval_masks, TeleaBaseline
    >>> masks = eval_masks("irregular", len(x_test))                    # doctest: +SKIP
    >>> row = evaluate(TeleaBaseline(), x_test, masks, name="telea")      # doctest: +SKIP
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from inpaint_tf import _io
from inpaint_tf._validation import as_binary_masks, as_float_images, check_positive_int
from inpaint_tf.compositing import composite, fill_holes
from inpaint_tf.masks import AREA_BINS, area_bin_label, hole_share, hole_shares, mask_checksum
from inpaint_tf.metrics import psnr_from_mse, ssim_sums

PredictFn = Callable[[np.ndarray, np.ndarray], np.ndarray]

# Column order of result tables.
STUDY_COLUMNS = ("study_mae", "study_mse", "study_dice", "dice_ceiling")
HOLE_COLUMNS = ("hole_mae", "hole_mse", "hole_psnr", "hole_ssim", "hole_dice",
                "hole_dice_ceiling")


def as_predict_fn(model, batch_size: int = 256) -> PredictFn:
    """Wraps a Keras model taking ``{"image", "mask"}`` as ``predict(masked, masks)``."""

    def predict(masked_images, masks):
        outputs = model.predict({"image": masked_images, "mask": masks},
                                batch_size=batch_size, verbose=0)
        return np.asarray(outputs, np.float32)

    return predict


class _Sums:
    """Running sums behind both protocols, so a large set is scored in chunks."""

    def __init__(self):
        self.values = dict.fromkeys(
            ("pixels", "abs", "sq", "dice_top", "dice_bottom", "ceiling_top", "ceiling_bottom",
             "hole_pixels", "hole_abs", "hole_sq", "hole_dice_top", "hole_dice_bottom",
             "hole_ceiling_top", "hole_ceiling_bottom", "ssim", "ssim_weight"), 0.0)

    def add(self, images, raw, composited, masks):
        v = self.values
        images64, raw64, comp64 = (a.astype(np.float64) for a in (images, raw, composited))
        hole = np.broadcast_to(masks.astype(np.float64), images.shape)
        v["pixels"] += images.size
        v["abs"] += np.abs(raw64 - images64).sum()
        v["sq"] += ((raw64 - images64) ** 2).sum()
        v["dice_top"] += 2.0 * (raw64 * images64).sum()
        v["dice_bottom"] += (raw64 + images64).sum()
        v["ceiling_top"] += 2.0 * (images64**2).sum()
        v["ceiling_bottom"] += 2.0 * images64.sum()
        error = comp64 - images64
        v["hole_pixels"] += hole.sum()
        v["hole_abs"] += (np.abs(error) * hole).sum()
        v["hole_sq"] += (error**2 * hole).sum()
        v["hole_dice_top"] += 2.0 * (comp64 * images64 * hole).sum()
        v["hole_dice_bottom"] += ((comp64 + images64) * hole).sum()
        v["hole_ceiling_top"] += 2.0 * (images64**2 * hole).sum()
        v["hole_ceiling_bottom"] += 2.0 * (images64 * hole).sum()
        ssim_total, ssim_weight = ssim_sums(images, composited, masks)
        v["ssim"] += ssim_total
        v["ssim_weight"] += ssim_weight

    def row(self) -> dict:
        v = self.values

        def ratio(top, bottom):
            return v[top] / v[bottom] if v[bottom] else math.nan

        def dice(top, bottom, count):
            if not v[count]:
                return math.nan  # no pixel scored: undefined
            # 0/0: image and output are both 0 on every scored pixel, a perfect match.
            return v[top] / v[bottom] if v[bottom] else 1.0

        hole_mse = ratio("hole_sq", "hole_pixels")
        return {
            "study_mae": ratio("abs", "pixels"),
            "study_mse": ratio("sq", "pixels"),
            "study_dice": dice("dice_top", "dice_bottom", "pixels"),
            "dice_ceiling": dice("ceiling_top", "ceiling_bottom", "pixels"),
            "hole_mae": ratio("hole_abs", "hole_pixels"),
            "hole_mse": hole_mse,
            "hole_psnr": psnr_from_mse(hole_mse),
            "hole_ssim": ratio("ssim", "ssim_weight"),
            "hole_dice": dice("hole_dice_top", "hole_dice_bottom", "hole_pixels"),
            "hole_dice_ceiling": dice("hole_ceiling_top", "hole_ceiling_bottom", "hole_pixels"),
        }


def _checked_bins(area_bins):
    """The (low, high) hole-share bins asked for: None, True (`AREA_BINS`) or pairs."""
    if area_bins is None or area_bins is False:
        return ()
    bins = AREA_BINS if area_bins is True else tuple(tuple(b) for b in area_bins)
    if not bins or not all(len(b) == 2 and 0 <= b[0] < b[1] <= 1 for b in bins) or any(
            a[1] > b[0] for a, b in zip(bins, bins[1:])):
        raise ValueError("`area_bins` must be True or increasing, non-overlapping (low, high) "
                         f"hole shares in [0, 1]. Received: area_bins={area_bins!r}")
    return bins


def _bin_index(shares: np.ndarray, bins) -> np.ndarray:
    """The bin of each hole share (low <= share < high, the last bin's high included);
    -1 outside every bin."""
    index = np.full(len(shares), -1)
    for number, (low, high) in enumerate(bins):
        inside = (shares >= low) & ((shares < high) | ((number == len(bins) - 1)
                                                     & (shares <= high)))
        index[inside & (index < 0)] = number
    return index


def _bin_rows(bins, sums, counts, shares) -> list[dict]:
    rows = []
    for number, (low, high) in enumerate(bins):
        scores = sums[number].row()
        rows.append({"bin": area_bin_label(low, high), "n": int(counts[number]),
                     "hole_share": float(shares[number] / counts[number]) if counts[number]
                     else math.nan,
                     **{k: scores[k] for k in ("hole_mae", "hole_mse", "hole_psnr",
                                                "hole_ssim")}})
    return rows


def evaluate(predict, images, masks, *, fill_value: float = 0.0, name: str = "model",
             mask_kind: str | None = None, batch_size: int = 1000,
             progress: bool = False, area_bins=None) -> dict:
    """Scores a model or baseline on fixed masks under both protocols; one table row.

    Args:
        predict: ``predict(masked_images, masks) -> outputs`` (a baseline's
            `predict`, `as_predict_fn(model)`), or a Keras model taking
            ``{"image", "mask"}``. Outputs are clipped to [0, 1] (as the study's
            GAN protocol clamped them) and must keep the images' shape.
        images: uint8 or float images (N, H, W, 3).
        masks: hole masks (N, H, W[, 1]), 1 = hole.
        fill_value: value written into the holes of the input the model sees.
        name, mask_kind: labels of the row.
        batch_size: images scored per chunk.
        progress: show a progress bar.
        area_bins: also score the hole protocol per hole-share bin of the masks:
            True for `inpaint_tf.masks.AREA_BINS` (0-10 %, ..., 40-60 %), or a
            sequence of increasing (low, high) shares. Masks outside every bin
            count in the overall row only.

    Returns:
        dict with the row's labels, the study protocol (`study_mae`, `study_mse`,
        `study_dice`, `dice_ceiling`), the hole protocol (`hole_mae`, `hole_mse`,
        `hole_psnr`, `hole_ssim`, `hole_dice`, `hole_dice_ceiling`), the hole share,
        the mask-set checksum and the seconds taken. With `area_bins`, also
        ``"area_bins"``: one dict per bin (label, n, mean hole share, hole MAE,
        MSE, PSNR, SSIM), NaN figures for an empty bin.

        Edge cases, by design: masks without any hole pixel (the whole set) give
        NaN for every hole figure (undefined, not zero) and defined study figures;
        a set with at least one hole pixel never gives NaN. A perfect hole gives
        ``hole_psnr = inf``. A Dice over pixels that are 0 in both the image and
        the output (0/0) is 1.0, as in `inpaint_tf.metrics.dice`.

    Raises:
        ValueError: images not (N, H, W, 3) uint8 or float in [0, 1], NaN or Inf
            pixels, masks not binary or not matching the images, images smaller
            than the 11x11 SSIM window, or a model output of another shape or
            with NaN or Inf (each message names the argument). uint8 images are
            scaled by 1/255.
        TypeError: `predict` is not callable.

    Example:
        >>> row = evaluate(as_predict_fn(model), x_test, masks, name="unet")  # doctest: +SKIP
    """
    images = as_float_images(images)
    masks = as_binary_masks(masks, like=images)
    batch_size = check_positive_int(batch_size, "batch_size")
    if not callable(predict):
        raise TypeError(f"`predict` must be callable. Received: {type(predict).__name__}")
    if hasattr(predict, "predict") and hasattr(predict, "inputs"):  # a Keras model
        predict = as_predict_fn(predict)
    scores = PooledScores(area_bins)
    started = time.perf_counter()
    bar = _progress_bar(len(images)) if progress else None
    for start in range(0, len(images), batch_size):
        image, mask = images[start:start + batch_size], masks[start:start + batch_size]
        raw = checked_output(predict(fill_holes(image, mask, fill_value), mask), image.shape)
        scores.add(image, raw, mask)
        if bar is not None:
            bar.update(start + len(image))
    extra = {"area_bins": scores.bin_rows()} if scores.bins else {}
    return {"name": name, "masks": mask_kind or "custom", "n": len(images),
            "hole_share": hole_share(masks), **scores.figures(),
            "mask_checksum": mask_checksum(masks)[:12],
            "seconds": round(time.perf_counter() - started, 2), **extra}


class PooledScores:
    """Both protocols pooled over chunks of images (of any size), overall and per
    hole-share bin: `add` each chunk's images, raw outputs and masks, then read
    `figures` and `bin_rows`.

    Example:
        >>> scores = PooledScores(area_bins=True)                         # doctest: +SKIP
        >>> for image, raw, mask in chunks: scores.add(image, raw, mask)  # doctest: +SKIP
        >>> scores.figures()["hole_psnr"]                                # doctest: +SKIP
    """

    def __init__(self, area_bins=None):
        self.bins = _checked_bins(area_bins)
        self.sums = _Sums()
        self.bin_sums = [_Sums() for _ in self.bins]
        self.bin_counts = np.zeros(len(self.bins))
        self.bin_shares = np.zeros(len(self.bins))

    def add(self, images, raw, masks) -> None:
        """Adds a chunk: float images (N, H, W, 3), raw outputs clipped to [0, 1], masks."""
        composited = composite(raw, images, masks)
        self.sums.add(images, raw, composited, masks)
        if not self.bins:
            return
        shares = hole_shares(masks)
        index = _bin_index(shares, self.bins)
        for number in np.unique(index[index >= 0]):
            chosen = index == number
            self.bin_sums[number].add(images[chosen], raw[chosen], composited[chosen],
                                      masks[chosen])
            self.bin_counts[number] += chosen.sum()
            self.bin_shares[number] += shares[chosen].sum()

    def figures(self) -> dict:
        """Both protocols' figures over every image added (see `evaluate`)."""
        return self.sums.row()

    def bin_rows(self) -> list[dict]:
        """One dict per hole-share bin (label, n, mean share, hole MAE, MSE, PSNR, SSIM)."""
        return _bin_rows(self.bins, self.bin_sums, self.bin_counts, self.bin_shares)


def checked_output(outputs, shape) -> np.ndarray:
    """Model outputs as float32 clipped to [0, 1], refusing another shape, NaN or Inf."""
    outputs = np.asarray(outputs, np.float32)
    if outputs.shape != shape:
        raise ValueError(f"The model returned shape {outputs.shape} for inputs of shape "
                         f"{shape}; an inpainting model must keep the image shape")
    if not np.all(np.isfinite(outputs)):
        raise ValueError("The model returned NaN or Inf values")
    return np.clip(outputs, 0.0, 1.0)


def _progress_bar(total: int):
    import keras

    return keras.utils.Progbar(total, unit_name="image")


def results_table(rows):
    """A pandas DataFrame of evaluation rows, labels first, then both protocols."""
    import pandas as pd

    table = pd.DataFrame(list(rows))
    first = [c for c in ("name", "masks", "n", "hole_share", *STUDY_COLUMNS, *HOLE_COLUMNS)
             if c in table.columns]
    return table[first + [c for c in table.columns if c not in first]]


def write_table(table, path) -> None:
    """Writes a results table as CSV (``.csv``) or Markdown (``.md``), atomically."""
    path = Path(path)
    if path.suffix == ".csv":
        _io.write_text(path, table.to_csv(index=False))
    elif path.suffix == ".md":
        _io.write_text(path, format_markdown(table) + "\n")
    else:
        raise ValueError(f"Results tables are written as .csv or .md. Received: {path}")


def format_markdown(table) -> str:
    """A Markdown table with 4 significant digits (no extra dependency)."""

    def cell(value):
        if isinstance(value, (float, np.floating)):
            return f"{value:.4g}" if math.isfinite(value) else str(value)
        return str(value)

    header = "| " + " | ".join(map(str, table.columns)) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    lines = ["| " + " | ".join(cell(v) for v in row) + " |"
             for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *lines])
