"""Inpainting a folder of photos in one process: one mask for every photo (a watermark,
a scanner's dust) or a mask per photo, matched by file name.

The model is loaded once by the caller and runs on one photo size at a time, while a
background thread reads the next photos and masks and another writes the finished
ones, so that a folder of large JPEGs is bound by the model, not by decoding.

- **Photos**: a folder (its image files, not its sub-folders), a glob pattern
  (``"scans/**/*.jpg"``) or a list of files, of any sizes.
- **Masks** (1 = hole; in a mask file any non-zero pixel is a hole): one mask for
  every photo (``mask``: a file or an array; a photo of another size fails), or a
  folder of masks (``masks``) where the mask of ``a.jpg`` is the one file named
  ``a.*`` (``a.png`` for instance).
- **Outputs**: ``out/<name><suffix><extension>``, the photo's name and format, and
  its form (`inpaint_tf.data.image_files.write_image`): a 16-bit PNG or TIFF comes
  back 16-bit, a grey photo grey (filled in three channels, averaged back into one:
  no colour tint), alpha unchanged; known pixels bit for bit (but in JPEG). Written
  atomically: a file in `out` is complete or absent. An output never replaces a mask
  file, nor its own photo unless ``overwrite=True``.
- **Resume**: a photo whose output exists is done and skipped, so a run that was
  interrupted (a crash, Ctrl-C) continues where it stopped; ``overwrite=True``
  redoes every photo. A file named as another photo's output (``a_filled.jpg`` beside
  ``a.jpg`` with ``suffix="_filled"``) is taken for that output, not for a photo.
- **Bad photos**: a photo without its mask (or with two), a mask of another size, an
  unreadable photo or mask. By default the first one stops the run with a
  `PhotoError` naming it (missing masks are found before any work); the photos
  written before it stay. With ``skip_bad=True`` the run goes on and the report
  lists them.

Photos of one size that follow each other go through `inpaint` together (up to
`GROUP_PHOTOS` photos and `GROUP_PIXELS` pixels per call), so that the windows of a
one-mask run, which have the same layout in every photo, share model calls. Each
photo's output equals ``inpaint(model, photo, its_mask, ...)`` in the photo's form
(`inpaint_file` does one photo). A mask over 90 % hole warns (`inpaint`).

Example:
    >>> from inpaint_tf import pretrained
    >>> from inpaint_tf.inference import inpaint_folder
    >>> model = pretrained("photo_unet")                                  # doctest: +SKIP
    >>> report = inpaint_folder(model, "scans/", mask="dust.png", out="out/")  # doctest: +SKIP
    >>> report = inpaint_folder(model, "frames/*.jpg", masks="masks/",  # doctest: +SKIP
    ...                         out="filled/", suffix="_filled", skip_bad=True)
    >>> print(report.summary())                                           # doctest: +SKIP
    wrote 118 photos to filled; 2 failed
    >>> report.failed                                                     # doctest: +SKIP
    [(PosixPath('frames/f0007.jpg'), "no mask named 'f0007.*' in masks/")]
"""

from __future__ import annotations

import dataclasses
import glob
import os
import queue
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from inpaint_tf._validation import as_binary_masks, check_positive_int
from inpaint_tf.data.image_files import (
    IMAGE_SUFFIXES,
    model_input,
    read_image_as_is,
    write_image,
)
from inpaint_tf.inference.inpainting import MostlyHoleWarning, inpaint, warn_if_mostly_hole
from inpaint_tf.masks.sets import load_mask_image

GROUP_PHOTOS = 16  # photos of one size per `inpaint` call, at most
GROUP_PIXELS = 1 << 22  # ... and pixels per call (one larger photo goes alone)
_LISTED = 5  # names shown in one error line, at most
_END = object()


