"""Inpainting images of any size with a trained model.

- `windows`: where the windows around a mask's holes are; `tiles`: how a large group
  of holes is cut into tiles (NumPy and OpenCV only).
- `inpainting`: `inpaint`, an image of any size on windows around its holes (or
  whole), padded, predicted and composited; `receptive_field`, `size_multiple`.
- `folders`: `inpaint_folder`, a folder of photos with one mask or a mask each,
  read and written in background threads, resumable (`plan_folder`, `FolderPlan`,
  `FolderReport`, `PhotoError`); `inpaint_file`, one image file. Photos come back in
  their form: 8 or 16 bits, grey or colour, alpha kept.

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
    inpaint_file,
    inpaint_folder,
    plan_folder,
)
from inpaint_tf.inference.inpainting import (
    MostlyHoleWarning,
    inpaint,
    receptive_field,
    size_multiple,
    warn_if_mostly_hole,
)

__all__ = ["FolderPlan", "FolderReport", "MostlyHoleWarning", "PhotoError", "inpaint",
           "inpaint_file", "inpaint_folder", "plan_folder", "receptive_field",
           "size_multiple", "warn_if_mostly_hole"]
