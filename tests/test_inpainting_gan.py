"""InpaintingGAN: phases, loss definitions, resumption, callbacks, precision, export.

Most tests drive the training logic with the small stand-in networks of
`_tiny_gan` (BatchNorm and the local crop included); the joint steps and the
export run the full GLCIC networks at 16x16. Tracing a step costs more than
running it, so tests about state rather than compilation run eagerly.
"""

import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from _tiny_gan import tiny_discriminator, tiny_generator

from inpaint_tf.data import make_dataset, make_eval_dataset, synthetic_split
from inpaint_tf.export.formats import export_saved_model
from inpaint_tf.masks import generate_masks
from inpaint_tf.models.glcic import build_glcic_discriminator, build_glcic_generator
from inpaint_tf.models.inpainting_gan import (
    PHASES,
    InpaintingGAN,
    hole_mse_terms,
    least_squares_terms,
)

SIZE, BATCH, STEPS = 16, 4, 2

# Keras warns that fit's default shuffle=True does not apply to a dataset.
pytestmark = pytest.mark.filterwarnings("ignore:`shuffle=True` was passed")


def _gan(generator=None, discriminator=None, seed=0, run_eagerly=False, **kwargs):
    keras.utils.set_random_seed(seed)
    generator = tiny_generator(SIZE) if generator is None else generator
    discriminator = tiny_discriminator(SIZE, 8) if discriminator is None else discriminator
    gan = InpaintingGAN(generator, discriminator, **kwargs)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3),
                run_eagerly=run_eagerly)
    return gan


def _full_networks(input_shape=(SIZE, SIZE, 3)):
    return (build_glcic_generator(input_shape),
            build_glcic_discriminator((SIZE, SIZE, 3), region_size=8))


@pytest.fixture(scope="module")
def split():
    return synthetic_split(32, 8, 8, size=SIZE)


def _dataset(split, start_epoch=0, kind="gan_rectangle", steps=STEPS):
    return make_dataset(split.train.images, kind, batch_size=BATCH, seed=0, real_masks=True,
                        start_epoch=start_epoch, steps_per_epoch=steps)


def _masks(kind, n, seed):
    return generate_masks(kind, n, seed=seed, height=SIZE, width=SIZE).astype(np.float32)


def _weights(model):
    return [keras.ops.convert_to_numpy(w) for w in model.weights]


def _same(first, second):
    return all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


class _Snapshots(keras.callbacks.Callback):
    """The phase of each step and both networks' weights (statistics included) after it."""

    def on_train_begin(self, logs=None):
        self.rows = [(None, _weights(self.model.generator), _weights(self.model.discriminator))]

    def on_train_batch_end(self, batch, logs=None):
        self.rows.append((self.model.phase, _weights(self.model.generator),
                          _weights(self.model.discriminator)))


@pytest.mark.parametrize("schedule, length, epochs, steps, expected", [
    ("epoch", 1, 3, 2, ["generator"] * 2 + ["discriminator"] * 2 + ["joint"] * 2),
    ("step", 2, 1, 5, ["generator"] * 2 + ["discriminator"] * 2 + ["joint"]),
])
def test_each_phase_trains_only_its_network(split, schedule, length, epochs, steps, expected):
    gan = _gan(T_c=length, T_d=length, schedule=schedule)
    snapshots = _Snapshots()
    history = gan.fit(_dataset(split, steps=steps), epochs=epochs, steps_per_epoch=steps,
                      verbose=0, callbacks=[snapshots]).history
    assert [phase for phase, _, _ in snapshots.rows[1:]] == expected
    for (_, generator, discriminator), (phase, new_generator, new_discriminator) in zip(
            snapshots.rows, snapshots.rows[1:]):
        assert _same(generator, new_generator) == (phase == "discriminator"), phase
        assert _same(discriminator, new_discriminator) == (phase == "generator"), phase
    assert int(gan.steps_done.numpy()) == epochs * steps
    assert int(gan.epochs_done.numpy()) == epochs
    if schedule == "epoch":
        assert history["d_loss"][0] == 0 and min(history["d_loss"][1:]) > 0
        assert min(history["g_loss"]) > 0


