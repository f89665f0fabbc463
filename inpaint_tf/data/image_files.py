"""Users' image files: reading them as RGB, and a folder of them as a fixed-size `Split`."""

from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np

from inpaint_tf._validation import is_int
from inpaint_tf.data.splits import Split, Subset

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
"""File suffixes read as images (any case)."""


def read_image(path) -> np.ndarray:
    """An image file as RGB uint8 (H, W, 3): the one reader of users' images and photos.

    Grayscale becomes RGB, alpha is dropped, 16 bits become 8 (OpenCV's
    ``IMREAD_COLOR``).

    Raises:
        ValueError: the file cannot be decoded as an image (names the file).

    Example:
        >>> from inpaint_tf.data import read_image
        >>> photo = read_image("photo.jpg")                              # doctest: +SKIP
    """
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"Cannot read image file {path}: empty, corrupt or not an image")
    return np.ascontiguousarray(image[:, :, ::-1])


def load_image_folder(path, size, mode: str = "resize",
                      fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
                      seed: int = 0, on_error: str = "raise") -> Split:
    """Loads a folder of images of any size as a `Split` of fixed-size RGB images.

    Files are found recursively (png, jpg, jpeg, bmp, webp, tif). A file's label is
    the index of its first-level sub-folder in sorted order (0 when the images lie
    directly in `path`). Grayscale images are converted to RGB, alpha is dropped and
    16-bit images are reduced to 8 bits (``value >> 8``).

    The split rule: the files sorted by path are permuted with `seed`; the first
    ``round(N * fractions[2])`` form the test set, the next ``round(N *
    fractions[1])`` the validation set and the rest the training set.

    Args:
        path: the folder.
        size: output size, an int (square) or (height, width).
        mode: ``"resize"`` scales the whole image to `size` (aspect ratio not
            kept); ``"center_crop"`` first crops the largest centred region with
            the aspect ratio of `size`, then scales it.
        fractions: (train, validation, test) shares, summing to 1.
        seed: seed of the split.
        on_error: ``"raise"`` (default) stops at an unreadable file with a
            `ValueError` naming it; ``"skip"`` warns and leaves it out.

    Returns:
        `Split` of uint8 images (N, height, width, 3) and int64 labels.

    Example:
        >>> split = load_image_folder("photos/", size=64, mode="center_crop")  # doctest: +SKIP
    """
    root = Path(path).expanduser()
    if not root.exists():
        raise FileNotFoundError(f"Image folder not found: {root}")
    if not root.is_dir():
        raise ValueError(f"Expected a folder of images. Received a file: {root}")
    height, width = _check_size_argument(size)
    if mode not in ("resize", "center_crop"):
        raise ValueError(f"`mode` must be 'resize' or 'center_crop'. Received: mode={mode!r}")
    if on_error not in ("raise", "skip"):
        raise ValueError(f"`on_error` must be 'raise' or 'skip'. Received: on_error={on_error!r}")
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f"`fractions` must be three non-negative shares summing to 1. "
                         f"Received: fractions={fractions}")

    files = sorted(p for p in root.rglob("*")
                   if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"No image files ({', '.join(IMAGE_SUFFIXES)}) found in {root}")
    classes = sorted({p.relative_to(root).parts[0] for p in files if p.parent != root})

    images, labels = [], []
    for file in files:
        try:
            image = read_image(file)
        except ValueError as error:
            if on_error == "raise":
                raise ValueError(f"{error} (pass on_error='skip' to leave such files out)"
                                 ) from None
            warnings.warn(f"Skipping unreadable image file {file}", stacklevel=2)
            continue
        images.append(_fit_image(image, height, width, mode))
        parts = file.relative_to(root).parts
        labels.append(classes.index(parts[0]) if len(parts) > 1 else 0)
    if not images:
        raise ValueError(f"None of the {len(files)} image files in {root} could be read")

    images, labels = np.stack(images), np.array(labels, np.int64)
    order = np.random.default_rng(seed).permutation(len(images))
    n_test = round(len(images) * fractions[2])
    n_validation = round(len(images) * fractions[1])
    test, validation = order[:n_test], order[n_test:n_test + n_validation]
    train = order[n_test + n_validation:]
    return Split(*(Subset(images[part], labels[part]) for part in (train, validation, test)))


def _check_size_argument(size) -> tuple[int, int]:
    pair = (size, size) if is_int(size) else size
    if (not isinstance(pair, (tuple, list)) or len(pair) != 2
            or not all(is_int(v) and v >= 1 for v in pair)):
        raise ValueError("`size` must be a positive int or a pair (height, width) of positive "
                         f"ints. Received: size={size!r}")
    return int(pair[0]), int(pair[1])


def _fit_image(image: np.ndarray, height: int, width: int, mode: str) -> np.ndarray:
    if mode == "center_crop":
        rows, cols = image.shape[:2]
        scale = min(rows / height, cols / width)
        crop_rows, crop_cols = round(height * scale), round(width * scale)
        top, left = (rows - crop_rows) // 2, (cols - crop_cols) // 2
        image = image[top:top + crop_rows, left:left + crop_cols]
    if image.shape[:2] == (height, width):
        return image
    shrinking = image.shape[0] > height or image.shape[1] > width
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=interpolation)
