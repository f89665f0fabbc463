"""The benchmark suite: it runs end to end in quick mode and writes what it promises; its
FLOP counts, reference pipeline, memory probe and target checks are right. No timings
are asserted."""

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import _report  # noqa: E402
import _timing  # noqa: E402
from _compute import graph_flops  # noqa: E402
from _memory import peak_rss_bytes  # noqa: E402
from study_pipeline import StudySequence, study_mask  # noqa: E402

from inpaint_tf.masks import MASK_KINDS  # noqa: E402

MODELS = ("conv_autoencoder", "pconv_autoencoder", "gan_joint")


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench")
    markdown = folder / "BENCHMARKS.md"
    markdown.write_text("# Benchmarks\n\nAn earlier section.\n")
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / "run.py"), "--quick", "--json",
         str(folder / "results.json"), "--markdown", str(markdown)],
        capture_output=True, text=True, env={**os.environ, "INPAINT_TF_DATA": ""},
        timeout=900, check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads((folder / "results.json").read_text()), markdown.read_text()


@pytest.mark.slow
def test_quick_run_writes_every_section(quick_run):
    results, _ = quick_run
    assert results["quick"] is True
    assert {"device", "cpu_model", "cores", "tensorflow"} <= set(results["machine"])
    assert len(results["load_average"]["start"]) == 3
    assert results["ceiling"]["float32"] > 0 and results["ceiling"]["mixed"] > 0

    assert {row["model"] for row in results["training"]} == set(MODELS)
    for row in results["training"]:
        assert row["images_per_second"] > 0
        assert row["policy"] in ("mixed_bfloat16", "mixed_float16")
        # A training step computes the forward pass and two gradients of every conv.
        assert 2.5 < row["train_gflop_per_image"] / row["forward_gflop_per_image"] < 12
        assert row["achieved_gflops"] == pytest.approx(
            row["images_per_second"] * row["train_gflop_per_image"])
        assert row["ceiling_fraction"] == pytest.approx(
            row["achieved_gflops"] / results["ceiling"]["mixed"])

    runs = results["reference"]["runs"]
    assert set(runs) == {"reference", "ours_float32", "ours_mixed", "ours_mixed_cached_batch"}
    assert results["reference"]["speedup"] == pytest.approx(
        runs["ours_mixed"]["images_per_second"] / runs["reference"]["images_per_second"])
    families = results["reference"]["families"]
    assert [family["model"] for family in families] == ["pconv_autoencoder", "gan_joint"]
    for family in families:  # each against the study's pipeline feeding it
        runs = family["runs"]
        assert set(runs) == {"reference", "ours_float32", "ours_mixed"}
        assert family["speedup"] == pytest.approx(
            runs["ours_mixed"]["images_per_second"] / runs["reference"]["images_per_second"])

    layers = results["layers"]
    assert [row["kind"] for row in layers].count("Conv2DTranspose") == 4
    for row in layers:
        assert row["float32_ms"] > 0 and row["mixed_ms"] > 0
        assert row["mixed_speedup"] == pytest.approx(row["float32_ms"] / row["mixed_ms"])

    kinds = {row["mask_kind"] for row in results["pipeline"] if row["pipeline"] == "make_dataset"}
    assert kinds == set(MASK_KINDS)
    for path in ("keras_call", "keras_predict", "saved_model"):
        assert results["inference"][path]["latency_ms_batch1"] > 0
    assert results["memory"]["peak_rss_bytes"] >= results["memory"]["rss_before_training_bytes"]
    compare, memory = results["windows"]["compare"], results["windows"]["memory"]
    assert compare["windowed_median_seconds"] > 0 and compare["whole_seconds"] > 0
    assert compare["known_pixels_equal"] is True
    assert compare["max_abs_difference"] <= _report.WINDOWS_TOLERANCE
    assert memory["peak_rss_bytes"] >= memory["peak_rss_before_inpainting_bytes"] > 0
    assert results["xla"][0]["model"] == "conv_autoencoder"
    assert results["accuracy"]["float32"]["values"][0] > 0


@pytest.mark.slow
def test_quick_run_lists_every_target_and_appends_markdown(quick_run):
    results, markdown = quick_run
    assert len(results["targets"]) == 22
    speedups = [row for row in results["targets"] if "over the study's pipeline" in row["target"]]
    assert [row["target"].split()[0] for row in speedups] == list(MODELS)
    assert all(row["met"] in (True, False, None) for row in results["targets"])
    assert markdown.startswith("# Benchmarks\n\nAn earlier section.\n\n## ")
    for title in ("### Targets", "### Training throughput", "### Conv autoencoder layer by",
                  "### Inference", "### Inference on windows", "### XLA"):
        assert title in markdown


