"""Users' image files: reading them as RGB, or as they are stored (8 or 16 bits, grey or
colour, alpha) and writing a filled image back in that form; a folder of them as a
fixed-size `Split`."""

from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np

from inpaint_tf._io import atomic_path
from inpaint_tf._validation import is_int
from inpaint_tf.data.splits import Split, Subset

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
"""File suffixes read as images (any case)."""
DEEP_SUFFIXES = (".png", ".tif", ".tiff")
"""Output formats that hold 16 bits per channel."""
ALPHA_SUFFIXES = (".png", ".tif", ".tiff", ".webp")
"""Output formats that hold an alpha channel."""
_ORIENTED_SUFFIXES = (".jpg", ".jpeg")  # read with their EXIF orientation applied
_DEPTHS = {np.dtype(np.uint8): 255, np.dtype(np.uint16): 65535}


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


def read_image_as_is(path) -> np.ndarray:
    """An image file's pixels as stored: uint8 or uint16, (H, W) grey, (H, W, 3) RGB or
    (H, W, 4) RGBA (RGB order). `model_input` makes them what `inpaint` takes;
    `write_image` writes a filled image back in their form.

    A JPEG is read with its EXIF orientation applied (as `read_image` reads it);
    other formats as stored.

    Raises:
        ValueError: the file cannot be decoded as an image, or holds pixels of another
            type than 8- or 16-bit integers (float TIFFs); the message names the file.

    Example:
        >>> pixels = read_image_as_is("scan.tif")                         # doctest: +SKIP
        >>> pixels.dtype, pixels.shape                                     # doctest: +SKIP
        (dtype('uint16'), (2000, 3000))
    """
    oriented = Path(path).suffix.lower() in _ORIENTED_SUFFIXES
    pixels = cv2.imread(str(path), cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR if oriented
                        else cv2.IMREAD_UNCHANGED)
    if pixels is None or pixels.size == 0:
        raise ValueError(f"Cannot read image file {path}: empty, corrupt or not an image")
    if pixels.dtype not in _DEPTHS:
        raise ValueError(f"Cannot read image file {path}: its pixels are {pixels.dtype}; "
                         "8- and 16-bit images are read (convert it first)")
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    if pixels.ndim == 3 and pixels.shape[2] not in (3, 4):
        raise ValueError(f"Cannot read image file {path}: {pixels.shape[2]} channels; grey, "
                         "RGB and RGBA images are read")
    return np.ascontiguousarray(pixels[:, :, [2, 1, 0, 3][:pixels.shape[2]]]
                                if pixels.ndim == 3 else pixels)


def model_input(pixels: np.ndarray) -> np.ndarray:
    """The (H, W, 3) RGB image `inpaint` takes from pixels of `read_image_as_is`: grey
    repeated in three channels, alpha left out; uint8 as it is, 16 bits as float32 in
    [0, 1] (``value / 65535``).

    Example:
        >>> model_input(np.full((2, 2), 65535, np.uint16))[0, 0]
        array([1., 1., 1.], dtype=float32)
    """
    rgb = np.repeat(pixels[:, :, None], 3, axis=2) if pixels.ndim == 2 else pixels[:, :, :3]
    if rgb.dtype == np.uint8:
        return rgb
    return rgb.astype(np.float32) / np.float32(_DEPTHS[rgb.dtype])


def _is_grey(pixels: np.ndarray) -> bool:
    """Whether pixels of `read_image_as_is` are grey: one channel, or three equal ones."""
    if pixels.ndim == 2:
        return True
    return bool(np.array_equal(pixels[:, :, 0], pixels[:, :, 1])
                and np.array_equal(pixels[:, :, 1], pixels[:, :, 2]))


def output_pixels(filled, like: np.ndarray | None = None, suffix: str = ".png") -> np.ndarray:
    """`filled` (RGB floats in [0, 1], as `inpaint` returns them) in the form of `like`
    (the pixels it was filled from), as far as a file of `suffix` holds it.

    - Depth: 16 bits for a 16-bit `like` in PNG and TIFF, else 8; values are rounded
      (``round(value * 65535)``, ``round(value * 255)``), so that known pixels come
      back bit for bit.
    - Grey: a grey `like` (one channel, or three equal ones) gets the mean of the
      three channels (no colour tint in the holes), in one channel, or three equal
      ones where `like` has three.
    - Alpha: `like`'s alpha, unchanged (rounded to 8 bits where the format holds no
      more), where the format holds alpha (PNG, TIFF, WebP); else none.

    Returns:
        (H, W) or (H, W, 3 or 4) uint8 or uint16, RGB order. Without `like`: 8-bit RGB.

    Example:
        >>> grey = np.array([[0, 65535]], np.uint16)
        >>> output_pixels(model_input(grey), like=grey, suffix=".png")
        array([[    0, 65535]], dtype=uint16)
    """
    filled = np.asarray(filled, np.float32)
    suffix = suffix.lower()
    if like is None:
        return np.round(filled * np.float32(255)).astype(np.uint8)
    deep = like.dtype == np.uint16 and suffix in DEEP_SUFFIXES
    dtype = np.uint16 if deep else np.uint8
    grey = _is_grey(like)
    values = filled.mean(axis=2, keepdims=True) if grey else filled
    out = np.round(values * np.float32(_DEPTHS[np.dtype(dtype)])).astype(dtype)
    if grey:
        out = out[:, :, 0] if like.ndim == 2 else np.repeat(out, 3, axis=2)
    if like.ndim == 3 and like.shape[2] == 4 and suffix in ALPHA_SUFFIXES:
        alpha = like[:, :, 3]
        if alpha.dtype != out.dtype:  # 16-bit alpha into an 8-bit format
            alpha = np.round(alpha / 257.0).astype(dtype)
        out = np.dstack([out, alpha])
    return out


def write_image(path, filled, like: np.ndarray | None = None) -> None:
    """Writes `filled` (RGB floats in [0, 1]) atomically as an image file in the format
    of `path`'s extension, in the form of `like` (`output_pixels`: depth, grey,
    alpha) as far as that format holds it; 8-bit RGB without `like`.

    Raises:
        OSError: OpenCV cannot write the file (names it).

    Example:
        >>> pixels = read_image_as_is("scan.png")                         # doctest: +SKIP
        >>> write_image("filled.png", inpaint(model, model_input(pixels), holes),
        ...             like=pixels)                                       # doctest: +SKIP
    """
    path = Path(path)
    pixels = output_pixels(filled, like, path.suffix)
    if pixels.ndim == 3:
        pixels = pixels[:, :, [2, 1, 0, 3][:pixels.shape[2]]]  # OpenCV's BGR(A)
    with atomic_path(path) as temporary:
        try:
            written = cv2.imwrite(str(temporary), pixels)
        except cv2.error as error:  # an image OpenCV's encoder refuses
            raise OSError(f"Cannot write {path}: {str(error).strip().splitlines()[-1]}"
                          ) from None
        if not written:
            raise OSError(f"Cannot write {path}")


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
