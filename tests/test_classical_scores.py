"""Classical methods' photo rows kept in a file: reused on the same key without running
the method, recomputed when any part of the key differs, kept row by row through an
interrupted evaluation, a bad file refused by name, the model's rows never stored."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest

from inpaint_tf.evaluation import classical_scores as CS
from inpaint_tf.evaluation import photos as PE
from inpaint_tf.evaluation import runs
from inpaint_tf.evaluation.baselines import (
    BASELINES,
    CLASSICAL,
    MeanFillBaseline,
    NavierStokesBaseline,
    TeleaBaseline,
)
from inpaint_tf.masks import eval_photo_masks, mask_set_checksum

METHODS = ("navier_stokes", "telea")
TIMES = ("seconds", "seconds_per_photo")


def _photos(seed=0, sizes=((40, 56), (48, 48))) -> PE.PhotoSet:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:64, 0:64] / 64
    images = []
    for h, w in sizes:
        base = np.stack([x, y, 0.5 + 0.4 * np.sin(9 * x * y)], -1)[:h, :w]
        noisy = np.clip(base + rng.normal(0, 0.05, base.shape), 0, 1)
        images.append(np.round(255 * noisy).astype(np.uint8))
    return PE.PhotoSet([f"{n}.png" for n in range(len(images))], images)


class Calls:
    """Counts each baseline's predict calls, and can fail the n-th call."""

    def __init__(self):
        self.methods: list[str] = []
        self.fail_at: int | None = None

    def counting(self, base):
        calls = self

        class Counted(base):
            def predict(self, masked_images, masks):
                calls.methods.append(self.name)
                if calls.fail_at is not None and len(calls.methods) == calls.fail_at:
                    raise RuntimeError("killed mid-evaluation")
                return super().predict(masked_images, masks)

        return Counted


@pytest.fixture
def calls(monkeypatch):
    counter = Calls()
    for name, base in (("navier_stokes", NavierStokesBaseline), ("telea", TeleaBaseline),
                       ("mean_fill", MeanFillBaseline)):
        monkeypatch.setitem(BASELINES, name, counter.counting(base))
    return counter


def _compare(photos, path, kinds=("blobs",), seed=3, **options):
    options.setdefault("baselines", METHODS)
    return PE.compare_on_photos(None, photos, kinds, seed=seed, classical_scores=path,
                                **options)


def _text(rows) -> str:
    """Rows as JSON text: equal text, equal rows (NaN figures included)."""
    return json.dumps(rows, sort_keys=True)


def _without_times(rows) -> str:
    return _text([{k: v for k, v in row.items() if k not in TIMES} for row in rows])


def _stored(path) -> list[dict]:
    return json.loads(path.read_text())["rows"]


# --------------------------------------------------------------------------- reuse


def test_a_second_evaluation_reuses_every_row_without_running_a_method(tmp_path, calls):
    photos, path = _photos(), tmp_path / "scores.json"
    first = _compare(photos, path, ("blobs", "thin_strokes"))
    assert calls.methods == ["navier_stokes"] * 2 + ["telea"] * 2 + \
        ["navier_stokes"] * 2 + ["telea"] * 2  # 2 photos per method and family
    assert len(_stored(path)) == 4
    calls.methods.clear()
    again = _compare(photos, path, ("blobs", "thin_strokes"))
    assert calls.methods == []
    # Exactly as computed: each method's measured seconds included.
    assert _text(again) == _text(first)
    assert [(r["masks"], r["name"], r["mask_seed"]) for r in again] == [
        (kind, method, 3) for kind in ("blobs", "thin_strokes") for method in METHODS]


def test_a_method_reused_only_is_taken_where_stored_and_otherwise_left_out(tmp_path, calls):
    photos, path = _photos(), tmp_path / "scores.json"
    stored = _compare(photos, path, ("blobs",))
    calls.methods.clear()
    rows = _compare(photos, path, ("blobs", "thin_strokes"), reuse_only="telea")
    assert calls.methods == ["navier_stokes"] * 2  # thin strokes; telea never runs
    assert [(r["masks"], r["name"]) for r in rows] == [
        ("blobs", "navier_stokes"), ("blobs", "telea"), ("thin_strokes", "navier_stokes")]
    assert _text(rows[:2]) == _text(stored)
    assert PE.best_label(rows, "thin_strokes", METHODS) == \
        "navier_stokes (best of navier_stokes)"


