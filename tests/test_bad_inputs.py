"""The bad-input matrix: every public entry point that takes data, through every class
of bad input, each with its documented outcome.

An outcome is either `Raises` (an error whose message names the argument and the
problem) or `Gives` (a documented conversion, checked against an independent
expectation). No case may return NaN or a silently wrong shape: every `Gives`
result is checked for both unless its check says otherwise. The CLI's cases
(inpaint, train, evaluate, export, report) are in test_cli_commands.py; config
files in test_experiments.py and here.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable

import cv2
import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import build_tiny_inpainting_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inpaint_tf import data as D
from inpaint_tf import masks as M
from inpaint_tf import metrics
from inpaint_tf.configs import load_config
from inpaint_tf.evaluation import protocols as E
from inpaint_tf.export.formats import export_saved_model
from inpaint_tf.inference.inpainting import MostlyHoleWarning, inpaint
from inpaint_tf.layers.partial_conv2d import PartialConv2D
from inpaint_tf.models import (
    build_glcic_discriminator,
    build_glcic_generator,
    build_pconv_unet,
    build_unet_autoencoder,
)
from inpaint_tf.training.loop import build_model

N = 4
IMAGES = np.random.default_rng(0).uniform(size=(N, 32, 32, 3)).astype(np.float32)
UINT8 = np.round(IMAGES * 255).astype(np.uint8)
MASKS = M.generate_masks("random_box", N, seed=0).astype(np.float32)  # 1 = hole
NO_HOLE = np.zeros_like(MASKS)
ALL_HOLE = np.ones_like(MASKS)


@dataclasses.dataclass
class Raises:
    """The call raises `error` with a message matching `match` (a regex)."""

    error: type
    match: str


@dataclasses.dataclass
class Gives:
    """The call returns; `check(result, env)` asserts the documented conversion."""

    check: Callable
    finite: bool = True  # also assert: no NaN or Inf anywhere in the result


class Env:
    """Files and models the cases need, made fresh in each test's tmp_path."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self._model = None

    @property
    def model(self):
        if self._model is None:
            keras.utils.set_random_seed(0)
            self._model = build_tiny_inpainting_model(4)
        return self._model

    def bytes(self, name: str, content: bytes):
        path = self.tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return path

    def npz(self, name: str, **arrays):
        path = self.tmp / name
        np.savez(path, **arrays)
        return path

    def cifar(self, **overrides):
        arrays = {"x_train": np.resize(UINT8, (12, 32, 32, 3)), "y_train": np.arange(12) % 10,
                  "x_test": UINT8, "y_test": np.arange(N)}
        return self.npz("cifar.npz", **{**arrays, **overrides})

    def image(self, name: str, rgb: np.ndarray):
        """Writes an image file; 3- and 4-channel arrays are RGB(A), as the library reads."""
        path = self.tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        pixels = rgb
        if rgb.ndim == 3 and rgb.shape[2] == 3:
            pixels = rgb[:, :, ::-1]
        elif rgb.ndim == 3 and rgb.shape[2] == 4:
            pixels = rgb[:, :, [2, 1, 0, 3]]
        assert cv2.imwrite(str(path), pixels)
        return path

    def folder(self, name: str, files: dict):
        root = self.tmp / name
        root.mkdir(parents=True, exist_ok=True)
        for file, content in files.items():
            if isinstance(content, bytes):
                self.bytes(f"{name}/{file}", content)
            else:
                self.image(f"{name}/{file}", content)
        return root


@pytest.fixture
def env(tmp_path):
    return Env(tmp_path)


CASES = []


def case(entry: str, bad: str, call: Callable, outcome):
    CASES.append(pytest.param(entry, bad, call, outcome, id=f"{entry}: {bad}"))


def _pixels(height=6, width=5, channels=3, seed=1):
    shape = (height, width, channels) if channels else (height, width)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


# --------------------------------------------------------------------------- load_cifar10

CIFAR_SHAPE = r"x_train must be uint8 of shape \(N, 32, 32, 3\)"


def _cifar(**overrides):
    return lambda env: D.load_cifar10(env.cifar(**overrides), validation_size=4)


case("load_cifar10", "wrong rank", _cifar(x_train=UINT8[..., 0]), Raises(ValueError, CIFAR_SHAPE))
case("load_cifar10", "grayscale", _cifar(x_train=UINT8[..., :1]), Raises(ValueError, CIFAR_SHAPE))
case("load_cifar10", "RGBA", _cifar(x_train=np.concatenate([UINT8, UINT8[..., :1]], -1)),
     Raises(ValueError, CIFAR_SHAPE + r".*shape=\(4, 32, 32, 4\)"))
case("load_cifar10", "not 32x32", _cifar(x_train=UINT8[:, :30, :30]),
     Raises(ValueError, CIFAR_SHAPE))
case("load_cifar10", "float pixels", _cifar(x_train=IMAGES),
     Raises(ValueError, CIFAR_SHAPE + ".*dtype=float32"))
case("load_cifar10", "NaN pixels", _cifar(x_train=IMAGES * np.nan),
     Raises(ValueError, CIFAR_SHAPE + ".*dtype=float32"))
case("load_cifar10", "labels do not match", _cifar(y_train=np.arange(3)),
     Raises(ValueError, "x_train has 12 images but y_train has 3 labels"))
case("load_cifar10", "arrays missing", lambda env: D.load_cifar10(env.npz("c.npz", x_train=UINT8)),
     Raises(ValueError, r"lacks the arrays \['x_test', 'y_test', 'y_train'\]"))
for _bad, _content in (("empty file", b""), ("corrupt file", b"not an archive at all"),
                       ("truncated zip", b"PK\x03\x04\x14\x00 cut short")):
    case("load_cifar10", _bad, lambda env, c=_content: D.load_cifar10(env.bytes("c.npz", c)),
         Raises(ValueError, r"Cannot read .*c\.npz as an \.npz file: empty, truncated"))