# --------------------------------------------------------------------------- FLOPs


def test_graph_flops_counts_two_per_multiply_add():
    import tensorflow as tf

    kernel = tf.constant(np.ones((3, 3, 4, 5), np.float32))
    weights = tf.constant(np.ones((6, 7), np.float32))
    conv = tf.function(lambda x: tf.nn.conv2d(x, kernel, 1, "SAME")).get_concrete_function(
        tf.TensorSpec((2, 8, 8, 4)))
    dense = tf.function(lambda x: x @ weights).get_concrete_function(tf.TensorSpec((3, 6)))
    assert graph_flops(conv) == 2 * (2 * 8 * 8 * 5) * (3 * 3 * 4)
    assert graph_flops(dense) == 2 * 3 * 7 * 6


# --------------------------------------------------------------------------- reference


def test_study_random_box_is_a_filled_square_inside_the_image():
    rng = np.random.default_rng(0)
    for _ in range(50):
        mask = study_mask(rng, "random_box")
        rows, cols = np.nonzero(mask)
        side = rows.max() - rows.min() + 1
        assert 6 <= side <= 12 and cols.max() - cols.min() + 1 == side
        assert mask.sum() == side * side


def test_study_sequence_zeroes_exactly_the_holes(tiny_images):
    sequence = StudySequence(tiny_images, batch_size=4, seed=3)
    order = sequence.order.copy()
    inputs, targets = sequence[1]
    hole = inputs["mask"][..., 0] == 1
    assert inputs["image"].shape == (4, 32, 32, 3) and inputs["mask"].shape == (4, 32, 32, 1)
    assert hole.any() and set(np.unique(inputs["mask"])) <= {0.0, 1.0}
    np.testing.assert_array_equal(inputs["image"][hole], 0.0)
    np.testing.assert_array_equal(inputs["image"][~hole], targets[~hole])
    np.testing.assert_allclose(targets * 255, tiny_images[order[4:8]], atol=1e-4)


def test_study_gan_rectangle_is_an_exact_slice_of_5_to_11_pixels():
    rng = np.random.default_rng(0)
    for _ in range(50):
        mask = study_mask(rng, "gan_rectangle")
        rows, cols = np.nonzero(mask)
        height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert 5 <= height <= 11 and 5 <= width <= 11 and mask.sum() == height * width


def test_study_sequence_adds_a_fresh_real_mask_for_the_gan(tiny_images):
    inputs, _ = StudySequence(tiny_images, 4, "gan_rectangle", real_masks=True)[0]
    assert inputs["real_mask"].shape == inputs["mask"].shape == (4, 32, 32, 1)
    assert not np.array_equal(inputs["real_mask"], inputs["mask"])
    assert "real_mask" not in StudySequence(tiny_images, 4, "gan_rectangle")[0][0]


def test_study_sequence_rejects_unknown_mask_kind(tiny_images):
    with pytest.raises(ValueError, match="mask_kind='stripes'"):
        StudySequence(tiny_images, 4, "stripes")


# --------------------------------------------------------------------------- helpers


def test_window_steps_last_about_the_window():
    assert _timing.window_steps(0.25, 2.0) == 8
    assert _timing.window_steps(5.0, 2.0) == 1  # never less than one step
    assert len(_timing.time_calls(lambda: None, warmup=2, repeats=3)) == 3


def test_interleaved_steps_take_each_step_in_turn():
    calls = []
    seconds = _timing.interleaved_steps({"a": lambda: calls.append("a"),
                                         "b": lambda: calls.append("b")}, 3)
    assert calls == ["a", "b"] * 3 and [len(v) for v in seconds.values()] == [3, 3]


def test_gan_joint_step_summary_and_table():
    import gan_joint_step

    seconds = {"three_passes": [0.30, 0.20, 0.25], "one_pass": [0.20, 0.16, 0.25]}
    result = gan_joint_step.summary(seconds, 32)
    assert result["runs"]["three_passes"]["median_ms"] == pytest.approx(250)
    assert result["runs"]["one_pass"]["images_per_second"] == pytest.approx(32 / 0.2)
    assert result["speedup"] == pytest.approx(0.25 / 0.2)
    assert result["speedup_paired"] == pytest.approx(1.25)  # of 1.5, 1.25 and 1.0
    result["settings"] = {"precision": "float32", "batch_size": 32, "steps": 3}
    text = gan_joint_step.markdown(result)
    assert "| one pass on the completed images | 200.0 | 160.0 | 1.25x |" in text
    assert "step-by-step ratios: 1.250x" in text


