"""A folder of photos (`inpaint_tf.inference.folders` and ``inpaint-tf inpaint --images``):
each output checked against its own reference, ``inpaint`` on that photo alone; photos of
several sizes, one mask or a mask each, missing and bad files, an interrupted run resumed,
outputs that never replace photos or masks, and the CLI's forms and error lines."""

from __future__ import annotations

import contextlib
import io
import re
import sys
import threading
from pathlib import Path

import cv2
import keras
import numpy as np
import pytest
from conftest import build_tiny_inpainting_model

from inpaint_tf import cli
from inpaint_tf.data.image_files import read_image
from inpaint_tf.inference import folders as F
from inpaint_tf.inference.inpainting import inpaint
from inpaint_tf.masks import load_mask_image

SIZES = ((37, 45), (48, 64), (30, 30))
CORRUPT = b"\x89PNG\r\n\x1a\n not an image"


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return build_tiny_inpainting_model()


def _write(path: Path, pixels) -> Path:
    """An image file: RGB (H, W, 3) or grey (H, W) uint8; bytes are written as they are."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(pixels, bytes):
        path.write_bytes(pixels)
    else:
        assert cv2.imwrite(str(path), pixels[:, :, ::-1] if pixels.ndim == 3 else pixels)
    return path


def _photo(seed: int, size) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (*size, 3), dtype=np.uint8)


def _holes(seed: int, size) -> np.ndarray:
    """A mask (H, W) with 1 to 3 boxes, 1 = hole."""
    rng = np.random.default_rng(100 + seed)
    mask = np.zeros(size, np.uint8)
    for _ in range(rng.integers(1, 4)):
        top, left = rng.integers(0, size[0] - 6), rng.integers(0, size[1] - 6)
        mask[top:top + rng.integers(2, 9), left:left + rng.integers(2, 9)] = 1
    return mask


def _expected(model, photo: Path, mask, grey: bool = False, **options) -> np.ndarray:
    """The reference: `inpaint` on this photo alone (as RGB), rounded to 8 bits as
    written; for a grey photo the mean of the three channels."""
    mask = load_mask_image(mask) if isinstance(mask, Path) else mask
    filled = inpaint(model, read_image(photo), mask, **options)
    return np.round((filled.mean(axis=-1) if grey else filled) * 255.0).astype(np.uint8)


def _read_back(path: Path) -> np.ndarray:
    """A written file as stored: grey (H, W), RGB or RGBA, 8 or 16 bits."""
    pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    return pixels if pixels.ndim == 2 else pixels[:, :, [2, 1, 0, 3][:pixels.shape[2]]]


def _files(folder: Path) -> list[str]:
    """Every file in `folder`, hidden ones (temporary files) included."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _masked_folder(root: Path, names_and_sizes) -> tuple[Path, Path]:
    """photos/<name>.png and masks/<name>.png for each (name, size)."""
    for seed, (name, size) in enumerate(names_and_sizes):
        _write(root / "photos" / f"{name}.png", _photo(seed, size))
        _write(root / "masks" / f"{name}.png", _holes(seed, size) * 255)
    return root / "photos", root / "masks"


class Failing:
    """A model (for `inpaint`) that raises on its call number `fail_at` (0: never), and
    counts its calls."""

    def __init__(self, model, fail_at: int = 0):
        self.model, self.fail_at, self.calls, self.layers = model, fail_at, 0, model.layers

    def __call__(self, inputs, training=False):
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("the model stopped")
        return self.model(inputs, training=False)


# --------------------------------------------------------------------------- the library


@pytest.mark.parametrize("group_photos", [1, 3, 16])
def test_a_one_mask_run_equals_inpaint_on_each_photo_alone(model, tmp_path, monkeypatch,
                                                           group_photos):
    monkeypatch.setattr(F, "GROUP_PHOTOS", group_photos)
    size = SIZES[0]
    photos = [_write(tmp_path / "photos" / f"p{i}.png", _photo(i, size)) for i in range(7)]
    mask = _write(tmp_path / "watermark.png", _holes(0, size) * 255)
    report = F.inpaint_folder(model, tmp_path / "photos", mask=mask, out=tmp_path / "out",
                              verbose=0)
    assert report.written == [tmp_path / "out" / p.name for p in photos]
    assert report.done == [] and report.failed == []
    assert _files(tmp_path / "out") == [p.name for p in photos]
    for photo in photos:
        written = _read_back(tmp_path / "out" / photo.name)
        np.testing.assert_array_equal(written, _expected(model, photo, mask))
        known = load_mask_image(mask)[..., 0] == 0
        np.testing.assert_array_equal(written[known], read_image(photo)[known])