case("load_cifar10", "empty folder", lambda env: D.load_cifar10(env.folder("none", {})),
     Raises(ValueError, "Unknown CIFAR-10 layout in .*none"))
case("load_cifar10", "missing path", lambda env: D.load_cifar10(env.tmp / "nowhere"),
     Raises(FileNotFoundError, "CIFAR-10 source not found"))
case("load_cifar10", "not an .npz file",
     lambda env: D.load_cifar10(env.bytes("cifar.txt", b"x")),
     Raises(ValueError, "Unknown CIFAR-10 file"))
case("load_cifar10", "validation_size too large",
     lambda env: D.load_cifar10(env.cifar(), validation_size=12),
     Raises(ValueError, "not more than validation_size=12"))

# --------------------------------------------------------------------------- load_image_folder


def _folder(files: dict, **kwargs):
    kwargs.setdefault("size", 4)
    kwargs.setdefault("fractions", (1, 0, 0))
    return lambda env: D.load_image_folder(env.folder("photos", files), **kwargs)


def _expect_train_images(expected):
    def check(split, env):
        np.testing.assert_array_equal(split.train.images, expected)
    return check


_RGB = _pixels(4, 4, 3)
case("load_image_folder", "empty folder", _folder({}), Raises(ValueError, "No image files"))
case("load_image_folder", "no image files", _folder({"notes.txt": b"hello"}),
     Raises(ValueError, r"No image files \(.png"))
case("load_image_folder", "corrupt file", _folder({"a.png": _RGB, "bad.png": b"\x89PNG xx"}),
     Raises(ValueError, r"Cannot read image file .*bad\.png: empty, corrupt"))
case("load_image_folder", "empty file", _folder({"a.png": _RGB, "empty.jpg": b""}),
     Raises(ValueError, r"Cannot read image file .*empty\.jpg"))


def _only_unreadable(env):
    with pytest.warns(UserWarning, match="Skipping unreadable image file"):
        D.load_image_folder(env.folder("photos", {"x.png": b"", "y.png": b"junk"}), size=4,
                            on_error="skip")


case("load_image_folder", "only unreadable files, skipped", _only_unreadable,
     Raises(ValueError, "None of the 2 image files"))


def _skip_corrupt(env):
    with pytest.warns(UserWarning, match="bad.png"):
        return D.load_image_folder(env.folder("photos", {"a.png": _RGB, "bad.png": b"xx"}),
                                   size=4, fractions=(1, 0, 0), on_error="skip")


case("load_image_folder", "corrupt file, on_error='skip'", _skip_corrupt,
     Gives(_expect_train_images(_RGB[None])))
case("load_image_folder", "grayscale file (converted to RGB)",
     _folder({"g.png": _pixels(4, 4, 0)}),
     Gives(_expect_train_images(np.repeat(_pixels(4, 4, 0)[None, ..., None], 3, -1))))
case("load_image_folder", "RGBA file (alpha dropped)",
     _folder({"rgba.png": np.dstack([_RGB, np.arange(16, dtype=np.uint8).reshape(4, 4)])}),
     Gives(_expect_train_images(_RGB[None])))
case("load_image_folder", "16-bit file (reduced to 8 bits)",
     _folder({"deep.png": _RGB.astype(np.uint16) * 257}),
     Gives(_expect_train_images(_RGB[None])))  # 257 v >> 8 == v
for _size in ((32,), (32, 32, 3), 0, 32.0, "32", (8, -1)):
    case("load_image_folder", f"size={_size!r}", _folder({"a.png": _RGB}, size=_size),
         Raises(ValueError, "`size` must be a positive int or a pair"))
case("load_image_folder", "a file, not a folder",
     lambda env: D.load_image_folder(env.image("a.png", _RGB), size=4),
     Raises(ValueError, "Expected a folder of images"))
case("load_image_folder", "missing folder",
     lambda env: D.load_image_folder(env.tmp / "nowhere", size=4),
     Raises(FileNotFoundError, "Image folder not found"))

# --------------------------------------------------------------------------- mask functions

for _entry, _call in (("generate_masks", M.generate_masks), ("eval_masks", M.eval_masks)):
    case(_entry, "unknown kind", lambda env, f=_call: f("circles", 2),
         Raises(ValueError, "Unknown mask kind. Expected one of"))
    case(_entry, "n=0", lambda env, f=_call: f("irregular", 0),
         Raises(ValueError, "`n` must be a positive integer. Received: n=0"))
    case(_entry, "smaller than 8x8", lambda env, f=_call: f("irregular", 2, height=4, width=4),
         Raises(ValueError, "at least 8x8 pixels. Received: 4x4"))
    case(_entry, "float height", lambda env, f=_call: f("irregular", 2, height=32.0),
         Raises(ValueError, "`height` must be a positive integer"))

case("load_mask_image", "missing file", lambda env: M.load_mask_image(env.tmp / "no.png"),
     Raises(FileNotFoundError, "Mask image not found"))
case("load_mask_image", "empty file", lambda env: M.load_mask_image(env.bytes("m.png", b"")),
     Raises(ValueError, r"Cannot read mask image .*m\.png"))
case("load_mask_image", "corrupt file",
     lambda env: M.load_mask_image(env.bytes("m.png", b"\x89PNG\r\n junk")),
     Raises(ValueError, "not an image file or corrupt"))
case("load_mask_image", "size differs from the image",
     lambda env: M.load_mask_image(env.image("m.png", _pixels(6, 5, 0)), size=(5, 6)),
     Raises(ValueError, "is 6x5 but the image is 5x6; they must have the same size"))
