"""`InpaintingGAN`: the study's three-phase GAN training as a Keras model.

The phases (Iizuka et al. 2017; the study's report), switched by `T_c` and `T_d`:

1. ``t < T_c``: the generator alone, on the hole-masked MSE
   ``Σ((y − ŷ)·m)² / Σm``;
2. ``T_c <= t < T_c + T_d``: the discriminator alone, the generator frozen;
3. afterwards both: the discriminator learns completed images (generated pixels
   in the hole, real ones outside, plus the mask channel) against real images
   paired with freshly drawn masks, with least-squares losses; the generator
   learns masked MSE + ``adversarial_weight · (D(completed) − 1)²``.

``t`` counts epochs (``schedule="epoch"``) or training steps (``"step"``). The
study trained jointly from the start (``T_c = T_d = 0``).

Each phase is its own compiled step: a callback that `fit` adds picks the phase
before each epoch (or step) and rebuilds the train function when it changes,
so no step computes what its phase does not need, and optimizers are never
updated inside a conditional (which `tf.distribute` does not allow).

Losses are means over the *global* batch: each replica divides its sums by the
all-reduced batch (or hole) size, and the optimizer sums the replicas'
gradients, so MirroredStrategy reproduces one device's losses.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from inpaint_tf.evaluation import composite

PHASES = ("generator", "discriminator", "joint")


def _global_sum(value):
    """Sum of a per-replica value over all replicas (identity without a strategy)."""
    context = tf.distribute.get_replica_context()
    if context is None:
        return value
    return context.all_reduce(tf.distribute.ReduceOp.SUM, value)


def hole_mse_terms(y_true, y_pred, hole):
    """This replica's share of the hole-masked MSE ``Σ((y − ŷ)·m)² / Σm`` (global Σm)."""
    hole = tf.cast(hole, tf.float32)
    squared = tf.reduce_sum(tf.square((tf.cast(y_true, tf.float32)
                                       - tf.cast(y_pred, tf.float32)) * hole))
    # Σm counts hole pixels over all channels, as the squared error does.
    count = _global_sum(tf.reduce_sum(hole) * tf.cast(tf.shape(y_true)[-1], tf.float32))
    return squared / tf.maximum(count, 1.0)


def least_squares_terms(scores, target: float):
    """This replica's share of ``mean((D − target)²)`` over the global batch."""
    scores = tf.cast(scores, tf.float32)
    batch = _global_sum(tf.cast(tf.shape(scores)[0], tf.float32))
    return tf.reduce_sum(tf.square(scores - target)) / batch


