"""Free-form masks for images of any size: brush strokes, blobs, object boxes, mixtures.

Shapes scale with the short side S = min(H, W) of the image: every length below is
given at S = 512 and multiplied by S / 512 (counts are not scaled), so a family
covers about the same share of a 256-pixel crop as of a 4,000-pixel photo.

================  ======  ========  ==================  ===============  ==========
kind              pieces  segments  segment length      width at 512     hole share
================  ======  ========  ==================  ===============  ==========
thin_strokes      3..10   2..5      5..25 % of S        2..6 px          2.2 %
medium_strokes    2..6    2..5      10..30 % of S       8..20 px         6.0 %
thick_strokes     1..4    2..5      10..35 % of S       24..48 px        10 %
blobs             6..15   -         -                   6..20 px across  0.34 %
object_boxes      1       -         h, w 12..20 % of S  -                2.6 %
free_form         each mask one of the five families above, uniformly   4.0 %
small_holes       each mask one of thin, medium strokes, blobs          2.8 %
free_form_area    medium / thick strokes and blobs until the hole share  0..60 %
                  lies in its bin of `AREA_BINS` (n / 5 masks per bin)
================  ======  ========  ==================  ===============  ==========

The hole shares are means over square images of 256 to 1,024 px (they agree within
3 %); a 2:3 image has about two thirds of them, as its shapes scale with its short side.

The strokes are LaMa's thin / medium / thick split (Suvorov et al., 2022,
arXiv:2109.07161). A stroke starts at a uniform point; each segment takes a uniform
direction and a uniform length, and its end is clipped to the image, as LaMa's
generator does. A stroke's width w is uniform in its range, scaled, and drawn as the
nearest odd number of pixels 2 * floor(w / 2) + 1 (at least 1; OpenCV draws only odd
widths), so the drawn width is within a pixel of w and its mean is w's.
Segments are drawn with `cv2.line`, whose round caps make round joints.

A blob is a filled polygon of 12 points around a jittered, randomly rotated ellipse:
its longest extent is 75..100 % of its size d, the other axis 60..100 % of that, and
its centre is uniform in the image. An object box has height and width drawn
independently from the integers in [12 % of S, 20 % of S] (rounded inwards, so the
side shares are exact; S < 10 may give the nearest integer to 16 % of S), placed
uniformly inside the image.

Example:
    >>> from inpaint_tf.masks import generate_masks
    >>> generate_masks("medium_strokes", 8, seed=0, height=256, width=384).shape
    (8, 256, 384, 1)
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from inpaint_tf._validation import check_positive_int
from inpaint_tf.masks.study import AREA_BINS, _check_bins, _check_size, _rng

REFERENCE_SIZE = 512  # the short side at which the lengths below are given
"""The short side, in pixels, at which the free-form masks' lengths are given."""

# Parameters of the stroke families, at a short side of 512 px: strokes per mask,
# segments per stroke, segment length as a share of the short side, width in pixels.
STROKE_FAMILIES = {
    "thin_strokes": {"strokes": (3, 10), "segments": (2, 5), "length": (0.05, 0.25),
                     "thickness": (2, 6)},
    "medium_strokes": {"strokes": (2, 6), "segments": (2, 5), "length": (0.10, 0.30),
                       "thickness": (8, 20)},
    "thick_strokes": {"strokes": (1, 4), "segments": (2, 5), "length": (0.10, 0.35),
                      "thickness": (24, 48)},
}
"""The stroke families at a short side of 512 px: strokes per mask, segments per
stroke, segment length as a share of the short side, width in pixels."""
BLOB_COUNT = (6, 15)  # blobs per mask
"""Blobs per mask (inclusive range)."""
BLOB_SIZE = (6, 20)  # pixels across at a short side of 512
"""Blob diameter in pixels at a short side of 512 (inclusive range)."""
OBJECT_BOX_SIDE = (0.12, 0.20)  # box height and width as shares of the short side
"""An object box's height and width as shares of the short side."""
FREE_FORM_FAMILIES = ("thin_strokes", "medium_strokes", "thick_strokes", "blobs",
                      "object_boxes")
"""The five families that `free_form` masks mix, uniformly."""
SMALL_HOLE_FAMILIES = ("thin_strokes", "medium_strokes", "blobs")
"""The families that `small_holes` masks mix, uniformly."""
_BLOB_POINTS = 12
# Pieces of the area-controlled family: medium stroke, thick stroke, blob.
_AREA_PIECE_CUMULATIVE = (0.4, 0.8)  # probabilities 0.4, 0.4, 0.2


