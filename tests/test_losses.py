import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras_checks import check_config_round_trip

from inpaint_tf import losses as L
from inpaint_tf.data import make_dataset, synthetic_split

# 1 x 2 x 2 x 1: errors |p - y| = [1, 0.5, 0, 0.25]; the hole is the first two pixels.
Y = np.array([0.0, 0.5, 1.0, 0.25], np.float32).reshape(1, 2, 2, 1)
P = np.array([1.0, 1.0, 1.0, 0.0], np.float32).reshape(1, 2, 2, 1)
HOLE = np.array([1, 1, 0, 0], np.float32).reshape(1, 2, 2, 1)


@pytest.mark.parametrize("cls, normalize, hole_weight, valid_weight, expected", [
    (L.MaskedL1, "pixels", 1.0, 0.0, (1 + 0.5) / 4),
    (L.MaskedL1, "pixels", 0.0, 1.0, (0 + 0.25) / 4),
    (L.MaskedL1, "pixels", 6.0, 1.0, 6 * 1.5 / 4 + 0.25 / 4),
    (L.MaskedL1, "region", 1.0, 0.0, (1 + 0.5) / 2),
    (L.MaskedL1, "region", 0.0, 1.0, (0 + 0.25) / 2),
    (L.MaskedL2, "pixels", 1.0, 0.0, (1 + 0.25) / 4),
    (L.MaskedL2, "pixels", 2.0, 3.0, 2 * 1.25 / 4 + 3 * 0.0625 / 4),
    (L.MaskedL2, "region", 2.0, 3.0, 2 * 1.25 / 2 + 3 * 0.0625 / 2),
])
def test_masked_losses_equal_hand_computed_values(cls, normalize, hole_weight, valid_weight,
                                                  expected):
    loss = cls(hole_weight=hole_weight, valid_weight=valid_weight, normalize=normalize)
    assert float(loss(Y, P, sample_weight=HOLE)) == pytest.approx(expected, rel=1e-6)
    # A (B, H, W) mask is the same mask.
    assert float(loss(Y, P, sample_weight=HOLE[..., 0])) == pytest.approx(expected, rel=1e-6)


# Two 1 x 2 RGB images; image 0: errors [1, 2, 3] in the hole pixel, [0, 0, 1] outside;
# image 1 has no hole and errors [1, 1, 1], [2, 2, 2].
Y_RGB = np.zeros((2, 1, 2, 3), np.float32)
P_RGB = np.array([[[[1, 2, 3], [0, 0, 1]]], [[[1, 1, 1], [2, 2, 2]]]], np.float32)
HOLE_RGB = np.array([[[[1], [0]]], [[[0], [0]]]], np.float32)


@pytest.mark.parametrize("normalize, per_image", [
    ("pixels", [2 * 6 / 6 + 1 / 6, 2 * 0 + 9 / 6]),   # both terms over the 6 elements
    ("region", [2 * 6 / 3 + 1 / 3, 2 * 0 + 9 / 6]),   # each over its own region
])
def test_mask_broadcasts_over_channels_and_the_batch_mean_is_taken(normalize, per_image):
    loss = L.MaskedL1(hole_weight=2.0, normalize=normalize)
    unreduced = L.MaskedL1(hole_weight=2.0, normalize=normalize, reduction=None)
    np.testing.assert_allclose(unreduced(Y_RGB, P_RGB, sample_weight=HOLE_RGB), per_image,
                               rtol=1e-6)
    assert float(loss(Y_RGB, P_RGB, sample_weight=HOLE_RGB)) == \
        pytest.approx(np.mean(per_image), rel=1e-6)