_GREYS = np.array([[0, 1, 7], [128, 0, 255]], np.uint8)
case("load_mask_image", "grey levels (any non-zero is a hole)",
     lambda env: M.load_mask_image(env.image("m.png", _GREYS)),
     Gives(lambda mask, env: np.testing.assert_array_equal(mask, (_GREYS > 0)[..., None])))
_RGBA_MASK = np.zeros((2, 3, 4), np.uint8)
_RGBA_MASK[0, 0] = (0, 0, 0, 255)  # opaque black: known
_RGBA_MASK[0, 1] = (0, 9, 0, 0)  # transparent green: a hole (alpha is ignored)
case("load_mask_image", "RGBA (alpha ignored)",
     lambda env: M.load_mask_image(env.image("m.png", _RGBA_MASK)),
     Gives(lambda mask, env: np.testing.assert_array_equal(
         mask[..., 0], [[0, 1, 0], [0, 0, 0]])))
case("load_mask_image", "16-bit (any non-zero is a hole)",
     lambda env: M.load_mask_image(env.image("m.png", _GREYS.astype(np.uint16) * 100)),
     Gives(lambda mask, env: np.testing.assert_array_equal(mask, (_GREYS > 0)[..., None])))
case("load_mask_image", "no hole (all zero)",
     lambda env: M.load_mask_image(env.image("m.png", np.zeros((3, 4), np.uint8))),
     Gives(lambda mask, env: np.testing.assert_array_equal(mask, np.zeros((3, 4, 1)))))


def _load_masks(**arrays):
    return lambda env: M.load_masks(env.npz("set.npz", **arrays))


case("load_masks", "missing file", lambda env: M.load_masks(env.tmp / "none.npz"),
     Raises(FileNotFoundError, "Mask file not found"))
case("load_masks", "empty file", lambda env: M.load_masks(env.bytes("set.npz", b"")),
     Raises(ValueError, r"Cannot read masks from .*set\.npz"))
case("load_masks", "corrupt file", lambda env: M.load_masks(env.bytes("set.npz", b"junk")),
     Raises(ValueError, r"Cannot read masks from .*set\.npz"))
case("load_masks", "no masks array", _load_masks(other=MASKS),
     Raises(ValueError, r"Cannot read masks from .*set\.npz: it holds no `masks` array"))
case("load_masks", "truncated zip", lambda env: M.load_masks(env.bytes("set.npz", b"PK\x03\x04")),
     Raises(ValueError, r"Cannot read masks from .*set\.npz: empty, truncated"))
case("load_masks", "non-binary", _load_masks(masks=MASKS * 0.5),
     Raises(ValueError, r"must be binary \(0 = known, 1 = hole\)"))
case("load_masks", "NaN", _load_masks(masks=MASKS * np.nan),
     Raises(ValueError, "contains NaN or Inf values"))
case("load_masks", "wrong rank", _load_masks(masks=MASKS[0, ..., 0]),
     Raises(ValueError, r"must have shape \(N, H, W\) or \(N, H, W, 1\)"))
case("load_masks", "3 channels", _load_masks(masks=np.repeat(MASKS, 3, -1)),
     Raises(ValueError, r"must have shape \(N, H, W\) or \(N, H, W, 1\)"))
case("load_masks", "bool masks (stored as uint8 0/1)", _load_masks(masks=MASKS > 0),
     Gives(lambda masks, env: (np.testing.assert_array_equal(masks, MASKS),
                               _assert_dtype(masks, np.uint8))))


def _save_and_load(masks):
    def call(env):
        M.save_masks(env.tmp / "set.npz", masks)
        return M.load_masks(env.tmp / "set.npz")
    return call


case("save_masks", "non-binary", _save_and_load(MASKS * 0.5),
     Raises(ValueError, "`masks` must be binary"))
case("save_masks", "NaN", _save_and_load(MASKS * np.nan), Raises(ValueError, "NaN or Inf"))
case("save_masks", "wrong rank", _save_and_load(MASKS[0, ..., 0]),
     Raises(ValueError, r"`masks` must have shape \(N, H, W\)"))
case("save_masks", "(N, H, W) float masks (a channel axis added, uint8)",
     _save_and_load(MASKS[..., 0]),
     Gives(lambda masks, env: (np.testing.assert_array_equal(masks, MASKS),
                               _assert_dtype(masks, np.uint8))))
case("mask_checksum", "non-binary", lambda env: M.mask_checksum(MASKS * 2),
     Raises(ValueError, "`masks` must be binary"))


def _assert_dtype(array, dtype):
    assert array.dtype == dtype


# --------------------------------------------------------------------------- PartialConv2D

_FEATURES = np.random.default_rng(2).normal(size=(2, 8, 8, 3)).astype(np.float32)
_VALID = 1.0 - M.generate_masks("random_box", 2, seed=2, height=8, width=8).astype(np.float32)


def _pconv(features, valid, **kwargs):
    """Calls a fresh layer; returns [output, updated mask, kernel, bias]."""
    def call(env):
        layer = PartialConv2D(4, 3, **{"activation": "sigmoid", **kwargs})
        outputs = [np.asarray(t) for t in layer([features, valid])]
        return outputs + [np.asarray(layer.kernel), np.asarray(layer.bias)]
    return call


case("PartialConv2D", "wrong rank", _pconv(_FEATURES[0], _VALID[0]),
     Raises(ValueError, r"must both have rank 4.*features.shape=\(8, 8, 3\)"))
case("PartialConv2D", "mask with 3 channels", _pconv(_FEATURES, np.repeat(_VALID, 3, -1)),
     Raises(ValueError, r"`valid_mask` must have 1 channel\(s\)"))
