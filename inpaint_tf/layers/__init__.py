"""Keras layers of inpaint_tf."""

from inpaint_tf.layers.conv2d import Conv2D
from inpaint_tf.layers.conv2d_transpose import Conv2DTranspose
from inpaint_tf.layers.dilated_conv2d import DilatedConv2D
from inpaint_tf.layers.harmonic_fill import HarmonicFill
from inpaint_tf.layers.partial_conv2d import PartialConv2D

__all__ = ["Conv2D", "Conv2DTranspose", "DilatedConv2D", "HarmonicFill", "PartialConv2D"]