@pytest.mark.parametrize("options, message", [
    ({"reuse_only": "mean_fill"}, "not among the baselines"),
    ({"reuse_only": ("telea",), "classical_scores": None}, "give `classical_scores`"),
    ({"reuse_only": "tealeaf"}, "Unknown baseline"),
])
def test_reuse_only_is_checked_before_any_method_runs(tmp_path, calls, options, message):
    options = {"classical_scores": tmp_path / "scores.json", **options}
    with pytest.raises(ValueError, match=message):
        PE.compare_on_photos(None, _photos(), ("blobs",), baselines=METHODS, **options)
    assert calls.methods == []


def test_stored_rows_are_those_computed_without_a_file(tmp_path):
    photos = _photos()
    kinds = ("blobs", "free_form_area")  # free_form_area: with its hole-share bins
    stored = _compare(photos, tmp_path / "scores.json", kinds)
    reused = _compare(photos, tmp_path / "scores.json", kinds)
    fresh = PE.compare_on_photos(None, photos, kinds, seed=3, baselines=METHODS)
    assert _without_times(reused) == _without_times(stored) == _without_times(fresh)
    assert "area_bins" in reused[-1] and "area_bins" not in reused[0]


def test_an_object_is_as_good_as_its_path(tmp_path, calls):
    photos = _photos()
    scores = CS.ClassicalScores(tmp_path / "scores.json")
    first = _compare(photos, scores)
    assert len(scores) == 2 and len(CS.ClassicalScores(scores.path)) == 2
    calls.methods.clear()
    assert _text(_compare(photos, str(scores.path))) == _text(first)
    assert calls.methods == []


def _other_pixels(photos):
    changed = [image.copy() for image in photos.images]
    changed[1][0, 0, 0] ^= 1  # one level of one pixel, away from any hole
    return PE.PhotoSet(photos.names, changed)


@pytest.mark.parametrize("change", [
    pytest.param(lambda p, m: {"photos": _other_pixels(p)}, id="other pixels"),
    pytest.param(lambda p, m: {"photos": PE.PhotoSet(p.names[::-1], p.images[::-1])},
                 id="photos in another order"),
    pytest.param(lambda p, m: {"seed": 4}, id="another seed"),
    pytest.param(lambda p, m: {"mask_kinds": ("thin_strokes",)}, id="another family"),
    pytest.param(lambda p, m: {"area_bins_for": ("blobs",)}, id="with area bins"),
    pytest.param(lambda p, m: m.setattr(cv2, "__version__", "99.0.0") or {},
                 id="another OpenCV version"),
])
def test_any_other_key_is_computed_anew_and_stored_beside(tmp_path, calls, monkeypatch,
                                                           change):
    photos, path, version = _photos(), tmp_path / "scores.json", cv2.__version__
    first = _compare(photos, path)
    calls.methods.clear()
    options = {"photos": photos, "mask_kinds": ("blobs",), "seed": 3, "baselines": METHODS,
               **change(photos, monkeypatch)}
    other = PE.compare_on_photos(None, classical_scores=path, **options)
    assert calls.methods == ["navier_stokes"] * 2 + ["telea"] * 2
    fresh = PE.compare_on_photos(None, **options)
    assert _without_times(other) == _without_times(fresh)
    assert len(_stored(path)) == 4  # the first key's rows kept beside
    monkeypatch.setattr(cv2, "__version__", version)
    calls.methods.clear()
    assert _text(_compare(photos, path)) == _text(first)
    assert calls.methods == []


def test_another_scikit_image_version_recomputes_biharmonic(tmp_path, monkeypatch):
    import skimage

    photos, path, version = _photos(sizes=((24, 32),)), tmp_path / "scores.json", \
        skimage.__version__
    _compare(photos, path, baselines=("biharmonic",))
    runs_of = []

    class Counted(BASELINES["biharmonic"]):
        def predict(self, masked_images, masks):
            runs_of.append(skimage.__version__)
            return super().predict(masked_images, masks)

    monkeypatch.setitem(BASELINES, "biharmonic", Counted)
    _compare(photos, path, baselines=("biharmonic",))
    assert runs_of == []
    monkeypatch.setattr(skimage, "__version__", "99.0")
    _compare(photos, path, baselines=("biharmonic",))
    assert runs_of == ["99.0"]
    assert {row["key"]["package"] for row in _stored(path)} == {
        f"scikit-image {version}", "scikit-image 99.0"}


# --------------------------------------------------------------------------- interruption


