"""`InpaintingGAN.diagnose` and `diagnose_gan_run`: each figure against NumPy (a closed
form for the gradient of a linear generator), linear in the adversarial weight, the
model left as it was; a run's checkpoints read back."""

import functools

import keras
import numpy as np
import pytest
from _tiny_gan import build_tiny_gan, tiny_discriminator, tiny_generator

from inpaint_tf.configs import config_from_dict
from inpaint_tf.data import synthetic_split
from inpaint_tf.masks import generate_masks
from inpaint_tf.models.inpainting_gan import InpaintingGAN
from inpaint_tf.training import gan_diagnostics
from inpaint_tf.training import loop as training

SIZE, BATCH = 16, 4


def _linear_generator() -> keras.Model:
    """pred = image · W + b per pixel: its hole-MSE gradient has a closed form."""
    inputs = {"image": keras.Input((SIZE, SIZE, 3), name="image"),
              "mask": keras.Input((SIZE, SIZE, 1), name="mask")}
    output = keras.layers.Conv2D(3, 1, dtype="float32", name="linear")(inputs["image"])
    return keras.Model(inputs, output)


def _gan(generator, weight, seed=0):
    keras.utils.set_random_seed(seed)
    gan = InpaintingGAN(generator, tiny_discriminator(SIZE, 8), adversarial_weight=weight)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    return gan


def _batch(seed=1):
    rng = np.random.default_rng(seed)
    real = rng.uniform(size=(BATCH, SIZE, SIZE, 3)).astype(np.float32)
    holes = generate_masks("gan_rectangle", BATCH, seed=2, height=SIZE, width=SIZE)
    real_holes = generate_masks("gan_rectangle", BATCH, seed=3, height=SIZE, width=SIZE)
    holes, real_holes = holes.astype(np.float32), real_holes.astype(np.float32)
    return {"image": real * (1 - holes), "mask": holes, "real_mask": real_holes}, real


def _state(gan):
    return [keras.ops.convert_to_numpy(v) for v in gan.weights]


def test_the_hole_mse_and_its_gradient_are_the_closed_form():
    gan = _gan(_linear_generator(), weight=0.0)
    inputs, real = _batch()
    figures = gan.diagnose(inputs, real)
    kernel, bias = (keras.ops.convert_to_numpy(w).astype(np.float64)
                    for w in gan.generator.get_layer("linear").weights)
    x = inputs["image"].astype(np.float64)
    hole = np.broadcast_to(inputs["mask"], real.shape).astype(np.float64)
    prediction = x @ kernel[0, 0] + bias
    residual = (real - prediction) * hole
    assert figures["hole_mse"] == pytest.approx((residual**2).sum() / hole.sum(), rel=1e-5)
    upstream = -2.0 * residual / hole.sum()  # d loss / d prediction
    kernel_gradient = np.einsum("bhwi,bhwo->io", x, upstream)
    bias_gradient = upstream.sum(axis=(0, 1, 2))
    norm = np.sqrt((kernel_gradient**2).sum() + (bias_gradient**2).sum())
    assert figures["mse_gradient_norm"] == pytest.approx(norm, rel=1e-4)
    # No weight, no adversarial gradient.
    assert figures["adversarial_gradient_norm"] == 0.0
    assert figures["adversarial_share"] == 0.0 and figures["gradient_cosine"] == 0.0


def test_the_discriminator_figures_are_its_scores():
    gan = _gan(tiny_generator(SIZE), weight=0.5)
    inputs, real = _batch()
    figures = gan.diagnose(inputs, real)
    # The same calls as a joint step (BatchNorm on batch statistics, so repeatable).
    holes = inputs["mask"]
    generated = gan.generator({"image": inputs["image"], "mask": holes}, training=True).numpy()
    completed = np.where(holes > 0.5, generated, real)
    fake = gan.discriminator({"image": completed, "mask": holes}, training=True).numpy()
    real_scores = gan.discriminator({"image": real, "mask": inputs["real_mask"]},
                                    training=True).numpy()
    expected = {
        "fake_err": np.mean(fake**2), "real_err": np.mean((real_scores - 1) ** 2),
        "adversarial": np.mean((fake - 1) ** 2), "fake_score": fake.mean(),
        "real_score": real_scores.mean(),
        "discriminator_accuracy": (np.sum(real_scores > 0.5) + np.sum(fake < 0.5)) / (2 * BATCH),
        "hole_mse": np.sum(((real - generated) * holes) ** 2) / (3 * holes.sum()),
    }
    for key, value in expected.items():
        assert figures[key] == pytest.approx(value, rel=1e-4, abs=1e-6), key


