"""Released models: float16 weights with a manifest, checked before use; the shipped
releases reproduce their manifests' check figures."""

import json

import numpy as np
import pytest
from conftest import inpainting_batch

from inpaint_tf._checksums import file_sha256
from inpaint_tf.models import build_unet_autoencoder
from inpaint_tf.presets import released
from inpaint_tf.presets import releasing as releases

OPTIONS = dict(filters=(4, 8), bottleneck_filters=16, mask_as_input=True,
               composite_output=True, fill_value=0.0)


def _manifest():
    return {"builder": "build_unet_autoencoder", "options": OPTIONS,
            "mask_kinds": ["irregular"], "fill_value": 0.0, "config": {}}


@pytest.fixture
def release_folder(tmp_path):
    network = build_unet_autoencoder((None, None, 3), **OPTIONS)
    released.write_release(network, "tiny", _manifest(), tmp_path)
    return tmp_path, network


def test_a_release_round_trips_through_float16(release_folder, rng):
    folder, network = release_folder
    assert released.pretrained_names(folder) == ["tiny"]
    manifest = released.pretrained_manifest("tiny", folder)
    weights = folder / "tiny.weights.npz"
    assert manifest["sha256"] == file_sha256(weights)
    assert manifest["bytes"] == weights.stat().st_size
    loaded = released.pretrained("tiny", folder)
    # Every weight is the float16 rounding of the original, widened exactly.
    for original, restored in zip(network.weights, loaded.weights, strict=True):
        expected = np.asarray(original.numpy()).astype(np.float16).astype(np.float32)
        np.testing.assert_array_equal(np.asarray(restored.numpy()), expected)
        assert restored.dtype == "float32"
    inputs, _ = inpainting_batch(rng, size=24)  # any size, not only the training one
    assert loaded(inputs).shape == (2, 24, 24, 3)


def test_weights_are_stored_as_float16(release_folder):
    folder, network = release_folder
    with np.load(folder / "tiny.weights.npz") as archive:
        assert {archive[key].dtype for key in archive.files} == {np.dtype(np.float16)}
        assert sum(archive[key].size for key in archive.files) == network.count_params()


def test_a_corrupted_weights_file_is_refused(release_folder):
    folder, _ = release_folder
    weights = folder / "tiny.weights.npz"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="SHA-256 differs"):
        released.pretrained("tiny", folder)


def test_weights_of_another_network_are_refused(release_folder):
    folder, _ = release_folder
    manifest = json.loads((folder / "tiny.json").read_text())
    manifest["options"] = dict(OPTIONS, bottleneck_filters=8)  # same names, other shapes
    (folder / "tiny.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="network needs float16"):
        released.pretrained("tiny", folder)
    manifest["options"] = dict(OPTIONS, composite_output=False, mask_as_input=False)
    manifest["options"]["filters"] = [4, 8, 16]  # another depth: other names
    (folder / "tiny.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="do not fit its network"):
        released.pretrained("tiny", folder)


def test_unknown_names_and_broken_manifests(release_folder):
    folder, _ = release_folder
    with pytest.raises(ValueError, match="No released model named 'nope'. Released: tiny"):
        released.pretrained("nope", folder)
    (folder / "tiny.json").write_text("{not json")
    with pytest.raises(ValueError, match="Cannot read the manifest"):
        released.pretrained("tiny", folder)
    assert released.pretrained_names(folder / "missing") == []
    assert not released.is_pretrained_name("runs/tiny", folder)


@pytest.mark.parametrize("name", released.pretrained_names())
def test_shipped_releases_reproduce_their_check_figures(name):
    """The shipped weights, loaded as users load them, give the manifest's figures on
    the offline check set (synthetic images, fixed masks) for every mask kind."""
    manifest = released.pretrained_manifest(name)
    assert manifest["bytes"] < 16 * 2**20
    model = released.pretrained(name)
    scores = releases.score_release(model, manifest["mask_kinds"],
                                    fill_value=manifest["fill_value"])
    for kind, expected in manifest["check"].items():
        for key in ("study_mae", "study_mse", "hole_mae", "hole_mse", "hole_psnr",
                    "hole_ssim"):
            assert scores[kind][key] == pytest.approx(expected[key], rel=1e-5), (kind, key)
        assert scores[kind]["mask_checksum"] == expected["mask_checksum"]


def test_at_least_one_model_ships():
    """A fresh clone inpaints without training: the package carries released models."""
    names = released.pretrained_names()
    assert names, "inpaint_tf/released/ holds no release"
    for name in names:
        manifest = released.pretrained_manifest(name)
        assert set(manifest["test"]) == set(manifest["mask_kinds"])
        for key in ("config", "training", "reproduce", "sha256", "check"):
            assert key in manifest