def test_a_mask_array_is_one_mask_too(model, tmp_path):
    photo = _write(tmp_path / "photos" / "a.png", _photo(0, SIZES[0]))
    holes = _holes(0, SIZES[0])
    F.inpaint_folder(model, tmp_path / "photos", mask=holes[..., None], out=tmp_path / "out",
                     verbose=0)
    np.testing.assert_array_equal(_read_back(tmp_path / "out" / "a.png"),
                                  _expected(model, photo, holes))
    with pytest.raises(ValueError, match=r"`mask` must be binary"):
        F.inpaint_folder(model, tmp_path / "photos", mask=holes * 255, out=tmp_path / "o2")


def test_masks_by_name_photos_of_several_sizes_formats_and_options(model, tmp_path):
    named = [("b", SIZES[0]), ("a", SIZES[1]), ("c", SIZES[2]), ("d", SIZES[0]),
             ("e", SIZES[1])]
    photos, masks = _masked_folder(tmp_path, named)
    grey = _write(photos / "f.png", _photo(9, SIZES[2])[..., 0])  # grey: written grey
    _write(masks / "f.bmp", _holes(9, SIZES[2]) * 255)  # a mask in another format
    jpeg = _write(photos / "g.jpg", _photo(10, SIZES[1]))
    _write(masks / "g.png", _holes(10, SIZES[1]) * 255)
    _write(masks / "unused.png", _holes(11, SIZES[1]) * 255)  # a mask without a photo
    report = F.inpaint_folder(model, photos, masks=masks, out=tmp_path / "out",
                              suffix="_filled", verbose=0, windows=False)
    names = ["a", "b", "c", "d", "e", "f"]
    assert report.written == [tmp_path / "out" / f"{n}_filled.png" for n in names] + [
        tmp_path / "out" / "g_filled.jpg"]
    for name in names[:-1]:
        mask = next(masks.glob(f"{name}.*"))
        np.testing.assert_array_equal(_read_back(tmp_path / "out" / f"{name}_filled.png"),
                                      _expected(model, photos / f"{name}.png", mask,
                                                windows=False))
    # The grey photo: filled as RGB, the channels' mean written in one channel.
    filled = _expected(model, grey, masks / "f.bmp", windows=False, grey=True)
    np.testing.assert_array_equal(_read_back(tmp_path / "out" / "f_filled.png"), filled)
    assert (tmp_path / "out" / "g_filled.jpg").read_bytes()[:2] == b"\xff\xd8"  # a JPEG
    assert cv2.imread(str(tmp_path / "out" / "g_filled.jpg")).shape == (*SIZES[1], 3)
    assert grey.exists() and jpeg.exists()


