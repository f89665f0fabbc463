"""`evaluate` figure by figure against a NumPy reference written here: both protocols,
the clipping, the chunking, the hole-share bins at their edges, the row's labels and
defaults, the tables it writes."""

import hashlib
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from inpaint_tf import metrics
from inpaint_tf.evaluation import protocols as E


def _reference(images, raw, masks):
    """Both protocols by hand: the raw output clipped to [0, 1]; the hole figures on the
    composite (known pixels from the image)."""
    y = images.astype(np.float64)
    p = np.clip(raw.astype(np.float64), 0.0, 1.0)
    hole = np.broadcast_to(masks.astype(np.float64), y.shape)
    c = np.where(hole > 0, p, y)
    mse = ((c - y) ** 2 * hole).sum() / hole.sum()
    return {
        "study_mae": np.abs(p - y).mean(), "study_mse": ((p - y) ** 2).mean(),
        "study_dice": 2 * (p * y).sum() / (p + y).sum(),
        "dice_ceiling": (y * y).sum() / y.sum(),
        "hole_mae": (np.abs(c - y) * hole).sum() / hole.sum(), "hole_mse": mse,
        "hole_psnr": 10 * math.log10(1 / mse),
        "hole_dice": 2 * (c * y * hole).sum() / ((c + y) * hole).sum(),
        "hole_dice_ceiling": (y * y * hole).sum() / (y * hole).sum(),
        "hole_ssim": metrics.ssim(images, c.astype(np.float32), masks),
    }


def _batch(n=6, size=16, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.uniform(size=(n, size, size, 3)).astype(np.float32)
    masks = np.zeros((n, size, size, 1), np.float32)
    for i in range(n):
        top, left = rng.integers(0, size - 6, 2)
        masks[i, top:top + 2 + i % 4, left:left + 3 + i % 3] = 1
    # A raw output reaching past both ends of [0, 1]: the clipping shows.
    raw = rng.uniform(-0.3, 1.3, size=images.shape).astype(np.float32)
    return images, masks, raw


def _constant(raw):
    return lambda masked, masks: raw


@pytest.mark.parametrize("batch_size", [1000, 4, 1])
def test_every_figure_is_the_numpy_reference(batch_size):
    images, masks, raw = _batch()
    chunks = iter(range(0, len(images), batch_size))

    def predict(masked, hole):
        start = next(chunks)
        return raw[start:start + len(masked)]

    row = E.evaluate(predict, images, masks, batch_size=batch_size)
    expected = _reference(images, raw, masks)
    for key, value in expected.items():
        tolerance = 1e-6 if key == "hole_ssim" else 1e-12  # SSIM maps are float32
        assert row[key] == pytest.approx(value, rel=tolerance), key
    assert row["hole_share"] == pytest.approx(masks.mean(), rel=1e-12)
    assert row["n"] == 6 and row["name"] == "model" and row["masks"] == "custom"
    assert row["mask_checksum"] == hashlib.sha256(
        str((6, 16, 16, 1)).encode() + np.packbits(masks > 0).tobytes()).hexdigest()[:12]
    assert len(row["mask_checksum"]) == 12
    assert list(row)[:4] == ["name", "masks", "n", "hole_share"] and "area_bins" not in row


def test_black_images_filled_black_score_a_dice_of_one_everywhere():
    images = np.zeros((2, 12, 12, 3), np.float32)
    masks = np.zeros((2, 12, 12, 1), np.float32)
    masks[:, 3:6, 3:6] = 1
    row = E.evaluate(lambda masked, m: masked * 0.0, images, masks)
    assert (row["study_dice"], row["dice_ceiling"], row["hole_dice"],
            row["hole_dice_ceiling"]) == (1.0, 1.0, 1.0, 1.0)
    assert row["hole_mse"] == 0.0 and row["hole_psnr"] == math.inf


def test_masks_without_holes_give_nan_hole_figures_without_a_warning():
    images, _, raw = _batch()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0/0 is ever computed
        row = E.evaluate(_constant(raw), images, np.zeros((6, 16, 16, 1)))
    for key in ("hole_mae", "hole_mse", "hole_psnr", "hole_ssim", "hole_dice",
                "hole_dice_ceiling"):
        assert math.isnan(row[key]), key
    assert row["study_mae"] == pytest.approx(np.abs(np.clip(raw, 0, 1) - images).mean())


def test_the_model_sees_the_fill_value_in_the_holes_and_the_default_is_zero():
    images, masks, raw = _batch()
    seen = []

    def predict(masked, hole):
        seen.append((masked.copy(), hole.copy()))
        return raw

    E.evaluate(predict, images, masks)
    E.evaluate(predict, images, masks, fill_value=0.5)
    for (masked, hole), fill in zip(seen, (0.0, 0.5)):
        np.testing.assert_array_equal(hole, masks)
        np.testing.assert_array_equal(masked, np.where(masks > 0, np.float32(fill), images))


def test_chunks_are_the_batch_size_and_a_thousand_by_default():
    images = np.full((1001, 11, 11, 3), 0.5, np.float32)
    masks = np.zeros((1001, 11, 11, 1), np.float32)
    masks[:, 5, 5] = 1
    sizes = []

    def predict(masked, hole):
        sizes.append(len(masked))
        return masked

    E.evaluate(predict, images, masks)
    E.evaluate(predict, images[:10], masks[:10], batch_size=4)
    assert sizes == [1000, 1, 4, 4, 2]
    with pytest.raises(ValueError, match="`batch_size` must be a positive integer"):
        E.evaluate(predict, images[:2], masks[:2], batch_size=0)


def test_labels_and_seconds(monkeypatch):
    images, masks, raw = _batch()
    clock = iter([10.0, 12.3456])
    monkeypatch.setattr(E.time, "perf_counter", lambda: next(clock, 12.3456))
    row = E.evaluate(_constant(raw), images, masks, name="unet", mask_kind="irregular")
    assert (row["name"], row["masks"], row["seconds"]) == ("unet", "irregular", 2.35)


def test_an_object_with_a_predict_method_is_called_not_wrapped():
    images, masks, raw = _batch()

    class Baseline:
        def predict(self, masked, hole):
            return raw

        __call__ = predict

    row = E.evaluate(Baseline(), images, masks)
    assert row["hole_mae"] == pytest.approx(_reference(images, raw, masks)["hole_mae"])


def test_a_keras_model_is_run_through_predict_in_batches_of_256_quietly():
    calls = []

    class Model:
        inputs = ["image", "mask"]

        def predict(self, inputs, batch_size, verbose):
            calls.append((sorted(inputs), batch_size, verbose))
            return np.asarray(inputs["image"], np.float64)

    predict = E.as_predict_fn(Model())
    out = predict(np.zeros((2, 4, 4, 3)), np.zeros((2, 4, 4, 1)))
    assert out.dtype == np.float32 and calls == [(["image", "mask"], 256, 0)]
    E.as_predict_fn(Model(), batch_size=8)(np.zeros((1, 4, 4, 3)), np.zeros((1, 4, 4, 1)))
    assert calls[-1] == (["image", "mask"], 8, 0)


def test_checked_output_is_float32_clipped_both_ways():
    out = E.checked_output(np.array([[-0.5, 0.25, 1.5]], np.float64), (1, 3))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.float32([[0.0, 0.25, 1.0]]))


