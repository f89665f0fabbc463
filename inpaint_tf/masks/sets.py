"""Mask kinds by name, fixed evaluation sets (for 32 x 32 sets and for photos),
checksums, hole shares and mask files.

A kind names a generator in `MASK_GENERATORS`: the study's kinds (`MASK_KINDS`,
`inpaint_tf.masks.study`) and the free-form kinds for images of any size
(`FREE_FORM_KINDS`, `inpaint_tf.masks.free_form`); `ALL_MASK_KINDS` lists both.
Configs, `make_dataset` and `generate_masks` accept every kind.

A photo's fixed evaluation mask (`photo_mask`) depends only on the seed, the kind
and the photo's pixels and size, so a test photo gets the same holes on every
machine, under any file name.

Example:
    >>> from inpaint_tf.masks import generate_masks, mask_checksum
    >>> len(mask_checksum(generate_masks("blobs", 2, seed=0, height=64, width=64)))
    64
"""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

import cv2
import numpy as np

from inpaint_tf import _io
from inpaint_tf._checksums import pixel_sha256
from inpaint_tf._validation import as_binary_masks, check_non_negative_int
from inpaint_tf.masks.free_form import (
    blob_masks,
    free_form_area_masks,
    free_form_masks,
    medium_stroke_masks,
    object_box_masks,
    small_hole_masks,
    thick_stroke_masks,
    thin_stroke_masks,
)
from inpaint_tf.masks.study import (
    box_masks,
    center_box_masks,
    gan_rectangle_masks,
    irregular_area_masks,
    irregular_masks,
    random_box_masks,
)

EVAL_SEED = 20180420  # fixed seed of the evaluation mask sets (any constant would do)
"""Seed of the fixed evaluation mask sets."""
VALIDATION_MASK_SEED = EVAL_SEED + 1  # validation holes differ from the test holes
"""Seed of the validation masks, which differ from the test masks."""

MASK_GENERATORS: dict[str, Callable[..., np.ndarray]] = {
    "center_box": center_box_masks,
    "random_box": random_box_masks,
    "irregular": irregular_masks,
    "gan_rectangle": gan_rectangle_masks,
    "boxes": box_masks,
    "irregular_area": irregular_area_masks,
    "thin_strokes": thin_stroke_masks,
    "medium_strokes": medium_stroke_masks,
    "thick_strokes": thick_stroke_masks,
    "blobs": blob_masks,
    "object_boxes": object_box_masks,
    "free_form": free_form_masks,
    "small_holes": small_hole_masks,
    "free_form_area": free_form_area_masks,
}
"""Mask kind -> its generator, ``generator(n, seed=..., height=..., width=...)``."""
# The study's kinds (32 x 32 semantics, scaled by min(H, W) / 32), and the free-form
# kinds (lengths given at a short side of 512 and scaled by min(H, W) / 512).
MASK_KINDS = ("center_box", "random_box", "irregular", "gan_rectangle", "boxes",
              "irregular_area")
"""The study's kinds (32 x 32 semantics, scaled by min(H, W) / 32)."""
FREE_FORM_KINDS = ("thin_strokes", "medium_strokes", "thick_strokes", "blobs",
                   "object_boxes", "free_form", "small_holes", "free_form_area")
"""The free-form kinds for photos (lengths given at a short side of 512, scaled)."""
ALL_MASK_KINDS = MASK_KINDS + FREE_FORM_KINDS
"""Every mask kind: `MASK_KINDS`, then `FREE_FORM_KINDS`."""


def check_mask_kind(kind: str) -> str:
    """Returns `kind` or raises a `ValueError` listing the known kinds."""
    if kind not in MASK_GENERATORS:
        raise ValueError(f"Unknown mask kind. Expected one of {list(MASK_GENERATORS)}. "
                         f"Received: kind={kind!r}")
    return kind


