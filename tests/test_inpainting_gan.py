import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from inpaint_tf.data import make_dataset, synthetic_split
from inpaint_tf.export import export_saved_model
from inpaint_tf.models import InpaintingGAN, build_glcic_discriminator, build_glcic_generator

SIZE = 16


def _gan(**kwargs):
    keras.utils.set_random_seed(0)
    gan = InpaintingGAN(build_glcic_generator((SIZE, SIZE, 3)),
                        build_glcic_discriminator((SIZE, SIZE, 3), region_size=8), **kwargs)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    return gan


@pytest.fixture(scope="module")
def split():
    return synthetic_split(32, 8, 8, size=SIZE)


def _dataset(split, start_epoch=0, kind="gan_rectangle"):
    return make_dataset(split.train.images, kind, batch_size=4, seed=0, real_masks=True,
                        start_epoch=start_epoch)


def _weights(model):
    return [keras.ops.convert_to_numpy(w) for w in model.weights]


def _same(first, second):
    return all(np.array_equal(a, b) for a, b in zip(first, second))


def test_each_phase_trains_only_its_network(split):
    gan = _gan(T_c=1, T_d=1)
    generator, discriminator = _weights(gan.generator), _weights(gan.discriminator)
    gan.fit(_dataset(split), epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)
    assert gan.phase == "generator"
    assert _same(discriminator, _weights(gan.discriminator))  # frozen, statistics included
    assert not _same(generator, _weights(gan.generator))
    generator = _weights(gan.generator)
    gan.fit(_dataset(split, 1), epochs=2, initial_epoch=1, steps_per_epoch=2, verbose=0,
            shuffle=False)
    assert gan.phase == "discriminator"
    assert _same(generator, _weights(gan.generator))
    assert not _same(discriminator, _weights(gan.discriminator))
    history = gan.fit(_dataset(split, 2), epochs=3, initial_epoch=2, steps_per_epoch=2,
                      verbose=0, shuffle=False).history
    assert gan.phase == "joint" and history["g_loss"][0] > 0 and history["d_loss"][0] > 0


def test_step_schedule_switches_within_an_epoch(split):
    gan = _gan(T_c=2, T_d=1, schedule="step")
    history = gan.fit(_dataset(split), epochs=1, steps_per_epoch=4, verbose=0,
                      shuffle=False).history
    assert gan.phase == "joint" and int(gan.steps_done.numpy()) == 4
    assert history["d_loss"][0] > 0 and history["g_loss"][0] > 0


def test_joint_steps_move_both_losses_without_nan(split):
    gan = _gan()
    history = gan.fit(_dataset(split), epochs=3, steps_per_epoch=2, verbose=0,
                      shuffle=False).history
    for key in ("g_loss", "d_loss", "fake_err", "real_err", "hole_mse"):
        values = np.array(history[key])
        assert np.all(np.isfinite(values)) and len(set(values.tolist())) == 3, key
    assert history["d_loss"][0] == pytest.approx(history["fake_err"][0] + history["real_err"][0],
                                                  rel=1e-5)


def test_losses_equal_their_definitions(split):
    gan = _gan(T_c=1)
    inputs, real = next(iter(_dataset(split)))
    generated = gan.generator({"image": inputs["image"], "mask": inputs["mask"]},
                              training=True)
    mask = np.broadcast_to(inputs["mask"].numpy(), real.shape)
    expected = np.sum(((real.numpy() - generated.numpy()) * mask) ** 2) / mask.sum()
    from inpaint_tf.models.inpainting_gan import hole_mse_terms, least_squares_terms

    assert float(hole_mse_terms(real, generated, inputs["mask"])) == pytest.approx(
        expected, rel=1e-5)
    scores = tf.constant([[0.5], [2.0]])
    assert float(least_squares_terms(scores, 1.0)) == pytest.approx((0.25 + 1.0) / 2)


