"""Run folders: where a training run writes, and its checkpoints.

A run folder holds everything a run produced::

    config.toml     the resolved config (file + overrides)
    state.json      completed epochs, the checkpoint that goes with them, the log
    checkpoints/    weights and optimizer state after the last completed epoch
    log.csv         one row per completed epoch (train losses, validation metrics)
    curves.png      the log as curves; samples.png: fixed test images inpainted
    metrics.json    the test-set evaluation (both protocols), times, device, data
    model.keras     the inference model (the generator, for a GAN)
    saved_model/    the TensorFlow SavedModel (see `inpaint_tf.export`)
    classical_scores.json  after a photo evaluation: the classical methods' rows
                    (`inpaint_tf.evaluation.classical_scores`)

Every file is written atomically, and `state.json` is written last at the end of
each epoch (see `inpaint_tf.training.loop`).

Example:
    >>> RunFolder("runs/exp3").metrics.name
    'metrics.json'
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from inpaint_tf import _io
from inpaint_tf.configs import ExperimentConfig


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
    classical_scores = property(lambda self: self.path / "classical_scores.json")

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


def check_same_experiment(stored: ExperimentConfig, requested: ExperimentConfig, run: Path):
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


def save_checkpoint(model, run: RunFolder, epoch: int) -> str:
    relative = f"checkpoints/epoch_{epoch:04d}.weights.h5"
    with _io.atomic_path(run.path / relative, suffix=".weights.h5") as temporary:
        model.save_weights(temporary)
    return relative


def restore_checkpoint(model, path: Path) -> None:
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


def remove_stale_checkpoints(run: RunFolder, keep: str) -> None:
    for file in run.checkpoints.glob("*.weights.h5"):
        if file.relative_to(run.path).as_posix() != keep:
            file.unlink(missing_ok=True)
