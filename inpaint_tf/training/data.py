"""The data a config trains and is scored on: the CIFAR-10 split, or a folder of photos.

``data.kind = "cifar10"`` (the study's): the whole split in memory, the training
images batched by `inpaint_tf.data.make_dataset`.

``data.kind = "photos"``: the photos under ``data.source`` (or
``$INPAINT_TF_PHOTOS``; a folder, searched recursively). ``data.held_out_photos`` of
them, chosen with a fixed seed, are kept out of training. Their seeded crops are
the validation images and the test images (other seeds); both sets are drawn at
scales from the same range as training. The other photos are scanned once, which
refuses test photos (`inpaint_tf.data.photos.scan_photos`). They are then
streamed as random crops by `inpaint_tf.data.photos.make_photo_dataset`. An epoch
is ``training.steps_per_epoch`` batches (0 = one crop per photo).

Example:
    >>> data = load_training_data(load_config("photo_unet"))          # doctest: +SKIP
    >>> data.input_shape                                               # doctest: +SKIP
    (128, 128, 3)
"""

from __future__ import annotations

import math
import os
from typing import NamedTuple

import numpy as np

from inpaint_tf._checksums import image_checksum
from inpaint_tf.configs import ExperimentConfig
from inpaint_tf.data import (
    Split,
    Subset,
    cifar10_source_label,
    full_pass_steps,
    load_cifar10,
    make_dataset,
)
from inpaint_tf.data.photos import (
    fixed_crops,
    list_photos,
    make_photo_dataset,
    photo_scale_masks,
    scan_photos,
)
from inpaint_tf.masks import eval_masks

HOLD_OUT_SEED = 0  # which photos are held out: fixed, like the study's CIFAR-10 split
VALIDATION_CROP_SEED, TEST_CROP_SEED = 1, 2


class TrainingData(NamedTuple):
    """A config's data: validation and test images in memory (`split`), the training
    images (CIFAR-10: ``split.train``) or photo files (`train_files`), and labels for
    the run record."""

    split: Split
    train_files: list[str] | None
    input_shape: tuple[int, int, int]
    source: str
    train_checksum: str

    @property
    def is_photos(self) -> bool:
        return self.train_files is not None


def mask_canvas(config: ExperimentConfig) -> tuple[int, int] | None:
    """The (low, high) canvas sides photo masks are drawn at, or None (at the image size)."""
    canvas = (config.data.mask_canvas_min, config.data.mask_canvas_max)
    return None if config.data.kind != "photos" or canvas == (0, 0) else canvas


def fixed_masks(config: ExperimentConfig, kind: str, n: int, seed: int, height: int,
                width: int) -> np.ndarray:
    """A fixed mask set for a config's validation or test images: `eval_masks`, or for a
    photos config with a mask canvas, masks at a photo's size cut around a hole
    (`photo_scale_masks`, seeded by `seed`), as its training crops get them."""
    canvas = mask_canvas(config)
    if canvas is None:
        return eval_masks(kind, n, seed, height, width)
    return photo_scale_masks(kind, n, np.random.default_rng(seed), height, canvas)


def photo_source(config: ExperimentConfig) -> str:
    """The photo folder of a photos config: ``data.source``, else ``$INPAINT_TF_PHOTOS``."""
    source = config.data.source or os.environ.get("INPAINT_TF_PHOTOS", "")
    if not source:
        raise ValueError("A photos config needs its photos: set `data.source`, pass --data "
                         "DIR, or set INPAINT_TF_PHOTOS=DIR (docs/training.md, 'Training "
                         "on photos')")
    return source


def _held_out(files: list[str], count: int) -> tuple[list[str], list[str]]:
    if len(files) <= count:
        raise ValueError(f"The photo source has {len(files)} photos, not more than "
                         f"data.held_out_photos={count}")
    chosen = set(np.random.default_rng(HOLD_OUT_SEED).choice(len(files), count, replace=False))
    kept = [f for i, f in enumerate(files) if i not in chosen]
    return kept, [f for i, f in enumerate(files) if i in chosen]


