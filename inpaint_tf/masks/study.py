"""The study's mask kinds, drawn for 32 x 32 images (and scaled for others).

The study drew its boxes with ``cv2.rectangle(mask, (x, y), (x + b, y + b), ...)``,
which fills both corners, so a box of "size b" is b + 1 pixels wide. The
generators reproduce the holes it drew, not the sizes it named:

==============  ==============================================  ==================
kind            drawn as (32 x 32 images)                        hole side / share
==============  ==============================================  ==================
center_box      b ~ U{4..9}, corner ((32-b)//2, (32-b)//2)       5..10 px, 5.8 %
random_box      b ~ U{5..11}, corner x, y ~ U{0..31-b}           6..12 px, 8.3 %
irregular       1..9 lines, end points ~ U{1..31}, width 1..2     (strokes), 14.8 %
gan_rectangle   h, w ~ U{5..11} independently, exact slices      5..11 px, 6.3 %
boxes           one of the three boxes above per mask, uniformly   5..12 px, 6.8 %
irregular_area  strokes of width 1..4 drawn until a target share   (strokes), 0..60 %
                ~ U(bin) of a uniformly chosen `AREA_BINS` bin
==============  ==============================================  ==================

The first four are the study's; `boxes` trains one model for all three box kinds,
and `irregular_area` spans the hole-share bins that `evaluate(..., area_bins=True)`
reports (as the partial-convolution paper does), the same number of masks per bin.

For other image sizes the ranges are scaled by ``min(H, W) / 32`` (exact at 32).
Every generator takes a seed or a ``numpy.random.Generator``: same seed, same masks.

Example:
    >>> from inpaint_tf.masks import irregular_masks
    >>> irregular_masks(4, seed=0).shape
    (4, 32, 32, 1)
"""

from __future__ import annotations

import cv2
import numpy as np

from inpaint_tf._validation import check_positive_int

STUDY_SIZE = 32
"""The study's image side, in pixels, at which its mask kinds are defined."""


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _scaled(value_range: tuple[int, int], height: int, width: int) -> tuple[int, int]:
    scale = min(height, width) / STUDY_SIZE
    if scale == 1:
        return value_range
    low, high = value_range
    return max(1, round(low * scale)), max(1, round(high * scale))


def _check_size(height: int, width: int) -> tuple[int, int]:
    height = check_positive_int(height, "height")
    width = check_positive_int(width, "width")
    if min(height, width) < 8:
        raise ValueError(f"Masks need images of at least 8x8 pixels. Received: {height}x{width}")
    return height, width


def _boxes_to_masks(top, left, bottom, right, height: int, width: int) -> np.ndarray:
    """Fills rows top..bottom and columns left..right (both inclusive) per mask."""
    rows = np.arange(height)
    cols = np.arange(width)
    inside_rows = (rows >= top[:, None]) & (rows <= bottom[:, None])
    inside_cols = (cols >= left[:, None]) & (cols <= right[:, None])
    masks = inside_rows[:, :, None] & inside_cols[:, None, :]
    return masks.astype(np.uint8)[..., None]


def center_box_masks(n: int, seed=None, height: int = 32, width: int = 32,
                     size_range: tuple[int, int] | None = None) -> np.ndarray:
    """The study's centred box: b ~ U{4..9}, hole b + 1 pixels wide, centred.

    Args:
        n: number of masks.
        seed: int, None or `numpy.random.Generator`.
        height, width: mask size.
        size_range: inclusive range of b; default the study's (4, 9), scaled.

    Returns:
        uint8 array (n, height, width, 1), 1 = hole.
    """
    height, width = _check_size(height, width)
    low, high = size_range or _scaled((4, 9), height, width)
    sizes = _rng(seed).integers(low, high + 1, size=check_positive_int(n, "n"))
    top = (height - sizes) // 2
    left = (width - sizes) // 2
    return _boxes_to_masks(top, left, top + sizes, left + sizes, height, width)


def random_box_masks(n: int, seed=None, height: int = 32, width: int = 32,
                     size_range: tuple[int, int] | None = None) -> np.ndarray:
    """The study's random box: b ~ U{5..11}, corner uniform so the b + 1 hole fits.

    Args and returns as `center_box_masks` (default `size_range` (5, 11)).
    """
    height, width = _check_size(height, width)
    low, high = size_range or _scaled((5, 11), height, width)
    rng = _rng(seed)
    sizes = rng.integers(low, high + 1, size=check_positive_int(n, "n"))
    # The study drew x and y from U{0..31-b}: the hole ends at most at pixel 31.
    left = rng.integers(0, width - sizes)
    top = rng.integers(0, height - sizes)
    return _boxes_to_masks(top, left, top + sizes, left + sizes, height, width)


def gan_rectangle_masks(n: int, seed=None, height: int = 32, width: int = 32,
                        size_range: tuple[int, int] | None = None) -> np.ndarray:
    """The GAN notebook's rectangle: h, w ~ U{5..11} independently, exact slices.

    Args and returns as `center_box_masks` (default `size_range` (5, 11)).
    """
    height, width = _check_size(height, width)
    low, high = size_range or _scaled((5, 11), height, width)
    rng = _rng(seed)
    n = check_positive_int(n, "n")
    hole_heights = rng.integers(low, high + 1, size=n)
    hole_widths = rng.integers(low, high + 1, size=n)
    top = rng.integers(0, height - hole_heights + 1)
    left = rng.integers(0, width - hole_widths + 1)
    return _boxes_to_masks(top, left, top + hole_heights - 1, left + hole_widths - 1,
                           height, width)