def generate_masks(kind: str, n: int, seed=None, height: int = 32, width: int = 32) -> np.ndarray:
    """Draws `n` masks of a kind (see `ALL_MASK_KINDS`).

    Returns uint8 (n, height, width, 1), 1 = hole, every mask with at least one hole
    pixel and never all hole. An unknown kind, `n` or a size that is not a positive
    integer, or a size under 8x8 raise a `ValueError`.

    Example:
        >>> generate_masks("center_box", 2, seed=1).shape
        (2, 32, 32, 1)
    """
    return MASK_GENERATORS[check_mask_kind(kind)](n, seed, height=height, width=width)


def eval_masks(kind: str, n: int = 10_000, seed: int = EVAL_SEED, height: int = 32,
               width: int = 32) -> np.ndarray:
    """The fixed evaluation mask set of a kind: identical in every process and machine.

    Every model and baseline is scored on the same holes by using this set
    (`mask_checksum` identifies it).

    Example:
        >>> a = eval_masks("irregular", 100)
        >>> bool((a == eval_masks("irregular", 100)).all())
        True
    """
    return generate_masks(kind, n, np.random.default_rng(seed), height, width)


def _photo_mask_rng(kind: str, image, seed: int = EVAL_SEED) -> np.random.Generator:
    """The random generator of a photo's fixed mask: seeded by (seed, CRC-32 of the
    kind's name, the 8 big-endian 32-bit words of the image's `pixel_sha256`, H, W)."""
    check_mask_kind(kind)
    check_non_negative_int(seed, "seed")
    image = np.asarray(image)
    if image.ndim not in (2, 3):
        raise ValueError("`image` must be one image of shape (H, W) or (H, W, C). "
                         f"Received: image.shape={image.shape}")
    digest = bytes.fromhex(pixel_sha256(image))
    words = [int.from_bytes(digest[i:i + 4], "big") for i in range(0, 32, 4)]
    entropy = [int(seed), zlib.crc32(kind.encode()), *words, *image.shape[:2]]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def photo_mask(kind: str, image, seed: int = EVAL_SEED) -> np.ndarray:
    """The fixed evaluation mask of a kind for one photo, (H, W, 1) uint8, 1 = hole.

    Its generator is seeded by ``numpy.random.SeedSequence([seed, zlib.crc32(kind),
    *sha256_words, H, W])``, where the 8 big-endian 32-bit words are those of the
    SHA-256 of ``f"{image.shape}{image.dtype}"`` followed by the pixel bytes in C
    order (`inpaint_tf._checksums.pixel_sha256`, the key that photo training uses
    to refuse test photos). So the mask depends only on the seed, the kind and the
    photo's pixels, shape and dtype, not on its file name, its place in a set or the
    machine: the same photo gets the same holes everywhere, a different photo or seed
    other ones.

    Pass the pixels as the evaluation decodes them (RGB uint8 (H, W, 3)): a BGR copy
    of the same photo is a different array and gets other holes, and so may a JPEG
    decoded by a decoder that rounds differently (lossless files decode alike).

    Example:
        >>> image = np.random.default_rng(0).integers(0, 256, (300, 451, 3), np.uint8)
        >>> photo_mask("blobs", image).shape
        (300, 451, 1)
    """
    image = np.asarray(image)
    rng = _photo_mask_rng(kind, image, seed)
    return generate_masks(kind, 1, rng, image.shape[0], image.shape[1])[0]


def eval_photo_masks(kind: str, images: Iterable, seed: int = EVAL_SEED) -> list[np.ndarray]:
    """`photo_mask` of every image of a photo set (images of any sizes), in order.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> photos = [rng.integers(0, 256, (h, w, 3), np.uint8) for h, w in [(64, 96), (80, 80)]]
        >>> [m.shape for m in eval_photo_masks("thin_strokes", photos)]
        [(64, 96, 1), (80, 80, 1)]
    """
    return [photo_mask(kind, image, seed) for image in images]


def mask_checksum(masks) -> str:
    """SHA-256 of a mask set (shape and hole pixels), to name a set in reports."""
    masks = as_binary_masks(masks).astype(bool)
    digest = hashlib.sha256(str(masks.shape).encode())
    digest.update(np.packbits(masks).tobytes())
    return digest.hexdigest()


