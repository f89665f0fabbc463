"""Photos at any size: streaming training crops, and the photo files behind them.

Photo training never holds a dataset in memory. The photos are a list of file paths.
Each batch decodes its own files, on tf.data's parallel threads. It crops one
region per image, at a random scale, flips it, and draws the masks at the crop
size. Memory depends on the batch, not on the number of files.

A batch is a pure function of ``(seed, epoch, step)``: which photos, where the
crops are, their scales and flips, and the masks. A resumed run therefore sees
exactly the batches an uninterrupted run would have seen.

**Several workers** (`tf.distribute`, ``input_context``): worker w of W reads only
the photos at its positions of the epoch's order (its rows of each global batch),
so no two workers train on the same photo within an epoch. It draws their crops
and masks itself (`batch_rng` with its worker): a worker's batches are a pure
function of (seed, epoch, step, worker), and with one worker they are the
batches above.

**Scales.** Each crop takes a scale ``s``, log-uniform in `scale_range`. It cuts
a ``crop_size / s`` square of the photo and resizes it to ``crop_size``.
``s = 1`` is the photo's own resolution; ``s = 0.25`` shows four times more
content per pixel. The same content is thus seen at several scales.

**Small photos.** A photo whose short side is below ``crop_size / s`` at the
drawn scale takes the largest scale that fits instead: its whole short side is
cut and resized to the crop. A photo smaller than the crop is scaled up to cover
it. Such a photo is never padded, and never refused.

**Bad files.** An unreadable file raises a `ValueError` that names it. With
``on_error="skip"``, a warning names it and the next readable photo in the
epoch's order is used instead, so batches stay a pure function of
``(seed, epoch, step)``.

**Test photos.** `scan_photos` decodes every file once. It refuses any photo
whose pixels are those of a photo in the library's test sets (Kodak24, McMaster,
CBSD68), wherever the file sits and whatever its name. It gives the set's
checksum for run records. `inpaint_tf.train` scans before it trains.

Example:
    >>> from inpaint_tf.data.photos import list_photos, make_photo_dataset
    >>> files = list_photos("~/data/photo_train")                      # doctest: +SKIP
    >>> ds = make_photo_dataset(files, 128, "free_form", batch_size=16)  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import warnings
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from inpaint_tf._checksums import pixel_sha256
from inpaint_tf._validation import check_non_negative_int, check_positive_int
from inpaint_tf.data.image_files import IMAGE_SUFFIXES, read_image
from inpaint_tf.data.pipeline import EpochOrder, batch_rng, input_shard, streamed_batches
from inpaint_tf.masks import check_mask_kind, generate_masks

TEST_PHOTOS_FILE = Path(__file__).resolve().parent / "test_photos.json"
ON_ERROR = ("raise", "skip")


# --------------------------------------------------------------------------- files


def list_photos(source) -> list[str]:
    """The image files of a source, in a fixed order (sorted by path).

    Args:
        source: a folder (searched recursively: nested folders work), one image
            file, or a list of folders and files. Files are those with an image
            suffix (png, jpg, jpeg, bmp, webp, tif, tiff; any case).

    Raises:
        FileNotFoundError: a folder or file that does not exist.
        ValueError: no image file found.

    Example:
        >>> list_photos(["a.png", "b.jpg"])                             # doctest: +SKIP
        ['a.png', 'b.jpg']
    """
    sources = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    files = []
    for item in sources:
        path = Path(item).expanduser()
        if path.is_dir():
            files += [str(p) for p in path.rglob("*")
                      if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
        elif path.is_file():
            files.append(str(path))
        else:
            raise FileNotFoundError(f"Photo source not found: {path}")
    if not files:
        raise ValueError(f"No image files ({', '.join(IMAGE_SUFFIXES)}) found in {source}")
    return sorted(set(files))


@functools.lru_cache(maxsize=1)
def test_photo_checksums() -> dict[str, str]:
    """Pixel checksum -> "<set>/<file name>" of every photo of the library's photo
    test sets (Kodak24, McMaster, CBSD68), which training refuses."""
    sets = json.loads(TEST_PHOTOS_FILE.read_text())
    return {checksum: f"{name}/{file}" for name, photos in sets.items()
            for file, checksum in photos.items()}


class PhotoScan(NamedTuple):
    """What `scan_photos` found: the readable files, their sizes and the set's checksum."""

    files: list[str]
    sizes: list[tuple[int, int]]
    checksum: str
    skipped: list[str]