class PhotoError(ValueError):
    """A photo that cannot be inpainted: unreadable, without its mask, or with a mask of
    another size. `photo` is its path, `reason` what is wrong (without the path)."""

    def __init__(self, photo, reason: str, more: int = 0):
        self.photo, self.reason = Path(photo), reason
        extra = f" (and {more} more such {_photos(more, count_shown=False)})" if more else ""
        super().__init__(f"{photo}: {reason}{extra}")


@dataclasses.dataclass(frozen=True)
class PhotoJob:
    """One photo to inpaint: its file, its own mask file (None: the run's one mask) and
    the output file."""

    photo: Path
    mask: Path | None
    output: Path


@dataclasses.dataclass
class FolderReport:
    """What a folder run did: `written` (output files, in the order written), `done`
    (photos whose output was there already, skipped) and `failed` ((photo, reason)
    pairs, with ``skip_bad=True``)."""

    out: Path
    written: list[Path] = dataclasses.field(default_factory=list)
    done: list[Path] = dataclasses.field(default_factory=list)
    failed: list[tuple[Path, str]] = dataclasses.field(default_factory=list)

    def summary(self) -> str:
        """One line: what was written, skipped and failed."""
        line = f"wrote {_photos(len(self.written))} to {self.out}"
        if self.done:
            line += f"; {len(self.done)} already done, skipped"
        if self.failed:
            line += f"; {len(self.failed)} failed"
        return line


def list_photos(images) -> list[Path]:
    """The photo files of `images`: a folder (its image files, sorted, hidden ones
    left out), a glob pattern (``**`` recurses) or a file, or a list of files.

    Raises:
        FileNotFoundError: a folder, file or listed file that does not exist.
        ValueError: no image file found.

    Example:
        >>> list_photos("scans/*.tif")                                    # doctest: +SKIP
    """
    if isinstance(images, (str, os.PathLike)):
        text = os.path.expanduser(str(images))
        if glob.has_magic(text):
            found = [Path(p) for p in sorted(glob.glob(text, recursive=True))]
            photos = [p for p in found if _is_image_file(p)]
            if not photos:
                raise ValueError(f"No image files ({', '.join(IMAGE_SUFFIXES)}) match "
                                 f"{images}")
            return photos
        path = Path(text)
        if not path.exists():
            raise FileNotFoundError(f"Photo folder or file not found: {images}")
        if path.is_file():
            return [path]
        photos = sorted(p for p in path.iterdir() if _is_image_file(p))
        if not photos:
            raise ValueError(f"No image files ({', '.join(IMAGE_SUFFIXES)}) found in {path}")
        return photos
    photos = [Path(p) for p in images]
    if not photos:
        raise ValueError("`images` is an empty list: give a folder, a glob pattern or files")
    for path in photos:
        if not path.is_file():
            raise FileNotFoundError(f"Photo not found: {path}")
    return list(dict.fromkeys(photos))


def _is_image_file(path: Path) -> bool:
    return (path.is_file() and not path.name.startswith(".")
            and path.suffix.lower() in IMAGE_SUFFIXES)


def _masks_by_stem(folder) -> dict[str, list[Path]]:
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(f"Mask folder not found: {folder}")
    found: dict[str, list[Path]] = {}
    for file in sorted(path.iterdir()):
        if _is_image_file(file):
            found.setdefault(file.stem, []).append(file)
    return found


def _photos(count: int, *, count_shown: bool = True) -> str:
    word = "photo" if count == 1 else "photos"
    return f"{count} {word}" if count_shown else word


def _size(shape) -> str:
    return f"{shape[0]}x{shape[1]}"


def _first(names: list, count: int = _LISTED) -> str:
    shown = ", ".join(str(n) for n in names[:count])
    return shown + (f" and {len(names) - count} more" if len(names) > count else "")