def test_the_adversarial_gradient_scales_with_its_weight_alone():
    inputs, real = _batch()
    half = _gan(tiny_generator(SIZE), weight=0.5).diagnose(inputs, real)
    whole = _gan(tiny_generator(SIZE), weight=1.0).diagnose(inputs, real)  # same weights
    assert whole["adversarial_gradient_norm"] == pytest.approx(
        2 * half["adversarial_gradient_norm"], rel=1e-4)
    assert whole["adversarial_share"] == pytest.approx(2 * half["adversarial_share"], rel=1e-4)
    assert whole["mse_gradient_norm"] == pytest.approx(half["mse_gradient_norm"], rel=1e-5)
    assert whole["gradient_cosine"] == pytest.approx(half["gradient_cosine"], abs=1e-4)
    assert -1.0 <= half["gradient_cosine"] <= 1.0 and half["adversarial_gradient_norm"] > 0


def test_diagnose_leaves_the_model_as_it_was():
    gan = _gan(tiny_generator(SIZE), weight=0.5)
    before = _state(gan)
    gan.diagnose(*_batch())
    after = _state(gan)
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    assert int(gan.generator_optimizer.iterations.numpy()) == 0


CONFIG = config_from_dict({
    "name": "tiny_gan_diagnostics",
    "model": {"kind": "glcic_gan"},
    "data": {"masks": "gan_rectangle", "validation_images": 8, "test_images": 8},
    "training": {"batch_size": BATCH, "epochs": 1, "steps_per_epoch": 2, "seed": 3},
    "gan": {"region_size": 8, "generator_learning_rate": 1e-2},
})


def test_a_runs_checkpoint_is_diagnosed_on_its_validation_images(tmp_path, monkeypatch):
    build = functools.partial(build_tiny_gan, optimizer=keras.optimizers.Adam)
    monkeypatch.setattr(training, "build_model", build)
    monkeypatch.setattr(gan_diagnostics, "build_model", build)
    split = synthetic_split(16, 12, 8, size=SIZE, seed=5)
    run = training.train(CONFIG, tmp_path / "run", split=split, verbose=0)
    rows = gan_diagnostics.diagnose_gan_run(run.path, images=10, split=split)
    assert [(r["checkpoint"], r["epoch"], r["batches"]) for r in rows] == \
        [("epoch_0001.weights.h5", 1, 2)]
    # The same figures by hand: the run's weights, its validation images and holes.
    model = build(CONFIG, (SIZE, SIZE, 3))
    fresh = [model.diagnose(*batch) for batch in
             gan_diagnostics.diagnostic_batches(CONFIG, split, 8)]
    training.restore_checkpoint(model, run.path / "checkpoints" / "epoch_0001.weights.h5")
    trained = [model.diagnose(*batch) for batch in
               gan_diagnostics.diagnostic_batches(CONFIG, split, 8)]
    for key in ("hole_mse", "discriminator_accuracy", "adversarial_share"):
        assert rows[0][key] == pytest.approx(np.mean([f[key] for f in trained]), rel=1e-5)
    assert rows[0]["hole_mse"] != pytest.approx(np.mean([f["hole_mse"] for f in fresh]))


def test_diagnostics_refuse_too_few_images_and_other_models(tmp_path):
    split = synthetic_split(16, 2, 8, size=SIZE, seed=5)
    with pytest.raises(ValueError, match="at least one batch of 4"):
        list(gan_diagnostics.diagnostic_batches(CONFIG, split, 8))
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.toml").write_text('name = "ae"\n[model]\nkind = "unet_autoencoder"\n')
    with pytest.raises(ValueError, match="not a GAN"):
        gan_diagnostics.diagnose_gan_run(run, split=split)
