"""Trains a tiny run with `inpaint_tf.training.loop.train` as one worker of a cluster.

Used by test_distribute.py, which starts two of these on 127.0.0.1 (the cluster in
``TF_CONFIG``, one CPU device each), or one alone with the default strategy, and
compares what they end with. After `train` returns, the worker writes the weights of
the model it trained to ``WEIGHTS_FOLDER/worker<index>.npz`` (the chief's run folder
holds the rest), with the weights it started from and the files it wrote
(``worker<index>.json``: every path that went through `inpaint_tf._io.atomic_path`,
through which all of a run's files are written).

Families: "unet", the conv UNet autoencoder (tiny filters) on the masked L1 loss
(the hole mask reaches the loss as sample weights); "gan", the GAN's training
logic on the small networks of _tiny_gan.py (BatchNorm synchronised across the
workers), one epoch per phase (T_c = T_d = 1). The GAN uses SGD: Adam turns
round-off-sized gradients (the biases before BatchNorm have zero gradient up to
rounding) into learning-rate-sized steps, on one device as on two, so with Adam
the comparison would measure round-off, not distribution.

STRATEGY is one of `inpaint_tf.training.distribution.STRATEGIES`, or
"mirrored-two-cpus": "mirrored" over two logical CPU devices of this process.

Usage: python tests/_worker_run.py FAMILY RUN_FOLDER WEIGHTS_FOLDER STRATEGY
"""

import functools
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from _tiny_gan import build_tiny_gan  # noqa: E402

from inpaint_tf import _io  # noqa: E402
from inpaint_tf.configs import config_from_dict  # noqa: E402
from inpaint_tf.data import synthetic_split  # noqa: E402
from inpaint_tf.training import distribution  # noqa: E402
from inpaint_tf.training import loop as training  # noqa: E402

SIZE, EPOCHS, BATCH = 16, 3, 8
COMMON = {"data": {"validation_images": 8, "test_images": 8},
          "training": {"batch_size": BATCH, "epochs": EPOCHS, "steps_per_epoch": 12, "seed": 3}}
CONFIGS = {
    "unet": config_from_dict({
        "name": "tiny_unet_workers",
        "model": {"kind": "unet_autoencoder",
                  "options": {"filters": [4, 8], "bottleneck_filters": 8}},
        "data": {**COMMON["data"], "masks": "irregular"},
        "training": {**COMMON["training"], "loss": "masked_l1", "optimizer": "sgd",
                     "learning_rate": 0.5}}),
    "gan": config_from_dict({
        "name": "tiny_gan_workers",
        "model": {"kind": "glcic_gan"},
        "data": {**COMMON["data"], "masks": "gan_rectangle"},
        "training": COMMON["training"],
        "gan": {"T_c": 1, "T_d": 1, "region_size": 8, "adversarial_weight": 0.1,
                "generator_learning_rate": 0.05, "discriminator_learning_rate": 0.05}}),
}


def main(family: str, run: str, weights: str, strategy: str) -> None:
    built, initial, written = [], [], []
    build = (functools.partial(build_tiny_gan, optimizer=keras.optimizers.SGD)
             if family == "gan" else training.build_model)
    atomic_path = _io.atomic_path

    def recording_build(*args, **kwargs):
        built.append(build(*args, **kwargs))
        initial[:] = [np.asarray(w.numpy()) for w in built[-1].weights]
        return built[-1]

    def recording_atomic_path(path, suffix=None):
        written.append(str(Path(path).resolve()))
        return atomic_path(path, suffix)

    if strategy == "mirrored-two-cpus":  # before TensorFlow's runtime starts
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        distribution._MADE["mirrored"] = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        strategy = "mirrored"
    training.build_model = recording_build
    _io.atomic_path = recording_atomic_path
    training.train(CONFIGS[family], run, split=synthetic_split(48, 8, 8, size=SIZE, seed=5),
                   strategy=strategy, deterministic=True, verbose=0)
    index = json.loads(os.environ.get("TF_CONFIG", "{}")).get("task", {}).get("index", 0)
    final = [np.asarray(w.numpy()) for w in built[-1].weights]
    Path(weights).mkdir(parents=True, exist_ok=True)
    np.savez(Path(weights) / f"worker{index}.npz",
             **{f"final{i}": w for i, w in enumerate(final)},
             **{f"initial{i}": w for i, w in enumerate(initial)})
    (Path(weights) / f"worker{index}.json").write_text(json.dumps(written))


if __name__ == "__main__":
    main(*sys.argv[1:5])
