"""Shared test set-up: quiet TensorFlow, a fresh dtype policy per test, tiny data."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _float32_policy():
    """Every test starts and ends under float32, whatever it switched to."""
    keras.mixed_precision.set_global_policy("float32")
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def tiny_images(rng):
    """Smooth synthetic RGB images (uint8, 16 x 32 x 32 x 3): gradients plus blobs."""
    y, x = np.mgrid[0:32, 0:32] / 31.0
    images = []
    for _ in range(16):
        a, b, c = rng.uniform(0.2, 1.0, 3)
        cy, cx = rng.uniform(0.2, 0.8, 2)
        blob = np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / 0.05)
        image = np.stack([a * x, b * y, c * blob], axis=-1)
        images.append(np.round(255 * np.clip(image, 0, 1)))
    return np.array(images, np.uint8)


@pytest.fixture
def model_input_shapes(monkeypatch):
    """The shapes of the images `inpaint` hands its model, call by call: the predictor
    of `inpaint_tf.inference.inpainting` wrapped, for the test, to record them."""
    from inpaint_tf.inference import inpainting

    shapes = []
    original = inpainting._predictor

    def predictor(network):
        predict = original(network)
        return lambda image, mask: shapes.append(image.shape) or predict(image, mask)

    monkeypatch.setattr(inpainting, "_predictor", predictor)
    return shapes

def build_tiny_inpainting_model(downsampling: int = 2) -> keras.Model:
    """A minimal model with the library's contract ({"image", "mask"} -> image in [0, 1]),
    downsampling by `downsampling` once, for tests of code that takes any such model."""
    image = keras.Input((None, None, 3), name="image")
    mask = keras.Input((None, None, 1), name="mask")
    filled = keras.layers.Lambda(lambda t: t[0] * (1.0 - t[1]), name="fill_holes")([image, mask])
    x = keras.layers.Concatenate()([filled, mask])
    x = keras.layers.Conv2D(8, 3, strides=downsampling, padding="same", activation="relu")(x)
    x = keras.layers.UpSampling2D(downsampling)(x)
    output = keras.layers.Conv2D(3, 3, padding="same", activation="sigmoid", dtype="float32")(x)
    return keras.Model({"image": image, "mask": mask}, output, name="tiny")


@pytest.fixture
def tiny_model():
    keras.utils.set_random_seed(0)
    return build_tiny_inpainting_model()


def inpainting_batch(rng, n: int = 2, size: int = 16):
    """Random images with a box hole: ({"image", "mask"}, images) for model tests."""
    images = rng.uniform(size=(n, size, size, 3)).astype(np.float32)
    masks = np.zeros((n, size, size, 1), np.float32)
    masks[:, 3:9, 5:11] = 1
    return {"image": images, "mask": masks}, images


def conv_params(kernel: int, c_in: int, c_out: int) -> int:
    """Parameters of a (transposed) convolution with bias: the closed form."""
    return kernel * kernel * c_in * c_out + c_out