def _scale(height: int, width: int) -> tuple[int, float]:
    short = min(height, width)
    return short, short / REFERENCE_SIZE


def _line_thickness(widths: np.ndarray) -> np.ndarray:
    """The `cv2.line` thickness that draws each width w as the nearest odd number of
    pixels D = 2 * floor(w / 2) + 1: 1 for D = 1, else D - 1 (OpenCV draws a line of
    even thickness t as t + 1 pixels wide, one of odd thickness t >= 3 as t + 2)."""
    drawn = 2 * np.floor(np.maximum(widths, 0) / 2).astype(np.int64) + 1
    return np.maximum(drawn - 1, 1)


def _stroke_geometry(rng: np.random.Generator, total: int, height: int, width: int,
                     segments, length, thickness) -> tuple[list, list, list]:
    """`total` strokes: per stroke its (x, y) vertices, number of segments and width."""
    short, scale = _scale(height, width)
    most = int(segments[1])
    numbers = rng.integers(segments[0], most + 1, size=total).tolist()
    widths = _line_thickness(rng.uniform(thickness[0], thickness[1], size=total) * scale)
    widths = widths.tolist()
    # Vertices of every stroke at once: a start, then `most` clipped steps (a stroke
    # with fewer segments ignores its last ones).
    angles = rng.uniform(0, 2 * np.pi, size=(total, most))
    lengths = rng.uniform(length[0], length[1], size=(total, most)) * short
    steps = np.stack([np.cos(angles), np.sin(angles)], axis=-1) * lengths[..., None]
    high = np.array([width - 1, height - 1], np.float64)
    points = np.empty((total, most + 1, 2))
    points[:, 0] = rng.uniform(0, 1, size=(total, 2)) * high
    for j in range(most):
        points[:, j + 1] = np.clip(points[:, j] + steps[:, j], 0, high)
    return np.rint(points).astype(np.int64).tolist(), numbers, widths


def _draw_stroke(mask: np.ndarray, vertices: list, number: int, line_width: int) -> None:
    for j in range(number):
        cv2.line(mask, vertices[j], vertices[j + 1], 1, line_width)


def _draw_strokes(masks: np.ndarray, rng: np.random.Generator, strokes, segments, length,
                  thickness) -> None:
    """Draws each mask's strokes into `masks` (m, H, W), in place."""
    count, height, width = masks.shape
    counts = rng.integers(strokes[0], strokes[1] + 1, size=count)
    geometry = _stroke_geometry(rng, int(counts.sum()), height, width, segments, length,
                                thickness)
    for owner, *stroke in zip(np.repeat(np.arange(count), counts).tolist(), *geometry):
        _draw_stroke(masks[owner], *stroke)


def _blob_polygons(rng: np.random.Generator, total: int, height: int, width: int,
                   size) -> np.ndarray:
    """(total, 12, 2) int32 polygon points in 1/16 pixel (for `cv2.fillPoly(shift=4)`)."""
    _, scale = _scale(height, width)
    radii = rng.uniform(size[0], size[1], size=total) * scale / 2
    aspect = rng.uniform(0.6, 1.0, size=total)
    rotation = rng.uniform(0, np.pi, size=total)
    centres = rng.uniform(-0.5, 0.5, size=(total, 2)) + rng.uniform(
        0, 1, size=(total, 2)) * np.array([width - 1, height - 1])
    spacing = 2 * np.pi / _BLOB_POINTS
    angles = np.arange(_BLOB_POINTS) * spacing + rng.uniform(
        -0.3, 0.3, size=(total, _BLOB_POINTS)) * spacing
    # Filling a polygon also fills the pixels its outline touches: half a pixel less
    # reach keeps small blobs at their size.
    reach = np.maximum(radii[:, None] * rng.uniform(0.75, 1.0, size=(total, _BLOB_POINTS))
                       - 0.5, 0.25)
    along, across = reach * np.cos(angles), reach * aspect[:, None] * np.sin(angles)
    cos, sin = np.cos(rotation)[:, None], np.sin(rotation)[:, None]
    xs = centres[:, :1] + along * cos - across * sin
    ys = centres[:, 1:] + along * sin + across * cos
    return np.rint(np.stack([xs, ys], axis=-1) * 16).astype(np.int32)


def _draw_blobs(masks: np.ndarray, rng: np.random.Generator, blobs, size) -> None:
    count, height, width = masks.shape
    counts = rng.integers(blobs[0], blobs[1] + 1, size=count)
    polygons = _blob_polygons(rng, int(counts.sum()), height, width, size)
    for owner, polygon in zip(np.repeat(np.arange(count), counts).tolist(), polygons):
        cv2.fillPoly(masks[owner], [polygon], 1, cv2.LINE_8, 4)


