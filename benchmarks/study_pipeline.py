"""The study's input pipeline, re-expressed as the reference to measure against.

The study's notebooks fed Keras from a Python data generator that, for every batch,
took the images one by one, drew a fresh mask for each with OpenCV (`cv2.rectangle`
for boxes, a handful of `cv2.line` strokes for irregular holes), set the hole pixels
of a copy of the image to 0 and scaled both to [0, 1]. `StudySequence` does the same
as a `keras.utils.PyDataset` with Keras' default loading (one worker thread), yielding
the named inputs of this library's models so that the same network trains on it. The
GAN notebook drew its rectangles by slicing (h, w ~ U{5..11}) and its discriminator
saw real images with a second, fresh mask: ``real_masks=True`` adds it.
"""

from __future__ import annotations

import cv2
import keras
import numpy as np

MASK_KINDS = ("random_box", "irregular", "gan_rectangle")


def study_mask(rng: np.random.Generator, kind: str, size: int = 32) -> np.ndarray:
    """One (size, size) uint8 mask, 1 = hole, drawn as the study drew it."""
    mask = np.zeros((size, size), np.uint8)
    if kind == "random_box":
        b = int(rng.integers(5, 12))
        x, y = (int(v) for v in rng.integers(0, size - b, 2))
        cv2.rectangle(mask, (x, y), (x + b, y + b), 1, -1)
    elif kind == "irregular":
        for _ in range(int(rng.integers(1, 10))):
            x1, x2, y1, y2 = (int(v) for v in rng.integers(1, size, 4))
            cv2.line(mask, (x1, y1), (x2, y2), 1, int(rng.integers(1, 3)))
    elif kind == "gan_rectangle":
        h, w = (int(v) for v in rng.integers(5, 12, 2))
        top, left = int(rng.integers(0, size - h + 1)), int(rng.integers(0, size - w + 1))
        mask[top:top + h, left:left + w] = 1
    else:
        raise ValueError(f"`kind` must be one of {MASK_KINDS}. Received: kind={kind!r}")
    return mask


class StudySequence(keras.utils.PyDataset):
    """Batches built image by image in Python, as the study's generator built them.

    Args:
        images: uint8 images (N, 32, 32, 3).
        batch_size: images per batch.
        mask_kind: "random_box", "irregular" or "gan_rectangle".
        seed: seed of the masks and of the epoch order.
        real_masks: also yield "real_mask", a second mask per image (the GAN's).
        **kwargs: `keras.utils.PyDataset` options (workers, use_multiprocessing).

    Returns (per item):
        ``({"image": masked, "mask": mask}, image)``, float32, 1 = hole (and
        "real_mask" with `real_masks`).

    Example:
        >>> model.fit(StudySequence(x_train, 32, "irregular"), epochs=20)  # doctest: +SKIP
    """

    def __init__(self, images, batch_size: int = 32, mask_kind: str = "irregular",
                 seed: int = 0, real_masks: bool = False, **kwargs):
        super().__init__(**kwargs)
        if mask_kind not in MASK_KINDS:
            raise ValueError(f"`mask_kind` must be one of {MASK_KINDS}. "
                             f"Received: mask_kind={mask_kind!r}")
        self.images = images
        self.batch_size = batch_size
        self.mask_kind = mask_kind
        self.real_masks = real_masks
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(images))

    def __len__(self) -> int:
        return len(self.images) // self.batch_size

    def __getitem__(self, index: int):
        masked_images, masks, targets = [], [], []
        for position in self.order[index * self.batch_size:(index + 1) * self.batch_size]:
            image = self.images[position]
            mask = study_mask(self.rng, self.mask_kind, image.shape[0])
            masked = image.copy()
            masked[mask == 1] = 0
            masked_images.append(masked)
            masks.append(mask)
            targets.append(image)
        inputs = {"image": np.array(masked_images, np.float32) / 255.0,
                  "mask": np.array(masks, np.float32)[..., None]}
        if self.real_masks:
            inputs["real_mask"] = np.array(
                [study_mask(self.rng, self.mask_kind, image.shape[0]) for image in targets],
                np.float32)[..., None]
        return inputs, np.array(targets, np.float32) / 255.0

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(len(self.images))