@pytest.mark.parametrize("cls, error", [(L.MaskedL1, np.abs), (L.MaskedL2, np.square)])
@pytest.mark.parametrize("hole_weight, valid_weight", [(0, 0), (1, 1), (6, 1), (0.5, 3)])
def test_weights_combine_linearly(cls, error, hole_weight, valid_weight, rng):
    y = rng.uniform(size=(3, 4, 5, 3)).astype(np.float32)
    p = rng.uniform(size=y.shape).astype(np.float32)
    hole = (rng.uniform(size=(3, 4, 5, 1)) > 0.6).astype(np.float32)
    value = float(cls(hole_weight, valid_weight)(y, p, sample_weight=hole))
    holes, valid = (float(cls(1, 0)(y, p, sample_weight=hole)),
                    float(cls(0, 1)(y, p, sample_weight=hole)))
    assert value == pytest.approx(hole_weight * holes + valid_weight * valid, rel=1e-5, abs=1e-7)
    # Both terms share the pixel count: together they are the plain MAE / MSE.
    assert holes + valid == pytest.approx(float(np.mean(error(p - y))), rel=1e-5)


@pytest.mark.parametrize("cls, error", [(L.MaskedL1, np.abs), (L.MaskedL2, np.square)])
@pytest.mark.parametrize("normalize", L.NORMALIZATIONS)
@pytest.mark.parametrize("filled", [0.0, 1.0])
def test_all_hole_and_no_hole_masks_are_finite(cls, error, normalize, filled):
    loss = cls(hole_weight=6.0, valid_weight=0.5, normalize=normalize)
    value = float(loss(Y, P, sample_weight=np.full_like(HOLE, filled)))
    weight = 6.0 if filled else 0.5  # only one region exists
    assert value == pytest.approx(weight * float(np.mean(error(P - Y))), rel=1e-6)


def test_missing_mask_says_how_to_pass_it():
    with pytest.raises(ValueError, match=r"make_dataset\(\.\.\., mask_as_sample_weight=True\)"):
        L.MaskedL1()(Y, P)


@pytest.mark.parametrize("sample_weight", [np.ones(1), np.ones((1, 3, 2, 1)),
                                           np.ones((1, 2, 2, 2)), np.ones((1, 1, 2, 2, 1))])
def test_a_weight_that_is_not_the_hole_mask_is_refused(sample_weight):
    with pytest.raises(ValueError, match="Received: sample_weight.shape="):
        L.MaskedL1()(Y, P, sample_weight=sample_weight)


@pytest.mark.parametrize("make, message", [
    (lambda: L.MaskedL1(hole_weight=-1), "Received: hole_weight=-1"),
    (lambda: L.MaskedL2(valid_weight=float("nan")), "Received: valid_weight=nan"),
    (lambda: L.MaskedL1(hole_weight="6"), "Received: hole_weight='6'"),
    (lambda: L.MaskedL1(normalize="mean"), "Received: normalize='mean'"),
    (lambda: L.MaskedL1(reduction="average"), "Received: reduction=average"),
    (lambda: L.PConvLoss(vgg_weights=None, style_weight=-120), "Received: style_weight=-120"),
    (lambda: L.PConvLoss(vgg_weights=3), "Received: vgg_weights=3"),
])
def test_invalid_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# --------------------------------------------------------------------------- PConvLoss


@pytest.fixture(scope="module")
def pconv_loss():
    keras.utils.set_random_seed(0)
    return L.PConvLoss(vgg_weights=None)


