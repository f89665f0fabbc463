"""Data: CIFAR-10 with the study's split, users' image folders, and tf.data pipelines.

One module per source or concern:

- `inpaint_tf.data.cifar10`: `load_cifar10` (download, ``.npz``, pickle batches or a
  class-folder tree) with the study's training/validation/test split;
- `inpaint_tf.data.image_files`: reading image files as RGB (`read_image`) or as
  stored (`read_image_as_is`: 8 or 16 bits, grey, alpha), `model_input`, writing a
  filled image back in that form (`write_image`), `load_image_folder`;
- `inpaint_tf.data.synthetic`: `synthetic_split`, smooth images for offline runs;
- `inpaint_tf.data.pipeline`: `make_dataset` (training batches, a pure function of
  seed, epoch and step) and `make_eval_dataset` (fixed masks);
- `inpaint_tf.data.splits`: `Split` and `Subset`, what the loaders return.

Every name below is importable from `inpaint_tf.data` as before.

Example:
    >>> from inpaint_tf import load_cifar10, make_dataset
    >>> split = load_cifar10("~/data/cifar10.npz")           # doctest: +SKIP
    >>> train = make_dataset(split.train.images, "irregular", batch_size=32)  # doctest: +SKIP
"""

from inpaint_tf.data.cifar10 import (
    CIFAR10_CLASSES,
    TREE_SPLIT_SEED,
    VALIDATION_SIZE,
    cifar10_source_label,
    load_cifar10,
)
from inpaint_tf.data.image_files import (
    IMAGE_SUFFIXES,
    load_image_folder,
    model_input,
    output_pixels,
    read_image,
    read_image_as_is,
    write_image,
)
from inpaint_tf.data.pipeline import full_pass_steps, make_dataset, make_eval_dataset
from inpaint_tf.data.splits import Split, Subset
from inpaint_tf.data.synthetic import synthetic_split

__all__ = [
    "CIFAR10_CLASSES",
    "IMAGE_SUFFIXES",
    "TREE_SPLIT_SEED",
    "VALIDATION_SIZE",
    "Split",
    "Subset",
    "cifar10_source_label",
    "full_pass_steps",
    "load_cifar10",
    "load_image_folder",
    "make_dataset",
    "make_eval_dataset",
    "model_input",
    "output_pixels",
    "read_image",
    "read_image_as_is",
    "synthetic_split",
    "write_image",
]