case("PartialConv2D", "image/mask size mismatch", _pconv(_FEATURES, _VALID[:, :6]),
     Raises(ValueError, "must agree in batch and spatial size"))
case("PartialConv2D", "too small for 'valid' padding",
     _pconv(_FEATURES[:, :2, :2], _VALID[:, :2, :2], padding="valid"),
     Raises(ValueError, "too small for the window with padding='valid'"))


def _all_zero(outputs, env):
    out, new_valid, _, _ = outputs
    assert out.shape == (2, 8, 8, 4) and not out.any() and not new_valid.any()


def _no_hole_is_renormalised_only_at_the_border(outputs, env):
    out, new_valid, kernel, bias = outputs
    assert new_valid.all()
    conv = tf.nn.conv2d(_FEATURES, kernel, 1, "SAME") + bias
    np.testing.assert_allclose(out[:, 1:-1, 1:-1], tf.sigmoid(conv)[:, 1:-1, 1:-1], atol=1e-6)


case("PartialConv2D", "all hole (exact zeros, not NaN)",
     _pconv(_FEATURES, np.zeros_like(_VALID)), Gives(_all_zero))
case("PartialConv2D", "no hole (a plain convolution inside)",
     _pconv(_FEATURES, np.ones_like(_VALID)), Gives(_no_hole_is_renormalised_only_at_the_border))
case("PartialConv2D", "filters=0", lambda env: PartialConv2D(0, 3),
     Raises(ValueError, "Received: filters=0"))

# --------------------------------------------------------------------------- model builders

_MULTIPLE = "Height and width must be multiples of {}.*Received: input_shape={}"
for _name, _build, _multiple in (
        ("build_unet_autoencoder",
         lambda shape: build_unet_autoencoder(shape, filters=(4, 8), bottleneck_filters=8), 4),
        ("build_pconv_unet", build_pconv_unet, 16),
        ("build_glcic_generator", build_glcic_generator, 4)):
    case(_name, "wrong rank", lambda env, b=_build: b((32, 32)),
         Raises(ValueError, r"`input_shape` must be \(height, width, channels\)"))
    case(_name, "grayscale", lambda env, b=_build: b((32, 32, 1)),
         Raises(ValueError, r"`input_shape` must end in 3. Received: input_shape=\(32, 32, 1\)"))
    case(_name, "RGBA", lambda env, b=_build: b((32, 32, 4)),
         Raises(ValueError, "must end in 3"))
    case(_name, f"height not a multiple of {_multiple}",
         lambda env, b=_build, m=_multiple: b((m * 2 + 2, m * 2, 3)),
         Raises(ValueError, _MULTIPLE.format(_multiple, rf"\({_multiple * 2 + 2}, ")))
case("build_pconv_unet", "unknown preset", lambda env: build_pconv_unet(preset="huge"),
     Raises(ValueError, "`preset` must be one of"))
case("build_glcic_discriminator", "no fixed size",
     lambda env: build_glcic_discriminator((None, None, 3)),
     Raises(ValueError, "Discriminators need a fixed image size"))
case("build_glcic_discriminator", "region larger than the image",
     lambda env: build_glcic_discriminator((16, 16, 3), region_size=20),
     Raises(ValueError, "`region_size` must fit in the image"))


def _tiny_config(**options):
    return load_config_from_text(
        '[model]\nkind = "unet_autoencoder"\noptions = { '
        + ", ".join(f"{k} = {v}" for k, v in options.items()) + " }\n")


def load_config_from_text(text):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.toml"
        path.write_text(text)
        return load_config(path)


case("build_model", "training images not a multiple",
     lambda env: build_model(_tiny_config(filters="[4, 8]"), (36, 30, 3)),
     Raises(ValueError, _MULTIPLE.format(4, r"\(36, 30, 3\)")))
case("build_model", "grayscale training images",
     lambda env: build_model(_tiny_config(filters="[4, 8]"), (32, 32, 1)),
     Raises(ValueError, r"must end in 3. Received: input_shape=\(32, 32, 1\)"))
case("build_model", "any size served (documented)",
     lambda env: build_model(_tiny_config(filters="[4, 8]", bottleneck_filters=8)),
     Gives(lambda model, env: _assert_equal(tuple(model.inputs[0].shape), (None,) * 3 + (3,)),
           finite=False))
for _option, _value, _expected in (("filters", "4", "a non-empty list of int"),
                                   ("filters", "[]", "a non-empty list of int"),
                                   ("filters", '["a"]', "a non-empty list of int"),
                                   ("mask_as_input", '"yes"', "bool"),
                                   ("bottleneck_filters", "16.0", "int")):
    case("build_model", f"model.options.{_option} = {_value}",
         lambda env, o=_option, v=_value: build_model(_tiny_config(**{o: v})),
         Raises(ValueError, rf"`model.options.{_option}` must be {_expected}"))
case("build_model", "unknown model option", lambda env: build_model(_tiny_config(depth=3)),
     Raises(ValueError, "Unknown option `model.options.depth`"))


def _assert_equal(a, b):
    assert a == b, (a, b)


# --------------------------------------------------------------------------- configs

for _text, _message in (
        ('[training]\nepochs = 2\nlayers = 3\n', "Unknown config key `training.layers`"),
        ('[training]\nbatch_size = "32"\n', "`training.batch_size` must be of type int"),
        ('[training]\nseed = -1\n', r"`training.seed` must be in \[0, 2\*\*32\)"),
        ('[data]\nfill_value = "white"\n', "`data.fill_value` must be of type float"),
        ('[data]\ntest_images = 0\n', "`data.test_images` must be >= 1"),
        ('[model]\noptions = 3\n', "`model.options` must be of type dict")):
    case("load_config", _text.strip().replace("\n", " "),
         lambda env, t=_text: load_config_from_text(t),
         Raises(ValueError, _message))