def _box_sides(short: int, side) -> tuple[int, int]:
    """The integer sides in [side[0] * short, side[1] * short], in exact arithmetic."""
    low = math.ceil(round(side[0] * 10_000) * short / 10_000)
    high = math.floor(round(side[1] * 10_000) * short / 10_000)
    if low > high:  # no integer in the range (a tiny image): the nearest to its middle
        low = high = max(1, round((side[0] + side[1]) / 2 * short))
    return max(1, low), max(1, high)


def _draw_object_boxes(masks: np.ndarray, rng: np.random.Generator, side) -> None:
    count, height, width = masks.shape
    low, high = _box_sides(min(height, width), side)
    heights = rng.integers(low, high + 1, size=count)
    widths = rng.integers(low, high + 1, size=count)
    tops = rng.integers(0, height - heights + 1).tolist()
    lefts = rng.integers(0, width - widths + 1).tolist()
    for mask, top, left, h, w in zip(masks, tops, lefts, heights.tolist(), widths.tolist()):
        mask[top:top + h, left:left + w] = 1


def _new_masks(n, height, width) -> np.ndarray:
    height, width = _check_size(height, width)
    return np.zeros((check_positive_int(n, "n"), height, width), np.uint8)


def _stroke_masks(family: str, n, seed, height, width, overrides) -> np.ndarray:
    masks = _new_masks(n, height, width)
    parameters = dict(STROKE_FAMILIES[family])
    parameters.update({k: v for k, v in overrides.items() if v is not None})
    _draw_strokes(masks, _rng(seed), **parameters)
    return masks[..., None]


def thin_stroke_masks(n: int, seed=None, height: int = 512, width: int = 512, *,
                      strokes=None, segments=None, length=None, thickness=None) -> np.ndarray:
    """Thin brush strokes (scratches): 3..10 strokes of 2..5 segments, 5..25 % of the
    short side S long, 2..6 px wide at S = 512 (scaled by S / 512).

    Args:
        n: number of masks.
        seed: int, None or `numpy.random.Generator`.
        height, width: mask size (at least 8 x 8).
        strokes, segments: inclusive ranges of strokes per mask and segments per
            stroke; default the family's (`STROKE_FAMILIES`).
        length: range of a segment's length as a share of S.
        thickness: range of widths in pixels at S = 512 (scaled, drawn odd).

    Returns:
        uint8 array (n, height, width, 1), 1 = hole.

    Example:
        >>> thin_stroke_masks(2, seed=0, height=64, width=96).shape
        (2, 64, 96, 1)
    """
    return _stroke_masks("thin_strokes", n, seed, height, width, dict(
        strokes=strokes, segments=segments, length=length, thickness=thickness))


def medium_stroke_masks(n: int, seed=None, height: int = 512, width: int = 512, *,
                        strokes=None, segments=None, length=None,
                        thickness=None) -> np.ndarray:
    """Medium brush strokes: 2..6 strokes of 2..5 segments, 10..30 % of S long,
    8..20 px wide at S = 512. Args and returns as `thin_stroke_masks`.

    Example:
        >>> medium_stroke_masks(2, seed=0).shape
        (2, 512, 512, 1)
    """
    return _stroke_masks("medium_strokes", n, seed, height, width, dict(
        strokes=strokes, segments=segments, length=length, thickness=thickness))


def thick_stroke_masks(n: int, seed=None, height: int = 512, width: int = 512, *,
                       strokes=None, segments=None, length=None,
                       thickness=None) -> np.ndarray:
    """Thick brush strokes: 1..4 strokes of 2..5 segments, 10..35 % of S long,
    24..48 px wide at S = 512. Args and returns as `thin_stroke_masks`.

    Example:
        >>> thick_stroke_masks(2, seed=0, height=1024, width=768).shape
        (2, 1024, 768, 1)
    """
    return _stroke_masks("thick_strokes", n, seed, height, width, dict(
        strokes=strokes, segments=segments, length=length, thickness=thickness))


