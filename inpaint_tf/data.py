"""Data: CIFAR-10 with the study's split, users' image folders, and tf.data pipelines.

The study's split of CIFAR-10: validation = the first 10,000 images of the
official training set, training = the remaining 40,000 (in order), test = the
official 10,000 test images.

Sources for `load_cifar10`, tried in this order:
1. the `source` argument, 2. the ``INPAINT_TF_DATA`` environment variable,
3. ``keras.datasets.cifar10`` (downloads once, needs internet).
A local copy may be the official ``cifar-10-batches-py`` folder, an ``.npz`` with
``x_train, y_train, x_test, y_test`` (the official order), or a class-folder tree
``train/<class>/*.png|jpg`` and ``test/<class>/*``. A tree has no official order:
its images are sorted by class (airplane ... truck) then file name, and the
training images are then permuted with a fixed seed (0) before the first 10,000
become the validation set, so that both subsets hold every class. Decoded trees
are cached (``INPAINT_TF_CACHE``, default ``~/.cache/inpaint_tf``).

Example:
    >>> from inpaint_tf import load_cifar10, make_dataset
    >>> split = load_cifar10("~/data/cifar10.npz")           # doctest: +SKIP
    >>> train = make_dataset(split.train.images, "irregular", batch_size=32)  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import warnings
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from inpaint_tf import _io
from inpaint_tf._validation import as_binary_masks, as_float_images, check_positive_int
from inpaint_tf.masks import check_mask_kind, generate_masks

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")
VALIDATION_SIZE = 10_000
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
TREE_SPLIT_SEED = 0


class Subset(NamedTuple):
    """Images (uint8, N x H x W x 3) and integer labels (N,)."""

    images: np.ndarray
    labels: np.ndarray


class Split(NamedTuple):
    """Training, validation and test subsets; unpacks like `keras.datasets`."""

    train: Subset
    validation: Subset
    test: Subset


# --------------------------------------------------------------------------- CIFAR-10


def load_cifar10(source=None, validation_size: int = VALIDATION_SIZE,
                 cache_dir=None) -> Split:
    """Loads CIFAR-10 with the study's training/validation/test split.

    Args:
        source: path of a local copy (see the module docstring for layouts);
            default ``$INPAINT_TF_DATA``, else a download through Keras.
        validation_size: how many of the first training images form the
            validation set (the study: 10,000).
        cache_dir: where decoded class-folder trees are cached.

    Returns:
        `Split` of uint8 images (N, 32, 32, 3) and int64 labels.

    Raises:
        FileNotFoundError: the source path does not exist.
        ValueError: unknown layout, missing or malformed files (the message names them).
        RuntimeError: no local copy and the download failed (e.g. no internet).

    Example:
        >>> (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_cifar10()  # doctest: +SKIP
    """
    source = _local_source(source)
    if source is None:
        x_train, y_train, x_test, y_test = _download_cifar10()
        permute = False
    else:
        path = Path(source).expanduser()
        x_train, y_train, x_test, y_test, permute = _read_cifar10(path, cache_dir)
    validation_size = check_positive_int(validation_size, "validation_size")
    if len(x_train) <= validation_size:
        raise ValueError(f"The training set has {len(x_train)} images, not more than "
                         f"validation_size={validation_size}.")
    if permute:
        order = np.random.default_rng(TREE_SPLIT_SEED).permutation(len(x_train))
        x_train, y_train = x_train[order], y_train[order]
    return Split(
        train=Subset(x_train[validation_size:], y_train[validation_size:]),
        validation=Subset(x_train[:validation_size], y_train[:validation_size]),
        test=Subset(x_test, y_test),
    )


def _local_source(source):
    """The local copy to read: `source`, else ``$INPAINT_TF_DATA``, else None (download)."""
    return source if source is not None else os.environ.get("INPAINT_TF_DATA") or None


def cifar10_source_label(source=None) -> str:
    """Where `load_cifar10(source)` reads from, for run records: a path or the download.

    Example:
        >>> cifar10_source_label("/data/cifar10.npz")
        '/data/cifar10.npz'
    """
    local = _local_source(source)
    return str(Path(local).expanduser()) if local is not None else "keras.datasets.cifar10"


def _download_cifar10():
    try:
        import keras

        (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    except Exception as error:  # noqa: BLE001 - any failure means "no usable download"
        raise RuntimeError(
            f"CIFAR-10 could not be downloaded ({type(error).__name__}: {error}). Without "
            "internet, point inpaint_tf at a local copy: load_cifar10('/path/to/copy') or "
            "the environment variable INPAINT_TF_DATA=/path/to/copy, where the copy is a "
            "'cifar-10-batches-py' folder, an .npz with x_train, y_train, x_test, y_test, or "
            "a class-folder tree train/<class>/*.png, test/<class>/*.png."
        ) from error
    return _checked_arrays(x_train, y_train, x_test, y_test, "keras.datasets.cifar10")


def _read_cifar10(path: Path, cache_dir):
    if not path.exists():
        raise FileNotFoundError(f"CIFAR-10 source not found: {path}")
    if path.is_file():
        if path.suffix != ".npz":
            raise ValueError(f"Unknown CIFAR-10 file {path}: expected an .npz with x_train, "
                             "y_train, x_test, y_test")
        return (*_read_npz(path), False)
    if (path / "data_batch_1").exists():
        return (*_read_pickle_batches(path), False)
    if (path / "cifar-10-batches-py" / "data_batch_1").exists():
        return (*_read_pickle_batches(path / "cifar-10-batches-py"), False)
    if (path / "train").is_dir() and (path / "test").is_dir():
        return (*_read_class_tree(path, cache_dir), True)
    raise ValueError(
        f"Unknown CIFAR-10 layout in {path}: expected a 'cifar-10-batches-py' folder "
        "(data_batch_1..5, test_batch), an .npz file, or class folders train/<class>/ "
        "and test/<class>/"
    )


def _read_npz(path: Path):
    keys = ("x_train", "y_train", "x_test", "y_test")
    try:
        with np.load(path) as data:
            missing = set(keys) - set(data.keys())
            arrays = None if missing else [data[key] for key in keys]
    # An empty, truncated or non-zip file fails in NumPy (whose "pickled data" advice
    # does not apply here), zipfile or zlib; the message names the file either way.
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error) as error:
        raise ValueError(f"Cannot read {path} as an .npz file: empty, truncated or not an "
                         f".npz archive ({type(error).__name__})") from error
    if missing:
        raise ValueError(f"{path} lacks the arrays {sorted(missing)}")
    return _checked_arrays(*arrays, str(path))


def _read_pickle_batches(folder: Path):
    def read(name):
        file = folder / name
        if not file.is_file():
            raise FileNotFoundError(f"CIFAR-10 batch file missing: {file}")
        try:
            with open(file, "rb") as handle:
                batch = pickle.load(handle, encoding="bytes")
            data = np.asarray(batch[b"data"], np.uint8).reshape(-1, 3, 32, 32)
            labels = np.asarray(batch[b"labels"])
        except Exception as error:  # noqa: BLE001 - report any malformed batch the same way
            raise ValueError(f"Cannot read CIFAR-10 batch {file}: {error}") from error
        return data.transpose(0, 2, 3, 1), labels

    train = [read(f"data_batch_{index}") for index in range(1, 6)]
    x_test, y_test = read("test_batch")
    x_train = np.concatenate([images for images, _ in train])
    y_train = np.concatenate([labels for _, labels in train])
    return _checked_arrays(x_train, y_train, x_test, y_test, str(folder))


def _checked_arrays(x_train, y_train, x_test, y_test, origin: str):
    checked = []
    for name, images, labels in (("train", x_train, y_train), ("test", x_test, y_test)):
        images = np.asarray(images)
        labels = np.asarray(labels).reshape(-1).astype(np.int64)
        if images.ndim != 4 or images.shape[1:] != (32, 32, 3) or images.dtype != np.uint8:
            raise ValueError(f"{origin}: x_{name} must be uint8 of shape (N, 32, 32, 3). "
                             f"Received: shape={images.shape}, dtype={images.dtype}")
        if len(labels) != len(images):
            raise ValueError(f"{origin}: x_{name} has {len(images)} images but y_{name} has "
                             f"{len(labels)} labels")
        if labels.size and (labels.min() < 0 or labels.max() > 9):
            raise ValueError(f"{origin}: y_{name} labels must lie in 0..9")
        checked += [images, labels]
    return tuple(checked)


def _cache_folder(cache_dir) -> Path:
    folder = cache_dir or os.environ.get("INPAINT_TF_CACHE") or "~/.cache/inpaint_tf"
    return Path(folder).expanduser()


def _list_class_tree(root: Path, split: str) -> list[tuple[str, int]]:
    files = []
    for label, name in enumerate(CIFAR10_CLASSES):
        folder = root / split / name
        if not folder.is_dir():
            raise ValueError(f"Class folder missing: {folder} (expected one folder per "
                             f"class: {', '.join(CIFAR10_CLASSES)})")
        names = sorted(entry.name for entry in os.scandir(folder)
                       if entry.is_file() and entry.name.lower().endswith(IMAGE_SUFFIXES))
        if not names:
            raise ValueError(f"Class folder {folder} holds no image files")
        files += [(os.path.join(split, name, file), label) for file in names]
    return files


def _tree_fingerprint(root: Path, files: list[tuple[str, int]]) -> str:
    digest = hashlib.sha256(str(root.resolve()).encode())
    for relative, _ in files:
        stat = os.stat(root / relative)
        digest.update(f"{relative}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:20]


def _read_class_tree(root: Path, cache_dir):
    listings = {split: _list_class_tree(root, split) for split in ("train", "test")}
    fingerprint = _tree_fingerprint(root, listings["train"] + listings["test"])
    cache = _cache_folder(cache_dir) / f"cifar10-tree-{fingerprint}.npz"
    if cache.is_file():
        try:
            with np.load(cache) as data:
                return tuple(data[k] for k in ("x_train", "y_train", "x_test", "y_test"))
        except Exception:  # noqa: BLE001 - a damaged cache is rebuilt, never trusted
            cache.unlink(missing_ok=True)
    arrays = []
    for split in ("train", "test"):
        paths = [root / relative for relative, _ in listings[split]]
        images = _decode_images(paths, expected_size=(32, 32))
        arrays += [images, np.array([label for _, label in listings[split]], np.int64)]
    arrays = _checked_arrays(*arrays, str(root))
    with _io.atomic_path(cache, suffix=".npz") as temporary:
        with open(temporary, "wb") as handle:
            np.savez(handle, **dict(zip(("x_train", "y_train", "x_test", "y_test"), arrays)))
    return arrays


def _read_rgb(path: Path) -> np.ndarray | None:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return None if image is None else np.ascontiguousarray(image[:, :, ::-1])


def _decode_images(paths, expected_size: tuple[int, int]) -> np.ndarray:
    def decode(path):
        raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if raw is None:
            raise ValueError(f"Cannot read image file {path}: empty, corrupt or not an image")
        if raw.ndim != 3 or raw.shape[2] != 3:
            channels = 1 if raw.ndim == 2 else raw.shape[2]
            raise ValueError(f"Image {path} has {channels} channel(s); CIFAR-10 images are RGB")
        if raw.shape[:2] != expected_size:
            raise ValueError(f"Image {path} is {raw.shape[0]}x{raw.shape[1]}; expected "
                             f"{expected_size[0]}x{expected_size[1]}")
        return raw[:, :, ::-1]

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return np.stack(list(pool.map(decode, paths, chunksize=256)))


def synthetic_split(n_train: int = 64, n_validation: int = 16, n_test: int = 16,
                    size: int = 32, seed: int = 0) -> Split:
    """Smooth random images (gradients and blobs) in a `Split`: for smoke runs and tests.

    Not a dataset to learn from; a stand-in so that notebooks and tests run offline
    in seconds.

    Example:
        >>> split = synthetic_split(n_train=8, n_validation=2, n_test=2)
        >>> split.train.images.shape
        (8, 32, 32, 3)
    """
    rng = np.random.default_rng(seed)
    total = n_train + n_validation + n_test
    y, x = np.mgrid[0:size, 0:size] / max(size - 1, 1)
    slopes = rng.uniform(-1, 1, (total, 2, 3))
    offsets = rng.uniform(0.2, 0.8, (total, 1, 1, 3))
    centres = rng.uniform(0.2, 0.8, (total, 2))
    blobs = np.exp(-((y - centres[:, 0, None, None]) ** 2 + (x - centres[:, 1, None, None]) ** 2)
                   / rng.uniform(0.01, 0.08, (total, 1, 1)))
    images = (offsets + 0.3 * slopes[:, 0, None, None, :] * y[..., None]
              + 0.3 * slopes[:, 1, None, None, :] * x[..., None]
              + 0.4 * blobs[..., None] * rng.uniform(-1, 1, (total, 1, 1, 3)))
    images = np.round(255 * np.clip(images, 0, 1)).astype(np.uint8)
    labels = rng.integers(0, 10, total)
    bounds = np.cumsum([0, n_train, n_validation, n_test])
    return Split(*(Subset(images[a:b], labels[a:b]) for a, b in zip(bounds[:-1], bounds[1:])))


# --------------------------------------------------------------------------- image folders


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
        image = _read_rgb(file)
        if image is None:
            if on_error == "raise":
                raise ValueError(f"Cannot read image file {file}: empty, corrupt or not an "
                                 "image (pass on_error='skip' to leave such files out)")
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
    pair = (size, size) if isinstance(size, (int, np.integer)) else size
    if (not isinstance(pair, (tuple, list)) or len(pair) != 2 or any(
            isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1 for v in pair)):
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


# --------------------------------------------------------------------------- pipelines


def fill_holes(images, masks, fill_value: float = 0.0):
    """Returns ``images * (1 - masks) + fill_value * masks`` (NumPy or tensors)."""
    return images * (1.0 - masks) + fill_value * masks


def full_pass_steps(num_images: int, batch_size: int, drop_remainder: bool = True) -> int:
    """Number of batches in one pass over `num_images`."""
    if drop_remainder:
        return num_images // batch_size
    return -(-num_images // batch_size)


def make_dataset(images, mask_kind: str = "random_box", *, batch_size: int = 32,
                 seed: int = 0, fill_value: float = 0.0, shuffle: bool = True,
                 start_epoch: int = 0, epochs: int | None = None,
                 steps_per_epoch: int | None = None, real_masks: bool = False,
                 mask_as_sample_weight: bool = False):
    """A training `tf.data.Dataset` of ``({"image": masked, "mask": mask}, image)``.

    Each epoch draws fresh masks of `mask_kind` and (with `shuffle`) a fresh order,
    both a pure function of ``(seed, epoch, step)``: a run resumed at `start_epoch`
    sees exactly the batches an uninterrupted run would have seen. Images are
    float32 in [0, 1]; holes in "image" hold `fill_value` (the study: 0 for the
    autoencoders, 1 for partial convolution); "mask" is float32 (B, H, W, 1),
    1 = hole. Batches are full (``drop_remainder``), so the step traces once.

    The dataset runs from `start_epoch` to `epochs` (forever when None), each
    epoch `steps_per_epoch` batches (default one pass over the images; more steps
    continue with a fresh permutation): pass the same `steps_per_epoch` to `fit`.

    Args:
        images: uint8 (N, H, W, 3) or float in [0, 1]. Float images are held as
            uint8 (rounded to the nearest 1/255, a quarter of the memory), so the
            batches are the same as for ``np.round(images * 255).astype(np.uint8)``.
            H and W must be at least 8 (the masks' minimum).
        mask_kind: one of `inpaint_tf.masks.MASK_KINDS`.
        batch_size: images per batch.
        seed: seed of masks and order, a non-negative integer.
        fill_value: value written into holes of the input image.
        shuffle: reshuffle every epoch.
        start_epoch, epochs: the epochs this dataset covers.
        steps_per_epoch: batches per epoch (default ``len(images) // batch_size``).
        real_masks: also yield "real_mask", a second independent mask per image
            (the GAN pairs real images with freshly drawn masks).
        mask_as_sample_weight: yield ``(inputs, image, mask)``: Keras passes the
            hole mask to losses and `weighted_metrics` as `sample_weight`, which
            is how the masked losses of `inpaint_tf.losses` see the hole.

    Example:
        >>> ds = make_dataset(x_train, "irregular", batch_size=32)       # doctest: +SKIP
        >>> model.fit(ds, epochs=20, steps_per_epoch=len(x_train) // 32)  # doctest: +SKIP
    """
    import tensorflow as tf

    check_mask_kind(mask_kind)
    batch_size = check_positive_int(batch_size, "batch_size")
    for name, value in (("seed", seed), ("start_epoch", start_epoch)):
        # NumPy seeds must be non-negative; caught here rather than at the first batch.
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"`{name}` must be a non-negative integer. Received: {name}={value!r}")
    source = _as_uint8(images)
    count, height, width = source.shape[:3]
    try:  # a size the mask generators refuse fails now, not inside tf.data later
        generate_masks(mask_kind, 1, 0, height, width)
    except ValueError as error:
        raise ValueError(f"`images` are too small for masks: {error}") from error
    if count < batch_size:
        raise ValueError(f"batch_size={batch_size} is larger than the {count} images given")
    steps = check_positive_int(steps_per_epoch, "steps_per_epoch") if steps_per_epoch \
        else full_pass_steps(count, batch_size)

    @functools.lru_cache(maxsize=4)
    def order(epoch: int, rep: int) -> np.ndarray:
        if not shuffle:
            return np.arange(count)
        return np.random.default_rng([seed, epoch, 0, rep]).permutation(count)

    def batch_indices(epoch: int, step: int) -> np.ndarray:
        # Sample j of an epoch is element j % count of the epoch's (j // count)-th
        # permutation, so epochs longer than one pass stay a pure function of the step.
        first, last = step * batch_size, (step + 1) * batch_size
        reps = range(first // count, (last - 1) // count + 1)
        chained = np.concatenate([order(epoch, rep) for rep in reps])
        start = first - reps[0] * count
        return chained[start:start + batch_size]

    def make_batch(epoch, step):
        epoch, step = int(epoch), int(step)
        indices = batch_indices(epoch, step)
        rng = np.random.default_rng([seed, epoch, step + 1])
        masks = generate_masks(mask_kind, batch_size, rng, height, width)
        extra = generate_masks(mask_kind, batch_size, rng, height, width) if real_masks \
            else masks[:0]
        return source[indices], masks, extra

    def to_example(epoch, step):
        batch, masks, extra = tf.numpy_function(
            make_batch, [epoch, step], [tf.uint8, tf.uint8, tf.uint8], stateful=False)
        batch = tf.ensure_shape(tf.cast(batch, tf.float32) / 255.0,
                                (batch_size, height, width, 3))
        masks = tf.ensure_shape(tf.cast(masks, tf.float32), (batch_size, height, width, 1))
        inputs = {"image": fill_holes(batch, masks, fill_value), "mask": masks}
        if real_masks:
            inputs["real_mask"] = tf.ensure_shape(tf.cast(extra, tf.float32),
                                                  (batch_size, height, width, 1))
        if mask_as_sample_weight:
            return inputs, batch, masks
        return inputs, batch

    last_epoch = np.iinfo(np.int64).max if epochs is None else int(epochs)
    epochs_dataset = tf.data.Dataset.range(int(start_epoch), last_epoch)
    dataset = epochs_dataset.flat_map(
        lambda epoch: tf.data.Dataset.range(steps).map(lambda step: (epoch, step)))
    dataset = dataset.map(to_example, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


def make_eval_dataset(images, masks, *, batch_size: int = 256, fill_value: float = 0.0):
    """A `tf.data.Dataset` of ``({"image": masked, "mask": mask}, image)`` over fixed masks.

    For validation and testing: no shuffling, every image once, last batch partial.
    """
    import tensorflow as tf

    images = as_float_images(images)
    masks = as_binary_masks(masks, like=images)
    batch_size = check_positive_int(batch_size, "batch_size")
    inputs = {"image": fill_holes(images, masks, fill_value), "mask": masks}
    dataset = tf.data.Dataset.from_tensor_slices((inputs, images))
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _as_uint8(images) -> np.ndarray:
    array = np.asarray(images)
    if array.dtype == np.uint8 and array.ndim == 4 and array.shape[-1] == 3 and len(array):
        return array
    floats = as_float_images(array)
    return np.round(floats * 255.0).astype(np.uint8)