def _reference_terms(vgg, y, p, hole):
    """The paper's terms per image in NumPy (float64), on features of the same VGG."""
    def features(images):
        bgr = images[..., ::-1] * 255.0 - np.array([103.939, 116.779, 123.68])
        return [np.asarray(f, np.float64) for f in vgg(bgr.astype(np.float32))]

    def gram(f):
        b, h, w, c = f.shape
        flat = f.reshape(b, h * w, c)
        return np.einsum("bnc,bnd->bcd", flat, flat) / (c * h * w)

    def mean(values):
        return values.reshape(len(values), -1).mean(axis=1)

    y, p, hole = (np.asarray(a, np.float64) for a in (y, p, hole))
    comp = hole * p + (1 - hole) * y
    truth = features(y)
    out = {"valid": mean((1 - hole) * np.abs(p - y)), "hole": mean(hole * np.abs(p - y)),
           "perceptual": 0.0, "style_out": 0.0, "style_comp": 0.0}
    for name, image in (("out", p), ("comp", comp)):
        for f, g in zip(features(image), truth):
            out["perceptual"] = out["perceptual"] + mean(np.abs(f - g))
            out[f"style_{name}"] = out[f"style_{name}"] + mean(np.abs(gram(f) - gram(g)))
    batch, height, width, channels = y.shape
    # P: pixels with a hole pixel among their 8 neighbours or themselves.
    region = np.zeros((batch, height, width), bool)
    for i in range(height):
        for j in range(width):
            window = hole[:, max(i - 1, 0):i + 2, max(j - 1, 0):j + 2, 0]
            region[:, i, j] = window.max(axis=(1, 2)) > 0
    tv = np.zeros(batch)
    for b in range(batch):
        for i in range(height):
            for j in range(width):
                if j + 1 < width and region[b, i, j] and region[b, i, j + 1]:
                    tv[b] += np.abs(comp[b, i, j + 1] - comp[b, i, j]).sum()
                if i + 1 < height and region[b, i, j] and region[b, i + 1, j]:
                    tv[b] += np.abs(comp[b, i + 1, j] - comp[b, i, j]).sum()
    out["tv"] = tv / (height * width * channels)
    return out


def _pconv_batch(rng):
    y = rng.uniform(size=(4, 32, 32, 3)).astype(np.float32)
    p = rng.uniform(size=y.shape).astype(np.float32)
    hole = np.zeros((4, 32, 32, 1), np.float32)
    hole[0, 5:15, 8:20] = 1   # a box
    hole[1, 0:4, 28:32] = 1   # on the border
    hole[3] = 1               # image 2 has no hole, image 3 is all hole
    return y, p, hole


def test_pconv_loss_terms_match_an_independent_computation(pconv_loss, rng):
    y, p, hole = _pconv_batch(rng)
    reference = _reference_terms(pconv_loss.vgg, y, p, hole)
    ours = pconv_loss.terms_per_image(tf.constant(y), tf.constant(p), tf.constant(hole))
    assert set(ours) == set(reference)
    for name, value in reference.items():
        np.testing.assert_allclose(np.asarray(ours[name]), value, rtol=2e-4, atol=1e-7,
                                   err_msg=name)
        assert float(pconv_loss.terms(y, p, hole)[name]) == pytest.approx(np.mean(value),
                                                                          rel=2e-4, abs=1e-7)
    assert np.all(reference["tv"][[0, 1, 3]] > 0) and reference["tv"][2] == 0


@pytest.mark.parametrize("weights", [
    dict(valid_weight=1, hole_weight=6, perceptual_weight=0.05, style_weight=120, tv_weight=0.1),
    dict(valid_weight=0.5, hole_weight=2, perceptual_weight=1, style_weight=0, tv_weight=3),
])
def test_pconv_loss_is_the_weighted_sum_of_its_terms(pconv_loss, weights, rng):
    y, p, hole = _pconv_batch(rng)
    config = {**pconv_loss.get_config(), **weights, "reduction": None}
    loss = L.PConvLoss.from_config(config)
    loss.vgg.set_weights(pconv_loss.vgg.get_weights())
    terms = _reference_terms(pconv_loss.vgg, y, p, hole)
    expected = (weights["valid_weight"] * terms["valid"] + weights["hole_weight"] * terms["hole"]
                + weights["perceptual_weight"] * terms["perceptual"]
                + weights["style_weight"] * (terms["style_out"] + terms["style_comp"])
                + weights["tv_weight"] * terms["tv"])
    np.testing.assert_allclose(loss(y, p, sample_weight=hole), expected, rtol=2e-4)