def test_an_interrupted_evaluation_keeps_its_rows_and_a_rerun_computes_the_rest(tmp_path,
                                                                                calls):
    photos, path = _photos(), tmp_path / "scores.json"
    kinds = ("blobs", "thin_strokes", "object_boxes")
    calls.fail_at = 7  # in the second family, navier_stokes done, at telea's first photo
    with pytest.raises(RuntimeError, match="killed"):
        _compare(photos, path, kinds)
    assert sorted((row["key"]["masks"], row["key"]["method"]) for row in _stored(path)) == [
        ("blobs", "navier_stokes"), ("blobs", "telea"), ("thin_strokes", "navier_stokes")]
    calls.fail_at = None
    calls.methods.clear()
    resumed = _compare(photos, path, kinds)
    assert calls.methods == ["telea"] * 2 + ["navier_stokes"] * 2 + ["telea"] * 2
    fresh = PE.compare_on_photos(None, photos, kinds, seed=3, baselines=METHODS)
    assert _without_times(resumed) == _without_times(fresh)
    assert len(_stored(path)) == 6


# --------------------------------------------------------------------------- the model


def test_the_models_rows_and_other_fills_are_never_stored(tmp_path, calls, monkeypatch):
    inpainted = []

    def fake_inpaint(model, masked, masks, **options):
        inpainted.append(model)
        return MeanFillBaseline().predict(masked, masks)

    monkeypatch.setattr(PE, "inpaint", fake_inpaint)
    photos, path = _photos(), tmp_path / "scores.json"
    options = dict(seed=3, baselines=("telea", "mean_fill"), name="ours",
                   classical_scores=path)
    first = PE.compare_on_photos("net", photos, ("blobs",), **options)
    assert [row["key"]["method"] for row in _stored(path)] == ["telea"]
    assert "ours" not in path.read_text() and "mean_fill" not in path.read_text()
    calls.methods.clear()
    again = PE.compare_on_photos("net", photos, ("blobs",), **options)
    assert calls.methods == ["mean_fill"] * 2 and inpainted == ["net"] * 4
    assert [row["name"] for row in again] == ["telea", "mean_fill", "ours"]
    assert _text(again[0]) == _text(first[0])


# --------------------------------------------------------------------------- the file


@pytest.mark.parametrize("content, message", [
    ("{not json", "not JSON"),
    ("", "not JSON"),
    ("[]", "of format"),
    ('{"rows": []}', "of format"),
    (json.dumps({"format": "inpaint_tf classical photo scores 0", "rows": []}), "of format"),
    (json.dumps({"format": CS.FORMAT, "rows": {}}), "'rows' must be a list"),
    (json.dumps({"format": CS.FORMAT}), "'rows' must be a list"),
    (json.dumps({"format": CS.FORMAT, "rows": [{"key": {}}]}), "'rows' must be a list"),
    (json.dumps({"format": CS.FORMAT, "rows": [{"key": [], "row": {}}]}),
     "'rows' must be a list"),
    (json.dumps({"format": CS.FORMAT, "rows": [3]}), "'rows' must be a list"),
])
def test_a_file_that_is_not_a_scores_file_is_refused_by_name(tmp_path, calls, content,
                                                              message):
    path = tmp_path / "metrics.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as error:
        CS.ClassicalScores(path)
    assert str(path) in str(error.value)
    with pytest.raises(ValueError, match=message):
        _compare(_photos(), path)
    assert calls.methods == []  # refused before any method ran
    assert path.read_text() == content  # and left as it was


@pytest.mark.parametrize("data, found", [
    ({"format": "another tool's scores 2", "rows": []}, "(found: \"another tool's scores 2\")"),
    ({"rows": []}, "(found: None)"),
    ([], "(found: 'list')"),
    ("scores", "(found: 'str')"),
])
def test_the_refusal_says_what_the_file_holds(tmp_path, data, found):
    path = tmp_path / "scores.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=f"of format '{CS.FORMAT}'") as error:
        CS.ClassicalScores(path)
    assert found in str(error.value)


def test_undecodable_bytes_are_refused_by_name(tmp_path):
    path = tmp_path / "scores.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match="not JSON") as error:
        CS.ClassicalScores(path)
    assert str(path) in str(error.value)


