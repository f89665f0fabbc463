"""Windows around the holes: the parts of an image `inpaint` runs a model on.

A conv net's output at a pixel depends only on the input within its receptive
field, so a hole can be filled from a window holding the hole and enough known
context around it, instead of from the whole image. The cost then grows with the
hole pixels, not the photo. Pure NumPy and OpenCV: no model, no TensorFlow.

The rule (`hole_windows`, for models that take any size multiple):

1. **Holes.** The 8-connected components of the mask (`hole_components`).
2. **Context.** Each hole's bounding box grows by its margin (`context_margins`):
   ``max(min_context, ceil(ratio * larger side))`` pixels on every side, 32 px and
   half the hole's larger side by default, at most the model's receptive radius
   (context beyond it cannot change the output). A given ``context`` sets every
   margin instead.
3. **Grid.** Each grown box is clipped to the image and aligned outwards to the
   model's size-multiple grid (top and left rounded down, bottom and right up, at
   most to the image's edge). A window then pools and strides in the same phase as
   the whole image, and is mirror-padded only where it meets the bottom or right
   edge, by exactly what the whole-image pass pads there.
4. **Groups.** Boxes that overlap or share an edge are merged into their union,
   repeated until none do (`group_boxes`): nearby holes share one window.
5. **Tiles.** A group whose window would hold more than `max_pixels` (half a megapixel),
   or more pixels than its tiles, is cut along its pixels into tiles
   (`inpaint_tf.inference.tiles`): the cores of a grid of squares that hold its
   pixels (128, 256 or 512 px, or the largest whose window fits `max_pixels`:
   whichever costs the fewest pixels). A tile owns its group's pixels in its core;
   its window is the box of those pixels grown by the tile's margin and aligned as
   in 3. The margin follows the tile's depth, the largest distance from one of its
   pixels to a known pixel: ``max(min_context, ceil(2 * ratio * depth))``, at most
   the receptive radius (or the given ``context``). For a round hole that is the
   rule of 2 (half its side); for a thin scratch, `min_context`. A long scratch, a
   frame along the borders or a scribble then costs about what blemishes of as
   many hole pixels cost, and no window holds much more than `max_pixels`.
6. **Buckets.** Each window grows inside the image (down and right first, else up
   and left) until its padded height and width are multiples of `bucket`, so that
   windows of a few sizes batch together.

Every window writes only the pixels of its own holes (`Window.labels`), a tile
only those in its core (`Window.core`), so known pixels stay untouched and each
hole pixel is written by exactly one window, however windows overlap. With a
context of at least the receptive radius, a window's hole pixels are those of the
whole-image pass up to floating-point round-off.

The whole-image pass in tiles (`whole_tiles`): all holes cut into cores of the
largest side whose window (the core plus the receptive radius on every side) fits
`max_pixels`; equal to the whole pass up to round-off, in memory bounded by a tile.

Fixed-size windows (`fixed_size_windows`, for exported TFLite and ONNX files of one
height and width): the groups of steps 1, 2 and 4 without the grid. A group that
fits is centred in a window of exactly that size (more context; shifted inside the
image, mirror-padded only where the image is smaller). A larger one is cut into
tiles whose cores are the fixed size less the group's margin on every side, each
centred in a window of exactly the fixed size: filled at full resolution.

Example:
    >>> import cv2
    >>> mask = np.zeros((200, 300), np.uint8); mask[20:30, 40:52] = 1; mask[150:160, 250:260] = 1
    >>> labels, windows = hole_windows(mask, multiple=16)
    >>> [(w.top, w.left, w.bottom, w.right) for w in windows]
    [(0, 0, 64, 96), (112, 208, 200, 300)]
    >>> scratch = cv2.line(np.zeros((900, 1200), np.uint8), (0, 0), (1199, 899), 1, 5)
    >>> labels, windows = hole_windows(scratch, multiple=16)
    >>> len(windows) > 1 and sum(w.pixels for w in windows) < 0.5 * 900 * 1200
    True
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from inpaint_tf.inference.tiles import cut_tiles, hole_depths, with_depths

MIN_CONTEXT = 32  # pixels of known context around every hole, at least
CONTEXT_RATIO = 0.5  # ... and this share of the hole's larger side
BUCKET = 32  # windows' padded sizes are multiples of this (or of the size multiple)
MAX_PIXELS = 1 << 19  # a window holds at most about this many pixels (groups are cut)
CORES = (128, 256, 512)  # core sides tried when a group is cut into tiles
REACH = 256  # depths are measured up to this when the receptive field is unknown


@dataclasses.dataclass(frozen=True)
class Window:
    """Rows ``top:bottom`` and columns ``left:right`` of image `image` of a batch.

    The region lies inside the image; the model sees it mirror-padded at the bottom
    and right to `height` x `width`. It writes the pixels of the hole components
    `labels` (labels of `hole_components`); a tile only those inside its `core`
    (``(top, left, bottom, right)`` of the image), a window without one all of them.
    """

    image: int
    top: int
    left: int
    bottom: int
    right: int
    height: int
    width: int
    labels: tuple[int, ...]
    core: tuple[int, int, int, int] | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) the region is padded to."""
        return self.height, self.width

    @property
    def pixels(self) -> int:
        return self.height * self.width


