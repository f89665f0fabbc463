"""Tiles: a large group of holes cut along its pixels into cores on a grid.

A window around a group of holes holds the group's bounding box, so a thin hole that
spans the photo (a scratch from corner to corner, a frame along its borders) would
make that window the whole photo. A tile follows the pixels instead. The image is
divided into a grid of cores, squares of `core` pixels counted from its top-left
corner (the last row and column of cores cut at its edges). Each core that holds
pixels of the group is a tile that owns them. The window of a tile is the box of its
own pixels plus context (`inpaint_tf.inference.windows`), so a tile costs what the
group's pixels in its core cost, whatever the group's extent. Every pixel of the group
lies in exactly one core.

The depth of a tile, the largest distance from one of its pixels to the nearest known
pixel, tells how much context it needs: a few pixels in a thin scratch, half its side
in a round hole. Pure NumPy and OpenCV.

Example:
    >>> import numpy as np
    >>> holes = np.zeros((300, 400), bool); holes[100:104, 20:380] = True  # a scratch
    >>> [tile.core for tile in cut_tiles(holes, (0, 0), holes.shape, 256)]
    [(0, 0, 256, 256), (0, 256, 256, 400)]
    >>> [tile.owned for tile in cut_tiles(holes, (0, 0), holes.shape, 256)]
    [(100, 20, 104, 256), (100, 256, 104, 380)]
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Tile:
    """One core of the grid and the pixels of a group that it owns.

    Attributes:
        core: the core's ``(top, left, bottom, right)``, cut at the image's edges
            (bottom and right exclusive).
        owned: the box of the group's pixels inside the core.
        depth: the largest distance in pixels from an owned pixel to the nearest
            known pixel (1 next to a known pixel), or 0 when not measured.
    """

    core: tuple[int, int, int, int]
    owned: tuple[int, int, int, int]
    depth: float = 0.0


def hole_depths(holes: np.ndarray, box, reach: int) -> np.ndarray:
    """Each pixel's distance to the nearest known pixel, over `box` of the image.

    Args:
        holes: (H, W) bool, True on hole pixels, the whole image.
        box: ``(top, left, bottom, right)``, the part measured.
        reach: the largest distance of interest: known pixels are looked for up to
            this far outside `box`, and deeper pixels get `reach`.

    Returns:
        float32 of the box's shape: 0 on known pixels, else the Euclidean distance
        in pixels (1 next to a known pixel), at most `reach`.

    Example:
        >>> holes = np.zeros((5, 9), bool); holes[:, 2:9] = True
        >>> hole_depths(holes, (2, 0, 3, 9), reach=4)[0].tolist()
        [0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 4.0, 4.0, 4.0]
    """
    import cv2

    top, left, bottom, right = (int(v) for v in box)
    height, width = holes.shape
    outer = (max(0, top - reach), max(0, left - reach), min(height, bottom + reach),
             min(width, right + reach))
    region = holes[outer[0]:outer[2], outer[1]:outer[3]]
    if region.all():  # no known pixel within reach
        return np.full((bottom - top, right - left), float(reach), np.float32)
    distances = cv2.distanceTransform(region.astype(np.uint8), cv2.DIST_L2,
                                      cv2.DIST_MASK_PRECISE)
    inner = distances[top - outer[0]:bottom - outer[0], left - outer[1]:right - outer[1]]
    return np.minimum(inner, np.float32(reach))


def cut_tiles(plane: np.ndarray, origin, shape, core) -> list[Tile]:
    """The tiles of one group: the cores of the grid that hold its pixels.

    Args:
        plane: (h, w) bool, True on the group's pixels, over a box of the image.
        origin: the box's ``(top, left)`` in the image.
        shape: the image's (height, width).
        core: the cores' side in pixels, an int or (rows, columns).

    Returns:
        One `Tile` per core that holds a pixel of the group, in row-major order, its
        depth not measured (0; `with_depths` measures it).

    Raises:
        ValueError: a core side below 1, or a box outside the image.
    """
    rows, cols = (core, core) if np.ndim(core) == 0 else core
    rows, cols = int(rows), int(cols)
    if rows < 1 or cols < 1:
        raise ValueError(f"`core` must be at least 1 pixel. Received: core={core!r}")
    plane = np.asarray(plane, bool)
    top, left = (int(v) for v in origin)
    height, width = plane.shape
    if top < 0 or left < 0 or top + height > shape[0] or left + width > shape[1]:
        raise ValueError(f"The box at {origin} of shape {plane.shape} is outside the "
                         f"image of shape {tuple(shape)}")
    first_row, first_col = top // rows, left // cols
    count_rows = -(-(top + height) // rows) - first_row
    count_cols = -(-(left + width) // cols) - first_col
    shift_row, shift_col = top - first_row * rows, left - first_col * cols
    padded = np.zeros((count_rows * rows, count_cols * cols), bool)
    padded[shift_row:shift_row + height, shift_col:shift_col + width] = plane
    grid = padded.reshape(count_rows, rows, count_cols, cols)
    any_row = grid.any(axis=3)  # (cell rows, rows, cell columns)
    any_col = grid.any(axis=1)  # (cell rows, cell columns, columns)
    occupied = any_row.any(axis=1)
    low_row = any_row.argmax(axis=1)
    high_row = rows - any_row[:, ::-1].argmax(axis=1)
    low_col = any_col.argmax(axis=2)
    high_col = cols - any_col[:, :, ::-1].argmax(axis=2)
    tiles = []
    for i, j in zip(*(index.tolist() for index in np.nonzero(occupied))):
        row, col = (first_row + i) * rows, (first_col + j) * cols
        tiles.append(Tile(
            (row, col, min(row + rows, shape[0]), min(col + cols, shape[1])),
            (row + int(low_row[i, j]), col + int(low_col[i, j]), row + int(high_row[i, j]),
             col + int(high_col[i, j]))))
    return tiles


def with_depths(tiles: list[Tile], plane: np.ndarray, origin, holes: np.ndarray,
                reach: int) -> list[Tile]:
    """`tiles` of `cut_tiles` with their depths: the largest `hole_depths` over each
    tile's own pixels. Measured around each tile's owned box only (distances up to
    `reach` need no more), so memory and time follow the group's pixels, not the box
    of a scratch that spans the photo.

    Args:
        tiles: tiles of `plane` (`cut_tiles`).
        plane, origin: as given to `cut_tiles`.
        holes: (H, W) bool, True on hole pixels, the whole image.
        reach: as in `hole_depths`.

    Example:
        >>> holes = np.zeros((40, 60), bool); holes[10:16, 5:55] = True  # 6 px thick
        >>> [t.depth for t in with_depths(cut_tiles(holes, (0, 0), holes.shape, 32),
        ...                               holes, (0, 0), holes, reach=8)]
        [3.0, 3.0]
    """
    top, left = (int(v) for v in origin)
    measured = []
    for tile in tiles:
        owned_top, owned_left, owned_bottom, owned_right = tile.owned
        own = plane[owned_top - top:owned_bottom - top, owned_left - left:owned_right - left]
        depths = hole_depths(holes, tile.owned, reach)
        measured.append(dataclasses.replace(tile, depth=float(depths[own].max())))
    return measured
