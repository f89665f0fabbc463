"""inpaint_tf: deep image inpainting with Keras 3 and TensorFlow.

Hole masks follow one convention everywhere: 1 = hole, 0 = known.

Importing the package is cheap: each public name is imported from its module
(TensorFlow with it) on first use. The library's Keras classes are registered as
soon as Keras is imported, so `keras.saving.load_model` reads the models it
saves after a bare ``import inpaint_tf`` (see `inpaint_tf._registration`).

The top level holds the names most users need; the rest lives in namespaces, one
per concern: `masks`, `data`, `models`, `layers`, `losses`, `metrics`, `configs`,
`training`, `evaluation`, `inference`, `export`, `serving` (exported files without
TensorFlow), `presets` and `reports` (ARCHITECTURE.md draws them).

Example:
    >>> from inpaint_tf import build_pconv_unet, load_cifar10, data
    >>> split = load_cifar10()                                            # doctest: +SKIP
    >>> model = build_pconv_unet()                                         # doctest: +SKIP
    >>> model.compile("adam", "mae")                                       # doctest: +SKIP
    >>> model.fit(data.make_dataset(split.train.images, "irregular", fill_value=1.0),
    ...           epochs=1, steps_per_epoch=1250)                          # doctest: +SKIP

Released models inpaint without training:
    >>> from inpaint_tf import pretrained, pretrained_names
    >>> model = pretrained(pretrained_names()[0])                          # doctest: +SKIP
"""

from inpaint_tf import _registration
from inpaint_tf._lazy import lazy_exports
from inpaint_tf._version import __version__  # noqa: F401 - the package version

# Public name -> the module that defines it (each is also in its namespace).
_EXPORTS = {
    "inpaint": "inpaint_tf.inference.inpainting",
    "pretrained": "inpaint_tf.presets.released",
    "pretrained_names": "inpaint_tf.presets.released",
    "load_config": "inpaint_tf.configs",
    "load_cifar10": "inpaint_tf.data.cifar10",
    "train": "inpaint_tf.training.loop",
    "evaluate_run": "inpaint_tf.evaluation.runs",
    "export_model": "inpaint_tf.export.formats",
    "load_exported": "inpaint_tf.serving",
    "build_unet_autoencoder": "inpaint_tf.models.unet_autoencoder",
    "build_pconv_unet": "inpaint_tf.models.pconv_unet",
    "build_glcic_generator": "inpaint_tf.models.glcic",
    "build_glcic_discriminator": "inpaint_tf.models.glcic",
    "InpaintingGAN": "inpaint_tf.models.inpainting_gan",
    "PartialConv2D": "inpaint_tf.layers.partial_conv2d",
}
NAMESPACES = ("masks", "data", "models", "layers", "losses", "metrics", "configs", "training",
              "evaluation", "inference", "export", "serving", "presets", "reports")

__all__ = sorted([*_EXPORTS, *NAMESPACES])
# Lazy: `import inpaint_tf` stays fast and TensorFlow loads on first use.
__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS, NAMESPACES)

_registration.install()
