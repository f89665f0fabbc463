"""Inpainting losses that know where the hole is: masked L1/L2 and the paper's loss.

Keras hands a loss ``(y_true, y_pred, sample_weight)``; these losses read the
hole mask (B, H, W, 1), 1 = hole, from `sample_weight`. Build the dataset with
``make_dataset(..., mask_as_sample_weight=True)`` so that it yields
``(inputs, image, mask)``, or call ``loss(y_true, y_pred, sample_weight=mask)``.

Every loss computes one float32 value per image (inputs are cast, so mixed
precision changes nothing) and leaves the reduction to `keras.losses.Loss`: the
mean over the batch, divided once by the number of replicas under
`tf.distribute`, exactly like Keras' built-in losses. Summed over the replicas
this is the mean over the global batch. The mask never sits in an attribute
between calls, so replica threads cannot see each other's masks.

Example:
    >>> model.compile("adam", loss=MaskedL1(hole_weight=6.0))              # doctest: +SKIP
    >>> model.fit(make_dataset(x, "irregular", mask_as_sample_weight=True),
    ...           epochs=10, steps_per_epoch=len(x) // 32)                    # doctest: +SKIP
"""

from __future__ import annotations

import math
import os

import keras
from keras import ops

VGG_LAYERS = ("block1_pool", "block2_pool", "block3_pool")
"""The VGG16 layers of `PConvLoss`'s perceptual and style terms."""
VGG_MEAN_BGR = (103.939, 116.779, 123.68)  # keras.applications.vgg16.preprocess_input
"""ImageNet's channel means in BGR, as ``keras.applications.vgg16.preprocess_input``."""
VGG_MIN_SIZE = 8  # block3_pool halves three times: smaller images leave no feature
"""Smallest image side the VGG16 terms take (block3_pool halves it three times)."""
NORMALIZATIONS = ("pixels", "region")
"""How the masked losses divide each region's error sum: by the image's element count
(``pixels``) or by the region's own count (``region``)."""


