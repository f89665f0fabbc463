"""Model builders of inpaint_tf.

Every model takes ``{"image": (B, H, W, 3), "mask": (B, H, W, 1)}`` with 1 = hole
and returns the raw float32 image in [0, 1].
"""

from inpaint_tf.models._common import FillHoles
from inpaint_tf.models.unet_autoencoder import build_unet_autoencoder

__all__ = ["FillHoles", "build_unet_autoencoder"]