@dataclasses.dataclass
class FolderPlan:
    """A checked folder run (`plan_folder`): the photos to do, those done already, the
    ones known to fail before reading (missing masks, with ``skip_bad=True``), and
    the run's one mask. `run` does it."""

    jobs: list[PhotoJob]
    done: list[Path]
    failed: list[tuple[Path, str]]
    out: Path
    mask: np.ndarray | None = None  # (H, W, 1) uint8, 1 = hole: the one mask
    mask_name: str | None = None
    skip_bad: bool = False

    def run(self, model, *, verbose: int = 1, prefetch: int = 2, **options) -> FolderReport:
        """Inpaints the planned photos with `model` and writes them.

        Args:
            model: what `inpaint_tf.inference.inpainting.inpaint` takes (a Keras
                model, or an exported file from `inpaint_tf.serving.load_exported`).
            verbose: 0 silent, 1 a progress bar (rate, time left), 2 a line per step.
            prefetch: groups of photos read ahead (and finished photos waiting to be
                written), at most.
            **options: `inpaint`'s options (``windows``, ``context``,
                ``window_size``, ``batch_size``, ``multiple``).

        Returns:
            `FolderReport`.

        Raises:
            PhotoError: a bad photo (unless ``skip_bad``); the photos written before
                it stay, and a re-run resumes.
        """
        prefetch = check_positive_int(prefetch, "prefetch")
        if verbose not in (0, 1, 2):
            raise ValueError(f"`verbose` must be 0, 1 or 2. Received: verbose={verbose!r}")
        report = FolderReport(self.out, done=list(self.done), failed=list(self.failed))
        progress = _Progress(len(self.jobs), verbose, len(self.done))
        if not self.jobs:
            progress.close()
            return report
        if self.mask is not None:  # named once, not once per photo
            warn_if_mostly_hole(self.mask, f"the mask {self.mask_name}")
        stop = threading.Event()
        groups: queue.Queue = queue.Queue(maxsize=prefetch)
        reader = threading.Thread(target=self._read, args=(groups, stop), daemon=True,
                                  name="inpaint_folder_reader")
        writer = _Writer(prefetch)
        reader.start()
        writer.start()
        try:
            while (group := groups.get()) is not _END:
                if isinstance(group, BaseException):
                    raise group
                if group[0].error is not None:
                    if not self.skip_bad:
                        raise PhotoError(group[0].job.photo, group[0].error)
                    report.failed.append((group[0].job.photo, group[0].error))
                    progress.advance(1, failed=1)
                    continue
                for item in group:
                    if item.job.mask is not None:
                        warn_if_mostly_hole(item.mask, f"the mask {item.job.mask}")
                with warnings.catch_warnings():  # named above, not by index in the group
                    warnings.simplefilter("ignore", MostlyHoleWarning)
                    filled = inpaint(model, np.stack([item.image for item in group]),
                                     np.stack([item.mask for item in group]), **options)
                for item, result in zip(group, filled):
                    writer.put(item.job.output, result, item.pixels)
                progress.advance(len(group))
        finally:
            stop.set()
            writer.finish()  # what the model finished is written, whatever happened
            reader.join()
            report.written = writer.written
            progress.close()
        if writer.error is not None:
            raise writer.error
        return report

    def _load(self, job: PhotoJob) -> _Loaded:
        try:
            pixels = read_image_as_is(job.photo)
        except ValueError as error:
            return _Loaded(job, error="cannot be read: " + str(error).removeprefix(
                f"Cannot read image file {job.photo}: "))
        image = model_input(pixels)
        if job.mask is None:
            mask = self.mask
            if mask.shape[:2] != image.shape[:2]:
                return _Loaded(job, error=f"the photo is {_size(image.shape)} but the mask "
                                          f"{self.mask_name} is {_size(mask.shape)}")
        else:
            try:
                mask = load_mask_image(job.mask)
            except (ValueError, FileNotFoundError):
                return _Loaded(job, error=f"its mask {job.mask} cannot be read: empty, "
                                          "corrupt or not an image")
            if mask.shape[:2] != image.shape[:2]:
                return _Loaded(job, error=f"the photo is {_size(image.shape)} but its mask "
                                          f"{job.mask} is {_size(mask.shape)}")
        return _Loaded(job, image=image, mask=mask, pixels=pixels)

    def _read(self, groups: queue.Queue, stop: threading.Event) -> None:
        """The reader thread: consecutive photos of one size, read with their masks,
        as groups; a bad photo alone (after the group before it)."""

        def put(entry) -> bool:
            while not stop.is_set():
                try:
                    groups.put(entry, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        group, pixels = [], 0
        try:
            for job in self.jobs:
                if stop.is_set():
                    return
                item = self._load(job)
                if item.error is not None:
                    if (group and not put(group)) or not put([item]):
                        return
                    group, pixels = [], 0
                    continue
                size = item.image.shape[0] * item.image.shape[1]
                if group and (item.image.shape != group[0].image.shape
                              or item.image.dtype != group[0].image.dtype
                              or len(group) >= GROUP_PHOTOS or pixels + size > GROUP_PIXELS):
                    if not put(group):
                        return
                    group, pixels = [], 0
                group.append(item)
                pixels += size
            if group and not put(group):
                return
        except BaseException as error:  # noqa: BLE001 - handed to the main thread
            put(error)
        put(_END)


@dataclasses.dataclass
class _Loaded:
    job: PhotoJob
    image: np.ndarray | None = None  # what `inpaint` takes
    mask: np.ndarray | None = None
    error: str | None = None
    pixels: np.ndarray | None = None  # as stored: the form the output is written in


class _Writer(threading.Thread):
    """The writer thread: writes finished photos in order; after an error it drops the
    rest (the main thread raises the error)."""

    def __init__(self, depth: int):
        super().__init__(daemon=True, name="inpaint_folder_writer")
        self.pending: queue.Queue = queue.Queue(maxsize=depth)
        self.written: list[Path] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        while (entry := self.pending.get()) is not None:
            if self.error is None:
                try:
                    write_image(*entry)
                    self.written.append(entry[0])
                except BaseException as error:  # noqa: BLE001 - raised by the main thread
                    self.error = error

    def put(self, output: Path, filled: np.ndarray, like: np.ndarray) -> None:
        if self.error is not None:
            raise self.error
        self.pending.put((output, filled, like))

    def finish(self) -> None:
        self.pending.put(None)
        self.join()


class _Progress:
    """A progress bar with the rate and the time left (verbose=1), or a line per step
    (verbose=2), on stdout."""

    WIDTH = 24

    def __init__(self, total: int, verbose: int, done: int = 0):
        self.total, self.verbose, self.count, self.failed = total, verbose, 0, 0
        self.started = time.monotonic()
        if verbose and done:
            print(f"{_photos(done)} already done, skipped", flush=True)

    def _line(self) -> str:
        elapsed = time.monotonic() - self.started
        rate = self.count / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.count) / rate if rate > 0 else float("nan")
        filled = self.WIDTH * self.count // max(self.total, 1)
        bar = "=" * filled + (">" if filled < self.WIDTH else "") + "." * (
            self.WIDTH - filled - 1)
        failed = f", {self.failed} failed" if self.failed else ""
        tail = (f"{_clock(left)} left" if self.count < self.total
                else f"{_clock(elapsed)} in all")
        return (f"{self.count}/{self.total} [{bar[:self.WIDTH]}] {rate:.2f} photos/s, "
                f"{tail}{failed}")

    def advance(self, count: int, failed: int = 0) -> None:
        self.count += count
        self.failed += failed
        if self.verbose == 1:
            sys.stdout.write("\r" + self._line())
            sys.stdout.flush()
        elif self.verbose == 2:
            print(self._line(), flush=True)

    def close(self) -> None:
        if self.verbose == 1 and self.count:
            sys.stdout.write("\n")
            sys.stdout.flush()


