"""Inpainting losses that know where the hole is: masked L1/L2 and the paper's loss.

Keras hands a loss ``(y_true, y_pred, sample_weight)``; these losses read the
hole mask (B, H, W, 1), 1 = hole, from `sample_weight`. Build the dataset with
``make_dataset(..., mask_as_sample_weight=True)`` so that it yields
``(inputs, image, mask)``.

Every loss computes per-image values in float32 and lets Keras reduce them
(mean over the batch, divided once by the number of replicas under
`tf.distribute`), so mixed precision and several devices need nothing more.

Example:
    >>> model.compile("adam", loss=MaskedL1(hole_weight=6.0))              # doctest: +SKIP
    >>> model.fit(make_dataset(x, "irregular", mask_as_sample_weight=True),
    ...           epochs=10, steps_per_epoch=len(x) // 32)                    # doctest: +SKIP
"""

from __future__ import annotations

import keras
from keras import ops

# Keras' own reduction (mean over the global batch, replica scaling); private in
# Keras 3, so it is imported in this one place.
from keras.src.losses.loss import reduce_weighted_values

VGG_LAYERS = ("block1_pool", "block2_pool", "block3_pool")
VGG_MEAN_BGR = (103.939, 116.779, 123.68)


def _hole_mask(sample_weight, like):
    if sample_weight is None:
        raise ValueError(
            "This loss needs the hole mask as `sample_weight` (B, H, W, 1), 1 = hole. Build "
            "the dataset with make_dataset(..., mask_as_sample_weight=True), or call "
            "loss(y_true, y_pred, sample_weight=mask).")
    hole = ops.cast(sample_weight, "float32")
    if len(hole.shape) == 3:
        hole = ops.expand_dims(hole, -1)
    return ops.broadcast_to(hole, ops.shape(like))


def _per_image_mean(values):
    return ops.mean(values, axis=(1, 2, 3))


class _MaskedLoss(keras.losses.Loss):
    """Per-image losses from ``(y_true, y_pred, hole)``; Keras reduces over the batch."""

    def __init__(self, name: str, reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def per_image(self, y_true, y_pred, hole):  # (B,) values
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "float32")
        y_pred = ops.cast(y_pred, "float32")
        hole = _hole_mask(sample_weight, y_true)
        return reduce_weighted_values(self.per_image(y_true, y_pred, hole),
                                      reduction=self.reduction, dtype="float32")

    def call(self, y_true, y_pred):
        raise ValueError("Call the loss with the hole mask: loss(y_true, y_pred, "
                         "sample_weight=mask)")


def _weighted_error(error, hole, valid_weight: float, hole_weight: float):
    """valid_weight·mean((1 − m)·e) + hole_weight·mean(m·e), means over all pixels."""
    return (valid_weight * _per_image_mean((1.0 - hole) * error)
            + hole_weight * _per_image_mean(hole * error))


