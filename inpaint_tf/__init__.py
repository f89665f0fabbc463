"""inpaint_tf: deep image inpainting with Keras 3 and TensorFlow.

Hole masks follow one convention everywhere: 1 = hole, 0 = known.

Example:
    >>> from inpaint_tf import load_cifar10, eval_masks, evaluate, NavierStokesBaseline
    >>> test = load_cifar10().test                                       # doctest: +SKIP
    >>> masks = eval_masks("irregular", len(test.images))                 # doctest: +SKIP
    >>> evaluate(NavierStokesBaseline(), test.images, masks, name="ns")   # doctest: +SKIP
"""

from inpaint_tf.baselines import (
    BASELINES,
    IdentityBaseline,
    MeanFillBaseline,
    NavierStokesBaseline,
    TeleaBaseline,
    run_baselines,
)
from inpaint_tf.data import (
    CIFAR10_CLASSES,
    Split,
    Subset,
    fill_holes,
    full_pass_steps,
    load_cifar10,
    load_image_folder,
    make_dataset,
    make_eval_dataset,
)
from inpaint_tf.evaluation import (
    as_predict_fn,
    composite,
    evaluate,
    results_table,
    write_table,
)
from inpaint_tf.masks import (
    MASK_KINDS,
    center_box_masks,
    eval_masks,
    gan_rectangle_masks,
    generate_masks,
    irregular_masks,
    load_mask_image,
    load_masks,
    mask_checksum,
    random_box_masks,
    save_masks,
)
from inpaint_tf.metrics import DiceCoefficient, PooledMAE, PooledMSE

__version__ = "0.1.0"

__all__ = [
    "BASELINES",
    "CIFAR10_CLASSES",
    "MASK_KINDS",
    "DiceCoefficient",
    "IdentityBaseline",
    "MeanFillBaseline",
    "NavierStokesBaseline",
    "PooledMAE",
    "PooledMSE",
    "Split",
    "Subset",
    "TeleaBaseline",
    "as_predict_fn",
    "center_box_masks",
    "composite",
    "eval_masks",
    "evaluate",
    "fill_holes",
    "gan_rectangle_masks",
    "generate_masks",
    "irregular_masks",
    "load_cifar10",
    "load_image_folder",
    "load_mask_image",
    "load_masks",
    "make_dataset",
    "make_eval_dataset",
    "mask_checksum",
    "random_box_masks",
    "results_table",
    "run_baselines",
    "save_masks",
    "full_pass_steps",
    "write_table",
]
