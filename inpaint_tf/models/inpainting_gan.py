"""`InpaintingGAN`: the study's three-phase GAN training as a Keras model.

The phases (Iizuka et al. 2017; the study's report), switched by `T_c` and `T_d`:

1. ``t < T_c``: the generator alone, on the hole-masked MSE
   ``Σ((y − ŷ)·m)² / Σm``;
2. ``T_c <= t < T_c + T_d``: the discriminator alone, the generator frozen;
3. afterwards both: the discriminator learns completed images (generated pixels
   in the hole, real ones outside, plus the mask channel) against real images
   paired with freshly drawn masks, with least-squares losses; the generator
   learns masked MSE + ``adversarial_weight · (D(completed) − 1)²``.

``t`` counts the model's completed training epochs (``schedule="epoch"``) or
training steps (``"step"``), kept in the variables `epochs_done` and
`steps_done`. They are part of the model's weights, so `save_weights` /
`load_weights`, `ModelCheckpoint` and `BackupAndRestore` bring a resumed run back
into the right phase, and consecutive `fit` calls continue the schedule.

Each phase is its own compiled step. A callback that `fit` adds picks the phase
before each epoch (or step) and rebuilds the train function when it changes. A
single step that chose its phase with `tf.cond` is not possible under
`tf.distribute`: an optimizer update inside a conditional branch is a
cross-replica `merge_call`, which MirroredStrategy rejects. Per-phase steps also
compute only what their phase needs.

Losses are means over the *global* batch: each replica divides its sums by the
all-reduced batch (or hole) size and the optimizers sum the replicas' gradients,
so MirroredStrategy reproduces one device's losses (no further division by the
number of replicas). BatchNorm layers built inside a strategy scope are
synchronised (see `build_glcic_generator`), so their statistics span the global
batch too.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from inpaint_tf.compositing import composite

PHASES = ("generator", "discriminator", "joint")
_NOT_COMPILE_ARGUMENTS = ("optimizer", "loss", "loss_weights", "metrics", "weighted_metrics")


def _global_sum(value):
    """Sum of a per-replica value over all replicas (identity without a strategy)."""
    context = tf.distribute.get_replica_context()
    if context is None or tf.distribute.get_strategy().num_replicas_in_sync == 1:
        return value
    return context.all_reduce(tf.distribute.ReduceOp.SUM, value)


def _hole_sums(y_true, y_pred, hole):
    """This replica's Σ((y − ŷ)·m)² and the global Σm (hole pixels × channels)."""
    hole = tf.cast(hole, tf.float32)
    squared = tf.reduce_sum(tf.square((tf.cast(y_true, tf.float32)
                                       - tf.cast(y_pred, tf.float32)) * hole))
    count = _global_sum(tf.reduce_sum(hole) * tf.cast(tf.shape(y_true)[-1], tf.float32))
    return squared, count


def hole_mse_terms(y_true, y_pred, hole):
    """This replica's share of the hole-masked MSE ``Σ((y − ŷ)·m)² / Σm`` (global Σm).

    Σm counts hole pixels over all channels, as the squared error does, so the
    value is the mean squared error per hole value (as `inpaint_tf.metrics`).
    """
    squared, count = _hole_sums(y_true, y_pred, hole)
    return squared / tf.maximum(count, 1.0)


def _track_hole_mse(tracker, y_true, y_pred, hole):
    """Pools the hole MSE over updates, weighting each batch by its hole size.

    Every replica adds the global figures divided by the number of replicas: the
    tracker's variables are summed over replicas when read across them, and each
    replica's own reading (the per-step logs) is already the global one.
    """
    squared, count = _hole_sums(y_true, y_pred, hole)
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    tracker.update_state(_global_sum(squared) / tf.maximum(count, 1.0),
                         sample_weight=count / replicas)


def least_squares_terms(scores, target: float):
    """This replica's share of ``mean((D − target)²)`` over the global batch."""
    scores = tf.cast(scores, tf.float32)
    batch = _global_sum(tf.cast(tf.shape(scores)[0], tf.float32))
    return tf.reduce_sum(tf.square(scores - target)) / batch