def test_flip_averaging_means_a_pass_and_its_mirrored_pass():
    from flip_average import flip_averaged

    width = 5
    ramp = np.broadcast_to(np.arange(width, dtype=np.float32)[None, :, None] / (width - 1),
                           (1, 3, width, 3))
    seen = []

    def left_to_right(masked, masks):  # sees its input, fills by column, not by content
        seen.append(masked.copy())
        return ramp + 0 * masked

    masked = np.random.default_rng(0).uniform(size=(1, 3, width, 3)).astype(np.float32)
    masks = np.zeros((1, 3, width, 1), np.float32)
    averaged = flip_averaged(left_to_right)(masked, masks)
    # The ramp and its mirror image, 1 - ramp, average to one half everywhere.
    assert np.allclose(averaged, 0.5)
    assert sorted(np.array_equal(x, masked[:, :, ::-1]) for x in seen) == [False, True]
    assert np.array_equal(flip_averaged(lambda m, k: m)(masked, masks), masked)


def test_the_gan_diagnostics_script_tables_and_records_its_rows(tmp_path, monkeypatch,
                                                                 capsys):
    import gan_diagnostics

    from inpaint_tf.training import gan_diagnostics as library

    calls = []
    row = {"checkpoint": "epoch_0002.weights.h5", "epoch": 2, "batches": 20,
           **dict.fromkeys(gan_diagnostics.COLUMNS[1:], 0.25)}

    def diagnose(run, checkpoints, images):
        calls.append((run, checkpoints, images))
        return [row]

    monkeypatch.setattr(library, "diagnose_gan_run", diagnose)
    later, earlier = tmp_path / "epoch_0002.weights.h5", tmp_path / "epoch_0001.weights.h5"
    record = gan_diagnostics.main([str(tmp_path), str(later), str(earlier), "--images", "64"])
    assert calls == [(tmp_path, [earlier, later], 64)]  # checkpoints in epoch order
    assert "| 2 | 0.25 | 0.25 |" in capsys.readouterr().out
    assert json.loads((tmp_path / "diagnostics.json").read_text()) == record
    assert record["rows"] == [row] and record["images"] == 64


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_peak_rss_of_a_child_is_its_own_not_its_parents():
    ballast = np.ones(400_000_000, np.uint8)  # the parent is now at least 400 MB
    code = f"import sys; sys.path.insert(0, {str(BENCHMARKS)!r}); " \
           "from _memory import peak_rss_bytes; print(peak_rss_bytes())"
    child = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               check=True).stdout)
    assert child < 200_000_000 < peak_rss_bytes()
    del ballast


def _results(speedup=1.5, fraction=0.7, pipeline=25_000.0, real_over_cached=0.9,
             serve=0.95, peak_gb=2.0, mixed=(0.10, 0.11, 0.12)):
    runs = {name: {"images_per_second": 100.0} for name in
            ("reference", "ours_float32", "ours_mixed", "ours_mixed_cached_batch")}
    row = {"model": "conv_autoencoder", "precision": "mixed", "batch_size": 32,
           "ceiling_fraction": fraction, "achieved_gflops": 70.0, "ceiling_gflops": 100.0,
           "train_gflop_per_image": 1.0}
    return {
        "ceiling": {"mixed_dtype": "bfloat16"},
        "reference": {"model": "conv_autoencoder", "batch_size": 32, "runs": runs,
                      "speedup": speedup,
                      "speedup_float32": 1.0, "real_over_cached": real_over_cached},
        "training": [row, {**row, "model": "gan_joint", "ceiling_fraction": 0.3}],
        "pipeline": [{"pipeline": "make_dataset", "mask_kind": "irregular",
                      "samples_per_second": pipeline}],
        "inference": {"saved_model_over_keras": serve,
                      **{k: {"images_per_second": 1.0} for k in
                         ("saved_model", "keras_call", "keras_predict")}},
        "memory": {"peak_rss_gb": peak_gb, "rss_before_training_bytes": 5e8,
                   "images": [40_000, 10_000, 10_000]},
        "accuracy": {"float32": {"min": 0.10, "max": 0.12, "mean": 0.11, "std": 0.01},
                     "mixed": {"min": min(mixed), "max": max(mixed), "mean": sum(mixed) / 3,
                               "std": 0.01},
                     "mixed_within_float32_spread": 0.10 <= sum(mixed) / 3 <= 0.12,
                     "seeds": [0, 1, 2], "steps": 150, "data": "synthetic"},
    }