@pytest.mark.parametrize("phase", PHASES)
def test_reported_losses_equal_their_definitions(rng, phase):
    weight = 0.5  # large, so that a wrong adversarial term shows
    T_c, T_d = {"generator": (1, 0), "discriminator": (0, 1), "joint": (0, 0)}[phase]
    # One phase runs compiled, the others eagerly: the same train_step either way.
    gan = _gan(adversarial_weight=weight, T_c=T_c, T_d=T_d, run_eagerly=phase != "joint")
    images = rng.uniform(size=(BATCH, SIZE, SIZE, 3)).astype(np.float32)
    masks, real_masks = _masks("irregular", BATCH, 2), _masks("random_box", BATCH, 3)
    inputs = {"image": images * (1 - masks), "mask": masks, "real_mask": real_masks}
    # The networks before the step, in the mode the phase runs them (BatchNorm on
    # batch statistics when training, so these calls do not change the outputs).
    generated = gan.generator({"image": inputs["image"], "mask": masks},
                              training=phase != "discriminator").numpy()
    completed = np.where(masks > 0.5, generated, images)
    fake = gan.discriminator({"image": completed, "mask": masks}, training=True).numpy()
    real = gan.discriminator({"image": images, "mask": real_masks}, training=True).numpy()
    hole = np.broadcast_to(masks, images.shape)
    mse = np.sum(((images - generated) * hole) ** 2) / hole.sum()
    expected = {"hole_mse": mse, "g_loss": mse, "d_loss": 0.0, "fake_err": 0.0,
                "real_err": 0.0}
    if phase != "generator":
        fake_err, real_err = np.mean(fake**2), np.mean((real - 1) ** 2)
        expected.update(fake_err=fake_err, real_err=real_err, d_loss=fake_err + real_err,
                        g_loss=mse + weight * np.mean((fake - 1) ** 2))
    history = gan.fit(inputs, images, batch_size=BATCH, epochs=1, verbose=0).history
    assert gan.phase == phase
    for key, value in expected.items():
        assert history[key][0] == pytest.approx(value, rel=1e-5, abs=1e-8), key


def test_loss_terms_on_hand_computed_values():
    y_true = np.zeros((1, 2, 2, 3), np.float32)
    y_pred = np.full((1, 2, 2, 3), 0.5, np.float32)
    y_pred[0, 0, 0] = 1.0
    hole = np.zeros((1, 2, 2, 1), np.float32)
    hole[0, 0, :] = 1  # two hole pixels, six values: 3 * 1 + 3 * 0.25 over 6
    assert float(hole_mse_terms(y_true, y_pred, hole)) == pytest.approx(3.75 / 6)
    assert float(hole_mse_terms(y_true, y_pred, np.zeros_like(hole))) == 0.0
    scores = tf.constant([[0.5], [2.0]])
    assert float(least_squares_terms(scores, 1.0)) == pytest.approx((0.25 + 1.0) / 2)
    assert float(least_squares_terms(scores, 0.0)) == pytest.approx((0.25 + 4.0) / 2)


def test_full_networks_train_jointly_without_nan_on_irregular_masks(split):
    gan = _gan(*_full_networks())
    generator, discriminator = _weights(gan.generator), _weights(gan.discriminator)
    history = gan.fit(_dataset(split, kind="irregular", steps=1), epochs=3, steps_per_epoch=1,
                      verbose=0).history
    for key in ("g_loss", "d_loss", "fake_err", "real_err", "hole_mse"):
        values = np.array(history[key])
        assert np.all(np.isfinite(values)) and np.all(values > 0), key
        assert len(set(values.tolist())) == 3, key  # the losses move
    assert not _same(generator, _weights(gan.generator))
    assert not _same(discriminator, _weights(gan.discriminator))


def test_prediction_is_composited_and_validation_pools_the_hole_mse(split):
    gan = _gan()
    images = split.test.images.astype(np.float32) / 255
    masks = _masks("irregular", len(images), 5)
    inputs = {"image": images, "mask": masks}
    out = gan.predict(inputs, batch_size=BATCH, verbose=0)
    raw = gan.generator.predict(inputs, batch_size=BATCH, verbose=0)
    hole = np.broadcast_to(masks > 0.5, out.shape)
    np.testing.assert_array_equal(out[~hole], images[~hole])
    np.testing.assert_array_equal(out[hole], raw[hole])
    # Pooled over the set: batches of 3, 3 and 2 images with holes of different sizes.
    validation = make_eval_dataset(images, masks, batch_size=3)
    pooled = np.sum((images - raw)[hole] ** 2) / hole.sum()
    assert gan.evaluate(validation, verbose=0, return_dict=True)["hole_mse"] == pytest.approx(
        pooled, rel=1e-5)
    history = gan.fit(_dataset(split), epochs=1, steps_per_epoch=1, verbose=0,
                      validation_data=validation).history
    assert history["val_hole_mse"][0] == pytest.approx(
        gan.evaluate(validation, verbose=0, return_dict=True)["hole_mse"], rel=1e-6)