@keras.saving.register_keras_serializable(package="inpaint_tf")
class InpaintingGAN(keras.Model):
    """Generator + global/local discriminator trained in the study's three phases.

    Train it with `fit` on a dataset of ``({"image", "mask", "real_mask"}, image)``
    (`inpaint_tf.data.make_dataset(..., real_masks=True)`); "real_mask" is the
    freshly drawn mask paired with the real image for the discriminator (without
    it, the completed image's mask is used). The local patch size is the
    discriminator's (`build_glcic_discriminator(region_size=...)`).

    Reported figures: ``g_loss`` (masked MSE + w · adversarial term; in the
    discriminator phase the same objective, not optimised), ``d_loss`` =
    ``fake_err + real_err`` (the least-squares terms on completed and real
    images), all epoch means of per-step global-batch means and 0 in phases
    that do not compute them; ``hole_mse``, the generator's hole MSE pooled over
    the epoch (`evaluate` and validation: over the whole set, as ``val_hole_mse``).

    Saving: `save_weights` / `load_weights` (and `ModelCheckpoint` with
    ``save_weights_only=True``) hold both networks, both optimizers and the
    phase counters, so training resumes exactly. ``model.save("gan.keras")``
    (and `ModelCheckpoint` without ``save_weights_only``) writes the same plus
    the architecture and both optimizers' configs; `keras.saving.load_model`
    returns a compiled GAN ready to continue. For inference export the
    generator (`gan.generator`, or `inpaint_tf.export.export_saved_model(gan, ...)`).

    The Keras attribute `optimizer` stays None: learning-rate schedules go on
    `generator_optimizer` and `discriminator_optimizer` themselves.

    Mixed precision: losses are computed in float32; when the global policy (or
    either network) is mixed_float16, `compile` wraps each optimizer in
    `keras.optimizers.LossScaleOptimizer`. Several devices: build the networks
    and the GAN and call `compile` inside ``strategy.scope()``; batch by the
    global batch size.

    Args:
        generator: a model ``{"image", "mask"} -> image`` (`build_glcic_generator`).
        discriminator: a model ``{"image", "mask"} -> (B, 1)`` scores
            (`build_glcic_discriminator`).
        adversarial_weight: weight w of the generator's adversarial term.
        T_c: length of the generator-only phase.
        T_d: length of the discriminator-only phase.
        schedule: "epoch" or "step", the unit of `T_c` and `T_d`, counted by the
            model's own clocks `epochs_done` / `steps_done` across `fit` calls
            and restores (not by `fit`'s epoch numbers). Phases switch in `fit`
            and `train_on_batch` (between executions when
            ``steps_per_execution > 1``); a custom loop calls `set_phase`.

    Call arguments:
        inputs: ``{"image", "mask"}`` (1 = hole).
        training: passed to the generator.

    Returns:
        The composited completion: generated pixels in the hole, input elsewhere.

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
        if adversarial_weight < 0:
            raise ValueError("`adversarial_weight` must be >= 0. "
                             f"Received: adversarial_weight={adversarial_weight}")
        for argument, network in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(network, keras.Model):
                raise ValueError(f"`{argument}` must be a keras.Model. "
                                 f"Received: {argument}={type(network).__name__}")
        self.generator = generator
        self.discriminator = discriminator
        self.adversarial_weight = float(adversarial_weight)
        self.T_c, self.T_d, self.schedule = int(T_c), int(T_d), schedule
        # The schedule's clocks, saved with the weights. Under tf.distribute only the
        # first replica's increment counts (as for optimizer iterations).
        self.steps_done = keras.Variable(0, dtype="int64", trainable=False, name="steps_done",
                                         aggregation="only_first_replica")
        self.epochs_done = keras.Variable(0, dtype="int64", trainable=False,
                                          name="epochs_done", aggregation="only_first_replica")
        self.phase = self.phase_at(0)  # the phase the train function is compiled for
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.fake_err_tracker = keras.metrics.Mean(name="fake_err")
        self.real_err_tracker = keras.metrics.Mean(name="real_err")
        self.hole_mse_tracker = keras.metrics.Mean(name="hole_mse")  # hole-size weighted
        # Both networks arrive built: the wrapper has no weights of its own to create,
        # so it can save and load weights before its first step.
        self.built = True

    @property
    def metrics(self):
        return [self.g_loss_tracker, self.d_loss_tracker, self.fake_err_tracker,
                self.real_err_tracker, self.hole_mse_tracker]

    # ------------------------------------------------------------------ schedule

    def phase_at(self, t: int) -> str:
        """The phase at epoch or step `t` (by `schedule`)."""
        if t < self.T_c:
            return "generator"
        return "discriminator" if t < self.T_c + self.T_d else "joint"

    def scheduled_phase(self) -> str:
        """The phase the counters `epochs_done` / `steps_done` call for now."""
        clock = self.steps_done if self.schedule == "step" else self.epochs_done
        return self.phase_at(int(keras.ops.convert_to_numpy(clock)))

    def set_phase(self, phase: str) -> None:
        """Selects the phase of the next steps (rebuilds the step when it changes)."""
        if phase not in PHASES:
            raise ValueError(f"`phase` must be one of {PHASES}. Received: {phase!r}")
        if phase != self.phase:
            self.phase = phase
            self.make_train_function(force=True)  # traced lazily, at its first call

    # ------------------------------------------------------------------ compile

    def compile(self, generator_optimizer, discriminator_optimizer, **kwargs):
        """Sets both optimizers (wrapped in loss scaling under mixed_float16).

        Args:
            generator_optimizer: a `keras.optimizers.Optimizer` (the study: Adam 1e-4).
            discriminator_optimizer: the same for the discriminator (Adam 1e-5).
            **kwargs: `keras.Model.compile` options such as `run_eagerly`,
                `steps_per_execution` or `jit_compile`; the GAN has its own
                losses, so `optimizer`, `loss` and `metrics` are refused.
        """
        refused = sorted(set(kwargs) & set(_NOT_COMPILE_ARGUMENTS))
        if refused:
            raise ValueError(f"InpaintingGAN.compile takes generator_optimizer and "
                             f"discriminator_optimizer and computes its own losses. "
                             f"Received: {refused[0]}={kwargs[refused[0]]!r}")
        super().compile(optimizer=None, **kwargs)
        generator_optimizer = keras.optimizers.get(generator_optimizer)
        discriminator_optimizer = keras.optimizers.get(discriminator_optimizer)
        float16 = (keras.mixed_precision.global_policy().name == "mixed_float16"
                   or "float16" in (self.generator.compute_dtype,
                                    self.discriminator.compute_dtype))
        if float16:
            wrap = keras.optimizers.LossScaleOptimizer
            if not isinstance(generator_optimizer, wrap):
                generator_optimizer = wrap(generator_optimizer)
            if not isinstance(discriminator_optimizer, wrap):
                discriminator_optimizer = wrap(discriminator_optimizer)
        self.generator_optimizer = generator_optimizer
        self.discriminator_optimizer = discriminator_optimizer
        # Slots exist from here on, so saved optimizer state loads before the first step.
        generator_optimizer.build(self.generator.trainable_variables)
        discriminator_optimizer.build(self.discriminator.trainable_variables)
        self._gan_compile_kwargs = dict(kwargs)

    def get_compile_config(self):
        if not getattr(self, "compiled", False) or not hasattr(self, "generator_optimizer"):
            return {}
        return {
            "generator_optimizer": keras.saving.serialize_keras_object(
                self.generator_optimizer),
            "discriminator_optimizer": keras.saving.serialize_keras_object(
                self.discriminator_optimizer),
            **self._gan_compile_kwargs,
        }

    def compile_from_config(self, config):
        config = dict(config)
        for key in ("generator_optimizer", "discriminator_optimizer"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        self.compile(**config)

    # ------------------------------------------------------------------ inference

    def call(self, inputs, training=False):
        raw = self.generator({"image": inputs["image"], "mask": inputs["mask"]},
                             training=training)
        return composite(raw, inputs["image"], inputs["mask"])

    # ------------------------------------------------------------------ training

    def fit(self, *args, callbacks=None, **kwargs):
        """`keras.Model.fit`, with the phase switch put first among the callbacks.

        First, so that the epoch counter is advanced before checkpointing
        callbacks save the model at the end of an epoch.
        """
        switch = _PhaseSwitch()
        if isinstance(callbacks, keras.callbacks.CallbackList):
            switch.set_model(self)  # once, however often the same list is passed
            callbacks.callbacks[:] = [switch, *(callback for callback in callbacks.callbacks
                                                if not isinstance(callback, _PhaseSwitch))]
        else:
            callbacks = [switch, *(callbacks or [])]
        return super().fit(*args, callbacks=callbacks, **kwargs)

    def train_on_batch(self, *args, **kwargs):
        self.set_phase(self.scheduled_phase())
        return super().train_on_batch(*args, **kwargs)

    def _apply(self, tape, optimizer, loss, variables):
        gradients = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(gradients, variables))

    def _discriminator_losses(self, completed, hole, real, real_hole):
        fake_scores = self.discriminator({"image": completed, "mask": hole}, training=True)
        real_scores = self.discriminator({"image": real, "mask": real_hole}, training=True)
        return (least_squares_terms(fake_scores, 0.0), least_squares_terms(real_scores, 1.0),
                fake_scores)

    def train_step(self, data):
        inputs, real = data[0], data[1]
        hole = inputs["mask"]
        real_hole = inputs.get("real_mask", hole)
        model_inputs = {"image": inputs["image"], "mask": hole}
        step = {"generator": self._generator_step, "discriminator": self._discriminator_step,
                "joint": self._joint_step}[self.phase]
        generated, losses = step(model_inputs, real, hole, real_hole)
        self.steps_done.assign_add(1)
        zero = tf.constant(0.0)
        # Each value is this replica's share of a global mean: the global figure is the sum.
        for tracker, key in ((self.g_loss_tracker, "g_loss"), (self.d_loss_tracker, "d_loss"),
                             (self.fake_err_tracker, "fake_err"),
                             (self.real_err_tracker, "real_err")):
            tracker.update_state(_global_sum(losses.get(key, zero)))
        _track_hole_mse(self.hole_mse_tracker, real, generated, hole)
        return {tracker.name: tracker.result() for tracker in self.metrics}

    def _generator_step(self, model_inputs, real, hole, real_hole):
        """Phase 1 (the first T_c steps): the generator alone, on the hole MSE."""
        with tf.GradientTape() as tape:
            generated = self.generator(model_inputs, training=True)
            g_loss = hole_mse_terms(real, generated, hole)
            scaled = self.generator_optimizer.scale_loss(g_loss)
        self._apply(tape, self.generator_optimizer, scaled, self.generator.trainable_variables)
        return generated, {"g_loss": g_loss}

    def _discriminator_step(self, model_inputs, real, hole, real_hole):
        """Phase 2 (the next T_d steps): the discriminators alone, the generator frozen."""
        # Frozen: inference mode, so not even the BatchNorm statistics move.
        generated = self.generator(model_inputs, training=False)
        completed = composite(generated, real, hole)
        with tf.GradientTape() as tape:
            fake_err, real_err, fake_scores = self._discriminator_losses(
                completed, hole, real, real_hole)
            d_loss = fake_err + real_err
            scaled = self.discriminator_optimizer.scale_loss(d_loss)
        self._apply(tape, self.discriminator_optimizer, scaled,
                    self.discriminator.trainable_variables)
        g_loss = self._generator_loss(real, generated, hole, fake_scores)
        return generated, {"g_loss": g_loss, "d_loss": d_loss, "fake_err": fake_err,
                           "real_err": real_err}

    def _generator_loss(self, real, generated, hole, fake_scores):
        """The generator's objective: hole MSE + w · mean((D(completed) − 1)²)."""
        return (hole_mse_terms(real, generated, hole)
                + self.adversarial_weight * least_squares_terms(fake_scores, 1.0))

    def _joint_step(self, model_inputs, real, hole, real_hole):
        """Phase 3: both networks, their losses from the same discriminator weights (a
        simultaneous update).

        One discriminator pass on the completed images gives the fake error and the
        adversarial term. So per step the discriminator's BatchNorm layers update
        their moving statistics twice (completed, real), not three times as with a
        separate pass for each loss; nothing runs the discriminator in inference
        mode, so those statistics reach no loss, gradient or output.
        """
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            generated = self.generator(model_inputs, training=True)
            completed = composite(generated, real, hole)
            # The same scores serve both losses: d_tape is asked only for the
            # discriminator's variables, and g_tape's gradient reaches the generator
            # through these scores, as a second pass's would.
            fake_err, real_err, fake_scores = self._discriminator_losses(
                completed, hole, real, real_hole)
            d_loss = fake_err + real_err
            d_scaled = self.discriminator_optimizer.scale_loss(d_loss)
            g_loss = self._generator_loss(real, generated, hole, fake_scores)
            g_scaled = self.generator_optimizer.scale_loss(g_loss)
        self._apply(d_tape, self.discriminator_optimizer, d_scaled,
                    self.discriminator.trainable_variables)
        self._apply(g_tape, self.generator_optimizer, g_scaled,
                    self.generator.trainable_variables)
        return generated, {"g_loss": g_loss, "d_loss": d_loss, "fake_err": fake_err,
                           "real_err": real_err}

    def diagnose(self, inputs, real) -> dict:
        """What the joint phase's losses do on one batch, leaving the model unchanged.

        Both networks run as in a joint step (BatchNorm on batch statistics; the moving
        statistics are put back afterwards) and nothing is applied: a look at whether
        the discriminator tells real from completed images and how much the
        adversarial term moves the generator beside the hole MSE.

        Args:
            inputs: ``{"image", "mask"}`` (holes filled) and optionally "real_mask",
                as in training.
            real: the real images (B, H, W, 3).

        Returns:
            dict of floats: ``hole_mse``; ``adversarial``, mean((D(completed) − 1)²)
            before the weight; ``fake_err`` and ``real_err``, the discriminator's
            least-squares terms; ``fake_score`` and ``real_score``, its mean scores;
            ``discriminator_accuracy``, the share of real images scored above 0.5
            and of completed ones below; ``mse_gradient_norm`` and
            ``adversarial_gradient_norm``, the L2 norms over all the generator's
            trainable weights of the gradients of the hole MSE and of
            ``adversarial_weight × adversarial``; ``adversarial_share``, their
            ratio; ``gradient_cosine``, the cosine between them (0 when either is 0).

        Example:
            >>> batch = next(iter(make_dataset(x_val, "gan_rectangle", real_masks=True)))
            >>> gan.diagnose(*batch)["adversarial_share"]               # doctest: +SKIP
            0.087
        """
        statistics = [(variable, keras.ops.convert_to_numpy(variable)) for variable in
                      self.generator.non_trainable_variables
                      + self.discriminator.non_trainable_variables]
        try:
            return _joint_figures(self, inputs, tf.convert_to_tensor(real, tf.float32))
        finally:
            for variable, value in statistics:
                variable.assign(value)

    def test_step(self, data):
        inputs, real = data[0], data[1]
        generated = self.generator({"image": inputs["image"], "mask": inputs["mask"]},
                                   training=False)
        _track_hole_mse(self.hole_mse_tracker, real, generated, inputs["mask"])
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


