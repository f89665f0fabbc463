"""Classical inpainting baselines with the same ``predict(masked_images, masks)`` as models.

- `IdentityBaseline`: returns the input (holes keep their fill value);
- `MeanFillBaseline`: fills holes with each image's mean known colour;
- `TeleaBaseline` and `NavierStokesBaseline`: OpenCV's ``cv2.inpaint``
  (Telea 2004; Bertalmio et al. 2001) on the 8-bit image;
- `BiharmonicBaseline`: scikit-image's ``inpaint_biharmonic`` (Damelin and Hoang
  2018), on the float image;
- `FSRBaseline` (``fsr_fast``, ``fsr_best``): OpenCV contrib's frequency selective
  reconstruction, ``cv2.xphoto.inpaint`` (Genser et al. 2018; Seiler et al. 2015),
  on the 8-bit image.

`CLASSICAL` names the five classical methods a model is measured against, in the
order of the tables. Two of them need packages beyond the base install:
``biharmonic`` needs scikit-image (``pip install 'inpaint-tf[classical]'``), and
the FSR pair needs OpenCV's contrib modules, which the package's OpenCV wheel
(``opencv-contrib-python-headless``) carries, unless another OpenCV wheel
installed beside it took over the shared ``cv2`` folder. A baseline whose
package is missing refuses to start with an `ImportError` that names the fix;
`available_baselines` leaves it out with a warning. ``fsr_best`` (`SLOW`) is
left out of the default lists: about 15 s per 0.5 MP photo and 1 s per 32 x 32
image, hours on a photo test set or on 10,000 CIFAR-10 images.

Example:
    >>> from inpaint_tf.evaluation.baselines import BASELINES, available_baselines
    >>> available_baselines(warn=False)                                # doctest: +SKIP
    ('navier_stokes', 'telea', 'biharmonic', 'fsr_fast')
    >>> BASELINES["fsr_fast"]().predict(masked_images, masks)          # doctest: +SKIP
"""

from __future__ import annotations

import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from inpaint_tf._validation import as_binary_masks, as_float_images
from inpaint_tf.compositing import composite

# The classical methods a model is measured against, in the order of the tables.
CLASSICAL = ("navier_stokes", "telea", "biharmonic", "fsr_fast", "fsr_best")
"""The classical methods a model is measured against, in the order of the tables."""
# Left out of default lists: hours on a photo test set or on the CIFAR-10 test set.
SLOW = ("fsr_best",)

# Why a method cannot run, and the fix (what `missing` returns).
_NO_SCIKIT_IMAGE = ("The biharmonic baseline needs scikit-image, which is not installed here: "
                    "pip install 'inpaint-tf[classical]' (or pip install scikit-image)")
_NO_XPHOTO = ("The FSR baselines need OpenCV's contrib modules (cv2.xphoto), which the cv2 "
              "installed here lacks (OpenCV {version} at {path}): another OpenCV wheel "
              "shares the cv2 folder. Keep one, a contrib one: pip uninstall -y "
              "opencv-python opencv-python-headless opencv-contrib-python "
              "opencv-contrib-python-headless && pip install opencv-contrib-python-headless")