# --------------------------------------------------------------------------- evaluate

HOLE_KEYS = ("hole_mae", "hole_mse", "hole_psnr", "hole_ssim", "hole_dice", "hole_dice_ceiling")


def _evaluate(images=IMAGES, masks=MASKS, predict=lambda x, m: x, **kwargs):
    return lambda env: E.evaluate(predict, images, masks, **kwargs)


def _check_row(images):
    """The row equals that of the documented conversion of the images."""
    def check(row, env):
        reference = E.evaluate(lambda x, m: x, images, MASKS)
        for key in E.STUDY_COLUMNS + E.HOLE_COLUMNS:
            assert row[key] == pytest.approx(reference[key], rel=1e-6, nan_ok=True), key
    return check


def _row_is_finite(row):
    for key in E.STUDY_COLUMNS + E.HOLE_COLUMNS:
        assert math.isfinite(row[key]), key


case("evaluate", "wrong rank", _evaluate(images=IMAGES[0]),
     Raises(ValueError, r"`images` must be a batch of shape \(N, H, W, 3\). "
                        r"Received: images.shape=\(32, 32, 3\)"))
case("evaluate", "grayscale", _evaluate(images=IMAGES[..., :1]),
     Raises(ValueError, "`images` must have 3 channels"))
case("evaluate", "RGBA", _evaluate(images=np.concatenate([IMAGES, IMAGES[..., :1]], -1)),
     Raises(ValueError, r"`images` must have 3 channels.*\(4, 32, 32, 4\)"))
case("evaluate", "image/mask size mismatch", _evaluate(masks=MASKS[:, :16]),
     Raises(ValueError, r"`masks` must match the images' batch and spatial size"))
case("evaluate", "fewer masks than images", _evaluate(masks=MASKS[:2]),
     Raises(ValueError, r"`masks` must match.*Received: masks.shape=\(2, 32, 32, 1\)"))
case("evaluate", "non-binary masks", _evaluate(masks=MASKS * 0.5),
     Raises(ValueError, "`masks` must be binary"))
case("evaluate", "NaN masks", _evaluate(masks=MASKS * np.nan), Raises(ValueError, "NaN or Inf"))
case("evaluate", "NaN pixels", _evaluate(images=IMAGES * np.nan),
     Raises(ValueError, "`images` contains NaN or Inf values"))
case("evaluate", "Inf pixels", _evaluate(images=np.where(MASKS > 0, IMAGES, np.inf)),
     Raises(ValueError, "`images` contains NaN or Inf values"))
case("evaluate", "floats outside [0, 1]", _evaluate(images=IMAGES * 255),
     Raises(ValueError, r"`images` must lie in \[0, 1\] when given as floats"))
case("evaluate", "integer pixels other than uint8",
     _evaluate(images=UINT8.astype(np.int32)), Raises(ValueError, "dtype=int32"))
case("evaluate", "uint8 pixels (scaled by 1/255)", _evaluate(images=UINT8),
     Gives(_check_row(UINT8 / np.float32(255))))
case("evaluate", "round-off above 1 (clipped)", _evaluate(images=IMAGES * (1 + 1e-4)),
     Gives(_check_row(np.clip(IMAGES * (1 + 1e-4), 0, 1))))
case("evaluate", "smaller than the SSIM window", _evaluate(IMAGES[:, :8, :8], MASKS[:, :8, :8]),
     Raises(ValueError, "SSIM needs images of at least 11x11 pixels"))


def _no_hole_row(row, env):
    # By design: the hole figures are undefined (NaN), the study figures are not.
    assert all(math.isnan(row[key]) for key in HOLE_KEYS)
    assert row["study_mae"] == 0 and row["hole_share"] == 0


case("evaluate", "masks without any hole (hole figures NaN by design)",
     _evaluate(masks=NO_HOLE), Gives(_no_hole_row, finite=False))
case("evaluate", "all-hole masks",
     _evaluate(masks=ALL_HOLE, predict=lambda x, m: np.full_like(x, 0.5)),
     Gives(lambda row, env: (_row_is_finite(row), _assert_equal(row["hole_share"], 1.0),
                             _assert_equal(row["hole_mae"], row["study_mae"]))))
case("evaluate", "black images filled with black (Dice 0/0 is 1)",
     _evaluate(images=np.zeros_like(IMAGES)),
     Gives(lambda row, env: (_assert_equal(row["hole_dice"], 1.0),
                             _assert_equal(row["dice_ceiling"], 1.0),
                             _assert_equal(row["hole_psnr"], math.inf)), finite=False))
case("evaluate", "model output of another shape",
     _evaluate(predict=lambda x, m: x[:, :16]), Raises(ValueError, "must keep the image shape"))
case("evaluate", "model output with NaN",
     _evaluate(predict=lambda x, m: x * np.nan), Raises(ValueError, "returned NaN or Inf"))
case("evaluate", "predict not callable", _evaluate(predict="unet"),
     Raises(TypeError, "`predict` must be callable"))
case("evaluate", "batch_size=0", _evaluate(batch_size=0),
     Raises(ValueError, "`batch_size` must be a positive integer"))

# --------------------------------------------------------------------------- inpaint


def _inpaint(images=IMAGES, masks=MASKS, **kwargs):
    return lambda env: inpaint(env.model, images, masks, **kwargs)


def _known_pixels_kept(images, masks, shape=None):
    expected_images = images / np.float32(255) if images.dtype == np.uint8 else images

    def check(out, env):
        assert out.shape == (shape or images.shape) and out.dtype == np.float32
        hole = np.broadcast_to(np.asarray(masks).reshape(out.shape[:-1] + (1,)) > 0, out.shape)
        np.testing.assert_array_equal(out[~hole], expected_images[~hole])
        assert np.all((out >= 0) & (out <= 1))
    return check