def blob_masks(n: int, seed=None, height: int = 512, width: int = 512, *,
               blobs=BLOB_COUNT, size=BLOB_SIZE) -> np.ndarray:
    """Blemishes: 6..15 irregular filled blobs per mask, each 6..20 px across at a
    short side of 512 (scaled), centred uniformly in the image.

    Args:
        n, seed, height, width: as `thin_stroke_masks`.
        blobs: inclusive range of blobs per mask.
        size: range of a blob's size (its longest extent is 75..100 % of it), in
            pixels at S = 512.

    Returns:
        uint8 array (n, height, width, 1), 1 = hole.

    Example:
        >>> blob_masks(2, seed=0, height=300, width=451).shape
        (2, 300, 451, 1)
    """
    masks = _new_masks(n, height, width)
    _draw_blobs(masks, _rng(seed), blobs, size)
    return masks[..., None]


def object_box_masks(n: int, seed=None, height: int = 512, width: int = 512, *,
                     side=OBJECT_BOX_SIDE) -> np.ndarray:
    """One object-sized, axis-aligned box per mask: height and width each drawn from
    the integers in 12..20 % of the short side, placed uniformly inside the image.

    Args:
        n, seed, height, width: as `thin_stroke_masks`.
        side: (low, high) side as shares of the short side.

    Returns:
        uint8 array (n, height, width, 1), 1 = hole.

    Example:
        >>> int(object_box_masks(1, seed=0, height=100, width=100).sum()) >= 12 * 12
        True
    """
    masks = _new_masks(n, height, width)
    _draw_object_boxes(masks, _rng(seed), side)
    return masks[..., None]


def _draw_family(family: str, masks: np.ndarray, rng: np.random.Generator) -> None:
    if family in STROKE_FAMILIES:
        _draw_strokes(masks, rng, **STROKE_FAMILIES[family])
    elif family == "blobs":
        _draw_blobs(masks, rng, BLOB_COUNT, BLOB_SIZE)
    else:
        _draw_object_boxes(masks, rng, OBJECT_BOX_SIDE)


def free_form_masks(n: int, seed=None, height: int = 512, width: int = 512) -> np.ndarray:
    """The training mixture: each mask is one family drawn uniformly from thin,
    medium and thick strokes, blobs and object boxes (`FREE_FORM_FAMILIES`).

    Args and returns as `thin_stroke_masks`.

    Example:
        >>> free_form_masks(4, seed=0, height=128, width=128).shape
        (4, 128, 128, 1)
    """
    return _mixture(FREE_FORM_FAMILIES, n, seed, height, width)


def small_hole_masks(n: int, seed=None, height: int = 512, width: int = 512) -> np.ndarray:
    """A training mixture of the small holes only: each mask one family drawn uniformly
    from thin strokes, medium strokes and blobs (`SMALL_HOLE_FAMILIES`), the holes a
    model trained on small crops can see whole, with context around them.

    Args and returns as `thin_stroke_masks`.

    Example:
        >>> small_hole_masks(4, seed=0, height=64, width=64).shape
        (4, 64, 64, 1)
    """
    return _mixture(SMALL_HOLE_FAMILIES, n, seed, height, width)


def _mixture(families, n, seed, height, width) -> np.ndarray:
    masks = _new_masks(n, height, width)
    rng = _rng(seed)
    choice = rng.integers(0, len(families), size=len(masks))
    for number, family in enumerate(families):
        chosen = np.flatnonzero(choice == number)
        if chosen.size:
            drawn = np.zeros((chosen.size, *masks.shape[1:]), np.uint8)
            _draw_family(family, drawn, rng)
            masks[chosen] = drawn
    return masks[..., None]


def _count_range(low: float, high: float, pixels: int) -> tuple[int, int]:
    """The hole-pixel counts c whose share c / pixels (in float64, as `hole_shares`
    computes it) satisfies low <= share < high, with 1 <= c < pixels."""
    first = max(1, math.ceil(low * pixels) - 1)
    while first / pixels < low:
        first += 1
    last = min(pixels - 1, math.floor(high * pixels) + 1)
    while last / pixels >= high:
        last -= 1
    return first, last