def held_out_photos(config: ExperimentConfig) -> list[str]:
    """The photo files a photos config keeps out of training (``data.held_out_photos`` of
    its source's photos, chosen by a fixed seed): its validation crops come from them, and
    recipes are compared on them at full size, never on the test sets.

    Example:
        >>> from inpaint_tf.configs import load_config
        >>> files = held_out_photos(load_config("experiments/photo_unet.toml"))  # doctest: +SKIP
    """
    if config.data.kind != "photos":
        raise ValueError(f"Config {config.name!r} trains on CIFAR-10, not on photos: it holds "
                         "no photos out (data.kind must be 'photos')")
    return _held_out(list_photos(photo_source(config)), config.data.held_out_photos)[1]


def _crop_set(files, config: ExperimentConfig, n: int, seed: int) -> np.ndarray:
    data = config.data
    crops = fixed_crops(files, data.crop_size, math.ceil(n / len(files)),
                        scale_range=(data.min_scale, data.max_scale), seed=seed)
    return crops[:n]


def photo_split(config: ExperimentConfig) -> tuple[Split, list[str]]:
    """The held-out crops of a photos config as a `Split` (no training images), and
    the photo files left for training (not yet scanned)."""
    files = list_photos(photo_source(config))
    train_files, held_out = _held_out(files, config.data.held_out_photos)
    validation = _crop_set(held_out, config, config.data.validation_images,
                           VALIDATION_CROP_SEED)
    test = _crop_set(held_out, config, config.data.test_images, TEST_CROP_SEED)
    subsets = [np.zeros((0, *test.shape[1:]), np.uint8), validation, test]
    return Split(*(Subset(x, np.zeros(len(x), np.int64)) for x in subsets)), train_files


def scoring_split(config: ExperimentConfig, split: Split | None = None) -> Split:
    """The split a config's runs are scored on: `split` when given, the held-out photo
    crops of a photos config, else the CIFAR-10 copy ``data.source`` names."""
    if split is not None:
        return split
    if config.data.kind == "photos":
        return photo_split(config)[0]
    return load_cifar10(config.data.source or None)


def load_training_data(config: ExperimentConfig, split: Split | None = None, *,
                       progress: bool = False) -> TrainingData:
    """Everything a run of `config` needs to train and score (see the module docstring).

    `split` (e.g. synthetic images) replaces ``data.source`` for a CIFAR-10 config.
    """
    if config.data.kind != "photos":
        label = ("images passed to train()" if split is not None
                 else cifar10_source_label(config.data.source or None))
        split = scoring_split(config, split)
        return TrainingData(split, None, split.train.images.shape[1:], label,
                            image_checksum(split.train.images))
    source = photo_source(config)
    split, train_files = photo_split(config)
    scan = scan_photos(train_files, progress=progress)
    size = config.data.crop_size
    return TrainingData(split, scan.files, (size, size, 3), os.path.abspath(source),
                        scan.checksum)


def epoch_steps(config: ExperimentConfig, data: TrainingData) -> int:
    """``training.steps_per_epoch``, or a full pass: every image (every photo once)."""
    count = len(data.train_files) if data.is_photos else len(data.split.train.images)
    return config.training.steps_per_epoch or max(1, full_pass_steps(
        count, config.training.batch_size))


def training_dataset(config: ExperimentConfig, data: TrainingData, *, start_epoch: int,
                     epochs: int, mask_as_sample_weight: bool = False, input_context=None):
    """The config's training batches from `start_epoch` to `epochs`: global batches of
    ``training.batch_size``, or with a `tf.distribute.InputContext` this worker's
    share of each, one batch per local replica (`inpaint_tf.data.pipeline.Shard`)."""
    common = dict(batch_size=config.training.batch_size, seed=config.training.seed,
                  fill_value=config.data.fill_value, start_epoch=start_epoch, epochs=epochs,
                  steps_per_epoch=epoch_steps(config, data), real_masks=config.is_gan,
                  mask_as_sample_weight=mask_as_sample_weight, input_context=input_context)
    if data.is_photos:
        return make_photo_dataset(
            data.train_files, config.data.crop_size, config.data.masks,
            scale_range=(config.data.min_scale, config.data.max_scale),
            mask_canvas=mask_canvas(config), **common)
    return make_dataset(data.split.train.images, config.data.masks, **common)