@keras.saving.register_keras_serializable(package="inpaint_tf")
class MaskedL1(_MaskedLoss):
    """``valid_weight · L_valid + hole_weight · L_hole`` with L1 errors.

    As in Liu et al. (2018), ``L_hole = ‖M_hole ⊙ (ŷ − y)‖₁ / N`` and ``L_valid``
    likewise on the known pixels, where N counts all pixels of the image (both
    terms share one normaliser, so a small hole weighs little unless
    `hole_weight` says otherwise).

    Args:
        hole_weight: weight of the hole term (the paper: 6).
        valid_weight: weight of the known-pixel term (the paper: 1).

    Example:
        >>> import numpy as np
        >>> y = np.zeros((1, 2, 2, 1)); p = np.ones((1, 2, 2, 1))
        >>> hole = np.array([1, 0, 0, 0]).reshape(1, 2, 2, 1)
        >>> float(MaskedL1(hole_weight=6.0)(y, p, sample_weight=hole))
        2.25
    """

    def __init__(self, hole_weight: float = 6.0, valid_weight: float = 1.0, name="masked_l1",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self.hole_weight, self.valid_weight = float(hole_weight), float(valid_weight)

    def per_image(self, y_true, y_pred, hole):
        return _weighted_error(ops.abs(y_pred - y_true), hole, self.valid_weight,
                               self.hole_weight)

    def get_config(self):
        return {**super().get_config(), "hole_weight": self.hole_weight,
                "valid_weight": self.valid_weight}


@keras.saving.register_keras_serializable(package="inpaint_tf")
class MaskedL2(MaskedL1):
    """`MaskedL1` with squared errors."""

    def __init__(self, hole_weight: float = 6.0, valid_weight: float = 1.0, name="masked_l2",
                 **kwargs):
        super().__init__(hole_weight, valid_weight, name=name, **kwargs)

    def per_image(self, y_true, y_pred, hole):
        return _weighted_error(ops.square(y_pred - y_true), hole, self.valid_weight,
                               self.hole_weight)


def build_vgg16_features(weights="imagenet"):
    """Frozen VGG16 returning pool1, pool2 and pool3 features (float32, any size >= 32).

    Args:
        weights: "imagenet" (Keras downloads them once; needs internet), the path of
            a local VGG16 weights file (``.h5``, without the top), or None (random
            weights, for tests).
    """
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("float32")  # features and Gram matrices in float32
    try:
        vgg = keras.applications.VGG16(include_top=False, weights=weights,
                                       input_shape=(None, None, 3))
    except Exception as error:  # noqa: BLE001 - a failed download or a bad file alike
        raise RuntimeError(
            f"Cannot load VGG16 weights {weights!r} ({type(error).__name__}: {error}). Offline, "
            "pass vgg_weights='/path/to/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5' or "
            "vgg_weights=None (random weights: only for tests).") from error
    finally:
        keras.mixed_precision.set_global_policy(previous)
    features = keras.Model(vgg.input, [vgg.get_layer(name).output for name in VGG_LAYERS],
                           name="vgg16_pool1_to_pool3")
    features.trainable = False
    return features


def _vgg_input(images):
    """[0, 1] RGB -> VGG16's 'caffe' input: BGR, 0..255, ImageNet mean removed."""
    bgr = ops.flip(images * 255.0, axis=-1)
    return bgr - ops.convert_to_tensor(VGG_MEAN_BGR, "float32")


def gram_matrix(features):
    """``K_p · ψᵀψ`` with ``K_p = 1 / (C·H·W)``: (B, C, C)."""
    shape = ops.shape(features)
    flat = ops.reshape(features, (shape[0], -1, shape[-1]))
    size = ops.cast(shape[1] * shape[2] * shape[3], "float32")
    return ops.matmul(ops.transpose(flat, (0, 2, 1)), flat) / size


def dilate_holes(hole):
    """The 1-pixel dilation of the hole region (3 x 3 max-pooling of the mask)."""
    return ops.max_pool(hole, pool_size=3, strides=1, padding="same")


def total_variation(images, region):
    """Σ |neighbour differences| over pairs inside `region`, per image / pixel count."""
    inside_x = region[:, :, 1:] * region[:, :, :-1]
    inside_y = region[:, 1:] * region[:, :-1]
    across_x = ops.sum(ops.abs(images[:, :, 1:] - images[:, :, :-1]) * inside_x, axis=(1, 2, 3))
    across_y = ops.sum(ops.abs(images[:, 1:] - images[:, :-1]) * inside_y, axis=(1, 2, 3))
    count = ops.cast(ops.prod(ops.shape(images)[1:]), "float32")
    return (across_x + across_y) / count


@keras.saving.register_keras_serializable(package="inpaint_tf")
class PConvLoss(_MaskedLoss):
    """The total loss of Liu et al. (2018) for partial-convolution inpainting.

    ``valid + 6·hole + 0.05·perceptual + 120·(style_out + style_comp) + 0.1·tv``:

    - valid, hole: as `MaskedL1` (L1 over known / hole pixels, divided by the
      image's pixel count);
    - perceptual: Σ over VGG16 pool1..pool3 of mean |ψ(I_out) − ψ(I_gt)| plus the
      same for the composite I_comp (hole from ŷ, known pixels from y);
    - style: Σ over the same layers of mean |G(ψ(I)) − G(ψ(I_gt))| (G the Gram
      matrix normalised by C·H·W; the mean over its C² entries is the paper's
      1/C²), for I_out (style_out) and I_comp (style_comp);
    - tv: total variation of I_comp over the 1-pixel dilation of the hole (pairs
      of neighbours both inside it), divided by the pixel count.

    Args:
        vgg_weights: see `build_vgg16_features` ("imagenet", a path, or None).
        valid_weight, hole_weight, perceptual_weight, style_weight, tv_weight:
            the weights (the paper's by default).

    Reference:
        Liu et al., "Image Inpainting for Irregular Holes Using Partial
        Convolutions", ECCV 2018, arXiv:1804.07723.
    """

    def __init__(self, vgg_weights="imagenet", valid_weight: float = 1.0,
                 hole_weight: float = 6.0, perceptual_weight: float = 0.05,
                 style_weight: float = 120.0, tv_weight: float = 0.1, name="pconv_loss",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self.vgg_weights = vgg_weights
        self.term_weights = dict(valid=float(valid_weight), hole=float(hole_weight),
                            perceptual=float(perceptual_weight), style=float(style_weight),
                            tv=float(tv_weight))
        self.vgg = build_vgg16_features(vgg_weights)

    def terms_per_image(self, y_true, y_pred, hole) -> dict:
        """Each term of the loss per image, (B,) float32 tensors."""
        composited = hole * y_pred + (1.0 - hole) * y_true
        error = ops.abs(y_pred - y_true)
        truth = self.vgg(_vgg_input(y_true))
        terms = {"valid": _per_image_mean((1.0 - hole) * error),
                 "hole": _per_image_mean(hole * error),
                 "perceptual": 0.0, "style_out": 0.0, "style_comp": 0.0}
        for name, image in (("out", y_pred), ("comp", composited)):
            for features, reference in zip(self.vgg(_vgg_input(image)), truth):
                terms["perceptual"] += _per_image_mean(ops.abs(features - reference))
                difference = ops.abs(gram_matrix(features) - gram_matrix(reference))
                terms[f"style_{name}"] += ops.mean(difference, axis=(1, 2))
        terms["tv"] = total_variation(composited, dilate_holes(hole[..., :1]))
        return terms

    def terms(self, y_true, y_pred, mask) -> dict:
        """Batch means of the terms, for inspection: ``{"valid": ..., "tv": ...}``."""
        y_true, y_pred = ops.cast(y_true, "float32"), ops.cast(y_pred, "float32")
        values = self.terms_per_image(y_true, y_pred, _hole_mask(mask, y_true))
        return {name: ops.mean(value) for name, value in values.items()}

    def per_image(self, y_true, y_pred, hole):
        terms = self.terms_per_image(y_true, y_pred, hole)
        w = self.term_weights
        return (w["valid"] * terms["valid"] + w["hole"] * terms["hole"]
                + w["perceptual"] * terms["perceptual"]
                + w["style"] * (terms["style_out"] + terms["style_comp"])
                + w["tv"] * terms["tv"])

    def get_config(self):
        return {**super().get_config(), "vgg_weights": self.vgg_weights,
                **{f"{name}_weight": value for name, value in self.term_weights.items()}}