def _clock(seconds: float) -> str:
    if not np.isfinite(seconds):
        return "--:--"
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _one_mask(mask) -> tuple[np.ndarray, str]:
    if isinstance(mask, (str, os.PathLike)):
        return load_mask_image(mask), str(mask)
    array = np.asarray(mask)
    return as_binary_masks(array[None], name="mask")[0].astype(np.uint8), "given"


def plan_folder(images, *, mask=None, masks=None, out, suffix: str = "",
                overwrite: bool = False, skip_bad: bool = False) -> FolderPlan:
    """Lists and checks a folder run before any model runs: the photos, their masks and
    outputs, the ones done already. `inpaint_folder` is ``plan_folder(...).run(model)``.

    Args: as `inpaint_folder`.

    Returns:
        `FolderPlan`.

    Raises:
        ValueError: neither or both of `mask` and `masks`; an output that would
            replace a photo (without ``overwrite``) or a mask file, or two photos
            with one output name; an output format OpenCV cannot write.
        PhotoError: photos without a mask, or with two (unless ``skip_bad``).
        FileNotFoundError: a missing folder, mask or photo.

    Example:
        >>> plan = plan_folder("scans/", mask="dust.png", out="restored/")  # doctest: +SKIP
        >>> len(plan.jobs), len(plan.done)                                # doctest: +SKIP
    """
    import cv2

    if (mask is None) == (masks is None):
        raise ValueError("Give one mask for every photo (`mask`) or a folder of masks "
                         f"(`masks`), not {'both' if mask is not None else 'neither'}")
    if not isinstance(suffix, str) or any(c in suffix for c in "/\\"):
        raise ValueError(f"`suffix` must be a string without slashes. Received: "
                         f"suffix={suffix!r}")
    photos = list_photos(images)
    out = Path(out).expanduser()
    if out.exists() and not out.is_dir():
        raise ValueError(f"`out` must be a folder. Received a file: {out}")
    one, name, by_stem, protected = None, None, {}, set()
    if masks is None:
        one, name = _one_mask(mask)
        if isinstance(mask, (str, os.PathLike)):
            protected.add(Path(mask).resolve())
            photos = [p for p in photos if p.resolve() != Path(mask).resolve()]
    else:
        by_stem = _masks_by_stem(masks)
        protected = {p.resolve() for found in by_stem.values() for p in found}
        shared = [p for p in photos if p.resolve() in protected]
        if shared:
            raise ValueError(f"The mask folder {masks} also holds the photos ({_first(shared)}"
                             "): put the masks in a folder of their own")
    outputs = {photo: out / f"{photo.stem}{suffix}{photo.suffix}" for photo in photos}
    taken = {outputs[p].resolve(): p for p in photos}
    # A photo named as another photo's output is that output (of an earlier run).
    photos = [p for p in photos if taken.get(p.resolve(), p) == p]
    _check_outputs(photos, outputs, protected, overwrite, cv2)

    jobs, done, failed = [], [], []
    for photo in photos:
        if not overwrite and outputs[photo].exists():
            done.append(photo)
            continue
        own = None
        if masks is not None:
            found = by_stem.get(photo.stem, [])
            if len(found) != 1:
                failed.append((photo, f"no mask named '{photo.stem}.*' in {masks}" if not found
                               else f"{len(found)} masks named '{photo.stem}.*' in {masks}: "
                                    f"{_first([f.name for f in found])}"))
                continue
            own = found[0]
        jobs.append(PhotoJob(photo, own, outputs[photo]))
    if failed and not skip_bad:
        raise PhotoError(*failed[0], more=len(failed) - 1)
    return FolderPlan(jobs, done, failed, out, one, name, bool(skip_bad))