case("inpaint", "wrong rank", _inpaint(images=IMAGES[0, ..., 0]),
     Raises(ValueError, r"`images` must be a batch of shape \(N, H, W, 3\)"))
case("inpaint", "rank 5", _inpaint(images=IMAGES[None]),
     Raises(ValueError, r"Received: images.shape=\(1, 4, 32, 32, 3\)"))
case("inpaint", "grayscale", _inpaint(images=IMAGES[..., :1]),
     Raises(ValueError, "`images` must have 3 channels"))
case("inpaint", "RGBA", _inpaint(images=np.concatenate([IMAGES, IMAGES[..., :1]], -1)),
     Raises(ValueError, "`images` must have 3 channels"))
case("inpaint", "image/mask size mismatch", _inpaint(masks=MASKS[:, :30]),
     Raises(ValueError, "`masks` must match the images' batch and spatial size"))
case("inpaint", "non-binary masks", _inpaint(masks=MASKS * 255),
     Raises(ValueError, "`masks` must be binary"))
case("inpaint", "NaN pixels", _inpaint(images=np.where(MASKS > 0, np.nan, IMAGES)),
     Raises(ValueError, "`images` contains NaN or Inf values"))
case("inpaint", "floats outside [0, 1]", _inpaint(images=IMAGES - 0.5),
     Raises(ValueError, r"must lie in \[0, 1\]"))
case("inpaint", "empty batch", _inpaint(images=IMAGES[:0], masks=MASKS[:0]),
     Raises(ValueError, "`images` is empty"))
case("inpaint", "multiple=0", _inpaint(multiple=0),
     Raises(ValueError, "`multiple` must be a positive integer"))
case("inpaint", "uint8 pixels (scaled by 1/255)", _inpaint(images=UINT8),
     Gives(_known_pixels_kept(UINT8, MASKS)))
case("inpaint", "size not a multiple (mirror-padded, cropped back)",
     _inpaint(images=IMAGES[:, :29, :7], masks=MASKS[:, :29, :7]),
     Gives(_known_pixels_kept(IMAGES[:, :29, :7], MASKS[:, :29, :7])))
case("inpaint", "one image with an (H, W) mask", _inpaint(images=IMAGES[0], masks=MASKS[0, ..., 0]),
     Gives(_known_pixels_kept(IMAGES[0], MASKS[0], shape=(32, 32, 3))))
case("inpaint", "no hole (image back bit for bit)", _inpaint(masks=NO_HOLE),
     Gives(lambda out, env: np.testing.assert_array_equal(out, IMAGES)))
def _warned(call, warning, match):
    """`call`, asserting that it warns."""
    def run(env):
        with pytest.warns(warning, match=match):
            return call(env)

    return run


case("inpaint", "all hole (the model's output, finite, and a warning)",
     _warned(_inpaint(masks=ALL_HOLE), MostlyHoleWarning, r"100\.0% of masks\[\d\] is hole"),
     Gives(lambda out, env: np.testing.assert_allclose(
         out, np.clip(env.model({"image": IMAGES, "mask": ALL_HOLE}), 0, 1), atol=1e-6)))

# --------------------------------------------------------------------------- metrics

_BLACK = np.zeros_like(IMAGES)
case("metrics.dice", "black image and output in the hole (0/0 is 1)",
     lambda env: metrics.dice(_BLACK, _BLACK, MASKS), Gives(lambda d, env: _assert_equal(d, 1.0)))
case("metrics.dice", "no hole (NaN by design: nothing scored)",
     lambda env: metrics.dice(IMAGES, IMAGES, NO_HOLE),
     Gives(lambda d, env: _assert_equal(math.isnan(d), True), finite=False))
case("metrics.mae", "no hole (NaN by design: nothing scored)",
     lambda env: metrics.mae(IMAGES, 1 - IMAGES, NO_HOLE),
     Gives(lambda d, env: _assert_equal(math.isnan(d), True), finite=False))
case("metrics.mae", "shape mismatch", lambda env: metrics.mae(IMAGES, IMAGES[:, 1:]),
     Raises(ValueError, "y_true and y_pred must have the same shape"))
case("metrics.mse", "mask of another size", lambda env: metrics.mse(IMAGES, IMAGES, MASKS[:, 1:]),
     Raises(ValueError, r"mask must have shape \(4, 32, 32, 1\)"))

# --------------------------------------------------------------------------- composite

case("composite", "(N, H, W) mask (a channel axis added)",
     lambda env: E.composite(1 - IMAGES, IMAGES, MASKS[..., 0]),
     Gives(lambda out, env: np.testing.assert_array_equal(
         out, np.where(MASKS > 0, 1 - IMAGES, IMAGES))))
case("composite", "mask of another size", lambda env: E.composite(IMAGES, IMAGES, MASKS[:, 1:]),
     Raises(ValueError, r"`mask` must have shape \(4, 32, 32, 1\)"))
case("composite", "image of another size", lambda env: E.composite(IMAGES, IMAGES[:2], MASKS),
     Raises(ValueError, r"`image` must have the shape of `prediction` \(4, 32, 32, 3\)"))
case("composite", "float64 image with float32 prediction (exact, float64)",
     lambda env: E.composite(IMAGES, IMAGES.astype(np.float64) + 1e-9, MASKS),
     Gives(lambda out, env: (_assert_dtype(out, np.float64), np.testing.assert_array_equal(
         out[np.broadcast_to(MASKS == 0, out.shape)],
         (IMAGES.astype(np.float64) + 1e-9)[np.broadcast_to(MASKS == 0, out.shape)]))))