def test_a_progress_bar_counts_the_images_only_when_asked(capsys):
    images, masks, raw = _batch()
    E.evaluate(_constant(raw), images, masks)
    assert capsys.readouterr().out == ""
    E.evaluate(lambda masked, m: raw[:len(masked)], images, masks, progress=True,
               batch_size=6)
    out = capsys.readouterr().out
    assert "6/6" in out and "/image" in out


# --------------------------------------------------------------------------- bins


@pytest.mark.parametrize("area_bins, expected", [
    (None, ()), (False, ()),
    ([(0.0, 0.1), [0.1, 0.3]], ((0.0, 0.1), (0.1, 0.3))),
    ([(0.0, 0.2), (0.2, 1.0)], ((0.0, 0.2), (0.2, 1.0))),
])
def test_bins_are_checked_and_normalised(area_bins, expected):
    assert E._checked_bins(area_bins) == expected
    assert E._checked_bins(True) == ((0.0, 0.1), (0.1, 0.2), (0.2, 0.3), (0.3, 0.4),
                                     (0.4, 0.6))


@pytest.mark.parametrize("area_bins", [
    [], [(0.2, 0.1)], [(0.1, 0.1)], [(-0.1, 0.2)], [(0.5, 1.1)], [(1.0, 1.0)],
    [(0.1, 0.2, 0.3)], [(0.1,)], [(0.0, 0.3), (0.2, 0.5)],
    [(0.0, 0.1), (0.2, 0.5), (0.3, 0.6)],
])
def test_bad_bins_are_refused(area_bins):
    with pytest.raises(ValueError, match="`area_bins` must be True or increasing"):
        E._checked_bins(area_bins)


def test_a_share_belongs_to_the_bin_whose_low_it_reaches_the_last_high_included():
    bins = ((0.1, 0.2), (0.2, 0.4), (0.4, 0.6))
    shares = np.array([0.0, 0.0999, 0.1, 0.15, 0.2, 0.3999, 0.4, 0.6, 0.6001, 1.0])
    np.testing.assert_array_equal(E._bin_index(shares, bins),
                                  [-1, -1, 0, 0, 1, 1, 2, 2, -1, -1])
    assert E._bin_index(np.array([0.2]), ((0.0, 0.2),)).tolist() == [0]  # last high in