def _check_weight(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value < 0:
        raise ValueError(f"`{name}` must be a finite number >= 0. Received: {name}={value!r}")
    return float(value)


def _hole_mask(sample_weight, y_true):
    """The hole mask from `sample_weight` as float32 (B, H, W, 1 or C), checked against y_true."""
    if sample_weight is None:
        raise ValueError(
            "This loss needs the hole mask (B, H, W, 1), 1 = hole, as `sample_weight`. Build "
            "the dataset with make_dataset(..., mask_as_sample_weight=True) so that it yields "
            "(inputs, image, mask), or call loss(y_true, y_pred, sample_weight=mask).")
    hole = ops.cast(sample_weight, "float32")
    if len(hole.shape) == 3:
        hole = ops.expand_dims(hole, -1)
    expected = tuple(y_true.shape[:3])
    compatible = len(hole.shape) == 4 and hole.shape[-1] in (1, y_true.shape[-1], None) and all(
        a is None or b is None or a == b for a, b in zip(hole.shape[:3], expected))
    if not compatible:
        raise ValueError(
            f"`sample_weight` must be the hole mask of shape {expected + (1,)} (1 = hole) for "
            f"targets of shape {tuple(y_true.shape)}; per-sample weights are not supported. "
            f"Received: sample_weight.shape={tuple(hole.shape)}")
    return hole


def _image_mean(values):
    return ops.mean(values, axis=(1, 2, 3))


class _MaskedLoss(keras.losses.Loss):
    """A loss with one value per image from ``(y_true, y_pred, hole)``.

    `__call__` moves the mask into the `y_true` structure, so that the base
    class casts everything to float32, calls `call` and reduces as usual.
    """

    def __init__(self, name: str, reduction="sum_over_batch_size"):
        super().__init__(name=name, reduction=reduction, dtype="float32")

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_true = ops.convert_to_tensor(y_true, "float32")
        hole = _hole_mask(sample_weight, y_true)
        return super().__call__({"image": y_true, "hole": hole}, y_pred)

    def call(self, y_true, y_pred):
        if not isinstance(y_true, dict):
            raise ValueError("Call the loss itself with the hole mask: "
                             "loss(y_true, y_pred, sample_weight=mask).")
        image, hole = y_true["image"], y_true["hole"]
        return self.per_image(image, y_pred, ops.broadcast_to(hole, ops.shape(image)))

    def per_image(self, y_true, y_pred, hole):
        """(B,) float32 loss values; `hole` has the shape of the images."""
        raise NotImplementedError


def _masked_terms(error, hole, normalize: str = "pixels"):
    """(L_valid, L_hole) per image: sums of the error over each region, divided by the
    image's element count ("pixels") or by the region's own count ("region")."""
    if normalize == "pixels":
        return _image_mean((1.0 - hole) * error), _image_mean(hole * error)
    axes = (1, 2, 3)
    valid = ops.cast(ops.prod(ops.shape(hole)[1:]), "float32") - ops.sum(hole, axis=axes)
    return (ops.divide_no_nan(ops.sum((1.0 - hole) * error, axis=axes), valid),
            _hole_mean(error, hole))


def _hole_mean(error, hole):
    """Each image's mean of the error over its hole (0 for an image without one)."""
    axes = (1, 2, 3)
    return ops.divide_no_nan(ops.sum(hole * error, axis=axes), ops.sum(hole, axis=axes))


class _MaskedPointwise(_MaskedLoss):
    def __init__(self, hole_weight: float = 1.0, valid_weight: float = 1.0,
                 normalize: str = "pixels", name: str | None = None,
                 reduction="sum_over_batch_size"):
        super().__init__(name=name or self._default_name, reduction=reduction)
        self.hole_weight = _check_weight(hole_weight, "hole_weight")
        self.valid_weight = _check_weight(valid_weight, "valid_weight")
        if normalize not in NORMALIZATIONS:
            raise ValueError(f"`normalize` must be one of {NORMALIZATIONS}. "
                             f"Received: normalize={normalize!r}")
        self.normalize = normalize

    def per_image(self, y_true, y_pred, hole):
        valid, holes = _masked_terms(self._error(y_pred - y_true), hole, self.normalize)
        return self.valid_weight * valid + self.hole_weight * holes

    def get_config(self):
        return {**super().get_config(), "hole_weight": self.hole_weight,
                "valid_weight": self.valid_weight, "normalize": self.normalize}


@keras.saving.register_keras_serializable(package="inpaint_tf")
class MaskedL1(_MaskedPointwise):
    """``valid_weight · L_valid + hole_weight · L_hole`` with absolute errors.

    As in Liu et al. (2018), ``L_hole = ‖M ⊙ (ŷ − y)‖₁ / N`` and
    ``L_valid = ‖(1 − M) ⊙ (ŷ − y)‖₁ / N`` with M the hole mask and N = H·W·C the
    element count of the image (the paper's N_{I_gt}): both terms share one
    normaliser, so with both weights 1 the loss is the plain MAE, and a small hole
    weighs little unless `hole_weight` says otherwise (the paper uses 6). With
    ``normalize="region"`` each term is instead divided by its own region's
    element count in that image (the mean error inside the hole, resp. outside);
    an image without hole (or without known pixel) adds 0 to that term.

    The mask comes as `sample_weight` (B, H, W, 1), broadcast over the channels.

    Args:
        hole_weight: weight of the hole term (>= 0).
        valid_weight: weight of the known-pixel term (>= 0).
        normalize: "pixels" (the paper's) or "region".
        name: loss name.
        reduction: Keras reduction of the per-image values over the batch.

    Call arguments:
        y_true: target images (B, H, W, C).
        y_pred: predicted images, same shape.
        sample_weight: the hole mask (B, H, W, 1) or (B, H, W), 1 = hole. Required.

    Returns:
        A float32 scalar: the mean over the batch of the per-image losses.

    Example:
        >>> import numpy as np
        >>> y = np.zeros((1, 2, 2, 1)); p = np.ones((1, 2, 2, 1))
        >>> hole = np.array([1, 0, 0, 0]).reshape(1, 2, 2, 1)
        >>> float(MaskedL1(hole_weight=6.0)(y, p, sample_weight=hole))
        2.25

    Reference:
        Liu et al., "Image Inpainting for Irregular Holes Using Partial
        Convolutions", ECCV 2018, arXiv:1804.07723.
    """

    _default_name = "masked_l1"

    def _error(self, difference):
        return ops.abs(difference)


@keras.saving.register_keras_serializable(package="inpaint_tf")
class MaskedL2(_MaskedPointwise):
    """`MaskedL1` with squared errors: ``valid_weight · L_valid + hole_weight · L_hole``.

    ``L_hole = ‖M ⊙ (ŷ − y)‖₂² / N`` and likewise for L_valid (same arguments and
    normalisations as `MaskedL1`).

    Example:
        >>> import numpy as np
        >>> y = np.zeros((1, 2, 2, 1)); p = np.full((1, 2, 2, 1), 2.0)
        >>> hole = np.array([1, 0, 0, 0]).reshape(1, 2, 2, 1)
        >>> float(MaskedL2(hole_weight=1.0, valid_weight=0.0)(y, p, sample_weight=hole))
        1.0
    """

    _default_name = "masked_l2"

    def _error(self, difference):
        return ops.square(difference)


def _edge_pairs(error, hole):
    """Squared differences of the error between horizontal and vertical neighbours
    where either pixel is a hole pixel (the hole's inside and its seam), and those
    pairs' count, per image."""
    sums, counts = 0.0, 0.0
    for axis in (1, 2):
        size = ops.shape(error)[axis]
        first = [slice(None)] * 4
        second = [slice(None)] * 4
        first[axis], second[axis] = slice(0, size - 1), slice(1, size)
        step = error[tuple(second)] - error[tuple(first)]
        pairs = ops.maximum(hole[tuple(second)], hole[tuple(first)])
        sums = sums + ops.sum(pairs * ops.square(step), axis=(1, 2, 3))
        counts = counts + ops.sum(pairs, axis=(1, 2, 3))
    return sums, counts


@keras.saving.register_keras_serializable(package="inpaint_tf")
class HoleEdgeL2(_MaskedLoss):
    """Each image's hole MSE plus ``gradient_weight`` times its gradient MSE at the hole.

    The gradient term is the mean squared error of the image's horizontal and
    vertical differences ``(ŷ[i+1] − ŷ[i]) − (y[i+1] − y[i])`` over the neighbour
    pairs that touch the hole: inside it, and across its border, where a fill that
    is right on average but blurs an edge or leaves a seam against the known pixels
    pays twice. Both terms are per-image means (as ``MaskedL2(1, 0, "region")``, the
    configs' ``hole_mse``), so a small hole weighs as much as a large one; an image
    without hole adds 0.

    Args:
        gradient_weight: weight of the gradient term (>= 0; 0 is ``hole_mse``).
        name: loss name.
        reduction: Keras reduction of the per-image values over the batch.

    Example:
        >>> import numpy as np
        >>> y = np.zeros((1, 1, 3, 1)); p = np.array([0.0, 2.0, 0.0]).reshape(1, 1, 3, 1)
        >>> hole = np.array([0, 1, 0]).reshape(1, 1, 3, 1)
        >>> float(HoleEdgeL2(gradient_weight=1.0)(y, p, sample_weight=hole))  # 4 + (4 + 4) / 2
        8.0
    """

    def __init__(self, gradient_weight: float = 1.0, name: str = "hole_edge_l2",
                 reduction="sum_over_batch_size"):
        super().__init__(name=name, reduction=reduction)
        self.gradient_weight = _check_weight(gradient_weight, "gradient_weight")

    def per_image(self, y_true, y_pred, hole):
        error = y_pred - y_true
        holes = _hole_mean(ops.square(error), hole)
        sums, counts = _edge_pairs(error, hole)
        return holes + self.gradient_weight * ops.divide_no_nan(sums, counts)

    def get_config(self):
        return {**super().get_config(), "gradient_weight": self.gradient_weight}


def build_vgg16_features(weights="imagenet") -> keras.Model:
    """Frozen VGG16 returning its pool1, pool2 and pool3 features, in float32.

    Takes VGG16's own input (``vgg16_input``: BGR, 0..255, ImageNet mean
    removed) of any size >= 8 x 8.

    Args:
        weights: "imagenet" (Keras downloads them once; needs internet), the path
            of a local VGG16 weights file without the top (Keras' own
            ``vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5``, or a
            ``.weights.h5`` saved from ``keras.applications.VGG16(include_top=False)``),
            or None (random weights, for tests).
    """
    if isinstance(weights, os.PathLike):
        weights = os.fspath(weights)
    if weights is not None and not isinstance(weights, str):
        raise ValueError("`vgg_weights` must be 'imagenet', a path to a VGG16 weights file or "
                         f"None. Received: vgg_weights={weights!r}")
    if weights not in (None, "imagenet"):
        weights = os.path.expanduser(weights)
        if not os.path.isfile(weights):
            raise FileNotFoundError(f"VGG16 weights file not found: vgg_weights={weights!r}")
    previous = keras.mixed_precision.global_policy()
    # Built under float32 whatever the global policy: features and Gram matrices
    # of a loss need float32's range and precision.
    keras.mixed_precision.set_global_policy("float32")
    try:
        vgg = keras.applications.VGG16(include_top=False, weights=weights,
                                       input_shape=(None, None, 3))
    except Exception as error:  # noqa: BLE001 - a failed download or an unreadable file alike
        if weights == "imagenet":
            raise RuntimeError(
                f"Cannot obtain the ImageNet VGG16 weights ({type(error).__name__}: {error}). "
                "Offline, pass a local file, vgg_weights='/path/to/"
                "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5', or vgg_weights=None "
                "(random weights: only for tests).") from error
        raise ValueError(f"Cannot load VGG16 (no top) weights from vgg_weights={weights!r} "
                         f"({type(error).__name__}: {error})") from error
    else:
        features = keras.Model(vgg.input, [vgg.get_layer(name).output for name in VGG_LAYERS],
                               name="vgg16_pool1_to_pool3")
    finally:
        keras.mixed_precision.set_global_policy(previous)
    features.trainable = False
    return features


def vgg16_input(images):
    """[0, 1] RGB -> VGG16's input, as ``vgg16.preprocess_input`` on 0..255: BGR, mean removed."""
    bgr = ops.flip(ops.cast(images, "float32") * 255.0, axis=-1)
    return bgr - ops.convert_to_tensor(VGG_MEAN_BGR, "float32")


def gram_matrix(features):
    """``ψᵀψ / (C·H·W)`` per image: (B, C, C) from (B, H, W, C) features."""
    shape = ops.shape(features)
    flat = ops.reshape(features, (shape[0], shape[1] * shape[2], shape[3]))
    size = ops.cast(shape[1] * shape[2] * shape[3], "float32")
    return ops.matmul(ops.transpose(flat, (0, 2, 1)), flat) / size


def dilate_holes(hole):
    """The hole region grown by one pixel (8-neighbourhood): 3 x 3 max-pooling of the mask."""
    return ops.max_pool(hole, pool_size=3, strides=1, padding="same")


def total_variation(images, region):
    """Per image: Σ |I(i, j+1) − I(i, j)| over horizontal neighbours both in `region`,
    plus the same over vertical neighbours, divided by H·W·C (all channels summed)."""
    inside_x = region[:, :, 1:] * region[:, :, :-1]
    inside_y = region[:, 1:] * region[:, :-1]
    across_x = ops.sum(ops.abs(images[:, :, 1:] - images[:, :, :-1]) * inside_x, axis=(1, 2, 3))
    across_y = ops.sum(ops.abs(images[:, 1:] - images[:, :-1]) * inside_y, axis=(1, 2, 3))
    count = ops.cast(ops.prod(ops.shape(images)[1:]), "float32")
    return (across_x + across_y) / count


@keras.saving.register_keras_serializable(package="inpaint_tf")
class PConvLoss(_MaskedLoss):
    """The total loss of Liu et al. (2018) for partial-convolution inpainting.

    ``valid_weight·L_valid + hole_weight·L_hole + perceptual_weight·L_perceptual
    + style_weight·(L_style_out + L_style_comp) + tv_weight·L_tv``, by default the
    paper's ``L_valid + 6·L_hole + 0.05·L_perceptual + 120·(L_style_out +
    L_style_comp) + 0.1·L_tv``. Per image, with M the hole mask, N = H·W·C,
    I_comp = M·ŷ + (1 − M)·y (hole from the prediction, known pixels from the
    target) and ψ_p the VGG16 pool1, pool2, pool3 features (images scaled to
    0..255 and preprocessed as ``keras.applications.vgg16.preprocess_input``):

    - L_valid, L_hole: as `MaskedL1`, ``‖(1 − M)⊙(ŷ − y)‖₁ / N`` and ``‖M⊙(ŷ − y)‖₁ / N``;
    - L_perceptual: ``Σ_p mean|ψ_p(ŷ) − ψ_p(y)| + Σ_p mean|ψ_p(I_comp) − ψ_p(y)|``
      (means over each feature map's elements);
    - L_style_out: ``Σ_p mean|G_p(ŷ) − G_p(y)|`` with the Gram matrix
      ``G_p = ψ_pᵀψ_p / (C_p·H_p·W_p)``; the mean over its C_p² entries is the
      paper's 1/C_p²; L_style_comp the same for I_comp;
    - L_tv: with P the hole region dilated by one pixel (3 x 3 neighbourhood),
      ``Σ |I_comp(i, j+1) − I_comp(i, j)|`` over horizontal neighbours both in P
      plus the same over vertical neighbours, divided by N.

    Every term is finite for any mask (no hole, all hole). The VGG16 is frozen
    and float32 under any policy; it is rebuilt from `vgg_weights`, not saved
    with a model compiled with this loss.

    Args:
        vgg_weights: "imagenet" (downloads once; needs internet), the path of a
            local VGG16 weights file without the top, or None (random weights,
            for tests only).
        valid_weight, hole_weight, perceptual_weight, style_weight, tv_weight:
            the weights of the terms (>= 0; the paper's by default).
        name: loss name.
        reduction: Keras reduction of the per-image values over the batch.

    Call arguments:
        y_true: target images (B, H, W, 3) in [0, 1], H and W >= 8.
        y_pred: predicted images, same shape.
        sample_weight: the hole mask (B, H, W, 1) or (B, H, W), 1 = hole. Required.

    Returns:
        A float32 scalar; `terms()` gives each term's batch mean.

    Example:
        >>> loss = PConvLoss(vgg_weights="vgg16_notop.h5")                    # doctest: +SKIP
        >>> model.compile("adam", loss=loss)                                  # doctest: +SKIP
        >>> loss.terms(images, model(inputs), masks)["style_comp"]            # doctest: +SKIP

    Reference:
        Liu et al., "Image Inpainting for Irregular Holes Using Partial
        Convolutions", ECCV 2018, arXiv:1804.07723.
    """

    def __init__(self, vgg_weights="imagenet", valid_weight: float = 1.0,
                 hole_weight: float = 6.0, perceptual_weight: float = 0.05,
                 style_weight: float = 120.0, tv_weight: float = 0.1,
                 name: str = "pconv_loss", reduction="sum_over_batch_size"):
        super().__init__(name=name, reduction=reduction)
        self.valid_weight = _check_weight(valid_weight, "valid_weight")
        self.hole_weight = _check_weight(hole_weight, "hole_weight")
        self.perceptual_weight = _check_weight(perceptual_weight, "perceptual_weight")
        self.style_weight = _check_weight(style_weight, "style_weight")
        self.tv_weight = _check_weight(tv_weight, "tv_weight")
        self.vgg_weights = os.fspath(vgg_weights) if isinstance(vgg_weights, os.PathLike) \
            else vgg_weights
        self.vgg = build_vgg16_features(self.vgg_weights)

    def terms_per_image(self, y_true, y_pred, hole) -> dict:
        """Each term per image, (B,) float32: valid, hole, perceptual, style_out,
        style_comp, tv. `hole` is broadcast to the images' shape."""
        if y_true.shape[-1] not in (3, None) or any(
                size is not None and size < VGG_MIN_SIZE for size in y_true.shape[1:3]):
            raise ValueError(f"PConvLoss needs RGB images of at least {VGG_MIN_SIZE}x"
                             f"{VGG_MIN_SIZE} pixels. Received: shape={tuple(y_true.shape)}")
        hole = ops.broadcast_to(hole, ops.shape(y_true))
        composite = hole * y_pred + (1.0 - hole) * y_true
        terms = dict(zip(("valid", "hole"), _masked_terms(ops.abs(y_pred - y_true), hole)))
        # One VGG pass over targets, outputs and composites stacked on the batch axis.
        batch = ops.shape(y_true)[0]
        stacked = self.vgg(vgg16_input(ops.concatenate([y_true, y_pred, composite], axis=0)))
        terms.update(perceptual=0.0, style_out=0.0, style_comp=0.0)
        for features in stacked:
            truth, out, comp = (features[:batch], features[batch:2 * batch],
                                features[2 * batch:])
            gram = gram_matrix(truth)
            for key, image in (("style_out", out), ("style_comp", comp)):
                terms["perceptual"] += _image_mean(ops.abs(image - truth))
                terms[key] += ops.mean(ops.abs(gram_matrix(image) - gram), axis=(1, 2))
        region = dilate_holes(ops.max(hole, axis=-1, keepdims=True))
        terms["tv"] = total_variation(composite, region)
        return terms

    def terms(self, y_true, y_pred, mask) -> dict:
        """Batch means of the terms (unweighted), for inspection:
        ``{"valid", "hole", "perceptual", "style_out", "style_comp", "tv"}``."""
        y_true = ops.convert_to_tensor(y_true, "float32")
        y_pred = ops.convert_to_tensor(y_pred, "float32")
        values = self.terms_per_image(y_true, y_pred, _hole_mask(mask, y_true))
        return {name: ops.mean(value) for name, value in values.items()}

    def per_image(self, y_true, y_pred, hole):
        terms = self.terms_per_image(y_true, y_pred, hole)
        return (self.valid_weight * terms["valid"] + self.hole_weight * terms["hole"]
                + self.perceptual_weight * terms["perceptual"]
                + self.style_weight * (terms["style_out"] + terms["style_comp"])
                + self.tv_weight * terms["tv"])

    def get_config(self):
        return {**super().get_config(), "vgg_weights": self.vgg_weights,
                "valid_weight": self.valid_weight, "hole_weight": self.hole_weight,
                "perceptual_weight": self.perceptual_weight,
                "style_weight": self.style_weight, "tv_weight": self.tv_weight}
