"""Classical inpainting baselines with the same ``predict(masked_images, masks)`` as models.

- `IdentityBaseline`: returns the input (holes keep their fill value);
- `MeanFillBaseline`: fills holes with each image's mean known colour;
- `TeleaBaseline` and `NavierStokesBaseline`: OpenCV's ``cv2.inpaint``
  (Telea 2004; Bertalmio et al. 2001) on the 8-bit image.

Example:
    >>> from inpaint_tf import NavierStokesBaseline, evaluate, eval_masks
    >>> masks = eval_masks("center_box", len(x_test))                         # doctest: +SKIP
    >>> evaluate(NavierStokesBaseline(), x_test, masks, name="navier_stokes")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from inpaint_tf._validation import as_binary_masks, as_float_images


class Baseline:
    """Base class: `predict` checks its inputs, `_predict` does the work."""

    name = "baseline"

    def predict(self, masked_images, masks) -> np.ndarray:
        """Inpaints a batch: float images (N, H, W, 3) in [0, 1], masks 1 = hole."""
        images = as_float_images(masked_images, "masked_images")
        masks = as_binary_masks(masks, like=images)
        return self._predict(images, masks)

    __call__ = predict

    def _predict(self, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class IdentityBaseline(Baseline):
    """Leaves the holes as they are (at the fill value): the floor of every table."""

    name = "identity"

    def _predict(self, images, masks):
        return images


class MeanFillBaseline(Baseline):
    """Fills each image's holes with the mean colour of its known pixels."""

    name = "mean_fill"

    def _predict(self, images, masks):
        known = 1.0 - masks
        counts = np.maximum(known.sum(axis=(1, 2)), 1.0)  # an all-hole image gets mean 0
        means = (images * known).sum(axis=(1, 2)) / counts
        return images * known + means[:, None, None, :] * masks


class OpenCVBaseline(Baseline):
    """``cv2.inpaint`` on 8-bit images, one image per call, in a thread pool.

    Args:
        method: ``"telea"`` or ``"navier_stokes"``.
        radius: neighbourhood radius in pixels (OpenCV's `inpaintRadius`).
    """

    _FLAGS = {"telea": cv2.INPAINT_TELEA, "navier_stokes": cv2.INPAINT_NS}

    def __init__(self, method: str = "telea", radius: int = 3):
        if method not in self._FLAGS:
            raise ValueError(f"`method` must be one of {list(self._FLAGS)}. "
                             f"Received: method={method!r}")
        self.method = method
        self.radius = radius
        self.name = method

    def _predict(self, images, masks):
        pixels = np.round(images * 255.0).astype(np.uint8)
        holes = masks[..., 0].astype(np.uint8)

        def inpaint_one(index):
            return cv2.inpaint(pixels[index], holes[index], self.radius, self._FLAGS[self.method])

        # cv2.inpaint releases the GIL, so threads use every core.
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            filled = np.stack(list(pool.map(inpaint_one, range(len(pixels)), chunksize=64)))
        return filled.astype(np.float32) / np.float32(255.0)


class TeleaBaseline(OpenCVBaseline):
    """OpenCV's fast-marching inpainting (Telea 2004)."""

    def __init__(self, radius: int = 3):
        super().__init__("telea", radius)


class NavierStokesBaseline(OpenCVBaseline):
    """OpenCV's Navier-Stokes inpainting (Bertalmio, Bertozzi and Sapiro 2001)."""

    def __init__(self, radius: int = 3):
        super().__init__("navier_stokes", radius)


BASELINES = {
    "identity": IdentityBaseline,
    "mean_fill": MeanFillBaseline,
    "telea": TeleaBaseline,
    "navier_stokes": NavierStokesBaseline,
}


def run_baselines(images, masks, *, mask_kind: str | None = None, fill_value: float = 0.0,
                  names=tuple(BASELINES), progress: bool = False):
    """Evaluates the named baselines on one mask set; returns a results table."""
    from inpaint_tf.evaluation.protocols import evaluate, results_table

    rows = [evaluate(BASELINES[name]().predict, images, masks, fill_value=fill_value,
                     name=name, mask_kind=mask_kind, progress=progress) for name in names]
    return results_table(rows)
