"""Keras layers of inpaint_tf."""
