import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from inpaint_tf import losses as L
from inpaint_tf.data import make_dataset, synthetic_split

# 1 x 2 x 2 x 1: errors |p - y| = [1, 0.5, 0, 0.25], hole = first two pixels.
Y = np.array([0.0, 0.5, 1.0, 0.25], np.float32).reshape(1, 2, 2, 1)
P = np.array([1.0, 1.0, 1.0, 0.0], np.float32).reshape(1, 2, 2, 1)
HOLE = np.array([1, 1, 0, 0], np.float32).reshape(1, 2, 2, 1)


@pytest.mark.parametrize("loss, expected", [
    (L.MaskedL1(hole_weight=1.0, valid_weight=0.0), (1 + 0.5) / 4),
    (L.MaskedL1(hole_weight=0.0, valid_weight=1.0), (0 + 0.25) / 4),
    (L.MaskedL1(hole_weight=6.0, valid_weight=1.0), 6 * 1.5 / 4 + 0.25 / 4),
    (L.MaskedL2(hole_weight=1.0, valid_weight=0.0), (1 + 0.25) / 4),
    (L.MaskedL2(hole_weight=2.0, valid_weight=3.0), 2 * 1.25 / 4 + 3 * 0.0625 / 4),
])
def test_masked_losses_equal_hand_computed_values(loss, expected):
    assert float(loss(Y, P, sample_weight=HOLE)) == pytest.approx(expected, rel=1e-6)


def test_batch_mean_and_edge_masks():
    y = np.concatenate([Y, Y])
    p = np.concatenate([P, Y])  # the second image is perfect
    assert float(L.MaskedL1(6.0)(y, p, sample_weight=np.concatenate([HOLE, HOLE]))) == \
        pytest.approx((6 * 1.5 / 4 + 0.25 / 4) / 2)
    for mask in (np.zeros_like(HOLE), np.ones_like(HOLE)):
        assert np.isfinite(float(L.MaskedL2()(Y, P, sample_weight=mask)))


def test_missing_mask_says_how_to_pass_it():
    with pytest.raises(ValueError, match="mask_as_sample_weight=True"):
        L.MaskedL1()(Y, P)


def _reference_terms(loss, y, p, hole):
    """The paper's terms in NumPy, on features from the same frozen VGG."""
    def features(images):
        bgr = images[..., ::-1] * 255.0 - np.array(L.VGG_MEAN_BGR, np.float32)
        return [np.asarray(f, np.float64) for f in loss.vgg(bgr.astype(np.float32))]

    def gram(f):
        b, h, w, c = f.shape
        flat = f.reshape(b, h * w, c)
        return np.einsum("bnc,bnd->bcd", flat, flat) / (h * w * c)

    comp = hole * p + (1 - hole) * y
    truth = features(y)
    out = {"valid": np.mean((1 - hole) * np.abs(p - y)), "hole": np.mean(hole * np.abs(p - y)),
           "perceptual": 0.0, "style_out": 0.0, "style_comp": 0.0}
    for name, image in (("out", p), ("comp", comp)):
        for f, g in zip(features(image), truth):
            out["perceptual"] += np.mean(np.abs(f - g))
            out[f"style_{name}"] += np.mean(np.abs(gram(f) - gram(g)))
    # TV over pairs of neighbours both inside the 1-pixel dilation of the hole.
    region = np.zeros_like(hole[..., 0])
    for i, j in zip(*np.nonzero(np.ones_like(region[0]))):
        region[:, i, j] = hole[:, max(i - 1, 0):i + 2, max(j - 1, 0):j + 2, 0].max(axis=(1, 2))
    tv = 0.0
    for b in range(len(y)):
        for i in range(y.shape[1]):
            for j in range(y.shape[2]):
                if j + 1 < y.shape[2] and region[b, i, j] and region[b, i, j + 1]:
                    tv += np.abs(comp[b, i, j + 1] - comp[b, i, j]).sum()
                if i + 1 < y.shape[1] and region[b, i, j] and region[b, i + 1, j]:
                    tv += np.abs(comp[b, i + 1, j] - comp[b, i, j]).sum()
    out["tv"] = tv / y[0].size / len(y)
    return out