# --------------------------------------------------------------------------- datasets


def _make_dataset(images=UINT8, **kwargs):
    kwargs.setdefault("batch_size", 2)
    return lambda env: D.make_dataset(images, "random_box", **kwargs)


def _first_batch(dataset):
    inputs, target = next(iter(dataset))
    return {"image": inputs["image"].numpy(), "mask": inputs["mask"].numpy(),
            "target": target.numpy()}


case("make_dataset", "wrong rank", _make_dataset(UINT8[0]),
     Raises(ValueError, r"`images` must be a batch of shape"))
case("make_dataset", "grayscale", _make_dataset(UINT8[..., :1]),
     Raises(ValueError, "`images` must have 3 channels"))
case("make_dataset", "NaN pixels", _make_dataset(IMAGES * np.nan), Raises(ValueError, "NaN"))
case("make_dataset", "floats outside [0, 1]", _make_dataset(IMAGES + 1),
     Raises(ValueError, r"must lie in \[0, 1\]"))
case("make_dataset", "smaller than the masks' 8x8", _make_dataset(UINT8[:, :6, :6]),
     Raises(ValueError, "`images` are too small for masks: .*at least 8x8"))
case("make_dataset", "negative seed", _make_dataset(seed=-1),
     Raises(ValueError, "`seed` must be a non-negative integer. Received: seed=-1"))
case("make_dataset", "batch larger than the images", _make_dataset(batch_size=5),
     Raises(ValueError, "batch_size=5 is larger than the 4 images given"))
case("make_dataset", "unknown mask kind", lambda env: D.make_dataset(UINT8, "hexagons"),
     Raises(ValueError, "Unknown mask kind"))
case("make_dataset", "float images (held as uint8: same batches)",
     lambda env: _first_batch(D.make_dataset(IMAGES, "random_box", batch_size=2)),
     Gives(lambda batch, env: np.testing.assert_array_equal(
         batch["target"], _first_batch(_make_dataset()(env))["target"])))
case("make_eval_dataset", "image/mask size mismatch",
     lambda env: D.make_eval_dataset(IMAGES, MASKS[:, :8]), Raises(ValueError, "must match"))
case("make_eval_dataset", "non-binary masks",
     lambda env: D.make_eval_dataset(IMAGES, MASKS + 0.5), Raises(ValueError, "must be binary"))
case("make_eval_dataset", "Inf pixels",
     lambda env: D.make_eval_dataset(np.where(MASKS > 0, np.inf, IMAGES), MASKS),
     Raises(ValueError, "NaN or Inf"))

# --------------------------------------------------------------------------- export

case("export_saved_model", "not a keras.Model",
     lambda env: export_saved_model(lambda x: x, env.tmp / "out"),
     Raises(TypeError, "`model` must be a keras.Model"))
case("export_saved_model", "multiple=0",
     lambda env: export_saved_model(env.model, env.tmp / "out", multiple=0),
     Raises(ValueError, "`multiple` must be a positive integer. Received: multiple=0"))

# --------------------------------------------------------------------------- models called directly


def _nan_in_holes(env):
    model = build_unet_autoencoder((None, None, 3), filters=(4, 8), bottleneck_filters=8)
    holed = np.where(MASKS > 0, np.nan, IMAGES).astype(np.float32)
    return np.asarray(model({"image": holed, "mask": MASKS})), np.asarray(
        model({"image": IMAGES, "mask": MASKS}))


case("build_unet_autoencoder", "NaN in the holes (the model fills them)", _nan_in_holes,
     Gives(lambda outputs, env: np.testing.assert_array_equal(*outputs)))


def _called_off_multiple(env):
    model = build_unet_autoencoder((None, None, 3), filters=(4, 8), bottleneck_filters=8)
    return model({"image": IMAGES[:, :30, :30], "mask": MASKS[:, :30, :30]})


# Not silent: TensorFlow refuses the mismatched skip connection (inpaint() pads instead).
case("build_unet_autoencoder", "called on a size that is not a multiple", _called_off_multiple,
     Raises((ValueError, tf.errors.InvalidArgumentError), "Dimension 1 in both shapes"))


@pytest.mark.parametrize("entry, bad, call, outcome", CASES)
def test_bad_input(entry, bad, call, outcome, env):
    if isinstance(outcome, Raises):
        with pytest.raises(outcome.error, match=outcome.match):
            call(env)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a documented conversion does not warn
        result = call(env)
    if outcome.finite:
        for array in _arrays(result):
            assert np.all(np.isfinite(array)), f"{entry}: {bad} returned NaN or Inf"
    outcome.check(result, env)


def _arrays(result):
    if isinstance(result, dict):
        return [np.asarray(v, np.float64) for v in result.values()
                if isinstance(v, (int, float, np.number))]
    if isinstance(result, (list, tuple)):
        return [a for item in result for a in _arrays(item)]
    if isinstance(result, D.Split):
        return [subset.images for subset in result]
    return [np.asarray(result)] if hasattr(result, "shape") else []


def test_every_public_entry_point_that_takes_data_is_in_the_matrix():
    entries = {param.values[0] for param in CASES}
    assert entries >= {
        "load_cifar10", "load_image_folder", "generate_masks", "eval_masks", "load_mask_image",
        "load_masks", "save_masks", "PartialConv2D", "build_unet_autoencoder",
        "build_pconv_unet", "build_glcic_generator", "build_model", "load_config", "evaluate",
        "inpaint", "composite", "make_dataset", "make_eval_dataset", "export_saved_model"}


# --------------------------------------------------------------------------- properties

