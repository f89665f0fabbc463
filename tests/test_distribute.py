"""Training past one machine: strategies, each worker's share of the batches, two worker
processes on 127.0.0.1, a killed worker, and XLA as the TPU's stand-in.

The cluster tests start `_worker_run.py` twice with a ``TF_CONFIG`` naming both
(free ports on 127.0.0.1, one CPU device each), beside the same run in one process
with the default strategy, and compare: the two workers must end with identical
weights, equal within float round-off to the one-process run of the same global
batch and seed. Every process is bounded in time and stopped by the test. A second
test kills one worker mid-run; the cluster stops (a multi-worker step needs every
worker), every worker is started again with the same command, and the run must end
as the uninterrupted two-worker run did. On a 2-core machine two workers are slower
than one process: these tests are about correctness, not speed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import cv2
import keras
import numpy as np
import pytest
import tensorflow as tf
from test_resume import (
    AUTOENCODER_TOML,
    _assert_resumed_like_uninterrupted,
    _epochs_done,
    _log_rows,
    write_cifar_like,
)

from inpaint_tf.configs import config_from_dict, load_config
from inpaint_tf.data import synthetic_split
from inpaint_tf.data.photos import make_photo_dataset
from inpaint_tf.data.pipeline import Shard, batch_rng, input_shard, make_dataset
from inpaint_tf.training import distribution
from inpaint_tf.training.building import build_model, uses_mask_weights
from inpaint_tf.training.data import load_training_data, training_dataset
from inpaint_tf.training.distribution import (
    STRATEGIES,
    WorkerRole,
    check_batch_divides,
    cluster_role,
    keras_distributed_fit,
    make_strategy,
    read_tf_config,
    worker_role,
)

TESTS = Path(__file__).parent
WORKER = TESTS / "_worker_run.py"
EPOCHS = 3  # _worker_run.py's
TIMEOUT = 900  # seconds for one training process: a loaded 2-core machine is slow
# Largest weight difference from the one-process run, relative to the largest weight
# update: round-off (summation order of the all-reduce, the synchronised BatchNorm's
# moments) that 36 steps amplify, more so through the GAN's adversarial updates.
ROUND_OFF = {"unet": 1e-5, "gan": 1e-3}


def _context(pipelines: int, index: int, replicas: int):
    return tf.distribute.InputContext(num_input_pipelines=pipelines, input_pipeline_id=index,
                                      num_replicas_in_sync=replicas)


def _batches(dataset, count: int) -> list:
    return [tf.nest.map_structure(np.asarray, element) for element in dataset.take(count)]


# --------------------------------------------------------------------------- strategies


def test_strategies_are_named_and_an_unknown_one_is_refused():
    assert STRATEGIES == ("default", "mirrored", "multi-worker", "tpu")
    assert make_strategy("default") is tf.distribute.get_strategy()
    with pytest.raises(ValueError, match=r"strategy='gpus'"):
        make_strategy("gpus")
    assert worker_role("default") == worker_role("tpu") == WorkerRole(0, 1, True)


@pytest.mark.parametrize("value, message", [
    ("", "TF_CONFIG, which is not set"),
    ("{cluster", "TF_CONFIG is not JSON"),
    ('{"task": {"type": "worker", "index": 0}}', "cluster.worker"),
    ('{"cluster": {"worker": []}, "task": {"type": "worker", "index": 0}}', "cluster.worker"),
    ('{"cluster": {"worker": ["a:1", "b:1"]}}', "task must name this host"),
    ('{"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 2}}',
     "task must name this host"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}',
     "task must name this host"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": true}}',
     "task must name this host"),
])
def test_a_bad_tf_config_is_refused_with_what_to_write(value, message, monkeypatch):
    with pytest.raises(ValueError, match=message):
        read_tf_config({"TF_CONFIG": value})
    monkeypatch.setenv("TF_CONFIG", value)
    with pytest.raises(ValueError, match=message):
        worker_role("multi-worker")


def test_the_chief_is_the_chief_task_else_worker_zero():
    def role(cluster, kind, index):
        return cluster_role({"cluster": cluster, "task": {"type": kind, "index": index}})

    workers = {"worker": ["a:1", "b:1", "c:1"]}
    assert role(workers, "worker", 0) == WorkerRole(0, 3, True)
    assert role(workers, "worker", 2) == WorkerRole(2, 3, False)
    with_chief = {"chief": ["c:1"], "worker": ["a:1", "b:1"]}
    assert role(with_chief, "chief", 0) == WorkerRole(0, 3, True)
    assert role(with_chief, "worker", 0) == WorkerRole(1, 3, False)


def test_the_global_batch_must_split_evenly_over_the_replicas():
    assert check_batch_divides(32, 4) == 8
    with pytest.raises(ValueError, match="multiple of 3. Received: batch_size=32"):
        check_batch_divides(32, 3)
    with pytest.raises(ValueError, match="multiple of 4"):
        input_shard(_context(2, 0, 4), 6)
    assert input_shard(None, 6) == Shard(0, 1, 1)
    assert input_shard(_context(2, 1, 4), 8) == Shard(1, 2, 2)


FRESH_PROCESS = """
import json, os
os.environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": ["127.0.0.1:1"]},
                                      "task": {"type": "worker", "index": 0}})
