"""Training runs: one call trains a config into a run folder, and resumes it.

The run folder (`inpaint_tf.training.run_folders`) holds the config, the state, the last
checkpoint, the log, curves, samples, the test metrics, the model file and the
SavedModel. Every file is written atomically, and `state.json` is written last
at the end of each epoch: a run killed at any moment restarts, with the same
call, from its last completed epoch with the same weights, optimizer state, GAN
phase and data order (batches and masks are a pure function of seed, epoch and
step), so the log has no duplicate or missing epoch.

Several devices or hosts: ``strategy`` (`inpaint_tf.training.distribution`). The
config's batch is the global batch, each replica trains on its share, and the run
follows a one-device run of the same config and seed within float round-off. In a
multi-worker run every worker runs this same call (the cluster from ``TF_CONFIG``)
and reads the run folder, which must be on storage every host shares; only the
chief writes it, the others write their copies into a temporary folder that is
deleted at the end (as Keras' multi-worker guide does). A killed worker stops
the cluster; the same command on every worker resumes from the last completed
epoch, as on one host.

The pieces a run is made of live one concern per module: `inpaint_tf.training.precision`
(dtype policy), `inpaint_tf.training.distribution` (strategies, workers),
`inpaint_tf.training.schedules` (optimizers, learning rates),
`inpaint_tf.training.building` (a config's model), `inpaint_tf.training.run_folders` (files
and checkpoints), `inpaint_tf.evaluation.runs` (the fixed test set, `evaluate_run`)
and `inpaint_tf.presets.loading` (a run, file or release name to a model); their
public names stay importable from here.

Example:
    >>> from inpaint_tf import train, load_config
    >>> run = train(load_config("experiments/exp3_conv_autoencoder_irregular.toml"),
    ...             "runs/exp3", epochs=1)                                   # doctest: +SKIP
"""

from __future__ import annotations

import gc
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from inpaint_tf import _io
from inpaint_tf._checksums import image_checksum
from inpaint_tf._system import describe_device
from inpaint_tf.compositing import composite, fill_holes
from inpaint_tf.configs import ExperimentConfig, load_config, save_config, with_overrides
from inpaint_tf.data import Split
from inpaint_tf.evaluation.protocols import as_predict_fn, evaluate
from inpaint_tf.evaluation.runs import fixed_test_set
from inpaint_tf.export.saved_model import export_saved_model
from inpaint_tf.inference.inpainting import inpainting_network
from inpaint_tf.masks import VALIDATION_MASK_SEED

# Documented import paths of names that live in the modules below (kept working).
from inpaint_tf.training.building import (
    build_model,
    uses_mask_weights,
)
from inpaint_tf.training.data import (
    epoch_steps,
    fixed_masks,
    load_training_data,
    training_dataset,
)
from inpaint_tf.training.distribution import (
    check_batch_divides,
    check_workers_agree,
    keras_distributed_fit,
    make_strategy,
    worker_role,
)
from inpaint_tf.training.precision import (
    dtype_policy,
    policy_for,
)
from inpaint_tf.training.run_folders import (
    RunFolder,
    check_same_experiment,
    remove_stale_checkpoints,
    restore_checkpoint,
    save_checkpoint,
)

SAMPLE_COUNT = 8
# Validation figures added to the log after every epoch.
VALIDATION_KEYS = ("study_mae", "study_mse", "hole_mae", "hole_psnr", "hole_ssim")


def _epoch_callback(run: RunFolder, state: dict, model, validation, fill_value: float,
                    predictor):
    """Validates, checkpoints and records each completed epoch (state.json last)."""
    import keras

    class RecordEpoch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds = time.perf_counter() - self.started
            row = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
            images, masks = validation
            scores = evaluate(predictor(inpainting_network(model)), images, masks,
                              fill_value=fill_value)
            row.update({f"val_{key}": scores[key] for key in VALIDATION_KEYS})
            row["seconds"] = round(seconds, 2)
            wall = time.perf_counter() - self.started  # training and validation
            checkpoint = save_checkpoint(model, run, epoch + 1)
            state["history"] = [r for r in state["history"] if r["epoch"] <= epoch] + [row]
            state.update(epochs_done=epoch + 1, checkpoint=checkpoint,
                         train_seconds=state["train_seconds"] + seconds,
                         wall_seconds=state.get("wall_seconds", 0.0) + wall)
            run.write_log(state["history"])
            _plot_curves(state["history"], run.curves)
            _io.write_json(run.state_file, state)  # the commit point of the epoch
            remove_stale_checkpoints(run, checkpoint)

    return RecordEpoch()


