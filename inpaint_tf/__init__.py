"""inpaint_tf: deep image inpainting with Keras 3 and TensorFlow.

Hole masks follow one convention everywhere: 1 = hole, 0 = known.

Example:
    >>> from inpaint_tf import build_pconv_unet, load_cifar10, make_dataset, inpaint
    >>> split = load_cifar10()                                            # doctest: +SKIP
    >>> model = build_pconv_unet()                                         # doctest: +SKIP
    >>> model.compile("adam", "mae")                                       # doctest: +SKIP
    >>> model.fit(make_dataset(split.train.images, "irregular", fill_value=1.0),
    ...           epochs=1, steps_per_epoch=1250)                          # doctest: +SKIP
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
    synthetic_split,
)
from inpaint_tf.evaluation import (
    as_predict_fn,
    composite,
    evaluate,
    results_table,
    write_table,
)
from inpaint_tf.experiments import ExperimentConfig, load_config, shipped_configs, with_overrides
from inpaint_tf.export import export_saved_model
from inpaint_tf.inference import inpaint, size_multiple
from inpaint_tf.layers import PartialConv2D
from inpaint_tf.losses import MaskedL1, MaskedL2, PConvLoss
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
from inpaint_tf.models import (
    InpaintingGAN,
    build_glcic_discriminator,
    build_glcic_generator,
    build_pconv_unet,
    build_unet_autoencoder,
)
from inpaint_tf.training import RunFolder, build_model, evaluate_run, load_inference_model, train

__version__ = "0.1.0"

__all__ = [
    "BASELINES",
    "CIFAR10_CLASSES",
    "MASK_KINDS",
    "DiceCoefficient",
    "ExperimentConfig",
    "IdentityBaseline",
    "InpaintingGAN",
    "MaskedL1",
    "MaskedL2",
    "MeanFillBaseline",
    "NavierStokesBaseline",
    "PConvLoss",
    "PartialConv2D",
    "PooledMAE",
    "PooledMSE",
    "RunFolder",
    "Split",
    "Subset",
    "TeleaBaseline",
    "as_predict_fn",
    "build_glcic_discriminator",
    "build_glcic_generator",
    "build_model",
    "build_pconv_unet",
    "build_unet_autoencoder",
    "center_box_masks",
    "composite",
    "eval_masks",
    "evaluate",
    "evaluate_run",
    "export_saved_model",
    "fill_holes",
    "full_pass_steps",
    "gan_rectangle_masks",
    "generate_masks",
    "inpaint",
    "irregular_masks",
    "load_cifar10",
    "load_config",
    "load_image_folder",
    "load_inference_model",
    "load_mask_image",
    "load_masks",
    "make_dataset",
    "make_eval_dataset",
    "mask_checksum",
    "random_box_masks",
    "results_table",
    "run_baselines",
    "save_masks",
    "shipped_configs",
    "size_multiple",
    "synthetic_split",
    "train",
    "with_overrides",
    "write_table",
]