def _masks_with_shares(counts, size=16):
    """One mask per entry of `counts`: that many hole pixels (a share of counts / size²)."""
    masks = np.zeros((len(counts), size, size, 1), np.float32)
    for i, count in enumerate(counts):
        masks[i].reshape(-1)[:count] = 1
    return masks


def test_bin_rows_are_the_reference_on_each_bins_images(monkeypatch):
    # Shares 0.05, 0.1 (the edge: second bin), 0.15, 0.5 (beyond the bins: overall
    # only) and 0.075, in chunks of 2: each bin pools images of two chunks.
    counts = [20, 40, 60, 200, 30]
    masks = _masks_with_shares(counts, size=20)
    rng = np.random.default_rng(3)
    images = rng.uniform(size=masks.shape[:3] + (3,)).astype(np.float32)
    raw = rng.uniform(size=images.shape).astype(np.float32)
    chunks = iter([0, 2, 4])

    def predict(masked, hole):
        start = next(chunks)
        return raw[start:start + len(masked)]

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an empty bin divides nothing by zero
        row = E.evaluate(predict, images, masks, batch_size=2,
                         area_bins=[(0.0, 0.1), (0.1, 0.2), (0.2, 0.3)])
    shares = np.array(counts) / 400
    members = {"0-10%": [0, 4], "10-20%": [1, 2], "20-30%": []}
    assert [b["bin"] for b in row["area_bins"]] == list(members)
    for figures, chosen in zip(row["area_bins"], members.values()):
        assert set(figures) == {"bin", "n", "hole_share", "hole_mae", "hole_mse",
                                "hole_psnr", "hole_ssim"}
        assert figures["n"] == len(chosen)
        if not chosen:
            assert all(math.isnan(figures[k]) for k in ("hole_share", "hole_mae",
                                                        "hole_psnr", "hole_ssim"))
            continue
        assert figures["hole_share"] == pytest.approx(shares[chosen].mean(), rel=1e-12)
        expected = _reference(images[chosen], raw[chosen], masks[chosen])
        for key in ("hole_mae", "hole_mse", "hole_psnr", "hole_ssim"):
            assert figures[key] == pytest.approx(expected[key], rel=1e-6), key
    overall = _reference(images, raw, masks)
    assert row["hole_mae"] == pytest.approx(overall["hole_mae"], rel=1e-12)


def test_area_bins_true_is_the_masks_bins():
    masks = _masks_with_shares([13, 40, 60, 90, 130])
    images = np.full(masks.shape[:3] + (3,), 0.5, np.float32)
    row = E.evaluate(lambda masked, m: masked, images, masks, area_bins=True)
    assert [(b["bin"], b["n"]) for b in row["area_bins"]] == [
        ("0-10%", 1), ("10-20%", 1), ("20-30%", 1), ("30-40%", 1), ("40-60%", 1)]


# --------------------------------------------------------------------------- tables


def test_results_table_puts_labels_and_protocols_first_and_keeps_the_rest():
    rows = [{"seconds": 1.0, "hole_mae": 0.1, "name": "a", "extra": "x", "n": 2},
            {"seconds": 2.0, "hole_mae": 0.2, "name": "b", "extra": "y", "n": 3}]
    table = E.results_table(rows)
    assert list(table.columns) == ["name", "n", "hole_mae", "seconds", "extra"]
    assert table["name"].tolist() == ["a", "b"]


def test_tables_are_written_as_csv_without_index_or_as_markdown(tmp_path):
    table = pd.DataFrame([{"name": "a", "hole_psnr": 21.123456, "n": 3},
                          {"name": "b", "hole_psnr": float("inf"), "n": 4}])
    E.write_table(table, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text() == "name,hole_psnr,n\na,21.123456,3\nb,inf,4\n"
    E.write_table(table, tmp_path / "t.md")
    assert (tmp_path / "t.md").read_text() == (
        "| name | hole_psnr | n |\n|---|---|---|\n| a | 21.12 | 3 |\n| b | inf | 4 |\n")


def test_markdown_cells_have_four_significant_digits_and_spell_out_nan():
    table = pd.DataFrame({"x": [np.float32(0.000123456), math.nan], "y": ["s", "t"],
                          "z": [1234567.0, -0.5]})
    assert E.format_markdown(table) == (
        "| x | y | z |\n|---|---|---|\n| 0.0001235 | s | 1.235e+06 |\n| nan | t | -0.5 |")