def irregular_masks(n: int, seed=None, height: int = 32, width: int = 32,
                    strokes: tuple[int, int] = (1, 9),
                    thickness: tuple[int, int] | None = None) -> np.ndarray:
    """The study's irregular masks: 1..9 straight OpenCV lines of width 1..2.

    End points are uniform in 1..31 (both coordinates, scaled for other sizes).

    Args:
        n, seed, height, width: as `center_box_masks`.
        strokes: inclusive range of the number of lines per mask.
        thickness: inclusive range of line widths; default (1, 2), scaled.

    Returns:
        uint8 array (n, height, width, 1), 1 = hole.
    """
    height, width = _check_size(height, width)
    rng = _rng(seed)
    n = check_positive_int(n, "n")
    thin, thick = thickness or _scaled((1, 2), height, width)
    # All random numbers of the batch are drawn at once (fast); the lines are drawn
    # one by one by OpenCV, as the study drew them.
    counts = rng.integers(strokes[0], strokes[1] + 1, size=n)
    total = int(counts.sum())
    xs = rng.integers(1, width, size=(total, 2)).tolist()
    ys = rng.integers(1, height, size=(total, 2)).tolist()
    widths = rng.integers(thin, thick + 1, size=total).tolist()
    owners = np.repeat(np.arange(n), counts).tolist()
    masks = np.zeros((n, height, width), np.uint8)
    for owner, (x1, x2), (y1, y2), line_width in zip(owners, xs, ys, widths):
        cv2.line(masks[owner], (x1, y1), (x2, y2), 1, line_width)
    return masks[..., None]


def box_masks(n: int, seed=None, height: int = 32, width: int = 32) -> np.ndarray:
    """A mixture of the three box kinds: each mask a centre box, a random box or a GAN
    rectangle with equal probability (one model trained on it serves all three).

    Args and returns as `center_box_masks`.
    """
    rng = _rng(seed)
    n = check_positive_int(n, "n")
    choice = rng.integers(0, 3, size=n)
    drawn = [generator(n, rng, height=height, width=width)
             for generator in (center_box_masks, random_box_masks, gan_rectangle_masks)]
    return np.choose(choice[:, None, None, None], drawn).astype(np.uint8)


# Hole-share bins of the area-controlled masks and of `evaluate(..., area_bins=True)`.
AREA_BINS = ((0.0, 0.1), (0.1, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.6))
"""Hole-share bins of the area-controlled masks and of ``evaluate(..., area_bins=True)``."""


def _check_bins(bins) -> np.ndarray:
    """`bins` as a float64 (k, 2) array of (low, high) shares, 0 <= low < high <= 0.9."""
    bins = np.asarray(bins, np.float64)
    if bins.ndim != 2 or bins.shape[1] != 2 or not (
            (bins[:, 0] >= 0).all() and (bins[:, 0] < bins[:, 1]).all()
            and (bins[:, 1] <= 0.9).all()):
        raise ValueError("`bins` must be (low, high) hole shares with 0 <= low < high <= 0.9. "
                         f"Received: bins={bins.tolist()}")
    return bins


def irregular_area_masks(n: int, seed=None, height: int = 32, width: int = 32,
                         bins=AREA_BINS, thickness: tuple[int, int] | None = None) -> np.ndarray:
    """Irregular strokes with a controlled hole share, spanning the `AREA_BINS`.

    Mask i aims at a share drawn uniformly in a bin chosen uniformly (so every bin
    gets about n / len(bins) masks): straight OpenCV lines of width 1..4 (scaled),
    end points as the study's strokes, are added one by one until the hole share
    reaches the target (never the whole image).

    Args:
        n, seed, height, width: as `center_box_masks`.
        bins: (low, high) hole shares, 0 <= low < high <= 0.9.
        thickness: inclusive range of line widths; default (1, 4), scaled.

    Returns:
        uint8 array (n, height, width, 1), 1 = hole.
    """
    height, width = _check_size(height, width)
    rng = _rng(seed)
    n = check_positive_int(n, "n")
    bins = _check_bins(bins)
    thin, thick = thickness or _scaled((1, 4), height, width)
    chosen = rng.integers(0, len(bins), size=n)
    targets = rng.uniform(bins[chosen, 0], bins[chosen, 1])
    pixels = height * width
    masks = np.zeros((n, height, width), np.uint8)
    for mask, target, number in zip(masks, targets, chosen):
        goal = max(1, int(np.ceil(target * pixels)))
        limit = max(goal, int(bins[number, 1] * pixels))  # the bin's upper edge
        while int(mask.sum()) < goal:
            _add_stroke(mask, rng, thin, thick, limit)
    return masks[..., None]


def _add_stroke(mask: np.ndarray, rng: np.random.Generator, thin: int, thick: int,
                limit: int, tries: int = 8) -> None:
    """Draws one line into `mask`, preferring one that keeps the hole count within
    `limit`: long lines first, then short thin ones (so that masks stay in their bin)."""
    height, width = mask.shape
    for attempt in range(tries + 1):
        x1, x2 = rng.integers(1, width, size=2).tolist()
        y1, y2 = rng.integers(1, height, size=2).tolist()
        line_width = int(rng.integers(thin, thick + 1))
        if attempt >= tries // 2:  # short and thin: a few pixels at a time
            x2 = int(np.clip(x1 + rng.integers(-3, 4), 1, width - 1))
            y2 = int(np.clip(y1 + rng.integers(-3, 4), 1, height - 1))
            line_width = thin
        candidate = mask.copy()
        cv2.line(candidate, (x1, y1), (x2, y2), 1, line_width)
        if int(candidate.sum()) <= limit or attempt == tries:
            mask[:] = candidate
            return
