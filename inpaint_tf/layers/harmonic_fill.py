"""HarmonicFill: a smooth fill of the holes, computed inside the model."""

import keras
import tensorflow as tf

from inpaint_tf._validation import check_non_negative_int


@keras.saving.register_keras_serializable(package="inpaint_tf")
class HarmonicFill(keras.layers.Layer):
    """Fills the holes of an image smoothly from the known pixels around them.

    This is the classical "smooth" fill that diffusion inpainting (Navier–Stokes,
    Telea) approximates, computed in the graph. A network that starts from it only
    has to learn the detail, so its quality does not fall to that of a constant
    fill. Holes of every size are filled in a few cheap passes, coarse to fine:

    1. **Push.** The known pixels are averaged down a pyramid of `levels` halvings.
       Each level holds the mean of the known pixels under each of its cells, and
       the share of its cell that is known.
    2. **Pull.** From the coarsest level up, each level blends its own means (where
       its cells are partly known) with the bilinear upsampling of the level below
       (where they are not).
    3. **Relax.** At each level, `iterations` Jacobi steps of Laplace's equation
       replace every cell that is not fully known by the mean of its 3×3
       neighbourhood. The border of a hole then meets the known pixels without a
       seam.

    Known pixels come back unchanged, bit for bit. The arithmetic runs in float32
    whatever the dtype policy (masks and counts are inexact in bfloat16), and the
    result is cast to the layer's compute dtype. Means over cells without a known
    pixel are 0 by `tf.math.divide_no_nan`, not by a tiny epsilon: a float16 TFLite
    file stores every constant as float16, where 1e-12 is 0 and its 0 / 0 a NaN.
    With no known pixel at all, holes are filled with 0.5. Height and width may be
    any size.

    Args:
        levels: halvings of the pyramid; 8 fills holes up to about 2^8 = 256 px
            across without a constant plateau.
        iterations: Jacobi steps per level.
        **kwargs: base layer arguments (name, dtype).

    Call arguments:
        inputs: ``[image, mask]``: image (B, H, W, C), mask (B, H, W, 1) with
            1 = hole, 0 = known.

    Returns:
        The image with its holes filled, (B, H, W, C).

    Example:
        >>> import numpy as np
        >>> image = np.tile(np.linspace(0, 1, 8, dtype="float32")[None, None, :, None],
        ...                 (1, 8, 1, 3))
        >>> mask = np.zeros((1, 8, 8, 1), "float32"); mask[0, 2:6, 3:5] = 1
        >>> filled = HarmonicFill()([image, mask])
        >>> bool(abs(float(filled[0, 3, 3, 0]) - 3 / 7) < 0.05)  # a ramp stays a ramp
        True

    Reference:
        Gortler et al., "The Lumigraph", SIGGRAPH 1996 (pull-push interpolation).
    """

    def __init__(self, levels: int = 8, iterations: int = 32, **kwargs):
        super().__init__(**kwargs)
        self.levels = check_non_negative_int(levels, "levels")
        self.iterations = check_non_negative_int(iterations, "iterations")

    def call(self, inputs):
        image, mask = inputs
        dtype = image.dtype
        image = tf.cast(image, tf.float32)
        known = 1.0 - tf.cast(mask, tf.float32)
        # Push: premultiplied sums and known shares, one pyramid level per halving.
        sums, shares = [image * known], [known]
        for _ in range(self.levels):
            sums.append(tf.nn.avg_pool2d(sums[-1], 2, 2, "SAME"))
            shares.append(tf.nn.avg_pool2d(shares[-1], 2, 2, "SAME"))
        coarsest = shares[-1]
        filled = tf.where(coarsest > 0, tf.math.divide_no_nan(sums[-1], coarsest), 0.5)
        filled = self._relax(filled, sums[-1], coarsest)
        # Pull: each finer level blends its partial means with the upsampled coarse fill.
        for level in range(self.levels - 1, -1, -1):
            share = shares[level]
            upsampled = tf.image.resize(filled, tf.shape(share)[1:3], method="bilinear")
            means = tf.math.divide_no_nan(sums[level], share)
            filled = share * means + (1.0 - share) * upsampled
            filled = self._relax(filled, sums[level], share)
        return tf.cast(tf.where(known > 0.5, image, filled), dtype)

    def _relax(self, filled, sums, share):
        """Jacobi steps of Laplace's equation where cells are not fully known."""
        fixed = share >= 1.0
        exact = tf.math.divide_no_nan(sums, share)
        for _ in range(self.iterations):
            neighbours = tf.nn.avg_pool2d(filled, 3, 1, "SAME")
            filled = tf.where(fixed, exact, neighbours)
        return filled

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "levels": self.levels, "iterations": self.iterations}
