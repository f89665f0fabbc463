"""Inpainting images of any size with a trained model.

- `windows`: where the windows around a mask's holes are (NumPy and OpenCV only).
- `inpainting`: `inpaint`, an image of any size on windows around its holes (or
  whole), padded, predicted and composited; `receptive_field`, `size_multiple`.

Example:
    >>> from inpaint_tf.inference import inpaint
    >>> filled = inpaint(model, photo, holes)                         # doctest: +SKIP
"""

from inpaint_tf.inference.inpainting import inpaint, receptive_field, size_multiple

__all__ = ["inpaint", "receptive_field", "size_multiple"]
