"""Run as a script: GAN losses on one device and on two logical CPUs, step by step.

Logical devices must be configured before TensorFlow initialises, hence a
separate process. Usage: ``_mirrored_gan_check.py FOLDER MASK_KIND [tiny|full]
[float32|mixed_float16] [adam|sgd]``. Three steps of global batch 8 with the step schedule
T_c = T_d = 1, so each phase runs once. Prints one JSON line:
{"single": {...}, "mirrored": {...}, "replicas": 2, ...}.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)

from _tiny_gan import tiny_discriminator, tiny_generator  # noqa: E402

from inpaint_tf.data import make_dataset, synthetic_split  # noqa: E402
from inpaint_tf.models.glcic import build_glcic_discriminator, build_glcic_generator  # noqa: E402
from inpaint_tf.models.inpainting_gan import InpaintingGAN  # noqa: E402

FOLDER, KIND = sys.argv[1], sys.argv[2]
NETWORKS = sys.argv[3] if len(sys.argv) > 3 else "tiny"
POLICY = sys.argv[4] if len(sys.argv) > 4 else "float32"
OPTIMIZER = sys.argv[5] if len(sys.argv) > 5 else "adam"
STEPS = 3


class StepLogs(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.rows = []

    def on_train_batch_end(self, batch, logs=None):
        self.rows.append({key: float(value) for key, value in logs.items()})


def run(strategy, weights_file):
    keras.mixed_precision.set_global_policy(POLICY)
    with strategy.scope():
        if NETWORKS == "full":
            networks = build_glcic_generator((16, 16, 3)), build_glcic_discriminator(
                (16, 16, 3), region_size=8)
        else:
            networks = tiny_generator(16), tiny_discriminator(16, 8)
        gan = InpaintingGAN(*networks, adversarial_weight=0.1, T_c=1, T_d=1, schedule="step")
        optimizer = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD}[OPTIMIZER]
        gan.compile(optimizer(1e-3), optimizer(1e-3))
    if os.path.exists(weights_file):
        gan.load_weights(weights_file)
    else:
        gan.save_weights(weights_file)
    split = synthetic_split(24, 2, 2, size=16)
    dataset = make_dataset(split.train.images, KIND, batch_size=8, real_masks=True, seed=1)
    logs = StepLogs()
    gan.fit(dataset, epochs=1, steps_per_epoch=STEPS, verbose=0, callbacks=[logs])
    weights = [np.asarray(w.numpy(), np.float64) for w in gan.weights]
    return logs.rows, weights, int(gan.steps_done.numpy()), gan.phase


keras.utils.set_random_seed(0)
initial = os.path.join(FOLDER, "initial.weights.h5")
single, single_weights, _, _ = run(tf.distribute.get_strategy(), initial)
mirrored_strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
mirrored, mirrored_weights, steps_done, phase = run(mirrored_strategy, initial)
# Not asserted: biases followed by BatchNorm get zero gradients up to rounding, which
# Adam normalises to steps of the learning rate's size, on one device as on two.
difference = max(float(np.max(np.abs(a - b))) for a, b in zip(single_weights, mirrored_weights))
print(json.dumps({"single": single, "mirrored": mirrored,
                  "replicas": mirrored_strategy.num_replicas_in_sync,
                  "steps_done": steps_done, "phase": phase,
                  "max_weight_difference": difference}))
