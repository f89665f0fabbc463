"""The files of a release at their edges: a pickled array in a weights file, the largest
weight float16 holds, names that are paths, the manifest's own keys, folders that do
not exist yet."""

import json

import numpy as np
import pytest

from inpaint_tf._checksums import file_sha256
from inpaint_tf.models import build_unet_autoencoder
from inpaint_tf.presets import released as R

OPTIONS = dict(filters=(4, 8), bottleneck_filters=8, mask_as_input=True,
               composite_output=True, fill_value=0.0)
MANIFEST = {"builder": "build_unet_autoencoder", "options": OPTIONS, "mask_kinds": [],
            "fill_value": 0.0, "config": {}}


@pytest.fixture
def network():
    return build_unet_autoencoder((None, None, 3), **OPTIONS)


def test_a_release_is_written_into_folders_that_do_not_exist_yet(network, tmp_path):
    folder = tmp_path / "a" / "b"
    path = R.write_release(network, "tiny", dict(MANIFEST), folder)
    manifest = json.loads(path.read_text())
    assert (manifest["format"], manifest["name"], manifest["weights_file"]) == (
        1, "tiny", "tiny.weights.npz")
    assert manifest["bytes"] == (folder / "tiny.weights.npz").stat().st_size
    assert sorted(p.name for p in folder.iterdir()) == ["tiny.json", "tiny.weights.npz"]


def test_a_weights_file_with_a_pickled_array_is_not_read(network, tmp_path):
    R.write_release(network, "tiny", dict(MANIFEST), tmp_path)
    weights = tmp_path / "tiny.weights.npz"
    with np.load(weights) as archive:
        arrays = {key: archive[key] for key in archive.files}
    first = sorted(arrays)[0]
    arrays[first] = np.empty(arrays[first].shape, object)  # needs pickle to load
    np.savez(weights, **arrays)
    manifest = json.loads((tmp_path / "tiny.json").read_text())
    manifest["sha256"] = file_sha256(weights)  # a file the manifest vouches for
    (tmp_path / "tiny.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="Cannot read the weights of 'tiny'"):
        R.pretrained("tiny", tmp_path)


def test_weights_that_do_not_fit_are_named_with_the_release(network, tmp_path):
    R.write_release(network, "tiny", dict(MANIFEST), tmp_path)
    manifest = json.loads((tmp_path / "tiny.json").read_text())
    manifest["options"] = dict(OPTIONS, filters=[4, 8, 16])
    (tmp_path / "tiny.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="The weights of 'tiny' do not fit its network"):
        R.pretrained("tiny", tmp_path)


def test_float16_holds_weights_up_to_its_largest_value(network):
    kernel = next(w for w in network.weights if w.path.endswith("kernel"))
    largest = float(np.finfo(np.float16).max)  # 65504
    kernel.assign(np.full(kernel.shape, -largest, np.float32))
    assert R.float16_weights(network)[kernel.path].min() == -largest
    kernel.assign(np.full(kernel.shape, 1e5, np.float32))
    with pytest.raises(ValueError, match=f"Weight {kernel.path} exceeds the float16 range"):
        R.float16_weights(network)
    arrays = R.float16_weights(build_unet_autoencoder((None, None, 3), **OPTIONS))
    assert {a.dtype for a in arrays.values()} == {np.dtype(np.float16)}


def test_a_name_is_a_release_only_as_a_bare_name(network, tmp_path):
    R.write_release(network, "tiny", dict(MANIFEST), tmp_path)
    R.write_release(network, "odd\\name", dict(MANIFEST), tmp_path)  # a legal file name
    assert R.pretrained_names(tmp_path) == ["odd\\name", "tiny"]
    assert R.is_pretrained_name("tiny", tmp_path) is True
    assert R.is_pretrained_name(tmp_path.name + "/tiny", tmp_path) is False
    assert R.is_pretrained_name("odd\\name", tmp_path) is False  # a Windows path
    assert R.is_pretrained_name("other", tmp_path) is False
    assert R.is_pretrained_name("tiny") is False  # not a release of the package
    # A manifest without its weights file is no release.
    (tmp_path / "lonely.json").write_text("{}")
    assert R.pretrained_names(tmp_path) == ["odd\\name", "tiny"]
