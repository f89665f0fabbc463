"""CIFAR-10 with the study's split, from a download or a local copy.

The study's split: validation = the first 10,000 images of the official
training set, training = the remaining 40,000 (in order), test = the official
10,000 test images.

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
    >>> from inpaint_tf import load_cifar10
    >>> split = load_cifar10("~/data/cifar10.npz")           # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import os
import pickle
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from inpaint_tf import _io
from inpaint_tf._validation import check_positive_int
from inpaint_tf.data.image_files import IMAGE_SUFFIXES
from inpaint_tf.data.splits import Split, Subset

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")
"""CIFAR-10's class names, in label order."""
VALIDATION_SIZE = 10_000
"""How many of the first training images form the study's validation set."""
TREE_SPLIT_SEED = 0
"""Seed of the permutation that orders a class-folder tree's training images."""


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