def scan_photos(files, *, refuse: dict[str, str] | None = None, on_error: str = "raise",
                progress: bool = False) -> PhotoScan:
    """Decodes every photo once: refuses test photos, finds unreadable files.

    Args:
        files: image file paths (`list_photos`).
        refuse: pixel checksum -> what it is, of photos training must not see
            (default: the test sets', `test_photo_checksums()`).
        on_error: "raise" stops at an unreadable file, "skip" warns and leaves it out.
        progress: show a progress bar.

    Returns:
        `PhotoScan`: the readable files (in order), their (height, width), the
        checksum of the set (SHA-256 over the sorted pixel checksums, so
        independent of names and order), and the skipped files.

    Raises:
        ValueError: a file holds a refused photo (names the file and what it is),
            or an unreadable file with ``on_error="raise"``.
    """
    _check_on_error(on_error)
    files = [str(f) for f in files]
    refuse = test_photo_checksums() if refuse is None else refuse
    kept, sizes, checksums, skipped = [], [], [], []
    bar = _progress_bar(len(files)) if progress else None
    for number, file in enumerate(files):
        try:
            image = read_image(file)
        except ValueError:
            if on_error == "raise":
                raise
            warnings.warn(f"Skipping unreadable image file {file}", stacklevel=2)
            skipped.append(file)
            continue
        checksum = pixel_sha256(image)
        if checksum in refuse:
            raise ValueError(f"{file} is the test photo {refuse[checksum]} (same pixels): "
                             "training must not see test photos; remove it from the source")
        kept.append(file)
        sizes.append(image.shape[:2])
        checksums.append(checksum)
        if bar is not None:
            bar.update(number + 1)
    if not kept:
        raise ValueError(f"None of the {len(files)} photo files could be read")
    digest = hashlib.sha256("".join(sorted(checksums)).encode()).hexdigest()[:16]
    return PhotoScan(kept, sizes, digest, skipped)


class Collected(NamedTuple):
    """What `collect_photos` did: files copied, and files left out by reason."""

    copied: list[str]
    left_out: dict[str, list[str]]


def collect_photos(sources, out, *, min_side: int = 256, colour_only: bool = True,
                   refuse: dict[str, str] | None = None) -> Collected:
    """Copies the photos of `sources` that training may use into the folder `out`.

    Left out: test photos (by pixel checksum, `test_photo_checksums`: BSDS500 holds the
    68 of CBSD68), photos whose short side is below `min_side`, grey photos (the three
    channels equal) when `colour_only`, unreadable files, and a second copy of the same
    pixels. Each source folder becomes a sub-folder of `out` (file names kept), so
    training on `out` never meets a photo it must refuse.

    Example:
        >>> collect_photos(["BSDS500/data/images", "imagenet-sample-images"],
        ...                "~/data/photo_train")                         # doctest: +SKIP
    """
    sources = [sources] if isinstance(sources, (str, os.PathLike)) else list(sources)
    refuse = test_photo_checksums() if refuse is None else refuse
    out = Path(out).expanduser()
    left_out: dict[str, list[str]] = {"test photo": [], "small": [], "grey": [],
                                      "unreadable": [], "duplicate": []}
    copied, seen = [], set()
    for source in sources:
        folder = out / Path(source).expanduser().resolve().name
        for file in list_photos(source):
            try:
                image = read_image(file)
            except ValueError:
                left_out["unreadable"].append(file)
                continue
            checksum = pixel_sha256(image)
            reason = ("test photo" if checksum in refuse else
                      "duplicate" if checksum in seen else
                      "small" if min(image.shape[:2]) < min_side else
                      "grey" if colour_only and _is_grey(image) else None)
            if reason:
                left_out[reason].append(file)
                continue
            seen.add(checksum)
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / Path(file).name
            shutil.copyfile(file, target)
            copied.append(str(target))
    return Collected(copied, left_out)


def _is_grey(image: np.ndarray) -> bool:
    return bool(np.array_equal(image[..., 0], image[..., 1])
                and np.array_equal(image[..., 1], image[..., 2]))


def _progress_bar(total: int):
    import keras

    return keras.utils.Progbar(total, unit_name="photo")


def _check_canvas(canvas, crop_size: int) -> tuple[int, int]:
    try:
        low, high = (int(v) for v in canvas)
    except (TypeError, ValueError):
        low = high = 0
    if not crop_size <= low <= high:
        raise ValueError(f"`mask_canvas` must be two sides (low, high) with crop_size "
                         f"({crop_size}) <= low <= high. Received: mask_canvas={canvas!r}")
    return low, high


def _check_on_error(on_error: str) -> None:
    if on_error not in ON_ERROR:
        raise ValueError(f"`on_error` must be one of {ON_ERROR}. Received: on_error={on_error!r}")


