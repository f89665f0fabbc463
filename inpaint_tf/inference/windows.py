"""Windows around the holes: the parts of an image `inpaint` runs a model on.

A conv net's output at a pixel depends only on the input within its receptive
field, so a hole can be filled from a window holding the hole and enough known
context around it, instead of from the whole image. The cost then grows with the
holes, not the photo. Pure NumPy and OpenCV: no model, no TensorFlow.

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
5. **Buckets.** Each window grows inside the image (down and right first, else up
   and left) until its padded height and width are multiples of `bucket`, so that
   windows of a few sizes batch together.

With a context of at least the receptive radius, a window's hole pixels are those
of the whole-image pass up to floating-point round-off.

Fixed-size windows (`fixed_size_windows`, for exported TFLite and ONNX files of one
height and width): the groups of steps 1, 2 and 4 without the grid, each then
brought to the fixed size. A group that fits is centred in a window of exactly that
size (more context; shifted inside the image, mirror-padded only where the image
is smaller). A larger one gets the smallest window of the fixed shape's aspect
that holds it, which the caller scales down to the fixed size (area interpolation)
and whose output it scales back up: a coarse pass for large holes.

Every window owns the hole components of its group (`Window.labels`) and writes
only their pixels, so known pixels stay untouched and windows that overlap never
write the same hole pixel.

Example:
    >>> import numpy as np
    >>> mask = np.zeros((200, 300), np.uint8); mask[20:30, 40:52] = 1; mask[150:160, 250:260] = 1
    >>> labels, windows = hole_windows(mask, multiple=16)
    >>> [(w.top, w.left, w.bottom, w.right) for w in windows]
    [(0, 0, 64, 96), (112, 208, 200, 300)]
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

MIN_CONTEXT = 32  # pixels of known context around every hole, at least
CONTEXT_RATIO = 0.5  # ... and this share of the hole's larger side
BUCKET = 32  # windows' padded sizes are multiples of this (or of the size multiple)


@dataclasses.dataclass(frozen=True)
class Window:
    """Rows ``top:bottom`` and columns ``left:right`` of image `image` of a batch.

    The region lies inside the image; the model sees it mirror-padded at the bottom
    and right to `height` x `width` (scaled to a fixed size when that differs). It
    writes the pixels of the hole components `labels` (labels of `hole_components`).
    """

    image: int
    top: int
    left: int
    bottom: int
    right: int
    height: int
    width: int
    labels: tuple[int, ...]

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


def hole_windows(mask, *, multiple: int = 1, context: int | None = None,
                 min_context: int = MIN_CONTEXT, ratio: float = CONTEXT_RATIO,
                 limit: int | None = None, bucket: int | None = BUCKET, image: int = 0
                 ) -> tuple[np.ndarray, list[Window]]:
    """The windows of one mask, for a model that takes any multiple of `multiple`.

    Args:
        mask: (H, W) or (H, W, 1), 1 = hole.
        multiple: the model's size multiple: windows are aligned to its grid and
            padded to it.
        context, min_context, ratio, limit: the context margin (`context_margins`).
        bucket: padded sizes are rounded up to multiples of this (itself rounded up
            to `multiple`) by growing the window inside the image; None: no rounding.
        image: the image's index in its batch (`Window.image`).

    Returns:
        ``(labels, windows)``: the hole labels (`hole_components`) and the windows,
        none for a mask without holes.
    """
    labels, boxes = hole_components(mask)
    if not len(boxes):
        return labels, []
    height, width = labels.shape
    margins = context_margins(boxes, context=context, min_context=min_context, ratio=ratio,
                              limit=limit)
    grown = grown_boxes(boxes, margins, (height, width), multiple)
    step = None if bucket is None else _padded(max(int(bucket), 1), multiple)
    windows = []
    for (top, left, bottom, right), members in group_boxes(grown, (height, width),
                                                           cell=max(multiple, 8)):
        if step is not None:
            top, bottom = _extend(top, bottom, height,
                                  _padded(_padded(bottom - top, multiple), step), multiple)
            left, right = _extend(left, right, width,
                                  _padded(_padded(right - left, multiple), step), multiple)
        windows.append(Window(image, top, left, bottom, right, _padded(bottom - top, multiple),
                              _padded(right - left, multiple),
                              tuple(int(m) + 1 for m in members)))
    return labels, windows


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
    `size` gets a window of exactly `size` centred on it; a larger one the smallest
    window of `size`'s aspect ratio that holds it, to be scaled down to `size`.
    `min_context` defaults to ``min(MIN_CONTEXT, smaller side // 4)``, so that holes
    up to half the fixed size are filled at full resolution.

    Returns:
        ``(labels, windows)``; a window's `size` is `size` or a larger one of its
        aspect ratio (scale = window height / fixed height).
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
    windows = []
    for (top, left, bottom, right), members in group_boxes(grown, (height, width)):
        scale = max(1.0, (bottom - top) / fixed_height, (right - left) / fixed_width)
        window_height = max(math.ceil(fixed_height * scale - 1e-9), bottom - top)
        window_width = max(math.ceil(fixed_width * scale - 1e-9), right - left)
        top, bottom = _place(top, bottom, window_height, height)
        left, right = _place(left, right, window_width, width)
        windows.append(Window(image, top, left, bottom, right, window_height, window_width,
                              tuple(int(m) + 1 for m in members)))
    return labels, windows


def crop(array: np.ndarray, window: Window) -> np.ndarray:
    """The window's region of one (H, W, C) array, mirror-padded at the bottom and
    right to the window's size (edge pixel included, as the whole-image pass pads)."""
    region = array[window.top:window.bottom, window.left:window.right]
    rows, cols = window.height - region.shape[0], window.width - region.shape[1]
    if rows == 0 and cols == 0:
        return region
    return np.pad(region, ((0, rows), (0, cols), (0, 0)), mode="symmetric")


def paste(target: np.ndarray, labels: np.ndarray, window: Window, values: np.ndarray) -> None:
    """Writes `values` (the window's padded size, or its region's) into `target`
    (H, W, C) on the pixels of the window's own holes, and nowhere else."""
    rows, cols = window.bottom - window.top, window.right - window.left
    region = labels[window.top:window.bottom, window.left:window.right]
    owned = np.isin(region, window.labels)
    target[window.top:window.bottom, window.left:window.right][owned] = values[:rows, :cols][owned]
