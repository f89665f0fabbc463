"""Run as a script: first-step GAN losses on one device and on two logical CPUs.

Logical devices must be configured before TensorFlow initialises, hence a
separate process. Prints one JSON line: {"single": {...}, "mirrored": {...}}.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)

from inpaint_tf.data import make_dataset, synthetic_split  # noqa: E402
from inpaint_tf.models import InpaintingGAN, build_glcic_discriminator, build_glcic_generator  # noqa: E402,E501


def first_step_losses(strategy, weights_file):
    with strategy.scope():
        gan = InpaintingGAN(build_glcic_generator((16, 16, 3)),
                            build_glcic_discriminator((16, 16, 3), region_size=8))
        gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    if os.path.exists(weights_file):
        gan.load_weights(weights_file)
    else:
        gan.save_weights(weights_file)
    split = synthetic_split(16, 2, 2, size=16)
    dataset = make_dataset(split.train.images, sys.argv[2], batch_size=8, real_masks=True,
                           shuffle=False)
    # Two steps: the mean includes a step taken after the first (aggregated) update.
    history = gan.fit(dataset, epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)
    return {key: [float(v) for v in values] for key, values in history.history.items()}


keras.utils.set_random_seed(0)
weights = os.path.join(sys.argv[1], "initial.weights.h5")
single = first_step_losses(tf.distribute.get_strategy(), weights)
mirrored_strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
mirrored = first_step_losses(mirrored_strategy, weights)
print(json.dumps({"single": single, "mirrored": mirrored,
                  "replicas": mirrored_strategy.num_replicas_in_sync}))
