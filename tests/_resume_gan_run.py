"""Trains a tiny GAN run folder with `inpaint_tf.training.loop.train`, resuming it if it exists.

Used by test_resume.py, which kills this process mid-epoch and runs it again. The
run is the library's own `train` (run folder, checkpoints, state.json, GAN phase
clocks, data order) with the GLCIC networks swapped for the small stand-ins of
_tiny_gan.py so that three phases fit in seconds: epoch 1 trains the generator
alone, epoch 2 the discriminator alone, epoch 3 both.

Usage: python tests/_resume_gan_run.py RUN_FOLDER
"""

import functools
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from _tiny_gan import build_tiny_gan  # noqa: E402

from inpaint_tf.configs import config_from_dict  # noqa: E402
from inpaint_tf.data import synthetic_split  # noqa: E402
from inpaint_tf.training import loop as training  # noqa: E402

SIZE = 16
CONFIG = config_from_dict({
    "name": "tiny_gan_resume",
    "model": {"kind": "glcic_gan"},
    "data": {"masks": "gan_rectangle", "validation_images": 8, "test_images": 8},
    "training": {"batch_size": 4, "epochs": 3, "steps_per_epoch": 24, "seed": 3},
    "gan": {"T_c": 1, "T_d": 1, "region_size": 8, "generator_learning_rate": 1e-3,
            "discriminator_learning_rate": 1e-3},
})


if __name__ == "__main__":
    training.build_model = functools.partial(build_tiny_gan, optimizer=keras.optimizers.Adam)
    training.train(CONFIG, sys.argv[1], split=synthetic_split(32, 8, 8, size=SIZE, seed=5),
                   deterministic=True, verbose=0)