def _check_outputs(photos, outputs, protected, overwrite, cv2) -> None:
    seen: dict[Path, Path] = {}
    for photo in photos:
        target = outputs[photo].resolve()
        if target in seen:
            raise ValueError(f"{seen[target]} and {photo} would both be written to "
                             f"{outputs[photo]}: give them different names")
        seen[target] = photo
        if target in protected:
            raise ValueError(f"The output {outputs[photo]} would replace a mask file: give "
                             "another `out` or a `suffix`")
        if target == photo.resolve() and not overwrite:
            raise ValueError(f"The output {outputs[photo]} would replace its photo: give "
                             "another `out` or a `suffix`, or pass overwrite=True")
    for extension in sorted({photo.suffix.lower() for photo in photos}):
        if not cv2.haveImageWriter(f"x{extension}"):
            raise ValueError(f"Cannot write {extension} images with this OpenCV build")


def inpaint_folder(model, images, *, mask=None, masks=None, out, suffix: str = "",
                   overwrite: bool = False, skip_bad: bool = False, verbose: int = 1,
                   prefetch: int = 2, **options) -> FolderReport:
    """Inpaints every photo of a folder, a glob pattern or a list, with one mask or a
    mask per photo, into the folder `out` (the rules: this module's docstring).

    Args:
        model: what `inpaint` takes (a Keras model, a released model from
            `inpaint_tf.pretrained`, an exported file from `load_exported`).
        images: a folder, a glob pattern (``"photos/**/*.jpg"``), a file, or a list of
            files; photos of any sizes.
        mask: one mask for every photo: a mask image file (non-zero = hole) or an
            array (H, W[, 1]) with 1 = hole. A photo of another size fails.
        masks: a folder of masks, the mask of ``a.jpg`` named ``a.*``.
        out: the output folder (created).
        suffix: added to each output's name (``"_filled"``: ``a_filled.jpg``).
        overwrite: redo photos whose output exists, and allow an output over its
            own photo (``out`` the photos' folder and no suffix).
        skip_bad: go on past bad photos and list them in the report (default: the
            first one raises `PhotoError`).
        verbose: 0 silent, 1 a progress bar with the rate and the time left, 2 a
            line per step (logs).
        prefetch: groups of photos read ahead, at most.
        **options: `inpaint`'s options (``windows``, ``context``, ``window_size``,
            ``batch_size``).

    Returns:
        `FolderReport`: outputs written, photos done already, failures.

    Raises:
        PhotoError: a bad photo, without ``skip_bad``.
        ValueError, FileNotFoundError: as `plan_folder`.

    Example:
        >>> report = inpaint_folder(pretrained("photo_unet"),  # doctest: +SKIP
        ...                         "scans/", mask="dust.png", out="restored/")
        >>> report.summary()                                              # doctest: +SKIP
        'wrote 120 photos to restored'
    """
    plan = plan_folder(images, mask=mask, masks=masks, out=out, suffix=suffix,
                       overwrite=overwrite, skip_bad=skip_bad)
    return plan.run(model, verbose=verbose, prefetch=prefetch, **options)