import tensorflow as tf
from inpaint_tf.training.distribution import make_strategy
tf.constant(0.0).numpy()  # the runtime starts before the strategy is made
errors = {}
for name in ("multi-worker", "tpu"):
    try:
        make_strategy(name)
    except RuntimeError as error:
        errors[name] = str(error)
print(json.dumps(errors))
"""


def test_strategies_that_cannot_start_here_say_why():
    # A separate process: both leave TensorFlow's runtime reconfigured behind them.
    result = subprocess.run([sys.executable, "-c", FRESH_PROCESS], capture_output=True,
                            text=True, timeout=300, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert result.returncode == 0, result.stderr[-3000:]
    errors = json.loads(result.stdout.strip().splitlines()[-1])
    assert "before TensorFlow's runtime starts" in errors["multi-worker"]
    assert "strategy='tpu' found no TPU at tpu='local'" in errors["tpu"]
    assert "INPAINT_TF_TPU" in errors["tpu"]


def test_the_keras_repairs_hold_only_inside_their_block():
    from keras.src.backend.tensorflow import trainer

    before = (trainer.reduce_per_replica, trainer.TensorFlowTrainer._maybe_symbolic_build)
    with keras_distributed_fit():
        assert trainer.reduce_per_replica is not before[0]
    assert (trainer.reduce_per_replica, trainer.TensorFlowTrainer._maybe_symbolic_build) \
        == before


# --------------------------------------------------------------------------- input per worker


@pytest.mark.parametrize("pipelines, replicas", [(2, 2), (2, 4), (1, 2), (4, 4)])
def test_the_workers_shares_are_the_one_process_batch(pipelines, replicas):
    images = synthetic_split(24, 0, 0, size=16, seed=2).train.images
    common = dict(batch_size=8, seed=4, steps_per_epoch=5, epochs=2, real_masks=True,
                  mask_as_sample_weight=True)
    whole = _batches(make_dataset(images, "irregular", **common), 10)
    pieces = replicas // pipelines
    shares = [_batches(make_dataset(images, "irregular", input_context=_context(
        pipelines, index, replicas), **common), 10 * pieces) for index in range(pipelines)]
    for step, batch in enumerate(whole):
        # Worker-major, then local replica: the batches a step hands its replicas.
        parts = [share[step * pieces + piece] for share in shares for piece in range(pieces)]
        assert all(len(part[1]) == 8 // replicas for part in parts)
        joined = tf.nest.map_structure(lambda *p: np.concatenate(p), *parts)
        tf.nest.map_structure(np.testing.assert_array_equal, joined, batch)


def _write_photos(folder: Path, count: int) -> list[str]:
    folder.mkdir()
    rng = np.random.default_rng(0)
    files = []
    for number in range(count):
        height, width = rng.integers(40, 72, 2)
        files.append(str(folder / f"photo{number:02d}.png"))
        cv2.imwrite(files[-1], rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
    return files


def test_photo_workers_read_only_their_own_photos(tmp_path, monkeypatch):
    from inpaint_tf.data import photos

    files = _write_photos(tmp_path / "photos", 16)
    read = []
    real_read_image = photos.read_image
    monkeypatch.setattr(photos, "read_image", lambda f: read.append(f) or real_read_image(f))
    common = dict(batch_size=4, seed=7, steps_per_epoch=4, epochs=1, scale_range=(0.5, 1.0))
    seen, crops = [], []
    for worker in range(2):
        read.clear()
        dataset = make_photo_dataset(files, 32, "blobs", input_context=_context(2, worker, 2),
                                     **common)
        crops.append(_batches(dataset, 4))
        seen.append(set(read))
    # An epoch of 4 steps of 4 is every photo once: each worker reads its half, alone.
    assert len(seen[0]) == len(seen[1]) == 8 and not seen[0] & seen[1]
    assert seen[0] | seen[1] == set(files)
    # A worker's batches are a pure function of (seed, epoch, step, worker): the same
    # again, and again from a later epoch; with one worker, the one-process batches.
    again = make_photo_dataset(files, 32, "blobs", input_context=_context(2, 1, 2), **common)
    tf.nest.map_structure(np.testing.assert_array_equal, _batches(again, 4), crops[1])
    one = dict(common, epochs=2)
    single = _batches(make_photo_dataset(files, 32, "blobs", **one), 8)
    alone = _batches(make_photo_dataset(files, 32, "blobs", input_context=_context(1, 0, 1),
                                        **one), 8)
    tf.nest.map_structure(np.testing.assert_array_equal, alone, single)
    resumed = _batches(make_photo_dataset(files, 32, "blobs", input_context=_context(2, 1, 2),
                                          **dict(one, start_epoch=1)), 4)
    later = _batches(make_photo_dataset(files, 32, "blobs", input_context=_context(2, 1, 2),
                                        **one), 8)[4:]
    tf.nest.map_structure(np.testing.assert_array_equal, resumed, later)


def test_a_workers_random_draws_are_its_own():
    draws = [batch_rng(1, 2, 3, worker).random(4) for worker in (None, 0, 1)]
    assert not np.array_equal(draws[1], draws[2]) and not np.array_equal(draws[0], draws[1])
    np.testing.assert_array_equal(batch_rng(1, 2, 3).random(4), draws[0])


# --------------------------------------------------------------------------- XLA (TPU proxy)

PHOTO_OPTIONS = {**load_config("photo_unet").model.options, "filters": [4, 8],
                 "bottleneck_filters": 8}
FAMILIES = {
    "unet_autoencoder": {"model": {"kind": "unet_autoencoder",
                                   "options": {"filters": [4, 8], "bottleneck_filters": 8}},
                         "training": {"loss": "mae"}},
    "pconv_unet": {"model": {"kind": "pconv_unet", "options": {"vgg_weights": None}},
                   "data": {"fill_value": 1.0}, "training": {"loss": "pconv"}},
    "glcic_gan": {"model": {"kind": "glcic_gan"}, "data": {"masks": "gan_rectangle"},
                  "gan": {"region_size": 16}},
    "photo_unet": {"model": {"kind": "unet_autoencoder", "options": PHOTO_OPTIONS},
                   "training": {"loss": "hole_mse"}},
}


def _xla_fit(model, config, data, strategy, steps: int = 2):
    dataset = strategy.distribute_datasets_from_function(
        lambda context: training_dataset(config, data, start_epoch=0, epochs=1,
                                         mask_as_sample_weight=uses_mask_weights(config),
                                         input_context=context))
    with keras_distributed_fit():
        return model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0)


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_familys_train_step_compiles_with_xla_under_a_strategy(family):
    """XLA compiles the whole step: forward pass, losses, gradients, optimizer update, on
    the per-replica batches of `training_dataset` (the GAN's joint phase has every layer
    and both optimizers). A TPU compiles every step so; what XLA cannot compile (NumPy
    or py_function calls, shapes that change from step to step) a TPU rejects. XLA on
    CPU compiles no cross-device collective ("not yet implemented for CPU devices"),
    so the strategy has one device: the all-reduces, standard on a TPU, are left out."""
    mapping = FAMILIES[family]
    config = config_from_dict({**mapping, "data": {
        "masks": "irregular", **mapping.get("data", {}), "validation_images": 4,
        "test_images": 4}, "training": {**mapping.get("training", {}), "batch_size": 4,
                                        "epochs": 1, "steps_per_epoch": 2}})
    data = load_training_data(config, synthetic_split(8, 4, 4, size=32))
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = build_model(config, data.input_shape, 2)
        if config.is_gan:
            model.compile(model.generator_optimizer, model.discriminator_optimizer,
                          jit_compile=True)
        else:
            model.compile(optimizer=model.optimizer, loss=model.loss, jit_compile=True)
    history = _xla_fit(model, config, data, strategy)
    assert model.jit_compile is True  # no layer opted out of XLA
    assert all(np.isfinite(values[-1]) for values in history.history.values())


def test_the_xla_check_catches_what_a_tpu_rejects():
    """The check above is no formality: a NumPy call inside the step does not compile."""
    config = config_from_dict({"model": {"options": {"filters": [4], "bottleneck_filters": 4}},
                               "data": {"masks": "center_box", "validation_images": 4,
                                        "test_images": 4},
                               "training": {"batch_size": 4, "steps_per_epoch": 1}})
    data = load_training_data(config, synthetic_split(8, 4, 4, size=16))
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        image = keras.Input((None, None, 3), name="image")
        mask = keras.Input((None, None, 1), name="mask")
        host = keras.layers.Lambda(lambda t: tf.ensure_shape(
            tf.numpy_function(np.copy, [t], tf.float32), t.shape), output_shape=lambda s: s)
        out = keras.layers.Conv2D(3, 3, padding="same")(host(image) + mask)
        model = keras.Model({"image": image, "mask": mask}, out)
        model.compile(optimizer="sgd", loss="mae", jit_compile=False)
    _xla_fit(model, config, data, strategy, steps=1)  # without XLA, it trains
    with strategy.scope():
        model.compile(optimizer="sgd", loss="mae", jit_compile=True)
    with pytest.raises(tf.errors.OpError, match="unsupported operations .* XLA.* PyFunc"):
        _xla_fit(model, config, data, strategy, steps=1)


# --------------------------------------------------------------------------- two workers


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for handle in sockets:
            handle.bind(("127.0.0.1", 0))
        return [handle.getsockname()[1] for handle in sockets]
    finally:
        for handle in sockets:
            handle.close()


class Processes:
    """Training processes of one test, each with its log; all stopped at the end."""

    def __init__(self, folder: Path):
        self.folder, self.started = folder, []

    def start(self, family, run, weights, strategy, name, tf_config=None):
        return self.start_command(
            [sys.executable, str(WORKER), family, str(run), str(weights), strategy], name,
            tf_config)

    def start_command(self, command, name, tf_config=None):
        temporary = self.folder / f"tmp_{name}"  # the worker's temporary run folder goes here
        temporary.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONHASHSEED="0",
                   TMPDIR=str(temporary))
        env.pop("TF_CONFIG", None)
        env.pop("INPAINT_TF_DEBUG", None)
        if tf_config is not None:
            env["TF_CONFIG"] = json.dumps(tf_config)
        log = self.folder / f"{name}.log"
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log.open("w"),
                                   env=env, cwd=TESTS)
        process.log, process.temporary = log, temporary
        self.started.append(process)
        return process

    def start_cluster(self, family, run, weights, name, command=None):
        ports = _free_ports(2)
        cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
        command = command or [sys.executable, str(WORKER), family, str(run), str(weights),
                              "multi-worker"]
        return [self.start_command(command, f"{name}_worker{index}",
                                   {"cluster": cluster, "task": {"type": "worker", "index": index}})
                for index in range(2)]

    @staticmethod
    def finish(process, timeout: float = TIMEOUT) -> None:
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"no end within {timeout} s:\n{process.log.read_text()[-3000:]}")
        assert code == 0, process.log.read_text()[-3000:]

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture
def processes(tmp_path):
    started = Processes(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


def _weights(folder: Path, worker: int) -> tuple[list, list]:
    stored = np.load(folder / f"worker{worker}.npz")
    count = sum(name.startswith("final") for name in stored.files)
    return ([stored[f"final{i}"] for i in range(count)],
            [stored[f"initial{i}"] for i in range(count)])


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """The two-worker run and the one-process run of a family, made once per module."""
    made: dict[str, dict] = {}

    def runs(family: str) -> dict:
        if family not in made:
            folder = tmp_path_factory.mktemp(f"finished_{family}")
            started = Processes(folder)
            try:
                paths = {"two": folder / "two", "one": folder / "one",
                         "two_weights": folder / "two_weights",
                         "one_weights": folder / "one_weights", "folder": folder}
                cluster = started.start_cluster(family, paths["two"], paths["two_weights"],
                                                "two")
                single = started.start(family, paths["one"], paths["one_weights"], "default",
                                       "one")
                for process in [*cluster, single]:
                    Processes.finish(process)
                paths["temporaries"] = [process.temporary for process in cluster]
            finally:
                started.stop_all()
            made[family] = paths
        return made[family]

    return runs


def _assert_trains_like_one_process(family, runs, run, weights, strategy) -> None:
    """Weights within round-off of the one-process run's (relative to the largest weight
    update), the same start, and its log and test figures within 1e-4."""
    final, initial = _weights(weights, 0)
    single, single_initial = _weights(runs["one_weights"], 0)
    for a, b in zip(initial, single_initial, strict=True):
        np.testing.assert_array_equal(a, b)  # the same start (worker 0's, broadcast)
    update = max(float(np.max(np.abs(w - w0))) for w, w0 in zip(single, single_initial))
    difference = max(float(np.max(np.abs(a - b))) for a, b in zip(final, single))
    assert update > 0.01 and difference <= ROUND_OFF[family] * update, (difference, update)

    rows, one = _log_rows(run), _log_rows(runs["one"])
    assert [row["epoch"] for row in rows] == [str(epoch) for epoch in range(1, EPOCHS + 1)]
    for row, row_one in zip(rows, one, strict=True):  # losses and validation figures
        assert row.keys() == row_one.keys()
        np.testing.assert_allclose([float(row[k]) for k in row],
                                   [float(row_one[k]) for k in row_one], rtol=1e-4, atol=1e-7)
    metrics = {name: json.loads((folder / "metrics.json").read_text())
               for name, folder in (("run", run), ("one", runs["one"]))}
    assert metrics["run"]["strategy"] == strategy
    for key, value in metrics["one"]["test"].items():
        if key != "seconds" and isinstance(value, float):
            assert metrics["run"]["test"][key] == pytest.approx(value, rel=1e-4, abs=1e-7), key


@pytest.mark.slow
@pytest.mark.parametrize("family", ["unet", "gan"])
def test_two_workers_end_with_the_weights_of_one_process(family, finished):
    runs = finished(family)
    chief, worker = _weights(runs["two_weights"], 0)[0], _weights(runs["two_weights"], 1)[0]
    for a, b in zip(chief, worker, strict=True):  # both workers: the same model, bit for bit
        np.testing.assert_array_equal(a, b)
    _assert_trains_like_one_process(family, runs, runs["two"], runs["two_weights"],
                                    "multi-worker")

    # Only the chief wrote the run folder; worker 1 wrote into its temporary folder,
    # which is gone.
    folder = str(runs["two"].resolve())
    writes = [json.loads((runs["two_weights"] / f"worker{i}.json").read_text())
              for i in range(2)]
    assert writes[0] and all(path.startswith(folder) for path in writes[0])
    assert writes[1] and not any(path.startswith(folder) for path in writes[1])
    assert {Path(path).name for path in writes[1]} >= {"state.json", "model.keras"}
    assert [sorted(folder.glob("inpaint_tf_worker*")) for folder in runs["temporaries"]] \
        == [[], []]


@pytest.mark.slow
@pytest.mark.parametrize("family", ["unet", "gan"])
def test_mirrored_on_two_devices_trains_like_one_process(family, finished, processes,
                                                          tmp_path):
    """`train`'s own path under MirroredStrategy: two replicas in one process, each fed
    its half of every batch by the per-replica input `tpu` runs too."""
    run, weights = tmp_path / "run", tmp_path / "weights"
    Processes.finish(processes.start(family, run, weights, "mirrored-two-cpus", "mirrored"))
    _assert_trains_like_one_process(family, finished(family), run, weights, "mirrored")


@pytest.mark.slow
# One family: the restart is the run folder's and the strategy's, the same for the GAN
# (whose two-worker equivalence the test above covers); its variant adds 35 s to CI.
@pytest.mark.parametrize("family", ["unet"])
def test_a_killed_worker_and_its_restarted_cluster_end_as_the_uninterrupted_run(
        family, finished, processes, tmp_path):
    reference = finished(family)
    run, weights = tmp_path / "run", tmp_path / "weights"
    chief, worker = processes.start_cluster(family, run, weights, "killed")
    deadline = time.monotonic() + TIMEOUT
    while _epochs_done(run) < 1:
        assert chief.poll() is None and worker.poll() is None, \
            chief.log.read_text()[-3000:] + worker.log.read_text()[-3000:]
        assert time.monotonic() < deadline, "no completed epoch in time"
        time.sleep(0.01)
    time.sleep(0.3)  # into the next epoch
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    # The chief cannot step alone: it stops, and says how to resume.
    try:
        code = chief.wait(300)
    except subprocess.TimeoutExpired:
        pytest.fail("the chief did not stop within 300 s of losing its worker")
    assert code != 0
    assert "Run the same command on every worker again" in chief.log.read_text()
    done = _epochs_done(run)
    assert 1 <= done < EPOCHS and not (run / "metrics.json").exists(), \
        "the kill came too late to interrupt the run"

    for process in processes.start_cluster(family, run, weights, "restarted"):
        Processes.finish(process)
    _assert_resumed_like_uninterrupted(run, reference["two"], training_losses=(
        ("d_loss", "g_loss", "fake_err", "real_err") if family == "gan" else ("loss",)))
    for index in range(2):
        resumed = _weights(weights, index)[0]
        uninterrupted = _weights(reference["two_weights"], index)[0]
        for a, b in zip(resumed, uninterrupted, strict=True):
            np.testing.assert_array_equal(a, b)


def test_the_strategies_are_named_in_the_training_namespace():
    from inpaint_tf import training

    assert training.STRATEGIES is distribution.STRATEGIES


def test_the_cli_forms_the_cluster_before_tensorflow_starts(monkeypatch):
    from inpaint_tf import cli

    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(SystemExit) as raised:
        cli.main(["train", "any.toml", "--strategy", "multi-worker"])
    assert raised.value.code == 2  # refused while the command line is read
    with pytest.raises(SystemExit):
        cli.main(["train", "any.toml", "--strategy", "gpus"])


@pytest.mark.slow
def test_inpaint_tf_train_on_two_workers(processes, tmp_path):
    """The command a user runs on each host, with TF_CONFIG: both end, the chief's run
    folder is whole."""
    config = tmp_path / "tiny.toml"
    config.write_text(AUTOENCODER_TOML)
    data = write_cifar_like(tmp_path / "cifar.npz")
    run = tmp_path / "run"
    command = [sys.executable, "-m", "inpaint_tf.cli", "train", str(config), "--data", str(data),
               "--out", str(run), "--strategy", "multi-worker", "--epochs", "1",
               "--steps-per-epoch", "4"]
    for process in processes.start_cluster("unet", run, None, "cli", command):
        Processes.finish(process)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["strategy"] == "multi-worker" and metrics["epochs"] == 1
    assert {p.name for p in run.iterdir()} >= {"config.toml", "state.json", "log.csv",
                                              "model.keras", "saved_model", "checkpoints"}
