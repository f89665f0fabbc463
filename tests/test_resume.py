"""Interruption and resume, determinism, and atomic writes.

The kill tests SIGKILL a real training process mid-epoch (once its state.json shows
a completed epoch), run the same command again, and compare the result with an
uninterrupted run of the same seed started beside it: with TensorFlow's op
determinism the log and metrics.json must be identical to the last bit (only the
timings differ), which is what docs/training.md's "Reproducibility and resuming" promises.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
from test_masks import EVAL_CHECKSUMS

from inpaint_tf import _io, training
from inpaint_tf.configs import config_from_dict
from inpaint_tf.data import synthetic_split
from inpaint_tf.evaluation.protocols import evaluate
from inpaint_tf.evaluation.runs import evaluate_run, fixed_test_set
from inpaint_tf.masks import MASK_KINDS, VALIDATION_MASK_SEED, eval_masks, mask_checksum
from inpaint_tf.presets.loading import load_inference_model
from inpaint_tf.reports.results import build_report
from inpaint_tf.training.building import build_model

TESTS = Path(__file__).parent
EPOCHS = 3
TIMING_KEYS = ("seconds", "train_seconds", "wall_seconds")  # wall-clock: allowed to differ

AUTOENCODER_TOML = f"""
name = "tiny_resume"
[model]
kind = "unet_autoencoder"
options = {{ filters = [4, 8], bottleneck_filters = 16 }}
[data]
masks = "irregular"
validation_images = 8
test_images = 8
[training]
batch_size = 8
epochs = {EPOCHS}
steps_per_epoch = 20
seed = 1
"""


def write_cifar_like(path: Path, n_train: int = 32, n_test: int = 8) -> Path:
    """A CIFAR-10-like .npz: the first 10,000 training images are the validation set."""
    split = synthetic_split(n_train=n_train + 8, n_validation=0, n_test=n_test, seed=3)
    x_train = np.resize(split.train.images, (10_000 + n_train, 32, 32, 3))
    x_train[10_000:] = split.train.images[:n_train]
    np.savez(path, x_train=x_train, y_train=np.zeros(len(x_train), np.int64),
             x_test=split.test.images, y_test=np.zeros(n_test, np.int64))
    return path


def _environment():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONHASHSEED="0")
    env.pop("INPAINT_TF_DEBUG", None)
    return env


def _start(command, log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log.open("w"),
                            env=_environment(), cwd=TESTS.parent)


def _finish(process: subprocess.Popen, log: Path, timeout: float = 600) -> None:
    assert process.wait(timeout) == 0, log.read_text()[-3000:]


def _epochs_done(run: Path) -> int:
    state = run / "state.json"
    # Written atomically: a reader sees the old or the new file, never a partial one.
    return json.loads(state.read_text())["epochs_done"] if state.is_file() else 0


def _kill_mid_epoch(process: subprocess.Popen, run: Path, log: Path) -> int:
    """SIGKILLs `process` shortly after its first completed epoch; returns epochs done."""
    deadline = time.monotonic() + 600
    while _epochs_done(run) < 1:
        assert process.poll() is None, "the run ended before its first epoch:\n" + \
            log.read_text()[-3000:]
        assert time.monotonic() < deadline, "no completed epoch within 10 minutes"
        time.sleep(0.01)
    time.sleep(0.2)  # into the next epoch (a whole epoch takes over a second)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    done = _epochs_done(run)
    assert 1 <= done < EPOCHS and not (run / "metrics.json").exists(), \
        "the kill came too late to interrupt the run"
    return done


def _log_rows(run: Path) -> list[dict]:
    with (run / "log.csv").open() as handle:
        return [{k: v for k, v in row.items() if k not in TIMING_KEYS}
                for row in csv.DictReader(handle)]


def _metrics(run: Path) -> dict:
    metrics = json.loads((run / "metrics.json").read_text())
    metrics["test"] = {k: v for k, v in metrics["test"].items() if k not in TIMING_KEYS}
    return {k: v for k, v in metrics.items() if k not in TIMING_KEYS}


def _split_training_losses(rows: list[dict], losses: tuple[str, ...]):
    exact = [{k: v for k, v in row.items() if k not in losses} for row in rows]
    approximate = np.array([[float(row[k]) for k in losses] for row in rows])
    return exact, approximate


def _assert_resumed_like_uninterrupted(resumed: Path, reference: Path,
                                       training_losses: tuple[str, ...] = ()) -> None:
    """Bit-exact, except the epoch means of `training_losses` within 1e-6 relative.

    Those are sums of per-step scalars that a freshly traced graph may round in another
    order (seen once: the GAN's d_loss = fake_err + real_err one ulp apart on a CI
    machine, with every weight, validation and test figure identical).
    """
    rows = _log_rows(resumed)
    assert [int(row["epoch"]) for row in rows] == list(range(1, EPOCHS + 1))
    exact, approximate = _split_training_losses(rows, training_losses)
    exact_reference, approximate_reference = _split_training_losses(
        _log_rows(reference), training_losses)
    assert exact == exact_reference  # the CSV holds each float's repr: bit-exact
    np.testing.assert_allclose(approximate, approximate_reference, rtol=1e-6, atol=0)
    assert _metrics(resumed) == _metrics(reference)
    state = json.loads((resumed / "state.json").read_text())
    assert state["epochs_done"] == EPOCHS
    assert [row["epoch"] for row in state["history"]] == list(range(1, EPOCHS + 1))
    checkpoints = sorted(p.name for p in (resumed / "checkpoints").iterdir())
    assert checkpoints == [f"epoch_{EPOCHS:04d}.weights.h5"]


def _kill_and_resume(command_for, tmp_path: Path) -> tuple[Path, Path]:
    """Runs `command_for(run)` uninterrupted and killed-then-rerun, side by side."""
    reference, resumed = tmp_path / "reference", tmp_path / "resumed"
    logs = {name: tmp_path / f"{name}.log" for name in ("reference", "killed", "rerun")}
    processes = [_start(command_for(reference), logs["reference"])]
    try:
        processes.append(_start(command_for(resumed), logs["killed"]))
        _kill_mid_epoch(processes[-1], resumed, logs["killed"])
        processes.append(_start(command_for(resumed), logs["rerun"]))
        _finish(processes[-1], logs["rerun"])
        _finish(processes[0], logs["reference"])
    finally:
        for process in processes:  # only if a check above failed: they are done otherwise
            if process.poll() is None:
                process.kill()
                process.wait()
    return resumed, reference


@pytest.mark.slow
def test_cli_train_killed_mid_epoch_resumes_to_the_uninterrupted_result(tmp_path):
    config = tmp_path / "tiny.toml"
    config.write_text(AUTOENCODER_TOML)
    data = write_cifar_like(tmp_path / "cifar.npz")

    def command_for(run):
        return [sys.executable, "-m", "inpaint_tf.cli", "train", str(config), "--data",
                str(data), "--out", str(run), "--deterministic"]

    resumed, reference = _kill_and_resume(command_for, tmp_path)
    _assert_resumed_like_uninterrupted(resumed, reference)


@pytest.mark.slow
def test_gan_killed_mid_epoch_resumes_its_phase_and_the_uninterrupted_result(tmp_path):
    def command_for(run):
        return [sys.executable, str(TESTS / "_resume_gan_run.py"), str(run)]

    resumed, reference = _kill_and_resume(command_for, tmp_path)
    _assert_resumed_like_uninterrupted(resumed, reference, training_losses=(
        "d_loss", "g_loss", "fake_err", "real_err"))
    rows = _log_rows(resumed)
    # The phases of T_c = T_d = 1: generator alone, discriminator alone, then both.
    assert float(rows[0]["d_loss"]) == 0 and float(rows[1]["d_loss"]) > 0
    assert rows[1]["val_hole_mae"] == rows[0]["val_hole_mae"]  # generator frozen in epoch 2
    assert rows[2]["val_hole_mae"] != rows[1]["val_hole_mae"]


# --------------------------------------------------------------------------- determinism

FRESH_PROCESS = """
import json
from inpaint_tf.masks import MASK_KINDS, VALIDATION_MASK_SEED, eval_masks, mask_checksum
print(json.dumps({kind: [mask_checksum(eval_masks(kind, 1000)),
                         mask_checksum(eval_masks(kind, 300, VALIDATION_MASK_SEED, 64, 48))]
                  for kind in MASK_KINDS}))