def test_targets_say_met_and_by_how_much_they_are_missed():
    rows = _report.targets(_results())
    by_measure = {row["measured"]: row for row in rows}
    assert by_measure["1.50x"]["met"] is False and by_measure["1.50x"]["miss"] == "short by 25%"
    assert by_measure["0.70"]["met"] is True and by_measure["0.70"]["miss"] == ""
    assert by_measure["0.30"]["met"] is False and by_measure["0.30"]["miss"] == "short by 25%"
    assert by_measure["25,000"]["met"] is True
    assert by_measure["0.900"]["miss"] == "short by 5%"
    assert by_measure["2.00 GB"]["met"] is True
    assert by_measure["0.1100"]["met"] is True
    # A partial-conv row is absent from these results: its target says so, met unknown.
    assert by_measure["not measured"]["met"] is None


def test_every_family_against_the_study_pipeline_is_a_target():
    results = _results()
    runs = {name: {"images_per_second": value} for name, value in
            (("reference", 40.0), ("ours_float32", 44.0), ("ours_mixed", 88.0))}
    results["reference"]["families"] = [
        {"model": "gan_joint", "batch_size": 32, "runs": runs, "speedup": 2.2,
         "speedup_float32": 1.1}]
    gan = next(row for row in _report.targets(results) if row["target"].startswith("gan_"))
    assert (gan["measured"], gan["met"]) == ("2.20x", True)
    assert "reference 40 img/s" in gan["note"] and "2.00x more: precision" in gan["note"]
    assert "| gan_joint | ours_mixed | 88.0 | 2.20x |" in _report._reference_md(
        results["reference"])


def test_targets_report_memory_over_and_accuracy_outside():
    rows = _report.targets(_results(peak_gb=3.3, mixed=(0.13, 0.14, 0.15)))
    memory = next(r for r in rows if r["target"].startswith("peak memory"))
    accuracy = next(r for r in rows if r["target"].startswith("mixed-precision"))
    assert memory["met"] is False and memory["miss"] == "over by 10%"
    assert accuracy["met"] is False and accuracy["miss"] == "outside by 0.0200"


def _windows_results(speedup=20.0, difference=1e-4, peak_gb=2.0, whole=True):
    compare = {"megapixels": 12.0, "blemishes": 20, "windowed_median_seconds": 1.0,
               "windowed_seconds": [1.0, 1.1, 0.9], "size": [3000, 4000], "hole_pixels": 2600,
               "peak_rss_after_windowed_bytes": 1.5e9}
    if whole:
        compare.update(whole_seconds=speedup, speedup=speedup, max_abs_difference=difference,
                       hole_psnr_between=90.0, known_pixels_equal=True,
                       peak_rss_after_whole_bytes=12e9)
    else:
        compare["whole_skipped"] = "needs about 12 GB, 8 GB available"
    memory = {"megapixels": 24.0, "blemishes": 40, "seconds": 3.0, "size": [4000, 6000],
              "peak_rss_bytes": peak_gb * 1e9, "peak_rss_before_inpainting_bytes": 1e9}
    return {"ceiling": {"mixed_dtype": "bfloat16"},
            "windows": {"model": "own_unet_irregular", "compare": compare, "memory": memory}}


def test_window_targets_check_speed_up_sameness_and_memory():
    speed, same, memory = _report.targets(_windows_results())
    assert (speed["measured"], speed["met"]) == ("20.0x", True)
    assert same["met"] is True and memory["met"] is True and memory["measured"] == "2.00 GB"
    speed, same, memory = _report.targets(_windows_results(8.0, 2e-3, 4.4))
    assert speed["met"] is False and speed["miss"] == "short by 20%"
    assert same["met"] is False and same["miss"] == "over by 2.0x"
    assert memory["met"] is False and memory["miss"] == "over by 10%"
    speed, same, _ = _report.targets(_windows_results(whole=False))
    assert speed["met"] is None and "needs about 12 GB" in speed["note"]
    assert same["measured"] == "not measured"
    assert "| 4000x3000 (12 MP), 20 blemishes" in _report._windows_md(
        _windows_results()["windows"])