def test_prediction_is_composited(split):
    gan = _gan()
    images = split.test.images[:2].astype(np.float32) / 255
    masks = np.zeros((2, SIZE, SIZE, 1), np.float32)
    masks[:, 4:9, 4:9] = 1
    out = gan.predict({"image": images, "mask": masks}, verbose=0)
    known = np.broadcast_to(masks == 0, out.shape)
    np.testing.assert_array_equal(out[known], images[known])
    assert gan.evaluate(make_dataset(split.validation.images, "gan_rectangle", batch_size=4,
                                     epochs=1), verbose=0, return_dict=True)["hole_mse"] > 0


def test_saved_weights_resume_training_exactly(split, tmp_path):
    gan = _gan()
    gan.fit(_dataset(split), epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)
    gan.save_weights(tmp_path / "gan.weights.h5")
    uninterrupted = gan.fit(_dataset(split, 1), epochs=2, initial_epoch=1, steps_per_epoch=2,
                            verbose=0, shuffle=False).history
    restored = _gan()
    restored.load_weights(tmp_path / "gan.weights.h5")
    assert int(restored.steps_done.numpy()) == 2
    assert int(restored.generator_optimizer.iterations.numpy()) == 2
    resumed = restored.fit(_dataset(split, 1), epochs=2, initial_epoch=1, steps_per_epoch=2,
                           verbose=0, shuffle=False).history
    for key in uninterrupted:
        assert resumed[key] == pytest.approx(uninterrupted[key], rel=1e-5), key


def test_keras_callbacks_work(split, tmp_path):
    gan = _gan()
    callbacks = [
        keras.callbacks.CSVLogger(str(tmp_path / "log.csv")),
        keras.callbacks.ModelCheckpoint(str(tmp_path / "ckpt.weights.h5"),
                                        save_weights_only=True),
        keras.callbacks.BackupAndRestore(str(tmp_path / "backup")),
        keras.callbacks.TensorBoard(str(tmp_path / "tensorboard")),
    ]
    history = gan.fit(_dataset(split), epochs=2, steps_per_epoch=1, verbose=0, shuffle=False,
                      callbacks=callbacks)
    assert len(history.history["g_loss"]) == 2
    assert (tmp_path / "log.csv").read_text().count("\n") == 3
    assert (tmp_path / "ckpt.weights.h5").is_file()
    assert any((tmp_path / "tensorboard").rglob("events.out.tfevents.*"))


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_steps_are_finite(split, policy):
    keras.mixed_precision.set_global_policy(policy)
    gan = _gan()
    if policy == "mixed_float16":
        assert isinstance(gan.generator_optimizer, keras.optimizers.LossScaleOptimizer)
    history = gan.fit(_dataset(split), epochs=1, steps_per_epoch=2, verbose=0,
                      shuffle=False).history
    assert all(np.isfinite(values[0]) for values in history.values())
    assert gan.generator.output.dtype == "float32"


def test_generator_exports_with_the_common_signature(split, tmp_path):
    gan = _gan()
    path = export_saved_model(gan, tmp_path / "exported")  # exports the generator
    served = tf.saved_model.load(str(path))
    images = split.test.images[:2].astype(np.float32) / 255
    masks = np.zeros((2, SIZE, SIZE, 1), np.float32)
    masks[:, 2:7, 3:9] = 1
    out = served.serve(image=tf.constant(images), mask=tf.constant(masks))["inpainted"]
    np.testing.assert_allclose(out, gan.predict({"image": images, "mask": masks}, verbose=0),
                               atol=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="schedule"):
        InpaintingGAN(None, None, schedule="batch")
    with pytest.raises(ValueError, match="T_c"):
        InpaintingGAN(None, None, T_c=-1)


@pytest.mark.slow
def test_mirrored_strategy_on_two_cpus_matches_one_device(tmp_path):
    script = Path(__file__).with_name("_mirrored_gan_check.py")
    result = subprocess.run([sys.executable, str(script), str(tmp_path), "gan_rectangle"],
                            capture_output=True, text=True, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    for key, values in report["single"].items():
        assert report["mirrored"][key] == pytest.approx(values, rel=1e-4), key
