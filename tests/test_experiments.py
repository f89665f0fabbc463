from pathlib import Path

import pytest

from inpaint_tf import configs as X

CONFIGS = sorted(Path(__file__).parents[1].joinpath("experiments").glob("*.toml"))


def test_every_shipped_config_loads_and_round_trips(tmp_path):
    assert len(CONFIGS) >= 10
    for path in CONFIGS:
        config = X.load_config(path)
        assert config.name == path.stem
        X.save_config(config, tmp_path / "copy.toml")
        assert X.load_config(tmp_path / "copy.toml") == config


@pytest.mark.parametrize("number, kind, masks, batch, epochs, fill", [
    (1, "unet_autoencoder", "center_box", 32, 20, 0.0),
    (2, "unet_autoencoder", "random_box", 32, 20, 0.0),
    (3, "unet_autoencoder", "irregular", 32, 20, 0.0),
    (4, "pconv_unet", "random_box", 32, 30, 1.0),
    (5, "pconv_unet", "irregular", 32, 30, 1.0),
    (6, "glcic_gan", "gan_rectangle", 32, 30, 0.0),
    (7, "glcic_gan", "gan_rectangle", 800, 30, 0.0),
])
def test_the_seven_study_experiments(number, kind, masks, batch, epochs, fill):
    (path,) = [p for p in CONFIGS if p.name.startswith(f"exp{number}_")]
    config = X.load_config(path)
    assert (config.study_experiment, config.model.kind, config.data.masks,
            config.training.batch_size, config.training.epochs, config.data.fill_value) == (
        number, kind, masks, batch, epochs, fill)
    assert X.STUDY_RESULTS[number]["epochs"] == epochs
    assert X.STUDY_RESULTS[number]["batch_size"] == batch
    if kind == "glcic_gan":
        assert (config.gan.adversarial_weight, config.gan.generator_learning_rate,
                config.gan.discriminator_learning_rate) == (0.0005, 1e-4, 1e-5)
    else:
        assert (config.training.optimizer, config.training.loss) == ("adam", "mae")


def _write(tmp_path, text):
    path = tmp_path / "c.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, message", [
    ('[model]\nkind = "unet_autoencoder"\nlayers = 4\n', "Unknown config key `model.layers`"),
    ('colour = "red"\n', "Unknown config key `colour`"),
    ('[training]\nepochs = "20"\n', "`training.epochs` must be of type int"),
    ('[training]\nepochs = 2.5\n', "`training.epochs` must be of type int"),
    ('[training]\nbatch_size = true\n', "`training.batch_size` must be of type int"),
    ('[training]\nlearning_rate = "fast"\n', "`training.learning_rate` must be of type float"),
    ('[training]\nlearning_rate = nan\n', "must be finite"),
    ('[training]\nlearning_rate = -1.0\n', "must be > 0"),
    ('[training]\nepochs = 0\n', "`training.epochs` must be >= 1"),
    ('[data]\nmasks = "circles"\n', "`data.masks` must be one of"),
    ('[model]\nkind = "transformer"\n', "`model.kind` must be one of"),
    ('[training]\nloss = "hinge"\n', "`training.loss` must be one of"),
    ('model = "unet"\n', "`model` must be a table"),
    ('[model\nkind = 1\n', "not valid TOML"),
])
def test_bad_configs_name_the_key(tmp_path, text, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(")):
        X.load_config(_write(tmp_path, text))


def test_missing_config_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        X.load_config(tmp_path / "none.toml")


def test_integers_are_accepted_where_floats_are_expected(tmp_path):
    config = X.load_config(_write(tmp_path, "[data]\nfill_value = 1\n"))
    assert config.data.fill_value == 1.0 and isinstance(config.data.fill_value, float)


def test_overrides_replace_keys_and_ignore_none():
    config = X.ExperimentConfig()
    changed = X.with_overrides(config, **{"training.epochs": 3, "training.seed": None,
                                          "data.masks": "irregular"})
    assert (changed.training.epochs, changed.training.seed, changed.data.masks) == (
        3, config.training.seed, "irregular")
    with pytest.raises(ValueError, match="Unknown config key"):
        X.with_overrides(config, **{"training.colour": 1})
    with pytest.raises(ValueError, match="must be >= 1"):
        X.with_overrides(config, **{"training.epochs": 0})


def test_toml_writer_escapes_strings(tmp_path):
    config = X.with_overrides(X.ExperimentConfig(), description='a "quoted"\nline \\ slash')
    X.save_config(config, tmp_path / "c.toml")
    assert X.load_config(tmp_path / "c.toml").description == config.description


def test_shipped_configs_load_by_name():
    names = X.shipped_configs()
    assert "exp1_conv_autoencoder_center_box" in names and len(names) == len(CONFIGS)
    assert X.load_config("exp5_pconv_autoencoder_irregular").model.kind == "pconv_unet"
    with pytest.raises(FileNotFoundError, match="Shipped: .*exp1_conv_autoencoder_center_box"):
        X.load_config("exp99_unknown")


def test_every_model_kind_names_a_builder_of_the_models_namespace():
    from inpaint_tf import models

    assert X.MODEL_KINDS == tuple(X.MODEL_BUILDERS)
    for kind, builder in X.MODEL_BUILDERS.items():
        assert callable(getattr(models, builder)), kind
        assert builder in models.__all__, kind


PROBES = Path(__file__).parents[1] / "experiments" / "photo_probes"
# Each probe is the released photo recipe for 1,000 steps with the changes it names.
PROBE_CHANGES = {
    "v5": {},
    "v7_wide": {"model.options.filters": [48, 96, 192, 384],
                "model.options.bottleneck_filters": 384},
    "v8_deep": {"model.options.filters": [32, 64, 128, 256, 256]},
    "v9_lr": {"training.learning_rate": 0.002},
    "v11_edges": {"training.loss": "hole_edge_mse"},
    "v12_lr_edges": {"training.learning_rate": 0.002, "training.loss": "hole_edge_mse"},
}


def _flat(config) -> dict:
    import dataclasses
    flat = {}
    for table in ("model", "data", "training"):
        for key, value in dataclasses.asdict(getattr(config, table)).items():
            if key == "options":
                flat.update({f"model.options.{k}": v for k, v in value.items()})
            else:
                flat[f"{table}.{key}"] = value
    return flat


def test_each_photo_probe_is_the_released_recipe_with_the_changes_it_names(tmp_path):
    released = _flat(X.load_config(Path(__file__).parents[1] / "experiments" / "photo_unet.toml"))
    assert sorted(p.stem for p in PROBES.glob("*.toml")) == sorted(PROBE_CHANGES)
    for name, changes in PROBE_CHANGES.items():
        config = X.load_config(PROBES / f"{name}.toml")
        assert config.name == name
        X.save_config(config, tmp_path / "copy.toml")
        assert X.load_config(tmp_path / "copy.toml") == config
        flat = _flat(config)
        assert config.training.epochs * config.training.steps_per_epoch == 1000
        differing = {k: v for k, v in flat.items() if released.get(k) != v
                     and k != "training.epochs"}
        assert {k: list(v) if isinstance(v, tuple) else v for k, v in differing.items()} \
            == changes, name


def test_the_network_options_leave_out_the_losses_vgg_weights():
    config = X.config_from_dict({"name": "p", "model": {
        "kind": "pconv_unet", "options": {"filters": [4], "vgg_weights": None}}})
    assert config.model.network_options() == {"filters": [4]}
    assert config.model.options == {"filters": [4], "vgg_weights": None}  # the loss keeps it