def _shape_rows(stroke_us=(2.0, 2.5), peak_gb=1.5, half_gb=3.0, difference=1e-5):
    rows = []
    for size, megapixels in (([3000, 4000], 12.0), ([4000, 6000], 24.0)):
        index = 0 if megapixels == 12.0 else 1
        for kind, us in (("stroke", stroke_us[index]), ("blemishes", 1.0)):
            row = {"kind": kind, "size": size, "megapixels": megapixels, "model": "photo_unet",
                   "hole_pixels": 30_000, "hole_share": 0.0025, "seconds": 1.0,
                   "microseconds_per_hole_pixel": us, "model_calls": 3,
                   "model_pixels_per_hole_pixel": 40.0, "peak_rss_bytes": peak_gb * 1e9}
            if megapixels == 12.0:
                row["check"] = {"size": [1200, 1600], "hole_pixels": 4000,
                                "max_abs_difference": difference, "mean_abs_difference": 0.0}
            rows.append(row)
    rows.append({"kind": "half", "size": [4000, 6000], "megapixels": 24.0,
                 "model": "photo_unet", "hole_pixels": 12_000_000, "hole_share": 0.5,
                 "seconds": 300.0, "microseconds_per_hole_pixel": 25.0, "model_calls": 81,
                 "model_pixels_per_hole_pixel": 5.5, "peak_rss_bytes": half_gb * 1e9,
                 "check": {"size": [1200, 1600], "hole_pixels": 960_000,
                           "max_abs_difference": 0.03, "mean_abs_difference": 0.002}})
    return {"model": "own_unet_irregular", "shapes": rows}


def test_shape_targets_check_cost_memory_and_sameness():
    cost, memory, half, thin_same, half_same = _report._shape_targets(_shape_rows())
    assert cost["measured"] == "2.00x / 2.50x" and cost["met"] is True
    assert cost["target"].startswith("stroke: time per hole pixel")
    assert (memory["measured"], memory["met"]) == ("1.50 GB (stroke)", True)
    assert (half["measured"], half["met"]) == ("3.00 GB", True)
    assert thin_same["met"] is True and "1600x1200" in thin_same["target"]
    assert (half_same["measured"], half_same["met"]) == ("0.03", True)
    cost, memory, half, thin_same, _ = _report._shape_targets(
        _shape_rows((2.0, 3.3), 2.2, 4.4, 2e-3))
    assert cost["met"] is False and cost["miss"] == "over by 10%"
    assert memory["met"] is False and half["met"] is False and thin_same["met"] is False
    assert _report._shape_targets({"model": "x"}) == []
    markdown = _report._shapes_md(_shape_rows())
    assert "| stroke | 4000x3000 (12 MP) | 30,000 (0.25 %) | 40 (3 calls) |" in markdown
    assert "| half | 6000x4000 (24 MP) |" in markdown and "2.50x" in markdown


def test_bench_hole_shapes_are_seeded_and_hold_their_share():
    from _windows import HALF, SHAPES, damage

    for kind in (*SHAPES, HALF):
        mask = damage(kind, 600, 800, seed=1)
        np.testing.assert_array_equal(mask, damage(kind, 600, 800, seed=1))
        assert mask.dtype == np.uint8 and set(np.unique(mask)) == {0, 1}
        assert (0.5 <= mask.mean() < 0.6) if kind == HALF else (0.001 < mask.mean() < 0.03)
    with pytest.raises(ValueError, match="Unknown hole shape 'cracks'"):
        damage("cracks", 10, 10)


def test_bench_photo_and_blemishes_are_seeded_and_sized():
    from _windows import DIAMETERS, blemishes, photo

    image = photo(300, 401, seed=3, strip=64)
    assert image.shape == (300, 401, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image, photo(300, 401, seed=3, strip=64))
    assert 20 < image.std() < 100  # neither flat nor noise
    mask = blemishes(300, 401, 20, seed=0)
    np.testing.assert_array_equal(mask, blemishes(300, 401, 20, seed=0))
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
    assert 10 <= count - 1 <= 20  # some may touch
    assert stats[1:, 2:4].max() <= DIAMETERS[1] + 1