def mask_set_checksum(masks: Iterable) -> str:
    """SHA-256 of a list of masks of any sizes (each (H, W) or (H, W, 1)), to name a
    photo mask set in reports: the number of masks, then each one's size and hole
    pixels, in order. The same on every machine.

    Example:
        >>> a = [np.zeros((40, 60, 1), np.uint8), np.ones((50, 50), np.uint8)]
        >>> mask_set_checksum(a) == mask_set_checksum([m.copy() for m in a])
        True
    """
    masks = list(masks)
    digest = hashlib.sha256(f"{len(masks)} masks".encode())
    for number, mask in enumerate(masks):
        mask = as_binary_masks(np.asarray(mask)[None], name=f"masks[{number}]").astype(bool)
        digest.update(str(mask.shape[1:3]).encode())
        digest.update(np.packbits(mask).tobytes())
    return digest.hexdigest()


def hole_share(masks) -> float:
    """Fraction of pixels that are holes."""
    return float(np.mean(np.asarray(masks) > 0))


def hole_shares(masks) -> np.ndarray:
    """Fraction of hole pixels of each mask of a set (N, H, W[, 1])."""
    masks = np.asarray(masks)
    return (masks > 0).reshape(len(masks), -1).mean(axis=1)


def area_bin_label(low: float, high: float) -> str:
    """The label of a hole-share bin: (0.1, 0.2) -> "10-20%"."""
    return f"{round(low * 100)}-{round(high * 100)}%"


def save_masks(path, masks, **metadata) -> None:
    """Saves a mask set as `.npz` (atomically), with optional metadata (kind, seed).

    `masks` may be (N, H, W) or (N, H, W, 1), bool, integer or float, with values
    exactly 0 or 1; they are stored as uint8 (N, H, W, 1). Other values, NaN or
    other shapes raise a `ValueError`.
    """
    masks = as_binary_masks(masks).astype(np.uint8)
    with _io.atomic_path(path, suffix=".npz") as temporary:
        with open(temporary, "wb") as handle:
            np.savez_compressed(handle, masks=masks,
                                **{k: np.asarray(v) for k, v in metadata.items()})


def load_masks(path) -> np.ndarray:
    """Loads a mask set written by `save_masks`; returns uint8 (N, H, W, 1).

    Raises `FileNotFoundError` for a missing file and a `ValueError` naming the file
    for an unreadable one or masks that are not binary (N, H, W[, 1]) arrays.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Mask file not found: {path}")
    try:
        with np.load(path) as data:
            keys = list(data.keys())
            masks = data["masks"] if "masks" in keys else None
    # Empty, truncated or non-zip files fail in NumPy, zipfile or zlib.
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error) as error:
        raise ValueError(f"Cannot read masks from {path}: empty, truncated or not an .npz "
                         f"archive ({type(error).__name__})") from error
    if masks is None:
        raise ValueError(f"Cannot read masks from {path}: it holds no `masks` array "
                         f"(keys: {keys})")
    return as_binary_masks(masks, name=str(path)).astype(np.uint8)


def load_mask_image(path, size: tuple[int, int] | None = None) -> np.ndarray:
    """Reads a mask image (PNG, JPEG, ...): any non-zero pixel is a hole.

    Colour masks count a pixel as hole when any colour channel is non-zero (an
    alpha channel is ignored).

    Args:
        path: image file.
        size: expected (height, width), usually the image's; a mismatch raises.

    Returns:
        uint8 array (H, W, 1), 1 = hole.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Mask image not found: {path}")
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise ValueError(f"Cannot read mask image {path}: not an image file or corrupt")
    if image.ndim == 3:
        image = image[..., :3].max(axis=-1)
    mask = (image > 0).astype(np.uint8)[..., None]
    if size is not None and tuple(mask.shape[:2]) != tuple(size):
        raise ValueError(f"Mask image {path} is {mask.shape[0]}x{mask.shape[1]} but the image "
                         f"is {size[0]}x{size[1]}; they must have the same size")
    return mask
