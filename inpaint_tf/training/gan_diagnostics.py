"""What a GAN run's checkpoints say about its adversarial game, on validation images.

For each checkpoint: the discriminator's errors and accuracy on real against
completed images, and the generator's gradient from the hole MSE beside the one from
the weighted adversarial term (`InpaintingGAN.diagnose`), averaged over batches of
the run's validation images with its validation holes; the real images go to the
discriminator with holes of another fixed set, as training pairs them with fresh ones.

Example:
    >>> rows = diagnose_gan_run("runs/exp6", ["runs/exp6/checkpoints/epoch_0010.weights.h5"])
    >>> rows[0]["adversarial_share"]                                     # doctest: +SKIP
    0.087
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inpaint_tf._validation import check_positive_int
from inpaint_tf.compositing import fill_holes
from inpaint_tf.configs import load_config
from inpaint_tf.data import Split
from inpaint_tf.masks import VALIDATION_MASK_SEED
from inpaint_tf.training.building import build_model
from inpaint_tf.training.data import fixed_masks, scoring_split
from inpaint_tf.training.run_folders import RunFolder, restore_checkpoint

# The holes the discriminator sees on real images: a fixed set apart from the
# validation holes (as training draws a fresh mask for each real image).
REAL_MASK_SEED = VALIDATION_MASK_SEED + 1


def diagnostic_batches(config, split: Split, images: int):
    """The first `images` validation images (a whole number of the config's batches) as
    ``(inputs, real)`` float32 batches, holes of the validation set, real masks apart."""
    check_positive_int(images, "images")
    batch = config.training.batch_size
    available = min(images, len(split.validation.images))
    count = available // batch * batch
    if count == 0:
        raise ValueError(f"Diagnostics need at least one batch of {batch} validation images; "
                         f"{available} are available")
    real = split.validation.images[:count].astype(np.float32) / 255.0
    height, width = real.shape[1:3]
    kind = config.data.masks
    holes = fixed_masks(config, kind, count, VALIDATION_MASK_SEED, height, width)
    real_holes = fixed_masks(config, kind, count, REAL_MASK_SEED, height, width)
    holes, real_holes = holes.astype(np.float32), real_holes.astype(np.float32)
    masked = fill_holes(real, holes, config.data.fill_value)
    for start in range(0, count, batch):
        window = slice(start, start + batch)
        yield ({"image": masked[window], "mask": holes[window],
                "real_mask": real_holes[window]}, real[window])


def diagnose_gan_run(run_dir, checkpoints=None, *, images: int = 640,
                     split: Split | None = None) -> list[dict]:
    """Per checkpoint, `InpaintingGAN.diagnose` averaged over validation batches.

    Args:
        run_dir: a GAN run folder (its ``config.toml`` builds the model).
        checkpoints: weight files of the run (``*.weights.h5``); default its last.
        images: how many validation images (rounded down to whole batches).
        split: data already loaded, instead of the config's ``data.source``.

    Returns:
        One dict per checkpoint: ``checkpoint`` (file name), ``epoch`` (the model's
        completed epochs), ``batches`` and the mean of each `diagnose` figure.
    """
    run = RunFolder(run_dir)
    config = load_config(run.config)
    if not config.is_gan:
        raise ValueError(f"Run {run.path} trains {config.model.kind!r}, not a GAN")
    if checkpoints is None:
        last = run.read_state()["checkpoint"]
        if not last:
            raise ValueError(f"Run {run.path} has no checkpoint yet")
        checkpoints = [run.path / last]
    split = scoring_split(config, split)
    batches = list(diagnostic_batches(config, split, images))
    model = build_model(config, batches[0][1].shape[1:])
    rows = []
    for checkpoint in map(Path, checkpoints):
        restore_checkpoint(model, checkpoint)
        figures = [model.diagnose(inputs, real) for inputs, real in batches]
        rows.append({"checkpoint": checkpoint.name, "epoch": int(model.epochs_done.numpy()),
                     "batches": len(figures),
                     **{key: float(np.mean([f[key] for f in figures])) for key in figures[0]}})
    return rows