def test_append_section_creates_the_file_with_its_header(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    _report.append_section(path, "## first\n")
    _report.append_section(path, "## second\n")
    text = path.read_text()
    assert text.startswith("# Benchmarks") and text.index("## first") < text.index("## second")


def _probe_metrics(folder: Path, psnr: dict, classical: dict, seed: int = 7) -> Path:
    """A scored probe run folder: the model's row and the five classical rows per family."""
    rows = []
    for kind, model_psnr in psnr.items():
        rows += [{"name": name, "masks": kind, "mask_seed": seed, "hole_psnr": value,
                  "seconds_per_photo": 0.5, "n": 32} for name, value in classical[kind].items()]
        rows.append({"name": folder.name, "masks": kind, "mask_seed": seed,
                     "hole_psnr": model_psnr, "seconds_per_photo": 0.25, "n": 32})
    folder.mkdir()
    (folder / "metrics.json").write_text(json.dumps({
        "config": folder.name, "epochs": 4, "steps_per_epoch": 250, "batch_size": 32,
        "train_seconds": 600.0, "device": "CPU", "precision": "mixed_bfloat16",
        "photo_evaluations": rows}))
    return folder


def test_the_photo_probes_table_takes_the_best_of_the_five_per_family(tmp_path, capsys):
    import photo_probes

    classical = {"thin_strokes": {"navier_stokes": 23.0, "telea": 22.9, "biharmonic": 23.5,
                                  "fsr_fast": 22.1, "fsr_best": 22.2},
                 "object_boxes": {"navier_stokes": 17.6, "telea": 17.9, "biharmonic": 15.1,
                                  "fsr_fast": 18.1, "fsr_best": 19.0}}
    run = _probe_metrics(tmp_path / "v5", {"thin_strokes": 24.0, "object_boxes": 18.5},
                         classical)
    record = photo_probes.main([str(run), "--json", str(tmp_path / "record.json")])
    (row,) = record["probes"]
    assert (row["probe"], row["steps"], row["train_minutes"]) == ("v5", 1000, 10.0)
    thin, boxes = row["families"]["thin_strokes"], row["families"]["object_boxes"]
    assert thin["best_classical"] == "biharmonic" and thin["margin_db"] == pytest.approx(0.5)
    assert boxes["best_classical"] == "fsr_best" and boxes["margin_db"] == pytest.approx(-0.5)
    assert json.loads((tmp_path / "record.json").read_text()) == record
    text = capsys.readouterr().out
    assert row["seconds_per_photo"] == pytest.approx(0.25)
    assert "| v5 | 1,000 | 10.0 | 24.00 (+0.50) | – | – | 18.50 (-0.50) | 0.25 |" in text
    assert "object_boxes fsr_best 19.00 dB" in text


def test_the_photo_probes_table_refuses_a_probe_scored_without_every_classical_method(
        tmp_path):
    import photo_probes

    run = _probe_metrics(tmp_path / "v9", {"blobs": 24.0},
                         {"blobs": {"navier_stokes": 22.8, "telea": 22.3}})
    with pytest.raises(ValueError, match="--baselines all"):
        photo_probes.probe_row(run, 7)
    with pytest.raises(ValueError, match="no photo evaluation of mask seed 8"):
        photo_probes.probe_row(run, 8)


def test_photo_speed_resizes_to_the_megapixels_and_times_a_second_pass(tmp_path):
    import photo_speed

    image = np.zeros((300, 450, 3), np.uint8)
    small = photo_speed.resized(image, 0.5)
    assert abs(small.shape[0] * small.shape[1] - 500_000) < 1_000
    assert small.shape[1] / small.shape[0] == pytest.approx(1.5, rel=1e-2)
    calls = []
    masks = [np.ones((4, 4, 1), np.float32), np.zeros((4, 4, 1), np.float32)]
    images = [np.full((4, 4, 3), 51, np.uint8)] * 2  # 0.2

    def predict(image, mask):
        calls.append(mask.mean())
        return np.full(image.shape, 0.3 if mask.any() else 0.9, np.float32)

    row = photo_speed.time_family(predict, images, masks)
    assert calls == [1.0, 0.0, 1.0, 0.0]  # one untimed pass, then the timed one
    assert row["photos"] == 2 and row["hole_share"] == 0.5
    assert row["hole_psnr"] == pytest.approx(20.0)  # a hole error of 0.1: 10 log10(1 / 0.01)
    assert 0 <= row["median_seconds"] <= row["p90_seconds"] <= row["max_seconds"]
    text = photo_speed.markdown({"rows": [{"masks": "blobs", **row}]})
    assert text.splitlines()[2].startswith("| blobs | 2 | 0.5000 | ")
