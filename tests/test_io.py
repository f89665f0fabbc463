"""Atomic writes: a file or folder appears complete or not at all, the previous copy
survives every failure, and nothing is left beside the target."""

import json
import os

import numpy as np
import pytest

from inpaint_tf import _io


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_a_file_appears_complete_and_nothing_is_left_beside_it(tmp_path):
    target = tmp_path / "deep" / "er" / "result.txt"  # missing parents are made
    with _io.atomic_path(target) as temporary:
        assert temporary.parent == target.parent
        assert not temporary.exists()  # writers create it (some refuse an existing file)
        assert temporary.name.startswith(".result.") and temporary.name.endswith(".tmp.txt")
        temporary.write_text("new")
        assert not target.exists()  # not before the block ends
    assert target.read_text() == "new"
    assert _names(target.parent) == ["result.txt"]


def test_the_temporary_name_keeps_the_requested_suffix(tmp_path):
    with _io.atomic_path(tmp_path / "model.keras") as temporary:
        assert temporary.suffix == ".keras"
        temporary.write_text("x")
    with _io.atomic_path(tmp_path / "weights", suffix=".weights.npz") as temporary:
        assert temporary.name.endswith(".tmp.weights.npz")
        temporary.write_text("y")
    with _io.atomic_path(tmp_path / "folder.d", suffix="") as temporary:
        assert temporary.name.endswith(".tmp")
        temporary.mkdir()
    assert _names(tmp_path) == ["folder.d", "model.keras", "weights"]


def test_a_failed_write_keeps_the_previous_file_and_cleans_up(tmp_path):
    target = tmp_path / "metrics.json"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="stopped"):
        with _io.atomic_path(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("stopped")
    assert target.read_text() == "old" and _names(tmp_path) == ["metrics.json"]
    # A temporary folder is removed too.
    with pytest.raises(KeyboardInterrupt):
        with _io.atomic_path(tmp_path / "saved", suffix="") as temporary:
            (temporary / "variables").mkdir(parents=True)
            raise KeyboardInterrupt
    assert _names(tmp_path) == ["metrics.json"]


def test_a_folder_replaces_a_non_empty_folder(tmp_path):
    target = tmp_path / "saved_model"
    (target / "variables").mkdir(parents=True)
    (target / "old.pb").write_text("old")
    with _io.atomic_path(target, suffix="") as temporary:
        temporary.mkdir()
        (temporary / "new.pb").write_text("new")
    assert _names(target) == ["new.pb"] and (target / "new.pb").read_text() == "new"
    assert _names(tmp_path) == ["saved_model"]  # the old copy is gone, not set aside


def test_a_folder_swap_that_fails_midway_puts_the_old_folder_back(tmp_path, monkeypatch):
    target = tmp_path / "saved_model"
    target.mkdir()
    (target / "old.pb").write_text("old")
    real_replace, calls = os.replace, []

    def second_rename_fails(source, destination):
        calls.append(destination)
        if len(calls) == 2:  # the new folder onto the target
            raise OSError("disk full")
        real_replace(source, destination)

    monkeypatch.setattr(_io.os, "replace", second_rename_fails)
    with pytest.raises(OSError, match="disk full"):
        with _io.atomic_path(target, suffix="") as temporary:
            temporary.mkdir()
            (temporary / "new.pb").write_text("new")
    assert _names(target) == ["old.pb"] and _names(tmp_path) == ["saved_model"]


def test_a_copy_left_aside_by_a_kill_is_put_back_before_the_next_write(tmp_path):
    target = tmp_path / "saved_model"
    backup = tmp_path / ".saved_model.old"
    backup.mkdir()
    (backup / "old.pb").write_text("old")  # killed between the two renames
    with pytest.raises(RuntimeError):
        with _io.atomic_path(target, suffix=""):
            assert _names(target) == ["old.pb"]  # put back first
            raise RuntimeError
    assert _names(tmp_path) == ["saved_model"]


def test_a_stale_aside_copy_beside_a_complete_target_is_left_alone_until_replaced(tmp_path):
    target = tmp_path / "saved_model"
    target.mkdir()
    (target / "current.pb").write_text("current")
    backup = tmp_path / ".saved_model.old"
    backup.mkdir()
    (backup / "stale.pb").write_text("stale")
    with _io.atomic_path(target, suffix="") as temporary:
        assert _names(target) == ["current.pb"]  # not overwritten by the stale copy
        temporary.mkdir()
        (temporary / "new.pb").write_text("new")
    assert _names(target) == ["new.pb"] and _names(tmp_path) == ["saved_model"]


def test_a_file_replaces_a_file_and_leaves_an_aside_folder_alone(tmp_path):
    target = tmp_path / "log.csv"
    target.write_text("old")
    (tmp_path / ".log.csv.old").mkdir()
    _io.write_text(target, "new")
    assert target.read_text() == "new"
    assert _names(tmp_path) == [".log.csv.old", "log.csv"]


def test_remove_takes_files_folders_and_links_but_never_follows_a_link(tmp_path):
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "inside.txt").write_text("x")
    link = tmp_path / "link"
    link.symlink_to(kept, target_is_directory=True)
    _io._remove(link)
    assert not link.is_symlink() and _names(kept) == ["inside.txt"]
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    _io._remove(dangling)
    assert not dangling.is_symlink()
    _io._remove(kept / "inside.txt")
    assert _names(kept) == []
    (kept / "sub").mkdir()
    _io._remove(kept)
    assert not kept.exists()
    _io._remove(tmp_path / "missing")  # nothing to do, no error


def test_write_json_is_sorted_indented_and_knows_numpy(tmp_path):
    path = tmp_path / "out.json"
    _io.write_json(path, {"b": np.float32(0.5), "a": np.arange(3), "c": {"z": 1, "y": [2]}})
    text = path.read_text()
    assert text == ('{\n  "a": [\n    0,\n    1,\n    2\n  ],\n  "b": 0.5,\n  "c": {\n'
                    '    "y": [\n      2\n    ],\n    "z": 1\n  }\n}\n')
    assert json.loads(text)["b"] == 0.5
    with pytest.raises(TypeError, match="Object of type set is not JSON serializable"):
        _io.write_json(path, {"a": {1, 2}})
    assert json.loads(path.read_text())["b"] == 0.5  # the previous file survives


def test_write_text_writes_exactly_the_text(tmp_path):
    _io.write_text(tmp_path / "a.md", "line\n\nno newline at the end")
    assert (tmp_path / "a.md").read_text() == "line\n\nno newline at the end"


def test_a_cleanup_that_cannot_remove_everything_does_not_hide_the_real_error(tmp_path,
                                                                            monkeypatch):
    real_unlink = os.unlink

    def unlink(path, *args, **kwargs):
        if str(path).endswith("stuck.bin"):
            raise PermissionError("busy")
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)
    with pytest.raises(RuntimeError, match="the write failed"):
        with _io.atomic_path(tmp_path / "saved", suffix="") as temporary:
            temporary.mkdir()
            (temporary / "stuck.bin").write_bytes(b"x")
            raise RuntimeError("the write failed")
    assert not (tmp_path / "saved").exists()