def _plane(mask) -> np.ndarray:
    """A (H, W) boolean hole plane from (H, W) or (H, W, 1), 1 = hole."""
    mask = np.asarray(mask)
    if mask.ndim == 3 and mask.shape[-1] == 1:
        mask = mask[..., 0]
    if mask.ndim != 2:
        raise ValueError(f"`mask` must have shape (H, W) or (H, W, 1). "
                         f"Received: mask.shape={np.asarray(mask).shape}")
    return mask > 0.5


def hole_components(mask) -> tuple[np.ndarray, np.ndarray]:
    """The holes of one mask: 8-connected components and their bounding boxes.

    Args:
        mask: (H, W) or (H, W, 1), 1 = hole.

    Returns:
        ``(labels, boxes)``: labels (H, W) int32, 0 on known pixels and k on the
        pixels of hole k (1..K); boxes (K, 4) int64, row k - 1 the box of hole k as
        ``[top, left, bottom, right]`` (bottom and right exclusive).
    """
    import cv2

    plane = _plane(mask).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(plane, connectivity=8,
                                                            ltype=cv2.CV_32S)
    stats = stats[1:].astype(np.int64)  # row 0 is the known area
    left, top, width, height = stats[:, 0], stats[:, 1], stats[:, 2], stats[:, 3]
    return labels, np.stack([top, left, top + height, left + width], axis=1)


def context_margins(boxes, *, context: int | None = None, min_context: int = MIN_CONTEXT,
                    ratio: float = CONTEXT_RATIO, limit: int | None = None) -> np.ndarray:
    """Pixels of context around each box: `context`, or the default rule.

    The rule: ``max(min_context, ceil(ratio * larger side))``, at most `limit` (the
    model's receptive radius, when known). Returns (K,) int64.

    Example:
        >>> context_margins(np.array([[0, 0, 10, 20], [0, 0, 100, 300]]), limit=120)
        array([ 32, 120])
    """
    boxes = np.asarray(boxes, np.int64).reshape(-1, 4)
    if context is not None:
        return np.full(len(boxes), int(context), np.int64)
    extent = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    margins = np.maximum(min_context, np.ceil(ratio * extent)).astype(np.int64)
    return margins if limit is None else np.minimum(margins, int(limit))


def depth_margins(depths, *, context: int | None = None, min_context: int = MIN_CONTEXT,
                  ratio: float = CONTEXT_RATIO, limit: int | None = None) -> np.ndarray:
    """Pixels of context around each tile from its depth: `context`, or the rule
    ``max(min_context, ceil(2 * ratio * depth))``, at most `limit`. Returns (K,) int64.

    Example:
        >>> depth_margins([3.0, 60.0, 400.0], limit=101)
        array([ 32,  60, 101])
    """
    depths = np.asarray(depths, np.float64).reshape(-1)
    if context is not None:
        return np.full(len(depths), int(context), np.int64)
    margins = np.maximum(min_context, np.ceil(2 * ratio * depths - 1e-9)).astype(np.int64)
    return margins if limit is None else np.minimum(margins, int(limit))


