"""Inpainting images of any size with a trained model.

- `windows`: where the windows around a mask's holes are; `tiles`: how a large group
  of holes is cut into tiles (NumPy and OpenCV only).
- `inpainting`: `inpaint`, an image of any size on windows around its holes (or
  whole), padded, predicted and composited; `receptive_field`, `size_multiple`.
- `folders`: `inpaint_folder`, a folder of photos with one mask or a mask each,
  read and written in background threads, resumable (`plan_folder`, `FolderPlan`,
  `FolderReport`, `PhotoError`).

Example:
    >>> from inpaint_tf.inference import inpaint
    >>> filled = inpaint(model, photo, holes)                         # doctest: +SKIP
    >>> from inpaint_tf.inference import inpaint_folder
    >>> report = inpaint_folder(model, "scans/", mask="dust.png", out="out/")  # doctest: +SKIP
"""

from inpaint_tf.inference.folders import (
    FolderPlan,
    FolderReport,
    PhotoError,
    inpaint_folder,
    plan_folder,
)
from inpaint_tf.inference.inpainting import inpaint, receptive_field, size_multiple

__all__ = ["FolderPlan", "FolderReport", "PhotoError", "inpaint", "inpaint_folder",
           "plan_folder", "receptive_field", "size_multiple"]
