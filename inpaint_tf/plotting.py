"""Plots people would rather look at than read: image grids, samples, training curves.

Every function returns the matplotlib Figure and, given `path`, also writes a
PNG (atomically). They work in notebooks (the figure shows inline) and on
machines without a display (matplotlib then falls back to Agg). In a notebook,
end the line with ``;`` (or assign the result): pyplot shows the figure once and
it would show again as the cell's value.

Example:
    >>> from inpaint_tf import plotting
    >>> plotting.plot_samples(images, masks, raw, composited, path="samples.png")  # doctest: +SKIP
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from inpaint_tf import _io
from inpaint_tf._validation import check_positive_int


def _pyplot():
    # Imported late: matplotlib picks the notebook's inline backend, or Agg headless.
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path) -> None:
    if path is None:
        return
    path = Path(path)
    with _io.atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=110, bbox_inches="tight", format=path.suffix[1:] or "png")


def _finish(figure, path, close: bool):
    _save(figure, path)
    if close:
        _pyplot().close(figure)
    return figure


def show_images(images, titles=None, columns: int = 8, path=None, close: bool = False,
                panel_inches: float = 1.4):
    """A grid of images (uint8 or float in [0, 1]); masks (H, W, 1) show in grey.

    `images` is an array (N, H, W, C) or a sequence of arrays, which may mix colour
    images and masks (e.g. ``[image, mask, masked, output]``); `panel_inches` is the
    width of each panel.
    """
    images = [np.asarray(image) for image in images]  # one array would refuse mixed channels
    if not images:
        raise ValueError("`images` is empty: nothing to show")
    columns = check_positive_int(columns, "columns")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"`titles` must have one entry per image. Received: {len(titles)} "
                         f"titles for {len(images)} images")
    rows = math.ceil(len(images) / columns)
    plt = _pyplot()
    figure, axes = plt.subplots(rows, columns,
                                figsize=(panel_inches * columns, 1.07 * panel_inches * rows),
                                squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index < len(images):
            _imshow(axis, images[index])
            if titles is not None:
                axis.set_title(str(titles[index]), fontsize=7)
    figure.tight_layout()
    return _finish(figure, path, close)


def _imshow(axis, image):
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 1)
    if image.ndim == 2 or image.shape[-1] == 1:
        # One channel: a mask (0/1, as the mask generators' uint8) or a grey image.
        grey_levels = image.dtype == np.uint8 and image.max() > 1
        axis.imshow(image.reshape(image.shape[:2]), cmap="gray", vmin=0,
                    vmax=255 if grey_levels else 1)
    else:
        axis.imshow(image, interpolation="nearest")


def plot_samples(images, masks, masked, raw, composited, path=None, close: bool = False):
    """One row per image: original | mask | masked input | raw output | composite."""
    columns = ("original", "mask", "masked input", "raw output", "composite")
    plt = _pyplot()
    figure, axes = plt.subplots(len(images), 5, figsize=(7.5, 1.5 * len(images)), squeeze=False)
    for row, panels in enumerate(zip(images, masks, masked, raw, composited)):
        for column, panel in enumerate(panels):
            axis = axes[row, column]
            axis.axis("off")
            _imshow(axis, panel)
            if row == 0:
                axis.set_title(columns[column], fontsize=8)
    figure.tight_layout()
    return _finish(figure, path, close)


def hole_crop_box(mask, size: int) -> tuple[int, int, int]:
    """(top, left, side) of a square around the largest hole region of a mask (H, W[, 1]):
    at least `size` px, and 1.5 times the region's extent, inside the image."""
    import cv2

    hole = (np.asarray(mask).reshape(np.shape(mask)[:2]) > 0).astype(np.uint8)
    height, width = hole.shape
    count, _, stats, centres = cv2.connectedComponentsWithStats(hole, connectivity=8)
    if count < 2:
        cy, cx, extent = height // 2, width // 2, 0
    else:
        largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        cx, cy = (int(round(v)) for v in centres[largest])
        extent = int(max(stats[largest, cv2.CC_STAT_WIDTH], stats[largest, cv2.CC_STAT_HEIGHT]))
    side = min(max(size, int(1.5 * extent)), height, width)
    top = int(np.clip(cy - side // 2, 0, height - side))
    left = int(np.clip(cx - side // 2, 0, width - side))
    return top, left, side


def plot_hole_crops(images, masks, outputs: dict, size: int = 128, path=None,
                    close: bool = False):
    """Crops around holes, one row per photo: masked input | each method | truth.

    Args:
        images: photos of any sizes (H, W, 3), uint8 or float in [0, 1].
        masks: one mask per photo (H, W[, 1]), 1 = hole (shown white in the input).
        outputs: method name -> one filled photo per photo (e.g. Navier–Stokes,
            the model), shown in that order.
        size: the crops' least side in pixels (a large hole gets a larger crop).

    Example:
        >>> plot_hole_crops(photos, masks, {"navier_stokes": ns, "model": filled},
        ...                 path="photo_samples.png")                  # doctest: +SKIP
    """
    size = check_positive_int(size, "size")
    if len(masks) != len(images) or any(len(v) != len(images) for v in outputs.values()):
        raise ValueError("`images`, `masks` and every entry of `outputs` need one item per "
                         "photo")
    titles = ["masked input", *outputs, "truth"]
    plt = _pyplot()
    figure, axes = plt.subplots(len(images), len(titles),
                                figsize=(1.8 * len(titles), 1.9 * len(images)), squeeze=False)
    for row, (image, mask) in enumerate(zip(images, masks)):
        image = _as_unit_float(image)
        hole = np.asarray(mask, np.float32).reshape(*image.shape[:2], 1) > 0
        top, left, side = hole_crop_box(mask, size)
        panels = [np.where(hole, 1.0, image), *(_as_unit_float(v[row]) for v in
                                                outputs.values()), image]
        for column, panel in enumerate(panels):
            axis = axes[row, column]
            axis.axis("off")
            _imshow(axis, panel[top:top + side, left:left + side])
            if row == 0:
                axis.set_title(titles[column], fontsize=8)
    figure.tight_layout()
    return _finish(figure, path, close)


def _as_unit_float(image) -> np.ndarray:
    image = np.asarray(image)
    return image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image


def plot_curves(history, path=None, close: bool = False):
    """Loss and metric curves from a training log: a list of per-epoch dicts, a
    `keras.callbacks.History`, or a CSV log path. Train and validation series of a
    quantity share a panel (``loss`` with ``val_loss``)."""
    rows = _history_rows(history)
    if not rows:
        raise ValueError("The training log is empty: nothing to plot")
    keys = [k for k in rows[0] if k not in ("epoch", "seconds") and not k.startswith("val_")]
    keys += [k[4:] for k in rows[0] if k.startswith("val_") and k[4:] not in keys]
    epochs = [row.get("epoch", index + 1) for index, row in enumerate(rows)]
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    columns = min(3, len(keys))
    figure, axes = plt.subplots(math.ceil(len(keys) / columns), columns,
                                figsize=(4 * columns, 3 * math.ceil(len(keys) / columns)),
                                squeeze=False)
    for axis, key in zip(axes.flat, keys):
        for prefix, style in (("", "-o"), ("val_", "--s")):
            values = [row.get(prefix + key) for row in rows]
            points = [(e, float(v)) for e, v in zip(epochs, values)
                      if v is not None and v != "" and math.isfinite(float(v))]
            if points:
                axis.plot(*zip(*points), style, markersize=3,
                          label="validation" if prefix else "train")
        axis.set_title(key)
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 0.96
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    for axis in list(axes.flat)[len(keys):]:
        axis.axis("off")
    figure.tight_layout()
    return _finish(figure, path, close)


def _history_rows(history) -> list[dict]:
    if hasattr(history, "history"):  # keras.callbacks.History
        metrics = history.history
        count = len(next(iter(metrics.values()), []))
        return [{"epoch": i + 1, **{k: v[i] for k, v in metrics.items()}} for i in range(count)]
    if isinstance(history, (str, Path)):
        import pandas as pd

        return pd.read_csv(history).to_dict("records")
    return list(history)