def test_saved_state_resumes_training_exactly_in_the_right_phase(split, tmp_path):
    gan_options = {"T_c": 1, "T_d": 1, "run_eagerly": True}
    uninterrupted = _gan(**gan_options).fit(_dataset(split), epochs=4, steps_per_epoch=STEPS,
                                            verbose=0).history
    first = _gan(**gan_options)
    first.fit(_dataset(split), epochs=2, steps_per_epoch=STEPS, verbose=0)
    first.save_weights(tmp_path / "gan.weights.h5")
    first.save(tmp_path / "gan.keras")

    restored = _gan(seed=1, **gan_options)  # other initial weights: the file must count
    restored.load_weights(tmp_path / "gan.weights.h5")
    reloaded = keras.saving.load_model(tmp_path / "gan.keras")
    for gan in (restored, reloaded):
        assert int(gan.epochs_done.numpy()) == 2 and gan.scheduled_phase() == "joint"
        assert int(gan.generator_optimizer.iterations.numpy()) == STEPS
        assert int(gan.discriminator_optimizer.iterations.numpy()) == STEPS
        resumed = gan.fit(_dataset(split, start_epoch=2), epochs=4, initial_epoch=2,
                          steps_per_epoch=STEPS, verbose=0).history
        assert gan.phase == "joint"
        for key, values in uninterrupted.items():
            assert resumed[key] == pytest.approx(values[2:], rel=1e-5), key


