"""Config checks key by key: every refusal names its key, every bound is tested from
both sides, and configs are found where the documentation says."""

import re

import pytest

from inpaint_tf import configs as X


def _config(**sections):
    """A valid config mapping with `sections` ({"training": {...}}) merged in."""
    mapping = {"model": {"kind": "unet_autoencoder"}}
    for section, values in sections.items():
        if isinstance(values, dict):
            mapping.setdefault(section, {}).update(values)
        else:
            mapping[section] = values
    return mapping


def _refused(message, **sections):
    with pytest.raises(ValueError, match=re.escape(message)):
        X.config_from_dict(_config(**sections))


@pytest.mark.parametrize("section, key, allowed", [
    ("model", "kind", X.MODEL_KINDS),
    ("data", "masks", None),
    ("data", "kind", X.DATA_KINDS),
    ("training", "loss", X.LOSSES),
    ("training", "optimizer", X.OPTIMIZERS),
    ("training", "schedule", X.SCHEDULES),
])
def test_each_choice_names_its_key_and_the_choices(section, key, allowed):
    message = f"Config key `{section}.{key}` must be one of "
    if allowed is not None:
        message += f"{list(allowed)}. Received: {section}.{key}='bogus'"
    _refused(message, **{section: {key: "bogus"}})
    for value in allowed or ():
        assert getattr(getattr(X.config_from_dict(_config(**{section: {key: value}})),
                               section), key) == value


@pytest.mark.parametrize("section, key", [
    ("training", "batch_size"), ("training", "epochs"), ("data", "validation_images"),
    ("data", "test_images"), ("data", "crop_size"), ("data", "held_out_photos"),
])
def test_counts_start_at_one(section, key):
    _refused(f"Config key `{section}.{key}` must be >= 1. Received: {section}.{key}=0",
             **{section: {key: 0}})
    _refused(f"Config key `{section}.{key}` must be >= 1", **{section: {key: -3}})
    config = X.config_from_dict(_config(**{section: {key: 1}}))
    assert getattr(getattr(config, section), key) == 1


@pytest.mark.parametrize("section, key", [
    ("training", "learning_rate"), ("gan", "generator_learning_rate"),
    ("gan", "discriminator_learning_rate"),
])
def test_learning_rates_must_be_positive(section, key):
    _refused(f"Config key `{section}.{key}` must be > 0. Received: {section}.{key}=0.0",
             **{section: {key: 0.0}})
    _refused(f"Config key `{section}.{key}` must be > 0", **{section: {key: -1e-4}})
    config = X.config_from_dict(_config(**{section: {key: 1e-9}}))
    assert getattr(getattr(config, section), key) == 1e-9


@pytest.mark.parametrize("seed, accepted", [(0, True), (2**32 - 1, True), (-1, False),
                                            (2**32, False)])
def test_seeds_span_numpys_range(seed, accepted):
    if accepted:
        assert X.config_from_dict(_config(training={"seed": seed})).training.seed == seed
    else:
        _refused(f"must be in [0, 2**32). Received: training.seed={seed}",
                 training={"seed": seed})


def test_steps_per_epoch_zero_means_a_full_pass_and_negative_is_refused():
    assert X.config_from_dict(_config(training={"steps_per_epoch": 0})).training \
        .steps_per_epoch == 0
    _refused("`training.steps_per_epoch` must be >= 0", training={"steps_per_epoch": -1})


@pytest.mark.parametrize("canvas, accepted", [
    ((0, 0), True), ((128, 128), True), ((128, 129), True), ((200, 200), True),
    ((127, 200), False), ((200, 199), False), ((0, 200), False), ((200, 0), False),
])
def test_mask_canvas_is_off_or_at_least_the_crop(canvas, accepted):
    data = {"crop_size": 128, "mask_canvas_min": canvas[0], "mask_canvas_max": canvas[1]}
    if accepted:
        config = X.config_from_dict(_config(data=data))
        assert (config.data.mask_canvas_min, config.data.mask_canvas_max) == canvas
    else:
        _refused("`data.mask_canvas_min` and `data.mask_canvas_max` must be 0", data=data)