def _plot_curves(history, path) -> None:
    from inpaint_tf.plotting import plot_curves

    plot_curves(history, path=path, close=True)


# --------------------------------------------------------------------------- train


def _resolve(config, epochs, steps, data, seed) -> ExperimentConfig:
    if isinstance(config, (str, Path)):
        config = load_config(config)
    return with_overrides(config, **{"training.epochs": epochs,
                                     "training.steps_per_epoch": steps,
                                     "data.source": None if data is None else str(data),
                                     "training.seed": seed})


def train(config, out_dir, *, epochs: int | None = None, steps_per_epoch: int | None = None,
          data=None, precision: str = "float32", strategy: str = "default",
          seed: int | None = None, split: Split | None = None, deterministic: bool = False,
          verbose="auto") -> RunFolder:
    """Trains `config` into the run folder `out_dir`, resuming it if it exists.

    Args:
        config: an `ExperimentConfig` or the path of a TOML config.
        out_dir: the run folder.
        epochs, steps_per_epoch, data, seed: overrides of the config's
            ``training.epochs``, ``training.steps_per_epoch``, ``data.source`` and
            ``training.seed``.
        precision: "float32" or "mixed" (bfloat16 on CPU and TPU, float16 on GPU).
        strategy: "default" (one device), "mirrored" (this host's GPUs),
            "multi-worker" (several hosts, the cluster in ``$TF_CONFIG``; every host
            runs this same call) or "tpu" (see `inpaint_tf.training.distribution`).
            ``training.batch_size`` is the global batch, which must split evenly over
            the replicas; the learning rate is the config's whatever the strategy
            (it goes with the global batch, which the strategy does not change).
            Like `precision`, the strategy is the machine's, not the experiment's: a
            run may be resumed under another one.
        split: data already loaded (e.g. synthetic images), instead of ``data.source``.
        deterministic: enable TensorFlow op determinism, so a re-run (or a
            resumed run) gives bit-identical numbers on CPU.
        verbose: Keras' progress output (a progress bar with ETA by default).

    Returns:
        The `RunFolder`, with its final metrics in ``metrics.json``.

    Raises:
        ValueError: a batch that does not split over the replicas; a bad ``TF_CONFIG``.
        RuntimeError: no TPU; a multi-worker strategy made too late, whose workers
            see different run folders, or whose cluster lost a worker (restart
            every worker with the same command to resume).

    Example:
        >>> # on each of two hosts, TF_CONFIG naming both and this host's index:
        >>> train("exp3_conv_autoencoder_irregular", "/shared/runs/exp3",
        ...       strategy="multi-worker")                              # doctest: +SKIP
    """
    import keras
    import tensorflow as tf

    # First: a multi-worker cluster forms before TensorFlow's runtime starts.
    distribution = make_strategy(strategy)
    role = worker_role(strategy)
    config = _resolve(config, epochs, steps_per_epoch, data, seed)
    check_batch_divides(config.training.batch_size, distribution.num_replicas_in_sync)
    run = RunFolder(out_dir)
    if run.config.is_file():
        check_same_experiment(load_config(run.config), config, run.path)
    if role.is_chief:
        run.path.mkdir(parents=True, exist_ok=True)
        save_config(config, run.config)
    state = run.read_state()
    data = load_training_data(config, split, progress=verbose not in (0, False))
    policy = policy_for(precision)

    keras.utils.set_random_seed(config.training.seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    # Only the chief writes the run folder; the others write into a folder of their own.
    writer = run if role.is_chief else RunFolder(
        tempfile.mkdtemp(prefix=f"inpaint_tf_worker{role.index}_"))
    predictor = _local_predictor() if strategy == "multi-worker" else as_predict_fn
    try:
        with dtype_policy(policy):
            total_steps = config.training.epochs * epoch_steps(config, data)
            with distribution.scope():
                model = build_model(config, data.input_shape, total_steps)
            if strategy == "multi-worker":
                check_workers_agree(distribution, state["epochs_done"], "completed epochs")
            if state["checkpoint"]:
                restore_checkpoint(model, run.path / state["checkpoint"])
            total_epochs = config.training.epochs
            if state["epochs_done"] < total_epochs:
                _fit(model, config, writer, state, data, total_epochs,
                     verbose if role.is_chief else 0, distribution, strategy, predictor)
            _finish(model, config, writer, state, data, policy, strategy, predictor)
    finally:
        if writer is not run:
            shutil.rmtree(writer.path, ignore_errors=True)
    return run


def _fit(model, config, run, state, data, total_epochs, verbose, distribution, strategy,
         predictor) -> None:
    import tensorflow as tf

    steps = epoch_steps(config, data)

    def batches(input_context=None):
        return training_dataset(config, data, start_epoch=state["epochs_done"],
                                epochs=total_epochs, input_context=input_context,
                                mask_as_sample_weight=uses_mask_weights(config))

    # Under a strategy, each worker builds its own share of every global batch.
    dataset = batches() if strategy == "default" else \
        distribution.distribute_datasets_from_function(batches)
    validation = _validation_set(config, data.split)
    callback = _epoch_callback(run, state, model, validation, config.data.fill_value,
                               predictor)
    try:
        with keras_distributed_fit():
            model.fit(dataset, epochs=total_epochs, initial_epoch=state["epochs_done"],
                      steps_per_epoch=steps, callbacks=[callback], verbose=verbose,
                      shuffle=False)
    except (tf.errors.UnavailableError, tf.errors.CancelledError) as error:
        if strategy != "multi-worker":
            raise
        raise RuntimeError(
            f"A worker of the cluster stopped ({str(error).strip().splitlines()[0]}). Run "
            "the same command on every worker again: the run resumes from its last "
            f"completed epoch ({state['epochs_done']})") from error
    finally:
        # An input iterator still alive when Python exits can hang the interpreter (its
        # NumPy mask function needs the GIL during shutdown): release it now.
        del dataset
        gc.collect()


def _local_predictor(batch_size: int = 256):
    """Like `as_predict_fn`, but each call runs on this worker alone (no step across the
    cluster): in a multi-worker run, Keras' `predict` would shard the images over the
    workers. One compiled forward pass per network, traced once."""
    import tensorflow as tf

    forwards = {}

    def predictor(network):
        if id(network) not in forwards:
            forwards[id(network)] = tf.function(
                lambda inputs: network(inputs, training=False), reduce_retracing=True)
        forward = forwards[id(network)]

        def predict(masked_images, masks):
            outputs = [np.asarray(forward({"image": tf.constant(masked_images[i:i + batch_size]),
                                           "mask": tf.constant(masks[i:i + batch_size])}))
                       for i in range(0, len(masked_images), batch_size)]
            return np.concatenate(outputs).astype(np.float32)

        return predict

    return predictor


def _validation_set(config: ExperimentConfig, split: Split):
    images = split.validation.images[:config.data.validation_images]
    height, width = images.shape[1:3]
    return images, fixed_masks(config, config.data.masks, len(images), VALIDATION_MASK_SEED,
                              height, width)


def _finish(model, config, run, state, data, policy, strategy, predictor) -> None:
    """Final evaluation, samples, model file and SavedModel, each written atomically."""
    network = inpainting_network(model)
    images, masks = fixed_test_set(config, data.split)
    scores = evaluate(predictor(network), images, masks, fill_value=config.data.fill_value,
                      name=config.name, mask_kind=config.data.masks)
    _write_samples(predictor(network), images[:SAMPLE_COUNT], masks[:SAMPLE_COUNT],
                   config.data.fill_value, run.samples)
    with _io.atomic_path(run.model) as temporary:
        network.save(temporary)
    export_saved_model(network, run.saved_model)
    metrics = run.read_metrics()
    metrics.update(
        config=config.name, study_experiment=config.study_experiment, test=scores,
        epochs=state["epochs_done"], train_seconds=round(state["train_seconds"], 1),
        wall_seconds=round(state.get("wall_seconds", 0.0), 1),
        device=describe_device(), precision=policy, strategy=strategy,
        batch_size=config.training.batch_size,
        steps_per_epoch=config.training.steps_per_epoch or "full",
        data_source=data.source, train_checksum=data.train_checksum,
        test_checksum=image_checksum(data.split.test.images))
    _io.write_json(run.metrics, metrics)


def _write_samples(predict, images, masks, fill_value, path) -> None:
    from inpaint_tf.plotting import plot_samples

    floats = images.astype(np.float32) / 255.0
    masks = masks.astype(np.float32)
    masked = fill_holes(floats, masks, fill_value)
    raw = np.clip(predict(masked, masks), 0, 1)
    plot_samples(floats, masks, masked, raw, composite(raw, floats, masks), path=path, close=True)
