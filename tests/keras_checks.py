"""Checks every layer and model of the library goes through (one helper, many tests).

Each function asserts one contract that a careful Keras user relies on:
config round trip, `.keras` save/load with identical outputs, symbolic and
eager calls that agree, a training step that changes the weights, the mixed
policies, and a TensorFlow SavedModel that reloads with the same outputs.
"""

from __future__ import annotations

import copy

import keras
import numpy as np
import tensorflow as tf


def _as_list(outputs):
    if isinstance(outputs, dict):
        return [outputs[key] for key in sorted(outputs)]
    if isinstance(outputs, (list, tuple)):
        return list(outputs)
    return [outputs]


def assert_outputs_close(first, second, atol=1e-6, rtol=1e-6):
    for a, b in zip(_as_list(first), _as_list(second), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=atol, rtol=rtol)


def check_config_round_trip(layer):
    """`from_config(get_config())` rebuilds an object with the same config."""
    config = layer.get_config()
    # A copy: `Functional.from_config` consumes the dict it is given.
    clone = type(layer).from_config(copy.deepcopy(config))
    assert clone.get_config() == config
    return clone


def check_keras_save_load(model, inputs, tmp_path, name="model.keras"):
    """A `.keras` file reloads (registered classes only) with identical outputs."""
    path = tmp_path / name
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert_outputs_close(model(inputs, training=False), reloaded(inputs, training=False),
                         atol=0, rtol=0)
    return reloaded


def check_symbolic_and_eager(model, inputs):
    """`model(x)` eagerly, `model.predict(x)` and a traced `tf.function` agree."""
    eager = model(inputs, training=False)
    traced = tf.function(lambda x: model(x, training=False))(inputs)
    predicted = model.predict(inputs, verbose=0, batch_size=len(next(iter(_as_list(inputs)))))
    assert_outputs_close(eager, traced, atol=1e-5, rtol=1e-5)
    assert_outputs_close(eager, predicted, atol=1e-5, rtol=1e-5)
    for output in _as_list(eager):
        assert np.all(np.isfinite(np.asarray(output)))
    return eager


def check_train_step(model, inputs, targets, loss="mae"):
    """One `fit` step on a compiled copy gives a finite loss and changes the weights."""
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
    before = [np.array(w) for w in model.trainable_weights]
    history = model.fit(inputs, targets, epochs=1, batch_size=len(targets), verbose=0)
    assert np.isfinite(history.history["loss"][0])
    changed = [not np.array_equal(b, np.array(w)) for b, w in zip(before, model.trainable_weights)]
    assert any(changed), "no trainable weight changed after a training step"
    return history


def check_mixed_policy(build, inputs, policy="mixed_bfloat16", output_dtype="float32"):
    """Under `policy`, a freshly built model returns finite outputs of `output_dtype`."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        model = build()
        outputs = _as_list(model(inputs, training=False))
        for output in outputs:
            array = np.asarray(keras.ops.convert_to_numpy(keras.ops.cast(output, "float32")))
            assert np.all(np.isfinite(array)), f"non-finite output under {policy}"
        if output_dtype is not None:
            assert keras.backend.standardize_dtype(outputs[0].dtype) == output_dtype
        return model
    finally:
        keras.mixed_precision.set_global_policy(previous)


def check_tf_saved_model(model, inputs, tmp_path, name="saved_model"):
    """`model.export` writes a SavedModel whose `serve` matches the Keras model."""
    path = str(tmp_path / name)
    model.export(path, verbose=False)
    reloaded = tf.saved_model.load(path)
    served = reloaded.serve(inputs)
    assert_outputs_close(model(inputs, training=False), served, atol=1e-5, rtol=1e-5)
    return reloaded


class BatchLosses(keras.callbacks.Callback):
    """Records each batch's own loss (Keras logs the running mean of the epoch)."""

    def __init__(self):
        super().__init__()
        self.losses = []

    def on_epoch_begin(self, epoch, logs=None):
        self._mean = 0.0

    def on_train_batch_end(self, batch, logs=None):
        mean = float(logs["loss"])
        self.losses.append((batch + 1) * mean - batch * self._mean)
        self._mean = mean


def check_model_contracts(model, inputs, targets, tmp_path):
    """Every contract of an inpainting model at once: config round trip (the clone
    with the same weights gives the same outputs), symbolic and eager calls, `.keras`
    save/load, TensorFlow SavedModel and a training step."""
    clone = check_config_round_trip(model)
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone(inputs), model(inputs))
    check_symbolic_and_eager(model, inputs)
    check_keras_save_load(model, inputs, tmp_path)
    check_tf_saved_model(model, inputs, tmp_path)
    check_train_step(model, inputs, targets)


def check_fit_lowers_the_loss(model, dataset, steps=30, window=5, factor=0.95):
    """`fit` for `steps` batches: the mean of the last `window` batch losses is below
    `factor` times that of the first `window` (batches differ by a few percent when
    nothing is learnt). Returns the batch losses."""
    record = BatchLosses()
    model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False,
              callbacks=[record])
    losses = np.array(record.losses)
    assert len(losses) == steps and np.all(np.isfinite(losses))
    first, last = losses[:window].mean(), losses[-window:].mean()
    assert last < factor * first, f"loss did not fall: first {first:.4f}, last {last:.4f}"
    return losses


def check_callbacks_resume(build, dataset, tmp_path, steps_per_epoch=2, epochs=4):
    """CSVLogger, ModelCheckpoint and BackupAndRestore in `fit`: a fit interrupted at the
    end of epoch 1 resumes at epoch 2, the log holds one row per epoch, and the saved
    checkpoint reloads. `build()` returns a compiled model."""

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise RuntimeError("interrupted")

    def fit(extra):
        model = build()
        epochs_seen = []
        record = keras.callbacks.LambdaCallback(
            on_epoch_begin=lambda epoch, logs: epochs_seen.append(epoch))
        callbacks = [keras.callbacks.BackupAndRestore(str(tmp_path / "backup")), record,
                     keras.callbacks.CSVLogger(str(tmp_path / "log.csv"), append=True),
                     keras.callbacks.ModelCheckpoint(str(tmp_path / "last.keras")), *extra]
        model.fit(dataset, epochs=epochs, steps_per_epoch=steps_per_epoch, verbose=0,
                  shuffle=False, callbacks=callbacks)
        return model, epochs_seen

    try:
        fit([Interrupt()])
    except RuntimeError as error:
        assert "interrupted" in str(error)
    else:
        raise AssertionError("the interrupting callback did not stop fit")
    model, epochs_seen = fit([])
    assert epochs_seen == list(range(2, epochs)), epochs_seen
    rows = (tmp_path / "log.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == [str(e) for e in range(epochs)], rows
    reloaded = keras.saving.load_model(tmp_path / "last.keras")
    for saved, trained in zip(reloaded.weights, model.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(saved), np.asarray(trained))
    return model