# --------------------------------------------------------------------------- crops


def check_scale_range(scale_range) -> tuple[float, float]:
    """(low, high) with 0 < low <= high: the range crops' scales are drawn from."""
    try:
        low, high = (float(v) for v in scale_range)
    except (TypeError, ValueError):
        low = high = float("nan")
    if not (0 < low <= high < float("inf")):
        raise ValueError("`scale_range` must be two scales (low, high) with 0 < low <= high. "
                         f"Received: scale_range={scale_range!r}")
    return low, high


def crop_window(height: int, width: int, crop_size: int, scale: float,
                rng: np.random.Generator) -> tuple[int, int, int]:
    """(top, left, side) of the square region that becomes a crop at `scale`.

    The side is ``round(crop_size / scale)``, capped at the photo's short side
    (a smaller photo takes its whole short side, and is scaled up when that is
    below `crop_size`); the position is uniform over the photo.
    """
    side = max(1, min(round(crop_size / scale), height, width))
    top = int(rng.integers(0, height - side + 1))
    left = int(rng.integers(0, width - side + 1))
    return top, left, side


def random_crop(image: np.ndarray, crop_size: int, scale_range, rng: np.random.Generator,
                flip: bool = True) -> np.ndarray:
    """A `crop_size` square of `image` at a log-uniform scale from `scale_range`,
    mirrored left-right with probability 1/2 when `flip`."""
    low, high = scale_range
    scale = float(np.exp(rng.uniform(np.log(low), np.log(high))))
    top, left, side = crop_window(*image.shape[:2], crop_size, scale, rng)
    region = image[top:top + side, left:left + side]
    if side != crop_size:
        shrinking = side > crop_size
        region = cv2.resize(region, (crop_size, crop_size),
                            interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    if flip and rng.random() < 0.5:
        region = region[:, ::-1]
    return np.ascontiguousarray(region)


def fixed_crops(files, crop_size: int, per_photo: int = 1, *, scale_range=(1.0, 1.0),
                seed: int = 0) -> np.ndarray:
    """Seeded crops of every file (`per_photo` each), uint8 (N, crop, crop, 3): a fixed
    validation or check set of photo crops."""
    crop_size = check_positive_int(crop_size, "crop_size")
    scales = check_scale_range(scale_range)
    crops = []
    for number, file in enumerate(files):
        image = read_image(file)
        rng = np.random.default_rng([seed, number])
        crops += [random_crop(image, crop_size, scales, rng, flip=False)
                  for _ in range(per_photo)]
    return np.stack(crops)


def photo_scale_masks(kind: str, n: int, rng: np.random.Generator, crop_size: int,
                      canvas_range: tuple[int, int]) -> np.ndarray:
    """Masks for crops with holes of a full photo's size, uint8 (n, crop, crop, 1).

    Mask kinds scale with the image they are drawn on, and a crop is much smaller
    than the photos a model fills later. So each mask is drawn on a square canvas
    of a photo's size (side uniform in `canvas_range`, e.g. the test photos' short
    sides). A `crop_size` window centred on one of its hole pixels is then cut out,
    at a uniform offset of up to a quarter crop. Strokes keep their widths in
    pixels, and the window holds the holes around it, as the windows
    `inpaint_tf.inpaint` cuts around a photo's holes do.
    """
    low, high = canvas_range
    masks = np.zeros((n, crop_size, crop_size, 1), np.uint8)
    for number in range(n):
        side = max(crop_size, int(rng.integers(low, high + 1)))
        canvas = generate_masks(kind, 1, rng, side, side)[0, ..., 0]
        rows, cols = np.nonzero(canvas)
        if len(rows) == 0:
            continue
        pick = int(rng.integers(len(rows)))
        jitter = rng.integers(-(crop_size // 4), crop_size // 4 + 1, 2)
        top = int(np.clip(rows[pick] - crop_size // 2 + jitter[0], 0, side - crop_size))
        left = int(np.clip(cols[pick] - crop_size // 2 + jitter[1], 0, side - crop_size))
        masks[number, ..., 0] = canvas[top:top + crop_size, left:left + crop_size]
    return masks


# --------------------------------------------------------------------------- the pipeline


def make_photo_dataset(files, crop_size: int, mask_kind: str = "free_form", *,
                       batch_size: int = 16, seed: int = 0, scale_range=(0.25, 1.0),
                       flip: bool = True, fill_value: float = 0.0, start_epoch: int = 0,
                       epochs: int | None = None, steps_per_epoch: int | None = None,
                       on_error: str = "raise", real_masks: bool = False,
                       mask_as_sample_weight: bool = False, mask_canvas=None,
                       input_context=None):
    """A training `tf.data.Dataset` of ``({"image": masked, "mask": mask}, crop)`` from
    photo files, streamed (see the module docstring for scales, small photos and
    bad files).

    Batches have the contract of `inpaint_tf.data.make_dataset`: float32 crops in
    [0, 1], (B, crop, crop, 3); "mask" float32 (B, crop, crop, 1), 1 = hole;
    `fill_value` in the holes of "image"; full batches.

    Args:
        files: image file paths (`list_photos`, or `scan_photos(...).files`).
        crop_size: height and width of the crops (the masks' size too).
        mask_kind: one of `inpaint_tf.masks.MASK_KINDS`, drawn at the crop size.
        batch_size: crops per batch.
        seed: seed of the order, crops and masks (a non-negative integer).
        scale_range: (low, high) scales of the crops, 0 < low <= high.
        flip: mirror half the crops left-right.
        fill_value: value written into the holes of the input image.
        start_epoch, epochs: the epochs this dataset covers (forever when None).
        steps_per_epoch: batches per epoch (default: one crop per photo,
            ``len(files) // batch_size``, at least 1).
        on_error: "raise" or "skip" (see the module docstring).
        real_masks: also yield "real_mask", a second independent mask per crop (GAN).
        mask_as_sample_weight: yield ``(inputs, crop, mask)`` for the masked losses.
        mask_canvas: None draws the masks at the crop size (shapes scale with the
            crop); a (low, high) pair of sides draws them at a photo's size and cuts
            the crop's window around a hole (`photo_scale_masks`).
        input_context: a `tf.distribute.InputContext`: yield this worker's share of
            each global batch of `batch_size`, one batch per local replica (see
            "Several workers" in the module docstring).

    Example:
        >>> ds = make_photo_dataset(list_photos("photos/"), 128, "blobs")  # doctest: +SKIP
    """
    files = np.array([str(f) for f in files], dtype=object)
    count = len(files)
    if count == 0:
        raise ValueError("`files` is empty: no photo to train on")
    crop_size = check_positive_int(crop_size, "crop_size")
    batch_size = check_positive_int(batch_size, "batch_size")
    check_mask_kind(mask_kind)
    scales = check_scale_range(scale_range)
    _check_on_error(on_error)
    check_non_negative_int(seed, "seed")
    check_non_negative_int(start_epoch, "start_epoch")
    try:  # a crop size the mask generators refuse fails now, not inside tf.data later
        generate_masks(mask_kind, 1, 0, crop_size, crop_size)
    except ValueError as error:
        raise ValueError(f"`crop_size` is too small for {mask_kind!r} masks: {error}") from error
    steps = (check_positive_int(steps_per_epoch, "steps_per_epoch") if steps_per_epoch
             else max(1, count // batch_size))
    if mask_canvas is not None:
        mask_canvas = _check_canvas(mask_canvas, crop_size)

    shard = input_shard(input_context, batch_size)
    first, rows = shard.rows(batch_size)
    worker = shard.index if shard.count > 1 else None

    def draw_masks(rng):
        if mask_canvas is None:
            return generate_masks(mask_kind, rows, rng, crop_size, crop_size)
        return photo_scale_masks(mask_kind, rows, rng, crop_size, mask_canvas)
    unreadable: set[str] = set()
    order = EpochOrder(count, seed)

    def read(epoch: int, position: int) -> np.ndarray:
        """The photo at `position` of the epoch's order, or the next readable one."""
        for offset in range(count):
            file = files[order.indices(epoch, position + offset, 1)[0]]
            if file in unreadable:
                continue
            try:
                return read_image(file)
            except ValueError:
                if on_error == "raise":
                    raise
                unreadable.add(file)
                warnings.warn(f"Skipping unreadable image file {file}", stacklevel=2)
        raise ValueError(f"None of the {count} photo files could be read")

    def make_batch(epoch: int, step: int):
        rng = batch_rng(seed, epoch, step, worker)
        start = step * batch_size + first
        crops = np.stack([random_crop(read(epoch, start + k), crop_size, scales, rng, flip)
                          for k in range(rows)])
        masks = draw_masks(rng)
        extra = draw_masks(rng) if real_masks else masks[:0]
        return crops, masks, extra

    return streamed_batches(make_batch, (rows, crop_size, crop_size), steps,
                            fill_value=fill_value, start_epoch=start_epoch, epochs=epochs,
                            real_masks=real_masks,
                            mask_as_sample_weight=mask_as_sample_weight, pieces=shard.pieces)
