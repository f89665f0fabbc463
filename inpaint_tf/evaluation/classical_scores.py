"""Classical methods' photo rows, computed once and kept in a JSON file.

A classical method's row on a photo test set does not depend on the model scored
beside it, yet FSR best alone takes about an hour per mask seed on the 110 test
photos on 2 cores. `ClassicalScores` keeps each row in a JSON file under the key of
everything that decides it (`score_key`):

- the method and the version of the package that computes it (OpenCV for
  Navier–Stokes, Telea and FSR, scikit-image for biharmonic: `package_version`);
- the mask family, the mask seed and the mask set's checksum
  (`inpaint_tf.masks.mask_set_checksum`);
- the photos' pixels, in order (`photos_checksum`);
- whether the row is also scored per hole-share bin.

A row is written to the file as soon as it is computed (atomically, so a kill
leaves the previous good file), so an interrupted evaluation keeps every finished
row and its rerun computes only the others. A stored row comes back exactly as it
was computed, its ``seconds_per_photo`` (the method's measured time) included. The
scoring itself is named by `FORMAT`: a change to how rows are scored changes it,
and a file of another format is refused rather than read.

Example:
    >>> import numpy as np, tempfile
    >>> from inpaint_tf.evaluation.classical_scores import (
    ...     ClassicalScores, photos_checksum, score_key)
    >>> photos = [np.zeros((8, 8, 3), np.uint8)]
    >>> key = score_key("telea", "blobs", 7, "ab12", photos_checksum(photos))
    >>> scores = ClassicalScores(tempfile.mkdtemp() + "/scores.json")
    >>> scores.get(key) is None
    True
    >>> scores.put(key, {"name": "telea", "hole_psnr": 21.5})
    >>> ClassicalScores(scores.path).get(key)
    {'name': 'telea', 'hole_psnr': 21.5}
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import cv2

from inpaint_tf import _io
from inpaint_tf._checksums import pixel_sha256

FORMAT = "inpaint_tf classical photo scores 1"
"""The file format and scoring a scores file holds; another one is refused."""

# The package whose code computes each classical method (those of
# `inpaint_tf.evaluation.baselines.CLASSICAL`).
_PACKAGES = {"navier_stokes": "opencv", "telea": "opencv", "fsr_fast": "opencv",
             "fsr_best": "opencv", "biharmonic": "scikit-image"}


def package_version(method: str) -> str:
    """The package and version that compute a classical method, as they name its rows.

    Example:
        >>> package_version("telea")                                 # doctest: +SKIP
        'opencv 4.10.0'

    Raises:
        ValueError: a method not in `inpaint_tf.evaluation.baselines.CLASSICAL`.
        ImportError: ``biharmonic`` without scikit-image.
    """
    if method not in _PACKAGES:
        raise ValueError(f"Only the classical methods ({', '.join(_PACKAGES)}) have stored "
                         f"scores. Received: method={method!r}")
    if _PACKAGES[method] == "opencv":
        return f"opencv {cv2.__version__}"
    import skimage

    return f"scikit-image {skimage.__version__}"


def photos_checksum(images: Sequence) -> str:
    """The SHA-256 of photos' pixels in order (`inpaint_tf._checksums.pixel_sha256` of
    each): the same for renamed or re-encoded photos, different for any changed pixel,
    another order, or a photo more or less.

    Example:
        >>> import numpy as np
        >>> a, b = np.zeros((4, 4, 3), np.uint8), np.ones((4, 4, 3), np.uint8)
        >>> photos_checksum([a, b]) == photos_checksum([a, b.copy()])
        True
        >>> photos_checksum([a, b]) == photos_checksum([b, a])
        False
    """
    digest = hashlib.sha256(f"{len(images)} photos".encode())
    for image in images:
        digest.update(pixel_sha256(image).encode())
    return digest.hexdigest()


def score_key(method: str, mask_kind: str, mask_seed: int, mask_checksum: str,
              photos: str, area_bins: bool = False) -> dict:
    """The key of a classical method's row: everything that decides it.

    Args:
        method: a classical method's name (`inpaint_tf.evaluation.baselines.CLASSICAL`).
        mask_kind: the mask family.
        mask_seed: the masks' seed.
        mask_checksum: the mask set's checksum (`inpaint_tf.masks.mask_set_checksum`).
        photos: the photos' checksum (`photos_checksum`).
        area_bins: whether the row is also scored per hole-share bin.

    Returns:
        A dict, with the version of the package that computes the method
        (`package_version`).

    Example:
        >>> score_key("telea", "blobs", 7, "ab12", "cd34")["package"]  # doctest: +SKIP
        'opencv 4.10.0'
    """
    return {"method": method, "package": package_version(method), "masks": mask_kind,
            "mask_seed": int(mask_seed), "mask_checksum": str(mask_checksum),
            "photos_checksum": str(photos), "area_bins": bool(area_bins)}


class ClassicalScores:
    """A JSON file of classical methods' photo rows, each under its `score_key`.

    The file is read when the object is made (a missing file is an empty one) and
    written, atomically, by every `put`, which first merges what the file holds by
    then (another evaluation sharing it may have added rows).

    Args:
        path: the file (created by the first `put`, with its folder).

    Raises:
        ValueError: `path` holds something else than a scores file of this `FORMAT`
            (not JSON, another format, malformed rows); the message names the file.

    Example:
        >>> import tempfile
        >>> scores = ClassicalScores(tempfile.mkdtemp() + "/scores.json")
        >>> key = {"method": "telea", "masks": "blobs"}  # in use: a `score_key`
        >>> scores.put(key, {"name": "telea", "hole_psnr": 21.5})
        >>> scores.get(key)["hole_psnr"], scores.get({**key, "masks": "thin"}), len(scores)
        (21.5, None, 1)
    """

    def __init__(self, path):
        self.path = Path(path)
        self._rows = _read(self.path)

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"ClassicalScores({str(self.path)!r}, rows={len(self)})"

    def get(self, key: dict) -> dict | None:
        """The row stored under `key` exactly as it was computed (a copy), or None."""
        return copy.deepcopy(self._rows.get(_canonical(key)))

    def put(self, key: dict, row: dict) -> None:
        """Stores `row` (a copy) under `key` and writes the file at once (atomically)."""
        self._rows = {**self._rows, **_read(self.path), _canonical(key): copy.deepcopy(row)}
        entries = [{"key": json.loads(text), "row": stored}
                   for text, stored in sorted(self._rows.items())]
        _io.write_json(self.path, {"format": FORMAT, "rows": entries})


def as_classical_scores(source) -> ClassicalScores:
    """`source` as a `ClassicalScores`: one already, or the path of its file.

    Example:
        >>> as_classical_scores("experiments/records/classical_photo_scores.json")  # doctest: +SKIP
        ClassicalScores('experiments/records/classical_photo_scores.json', rows=120)
    """
    if isinstance(source, ClassicalScores):
        return source
    if isinstance(source, (str, Path)):
        return ClassicalScores(source)
    raise TypeError(f"`classical_scores` must be a path or a ClassicalScores. "
                    f"Received: {type(source).__name__}")


def _canonical(key: dict) -> str:
    """A key as text that two equal keys share (JSON, fields sorted)."""
    if not isinstance(key, dict):
        raise TypeError(f"A scores key is a dict (see score_key). Received: {key!r}")
    return json.dumps(key, sort_keys=True)


def _read(path: Path) -> dict[str, dict]:
    """The rows of a scores file by canonical key; {} for a missing file."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not a classical scores file: not JSON ({error})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise ValueError(f"{path} is not a classical scores file of format {FORMAT!r} "
                         f"(found: {found!r}); give another file or remove it")
    entries = data.get("rows")
    if not isinstance(entries, list) or not all(_is_entry(entry) for entry in entries):
        raise ValueError(f"{path} is not a classical scores file: its 'rows' must be a list "
                         "of {'key': {...}, 'row': {...}}")
    return {_canonical(entry["key"]): entry["row"] for entry in entries}


def _is_entry(entry) -> bool:
    return (isinstance(entry, dict) and isinstance(entry.get("key"), dict)
            and isinstance(entry.get("row"), dict))