@pytest.mark.parametrize("case", ["random", "perfect prediction", "all hole", "no hole"])
def test_pconv_loss_gradient_is_finite(pconv_loss, case, rng):
    y = tf.constant(rng.uniform(size=(1, 32, 32, 3)).astype(np.float32))
    p = tf.Variable(y if case == "perfect prediction" else
                    rng.uniform(size=(1, 32, 32, 3)).astype(np.float32))
    hole = np.zeros((1, 32, 32, 1), np.float32)
    hole[0, 10:20, 10:20] = 1
    hole = {"all hole": np.ones_like(hole), "no hole": np.zeros_like(hole)}.get(case, hole)
    with tf.GradientTape() as tape:
        value = pconv_loss(y, p, sample_weight=hole)
    gradient = tape.gradient(value, p).numpy()
    assert np.isfinite(float(value)) and np.all(np.isfinite(gradient))
    if case == "random":
        assert np.abs(gradient).sum() > 0


def test_pconv_loss_vgg_is_frozen_float32_pool1_to_pool3(pconv_loss):
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    loss = L.PConvLoss(vgg_weights=None)
    assert not loss.vgg.trainable and loss.vgg.trainable_weights == []
    assert len(loss.vgg.weights) == 14  # 7 convolutions up to block3, kernel and bias each
    assert {layer.dtype_policy.name for layer in loss.vgg.layers} == {"float32"}
    shapes = [tuple(f.shape) for f in loss.vgg(np.zeros((1, 32, 32, 3), np.float32))]
    assert shapes == [(1, 16, 16, 64), (1, 8, 8, 128), (1, 4, 4, 256)]


def test_pconv_loss_refuses_images_too_small_for_pool3(pconv_loss):
    small = np.zeros((1, 4, 4, 3), np.float32)
    with pytest.raises(ValueError, match="at least 8x8"):
        pconv_loss(small, small, sample_weight=np.ones((1, 4, 4, 1)))


@pytest.mark.parametrize("suffix", [".weights.h5", ".h5"])
def test_vgg_weights_from_a_local_file(tmp_path, suffix):
    keras.utils.set_random_seed(1)
    vgg = keras.applications.VGG16(include_top=False, weights=None,
                                   input_shape=(None, None, 3))
    path = tmp_path / f"vgg16_notop{suffix}"
    if suffix == ".h5":
        # The layout of Keras' own vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5.
        import h5py
        from keras.src.legacy.saving.legacy_h5_format import save_weights_to_hdf5_group

        with h5py.File(path, "w") as handle:
            save_weights_to_hdf5_group(handle, vgg)
    else:
        vgg.save_weights(path)
    loss = L.PConvLoss(vgg_weights=path)
    assert loss.get_config()["vgg_weights"] == str(path)
    image = np.random.default_rng(0).uniform(-100, 100, (1, 32, 32, 3)).astype(np.float32)
    expected = vgg.get_layer("block3_pool").output
    expected = keras.Model(vgg.input, expected)(image)
    np.testing.assert_allclose(loss.vgg(image)[2], expected, rtol=1e-5, atol=1e-4)


def test_missing_or_unreadable_weights_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        L.PConvLoss(vgg_weights=tmp_path / "missing.h5")
    broken = tmp_path / "broken.h5"
    broken.write_text("not hdf5")
    with pytest.raises(ValueError, match="broken.h5"):
        L.PConvLoss(vgg_weights=str(broken))