class Baseline:
    """Base class: `predict` checks its inputs, `_predict` does the work."""

    name = "baseline"

    @classmethod
    def missing(cls) -> str | None:
        """Why this method cannot run here (its package and the fix), or None."""
        return None

    def predict(self, masked_images, masks) -> np.ndarray:
        """Inpaints a batch: float images (N, H, W, 3) in [0, 1], masks 1 = hole."""
        images = as_float_images(masked_images, "masked_images")
        masks = as_binary_masks(masks, like=images)
        return self._predict(images, masks)

    __call__ = predict

    def _predict(self, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def _each_image(function, count: int) -> list:
    """`function(index)` for every image, in a thread pool (OpenCV and SciPy's sparse
    solver release the GIL, so threads use every core)."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return list(pool.map(function, range(count)))


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

        filled = np.stack(_each_image(inpaint_one, len(pixels)))
        return filled.astype(np.float32) / np.float32(255.0)


class TeleaBaseline(OpenCVBaseline):
    """OpenCV's fast-marching inpainting (Telea 2004)."""

    def __init__(self, radius: int = 3):
        super().__init__("telea", radius)


class NavierStokesBaseline(OpenCVBaseline):
    """OpenCV's Navier-Stokes inpainting (Bertalmio, Bertozzi and Sapiro 2001)."""

    def __init__(self, radius: int = 3):
        super().__init__("navier_stokes", radius)


class BiharmonicBaseline(Baseline):
    """scikit-image's biharmonic inpainting: each channel's holes are the solution
    of the biharmonic equation (the discrete bilaplacian is 0 at every hole pixel)
    given the known pixels around them, clipped to the range of the channel's
    known pixels. Smooth; reproduces linear ramps exactly away from the border.

    Needs scikit-image (``pip install 'inpaint-tf[classical]'``). Images without a
    hole, or without a known pixel, come back as they are.

    Reference: Damelin and Hoang, "On Surface Completion and Image Inpainting by
    Biharmonic Functions: Numerical Aspects", 2018 (arXiv:1707.06567).

    Example:
        >>> BiharmonicBaseline().predict(masked_images, masks)           # doctest: +SKIP
    """

    name = "biharmonic"

    def __init__(self):
        _refuse_if_missing(self)

    @classmethod
    def missing(cls) -> str | None:
        try:
            import skimage.restoration  # noqa: F401
        except ImportError:
            return _NO_SCIKIT_IMAGE
        return None

    def _predict(self, images, masks):
        from skimage.restoration import inpaint_biharmonic

        holes = masks[..., 0] > 0.5

        def inpaint_one(index):
            if not holes[index].any() or holes[index].all():
                return images[index]
            return inpaint_biharmonic(images[index].astype(np.float64), holes[index],
                                      channel_axis=-1)

        return np.stack(_each_image(inpaint_one, len(images))).astype(np.float32)


class FSRBaseline(Baseline):
    """OpenCV contrib's frequency selective reconstruction (``cv2.xphoto.inpaint``):
    each block around a hole is modelled as a sparse sum of Fourier basis functions
    fitted to its known pixels. ``"fast"`` and ``"best"`` are OpenCV's two quality
    profiles (``INPAINT_FSR_FAST``, ``INPAINT_FSR_BEST``); ``best`` takes about 15 s
    per 0.5 MP photo on one core.

    Runs on the 8-bit image in OpenCV's BGR order (FSR reconstructs luma and chroma
    apart); known pixels come back exactly as given (FSR itself may move them by
    one level). Images without a hole, or without a known pixel, come back as they
    are. Needs OpenCV's contrib modules (`missing` says how to get them).

    Args:
        quality: ``"fast"`` or ``"best"``.

    Reference: Genser, Seiler, Schilling and Kaup, "Signal and loss geometry aware
    frequency selective extrapolation for error concealment", PCS 2018; Seiler, Jonscher,
    Schöberl and Kaup, "Resampling images to a regular grid from a non-regular
    subset of pixel positions using frequency selective reconstruction", IEEE TIP 2015.

    Example:
        >>> FSRBaseline("fast").predict(masked_images, masks)           # doctest: +SKIP
    """

    _FLAGS = {"fast": "INPAINT_FSR_FAST", "best": "INPAINT_FSR_BEST"}

    def __init__(self, quality: str = "fast"):
        if quality not in self._FLAGS:
            raise ValueError(f"`quality` must be one of {list(self._FLAGS)}. "
                             f"Received: quality={quality!r}")
        self.quality = quality
        self.name = f"fsr_{quality}"
        _refuse_if_missing(self)

    @classmethod
    def missing(cls) -> str | None:
        if hasattr(getattr(cv2, "xphoto", None), "inpaint"):
            return None
        return _NO_XPHOTO.format(version=cv2.__version__, path=cv2.__file__)

    def _predict(self, images, masks):
        flag = getattr(cv2.xphoto, self._FLAGS[self.quality])
        pixels = np.round(images[..., ::-1] * 255.0).astype(np.uint8)  # RGB to BGR
        valid = (masks[..., 0] < 0.5).astype(np.uint8)  # FSR's mask: 1 = known

        def inpaint_one(index):
            if valid[index].all() or not valid[index].any():
                return pixels[index]
            filled = np.zeros_like(pixels[index])
            cv2.xphoto.inpaint(np.ascontiguousarray(pixels[index]), valid[index], filled, flag)
            return filled

        filled = np.stack(_each_image(inpaint_one, len(pixels)))[..., ::-1]
        return composite(filled.astype(np.float32) / np.float32(255.0), images, masks)


class FSRFastBaseline(FSRBaseline):
    """FSR's fast profile (``cv2.xphoto.INPAINT_FSR_FAST``)."""

    def __init__(self):
        super().__init__("fast")


class FSRBestBaseline(FSRBaseline):
    """FSR's best profile (``cv2.xphoto.INPAINT_FSR_BEST``): slow (`SLOW`)."""

    def __init__(self):
        super().__init__("best")


def _refuse_if_missing(baseline: Baseline) -> None:
    reason = baseline.missing()
    if reason is not None:
        raise ImportError(reason)


BASELINES = {
    "identity": IdentityBaseline,
    "mean_fill": MeanFillBaseline,
    "telea": TeleaBaseline,
    "navier_stokes": NavierStokesBaseline,
    "biharmonic": BiharmonicBaseline,
    "fsr_fast": FSRFastBaseline,
    "fsr_best": FSRBestBaseline,
}
"""Baseline name -> its class: the classical methods and the trivial fills."""


def checked_baselines(names) -> tuple[str, ...]:
    """`names` (a sequence, or a comma-separated string) as a tuple of baseline names,
    refusing unknown ones and repeats.

    Example:
        >>> checked_baselines("telea,fsr_fast")
        ('telea', 'fsr_fast')
    """
    if isinstance(names, str):
        names = [name.strip() for name in names.split(",")]
    names = tuple(names)
    if not names:
        raise ValueError("No baselines named. Received: names=()")
    unknown = [name for name in names if name not in BASELINES]
    if unknown:
        raise ValueError(f"Unknown baseline {unknown[0]!r}: choose from "
                         f"{', '.join(BASELINES)}. Received: {names}")
    if len(set(names)) != len(names):
        raise ValueError(f"A baseline is named twice. Received: {names}")
    return names


def available_baselines(names=CLASSICAL, *, slow: bool = False,
                        warn: bool = True) -> tuple[str, ...]:
    """The baselines of `names` that run here, in their order: those of `SLOW` only
    with `slow`, and none whose package is missing (with `warn`, a warning names
    each one left out and the fix).

    Example:
        >>> available_baselines(("navier_stokes", "fsr_best"))
        ('navier_stokes',)
    """
    kept = []
    for name in checked_baselines(names):
        reason = BASELINES[name].missing()
        if reason is not None and warn:
            warnings.warn(f"{name} is left out: {reason}", stacklevel=2)
        if reason is None and (slow or name not in SLOW):
            kept.append(name)
    return tuple(kept)


class _Stopwatch:
    """A `predict` that adds up the seconds spent in it."""

    def __init__(self, predict):
        self.predict, self.seconds = predict, 0.0

    def __call__(self, masked_images, masks):
        started = time.perf_counter()
        try:
            return self.predict(masked_images, masks)
        finally:
            self.seconds += time.perf_counter() - started


def run_baselines(images, masks, *, mask_kind: str | None = None, fill_value: float = 0.0,
                  names=None, progress: bool = False):
    """Evaluates baselines on one mask set; returns a results table.

    Args:
        images, masks: as in `inpaint_tf.evaluation.evaluate`.
        mask_kind, fill_value, progress: as there.
        names: baseline names (default: ``identity``, ``mean_fill`` and the classical
            methods that run here, `fsr_best` left out: see `available_baselines`).

    Returns:
        A pandas table, one line per baseline, with ``ms_per_image``: the
        milliseconds its `predict` took per image (without the scoring).

    Example:
        >>> run_baselines(x_test, masks, mask_kind="irregular")          # doctest: +SKIP
    """
    from inpaint_tf.evaluation.protocols import evaluate, results_table

    names = (("identity", "mean_fill", *available_baselines()) if names is None
             else checked_baselines(names))
    rows = []
    for name in names:
        predict = _Stopwatch(BASELINES[name]().predict)
        row = evaluate(predict, images, masks, fill_value=fill_value, name=name,
                       mask_kind=mask_kind, progress=progress)
        rows.append({**row, "ms_per_image": 1000.0 * predict.seconds / row["n"]})
    return results_table(rows)