class _Pieces:
    """The pieces of the area-controlled masks, drawn from `rng` in batches (fast):
    medium strokes, thick strokes and blobs, each with the point it starts from."""

    def __init__(self, rng: np.random.Generator, height: int, width: int, batch: int = 16):
        self.rng, self.height, self.width, self.batch = rng, height, width, batch
        self.queues = ([], [], [])

    def draw(self, mask: np.ndarray, piece: int) -> tuple[int, int]:
        """Draws a medium stroke (0), a thick stroke (1) or a blob (2) into `mask`;
        returns its (x, y) start: a stroke's first vertex, a blob's centre."""
        queue = self.queues[piece]
        if not queue:
            queue.extend(self._more(piece))
        shape = queue.pop()
        if piece == 2:
            cv2.fillPoly(mask, [shape], 1, cv2.LINE_8, 4)
            x, y = np.rint(shape.mean(axis=0) / 16).astype(int).tolist()
            return min(max(x, 0), self.width - 1), min(max(y, 0), self.height - 1)
        _draw_stroke(mask, *shape)
        return tuple(shape[0][0])

    def _more(self, piece: int) -> list:
        if piece == 2:
            shapes = list(_blob_polygons(self.rng, self.batch, self.height, self.width,
                                         BLOB_SIZE))
        else:
            family = STROKE_FAMILIES["medium_strokes" if piece == 0 else "thick_strokes"]
            shapes = list(zip(*_stroke_geometry(
                self.rng, self.batch, self.height, self.width, family["segments"],
                family["length"], family["thickness"])))
        return shapes[::-1]  # popped from the end: used in the order drawn


def free_form_area_masks(n: int, seed=None, height: int = 512, width: int = 512,
                         bins=AREA_BINS, tries: int = 10) -> np.ndarray:
    """Area-controlled free-form masks: mask i has a hole share inside bin
    ``(first + i) % len(bins)`` of `bins`, where the first bin is drawn uniformly, so
    every bin gets the same number of masks when n is a multiple of the number of bins
    (and one mask, such as a photo's, gets a uniformly drawn bin).

    Mask i aims at a share t drawn uniformly in its bin. Pieces (a medium stroke or a
    thick stroke with probability 0.4 each, a blob with 0.2) are added while the mask
    holds fewer than ceil(t * H * W) hole pixels. A piece that would take the share to
    the bin's upper edge or past it is rejected and another drawn; after ``max(1, tries // 2)``
    rejections in a row only blobs are drawn. When all `tries` are rejected, the last
    rejected piece is drawn in part: only its new hole pixels nearest to its start
    (a stroke that stops early), exactly as many as the target needs. So every mask
    ends with low <= share < high (as `evaluate(..., area_bins=True)` bins it), and
    never the whole image.

    Args:
        n, seed, height, width: as `thin_stroke_masks`.
        bins: (low, high) hole shares, 0 <= low < high <= 0.9 (default `AREA_BINS`).
        tries: pieces drawn for one step before the partial piece (at least 1).

    Returns:
        uint8 array (n, height, width, 1), 1 = hole.

    Example:
        >>> from inpaint_tf.masks import hole_shares
        >>> shares = hole_shares(free_form_area_masks(5, seed=0, height=128, width=128))
        >>> sorted(min(int(s * 10), 4) for s in shares)  # one mask in each bin
        [0, 1, 2, 3, 4]
    """
    masks = _new_masks(n, height, width)
    rng = _rng(seed)
    bins = _check_bins(bins)
    tries = check_positive_int(tries, "tries")
    pixels = masks.shape[1] * masks.shape[2]
    numbers = (rng.integers(len(bins)) + np.arange(len(masks))) % len(bins)
    targets = rng.uniform(bins[numbers, 0], bins[numbers, 1])
    pieces = _Pieces(rng, masks.shape[1], masks.shape[2])
    for mask, target, number in zip(masks, targets, numbers):
        first, last = _count_range(*bins[number], pixels)
        if first > last:
            raise ValueError(f"No hole-pixel count of a {masks.shape[1]}x{masks.shape[2]} "
                             f"mask has a share in the bin {tuple(bins[number])}")
        goal = min(max(math.ceil(target * pixels), first), last)
        count = 0
        while count < goal:
            count = _add_piece(mask, pieces, count, goal, last, tries)
    return masks[..., None]


def _add_piece(mask: np.ndarray, pieces: _Pieces, count: int, goal: int, last: int,
               tries: int) -> int:
    """Adds one piece to `mask` without passing `last` hole pixels; returns the count."""
    for attempt in range(tries):
        piece = 2 if attempt >= max(1, tries // 2) else int(
            np.searchsorted(_AREA_PIECE_CUMULATIVE, pieces.rng.random(), side="right"))
        candidate = mask.copy()
        start = pieces.draw(candidate, piece)
        drawn = int(np.count_nonzero(candidate))
        if drawn <= last:
            mask[:] = candidate
            return drawn
    # Every try overshot: keep the last piece's new pixels nearest to its start.
    rows, cols = np.nonzero(candidate & (mask == 0))
    order = np.argsort((cols - start[0]) ** 2 + (rows - start[1]) ** 2, kind="stable")
    keep = order[:goal - count]
    mask[rows[keep], cols[keep]] = 1
    return goal