@pytest.fixture(scope="module")
def pconv_loss():
    keras.utils.set_random_seed(0)
    return L.PConvLoss(vgg_weights=None)


def test_pconv_loss_terms_match_an_independent_computation(pconv_loss, rng):
    y = rng.uniform(size=(2, 32, 32, 3)).astype(np.float32)
    p = rng.uniform(size=(2, 32, 32, 3)).astype(np.float32)
    hole = np.zeros((2, 32, 32, 1), np.float32)
    hole[0, 5:15, 8:20] = 1
    hole[1, 0:4, 28:32] = 1  # on the border
    ours = {k: float(v) for k, v in pconv_loss.terms(y, p, hole).items()}
    reference = _reference_terms(pconv_loss, y, p, hole)
    for name, value in reference.items():
        assert ours[name] == pytest.approx(value, rel=2e-4), name
    weights = dict(valid=1, hole=6, perceptual=0.05, style_out=120, style_comp=120, tv=0.1)
    total = sum(weights[name] * value for name, value in reference.items())
    assert float(pconv_loss(y, p, sample_weight=hole)) == pytest.approx(total, rel=2e-4)


def test_pconv_loss_gradient_is_finite_and_nonzero(pconv_loss, rng):
    import tensorflow as tf

    y = tf.constant(rng.uniform(size=(1, 32, 32, 3)).astype(np.float32))
    p = tf.Variable(rng.uniform(size=(1, 32, 32, 3)).astype(np.float32))
    hole = np.zeros((1, 32, 32, 1), np.float32)
    hole[0, 10:20, 10:20] = 1
    with tf.GradientTape() as tape:
        value = pconv_loss(y, p, sample_weight=hole)
    gradient = tape.gradient(value, p).numpy()
    assert np.all(np.isfinite(gradient)) and np.abs(gradient).sum() > 0


def test_offline_imagenet_weights_give_a_clear_error(monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("URL fetch failure: no network")

    monkeypatch.setattr(keras.applications, "VGG16", offline)
    with pytest.raises(RuntimeError, match="vgg_weights=None"):
        L.PConvLoss()


@pytest.mark.parametrize("loss", [L.MaskedL1(3.0, 0.5), L.MaskedL2()])
def test_config_round_trip(loss):
    clone = type(loss).from_config(loss.get_config())
    assert clone.get_config() == loss.get_config()


def _tiny_model():
    image = keras.Input((16, 16, 3), name="image")
    mask = keras.Input((16, 16, 1), name="mask")
    x = keras.layers.Concatenate()([image, mask])
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    out = keras.layers.Conv2D(3, 3, padding="same", activation="sigmoid")(x)
    return keras.Model({"image": image, "mask": mask}, out)


@pytest.mark.parametrize("make_loss", [lambda: L.MaskedL1(6.0),
                                       lambda: L.PConvLoss(vgg_weights=None)])
def test_training_with_masked_losses(make_loss, tmp_path):
    keras.utils.set_random_seed(0)
    split = synthetic_split(32, 4, 4, size=16)
    model = _tiny_model()
    model.compile(keras.optimizers.Adam(3e-3), loss=make_loss())
    dataset = make_dataset(split.train.images, "irregular", batch_size=8,
                           mask_as_sample_weight=True)
    losses = model.fit(dataset, epochs=4, steps_per_epoch=4, verbose=0,
                       shuffle=False).history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    model.save(tmp_path / "m.keras")
    reloaded = keras.saving.load_model(tmp_path / "m.keras")
    assert type(reloaded.loss) is type(model.loss)


def test_mixed_bfloat16_loss_is_float32_and_finite():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    value = L.MaskedL1()(Y.astype("bfloat16"), P, sample_weight=HOLE)
    assert keras.backend.standardize_dtype(value.dtype) == "float32"
    assert np.isfinite(float(value))


def test_mirrored_strategy_scales_the_loss_once(tmp_path):
    script = Path(__file__).with_name("_mirrored_loss_check.py")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    assert report["mirrored"] == pytest.approx(report["single"], rel=1e-6)
