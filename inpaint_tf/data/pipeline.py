"""tf.data pipelines of masked images: training batches drawn as a pure function of
(seed, epoch, step), and fixed evaluation batches.

Under `tf.distribute`, each input pipeline (one per worker host; on a TPU, one per
TPU host) yields only its share of every global batch (`Shard`, from the strategy's
`tf.distribute.InputContext`): its rows of the batch, split into one batch per
local replica. It reads only the images of its rows, so within an epoch no two
workers train on the same image.

Example:
    >>> from inpaint_tf import make_dataset
    >>> train = make_dataset(split.train.images, "irregular", batch_size=32)  # doctest: +SKIP
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from inpaint_tf._validation import (
    as_binary_masks,
    as_float_images,
    check_non_negative_int,
    check_positive_int,
)
from inpaint_tf.compositing import fill_holes
from inpaint_tf.masks import check_mask_kind, generate_masks


def full_pass_steps(num_images: int, batch_size: int, drop_remainder: bool = True) -> int:
    """Number of batches in one pass over `num_images`."""
    if drop_remainder:
        return num_images // batch_size
    return -(-num_images // batch_size)


def make_dataset(images, mask_kind: str = "random_box", *, batch_size: int = 32,
                 seed: int = 0, fill_value: float = 0.0, shuffle: bool = True,
                 start_epoch: int = 0, epochs: int | None = None,
                 steps_per_epoch: int | None = None, real_masks: bool = False,
                 mask_as_sample_weight: bool = False, input_context=None):
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
        input_context: a `tf.distribute.InputContext`: yield this pipeline's share
            of each global batch of `batch_size`, one batch per local replica
            (`Shard`). The shares of all pipelines are exactly the batch one
            process would train on: the images of their rows, with the masks of
            those rows (every pipeline draws the batch's masks, which are cheap,
            and keeps its rows').

    Example:
        >>> ds = make_dataset(x_train, "irregular", batch_size=32)       # doctest: +SKIP
        >>> model.fit(ds, epochs=20, steps_per_epoch=len(x_train) // 32)  # doctest: +SKIP
        >>> strategy.distribute_datasets_from_function(                  # doctest: +SKIP
        ...     lambda context: make_dataset(x_train, batch_size=32, input_context=context))
    """
    check_mask_kind(mask_kind)
    batch_size = check_positive_int(batch_size, "batch_size")
    # NumPy seeds must be non-negative; caught here rather than at the first batch.
    check_non_negative_int(seed, "seed")
    check_non_negative_int(start_epoch, "start_epoch")
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
    shard = input_shard(input_context, batch_size)
    first, rows = shard.rows(batch_size)

    order = EpochOrder(count, seed, shuffle)

    def make_batch(epoch: int, step: int):
        rng = batch_rng(seed, epoch, step)
        masks = generate_masks(mask_kind, batch_size, rng, height, width)
        extra = generate_masks(mask_kind, batch_size, rng, height, width) if real_masks \
            else masks[:0]
        mine = slice(first, first + rows)
        return (source[order.indices(epoch, step * batch_size + first, rows)], masks[mine],
                extra[mine])

    return streamed_batches(make_batch, (rows, height, width), steps,
                            fill_value=fill_value, start_epoch=start_epoch, epochs=epochs,
                            real_masks=real_masks,
                            mask_as_sample_weight=mask_as_sample_weight, pieces=shard.pieces)


class Shard(NamedTuple):
    """The share of every global batch that one input pipeline yields.

    Pipeline `index` of `count` takes rows ``index * B / count`` up to the next
    pipeline's of each global batch of B, and yields them as `pieces` consecutive
    batches, one per local replica (`tf.distribute` hands a pipeline's
    consecutive elements to its replicas in turn).

    Example:
        >>> Shard(1, 2, 2).rows(16)
        (8, 8)
    """

    index: int = 0
    count: int = 1
    pieces: int = 1

    def rows(self, batch_size: int) -> tuple[int, int]:
        """(first row, number of rows) of this pipeline's share of a batch."""
        rows = batch_size // self.count
        return self.index * rows, rows