def _joint_figures(gan, inputs, real) -> dict:
    """`InpaintingGAN.diagnose` without the restoring of the BatchNorm statistics."""
    image = tf.convert_to_tensor(inputs["image"], tf.float32)
    hole = tf.convert_to_tensor(inputs["mask"], tf.float32)
    real_hole = tf.convert_to_tensor(inputs.get("real_mask", hole), tf.float32)
    variables = gan.generator.trainable_variables
    with tf.GradientTape(persistent=True) as tape:
        generated = gan.generator({"image": image, "mask": hole}, training=True)
        completed = composite(generated, real, hole)
        fake_scores = tf.cast(gan.discriminator({"image": completed, "mask": hole},
                                                training=True), tf.float32)
        real_scores = tf.cast(gan.discriminator({"image": real, "mask": real_hole},
                                                training=True), tf.float32)
        hole_mse = hole_mse_terms(real, generated, hole)
        adversarial = least_squares_terms(fake_scores, 1.0)
        weighted = gan.adversarial_weight * adversarial
    # Zeros, not None, for a weight a loss does not reach.
    mse_gradients, adversarial_gradients = (
        [tf.cast(g, tf.float32) for g in tape.gradient(
            loss, variables, unconnected_gradients=tf.UnconnectedGradients.ZERO)]
        for loss in (hole_mse, weighted))
    del tape
    mse_norm = float(tf.linalg.global_norm(mse_gradients))
    adversarial_norm = float(tf.linalg.global_norm(adversarial_gradients))
    dot = float(tf.add_n([tf.reduce_sum(a * b)
                          for a, b in zip(mse_gradients, adversarial_gradients)]))
    correct = tf.concat([real_scores > 0.5, fake_scores < 0.5], axis=0)
    return {
        "hole_mse": float(hole_mse), "adversarial": float(adversarial),
        "fake_err": float(least_squares_terms(fake_scores, 0.0)),
        "real_err": float(least_squares_terms(real_scores, 1.0)),
        "fake_score": float(tf.reduce_mean(fake_scores)),
        "real_score": float(tf.reduce_mean(real_scores)),
        "discriminator_accuracy": float(tf.reduce_mean(tf.cast(correct, tf.float32))),
        "mse_gradient_norm": mse_norm, "adversarial_gradient_norm": adversarial_norm,
        "adversarial_share": adversarial_norm / mse_norm if mse_norm else 0.0,
        "gradient_cosine": (dot / (mse_norm * adversarial_norm)
                            if mse_norm and adversarial_norm else 0.0),
    }


class _PhaseSwitch(keras.callbacks.Callback):
    """Keeps the GAN's compiled step in the phase its counters call for."""

    def on_train_begin(self, logs=None):
        self.model.set_phase(self.model.scheduled_phase())

    def on_epoch_begin(self, epoch, logs=None):
        self.model.set_phase(self.model.scheduled_phase())

    def on_train_batch_begin(self, batch, logs=None):
        # Phases only move forward, so once joint the counter need not be read.
        if self.model.schedule == "step" and self.model.phase != "joint":
            self.model.set_phase(self.model.scheduled_phase())

    def on_epoch_end(self, epoch, logs=None):
        self.model.epochs_done.assign_add(1)
