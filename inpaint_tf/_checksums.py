"""Content checksums that name data in run records and release manifests."""

from __future__ import annotations

import hashlib

import numpy as np


def image_checksum(images) -> str:
    """The first 16 hex digits of the SHA-256 of an image array's bytes (as run records)."""
    return hashlib.sha256(np.ascontiguousarray(images).tobytes()).hexdigest()[:16]


def pixel_sha256(image) -> str:
    """The SHA-256 of an image's shape and pixels: the same for a renamed file or a
    lossless re-encoding, different for any changed pixel."""
    image = np.ascontiguousarray(image)
    return hashlib.sha256(f"{image.shape}{image.dtype}".encode() + image.tobytes()).hexdigest()


def file_sha256(path) -> str:
    """The SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