def input_shard(input_context, batch_size: int) -> Shard:
    """The `Shard` of a `tf.distribute.InputContext` (None: the whole batch, one piece).

    Raises a `ValueError` when the global `batch_size` does not split evenly over
    the strategy's replicas.
    """
    if input_context is None:
        return Shard()
    replicas = input_context.num_replicas_in_sync
    pipelines = input_context.num_input_pipelines
    if batch_size % replicas or replicas % pipelines:
        raise ValueError(f"batch_size is the global batch, split evenly over the {replicas} "
                         f"replicas: it must be a multiple of {replicas}. "
                         f"Received: batch_size={batch_size}")
    return Shard(input_context.input_pipeline_id, pipelines, replicas // pipelines)


class EpochOrder:
    """Which image sits at each position of an epoch, for every streamed dataset.

    Position j of an epoch is element ``j % count`` of the epoch's ``(j //
    count)``-th permutation (seeded by ``(seed, epoch, 0, j // count)``; the
    identity without `shuffle`), so epochs longer than one pass stay a pure function
    of (seed, epoch, step).
    """

    def __init__(self, count: int, seed: int, shuffle: bool = True):
        self.count, self.seed, self.shuffle = count, seed, shuffle
        self.permutation = functools.lru_cache(maxsize=4)(self._permutation)

    def _permutation(self, epoch: int, rep: int) -> np.ndarray:
        if not self.shuffle:
            return np.arange(self.count)
        return np.random.default_rng([self.seed, epoch, 0, rep]).permutation(self.count)

    def indices(self, epoch: int, first: int, size: int) -> np.ndarray:
        """The images at positions ``first .. first + size - 1`` of `epoch`."""
        last = first + size
        reps = range(first // self.count, (last - 1) // self.count + 1)
        chained = np.concatenate([self.permutation(epoch, rep) for rep in reps])
        start = first - reps[0] * self.count
        return chained[start:start + size]


def batch_rng(seed: int, epoch: int, step: int, worker: int | None = None
              ) -> np.random.Generator:
    """The random generator of one batch's masks (and crops): seeded by (seed, epoch,
    step + 1), so no batch's draws depend on another's; with `worker`, (seed, epoch,
    step + 1, worker + 1): one worker's share of the batch, drawn by that worker alone
    (+ 1: NumPy pads seed lists with zeros, so a trailing 0 would repeat the batch's)."""
    key = [seed, epoch, step + 1] + ([] if worker is None else [worker + 1])
    return np.random.default_rng(key)


def streamed_batches(make_batch, shape: tuple[int, int, int], steps: int, *,
                     fill_value: float, start_epoch: int, epochs: int | None,
                     real_masks: bool, mask_as_sample_weight: bool, pieces: int = 1):
    """The `tf.data.Dataset` of training batches that every streamed source shares.

    `make_batch(epoch, step)` returns uint8 images (B, H, W, 3), masks (B, H, W, 1)
    and the extra masks of `real_masks` (empty otherwise), a pure function of its
    arguments; `shape` is (B, H, W). The dataset runs its `steps` per epoch from
    `start_epoch` to `epochs` (forever when None) and yields ``(inputs, images)``,
    or ``(inputs, images, masks)`` with `mask_as_sample_weight`, where inputs holds
    "image" (holes filled with `fill_value`), "mask" and, with `real_masks`,
    "real_mask"; all float32, full batches (the step traces once). With `pieces`,
    each batch is yielded as that many consecutive batches of ``B / pieces``.
    """
    import tensorflow as tf

    def to_example(epoch, step):
        images, masks, extra = tf.numpy_function(
            lambda e, s: make_batch(int(e), int(s)), [epoch, step],
            [tf.uint8, tf.uint8, tf.uint8], stateful=False)
        images = tf.ensure_shape(tf.cast(images, tf.float32) / 255.0, (*shape, 3))
        masks = tf.ensure_shape(tf.cast(masks, tf.float32), (*shape, 1))
        inputs = {"image": fill_holes(images, masks, fill_value), "mask": masks}
        if real_masks:
            inputs["real_mask"] = tf.ensure_shape(tf.cast(extra, tf.float32), (*shape, 1))
        return (inputs, images, masks) if mask_as_sample_weight else (inputs, images)

    last_epoch = np.iinfo(np.int64).max if epochs is None else int(epochs)
    dataset = tf.data.Dataset.range(int(start_epoch), last_epoch).flat_map(
        lambda epoch: tf.data.Dataset.range(steps).map(lambda step: (epoch, step)))
    dataset = dataset.map(to_example, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if pieces > 1:
        dataset = dataset.rebatch(shape[0] // pieces, drop_remainder=True)
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
