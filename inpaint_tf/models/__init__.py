"""Model builders of inpaint_tf.

Every model takes ``{"image": (B, H, W, 3), "mask": (B, H, W, 1)}`` with 1 = hole
and returns the raw float32 image in [0, 1].
"""

from inpaint_tf.models._common import FillHoles, RepeatChannels
from inpaint_tf.models.pconv_unet import PRESETS as PCONV_PRESETS
from inpaint_tf.models.pconv_unet import build_pconv_unet
from inpaint_tf.models.unet_autoencoder import build_unet_autoencoder

__all__ = ["PCONV_PRESETS", "FillHoles", "RepeatChannels", "build_pconv_unet",
           "build_unet_autoencoder"]
