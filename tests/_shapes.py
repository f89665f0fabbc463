"""Hole masks of the shapes that damage scanned photos, drawn at any size: a thin
stroke from corner to corner, a hand-drawn scribble, a frame along the borders, dust
specks, blemishes, and holes over half of the image. uint8, 1 = hole."""

from __future__ import annotations

import cv2
import numpy as np


def stroke(height: int, width: int, thickness: int = 3, seed: int = 0) -> np.ndarray:
    """A straight line from the top-left corner to the bottom-right one."""
    del seed
    mask = np.zeros((height, width), np.uint8)
    return cv2.line(mask, (0, 0), (width - 1, height - 1), 1, thickness)


def scribble(height: int, width: int, thickness: int = 3, seed: int = 0,
             points: int = 60) -> np.ndarray:
    """A pen's back-and-forth over the middle of the image: a random walk whose
    direction turns a little at each point."""
    rng = np.random.default_rng(seed)
    angles = np.cumsum(rng.normal(0, 0.9, points))
    steps = np.stack([np.cos(angles), np.sin(angles)], 1).cumsum(axis=0)
    steps = (steps - steps.min(0)) / np.maximum(np.ptp(steps, 0), 1e-9)
    xy = np.stack([width * (0.15 + 0.7 * steps[:, 0]), height * (0.15 + 0.7 * steps[:, 1])], 1)
    mask = np.zeros((height, width), np.uint8)
    return cv2.polylines(mask, [np.round(xy).astype(np.int32)], False, 1, thickness)


def frame(height: int, width: int, thickness: int = 3, seed: int = 0,
          inset: int = 1) -> np.ndarray:
    """A rectangle along the image's borders, `inset` pixels in."""
    del seed
    mask = np.zeros((height, width), np.uint8)
    return cv2.rectangle(mask, (inset, inset), (width - 1 - inset, height - 1 - inset), 1,
                         thickness)


def dust(height: int, width: int, count: int = 300, seed: int = 0,
         radius: tuple[int, int] = (0, 1)) -> np.ndarray:
    """`count` round specks of a radius in `radius` (0: one pixel) at random places."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((height, width), np.uint8)
    for _ in range(count):
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.circle(mask, centre, int(rng.integers(radius[0], radius[1] + 1)), 1, -1)
    return mask


def blemishes(height: int, width: int, count: int = 12, seed: int = 0) -> np.ndarray:
    """`count` filled ellipses 6-20 px across at random places."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((height, width), np.uint8)
    for _ in range(count):
        diameter = rng.uniform(6, 20)
        axes = (max(1, round(diameter / 2)), max(1, round(diameter / 2 * rng.uniform(0.6, 1))))
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    return mask


def half(height: int, width: int, seed: int = 0, share: float = 0.5) -> np.ndarray:
    """Thick strokes and blobs until `share` of the pixels are holes."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((height, width), np.uint8)
    side = min(height, width)
    while mask.mean() < share:
        a = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        b = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.line(mask, a, b, 1, max(2, int(side * rng.uniform(0.02, 0.08))))
        cv2.circle(mask, b, max(2, int(side * rng.uniform(0.02, 0.1))), 1, -1)
    return mask


SHAPES = {"stroke": stroke, "scribble": scribble, "frame": frame, "dust": dust,
          "blemishes": blemishes, "half": half}
