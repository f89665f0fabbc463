"""Model builders of inpaint_tf.

Every model takes ``{"image": (B, H, W, 3), "mask": (B, H, W, 1)}`` with 1 = hole
and returns the raw float32 image in [0, 1] (the GAN wrapper: the composite).
"""

from inpaint_tf.models._common import FillHoles, KeepKnown, RepeatChannels
from inpaint_tf.models.glcic import (
    LocalCrop,
    build_glcic_discriminator,
    build_glcic_generator,
    build_global_discriminator,
    build_local_discriminator,
    crop_local_regions,
    hole_bounding_boxes,
)
from inpaint_tf.models.inpainting_gan import InpaintingGAN
from inpaint_tf.models.pconv_unet import PRESETS as PCONV_PRESETS
from inpaint_tf.models.pconv_unet import build_pconv_unet
from inpaint_tf.models.unet_autoencoder import build_unet_autoencoder

__all__ = [
    "PCONV_PRESETS",
    "FillHoles",
    "InpaintingGAN",
    "KeepKnown",
    "LocalCrop",
    "RepeatChannels",
    "build_global_discriminator",
    "build_glcic_discriminator",
    "build_glcic_generator",
    "build_local_discriminator",
    "build_pconv_unet",
    "build_unet_autoencoder",
    "crop_local_regions",
    "hole_bounding_boxes",
]
