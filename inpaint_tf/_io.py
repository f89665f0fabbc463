"""Atomic writes: a file or folder appears at its final path complete, or not at all.

Everything the library writes for a user (models, SavedModels, metrics, reports,
mask sets) goes through these helpers, so a kill during a write leaves the
previous good file in place.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path, suffix: str | None = None):
    """Yields a temporary path beside `path`; renames it onto `path` on success.

    The temporary name keeps `path`'s suffix (or `suffix`) because some writers
    (Keras' `.keras`, NumPy's `.npz`) insist on it. Works for files and folders.
    On error the temporary path is removed and `path` is left untouched.

    A folder is swapped in with two renames (the old copy aside, the new one in);
    a kill between them leaves the old copy as ``.<name>.old`` beside `path`, and
    the next write to `path` puts it back first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _recover_backup(path)
    suffix = path.suffix if suffix is None else suffix
    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{suffix}",
                                         dir=path.parent)
    os.close(handle)
    os.remove(temporary)  # writers create it themselves (some refuse an existing file)
    temporary = Path(temporary)
    try:
        yield temporary
        _replace(temporary, path)
    finally:
        _remove(temporary)


def _backup(target: Path) -> Path:
    return target.with_name(f".{target.name}.old")


def _recover_backup(target: Path) -> None:
    backup = _backup(target)
    if backup.exists() and not target.exists():
        os.replace(backup, target)


def _replace(source: Path, target: Path) -> None:
    if source.is_dir():
        # os.replace cannot put a folder over a non-empty folder: move the old one
        # aside first, so that at every moment one complete copy exists.
        if target.exists():
            backup = _backup(target)
            _remove(backup)
            os.replace(target, backup)
            try:
                os.replace(source, target)
            except BaseException:
                os.replace(backup, target)
                raise
            _remove(backup)
            return
    os.replace(source, target)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def write_text(path, text: str) -> None:
    """Writes `text` to `path` atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text)


def write_json(path, data) -> None:
    """Writes `data` as indented JSON to `path` atomically."""
    write_text(path, json.dumps(data, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(value):
    # NumPy scalars and arrays appear in metrics; JSON knows neither.
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
