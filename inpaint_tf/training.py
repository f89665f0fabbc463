"""Training runs: one call trains a config into a run folder, and resumes it.

A run folder holds everything a run produced::

    config.toml     the resolved config (file + overrides)
    state.json      completed epochs, the checkpoint that goes with them, the log
    checkpoints/    weights and optimizer state after the last completed epoch
    log.csv         one row per completed epoch (train losses, validation metrics)
    curves.png      the log as curves; samples.png: fixed test images inpainted
    metrics.json    the test-set evaluation (both protocols), times, device, data
    model.keras     the inference model (the generator, for a GAN)
    saved_model/    the TensorFlow SavedModel (see `inpaint_tf.export`)

Every file is written atomically, and `state.json` is written last at the end of
each epoch: a run killed at any moment restarts, with the same call, from its
last completed epoch with the same weights, optimizer state, GAN phase and data
order (batches and masks are a pure function of seed, epoch and step), so the
log has no duplicate or missing epoch.

Example:
    >>> from inpaint_tf import train, load_config
    >>> run = train(load_config("experiments/exp3_conv_autoencoder_irregular.toml"),
    ...             "runs/exp3", epochs=1)                                   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import csv
import gc
import inspect
import io
import json
import time
import zipfile
from pathlib import Path

import numpy as np

from inpaint_tf import _io
from inpaint_tf._system import describe_device, has_gpu
from inpaint_tf._validation import check_positive_int
from inpaint_tf.data import Split, cifar10_source_label, full_pass_steps, load_cifar10, make_dataset
from inpaint_tf.evaluation import as_predict_fn, evaluate
from inpaint_tf.experiments import ExperimentConfig, load_config, save_config, with_overrides
from inpaint_tf.masks import EVAL_SEED, eval_masks

PRECISIONS = ("float32", "mixed")
# The builder of the network that inpaints, by model kind.
BUILDERS = {"unet_autoencoder": "build_unet_autoencoder", "pconv_unet": "build_pconv_unet",
            "glcic_gan": "build_glcic_generator"}
STRATEGIES = ("default", "mirrored")
VALIDATION_MASK_SEED = EVAL_SEED + 1  # validation holes differ from the test holes
SAMPLE_COUNT = 8
# Validation figures added to the log after every epoch.
VALIDATION_KEYS = ("study_mae", "study_mse", "hole_mae", "hole_psnr", "hole_ssim")


# --------------------------------------------------------------------------- set-up


def policy_for(precision: str) -> str:
    """The Keras dtype policy of a precision: "mixed" is bfloat16 on CPU, float16 on GPU."""
    if precision not in PRECISIONS:
        raise ValueError(f"`precision` must be one of {PRECISIONS}. "
                         f"Received: precision={precision!r}")
    if precision == "float32":
        return "float32"
    return "mixed_float16" if has_gpu() else "mixed_bfloat16"


@contextlib.contextmanager
def dtype_policy(name: str):
    """Sets the global Keras dtype policy for the block, then restores the previous one."""
    import keras

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def make_strategy(name: str):
    """"default" (one device) or "mirrored" (`tf.distribute.MirroredStrategy`, all GPUs)."""
    import tensorflow as tf

    if name not in STRATEGIES:
        raise ValueError(f"`strategy` must be one of {STRATEGIES}. Received: strategy={name!r}")
    return tf.distribute.MirroredStrategy() if name == "mirrored" else tf.distribute.get_strategy()


def learning_rate_schedule(name: str, learning_rate: float, total_steps: int):
    """The learning rate of a schedule over `total_steps` optimizer steps.

    "constant": `learning_rate` throughout; "cosine": cosine decay from it to 0;
    "one_cycle": a linear warm-up from ``learning_rate / 25`` to it over the first
    30 % of the steps, then cosine decay to 0. The schedule reads the optimizer's
    step counter, which checkpoints keep, so a resumed run continues it.
    """
    import keras

    total_steps = check_positive_int(total_steps, "total_steps")
    if name == "constant":
        return learning_rate
    if name == "cosine":
        return keras.optimizers.schedules.CosineDecay(learning_rate, total_steps, alpha=0.0)
    if name == "one_cycle":
        warmup = max(1, int(0.3 * total_steps))
        return keras.optimizers.schedules.CosineDecay(
            learning_rate / 25.0, max(1, total_steps - warmup), alpha=0.0,
            warmup_target=learning_rate, warmup_steps=warmup)
    raise ValueError(f"`schedule` must be one of ('constant', 'cosine', 'one_cycle'). "
                     f"Received: schedule={name!r}")


def _optimizer(name: str, learning_rate):
    import keras

    classes = {"adam": keras.optimizers.Adam, "adamw": keras.optimizers.AdamW,
               "sgd": keras.optimizers.SGD, "rmsprop": keras.optimizers.RMSprop}
    return classes[name](learning_rate=learning_rate)


def _steps_per_epoch(config: ExperimentConfig, num_images: int) -> int:
    training = config.training
    return training.steps_per_epoch or full_pass_steps(num_images, training.batch_size)


def _loss(config: ExperimentConfig):
    import keras

    name = config.training.loss
    if name == "mae":
        return keras.losses.MeanAbsoluteError()
    if name == "mse":
        return keras.losses.MeanSquaredError()
    from inpaint_tf import losses

    if name == "masked_l1":
        return losses.MaskedL1(hole_weight=6.0, valid_weight=1.0)
    return losses.PConvLoss(vgg_weights=config.model.options.get("vgg_weights", "imagenet"))


def uses_mask_weights(config: ExperimentConfig) -> bool:
    """Masked losses receive the hole mask as `sample_weight` from the dataset."""
    return not config.is_gan and config.training.loss in ("masked_l1", "pconv")


def _call_builder(builder, input_shape, options: dict, **defaults):
    accepted = inspect.signature(builder).parameters
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(f"Unknown option `model.options.{unknown[0]}` for {builder.__name__}."
                         f" Accepted: {sorted(p for p in accepted if p != 'input_shape')}")
    for key, value in options.items():
        _check_option_type(builder, key, value, accepted[key].default)
    arguments = {k: v for k, v in defaults.items() if k in accepted}
    arguments.update(options)
    return builder(input_shape=input_shape, **arguments)


def _option_fits(value, default) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, (int, float, str)):
        kinds = (int, float) if isinstance(default, float) else type(default)
        return isinstance(value, kinds)
    if isinstance(default, (tuple, list)) and default:
        return (isinstance(value, (tuple, list)) and len(value) > 0
                and all(_option_fits(item, default[0]) for item in value))
    return True  # no default to compare with


def _check_option_type(builder, key: str, value, default) -> None:
    """A model option must have the type of the builder's default (a TOML file cannot
    say None): `mask_as_input = "yes"` would otherwise pass as true, `filters = 4`
    fail deep inside the builder."""
    if not _option_fits(value, default):
        where = f"model.options.{key}"
        expected = (f"a non-empty list of {type(default[0]).__name__}"
                    if isinstance(default, (tuple, list)) else type(default).__name__)
        raise ValueError(f"Config key `{where}` must be {expected} (as the default of "
                         f"{builder.__name__}, {default!r}). Received: {where}={value!r}")


def _any_size_network(builder, input_shape, options: dict, **defaults):
    """The network that inpaints, built for any height and width (so that its model
    file and SavedModel serve images of any size), after checking that images of
    `input_shape` suit it."""
    from inpaint_tf.inference import size_multiple
    from inpaint_tf.models._common import check_divisible

    check_divisible(input_shape, 1, "input_shape")  # (height, width, channels)
    if input_shape[-1] != 3:
        raise ValueError("Models take RGB images: `input_shape` must end in 3. "
                         f"Received: input_shape={tuple(input_shape)}")
    network = _call_builder(builder, (None, None, 3), options, **defaults)
    check_divisible(input_shape, size_multiple(network), "input_shape")
    return network


def build_model(config: ExperimentConfig, input_shape=(32, 32, 3), total_steps: int = 1):
    """Builds and compiles the config's model. Call inside ``strategy.scope()``.

    `total_steps` (all epochs' optimizer steps) sets the length of the config's
    learning-rate schedule (``training.schedule``; unused for "constant").

    The network that inpaints (the autoencoder, the GAN's generator) takes images of
    any height and width that are multiples of its downsampling factor; images of
    `input_shape` (the training images') must be, else a `ValueError` says so. A
    GAN's discriminator is built for `input_shape`.
    """
    from inpaint_tf import models

    if config.is_gan:
        options = dict(config.model.options)
        generator = _any_size_network(getattr(models, BUILDERS["glcic_gan"]), input_shape,
                                      options, fill_value=config.data.fill_value)
        discriminator = models.build_glcic_discriminator(
            input_shape=input_shape, region_size=config.gan.region_size)
        model = models.InpaintingGAN(
            generator, discriminator, adversarial_weight=config.gan.adversarial_weight,
            T_c=config.gan.T_c, T_d=config.gan.T_d)
        model.compile(
            generator_optimizer=_optimizer("adam", config.gan.generator_learning_rate),
            discriminator_optimizer=_optimizer("adam", config.gan.discriminator_learning_rate))
        return model
    options = {k: v for k, v in config.model.options.items() if k != "vgg_weights"}
    builder = getattr(models, BUILDERS[config.model.kind])
    model = _any_size_network(builder, input_shape, options, fill_value=config.data.fill_value)
    training = config.training
    rate = learning_rate_schedule(training.schedule, training.learning_rate, total_steps)
    model.compile(optimizer=_optimizer(training.optimizer, rate), loss=_loss(config))
    return model


def inference_model(model):
    """The model that inpaints: the GAN's generator, or the model itself."""
    generator = getattr(model, "generator", None)
    return model if generator is None else generator


# --------------------------------------------------------------------------- run folder


class RunFolder:
    """Paths and state of a run folder (see the module docstring)."""

    def __init__(self, path):
        self.path = Path(path)

    config = property(lambda self: self.path / "config.toml")
    state_file = property(lambda self: self.path / "state.json")
    checkpoints = property(lambda self: self.path / "checkpoints")
    log = property(lambda self: self.path / "log.csv")
    curves = property(lambda self: self.path / "curves.png")
    samples = property(lambda self: self.path / "samples.png")
    metrics = property(lambda self: self.path / "metrics.json")
    model = property(lambda self: self.path / "model.keras")
    saved_model = property(lambda self: self.path / "saved_model")

    def read_state(self) -> dict:
        if not self.state_file.is_file():
            return {"epochs_done": 0, "checkpoint": None, "history": [], "train_seconds": 0.0,
                    "wall_seconds": 0.0}
        return json.loads(self.state_file.read_text())

    def read_metrics(self) -> dict:
        return json.loads(self.metrics.read_text()) if self.metrics.is_file() else {}

    def write_log(self, history: list[dict]) -> None:
        keys = list(dict.fromkeys(k for row in history for k in row))
        # epoch, training figures, validation figures, seconds: stable across resumes.
        keys.sort(key=lambda k: (k != "epoch", k == "seconds", k.startswith("val_"), k))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=keys)
        writer.writeheader()
        writer.writerows(history)
        _io.write_text(self.log, buffer.getvalue())


def _check_same_experiment(stored: ExperimentConfig, requested: ExperimentConfig, run: Path):
    """A run folder continues only the experiment it was made for (epochs may grow)."""
    old, new = stored.to_dict(), requested.to_dict()
    for mapping in (old, new):
        mapping["training"].pop("epochs")
        mapping.pop("description")
    if old != new:
        differences = [f"{section}.{key}" for section in old if isinstance(old[section], dict)
                       for key in old[section] if old[section][key] != new[section].get(key)]
        differences += [k for k in old if not isinstance(old[k], dict) and old[k] != new[k]]
        raise ValueError(f"Run folder {run} holds a run of another config (differs in "
                         f"{', '.join(differences)}); choose another output folder")


def _save_checkpoint(model, run: RunFolder, epoch: int) -> str:
    relative = f"checkpoints/epoch_{epoch:04d}.weights.h5"
    with _io.atomic_path(run.path / relative, suffix=".weights.h5") as temporary:
        model.save_weights(temporary)
    return relative


def _restore_checkpoint(model, path: Path) -> None:
    # Optimizer slots must exist before their saved values can be loaded into them.
    for optimizer in _optimizers(model):
        if not optimizer.built:
            optimizer.build(_optimized_variables(model, optimizer))
    model.load_weights(path)


def _optimizers(model) -> list:
    if hasattr(model, "generator_optimizer"):
        return [model.generator_optimizer, model.discriminator_optimizer]
    return [model.optimizer]


def _optimized_variables(model, optimizer):
    if hasattr(model, "generator_optimizer"):
        network = (model.generator if optimizer is model.generator_optimizer
                   else model.discriminator)
        return network.trainable_variables
    return model.trainable_variables


def _remove_stale_checkpoints(run: RunFolder, keep: str) -> None:
    for file in run.checkpoints.glob("*.weights.h5"):
        if file.relative_to(run.path).as_posix() != keep:
            file.unlink(missing_ok=True)


# --------------------------------------------------------------------------- callbacks


def _epoch_callback(run: RunFolder, state: dict, model, validation, fill_value: float):
    """Validates, checkpoints and records each completed epoch (state.json last)."""
    import keras

    class RecordEpoch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds = time.perf_counter() - self.started
            row = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
            images, masks = validation
            scores = evaluate(as_predict_fn(inference_model(model)), images, masks,
                              fill_value=fill_value)
            row.update({f"val_{key}": scores[key] for key in VALIDATION_KEYS})
            row["seconds"] = round(seconds, 2)
            wall = time.perf_counter() - self.started  # training and validation
            checkpoint = _save_checkpoint(model, run, epoch + 1)
            state["history"] = [r for r in state["history"] if r["epoch"] <= epoch] + [row]
            state.update(epochs_done=epoch + 1, checkpoint=checkpoint,
                         train_seconds=state["train_seconds"] + seconds,
                         wall_seconds=state.get("wall_seconds", 0.0) + wall)
            run.write_log(state["history"])
            _plot_curves(state["history"], run.curves)
            _io.write_json(run.state_file, state)  # the commit point of the epoch
            _remove_stale_checkpoints(run, checkpoint)

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


def _load_split(config: ExperimentConfig, split: Split | None) -> Split:
    return split if split is not None else load_cifar10(config.data.source or None)


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
        precision: "float32" or "mixed" (bfloat16 on CPU, float16 on GPU).
        strategy: "default" or "mirrored".
        split: data already loaded (e.g. synthetic images), instead of ``data.source``.
        deterministic: enable TensorFlow op determinism, so a re-run (or a
            resumed run) gives bit-identical numbers on CPU.
        verbose: Keras' progress output (a progress bar with ETA by default).

    Returns:
        The `RunFolder`, with its final metrics in ``metrics.json``.
    """
    import keras
    import tensorflow as tf

    config = _resolve(config, epochs, steps_per_epoch, data, seed)
    data_label = ("images passed to train()" if split is not None
                  else cifar10_source_label(config.data.source or None))
    run = RunFolder(out_dir)
    if run.config.is_file():
        _check_same_experiment(load_config(run.config), config, run.path)
    run.path.mkdir(parents=True, exist_ok=True)
    save_config(config, run.config)
    state = run.read_state()
    split = _load_split(config, split)
    input_shape = split.train.images.shape[1:]
    policy = policy_for(precision)

    keras.utils.set_random_seed(config.training.seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    with dtype_policy(policy):
        distribution = make_strategy(strategy)
        total_steps = config.training.epochs * _steps_per_epoch(config, len(split.train.images))
        with distribution.scope():
            model = build_model(config, input_shape, total_steps)
        if state["checkpoint"]:
            _restore_checkpoint(model, run.path / state["checkpoint"])
        total_epochs = config.training.epochs
        if state["epochs_done"] < total_epochs:
            _fit(model, config, run, state, split, total_epochs, verbose)
        _finish(model, config, run, state, split, policy, strategy, data_label)
    return run


def _fit(model, config, run, state, split, total_epochs, verbose) -> None:
    training = config.training
    steps = _steps_per_epoch(config, len(split.train.images))
    dataset = make_dataset(
        split.train.images, config.data.masks, batch_size=training.batch_size,
        seed=training.seed, fill_value=config.data.fill_value,
        start_epoch=state["epochs_done"], epochs=total_epochs, steps_per_epoch=steps,
        real_masks=config.is_gan,
        mask_as_sample_weight=uses_mask_weights(config))
    validation = _validation_set(config, split)
    callback = _epoch_callback(run, state, model, validation, config.data.fill_value)
    model.fit(dataset, epochs=total_epochs, initial_epoch=state["epochs_done"],
              steps_per_epoch=steps, callbacks=[callback], verbose=verbose, shuffle=False)
    # An input iterator still alive when Python exits can hang the interpreter (its
    # NumPy mask function needs the GIL during shutdown): release it now.
    del dataset
    gc.collect()


def _validation_set(config: ExperimentConfig, split: Split):
    images = split.validation.images[:config.data.validation_images]
    height, width = images.shape[1:3]
    return images, eval_masks(config.data.masks, len(images), VALIDATION_MASK_SEED,
                              height, width)


def fixed_test_set(config: ExperimentConfig, split: Split, kind: str | None = None,
                   n: int | None = None, seed: int = EVAL_SEED):
    """The fixed test images and masks a run is scored on (shared with the baselines).

    `n` (a positive integer, default ``data.test_images``) caps the number of test
    images; a cap above the test set's size takes them all. `seed` draws another
    mask set (a held-out check); the default is the fixed evaluation set.
    """
    n = config.data.test_images if n is None else check_positive_int(n, "n")
    images = split.test.images[:n]
    height, width = images.shape[1:3]
    return images, eval_masks(kind or config.data.masks, len(images), seed, height, width)


def _finish(model, config, run, state, split, policy, strategy, data_label) -> None:
    """Final evaluation, samples, model file and SavedModel, each written atomically."""
    from inpaint_tf.export import export_saved_model
    from inpaint_tf.releases import image_checksum

    network = inference_model(model)
    images, masks = fixed_test_set(config, split)
    scores = evaluate(as_predict_fn(network), images, masks, fill_value=config.data.fill_value,
                      name=config.name, mask_kind=config.data.masks)
    _write_samples(network, images[:SAMPLE_COUNT], masks[:SAMPLE_COUNT],
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
        data_source=data_label,
        test_checksum=image_checksum(split.test.images))
    _io.write_json(run.metrics, metrics)


def _write_samples(network, images, masks, fill_value, path) -> None:
    from inpaint_tf.data import fill_holes
    from inpaint_tf.evaluation import composite
    from inpaint_tf.plotting import plot_samples

    floats = images.astype(np.float32) / 255.0
    masks = masks.astype(np.float32)
    masked = fill_holes(floats, masks, fill_value)
    raw = np.clip(as_predict_fn(network)(masked, masks), 0, 1)
    plot_samples(floats, masks, masked, raw, composite(raw, floats, masks), path=path, close=True)


# --------------------------------------------------------------------------- evaluate


def load_inference_model(run_or_model):
    """The inference model of a run folder (its model.keras), of a `.keras` file, or
    a released model by name (`inpaint_tf.pretrained_names()`)."""
    import keras

    import inpaint_tf.layers  # noqa: F401 - registers the custom layers for loading
    import inpaint_tf.models  # noqa: F401
    from inpaint_tf.releases import is_pretrained_name, pretrained

    path = Path(run_or_model)
    if not path.exists() and is_pretrained_name(run_or_model):
        return pretrained(str(run_or_model))
    if path.is_dir():
        path = RunFolder(path).model
    if not path.is_file():
        from inpaint_tf.releases import pretrained_names

        raise FileNotFoundError(f"No model found at {run_or_model} (expected a run folder "
                                "with model.keras, a .keras file or a released model: "
                                f"{', '.join(pretrained_names()) or 'none'})")
    if path.suffix == ".keras" and not zipfile.is_zipfile(path):
        # Keras reports such a file as "File not found", which it is not.
        raise ValueError(f"Cannot read model {path}: empty, truncated or not a .keras file")
    return keras.saving.load_model(path)


def evaluate_run(run_or_model, *, masks: str | None = None, n: int | None = None,
                 data=None, split: Split | None = None, seed: int = EVAL_SEED,
                 area_bins=None) -> dict:
    """Scores a run's model (or a `.keras` file) on the test set with a fixed mask set,
    under both protocols; a run folder gets the row appended to its metrics.json.

    `masks` is a mask kind (default the run's), `n` a positive number of test images
    (default the config's ``data.test_images``), `seed` the mask set's (default the
    fixed evaluation seed; another one is a held-out check, marked ``mask_seed`` in
    the row), `area_bins` as in `inpaint_tf.evaluate` (e.g. True with
    ``masks="irregular_area"``). A missing model raises `FileNotFoundError`; an
    unreadable one or a bad `n` a `ValueError`.
    """
    from inpaint_tf.experiments import config_from_dict
    from inpaint_tf.releases import is_pretrained_name, pretrained_manifest

    path = Path(run_or_model)
    run = RunFolder(path) if path.is_dir() else None
    config = load_config(run.config) if run and run.config.is_file() else ExperimentConfig()
    if not path.exists() and is_pretrained_name(run_or_model):
        config = config_from_dict(pretrained_manifest(str(run_or_model))["config"])
    if data is not None:
        config = with_overrides(config, **{"data.source": str(data)})
    network = load_inference_model(run_or_model)
    split = _load_split(config, split)
    images, mask_set = fixed_test_set(config, split, masks, n, seed)
    row = evaluate(as_predict_fn(network), images, mask_set, fill_value=config.data.fill_value,
                   name=config.name, mask_kind=masks or config.data.masks, area_bins=area_bins)
    row["mask_seed"] = seed
    if run is not None:
        metrics = run.read_metrics()
        metrics.setdefault("evaluations", []).append(row)
        _io.write_json(run.metrics, metrics)
    return row