def test_a_row_is_returned_only_for_its_own_key(tmp_path):
    scores = CS.ClassicalScores(tmp_path / "folder" / "scores.json")  # folder made on put
    key = CS.score_key("telea", "blobs", 3, "m" * 64, "p" * 64)
    row = {"name": "telea", "hole_psnr": math.inf, "seconds_per_photo": 0.25,
           "area_bins": [{"bin": "0-10%", "n": 1}]}
    assert scores.get(key) is None and len(scores) == 0 and not scores.path.exists()
    scores.put(key, row)
    assert scores.get(dict(reversed(key.items()))) == row  # the order of the fields is not
    for field, other in (("method", "navier_stokes"), ("package", "opencv 0.0"),
                         ("masks", "thin_strokes"), ("mask_seed", 4),
                         ("mask_checksum", "n" * 64), ("photos_checksum", "q" * 64),
                         ("area_bins", True)):
        assert scores.get({**key, field: other}) is None, field
    without = dict(key)
    del without["package"]
    assert scores.get(without) is None
    row["area_bins"][0]["n"] = 5  # the caller's row changed after it was stored
    scores.get(key)["area_bins"][0]["n"] = 7  # and a row read
    assert scores.get(key)["area_bins"] == [{"bin": "0-10%", "n": 1}]
    row["area_bins"][0]["n"] = 1
    reread = CS.ClassicalScores(scores.path)
    assert reread.get(key) == row and len(reread) == 1
    assert repr(reread) == f"ClassicalScores({str(scores.path)!r}, rows=1)"
    data = json.loads(scores.path.read_text())
    assert data == {"format": CS.FORMAT, "rows": [{"key": key, "row": row}]}
    with pytest.raises(TypeError, match="score_key"):
        scores.get(["telea"])


def test_a_put_keeps_the_rows_another_writer_added(tmp_path):
    path = tmp_path / "scores.json"
    ours, theirs = CS.ClassicalScores(path), CS.ClassicalScores(path)
    keys = [{"method": name} for name in ("a", "b", "c")]
    ours.put(keys[0], {"n": 0})
    theirs.put(keys[1], {"n": 1})  # read the file before ours wrote to it
    ours.put(keys[2], {"n": 2})
    final = CS.ClassicalScores(path)
    assert [final.get(key) for key in keys] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert ours.get(keys[1]) == {"n": 1} and len(ours) == 3
    ours.put(keys[0], {"n": 9})  # a key stored again: the new row
    assert CS.ClassicalScores(path).get(keys[0]) == {"n": 9} and len(ours) == 3


def test_the_file_is_written_atomically(tmp_path, monkeypatch):
    from inpaint_tf import _io

    path = tmp_path / "scores.json"
    scores = CS.ClassicalScores(path)
    scores.put({"method": "a"}, {"n": 0})
    before = path.read_text()
    written = []
    monkeypatch.setattr(_io, "write_json", lambda target, data: written.append((target, data)))
    scores.put({"method": "b"}, {"n": 1})
    assert written == [(path, {"format": CS.FORMAT, "rows": [
        {"key": {"method": "a"}, "row": {"n": 0}}, {"key": {"method": "b"}, "row": {"n": 1}}]})]
    assert path.read_text() == before


def test_as_classical_scores(tmp_path):
    scores = CS.ClassicalScores(tmp_path / "a.json")
    assert CS.as_classical_scores(scores) is scores
    assert CS.as_classical_scores(tmp_path / "b.json").path == tmp_path / "b.json"
    assert CS.as_classical_scores(str(tmp_path / "c.json")).path == tmp_path / "c.json"
    with pytest.raises(TypeError, match="a path or a ClassicalScores"):
        CS.as_classical_scores(3)


# --------------------------------------------------------------------------- the key


def test_the_key_names_everything_that_decides_a_row(monkeypatch):
    monkeypatch.setattr(cv2, "__version__", "4.99.1")
    assert CS.score_key("fsr_best", "blobs", np.int64(3), "m", "p", np.bool_(True)) == {
        "method": "fsr_best", "package": "opencv 4.99.1", "masks": "blobs", "mask_seed": 3,
        "mask_checksum": "m", "photos_checksum": "p", "area_bins": True}
    key = CS.score_key("telea", "blobs", 3, "m", "p")
    assert key["area_bins"] is False and type(key["mask_seed"]) is int
    json.dumps(key)  # plain JSON types


def test_every_classical_method_has_its_package(monkeypatch):
    import skimage

    monkeypatch.setattr(cv2, "__version__", "4.99.1")
    monkeypatch.setattr(skimage, "__version__", "0.99")
    assert {method: CS.package_version(method) for method in CLASSICAL} == {
        "navier_stokes": "opencv 4.99.1", "telea": "opencv 4.99.1", "biharmonic":
        "scikit-image 0.99", "fsr_fast": "opencv 4.99.1", "fsr_best": "opencv 4.99.1"}
    for other in ("identity", "mean_fill", "model"):
        with pytest.raises(ValueError, match="Only the classical methods"):
            CS.package_version(other)


