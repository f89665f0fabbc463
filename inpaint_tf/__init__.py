"""inpaint_tf: deep image inpainting with Keras 3 and TensorFlow.

Hole masks follow one convention everywhere: 1 = hole, 0 = known.

Importing the package is cheap: each public name is imported from its module
(TensorFlow with it) on first use. The library's Keras classes are registered as
soon as Keras is imported, so `keras.saving.load_model` reads the models it
saves after a bare ``import inpaint_tf`` (see `inpaint_tf._registration`).

Example:
    >>> from inpaint_tf import build_pconv_unet, load_cifar10, make_dataset, inpaint
    >>> split = load_cifar10()                                            # doctest: +SKIP
    >>> model = build_pconv_unet()                                         # doctest: +SKIP
    >>> model.compile("adam", "mae")                                       # doctest: +SKIP
    >>> model.fit(make_dataset(split.train.images, "irregular", fill_value=1.0),
    ...           epochs=1, steps_per_epoch=1250)                          # doctest: +SKIP

Released models inpaint without training:
    >>> from inpaint_tf import pretrained, pretrained_names
    >>> model = pretrained(pretrained_names()[0])                          # doctest: +SKIP
"""

import importlib

from inpaint_tf import _registration

__version__ = "0.1.0"

# Public name -> the module that defines it.
_EXPORTS = {
    "BASELINES": "inpaint_tf.baselines",
    "IdentityBaseline": "inpaint_tf.baselines",
    "MeanFillBaseline": "inpaint_tf.baselines",
    "NavierStokesBaseline": "inpaint_tf.baselines",
    "TeleaBaseline": "inpaint_tf.baselines",
    "run_baselines": "inpaint_tf.baselines",
    "CIFAR10_CLASSES": "inpaint_tf.data",
    "Split": "inpaint_tf.data",
    "Subset": "inpaint_tf.data",
    "fill_holes": "inpaint_tf.compositing",
    "full_pass_steps": "inpaint_tf.data",
    "load_cifar10": "inpaint_tf.data",
    "load_image_folder": "inpaint_tf.data",
    "make_dataset": "inpaint_tf.data",
    "make_eval_dataset": "inpaint_tf.data",
    "synthetic_split": "inpaint_tf.data",
    "collect_photos": "inpaint_tf.data.photos",
    "list_photos": "inpaint_tf.data.photos",
    "make_photo_dataset": "inpaint_tf.data.photos",
    "read_photo": "inpaint_tf.data.photos",
    "scan_photos": "inpaint_tf.data.photos",
    "compare_on_photos": "inpaint_tf.photo_evaluation",
    "evaluate_photos": "inpaint_tf.photo_evaluation",
    "load_photo_set": "inpaint_tf.photo_evaluation",
    "photo_table": "inpaint_tf.photo_evaluation",
    "plot_photo_samples": "inpaint_tf.photo_evaluation",
    "as_predict_fn": "inpaint_tf.evaluation",
    "composite": "inpaint_tf.compositing",
    "evaluate": "inpaint_tf.evaluation",
    "results_table": "inpaint_tf.evaluation",
    "write_table": "inpaint_tf.evaluation",
    "ExperimentConfig": "inpaint_tf.experiments",
    "load_config": "inpaint_tf.experiments",
    "shipped_configs": "inpaint_tf.experiments",
    "with_overrides": "inpaint_tf.experiments",
    "ExportedModel": "inpaint_tf.export",
    "export_model": "inpaint_tf.export",
    "export_onnx": "inpaint_tf.export",
    "export_saved_model": "inpaint_tf.export",
    "export_tflite": "inpaint_tf.export",
    "load_exported": "inpaint_tf.export",
    "read_export_metadata": "inpaint_tf.export",
    "inpaint": "inpaint_tf.inference",
    "receptive_field": "inpaint_tf.inference",
    "size_multiple": "inpaint_tf.inference",
    "PartialConv2D": "inpaint_tf.layers",
    "DilatedConv2D": "inpaint_tf.layers",
    "HarmonicFill": "inpaint_tf.layers",
    "MaskedL1": "inpaint_tf.losses",
    "MaskedL2": "inpaint_tf.losses",
    "PConvLoss": "inpaint_tf.losses",
    "AREA_BINS": "inpaint_tf.masks",
    "MASK_KINDS": "inpaint_tf.masks",
    "box_masks": "inpaint_tf.masks",
    "irregular_area_masks": "inpaint_tf.masks",
    "hole_shares": "inpaint_tf.masks",
    "center_box_masks": "inpaint_tf.masks",
    "eval_masks": "inpaint_tf.masks",
    "gan_rectangle_masks": "inpaint_tf.masks",
    "generate_masks": "inpaint_tf.masks",
    "irregular_masks": "inpaint_tf.masks",
    "load_mask_image": "inpaint_tf.masks",
    "load_masks": "inpaint_tf.masks",
    "mask_checksum": "inpaint_tf.masks",
    "random_box_masks": "inpaint_tf.masks",
    "save_masks": "inpaint_tf.masks",
    "ALL_MASK_KINDS": "inpaint_tf.masks",
    "FREE_FORM_KINDS": "inpaint_tf.masks",
    "blob_masks": "inpaint_tf.masks",
    "eval_photo_masks": "inpaint_tf.masks",
    "free_form_area_masks": "inpaint_tf.masks",
    "free_form_masks": "inpaint_tf.masks",
    "small_hole_masks": "inpaint_tf.masks",
    "mask_set_checksum": "inpaint_tf.masks",
    "medium_stroke_masks": "inpaint_tf.masks",
    "object_box_masks": "inpaint_tf.masks",
    "photo_mask": "inpaint_tf.masks",
    "thick_stroke_masks": "inpaint_tf.masks",
    "thin_stroke_masks": "inpaint_tf.masks",
    "DiceCoefficient": "inpaint_tf.metrics",
    "PooledMAE": "inpaint_tf.metrics",
    "PooledMSE": "inpaint_tf.metrics",
    "InpaintingGAN": "inpaint_tf.models",
    "KeepKnown": "inpaint_tf.models",
    "build_glcic_discriminator": "inpaint_tf.models",
    "build_glcic_generator": "inpaint_tf.models",
    "build_pconv_unet": "inpaint_tf.models",
    "build_unet_autoencoder": "inpaint_tf.models",
    "pretrained": "inpaint_tf.released_models",
    "pretrained_manifest": "inpaint_tf.released_models",
    "pretrained_names": "inpaint_tf.released_models",
    "release_run": "inpaint_tf.releases",
    "run_demo": "inpaint_tf.demo",
    "RunFolder": "inpaint_tf.run_folders",
    "build_model": "inpaint_tf.model_building",
    "evaluate_run": "inpaint_tf.run_evaluation",
    "load_inference_model": "inpaint_tf.model_loading",
    "train": "inpaint_tf.training",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    # Lazy re-exports: `import inpaint_tf` stays fast and TensorFlow loads on first use.
    if name not in _EXPORTS:
        raise AttributeError(f"module 'inpaint_tf' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


_registration.install()


def __dir__():
    return sorted([*globals(), *__all__])

