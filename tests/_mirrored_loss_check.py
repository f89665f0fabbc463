"""Run as a script: a masked loss on one device and summed over two logical CPUs.

Prints one JSON line {"single": value, "mirrored": value, "replicas": 2}.
"""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)

from inpaint_tf.losses import MaskedL1  # noqa: E402

rng = np.random.default_rng(0)
y = rng.uniform(size=(4, 8, 8, 3)).astype(np.float32)
p = rng.uniform(size=(4, 8, 8, 3)).astype(np.float32)
hole = (rng.uniform(size=(4, 8, 8, 1)) > 0.7).astype(np.float32)
loss = MaskedL1(hole_weight=6.0)
single = float(loss(y, p, sample_weight=hole))

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
dataset = strategy.experimental_distribute_dataset(
    tf.data.Dataset.from_tensor_slices((y, p, hole)).batch(4))
batch = next(iter(dataset))
per_replica = strategy.run(lambda a, b, c: loss(a, b, sample_weight=c), args=batch)
# Each replica's value is its share of the global mean: the sum is the global loss.
mirrored = float(strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None))
print(json.dumps({"single": single, "mirrored": mirrored,
                  "replicas": strategy.num_replicas_in_sync}))