def test_the_photos_checksum_is_of_their_pixels_in_order():
    a, b = _photos().images
    base = CS.photos_checksum([a, b])
    assert len(base) == 64 and base == CS.photos_checksum([a.copy(), b.copy()])
    changed = b.copy()
    changed[0, 0, 2] ^= 1
    assert len({base, CS.photos_checksum([b, a]), CS.photos_checksum([a, changed]),
                CS.photos_checksum([a]), CS.photos_checksum([a, b, b]),
                CS.photos_checksum([a.reshape(a.shape[1], a.shape[0], 3), b]),
                CS.photos_checksum([a, b.astype(np.float32)])}) == 7
    assert CS.photos_checksum([]) != CS.photos_checksum([np.zeros((0, 0, 3), np.uint8)])


def test_compare_on_photos_keys_rows_by_their_masks_and_photos(tmp_path):
    photos, path = _photos(), tmp_path / "scores.json"
    _compare(photos, path, ("blobs",), seed=3, area_bins_for=("blobs",))
    masks = eval_photo_masks("blobs", photos.images, 3)
    keys = [row["key"] for row in _stored(path)]
    assert keys == [CS.score_key(method, "blobs", 3, mask_set_checksum(masks),
                                 CS.photos_checksum(photos.images), True)
                    for method in sorted(METHODS)]


# --------------------------------------------------------------------------- a run folder


def _runs_spy(monkeypatch, loaded):
    seen = []
    monkeypatch.setattr(runs, "load_inference_model",
                        lambda reference, precision=None: loaded.append(precision))
    monkeypatch.setattr(runs, "load_photo_set", lambda sources, n: _photos())

    def compare(network, photos, kinds, **options):
        seen.append(options["classical_scores"])
        loaded.append(options["reuse_only"])
        return []

    monkeypatch.setattr(runs, "compare_on_photos", compare)
    return seen


def test_a_run_folder_keeps_its_classical_rows_by_default(tmp_path, monkeypatch):
    loaded = []
    seen = _runs_spy(monkeypatch, loaded)
    run = tmp_path / "run"
    run.mkdir()
    runs.evaluate_run_on_photos(run, ["photos"])
    runs.evaluate_run_on_photos(run, ["photos"], classical_scores=tmp_path / "shared.json")
    runs.evaluate_run_on_photos(tmp_path / "model.keras", ["photos"], precision="mixed",
                                reuse_only=("telea",))
    assert [None if scores is None else scores.path for scores in seen] == [
        run / "classical_scores.json", tmp_path / "shared.json", None]
    assert loaded == [None, (), None, (), "mixed", ("telea",)]  # precision, then reuse_only
    (tmp_path / "bad.json").write_text("[]")
    with pytest.raises(ValueError, match="bad.json is not a classical scores file"):
        runs.evaluate_run_on_photos(run, ["photos"], classical_scores=tmp_path / "bad.json")
    assert len(loaded) == 6  # refused before the model loads


# --------------------------------------------------------------------------- a release


def test_a_release_shares_one_file_between_its_two_seeds(tmp_path, monkeypatch):
    from inpaint_tf.presets import releasing

    seen = []

    def compare(network, photos, kinds, *, seed, classical_scores, reuse_only, **options):
        seen.append((seed, classical_scores, reuse_only))
        return []

    monkeypatch.setattr(releasing, "compare_on_photos", compare)
    (tmp_path / "Set").mkdir()
    cv2.imwrite(str(tmp_path / "Set" / "a.png"), _photos().images[0])
    scores = CS.ClassicalScores(tmp_path / "scores.json")
    assert releasing._photo_figures("net", [tmp_path / "Set"], {}, METHODS, scores,
                                    ("telea",))[1] == []
    assert seen == [(releasing.EVAL_SEED, scores, ("telea",)),
                    (releasing.HELD_OUT_SEED, scores, ("telea",))]


@pytest.mark.parametrize("kind, message", [
    ("photos", "bad.json is not a classical scores file"),
    ("cifar10", "Classical scores go with a photo model's release"),
])
def test_a_release_refuses_a_bad_file_before_scoring(tmp_path, monkeypatch, kind, message):
    from inpaint_tf.configs import ExperimentConfig, save_config, with_overrides
    from inpaint_tf.presets import releasing

    run = tmp_path / "run"
    save_config(with_overrides(ExperimentConfig(), **{"data.kind": kind}), run / "config.toml")
    (run / "metrics.json").write_text('{"test": {}}')
    (tmp_path / "bad.json").write_text('{"rows": []}')
    monkeypatch.setattr(releasing, "build_network", lambda manifest: pytest.fail("scored"))
    with pytest.raises(ValueError, match=message):
        releasing.release_run(run, folder=tmp_path / "released", photos=[tmp_path],
                              classical_scores=tmp_path / "bad.json")
