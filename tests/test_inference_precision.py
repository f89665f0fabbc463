"""A released or trained network rebuilt to compute in mixed precision: the same weights,
bfloat16 (CPU) arithmetic, float32 output with the known pixels untouched, and refusals
where no builder is known."""

import json

import keras
import numpy as np
import pytest

from inpaint_tf.configs import config_from_dict, save_config
from inpaint_tf.models import build_unet_autoencoder
from inpaint_tf.presets import released as R
from inpaint_tf.presets.loading import load_inference_model
from inpaint_tf.training.precision import policy_for

OPTIONS = {"filters": [4, 8], "bottleneck_filters": 8, "mask_as_input": True,
           "composite_output": True}
CONFIG = {"name": "tiny_precision", "model": {"kind": "unet_autoencoder", "options": OPTIONS},
          "data": {"masks": "irregular", "fill_value": 0.0}}


@pytest.fixture(scope="module")
def trained():
    """A float32 network with weights away from their initial values, and an input."""
    keras.utils.set_random_seed(3)
    network = build_unet_autoencoder((None, None, 3), **OPTIONS, fill_value=0.0)
    rng = np.random.default_rng(3)
    for weight in network.weights:
        if weight.path.endswith(("kernel", "bias")):
            weight.assign(rng.normal(0, 0.2, weight.shape))
    image = rng.random((2, 16, 16, 3), dtype=np.float32)
    mask = np.zeros((2, 16, 16, 1), np.float32)
    mask[:, 4:11, 3:9] = 1.0
    return network, image, mask


def _outputs(network, image, mask):
    return np.asarray(network({"image": image, "mask": mask}, training=False))


def _assert_mixed_copy_of(mixed, reference, image, mask):
    compute = keras.mixed_precision.Policy(policy_for("mixed")).compute_dtype
    dtypes = {layer.name: layer.compute_dtype for layer in mixed.layers}
    assert (dtypes["encoder_stage1_conv_a"], dtypes["keep_known"]) == (compute, "float32")
    for ours, theirs in zip(mixed.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    got, expected = _outputs(mixed, image, mask), _outputs(reference, image, mask)
    assert got.dtype == np.float32
    known = np.broadcast_to(mask == 0, got.shape)
    np.testing.assert_array_equal(got[known], image[known])  # composited in float32
    difference = np.abs(got - expected)[~known]
    assert 0 < difference.max() < 0.05  # computed in a shorter float, close to float32's


def test_a_released_model_is_rebuilt_in_mixed_precision_with_its_weights(trained, tmp_path):
    network, image, mask = trained
    manifest = {"builder": "build_unet_autoencoder", "options": {**OPTIONS, "fill_value": 0.0},
                "mask_kinds": [], "fill_value": 0.0, "config": {}}
    R.write_release(network, "tiny", manifest, tmp_path)
    as_released = R.pretrained("tiny", tmp_path)
    assert all(layer.compute_dtype == "float32" for layer in as_released.layers)
    mixed = R.pretrained("tiny", tmp_path, precision="mixed")
    _assert_mixed_copy_of(mixed, as_released, image, mask)
    with pytest.raises(ValueError, match="precision"):
        R.pretrained("tiny", tmp_path, precision="half")


def test_a_run_folder_is_rebuilt_from_its_config(trained, tmp_path):
    network, image, mask = trained
    run = tmp_path / "run"
    run.mkdir()
    save_config(config_from_dict(json.loads(json.dumps(CONFIG))), run / "config.toml")
    network.save(run / "model.keras")
    as_saved = load_inference_model(run)
    np.testing.assert_array_equal(_outputs(as_saved, image, mask),
                                  _outputs(network, image, mask))
    _assert_mixed_copy_of(load_inference_model(run, "mixed"), network, image, mask)
    back = load_inference_model(run, "float32")
    np.testing.assert_allclose(_outputs(back, image, mask), _outputs(network, image, mask),
                               atol=1e-6)


def test_a_bare_model_file_keeps_its_precision(trained, tmp_path):
    network, _, _ = trained
    network.save(tmp_path / "model.keras")
    with pytest.raises(ValueError, match="bare model file"):
        load_inference_model(tmp_path / "model.keras", "mixed")
    with pytest.raises(ValueError, match="precision"):
        load_inference_model(tmp_path, "bfloat16")


def test_the_cli_passes_the_precision_and_the_methods_reused_only(trained, tmp_path,
                                                                  monkeypatch):
    from inpaint_tf import cli
    from inpaint_tf.evaluation import runs
    from inpaint_tf.presets import loading, releasing

    network, image, mask = trained
    seen = []

    def loaded(reference, precision=None):
        seen.append(("load", precision))
        return network

    def evaluated(reference, sources, **options):
        seen.append(("photos", options["precision"], options["reuse_only"]))
        return [{"masks": "blobs", "name": "model", "n": 1, "hole_share": 0.1,
                 "hole_psnr": 20.0, "hole_ssim": 0.5, "hole_mae": 0.1,
                 "seconds_per_photo": 0.1}]

    def released(run, name, **options):
        seen.append(("release", options["baselines"], options["reuse_only"]))
        return tmp_path / "r.json"

    monkeypatch.setattr(loading, "load_inference_model", loaded)
    monkeypatch.setattr(runs, "evaluate_run_on_photos", evaluated)
    monkeypatch.setattr(releasing, "release_run", released)
    import cv2

    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((16, 16, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "m.png"), np.pad(np.full((4, 4), 255, np.uint8), 6))
    assert cli.main(["inpaint", "--model", "x", "--image", str(tmp_path / "a.png"), "--mask",
                     str(tmp_path / "m.png"), "--out", str(tmp_path / "o.png"),
                     "--precision", "mixed"]) == 0
    assert cli.main(["evaluate", "x", "--photos", str(tmp_path), "--precision", "mixed",
                     "--reuse-only", "fsr_best", "--classical-scores",
                     str(tmp_path / "s.json")]) == 0
    assert cli.main(["release", "run", "--photos", str(tmp_path), "--baselines",
                     "telea,fsr_best", "--reuse-only", "fsr_best"]) == 0
    assert cli.main(["evaluate", "x", "--reuse-only", "fsr_best"]) == 2
    with pytest.raises(SystemExit, match="2"):
        cli.main(["inpaint", "--model", "x", "--image", "a.png", "--mask", "m.png",
                  "--out", "o.png", "--precision", "half"])
    assert seen == [("load", "mixed"), ("photos", "mixed", "fsr_best"),
                    ("release", ("telea", "fsr_best"), "fsr_best")]