PROPERTY = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def _images_and_masks(draw, min_size=1, max_size=12):
    n = draw(st.integers(1, 3))
    height, width = draw(st.integers(min_size, max_size)), draw(st.integers(min_size, max_size))
    seed = draw(st.integers(0, 2**16))
    hole_fraction = draw(st.sampled_from([0.0, 0.2, 0.6, 1.0]))
    rng = np.random.default_rng(seed)
    images = rng.uniform(size=(n, height, width, 3)).astype(np.float32)
    if draw(st.booleans()):
        images = np.round(images * draw(st.sampled_from([1, 4, 255]))) / 255  # flat, dark areas
        images = images.astype(np.float32)
    masks = (rng.uniform(size=(n, height, width, 1)) < hole_fraction).astype(np.float32)
    return images, masks, rng


@PROPERTY
@given(case=_images_and_masks(), wide=st.booleans(), tensors=st.booleans(),
       channel_axis=st.booleans())
def test_property_composite_keeps_known_pixels_bit_exactly(case, wide, tensors, channel_axis):
    images, masks, rng = case
    images = images.astype(np.float64) if wide and not tensors else images
    prediction = rng.uniform(size=images.shape).astype(np.float32)
    mask = masks if channel_axis else masks[..., 0]
    if tensors:
        out = E.composite(tf.constant(prediction), tf.constant(images), tf.constant(mask)).numpy()
    else:
        out = E.composite(prediction, images, mask)
    hole = np.broadcast_to(masks > 0, images.shape)
    assert out.shape == images.shape
    np.testing.assert_array_equal(out[~hole], images[~hole])
    np.testing.assert_array_equal(out[hole], prediction[hole])


@pytest.fixture(scope="module")
def model4():
    keras.utils.set_random_seed(0)
    return build_tiny_inpainting_model(4)


@PROPERTY
@given(case=_images_and_masks(max_size=40), as_uint8=st.booleans(), batch_size=st.integers(1, 3))
def test_property_inpaint_keeps_known_pixels_and_shape(model4, case, as_uint8, batch_size):
    images, masks, _ = case
    expected = images
    if as_uint8:
        images = np.round(images * 255).astype(np.uint8)
        expected = images / np.float32(255)
    out = inpaint(model4, images, masks, batch_size=batch_size)
    assert out.shape == images.shape and out.dtype == np.float32
    assert np.all(np.isfinite(out)) and np.all((out >= 0) & (out <= 1))
    known = np.broadcast_to(masks == 0, out.shape)
    np.testing.assert_array_equal(out[known], expected[known])


@PROPERTY
@given(case=_images_and_masks(min_size=11, max_size=16),
       output=st.sampled_from(["identity", "zeros", "ones", "noise"]))
def test_property_evaluate_never_nan_with_a_hole(case, output):
    images, masks, rng = case
    masks[0, rng.integers(masks.shape[1]), rng.integers(masks.shape[2])] = 1  # >= 1 hole
    outputs = {"identity": lambda x, m: x, "zeros": lambda x, m: np.zeros_like(x),
               "ones": lambda x, m: np.ones_like(x),
               "noise": lambda x, m: rng.uniform(size=x.shape)}
    row = E.evaluate(outputs[output], images, masks, batch_size=2)
    for key in E.STUDY_COLUMNS + E.HOLE_COLUMNS:
        assert not math.isnan(row[key]), key
    for key in ("study_dice", "dice_ceiling", "hole_dice", "hole_dice_ceiling"):
        assert 0 <= row[key] <= 1, key


@settings(max_examples=30, deadline=None)
@given(case=_images_and_masks())
def test_property_metrics_defined_whenever_something_is_scored(case):
    images, masks, rng = case
    prediction = np.round(rng.uniform(size=images.shape)) * rng.integers(0, 2)
    if masks.sum() == 0:
        assert math.isnan(metrics.dice(images, prediction, masks))
        return
    for function in (metrics.mae, metrics.mse, metrics.dice):
        assert math.isfinite(function(images, prediction, masks))
    assert 0 <= metrics.dice(images, prediction, masks) <= 1
    assert 0 <= metrics.dice_ceiling(images, masks) <= 1


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(M.MASK_KINDS), n=st.integers(1, 4), height=st.integers(8, 40),
       width=st.integers(8, 40), seed=st.integers(0, 2**32 - 1))
def test_property_mask_files_round_trip(tmp_path, kind, n, height, width, seed):
    masks = M.generate_masks(kind, n, seed=seed, height=height, width=width)
    M.save_masks(tmp_path / "set.npz", masks, kind=kind, seed=seed)
    loaded = M.load_masks(tmp_path / "set.npz")
    np.testing.assert_array_equal(loaded, masks)
    assert M.mask_checksum(loaded) == M.mask_checksum(masks.astype(bool))
    assert cv2.imwrite(str(tmp_path / "m.png"), masks[0, ..., 0] * 255)
    np.testing.assert_array_equal(M.load_mask_image(tmp_path / "m.png", (height, width)),
                                  masks[0])


@settings(max_examples=20, deadline=None)
@given(case=_images_and_masks(min_size=3, max_size=10), filters=st.integers(1, 3),
       kernel=st.integers(1, 3), multi=st.booleans())
def test_property_partial_conv_ignores_hole_content(case, filters, kernel, multi):
    images, masks, rng = case
    valid = np.repeat(1 - masks, 3, -1) if multi else 1 - masks
    layer = PartialConv2D(filters, kernel, multi_channel=multi, activation="relu")
    other = np.where(valid > 0, images, rng.normal(0, 1e3, images.shape)).astype(np.float32)
    first, first_valid = (np.asarray(t) for t in layer([images, valid]))
    second, second_valid = (np.asarray(t) for t in layer([other, valid]))
    assert np.all(np.isfinite(first))
    np.testing.assert_array_equal(first, second)  # holes are never read
    np.testing.assert_array_equal(first_valid, second_valid)
