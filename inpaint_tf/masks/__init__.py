"""Hole masks: the study's kinds, free-form masks for any size, fixed evaluation sets,
checksums and mask files.

Convention everywhere: **1 = hole, 0 = known**, uint8 arrays of shape (N, H, W, 1).

- `study`: the study's four kinds for 32 x 32 images (``center_box``, ``random_box``,
  ``irregular``, ``gan_rectangle``) plus ``boxes`` and ``irregular_area``
  (`MASK_KINDS`), scaled by min(H, W) / 32 for other sizes.
- `free_form`: masks whose shapes scale with the image's short side (lengths given
  at 512 px): ``thin_strokes``, ``medium_strokes``, ``thick_strokes``, ``blobs``,
  ``object_boxes``, their mixture ``free_form`` and the area-controlled
  ``free_form_area`` (`FREE_FORM_KINDS`).
- `sets`: kinds by name (`MASK_GENERATORS`, `generate_masks`), the fixed evaluation
  sets (`eval_masks`; `photo_mask` for a photo of any size, seeded by its pixels),
  checksums, hole shares and mask files.

Every generator takes a seed or a ``numpy.random.Generator``: same seed, same masks.

Example:
    >>> from inpaint_tf import masks
    >>> m = masks.generate_masks("irregular", 4, seed=0)
    >>> m.shape, m.dtype
    ((4, 32, 32, 1), dtype('uint8'))
    >>> masks.generate_masks("free_form", 2, seed=0, height=300, width=451).shape
    (2, 300, 451, 1)
"""

from inpaint_tf.masks.free_form import (
    BLOB_COUNT,
    BLOB_SIZE,
    FREE_FORM_FAMILIES,
    OBJECT_BOX_SIDE,
    REFERENCE_SIZE,
    SMALL_HOLE_FAMILIES,
    STROKE_FAMILIES,
    blob_masks,
    free_form_area_masks,
    free_form_masks,
    medium_stroke_masks,
    object_box_masks,
    small_hole_masks,
    thick_stroke_masks,
    thin_stroke_masks,
)
from inpaint_tf.masks.sets import (
    ALL_MASK_KINDS,
    EVAL_SEED,
    FREE_FORM_KINDS,
    MASK_GENERATORS,
    MASK_KINDS,
    VALIDATION_MASK_SEED,
    area_bin_label,
    check_mask_kind,
    eval_masks,
    eval_photo_masks,
    generate_masks,
    hole_share,
    hole_shares,
    load_mask_image,
    load_masks,
    mask_checksum,
    mask_set_checksum,
    photo_mask,
    save_masks,
)
from inpaint_tf.masks.study import (
    AREA_BINS,
    STUDY_SIZE,
    box_masks,
    center_box_masks,
    gan_rectangle_masks,
    irregular_area_masks,
    irregular_masks,
    random_box_masks,
)

__all__ = [
    "ALL_MASK_KINDS", "AREA_BINS", "BLOB_COUNT", "BLOB_SIZE", "EVAL_SEED", "FREE_FORM_FAMILIES",
    "FREE_FORM_KINDS", "MASK_GENERATORS", "MASK_KINDS", "OBJECT_BOX_SIDE", "REFERENCE_SIZE",
    "SMALL_HOLE_FAMILIES", "STROKE_FAMILIES", "STUDY_SIZE", "VALIDATION_MASK_SEED",
    "area_bin_label", "blob_masks",
    "box_masks", "center_box_masks", "check_mask_kind", "eval_masks", "eval_photo_masks",
    "free_form_area_masks", "free_form_masks", "gan_rectangle_masks", "generate_masks",
    "hole_share", "hole_shares", "irregular_area_masks", "irregular_masks", "load_mask_image",
    "load_masks", "mask_checksum", "mask_set_checksum", "medium_stroke_masks",
    "object_box_masks", "photo_mask", "random_box_masks", "save_masks", "small_hole_masks",
    "thick_stroke_masks",
    "thin_stroke_masks",
]