@pytest.mark.parametrize("scales, accepted", [
    ((0.25, 1.0), True), ((0.5, 0.5), True), ((1e-3, 2.0), True),
    ((0.0, 1.0), False), ((-0.1, 1.0), False), ((0.6, 0.5), False),
])
def test_crop_scales_are_positive_and_ordered(scales, accepted):
    data = {"min_scale": scales[0], "max_scale": scales[1]}
    if accepted:
        config = X.config_from_dict(_config(data=data))
        assert (config.data.min_scale, config.data.max_scale) == scales
    else:
        _refused("`data.min_scale` and `data.max_scale` must satisfy", data=data)


@pytest.mark.parametrize("mapping, message", [
    ({"name": 3}, "Config key `name` must be of type str. Received: name=3 (int)"),
    (_config(training={"epochs": {"a": 1}}), "Config key `training.epochs` must be of type int"),
    (_config(data={"fill_value": {"a": 1}}), "`data.fill_value` must be of type float"),
    (_config(model={"options": 3}), "Config key `model.options` must be of type dict"),
    (_config(data={"fill_value": float("inf")}), "`data.fill_value` must be finite"),
    ({"gan": [1]}, "Config key `gan` must be a table. Received: [1]"),
    ({"model": {"kind": "unet_autoencoder", "depth": 3}},
     "Unknown config key `model.depth`. Known keys of [model]: ['kind', 'options']"),
])
def test_types_are_checked_where_the_key_is_named(mapping, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        X.config_from_dict(mapping)


def test_a_table_of_options_is_kept_as_given():
    options = {"filters": [4, 8], "flag": True}
    config = X.config_from_dict(_config(model={"options": options}))
    assert config.model.options == options


def test_toml_writes_every_value_type_and_reads_back(tmp_path):
    config = X.config_from_dict(_config(
        description='a "quoted"\nline \\ slash',
        model={"options": {"filters": [4, 8], "flag": True, "off": False, "name": "x",
                           "rate": 0.5, "nested": {"a": [1, [2, 3]]}}}))
    text = X.to_toml(config)
    assert 'options = { filters = [4, 8], flag = true, off = false, name = "x", ' \
           'rate = 0.5, nested = { a = [1, [2, 3]] } }' in text
    assert 'description = "a \\"quoted\\"\\nline \\\\ slash"' in text
    assert text.startswith('name = "experiment"\n') and text.endswith("\n")
    assert "\n\n[model]\nkind = \"unet_autoencoder\"\n" in text
    X.save_config(config, tmp_path / "c.toml")
    assert X.load_config(tmp_path / "c.toml") == config
    with pytest.raises(TypeError, match="Cannot write NoneType to TOML"):
        X._toml_value(None)


def test_overrides_reach_top_level_and_nested_keys():
    config = X.with_overrides(X.ExperimentConfig(), name="renamed", **{"data.fill_value": 1})
    assert config.name == "renamed" and config.data.fill_value == 1.0
    with pytest.raises(ValueError, match=re.escape("Unknown config key `colour`")):
        X.with_overrides(X.ExperimentConfig(), colour="red")


def test_a_path_is_read_as_a_path_and_only_a_bare_name_is_looked_up(tmp_path, monkeypatch):
    shipped = "exp1_conv_autoencoder_center_box"
    assert X.find_config(shipped).name == f"{shipped}.toml"
    # A path with a folder, or a .toml name, is never replaced by a shipped config.
    for reference in (f"elsewhere/{shipped}", f"{shipped}.toml", "missing.toml"):
        with pytest.raises(FileNotFoundError, match=re.escape(f"Config file not found: "
                                                              f"{reference}")):
            X.load_config(reference)
    # A file in the working folder loads whatever its suffix.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.cfg").write_text('name = "mine"\n[model]\nkind = "pconv_unet"\n')
    assert X.load_config("mine.cfg").model.kind == "pconv_unet"
    with pytest.raises(FileNotFoundError, match="No config file or shipped config named "
                                                "'nothing'"):
        X.load_config("nothing")


def test_a_wheel_finds_its_configs_inside_the_package(tmp_path, monkeypatch):
    package = tmp_path / "site" / "inpaint_tf"
    (package / "experiments").mkdir(parents=True)
    (package / "experiments" / "packaged.toml").write_text('[model]\nkind = "glcic_gan"\n')
    monkeypatch.setattr(X, "__file__", str(package / "configs.py"))
    assert X.shipped_configs() == ["packaged"]
    assert X.find_config("packaged") == package / "experiments" / "packaged.toml"
    assert X.load_config("packaged").is_gan
    monkeypatch.setattr(X, "__file__", str(tmp_path / "bare" / "configs.py"))
    assert X.shipped_configs() == []