def test_offline_imagenet_weights_give_a_clear_error(monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("URL fetch failure: no network")

    monkeypatch.setattr(keras.applications, "VGG16", offline)
    with pytest.raises(RuntimeError, match="vgg_weights='/path/to/.*vgg_weights=None"):
        L.PConvLoss()


# --------------------------------------------------------------------------- HoleEdgeL2


def _hole_edge_reference(y, p, hole, gradient_weight):
    """Each image's hole MSE plus its gradient MSE over the neighbour pairs touching the
    hole, pair by pair in plain loops."""
    values = []
    for image, prediction, mask in zip(y, p, hole):
        error = prediction - image
        height, width, channels = error.shape
        inside = [error[i, j, c] ** 2 for i in range(height) for j in range(width)
                  for c in range(channels) if mask[i, j, 0]]
        pairs = []
        for i in range(height):
            for j in range(width):
                for di, dj in ((0, 1), (1, 0)):
                    k, m = i + di, j + dj
                    if k < height and m < width and (mask[i, j, 0] or mask[k, m, 0]):
                        pairs += [(error[k, m, c] - error[i, j, c]) ** 2
                                  for c in range(channels)]
        values.append((np.mean(inside) if inside else 0.0)
                      + gradient_weight * (np.mean(pairs) if pairs else 0.0))
    return np.array(values)


@pytest.mark.parametrize("gradient_weight", [0.0, 1.0, 2.5])
def test_hole_edge_loss_matches_a_pair_by_pair_reference(gradient_weight, rng):
    y = rng.uniform(size=(3, 5, 6, 3)).astype(np.float32)
    p = rng.uniform(size=y.shape).astype(np.float32)
    hole = (rng.uniform(size=(3, 5, 6, 1)) > 0.6).astype(np.float32)
    hole[2] = 0  # an image without hole adds 0
    loss = L.HoleEdgeL2(gradient_weight=gradient_weight, reduction=None)
    expected = _hole_edge_reference(y, p, hole, gradient_weight)
    np.testing.assert_allclose(loss(y, p, sample_weight=hole), expected, rtol=1e-5)
    assert expected[2] == 0 and expected[0] > 0


def test_hole_edge_loss_without_gradient_term_is_the_hole_mse(rng):
    y = rng.uniform(size=(2, 8, 8, 3)).astype(np.float32)
    p = rng.uniform(size=y.shape).astype(np.float32)
    hole = (rng.uniform(size=(2, 8, 8, 1)) > 0.5).astype(np.float32)
    plain = L.MaskedL2(hole_weight=1.0, valid_weight=0.0, normalize="region")
    assert float(L.HoleEdgeL2(0.0)(y, p, sample_weight=hole)) == \
        pytest.approx(float(plain(y, p, sample_weight=hole)), rel=1e-6)


def test_hole_edge_loss_charges_a_seam_that_the_hole_mse_misses():
    """A fill one step too bright everywhere in the hole and a fill with the same errors in
    a checkerboard have the same hole MSE; the smooth offset only breaks the hole's border,
    the checkerboard every pair inside it too."""
    y = np.zeros((1, 6, 6, 1), np.float32)
    hole = np.zeros_like(y)
    hole[0, 2:4, 2:4] = 1
    offset = y + 0.1 * hole
    checker = y + 0.1 * hole * (np.indices((6, 6)).sum(0) % 2 * 2 - 1)[None, ..., None]
    loss = L.HoleEdgeL2(gradient_weight=1.0)
    mse = L.MaskedL2(1.0, 0.0, normalize="region")
    assert float(mse(y, offset, sample_weight=hole)) == pytest.approx(
        float(mse(y, checker, sample_weight=hole)))
    # offset: the 8 border pairs step by 0.1, the 4 inner pairs not at all (12 pairs touch)
    assert float(loss(y, offset, sample_weight=hole)) == pytest.approx(0.01 + 8 * 0.01 / 12)
    assert float(loss(y, checker, sample_weight=hole)) == \
        pytest.approx(0.01 + (8 * 0.01 + 4 * 0.04) / 12)


def test_hole_edge_mse_is_a_config_loss_fed_the_mask():
    from inpaint_tf.configs import LOSSES, load_config
    from inpaint_tf.training.building import _loss, uses_mask_weights
    config = load_config("experiments/photo_probes/v11_edges.toml")
    assert config.training.loss == "hole_edge_mse" and "hole_edge_mse" in LOSSES
    assert isinstance(_loss(config), L.HoleEdgeL2) and uses_mask_weights(config)


# --------------------------------------------------------------------------- Keras contracts


@pytest.mark.parametrize("make", [lambda: L.MaskedL1(3.0, 0.5, normalize="region"),
                                  lambda: L.MaskedL2(reduction="sum", name="l2"),
                                  lambda: L.HoleEdgeL2(gradient_weight=0.5),
                                  lambda: L.PConvLoss(vgg_weights=None, style_weight=100)])
def test_config_round_trip_and_registered_name(make):
    loss = make()
    check_config_round_trip(loss)
    restored = keras.losses.deserialize(keras.losses.serialize(loss))  # no custom_objects
    assert type(restored) is type(loss) and restored.get_config() == loss.get_config()


@pytest.mark.parametrize("make", [
    lambda: L.MaskedL1(hole_weight=6.0),
    lambda: L.MaskedL2(normalize="region"),
    lambda: L.HoleEdgeL2(),
    lambda: L.PConvLoss(vgg_weights=None),
])
def test_mixed_bfloat16_computes_in_float32(make, rng):
    y = rng.uniform(size=(2, 8, 8, 3)).astype(np.float32)
    p = rng.uniform(size=y.shape).astype(np.float32)
    hole = (rng.uniform(size=(2, 8, 8, 1)) > 0.5).astype(np.float32)
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    keras.utils.set_random_seed(0)
    loss = make()
    low = [keras.ops.cast(a, "bfloat16") for a in (y, p, hole)]
    value = loss(low[0], low[1], sample_weight=low[2])
    assert keras.backend.standardize_dtype(value.dtype) == "float32"
    # The same bfloat16-rounded values given as float32: the same float32 result.
    rounded = [np.asarray(keras.ops.cast(a, "float32")) for a in low]
    assert float(value) == pytest.approx(float(loss(*rounded[:2], sample_weight=rounded[2])),
                                         rel=1e-6)


def _tiny_model():
    image = keras.Input((16, 16, 3), name="image")
    mask = keras.Input((16, 16, 1), name="mask")
    x = keras.layers.Concatenate()([image, mask])
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    out = keras.layers.Conv2D(3, 3, padding="same", activation="sigmoid", dtype="float32")(x)
    return keras.Model({"image": image, "mask": mask}, out)


@pytest.mark.parametrize("make_loss", [lambda: L.MaskedL1(hole_weight=6.0),
                                       lambda: L.PConvLoss(vgg_weights=None)],
                         ids=["masked_l1", "pconv"])
def test_fit_save_and_reload(make_loss, tmp_path, request):
    keras.utils.set_random_seed(0)
    split = synthetic_split(32, 4, 4, size=16)
    model = _tiny_model()
    weight_count = len(model.weights)
    model.compile(keras.optimizers.Adam(3e-3), loss=make_loss())
    dataset = make_dataset(split.train.images, "irregular", batch_size=8,
                           mask_as_sample_weight=True)
    history = model.fit(dataset, epochs=4, steps_per_epoch=4, verbose=0,
                        shuffle=False).history["loss"]
    assert np.all(np.isfinite(history))
    if "masked_l1" in request.node.name:
        assert history[-1] < 0.9 * history[0]
    assert len(model.weights) == weight_count  # the VGG stays in the loss, not the model
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras", compile=True)
    assert type(reloaded.loss) is type(model.loss)
    assert reloaded.loss.get_config() == model.loss.get_config()
    if "masked_l1" in request.node.name:  # a random VGG is not restored; this loss is
        inputs, images, masks = next(iter(dataset))
        evaluated = [m.evaluate(inputs, images, sample_weight=masks, verbose=0)
                     for m in (model, reloaded)]
        assert evaluated[1] == pytest.approx(evaluated[0], rel=1e-6)


def test_mirrored_strategy_reduces_over_the_global_batch_once():
    script = Path(__file__).with_name("_mirrored_loss_check.py")
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            cwd=root, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    for name, (single, mirrored) in report["direct"].items():
        assert mirrored == pytest.approx(single, rel=1e-6), name
    for name, fit in report["fit"].items():
        np.testing.assert_allclose(fit["mirrored"], fit["single"], rtol=1e-5, err_msg=name)
        assert fit["update_difference"] < 1e-4, name