def grown_boxes(boxes, margins, shape: tuple[int, int], multiple: int = 1) -> np.ndarray:
    """Each box grown by its margin, clipped to the image and aligned outwards to
    `multiple` (top and left down, bottom and right up, at most to the image's edge)."""
    boxes = np.asarray(boxes, np.int64).reshape(-1, 4)
    margins = np.asarray(margins, np.int64)[:, None]
    height, width = shape
    grown = boxes + np.array([-1, -1, 1, 1]) * margins
    grown = np.clip(grown, 0, [height, width, height, width])
    grown[:, :2] = grown[:, :2] // multiple * multiple
    grown[:, 2:] = np.minimum(-(-grown[:, 2:] // multiple) * multiple, [height, width])
    return grown


def _covered(boxes: np.ndarray, shape: tuple[int, int], cell: int) -> np.ndarray:
    """uint8 grid of `cell`-pixel cells, 1 where any box (rounded outwards) covers."""
    rows, cols = -(-shape[0] // cell), -(-shape[1] // cell)
    top, left = boxes[:, 0] // cell, boxes[:, 1] // cell
    bottom, right = -(-boxes[:, 2] // cell), -(-boxes[:, 3] // cell)
    # 2-D difference array: +1 at each box's top-left, -1 past its right and bottom.
    counts = np.zeros((rows + 1, cols + 1), np.int64)
    np.add.at(counts, (top, left), 1)
    np.add.at(counts, (top, right), -1)
    np.add.at(counts, (bottom, left), -1)
    np.add.at(counts, (bottom, right), 1)
    return (counts.cumsum(0).cumsum(1)[:rows, :cols] > 0).astype(np.uint8)


def group_boxes(boxes, shape: tuple[int, int], cell: int = 8
                ) -> list[tuple[tuple[int, int, int, int], np.ndarray]]:
    """Merges boxes that overlap or share an edge into their unions, until none do.

    Boxes are compared on a grid of `cell`-pixel cells (each box rounded outwards to
    cells), so boxes closer than a cell may merge too; boxes aligned to the grid
    merge exactly when they overlap or touch.

    Returns:
        ``[(union box, indices of the boxes it holds), ...]``, sorted by position.
    """
    import cv2

    boxes = np.asarray(boxes, np.int64).reshape(-1, 4)
    members = [np.array([i]) for i in range(len(boxes))]
    while len(boxes) > 1:
        _, groups = cv2.connectedComponents(_covered(boxes, shape, cell), connectivity=4,
                                            ltype=cv2.CV_32S)
        group = groups[boxes[:, 0] // cell, boxes[:, 1] // cell]
        keys, index = np.unique(group, return_inverse=True)
        if len(keys) == len(boxes):
            break
        merged = np.empty((len(keys), 4), np.int64)
        merged[:, :2] = np.iinfo(np.int64).max
        merged[:, 2:] = np.iinfo(np.int64).min
        np.minimum.at(merged[:, 0], index, boxes[:, 0])
        np.minimum.at(merged[:, 1], index, boxes[:, 1])
        np.maximum.at(merged[:, 2], index, boxes[:, 2])
        np.maximum.at(merged[:, 3], index, boxes[:, 3])
        # The boxes of each group, in one pass (a group per key, in key order).
        order = np.argsort(index, kind="stable")
        parts = np.split(order, np.cumsum(np.bincount(index))[:-1])
        members = [np.concatenate([members[i] for i in part]) for part in parts]
        boxes = merged
    order = np.lexsort((boxes[:, 1], boxes[:, 0]))
    return [(tuple(int(v) for v in boxes[i]), np.sort(members[i])) for i in order]


def _extend(low: int, high: int, size: int, target: int, multiple: int) -> tuple[int, int]:
    """[low, high) of an axis of `size`, grown inside it so that its length padded to
    `multiple` is `target` where the axis allows (down first, then up); `low` stays a
    multiple of `multiple`."""
    high = min(max(high, low + target), size)
    padded = -(-(high - low) // multiple) * multiple
    if padded < target:
        low = max(0, low - (target - padded))
    return low, high


def _padded(length: int, multiple: int) -> int:
    return -(-length // multiple) * multiple


def _box_pixels(boxes: np.ndarray, multiple: int) -> np.ndarray:
    """Padded pixels of each (K, 4) box."""
    heights = -(-(boxes[:, 2] - boxes[:, 0]) // multiple) * multiple
    return heights * (-(-(boxes[:, 3] - boxes[:, 1]) // multiple) * multiple)


def largest_core(max_pixels: int, margin: int, multiple: int = 1) -> int:
    """The largest core side (a multiple of `multiple`, at least one) whose window, the
    core plus `margin` on every side aligned outwards to `multiple`, holds at most
    `max_pixels`.

    Example:
        >>> largest_core(1 << 20, 101, 16)
        800
    """
    side = (math.isqrt(int(max_pixels)) - 2 * _padded(int(margin), multiple)) // multiple
    side *= multiple
    return max(multiple, side)


@dataclasses.dataclass(frozen=True)
class _Rule:
    """What the windows of one mask share: the image, the grid and the context rule."""

    shape: tuple[int, int]
    multiple: int
    context: int | None
    min_context: int
    ratio: float
    limit: int | None
    max_pixels: int

    @property
    def reach(self) -> int:
        """The depth past which a tile's margin stops growing."""
        if self.context is not None or self.ratio <= 0:
            return 0
        return REACH if self.limit is None else math.ceil(self.limit / (2 * self.ratio))

    @property
    def widest(self) -> int:
        """The largest margin a tile can get."""
        if self.context is not None:
            return self.context
        return max(self.min_context, math.ceil(2 * self.ratio * self.reach))


def _group_plane(labels: np.ndarray, box, own, count: int) -> np.ndarray:
    """bool over `box`: True on the pixels of the holes `own` (of `count` holes)."""
    member = np.zeros(count + 1, bool)
    member[list(own)] = True
    return member[labels[box[0]:box[2], box[1]:box[3]]]


def _tile_boxes(labels, holes, union, own, count: int, rule: _Rule):
    """The cheapest tiles of one group as ``(pixels, [(window box, core), ...])``."""
    top, left, bottom, right = union
    plane = _group_plane(labels, union, own, count)
    largest = largest_core(rule.max_pixels, rule.widest, rule.multiple)
    sides = sorted({_padded(side, rule.multiple) for side in CORES} | {largest})
    best = None
    for side in [side for side in sides if side <= largest]:
        tiles = cut_tiles(plane, (top, left), rule.shape, side)
        if rule.reach:
            tiles = with_depths(tiles, plane, (top, left), holes, rule.reach)
        margins = depth_margins([tile.depth for tile in tiles], context=rule.context,
                                min_context=rule.min_context, ratio=rule.ratio,
                                limit=rule.limit)
        boxes = grown_boxes([tile.owned for tile in tiles], margins, rule.shape, rule.multiple)
        pixels = int(_box_pixels(boxes, rule.multiple).sum())
        if best is None or pixels < best[0]:
            best = (pixels, [(tuple(int(v) for v in box), tile.core)
                             for box, tile in zip(boxes, tiles)])
    return best


def _bucketed(box, rule: _Rule, step: int | None, image: int, own, core=None) -> Window:
    top, left, bottom, right = box
    height, width = rule.shape
    multiple = rule.multiple
    if step is not None:
        top, bottom = _extend(top, bottom, height,
                              _padded(_padded(bottom - top, multiple), step), multiple)
        left, right = _extend(left, right, width,
                              _padded(_padded(right - left, multiple), step), multiple)
    return Window(image, top, left, bottom, right, _padded(bottom - top, multiple),
                  _padded(right - left, multiple), own, core)


def hole_windows(mask, *, multiple: int = 1, context: int | None = None,
                 min_context: int = MIN_CONTEXT, ratio: float = CONTEXT_RATIO,
                 limit: int | None = None, bucket: int | None = BUCKET, image: int = 0,
                 max_pixels: int | None = None) -> tuple[np.ndarray, list[Window]]:
    """The windows of one mask, for a model that takes any multiple of `multiple`.

    Args:
        mask: (H, W) or (H, W, 1), 1 = hole.
        multiple: the model's size multiple: windows are aligned to its grid and
            padded to it.
        context, min_context, ratio, limit: the context margin (`context_margins`,
            and `depth_margins` for tiles).
        bucket: padded sizes are rounded up to multiples of this (itself rounded up
            to `multiple`) by growing the window inside the image; None: no rounding.
        image: the image's index in its batch (`Window.image`).
        max_pixels: a group whose window would hold more pixels is cut into tiles;
            default `MAX_PIXELS`.

    Returns:
        ``(labels, windows)``: the hole labels (`hole_components`) and the windows,
        none for a mask without holes.

    Example:
        >>> mask = np.zeros((64, 80), np.uint8); mask[10:14, 20:30] = 1
        >>> labels, (window,) = hole_windows(mask, multiple=16, bucket=None)
        >>> (window.top, window.left, window.bottom, window.right, window.labels)
        (0, 0, 48, 64, (1,))
    """
    labels, boxes = hole_components(mask)
    if not len(boxes):
        return labels, []
    max_pixels = MAX_PIXELS if max_pixels is None else int(max_pixels)
    rule = _Rule(labels.shape, int(multiple), context, int(min_context), float(ratio),
                 limit, max_pixels)
    margins = context_margins(boxes, context=context, min_context=min_context, ratio=ratio,
                              limit=limit)
    grown = grown_boxes(boxes, margins, rule.shape, multiple)
    step = None if bucket is None else _padded(max(int(bucket), 1), multiple)
    holes, windows = None, []
    for union, members in group_boxes(grown, rule.shape, cell=max(multiple, 8)):
        own = tuple(int(m) + 1 for m in members)
        pixels = int(_box_pixels(np.array([union]), multiple)[0])
        spans = (union[2] - union[0], union[3] - union[1])
        tiled = None
        if pixels > max_pixels or max(spans) > CORES[0]:
            holes = labels > 0 if holes is None else holes
            tiled = _tile_boxes(labels, holes, union, own, len(boxes), rule)
        if tiled is not None and (tiled[0] < pixels or pixels > max_pixels):
            windows.extend(_bucketed(box, rule, step, image, own, core)
                           for box, core in tiled[1])
        else:
            windows.append(_bucketed(union, rule, step, image, own))
    return labels, windows


def whole_tiles(mask, *, multiple: int = 1, context: int, max_pixels: int | None = None,
                bucket: int | None = BUCKET, image: int = 0
                ) -> tuple[np.ndarray, list[Window]]:
    """The whole-image pass in tiles: every hole pixel in a core of the largest side
    whose window, the core plus `context` on every side, fits `max_pixels` (default
    `MAX_PIXELS`).

    With `context` at least the receptive radius the hole pixels are the whole
    pass's up to round-off, while no model call holds much more than `max_pixels`
    (cores without holes are skipped).

    Returns:
        ``(labels, windows)`` as `hole_windows`.

    Example:
        >>> mask = np.zeros((2000, 3000), np.uint8); mask[::2] = 1
        >>> labels, windows = whole_tiles(mask, multiple=16, context=101)
        >>> len(windows), max(w.pixels for w in windows) <= 1 << 20
        (12, True)
    """
    labels, boxes = hole_components(mask)
    if not len(boxes):
        return labels, []
    max_pixels = MAX_PIXELS if max_pixels is None else int(max_pixels)
    rule = _Rule(labels.shape, int(multiple), int(context), 0, 0.0, None, max_pixels)
    side = largest_core(max_pixels, context, multiple)
    tiles = cut_tiles(labels > 0, (0, 0), rule.shape, side)
    grown = grown_boxes([tile.owned for tile in tiles], np.full(len(tiles), context),
                        rule.shape, multiple)
    own = tuple(range(1, len(boxes) + 1))
    step = None if bucket is None else _padded(max(int(bucket), 1), multiple)
    return labels, [_bucketed(tuple(int(v) for v in box), rule, step, image, own, tile.core)
                    for box, tile in zip(grown, tiles)]


def _place(low: int, high: int, length: int, size: int) -> tuple[int, int]:
    """A span of `length` centred on [low, high), shifted inside an axis of `size`;
    the whole axis when it is shorter."""
    if length >= size:
        return 0, size
    start = int(round((low + high - length) / 2))
    start = min(max(start, 0), size - length)
    return start, start + length


def fixed_size_windows(mask, size: tuple[int, int], *, context: int | None = None,
                       min_context: int | None = None, ratio: float = CONTEXT_RATIO,
                       limit: int | None = None, image: int = 0
                       ) -> tuple[np.ndarray, list[Window]]:
    """The windows of one mask for a model of one fixed input `size` (height, width).

    Groups as `hole_windows` (without the grid). A group whose grown box fits in
    `size` gets a window of exactly `size` centred on it. A larger one is cut into
    tiles: its margin is `context`, or ``max(min_context, ceil(2 * ratio * depth))``
    for its depth (the largest distance from one of its pixels to a known pixel), at
    most `limit` and a quarter of the smaller fixed side; its cores are `size` less
    that margin on every side; each tile gets a window of exactly `size` centred on
    its pixels. `min_context` defaults to ``min(MIN_CONTEXT, smaller side // 4)``.

    Returns:
        ``(labels, windows)``; every window's `size` is `size`, and holds the whole
        axis where the image is smaller.

    Example:
        >>> mask = np.zeros((100, 300), np.uint8); mask[50:53, 10:290] = 1
        >>> labels, windows = fixed_size_windows(mask, (64, 64))
        >>> len(windows), {w.size for w in windows}, windows[0].core
        (10, {(64, 64)}, (32, 0, 64, 32))
    """
    fixed_height, fixed_width = size
    if min_context is None:
        min_context = min(MIN_CONTEXT, min(size) // 4)
    labels, boxes = hole_components(mask)
    if not len(boxes):
        return labels, []
    height, width = labels.shape
    margins = context_margins(boxes, context=context, min_context=min_context, ratio=ratio,
                              limit=limit)
    grown = grown_boxes(boxes, margins, (height, width))
    most = min(size) // 4 if limit is None else min(min(size) // 4, int(limit))
    holes, windows = None, []
    for (top, left, bottom, right), members in group_boxes(grown, (height, width)):
        own = tuple(int(m) + 1 for m in members)
        if bottom - top <= fixed_height and right - left <= fixed_width:
            rows, cols = _place(top, bottom, fixed_height, height), _place(
                left, right, fixed_width, width)
            windows.append(Window(image, rows[0], cols[0], rows[1], cols[1], fixed_height,
                                  fixed_width, own))
            continue
        holes = labels > 0 if holes is None else holes
        plane = _group_plane(labels, (top, left, bottom, right), own, len(boxes))
        depth = 0.0
        if context is None and ratio > 0:
            depth = float(hole_depths(holes, (top, left, bottom, right),
                                      math.ceil(most / (2 * ratio)))[plane].max())
        margin = int(min(depth_margins([depth], context=context, min_context=min_context,
                                       ratio=ratio)[0], most))
        core = (fixed_height - 2 * margin, fixed_width - 2 * margin)
        for tile in cut_tiles(plane, (top, left), (height, width), core):
            rows = _place(tile.owned[0], tile.owned[2], fixed_height, height)
            cols = _place(tile.owned[1], tile.owned[3], fixed_width, width)
            windows.append(Window(image, rows[0], cols[0], rows[1], cols[1], fixed_height,
                                  fixed_width, own, tile.core))
    return labels, windows


def crop(array: np.ndarray, window: Window) -> np.ndarray:
    """The window's region of one (H, W, C) array, mirror-padded at the bottom and
    right to the window's size (edge pixel included, as the whole-image pass pads)."""
    region = array[window.top:window.bottom, window.left:window.right]
    rows, cols = window.height - region.shape[0], window.width - region.shape[1]
    if rows == 0 and cols == 0:
        return region
    return np.pad(region, ((0, rows), (0, cols), (0, 0)), mode="symmetric")


def owned_pixels(labels: np.ndarray, window: Window) -> tuple[tuple[slice, slice], np.ndarray]:
    """Where `window` writes: ``(rows and columns of the image, boolean mask over
    them)``, its own holes' pixels (inside its core, for a tile)."""
    top, left, bottom, right = window.top, window.left, window.bottom, window.right
    if window.core is not None:
        top, left = max(top, window.core[0]), max(left, window.core[1])
        bottom, right = min(bottom, window.core[2]), min(right, window.core[3])
    part = (slice(top, max(top, bottom)), slice(left, max(left, right)))
    return part, np.isin(labels[part], np.asarray(window.labels, labels.dtype))


def paste(target: np.ndarray, labels: np.ndarray, window: Window, values: np.ndarray) -> None:
    """Writes `values` (the window's padded size, or its region's) into `target`
    (H, W, C) on the pixels of the window's own holes (`owned_pixels`), and nowhere
    else."""
    part, owned = owned_pixels(labels, window)
    rows = slice(part[0].start - window.top, part[0].stop - window.top)
    cols = slice(part[1].start - window.left, part[1].stop - window.left)
    target[part][owned] = values[rows, cols][owned]
