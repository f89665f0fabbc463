"""From a reference to a model (`inpaint_tf.presets.loading`): a released model's name
unless a file or folder has that name, refusals of missing and unreadable files, the
precision a release is rebuilt in, the config that made a model, a release's network
spec."""

import pytest

from inpaint_tf.configs import ExperimentConfig, config_from_dict
from inpaint_tf.presets import loading as L
from inpaint_tf.presets.released import pretrained_manifest


def _compute_dtypes(model):
    return {layer.dtype_policy.compute_dtype for layer in model.layers
            if layer.weights and layer.dtype_policy.name != "float32"} or {"float32"}


def test_a_released_name_loads_the_release_in_its_precision():
    default = L.load_inference_model("photo_unet")
    mixed = L.load_inference_model("photo_unet", "mixed")
    assert _compute_dtypes(default) == {"float32"}
    assert _compute_dtypes(mixed) == {"bfloat16"}
    assert len(default.weights) == len(mixed.weights) > 0
    manifest = pretrained_manifest("photo_unet")
    assert L.model_config("photo_unet") == config_from_dict(manifest["config"])
    assert L.model_config("photo_unet").name == "photo_unet"


def test_a_folder_of_a_released_models_name_is_a_run_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "photo_unet").mkdir()
    assert not L._names_a_release("photo_unet")
    with pytest.raises(FileNotFoundError, match="No model found at photo_unet"):
        L.load_inference_model("photo_unet")
    assert L.model_config("photo_unet") == ExperimentConfig()  # no config.toml there


def test_missing_and_unreadable_model_files_are_refused(tmp_path):
    assert not L._names_a_release(tmp_path / "missing.keras")
    with pytest.raises(FileNotFoundError, match="No model found"):
        L.load_inference_model(tmp_path / "missing.keras")
    truncated = tmp_path / "cut.keras"
    truncated.write_bytes(b"PK\x03\x04 not a whole zip")
    with pytest.raises(ValueError, match="empty, truncated or not a .keras file"):
        L.load_inference_model(truncated)
    other = tmp_path / "weights.h5"
    other.write_bytes(b"")
    with pytest.raises(Exception) as caught:  # Keras' own refusal, not this module's
        L.load_inference_model(other)
    assert "truncated" not in str(caught.value)


def test_a_release_spec_leaves_out_the_loss_weights_and_takes_the_fill_value():
    config = config_from_dict({"name": "p", "model": {
        "kind": "pconv_unet", "options": {"filters": [4], "vgg_weights": None}},
        "data": {"fill_value": 0.5}})
    spec = L.network_spec(config)
    assert spec == {"builder": "build_pconv_unet",
                    "options": {"filters": [4], "fill_value": 0.5}}