def inpaint_file(model, image, mask, out, **options) -> int:
    """Inpaints one image file (8 or 16 bits, grey or colour, alpha) with a mask file
    (non-zero = hole) into the file `out`, in the photo's form as far as `out`'s
    format holds it (`write_image`), as `inpaint_folder` writes each photo.

    Args: `model` and ``**options`` as `inpaint`; `image`, `mask`, `out`: paths.

    Returns:
        The number of hole pixels filled.

    Raises:
        FileNotFoundError: no image or mask file.
        ValueError: an unreadable file, a mask of another size, or an output format
            OpenCV cannot write (checked before the model runs).

    Example:
        >>> inpaint_file(model, "scan.tif", "dust.png", "out.tif")    # doctest: +SKIP
        5120
    """
    import cv2

    # Checked first: OpenCV would print its own warning for a missing file, and raise
    # its own error for an unknown output format only after the model has run.
    if not os.path.isfile(image):
        raise FileNotFoundError(f"Image not found: {image}")
    if not cv2.haveImageWriter(str(out)):
        raise ValueError(f"Cannot write {out}: use a .png, .tif or .jpg name")
    pixels = read_image_as_is(image)
    holes = load_mask_image(mask, size=pixels.shape[:2])
    write_image(out, inpaint(model, model_input(pixels), holes, **options), like=pixels)
    return int(holes.sum())
