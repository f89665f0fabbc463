"""Training a config into a run folder.

- `precision`: dtype policies.
- `distribution`: strategies (one device, GPUs, several hosts, TPUs) and workers.
- `schedules`: optimizers and learning-rate schedules.
- `building`: a config becomes a compiled model (`build_model`).
- `run_folders`: the run folder's files, state and checkpoints (`RunFolder`).
- `data`: what a config trains and scores on (the CIFAR-10 split or a photo folder).
- `loop`: `train`, the fit loop with its per-epoch record, resume, final evaluation
  and files.
- `gan_diagnostics`: a GAN run's adversarial game per checkpoint (`diagnose_gan_run`).

Example:
    >>> from inpaint_tf.training import train
    >>> train("exp3_conv_autoencoder_irregular", epochs=1, steps_per_epoch=100,
    ...       out="runs/exp3")                                      # doctest: +SKIP
"""

from inpaint_tf._lazy import lazy_exports

_EXPORTS = {
    "PRECISIONS": "inpaint_tf.training.precision",
    "STRATEGIES": "inpaint_tf.training.distribution",
    "build_model": "inpaint_tf.training.building",
    "RunFolder": "inpaint_tf.training.run_folders",
    "load_training_data": "inpaint_tf.training.data",
    "train": "inpaint_tf.training.loop",
    "diagnose_gan_run": "inpaint_tf.training.gan_diagnostics",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(
    globals(), _EXPORTS,
    ("precision", "distribution", "schedules", "building", "run_folders", "data", "loop",
     "gan_diagnostics"))