@keras.saving.register_keras_serializable(package="inpaint_tf")
class InpaintingGAN(keras.Model):
    """Generator + global/local discriminator trained in the study's three phases.

    Args:
        generator: a model ``{"image", "mask"} -> image`` (`build_glcic_generator`).
        discriminator: a model ``{"image", "mask"} -> (B, 1)``
            (`build_glcic_discriminator`).
        adversarial_weight: weight w of the generator's adversarial term.
        T_c: length of the generator-only phase.
        T_d: length of the discriminator-only phase.
        schedule: "epoch" or "step", the unit of T_c and T_d.

    Call arguments:
        inputs: ``{"image", "mask"}`` (1 = hole).

    Returns:
        The composited completion (known pixels from the input).

    Example:
        >>> gan = InpaintingGAN(build_glcic_generator(), build_glcic_discriminator())
        >>> gan.compile(keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-5))
        >>> gan.fit(make_dataset(x_train, "gan_rectangle", real_masks=True),
        ...         epochs=30, steps_per_epoch=1250)              # doctest: +SKIP

    Reference:
        Iizuka, Simo-Serra and Ishikawa, "Globally and Locally Consistent Image
        Completion", SIGGRAPH 2017.
    """

    def __init__(self, generator, discriminator, adversarial_weight: float = 0.0005,
                 T_c: int = 0, T_d: int = 0, schedule: str = "epoch", **kwargs):
        super().__init__(**kwargs)
        if schedule not in ("epoch", "step"):
            raise ValueError(f"`schedule` must be 'epoch' or 'step'. Received: {schedule!r}")
        if T_c < 0 or T_d < 0:
            raise ValueError(f"`T_c` and `T_d` must be >= 0. Received: T_c={T_c}, T_d={T_d}")
        self.generator = generator
        self.discriminator = discriminator
        self.adversarial_weight = float(adversarial_weight)
        self.T_c, self.T_d, self.schedule = int(T_c), int(T_d), schedule
        # Counts training steps across fits and resumes (saved with the weights).
        self.steps_done = keras.Variable(0, dtype="int64", trainable=False, name="steps_done")
        self.phase = self.phase_at(0)
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.fake_err_tracker = keras.metrics.Mean(name="fake_err")
        self.real_err_tracker = keras.metrics.Mean(name="real_err")
        self.hole_mse_tracker = keras.metrics.Mean(name="hole_mse")
        # Both networks arrive built: the wrapper has no weights of its own to create,
        # so it can save and load weights before its first step.
        self.built = True

    @property
    def metrics(self):
        return [self.g_loss_tracker, self.d_loss_tracker, self.fake_err_tracker,
                self.real_err_tracker, self.hole_mse_tracker]

    def phase_at(self, t: int) -> str:
        """The phase at epoch or step `t` (by `schedule`)."""
        if t < self.T_c:
            return "generator"
        return "discriminator" if t < self.T_c + self.T_d else "joint"

    def compile(self, generator_optimizer, discriminator_optimizer, **kwargs):
        """Sets both optimizers (wrapped in loss scaling under mixed_float16)."""
        super().compile(**kwargs)
        if keras.mixed_precision.global_policy().name == "mixed_float16":
            wrap = keras.optimizers.LossScaleOptimizer
            if not isinstance(generator_optimizer, wrap):
                generator_optimizer = wrap(generator_optimizer)
            if not isinstance(discriminator_optimizer, wrap):
                discriminator_optimizer = wrap(discriminator_optimizer)
        self.generator_optimizer = generator_optimizer
        self.discriminator_optimizer = discriminator_optimizer
        generator_optimizer.build(self.generator.trainable_variables)
        discriminator_optimizer.build(self.discriminator.trainable_variables)

    def call(self, inputs, training=False):
        raw = self.generator(inputs, training=training)
        return composite(raw, inputs["image"], inputs["mask"])

    def fit(self, *args, callbacks=None, **kwargs):
        """`keras.Model.fit`, with the phase switch added to the callbacks."""
        callbacks = [*(callbacks or []), _PhaseSwitch()]
        return super().fit(*args, callbacks=callbacks, **kwargs)

    def set_phase(self, phase: str) -> None:
        """Selects the phase of the next steps (rebuilds the step when it changes)."""
        if phase not in PHASES:
            raise ValueError(f"`phase` must be one of {PHASES}. Received: {phase!r}")
        if phase != self.phase:
            self.phase = phase
            self.train_function = None
            self.make_train_function(force=True)

    # ------------------------------------------------------------------ steps

    def _apply(self, tape, optimizer, loss, variables):
        gradients = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(gradients, variables))

    def _discriminator_losses(self, completed, hole, real, real_hole):
        fake_scores = self.discriminator({"image": completed, "mask": hole}, training=True)
        real_scores = self.discriminator({"image": real, "mask": real_hole}, training=True)
        fake_err = least_squares_terms(fake_scores, 0.0)
        real_err = least_squares_terms(real_scores, 1.0)
        return fake_err, real_err

    def train_step(self, data):
        inputs, real = data[0], data[1]
        hole = inputs["mask"]
        real_hole = inputs.get("real_mask", hole)
        model_inputs = {"image": inputs["image"], "mask": hole}
        g_loss = d_loss = fake_err = real_err = tf.constant(0.0)
        hole_mse = tf.constant(0.0)

        if self.phase == "generator":
            with tf.GradientTape() as tape:
                generated = self.generator(model_inputs, training=True)
                hole_mse = g_loss = hole_mse_terms(real, generated, hole)
                scaled = self.generator_optimizer.scale_loss(g_loss)
            self._apply(tape, self.generator_optimizer, scaled,
                        self.generator.trainable_variables)
        elif self.phase == "discriminator":
            generated = self.generator(model_inputs, training=False)  # frozen
            completed = composite(generated, real, hole)
            hole_mse = hole_mse_terms(real, generated, hole)
            with tf.GradientTape() as tape:
                fake_err, real_err = self._discriminator_losses(completed, hole, real,
                                                                real_hole)
                d_loss = fake_err + real_err
                scaled = self.discriminator_optimizer.scale_loss(d_loss)
            self._apply(tape, self.discriminator_optimizer, scaled,
                        self.discriminator.trainable_variables)
        else:
            with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
                generated = self.generator(model_inputs, training=True)
                completed = composite(generated, real, hole)
                fake_err, real_err = self._discriminator_losses(
                    tf.stop_gradient(completed), hole, real, real_hole)
                d_loss = fake_err + real_err
                d_scaled = self.discriminator_optimizer.scale_loss(d_loss)
                fooled = self.discriminator({"image": completed, "mask": hole}, training=True)
                hole_mse = hole_mse_terms(real, generated, hole)
                g_loss = hole_mse + self.adversarial_weight * least_squares_terms(fooled, 1.0)
                g_scaled = self.generator_optimizer.scale_loss(g_loss)
            self._apply(d_tape, self.discriminator_optimizer, d_scaled,
                        self.discriminator.trainable_variables)
            self._apply(g_tape, self.generator_optimizer, g_scaled,
                        self.generator.trainable_variables)

        self.steps_done.assign_add(1)
        # Each value is this replica's share of a global mean: the global figure is the sum.
        for tracker, value in ((self.g_loss_tracker, g_loss), (self.d_loss_tracker, d_loss),
                               (self.fake_err_tracker, fake_err),
                               (self.real_err_tracker, real_err),
                               (self.hole_mse_tracker, hole_mse)):
            tracker.update_state(_global_sum(value))
        return {tracker.name: tracker.result() for tracker in self.metrics}

    def test_step(self, data):
        inputs, real = data[0], data[1]
        generated = self.generator({"image": inputs["image"], "mask": inputs["mask"]},
                                   training=False)
        self.hole_mse_tracker.update_state(_global_sum(
            hole_mse_terms(real, generated, inputs["mask"])))
        return {"hole_mse": self.hole_mse_tracker.result()}

    def predict_step(self, data):
        inputs = data[0] if isinstance(data, tuple) else data
        return self(inputs, training=False)

    # ------------------------------------------------------------------ saving

    def get_config(self):
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "adversarial_weight": self.adversarial_weight, "T_c": self.T_c, "T_d": self.T_d,
            "schedule": self.schedule,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["generator"] = keras.saving.deserialize_keras_object(config["generator"])
        config["discriminator"] = keras.saving.deserialize_keras_object(
            config["discriminator"])
        return cls(**config)


class _PhaseSwitch(keras.callbacks.Callback):
    """Puts the GAN in the phase of the coming epoch (or step)."""

    def on_epoch_begin(self, epoch, logs=None):
        if self.model.schedule == "epoch":
            self.model.set_phase(self.model.phase_at(epoch))

    def on_train_batch_begin(self, batch, logs=None):
        if self.model.schedule == "step":
            self.model.set_phase(self.model.phase_at(int(self.model.steps_done.numpy())))