class _Interrupt(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("interrupted")


def test_keras_callbacks_work_and_a_restored_backup_keeps_the_phase(split, tmp_path):
    def callbacks():
        return [keras.callbacks.CSVLogger(str(tmp_path / "log.csv"), append=True),
                keras.callbacks.ModelCheckpoint(str(tmp_path / "last.weights.h5"),
                                                save_weights_only=True),
                keras.callbacks.ModelCheckpoint(str(tmp_path / "last.keras")),
                keras.callbacks.BackupAndRestore(str(tmp_path / "backup")),
                keras.callbacks.TensorBoard(str(tmp_path / "tensorboard"))]

    gan = _gan(T_c=1, T_d=1, run_eagerly=True)  # the resumed run below is compiled
    with pytest.raises(RuntimeError, match="interrupted"):
        gan.fit(_dataset(split, steps=1), epochs=3, steps_per_epoch=1, verbose=0,
                callbacks=[*callbacks(), _Interrupt(2)])
    assert int(keras.saving.load_model(tmp_path / "last.keras").epochs_done.numpy()) == 2

    resumed = _gan(seed=1, T_c=1, T_d=1)
    history = resumed.fit(_dataset(split, start_epoch=2, steps=1), epochs=3, steps_per_epoch=1,
                          verbose=0, callbacks=callbacks()).history
    assert len(history["g_loss"]) == 1 and resumed.phase == "joint"
    assert int(resumed.epochs_done.numpy()) == 3 and int(resumed.steps_done.numpy()) == 3
    rows = (tmp_path / "log.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,") and [row.split(",")[0] for row in rows[1:]] == [
        "0", "1", "2"]
    checkpoint = _gan(seed=2, T_c=1, T_d=1)
    checkpoint.load_weights(tmp_path / "last.weights.h5")
    assert _same(_weights(checkpoint), _weights(resumed))
    assert len(list((tmp_path / "tensorboard").rglob("events.out.tfevents.*"))) >= 2


def test_mixed_bfloat16_steps_are_finite(split):
    # The full networks' forward passes under this policy: tests/test_glcic.py.
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    gan = _gan()
    assert gan.generator.compute_dtype == "bfloat16"
    history = gan.fit(_dataset(split), epochs=1, steps_per_epoch=STEPS, verbose=0).history
    assert all(np.isfinite(values[0]) and values[0] > 0 for values in history.values())
    assert gan.generator.output.dtype == "float32"
    assert gan.discriminator.output.dtype == "float32"
    assert {w.dtype for w in gan.trainable_weights} == {"float32"}


def test_mixed_float16_wraps_both_optimizers_in_loss_scaling(split):
    keras.mixed_precision.set_global_policy("mixed_float16")
    networks = tiny_generator(SIZE), tiny_discriminator(SIZE, 8)
    keras.mixed_precision.set_global_policy("float32")  # the networks' policy decides
    gan = _gan(*networks)
    for optimizer in (gan.generator_optimizer, gan.discriminator_optimizer):
        assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    history = gan.fit(_dataset(split), epochs=1, steps_per_epoch=STEPS, verbose=0).history
    assert all(np.isfinite(values[0]) and values[0] > 0 for values in history.values())
    assert gan.predict({"image": np.zeros((1, SIZE, SIZE, 3), np.float32),
                        "mask": np.ones((1, SIZE, SIZE, 1), np.float32)},
                       verbose=0).dtype == np.float32


def test_generator_exports_with_the_common_signature(split, tmp_path):
    gan = _gan(build_glcic_generator((None, None, 3)), tiny_discriminator(SIZE, 8))
    path = export_saved_model(gan, tmp_path / "exported")  # exports the generator
    served = tf.saved_model.load(str(path))
    images = split.test.images[:2].astype(np.float32) / 255
    masks = _masks("gan_rectangle", 2, 7)
    out = served.serve(image=tf.constant(images), mask=tf.constant(masks))["inpainted"]
    np.testing.assert_allclose(out, gan.predict({"image": images, "mask": masks}, verbose=0),
                               atol=1e-5)
    # 14 x 14 is no multiple of 4: the signature pads, runs and crops back.
    out = served.serve(image=tf.constant(images[:, :14, :14]),
                       mask=tf.constant(masks[:, :14, :14]))["inpainted"].numpy()
    known = np.broadcast_to(masks[:, :14, :14] == 0, out.shape)
    assert out.shape == (2, 14, 14, 3)
    np.testing.assert_array_equal(out[known], images[:, :14, :14][known])


def test_bad_arguments():
    generator, discriminator = tiny_generator(SIZE), tiny_discriminator(SIZE, 8)
    with pytest.raises(ValueError, match="schedule"):
        InpaintingGAN(generator, discriminator, schedule="batch")
    with pytest.raises(ValueError, match="T_c=-1"):
        InpaintingGAN(generator, discriminator, T_c=-1)
    with pytest.raises(ValueError, match="adversarial_weight=-1"):
        InpaintingGAN(generator, discriminator, adversarial_weight=-1)
    with pytest.raises(ValueError, match="generator=NoneType"):
        InpaintingGAN(None, discriminator)
    gan = InpaintingGAN(generator, discriminator)
    with pytest.raises(ValueError, match="loss="):
        gan.compile(keras.optimizers.Adam(), keras.optimizers.Adam(), loss="mse")
    with pytest.raises(ValueError, match="phase"):
        gan.set_phase("warm-up")


def test_mirrored_strategy_on_two_cpus_matches_one_device(tmp_path):
    # Three steps, one per phase (step schedule), global batch 8, irregular masks.
    script = Path(__file__).with_name("_mirrored_gan_check.py")
    result = subprocess.run([sys.executable, str(script), str(tmp_path), "irregular"],
                            capture_output=True, text=True, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2 and report["steps_done"] == 3 and report["phase"] == "joint"
    assert len(report["single"]) == len(report["mirrored"]) == 3
    for single, mirrored in zip(report["single"], report["mirrored"], strict=True):
        assert single["d_loss"] > 0 or single["g_loss"] > 0
        for key, value in single.items():
            assert mirrored[key] == pytest.approx(value, rel=1e-4, abs=1e-7), key


def test_a_callback_list_passed_twice_advances_the_epoch_clock_once_per_epoch(split):
    gan = _gan(T_c=1, run_eagerly=True)
    callbacks = keras.callbacks.CallbackList([keras.callbacks.History()], model=gan)
    for _ in range(2):
        gan.fit(_dataset(split, steps=1), epochs=1, steps_per_epoch=1, verbose=0,
                callbacks=callbacks)
    assert int(gan.epochs_done.numpy()) == 2 and gan.phase == "joint"