"""


def test_evaluation_mask_sets_are_identical_in_a_fresh_process():
    env = dict(_environment(), PYTHONHASHSEED="12345", OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-c", FRESH_PROCESS], capture_output=True,
                            text=True, env=env, check=True)
    there = json.loads(result.stdout.strip().splitlines()[-1])
    for kind in MASK_KINDS:
        test_set, validation_set = there[kind]
        assert test_set[:12] == EVAL_CHECKSUMS[kind]  # the stored checksum
        assert test_set == mask_checksum(eval_masks(kind, 1000))
        assert validation_set == mask_checksum(
            eval_masks(kind, 300, VALIDATION_MASK_SEED, 64, 48))


def test_same_seed_and_data_give_the_same_masks_sets_and_metrics():
    config = config_from_dict({"data": {"masks": "irregular", "test_images": 12}})
    split = synthetic_split(8, 4, 16)
    first_images, first_masks = fixed_test_set(config, split)
    second_images, second_masks = fixed_test_set(config, synthetic_split(8, 4, 16))
    np.testing.assert_array_equal(first_images, second_images)
    np.testing.assert_array_equal(first_masks, second_masks)
    assert len(first_images) == 12
    keras.utils.set_random_seed(0)
    model = build_model(config_from_dict(
        {"model": {"options": {"filters": [4, 8], "bottleneck_filters": 8}}}))
    rows = [evaluate(model, first_images, first_masks) for _ in range(2)]
    for row in rows:
        row.pop("seconds")
    assert rows[0] == rows[1]


# --------------------------------------------------------------------------- atomic writes


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("crash", [RuntimeError, KeyboardInterrupt])
def test_a_crash_mid_write_leaves_the_previous_file(tmp_path, crash):
    target = tmp_path / "metrics.json"
    _io.write_json(target, {"good": 1})
    with pytest.raises(crash):
        with _io.atomic_path(target) as temporary:
            temporary.write_text('{"half": ')
            raise crash
    assert json.loads(target.read_text()) == {"good": 1}
    assert _hidden(tmp_path) == []


def _write_folder(path: Path, marker: str) -> None:
    path.mkdir()
    (path / "saved_model.pb").write_text(marker)
    (path / "variables").mkdir()
    (path / "variables" / "data").write_text(marker * 100)


def _marker(folder: Path) -> str:
    return (folder / "saved_model.pb").read_text()


def test_a_crash_mid_folder_write_leaves_the_previous_folder(tmp_path):
    target = tmp_path / "saved_model"
    with _io.atomic_path(target, suffix="") as temporary:
        _write_folder(temporary, "good")
    with pytest.raises(KeyboardInterrupt):
        with _io.atomic_path(target, suffix="") as temporary:
            _write_folder(temporary, "half")
            raise KeyboardInterrupt
    assert _marker(target) == "good" and _hidden(tmp_path) == []
    with _io.atomic_path(target, suffix="") as temporary:
        _write_folder(temporary, "new")
    assert _marker(target) == "new" and _hidden(tmp_path) == []


def test_a_failed_folder_swap_puts_the_previous_folder_back(tmp_path, monkeypatch):
    target = tmp_path / "saved_model"
    with _io.atomic_path(target, suffix="") as temporary:
        _write_folder(temporary, "good")
    real_replace = os.replace

    def replace(source, destination):
        if Path(source).name.endswith(".tmp"):  # the second rename: the new copy in
            raise OSError("disk full")
        real_replace(source, destination)

    monkeypatch.setattr(_io.os, "replace", replace)
    with pytest.raises(OSError, match="disk full"):
        with _io.atomic_path(target, suffix="") as temporary:
            _write_folder(temporary, "new")
    assert _marker(target) == "good" and _hidden(tmp_path) == []


def test_a_kill_between_the_folder_renames_is_repaired_by_the_next_write(tmp_path):
    target = tmp_path / "saved_model"
    with _io.atomic_path(target, suffix="") as temporary:
        _write_folder(temporary, "good")
    os.replace(target, tmp_path / ".saved_model.old")  # where a kill there leaves it
    with pytest.raises(RuntimeError):
        with _io.atomic_path(target, suffix="") as temporary:
            raise RuntimeError("killed again")
    assert _marker(target) == "good" and _hidden(tmp_path) == []


TINY = {"name": "tiny_atomic",
        "model": {"options": {"filters": [4, 8], "bottleneck_filters": 8}},
        "data": {"masks": "random_box", "validation_images": 4, "test_images": 12},
        "training": {"batch_size": 4, "epochs": 1, "steps_per_epoch": 2, "seed": 0}}


def test_every_file_of_a_run_and_its_report_is_written_atomically(tmp_path, monkeypatch):
    targets = []
    real_atomic_path = _io.atomic_path

    def recording(path, suffix=None):
        targets.append(Path(path).resolve())
        return real_atomic_path(path, suffix)

    monkeypatch.setattr(_io, "atomic_path", recording)
    split = synthetic_split(8, 4, 12)
    run = training.train(config_from_dict(TINY), tmp_path / "run", split=split, verbose=0)
    evaluate_run(run.path, masks="center_box", split=split)
    build_report([run.path], tmp_path / "RESULTS.md", baselines=False)
    written = [p.resolve() for p in run.path.iterdir()] + [
        p.resolve() for p in run.checkpoints.iterdir()] + [(tmp_path / "RESULTS.md").resolve()]
    assert {p.name for p in written} >= {
        "config.toml", "state.json", "log.csv", "curves.png", "samples.png", "metrics.json",
        "model.keras", "saved_model", "epoch_0001.weights.h5", "RESULTS.md"}
    missing = [str(p) for p in written if p not in targets and p != run.checkpoints.resolve()]
    assert missing == []
    assert _hidden(run.path) == [] and _hidden(run.checkpoints) == []

    # A kill while metrics.json or model.keras is rewritten leaves the previous file.
    metrics_before = run.metrics.read_bytes()
    model_before = run.model.read_bytes()
    real_write_text = Path.write_text

    def half_written(self, text, *args, **kwargs):
        real_write_text(self, text[: len(text) // 2], *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_text", half_written)
    with pytest.raises(KeyboardInterrupt):
        evaluate_run(run.path, masks="irregular", split=split)
    monkeypatch.undo()
    assert run.metrics.read_bytes() == metrics_before

    def save_half(self, filepath, *args, **kwargs):
        Path(filepath).write_bytes(b"PK\x03\x04 half a model")
        raise KeyboardInterrupt

    monkeypatch.setattr(keras.Model, "save", save_half)
    with pytest.raises(KeyboardInterrupt):
        training.train(config_from_dict(TINY), run.path, split=split, verbose=0)
    monkeypatch.undo()
    assert run.model.read_bytes() == model_before
    assert _hidden(run.path) == []
    reloaded = load_inference_model(run.path)  # the previous file, whole
    out = reloaded({"image": np.zeros((1, 40, 48, 3)), "mask": np.ones((1, 40, 48, 1))})
    assert tuple(out.shape) == (1, 40, 48, 3)  # and it serves any size
