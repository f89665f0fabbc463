"""Keras layers of inpaint_tf."""

from inpaint_tf.layers.partial_conv2d import PartialConv2D

__all__ = ["PartialConv2D"]