def _store(path: Path, pixels: np.ndarray) -> Path:
    """Grey, RGB or RGBA pixels of any depth, written with OpenCV (BGR order)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stored = pixels if pixels.ndim == 2 else pixels[:, :, [2, 1, 0, 3][:pixels.shape[2]]]
    assert cv2.imwrite(str(path), stored)
    return path


def _filled_as_stored(model, stored: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """The reference for the holes: `inpaint` on the photo's RGB as floats, alone, the
    three channels' mean for a grey photo, at the photo's depth."""
    scale = np.iinfo(stored.dtype).max
    rgb = np.repeat(stored[..., None], 3, axis=2) if stored.ndim == 2 else stored[..., :3]
    filled = inpaint(model, rgb.astype(np.float32) / np.float32(scale), holes)
    return np.round((filled.mean(axis=-1) if stored.ndim == 2 else filled) * scale)


def test_16_bit_grey_and_rgba_photos_come_back_as_they_came(model, tmp_path):
    rng = np.random.default_rng(5)
    size = SIZES[0]
    photos = {"alpha.png": rng.integers(0, 256, (*size, 4)).astype(np.uint8),
              "alpha16.tif": rng.integers(0, 65536, (*size, 4)).astype(np.uint16),
              "deep.png": rng.integers(0, 65536, (*size, 3)).astype(np.uint16),
              "grey.png": rng.integers(0, 256, size).astype(np.uint8),
              "grey16.png": rng.integers(0, 65536, size).astype(np.uint16),
              # 8 bits beside 16 of one size: never one `inpaint` call together.
              "plain.png": rng.integers(0, 256, (*size, 3)).astype(np.uint8)}
    for name, pixels in photos.items():
        _store(tmp_path / "photos" / name, pixels)
    holes = _holes(3, size)
    report = F.inpaint_folder(model, tmp_path / "photos", mask=holes, out=tmp_path / "out",
                              verbose=0)
    assert sorted(p.name for p in report.written) == sorted(photos)
    hole = holes > 0
    for name, stored in photos.items():
        out = _read_back(tmp_path / "out" / name)
        assert (out.dtype, out.shape) == (stored.dtype, stored.shape), name
        np.testing.assert_array_equal(out[~hole], stored[~hole], err_msg=name)
        colour = out[..., :3] if out.ndim == 3 else out
        np.testing.assert_array_equal(colour[hole], _filled_as_stored(model, stored, holes)[hole],
                                      err_msg=name)
        if stored.ndim == 3 and stored.shape[2] == 4:
            np.testing.assert_array_equal(out[..., 3], stored[..., 3], err_msg=name)
    # A format without alpha or 16 bits: the file as it holds it (8-bit RGB), one file.
    jpeg = tmp_path / "deep.jpg"
    assert F.inpaint_file(model, tmp_path / "photos" / "alpha16.tif", _store(
        tmp_path / "holes.png", holes * 255), jpeg) == int(holes.sum())
    assert cv2.imread(str(jpeg), cv2.IMREAD_UNCHANGED).shape == (*size, 3)
    assert cv2.imread(str(jpeg), cv2.IMREAD_UNCHANGED).dtype == np.uint8


def test_a_glob_and_a_list_of_files_choose_the_photos(model, tmp_path):
    photos, masks = _masked_folder(tmp_path, [("a", SIZES[0]), ("b", SIZES[1])])
    _write(photos / "sub" / "c.png", _photo(5, SIZES[2]))
    _write(masks / "c.png", _holes(5, SIZES[2]) * 255)
    (photos / "notes.txt").write_text("not a photo")
    found = F.plan_folder(str(photos / "**" / "*.png"), masks=masks, out=tmp_path / "out")
    assert [job.photo.name for job in found.jobs] == ["a.png", "b.png", "c.png"]
    assert [job.photo.name for job in F.plan_folder(photos, masks=masks,
                                                    out=tmp_path / "out").jobs] == [
        "a.png", "b.png"]  # a folder: its own files, not its sub-folders'
    listed = F.plan_folder([photos / "b.png", photos / "sub" / "c.png"], masks=masks,
                           out=tmp_path / "out")
    assert [(job.photo.name, job.mask.name) for job in listed.jobs] == [
        ("b.png", "b.png"), ("c.png", "c.png")]


def test_a_missing_mask_stops_before_the_model_runs_unless_skip_bad(model, tmp_path):
    photos, masks = _masked_folder(tmp_path, [("a", SIZES[0]), ("b", SIZES[1]),
                                              ("c", SIZES[2])])
    (masks / "b.png").unlink()
    _write(photos / "d.png", _photo(4, SIZES[0]))
    never = Failing(model, fail_at=1)
    with pytest.raises(F.PhotoError, match=r"b\.png: no mask named 'b\.\*' in .*masks "
                                           r"\(and 1 more such photo\)") as caught:
        F.inpaint_folder(never, photos, masks=masks, out=tmp_path / "out", verbose=0)
    assert caught.value.photo == photos / "b.png" and never.calls == 0
    assert _files(tmp_path / "out") == []

    report = F.inpaint_folder(model, photos, masks=masks, out=tmp_path / "out",
                              skip_bad=True, verbose=0)
    assert [(p.name, reason) for p, reason in report.failed] == [
        ("b.png", f"no mask named 'b.*' in {masks}"), ("d.png", f"no mask named 'd.*' in {masks}")]
    assert _files(tmp_path / "out") == ["a.png", "c.png"]
    for name in ("a", "c"):
        np.testing.assert_array_equal(_read_back(tmp_path / "out" / f"{name}.png"),
                                      _expected(model, photos / f"{name}.png",
                                                masks / f"{name}.png"))


def test_bad_files_are_named_and_skipped_and_the_rest_is_written(model, tmp_path):
    photos, masks = _masked_folder(tmp_path, [(n, SIZES[i % 2]) for i, n in
                                              enumerate("abcdefg")])
    _write(photos / "b.png", CORRUPT)  # a corrupt photo
    _write(photos / "c.png", b"")  # an empty one
    _write(masks / "d.png", _holes(3, SIZES[0]) * 255)  # a mask of another size
    _write(masks / "e.png", CORRUPT)  # a corrupt mask
    _write(masks / "f.jpg", _holes(5, SIZES[0]) * 255)  # two masks for f
    report = F.inpaint_folder(model, photos, masks=masks, out=tmp_path / "out",
                              skip_bad=True, verbose=0)
    reasons = {p.name: reason for p, reason in report.failed}
    assert reasons == {
        "f.png": f"2 masks named 'f.*' in {masks}: f.jpg, f.png",
        "b.png": "cannot be read: empty, corrupt or not an image",
        "c.png": "cannot be read: empty, corrupt or not an image",
        "d.png": f"the photo is 48x64 but its mask {masks / 'd.png'} is 37x45",
        "e.png": f"its mask {masks / 'e.png'} cannot be read: empty, corrupt or not an image"}
    assert _files(tmp_path / "out") == ["a.png", "g.png"]
    for name in ("a", "g"):
        np.testing.assert_array_equal(_read_back(tmp_path / "out" / f"{name}.png"),
                                      _expected(model, photos / f"{name}.png",
                                                masks / f"{name}.png"))


def test_without_skip_bad_the_first_bad_photo_stops_the_run_after_the_ones_before(
        model, tmp_path):
    photos, masks = _masked_folder(tmp_path, [(n, SIZES[0]) for n in "abcd"])
    _write(photos / "c.png", CORRUPT)
    with pytest.raises(F.PhotoError, match=r"c\.png: cannot be read: empty, corrupt"):
        F.inpaint_folder(model, photos, masks=masks, out=tmp_path / "out", verbose=0)
    assert _files(tmp_path / "out") == ["a.png", "b.png"]


def test_one_mask_and_photos_of_another_size(model, tmp_path):
    photos = [_write(tmp_path / "photos" / f"{name}.png", _photo(i, size))
              for i, (name, size) in enumerate([("a", SIZES[0]), ("b", SIZES[1]),
                                                ("c", SIZES[0])])]
    mask = _write(tmp_path / "mask.png", _holes(0, SIZES[0]) * 255)
    report = F.inpaint_folder(model, tmp_path / "photos", mask=mask, out=tmp_path / "out",
                              skip_bad=True, verbose=0)
    assert report.failed == [(photos[1], f"the photo is 48x64 but the mask {mask} is 37x45")]
    assert _files(tmp_path / "out") == ["a.png", "c.png"]
    with pytest.raises(F.PhotoError, match="the photo is 48x64 but the mask"):
        F.inpaint_folder(model, tmp_path / "photos", mask=mask, out=tmp_path / "o2",
                         verbose=0)


@pytest.mark.parametrize("fail_at", [1, 4])
def test_an_interrupted_run_keeps_what_it_finished_and_a_rerun_completes_it(
        model, tmp_path, monkeypatch, fail_at):
    monkeypatch.setattr(F, "GROUP_PHOTOS", 1)  # one photo per model call (whole image)
    photos, masks = _masked_folder(tmp_path, [(f"p{i}", SIZES[i % 3]) for i in range(7)])
    crashing = Failing(model, fail_at=fail_at)
    with pytest.raises(RuntimeError, match="the model stopped"):
        F.inpaint_folder(crashing, photos, masks=masks, out=tmp_path / "out", verbose=0,
                         windows=False)
    finished = [f"p{i}.png" for i in range(fail_at - 1)]
    assert _files(tmp_path / "out") == finished  # complete files, no temporary ones

    counting = Failing(model)
    report = F.inpaint_folder(counting, photos, masks=masks, out=tmp_path / "out",
                              verbose=0, windows=False)
    assert [p.name for p in report.done] == finished
    assert [p.name for p in report.written] == [f"p{i}.png" for i in range(fail_at - 1, 7)]
    assert counting.calls == 7 - len(finished)
    assert _files(tmp_path / "out") == [f"p{i}.png" for i in range(7)]
    for i in range(7):
        np.testing.assert_array_equal(
            _read_back(tmp_path / "out" / f"p{i}.png"),
            _expected(Failing(model), photos / f"p{i}.png", masks / f"p{i}.png",
                      windows=False))
    again = F.inpaint_folder(counting, photos, masks=masks, out=tmp_path / "out", verbose=0)
    assert (len(again.done), again.written, counting.calls) == (7, [], 7 - len(finished))
    redone = F.inpaint_folder(counting, photos, masks=masks, out=tmp_path / "out",
                              verbose=0, overwrite=True, windows=False)
    assert len(redone.written) == 7 and redone.done == []


def test_outputs_never_replace_photos_or_masks_unless_asked(model, tmp_path):
    photos, masks = _masked_folder(tmp_path, [("a", SIZES[0]), ("b", SIZES[1])])
    original = read_image(photos / "a.png")
    with pytest.raises(ValueError, match=r"The output .*a\.png would replace its photo"):
        F.inpaint_folder(model, photos, masks=masks, out=photos, verbose=0)
    with pytest.raises(ValueError, match=r"The output .*a\.png would replace a mask file"):
        F.inpaint_folder(model, photos, masks=masks, out=masks, verbose=0)
    with pytest.raises(ValueError, match=r"would replace a mask file"):
        F.inpaint_folder(model, photos, mask=masks / "a.png", out=masks, suffix="",
                         verbose=0, overwrite=True)
    np.testing.assert_array_equal(read_image(photos / "a.png"), original)

    # Beside the photos with a suffix: a re-run takes a_f.png for a.png's output.
    first = F.inpaint_folder(model, photos, masks=masks, out=photos, suffix="_f", verbose=0)
    assert _files(photos) == ["a.png", "a_f.png", "b.png", "b_f.png"]
    again = F.inpaint_folder(model, photos, masks=masks, out=photos, suffix="_f", verbose=0)
    assert (again.written, again.done, again.failed) == ([], [photos / "a.png",
                                                               photos / "b.png"], [])
    assert len(first.written) == 2

    expected = _expected(model, photos / "a.png", masks / "a.png")
    F.inpaint_folder(model, photos / "a.png", masks=masks, out=photos, overwrite=True,
                     verbose=0)
    np.testing.assert_array_equal(_read_back(photos / "a.png"), expected)


def test_a_one_mask_file_among_the_photos_is_not_a_photo(model, tmp_path):
    _write(tmp_path / "photos" / "a.png", _photo(0, SIZES[0]))
    mask = _write(tmp_path / "photos" / "mask.png", _holes(0, SIZES[0]) * 255)
    plan = F.plan_folder(tmp_path / "photos", mask=mask, out=tmp_path / "out")
    assert [job.photo.name for job in plan.jobs] == ["a.png"]


def _given(root: Path, **changes) -> dict:
    """inpaint_folder's arguments for the folder of `_masked_folder`, with `changes`
    (a value of None drops the argument)."""
    given = {"images": root / "photos", "masks": root / "masks", "out": root / "out",
             **changes}
    return {key: value for key, value in given.items() if value is not None}


@pytest.mark.parametrize("changes, error, message", [
    (lambda r: {"masks": None}, ValueError, r"Give one mask .*, not neither"),
    (lambda r: {"mask": r / "masks" / "a.png"}, ValueError, r"Give one mask .*, not both"),
    (lambda r: {"images": r / "none"}, FileNotFoundError, "Photo folder or file not found"),
    (lambda r: {"images": r / "empty"}, ValueError, r"No image files \(.png, .jpg"),
    (lambda r: {"images": str(r / "photos" / "*.gif")}, ValueError, r"No image files .* match"),
    (lambda r: {"images": []}, ValueError, "`images` is an empty list"),
    (lambda r: {"images": [r / "photos" / "zz.png"]}, FileNotFoundError, "Photo not found"),
    (lambda r: {"masks": r / "nomasks"}, FileNotFoundError, "Mask folder not found"),
    (lambda r: {"masks": None, "mask": r / "none.png"}, FileNotFoundError,
     "Mask image not found"),
    (lambda r: {"masks": r / "photos"}, ValueError, "also holds the photos"),
    (lambda r: {"out": r / "photos" / "a.png"}, ValueError, "`out` must be a folder"),
    (lambda r: {"suffix": "x/y"}, ValueError, "`suffix` must be a string without slashes"),
    (lambda r: {"images": [r / "photos" / "a.png", r / "other" / "a.png"]}, ValueError,
     r"a\.png and .*a\.png would both be written to"),
    (lambda r: {"prefetch": 0}, ValueError, "`prefetch` must be a positive integer"),
    (lambda r: {"verbose": 3}, ValueError, "`verbose` must be 0, 1 or 2"),
])
def test_bad_arguments_say_what_is_wrong(model, tmp_path, changes, error, message):
    _masked_folder(tmp_path, [("a", SIZES[0])])
    _write(tmp_path / "other" / "a.png", _photo(1, SIZES[0]))
    (tmp_path / "empty").mkdir()
    given = _given(tmp_path, **{"verbose": 0, **changes(tmp_path)})
    with pytest.raises(error, match=message):
        F.inpaint_folder(model, given.pop("images"), **given)
    assert _files(tmp_path / "out") == []


def test_reading_and_writing_run_in_background_threads(model, tmp_path, monkeypatch):
    threads = {"read": set(), "write": set()}
    real_read, real_write = F.read_image_as_is, F.write_image

    def read(path):
        threads["read"].add(threading.current_thread().name)
        return real_read(path)

    def write(path, filled, like):
        threads["write"].add(threading.current_thread().name)
        return real_write(path, filled, like)

    monkeypatch.setattr(F, "read_image_as_is", read)
    monkeypatch.setattr(F, "write_image", write)
    photos, masks = _masked_folder(tmp_path, [("a", SIZES[0]), ("b", SIZES[1])])
    F.inpaint_folder(model, photos, masks=masks, out=tmp_path / "out", verbose=0)
    assert threads == {"read": {"inpaint_folder_reader"}, "write": {"inpaint_folder_writer"}}
    assert threading.main_thread().name not in threads["read"] | threads["write"]


def test_a_failed_write_stops_the_run(model, tmp_path, monkeypatch):
    def broken(path, filled, like):
        raise OSError(f"Cannot write {path}")

    monkeypatch.setattr(F, "write_image", broken)
    photos, masks = _masked_folder(tmp_path, [("a", SIZES[0]), ("b", SIZES[1])])
    with pytest.raises(OSError, match="Cannot write"):
        F.inpaint_folder(model, photos, masks=masks, out=tmp_path / "out", verbose=0)


@pytest.mark.parametrize("verbose", [1, 2])
def test_progress_shows_the_rate_and_the_time_left(model, tmp_path, capsys, verbose):
    photos, masks = _masked_folder(tmp_path, [(n, SIZES[i]) for i, n in enumerate("abc")])
    (masks / "c.png").unlink()
    F.inpaint_folder(model, photos, masks=masks, out=tmp_path / "out", verbose=verbose,
                     skip_bad=True)
    (tmp_path / "out" / "b.png").unlink()
    F.inpaint_folder(model, photos, masks=masks, out=tmp_path / "out", verbose=verbose,
                     skip_bad=True)
    printed = capsys.readouterr().out
    steps = printed.replace("\r", "\n").splitlines()
    assert any(line.startswith("1/2 [") and "photos/s," in line and " left" in line
               for line in steps), printed
    assert any(line.startswith("2/2 [========================]") and " in all" in line
               for line in steps), printed
    assert "1 photo already done, skipped" in printed
    assert ("\r" in printed) == (verbose == 1)


# --------------------------------------------------------------------------- the CLI


def _call(argv) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            code = cli.main([str(a) for a in argv])
        except SystemExit as exit_info:  # argparse's usage errors
            code = exit_info.code
    return code, out.getvalue()


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    """A tiny library model as a .keras file, as the CLI loads it."""
    from inpaint_tf.models import build_unet_autoencoder

    keras.utils.set_random_seed(1)
    network = build_unet_autoencoder((None, None, 3), filters=(4, 8), bottleneck_filters=8)
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    network.save(path)
    return path


def _stderr_lines(capfd) -> list[str]:
    return [line for line in capfd.readouterr().err.splitlines() if line.strip()]


def test_cli_one_mask_for_a_folder_then_a_rerun_resumes(saved_model, tmp_path, capfd):
    from inpaint_tf.presets.loading import load_inference_model

    photos = [_write(tmp_path / "photos" / f"{n}.png", _photo(i, SIZES[0]))
              for i, n in enumerate("abc")]
    mask = _write(tmp_path / "mask.png", _holes(0, SIZES[0]) * 255)
    code, printed = _call(["inpaint", "--model", saved_model, "--images", tmp_path / "photos",
                           "--mask", mask, "--out", tmp_path / "out"])
    assert code == 0 and f"wrote 3 photos to {tmp_path / 'out'}" in printed
    assert "3/3 [" in printed and "photos/s" in printed
    loaded = load_inference_model(saved_model)
    for photo in photos:
        np.testing.assert_array_equal(_read_back(tmp_path / "out" / photo.name),
                                      _expected(loaded, photo, mask))
    (tmp_path / "out" / "b.png").unlink()
    code, printed = _call(["inpaint", "--model", saved_model, "--images",
                           tmp_path / "photos" / "*.png", "--mask", mask, "--out",
                           tmp_path / "out"])
    assert code == 0 and "wrote 1 photo to" in printed and "2 already done, skipped" in printed
    assert _stderr_lines(capfd) == []


def test_cli_masks_by_name_with_skip_bad_lists_failures_and_exits_non_zero(
        saved_model, tmp_path, capfd):
    photos, masks = _masked_folder(tmp_path, [("a", SIZES[0]), ("b", SIZES[1]),
                                              ("c", SIZES[2]), ("d", SIZES[0])])
    (masks / "b.png").unlink()
    _write(photos / "c.png", CORRUPT)
    capfd.readouterr()
    code, printed = _call(["inpaint", "--model", saved_model, "--images", photos, "--masks",
                           masks, "--out", tmp_path / "out", "--suffix", "_x", "--skip-bad"])
    assert code == 2
    assert "wrote 2 photos" in printed and "2 failed" in printed
    assert _stderr_lines(capfd) == [
        f"inpaint-tf: failed: {photos / 'b.png'}: no mask named 'b.*' in {masks}",
        f"inpaint-tf: failed: {photos / 'c.png'}: cannot be read: empty, corrupt or not an "
        "image",
        "inpaint-tf: error: 2 photos failed (listed above)"]
    assert _files(tmp_path / "out") == ["a_x.png", "d_x.png"]


@pytest.mark.parametrize("case, argv, message", [
    ("a photo without its mask",
     lambda r, m: ["--images", r / "photos", "--masks", r / "masks", "--out", r / "out"],
     r"error: .*b\.png: no mask named 'b\.\*' in .*masks \(--skip-bad goes on past such "
     r"photos; a re-run skips the photos written\)$"),
    ("a mask of another size",
     lambda r, m: ["--images", r / "photos", "--mask", r / "masks" / "a.png", "--out",
                   r / "out"],
     r"error: .*c\.png: the photo is 30x30 but the mask .*a\.png is 37x45 \(--skip-bad"),
    ("outputs over the photos",
     lambda r, m: ["--images", r / "photos", "--mask", r / "masks" / "a.png", "--out",
                   r / "photos"],
     r"error: The output .*a\.png would replace its photo"),
    ("--image with --masks",
     lambda r, m: ["--image", r / "photos" / "a.png", "--masks", r / "masks", "--out",
                   r / "o.png"],
     r"error: --masks, --suffix, --overwrite and --skip-bad go with --images"),
    ("--image with --skip-bad",
     lambda r, m: ["--image", r / "photos" / "a.png", "--mask", r / "masks" / "a.png",
                   "--out", r / "o.png", "--skip-bad"],
     r"error: --masks, --suffix, --overwrite and --skip-bad go with --images"),
    ("--image and --images",
     lambda r, m: ["--image", r / "photos" / "a.png", "--images", r / "photos", "--mask",
                   r / "masks" / "a.png", "--out", r / "o.png"],
     r"inpaint-tf inpaint: error: argument --images: not allowed with argument --image"),
    ("no mask", lambda r, m: ["--images", r / "photos", "--out", r / "out"],
     r"error: one of the arguments --mask --masks is required"),
    ("a missing photo folder",
     lambda r, m: ["--images", r / "none", "--masks", r / "masks", "--out", r / "out"],
     r"error: Photo folder or file not found"),
])
def test_cli_errors_are_one_line_with_exit_code_2(saved_model, tmp_path, capfd, case, argv,
                                                  message):
    photos, masks = _masked_folder(tmp_path, [("a", SIZES[0]), ("b", SIZES[0]),
                                              ("c", SIZES[2])])
    (masks / "b.png").unlink()
    capfd.readouterr()
    code, _ = _call(["inpaint", "--model", saved_model, *argv(tmp_path, saved_model)])
    lines = _stderr_lines(capfd)
    assert code == 2 and len(lines) == 1 and "Traceback" not in lines[0], lines
    assert lines[0].startswith("inpaint-tf") and re.search(message, lines[0]), lines[0]
    # Missing masks are found before any work; a bad size when its photo is read.
    assert _files(tmp_path / "out") == (["a.png", "b.png"] if "size" in case else [])


def test_cli_single_image_form_still_writes_one_file(saved_model, tmp_path):
    from inpaint_tf.presets.loading import load_inference_model

    photo = _write(tmp_path / "a.png", _photo(0, SIZES[1]))
    mask = _write(tmp_path / "m.png", _holes(0, SIZES[1]) * 255)
    code, printed = _call(["inpaint", "--model", saved_model, "--image", photo, "--mask", mask,
                           "--out", tmp_path / "o.png"])
    assert code == 0 and "wrote" in printed
    np.testing.assert_array_equal(_read_back(tmp_path / "o.png"),
                                  _expected(load_inference_model(saved_model), photo, mask))


def test_cli_16_bit_grey_photo_is_written_16_bit_grey(saved_model, tmp_path):
    from inpaint_tf.presets.loading import load_inference_model

    grey = np.random.default_rng(2).integers(0, 65536, SIZES[1]).astype(np.uint16)
    holes = _holes(4, SIZES[1])
    code, printed = _call(["inpaint", "--model", saved_model, "--image",
                           _store(tmp_path / "scan.tif", grey), "--mask",
                           _write(tmp_path / "m.png", holes * 255), "--out",
                           tmp_path / "o.png"])
    assert code == 0 and f"({int(holes.sum())} hole pixels filled)" in printed
    out = _read_back(tmp_path / "o.png")
    assert out.dtype == np.uint16 and out.shape == SIZES[1]
    np.testing.assert_array_equal(out[holes == 0], grey[holes == 0])
    expected = _filled_as_stored(load_inference_model(saved_model), grey, holes)
    np.testing.assert_array_equal(out[holes > 0], expected[holes > 0])


def test_cli_warns_in_one_line_of_a_mask_that_is_almost_all_hole(saved_model, tmp_path,
                                                                  capfd):
    photo = _write(tmp_path / "a.png", _photo(0, SIZES[1]))
    inverted = 1 - _holes(0, SIZES[1])
    share = f"{inverted.mean():.1%}"
    capfd.readouterr()
    code, _ = _call(["inpaint", "--model", saved_model, "--image", photo, "--mask",
                     _write(tmp_path / "inverted.png", inverted * 255), "--out",
                     tmp_path / "o.png"])
    tail = ("is hole (over 90%): almost no known pixels to fill it from. The mask may be "
            "inverted: 1 (in a file, non-zero) = hole, 0 = known")
    assert code == 0 and _stderr_lines(capfd) == [
        f"inpaint-tf: warning: {share} of the mask {tail}"]
    # A folder with the inverted mask: one line, naming the mask file, for its photos.
    for name in "bc":
        _write(tmp_path / "photos" / f"{name}.png", _photo(1, SIZES[1]))
        _write(tmp_path / "masks" / f"{name}.png", _holes(0, SIZES[1]) * 255)
    code, _ = _call(["inpaint", "--model", saved_model, "--images", tmp_path / "photos",
                     "--mask", tmp_path / "inverted.png", "--out", tmp_path / "out"])
    assert code == 0 and _stderr_lines(capfd) == [
        f"inpaint-tf: warning: {share} of the mask {tmp_path / 'inverted.png'} {tail}"]
    # A mask each: the one almost all hole is named, the other photo fills quietly.
    _write(tmp_path / "masks" / "c.png", inverted * 255)
    code, _ = _call(["inpaint", "--model", saved_model, "--images", tmp_path / "photos",
                     "--masks", tmp_path / "masks", "--out", tmp_path / "out2"])
    assert code == 0 and _stderr_lines(capfd) == [
        f"inpaint-tf: warning: {share} of the mask {tmp_path / 'masks' / 'c.png'} {tail}"]
    # Half the photo: no warning.
    half = np.zeros(SIZES[1], np.uint8)
    half[: SIZES[1][0] // 2] = 1
    code, _ = _call(["inpaint", "--model", saved_model, "--image", photo, "--mask",
                     _write(tmp_path / "half.png", half * 255), "--out", tmp_path / "h.png"])
    assert code == 0 and _stderr_lines(capfd) == []


def test_cli_help_names_the_released_models_and_version_prints_the_version(capsys):
    from inpaint_tf import __version__
    from inpaint_tf.presets.released import pretrained_names

    names = pretrained_names()
    assert "photo_unet" in names
    code, printed = _call(["--help"])
    assert code == 0 and f"Released models (--model NAME, no training): {', '.join(names)}" in (
        " ".join(printed.split()))
    code, printed = _call(["inpaint", "--help"])
    text = " ".join(printed.split())
    assert code == 0 and f"released model name: {', '.join(names)}" in text
    assert "inpaint-tf inpaint --model photo_unet --image photo.png" in text
    code, printed = _call(["--version"])
    assert code == 0 and printed == f"inpaint-tf {__version__}\n"


# --------------------------------------------------------------------------- benchmark


def test_the_benchmark_part_runs_at_a_tiny_size(model):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import dataclasses

    import _folders
    from run import QUICK

    settings = dataclasses.replace(QUICK, folders_size=(40, 56), folders_photos=2,
                                   folders_blemishes=2)
    result = _folders.folders_table(settings, model=model)
    assert result["photos"] == 2 and result["model"] == "tiny"
    for key in ("read_seconds", "model_seconds", "write_seconds", "folder_seconds"):
        assert result[key] > 0
    assert result["folder_over_model"] == pytest.approx(
        result["folder_photos_per_second"] / result["model_photos_per_second"])
    assert "| 2 JPEGs 56x40 (0.00224 MP)" in _folders.folders_md(result)
