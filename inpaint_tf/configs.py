"""Experiment configs: TOML files that state everything a run depends on.

A config has four tables; every key is optional except ``model.kind``::

    name = "exp1_conv_autoencoder_center_box"
    description = "The study's experiment 1."
    study_experiment = 1              # the study's row this reproduces (0 = none)

    [model]
    kind = "unet_autoencoder"         # unet_autoencoder | pconv_unet | glcic_gan
    options = { mask_as_input = false }   # keyword arguments of the builder

    [data]
    source = ""                       # "" = $INPAINT_TF_DATA, else keras download
    masks = "center_box"              # center_box | random_box | irregular | gan_rectangle
                                      # | boxes | irregular_area, or for photos free_form,
                                      # thin_strokes, ... (inpaint_tf.masks.ALL_MASK_KINDS)
    fill_value = 0.0                  # value written into holes of the input

    [training]
    batch_size = 32
    epochs = 20
    optimizer = "adam"
    learning_rate = 0.001
    schedule = "constant"             # constant | cosine | one_cycle (over all epochs)
    loss = "mae"                      # mae | mse | hole_mse | hole_edge_mse | masked_l1 | pconv
    seed = 0

    [gan]                             # glcic_gan only
    generator_learning_rate = 1e-4
    discriminator_learning_rate = 1e-5
    adversarial_weight = 0.0005
    T_c = 0
    T_d = 0
    region_size = 16

Unknown keys and wrong types raise a `ValueError` that names the key.

Example:
    >>> from inpaint_tf.configs import load_config
    >>> config = load_config("experiments/exp1_conv_autoencoder_center_box.toml")  # doctest: +SKIP
    >>> config.training.epochs                                                      # doctest: +SKIP
    20
"""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path

from inpaint_tf import _io
from inpaint_tf.masks import ALL_MASK_KINDS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

# Model kind -> the builder in `inpaint_tf.models` of the network that inpaints (the
# generator, for the GAN): one table, so that the kinds and the builders cannot disagree.
MODEL_BUILDERS = {"unet_autoencoder": "build_unet_autoencoder", "pconv_unet": "build_pconv_unet",
                  "glcic_gan": "build_glcic_generator"}
"""Model kind -> the name of its builder in `inpaint_tf.models`."""
MODEL_KINDS = tuple(MODEL_BUILDERS)
"""The model kinds a config's ``[model] kind`` may name."""
# hole_mse: each image's mean squared error over its hole pixels, so a small hole
# weighs as much as a large one (inpaint_tf.losses.MaskedL2, normalize="region");
# hole_edge_mse adds the MSE of its gradients at the hole (inpaint_tf.losses.HoleEdgeL2).
LOSSES = ("mae", "mse", "hole_mse", "hole_edge_mse", "masked_l1", "pconv")
"""The losses a config's ``[training] loss`` may name."""
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
"""The optimizers a config's ``[training] optimizer`` may name."""
SCHEDULES = ("constant", "cosine", "one_cycle")
"""The learning-rate schedules a config's ``[training] schedule`` may name."""
DATA_KINDS = ("cifar10", "photos")
"""The data a config's ``[data] kind`` may name: CIFAR-10 or a photo folder."""

# The study's reported figures (original CIFAR-10, T4 GPU), by experiment number:
# mask kind, epochs, batch, MSE, MAE, Dice, training minutes, and the protocol it
# scored with.
STUDY_RESULTS = {
    1: dict(masks="center_box", epochs=20, batch_size=32, mse=0.00108, mae=0.01598,
             dice=0.61100, minutes=14.5, protocol="study"),
    2: dict(masks="random_box", epochs=20, batch_size=32, mse=0.00136, mae=0.01103,
             dice=0.60543, minutes=14.6, protocol="study"),
    3: dict(masks="irregular", epochs=20, batch_size=32, mse=0.00106, mae=0.01238,
             dice=0.60701, minutes=17.0, protocol="study"),
    4: dict(masks="random_box", epochs=30, batch_size=32, mse=0.00284, mae=0.02639,
             dice=0.60200, minutes=30.5, protocol="study"),
    5: dict(masks="irregular", epochs=30, batch_size=32, mse=0.00158, mae=0.01912,
             dice=0.60529, minutes=31.6, protocol="study"),
    6: dict(masks="gan_rectangle", epochs=30, batch_size=32, mse=0.01290, mae=0.07920,
             dice=0.57555, minutes=72.8, protocol="hole"),
    7: dict(masks="gan_rectangle", epochs=30, batch_size=800, mse=0.01610, mae=0.09060,
             dice=0.56377, minutes=72.3, protocol="hole"),
}
"""The study's reported figures by experiment number (1-7): mask kind, epochs, batch, MSE,
MAE, Dice, training minutes and the protocol it scored with."""


@dataclasses.dataclass
class ModelConfig:
    """The ``[model]`` table: the model kind (`MODEL_KINDS`) and its builder's options."""
    kind: str = "unet_autoencoder"
    options: dict = dataclasses.field(default_factory=dict)

    def network_options(self) -> dict:
        """The builder's options: `options` without ``vgg_weights``, which is the loss's."""
        return {k: v for k, v in self.options.items() if k != "vgg_weights"}


@dataclasses.dataclass
class DataConfig:
    """The ``[data]`` table: the data kind, its source, the masks and the evaluation sizes;
    the crop and scale keys apply to photos only."""
    source: str = ""
    masks: str = "random_box"
    fill_value: float = 0.0
    validation_images: int = 10_000  # validation images scored after every epoch
    test_images: int = 10_000  # test images of the final evaluation
    # "cifar10" (the study's) or "photos": a folder of photos of any size, streamed as
    # crops (inpaint_tf.data.photos); the keys below apply to photos only.
    kind: str = "cifar10"
    crop_size: int = 128
    min_scale: float = 0.25  # crops' scales, log-uniform in [min_scale, max_scale]
    max_scale: float = 1.0
    held_out_photos: int = 32  # photos kept out of training: validation and test crops
    # 0: masks drawn at the crop size; else at a photo's size (a side in [min, max]),
    # and the crop's window cut around a hole (inpaint_tf.data.photos.photo_scale_masks).
    mask_canvas_min: int = 0
    mask_canvas_max: int = 0


@dataclasses.dataclass
class TrainingConfig:
    """The ``[training]`` table: batch, epochs, steps, optimizer, learning rate, schedule,
    loss and seed."""
    batch_size: int = 32
    epochs: int = 20
    steps_per_epoch: int = 0  # 0 = one pass over the training images
    optimizer: str = "adam"
    learning_rate: float = 0.001
    schedule: str = "constant"  # of the learning rate over all epochs' steps
    loss: str = "mae"
    seed: int = 0


@dataclasses.dataclass
class GANConfig:
    """The ``[gan]`` table: the two learning rates, the adversarial weight, the phases'
    lengths (``T_c``, ``T_d``) and the local discriminator's region size."""
    generator_learning_rate: float = 1e-4
    discriminator_learning_rate: float = 1e-5
    adversarial_weight: float = 0.0005
    T_c: int = 0
    T_d: int = 0
    region_size: int = 16


@dataclasses.dataclass
class ExperimentConfig:
    """One experiment: its name and description, the study experiment it reproduces (0:
    none) and its model, data, training and GAN tables. `load_config` reads one from TOML."""
    name: str = "experiment"
    description: str = ""
    study_experiment: int = 0
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    training: TrainingConfig = dataclasses.field(default_factory=TrainingConfig)
    gan: GANConfig = dataclasses.field(default_factory=GANConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def is_gan(self) -> bool:
        return self.model.kind == "glcic_gan"


def _check_type(where: str, value, expected):
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)  # TOML writes 1e-4 as a float but 0 as an int
    if expected is dict and isinstance(value, dict):
        return value
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ValueError(f"Config key `{where}` must be of type {expected.__name__}. "
                         f"Received: {where}={value!r} ({type(value).__name__})")
    if expected is float and not math.isfinite(value):
        raise ValueError(f"Config key `{where}` must be finite. Received: {where}={value!r}")
    return value


def _from_mapping(cls, mapping: dict, where: str):
    if not isinstance(mapping, dict):
        raise ValueError(f"Config key `{where}` must be a table. Received: {mapping!r}")
    fields = {field.name: field for field in dataclasses.fields(cls)}
    unknown = sorted(set(mapping) - set(fields))
    if unknown:
        prefix = f"{where}." if where else ""
        raise ValueError(f"Unknown config key `{prefix}{unknown[0]}`. Known keys"
                         f"{' of [' + where + ']' if where else ''}: {sorted(fields)}")
    values = {}
    for name, value in mapping.items():
        field = fields[name]
        key = f"{where}.{name}" if where else name
        if dataclasses.is_dataclass(field.type) or field.type in _SECTIONS:
            values[name] = _from_mapping(_SECTIONS[field.type], value, name)
        else:
            values[name] = _check_type(key, value, _TYPES[field.type])
    return cls(**values)


_TYPES = {"str": str, "int": int, "float": float, "dict": dict}
_SECTIONS = {"ModelConfig": ModelConfig, "DataConfig": DataConfig,
             "TrainingConfig": TrainingConfig, "GANConfig": GANConfig}


def _check_values(config: ExperimentConfig) -> ExperimentConfig:
    def choice(key, value, allowed):
        if value not in allowed:
            raise ValueError(f"Config key `{key}` must be one of {list(allowed)}. "
                             f"Received: {key}={value!r}")

    def positive(key, value):
        if value < 1:
            raise ValueError(f"Config key `{key}` must be >= 1. Received: {key}={value!r}")

    choice("model.kind", config.model.kind, MODEL_KINDS)
    choice("data.masks", config.data.masks, ALL_MASK_KINDS)
    choice("data.kind", config.data.kind, DATA_KINDS)
    positive("data.crop_size", config.data.crop_size)
    positive("data.held_out_photos", config.data.held_out_photos)
    canvas = (config.data.mask_canvas_min, config.data.mask_canvas_max)
    if canvas != (0, 0) and not config.data.crop_size <= canvas[0] <= canvas[1]:
        raise ValueError("Config keys `data.mask_canvas_min` and `data.mask_canvas_max` must "
                         "be 0 (masks at the crop size) or satisfy crop_size <= min <= max. "
                         f"Received: {canvas[0]}, {canvas[1]}")
    if not 0 < config.data.min_scale <= config.data.max_scale:
        raise ValueError("Config keys `data.min_scale` and `data.max_scale` must satisfy "
                         f"0 < min_scale <= max_scale. Received: {config.data.min_scale}, "
                         f"{config.data.max_scale}")
    choice("training.loss", config.training.loss, LOSSES)
    choice("training.optimizer", config.training.optimizer, OPTIMIZERS)
    choice("training.schedule", config.training.schedule, SCHEDULES)
    for key in ("batch_size", "epochs"):
        positive(f"training.{key}", getattr(config.training, key))
    for key in ("validation_images", "test_images"):
        positive(f"data.{key}", getattr(config.data, key))
    for key, value in (("training.learning_rate", config.training.learning_rate),
                       ("gan.generator_learning_rate", config.gan.generator_learning_rate),
                       ("gan.discriminator_learning_rate",
                        config.gan.discriminator_learning_rate)):
        if value <= 0:
            raise ValueError(f"Config key `{key}` must be > 0. Received: {key}={value!r}")
    if not 0 <= config.training.seed < 2**32:  # the range NumPy and Keras accept
        raise ValueError("Config key `training.seed` must be in [0, 2**32). "
                         f"Received: training.seed={config.training.seed!r}")
    if config.training.steps_per_epoch < 0:
        raise ValueError("Config key `training.steps_per_epoch` must be >= 0 (0 = a full "
                         f"pass). Received: {config.training.steps_per_epoch}")
    return config


def config_from_dict(mapping: dict) -> ExperimentConfig:
    """Builds and validates a config from a nested dict (as TOML gives it)."""
    return _check_values(_from_mapping(ExperimentConfig, mapping, ""))


def _shipped_config_folders() -> list[Path]:
    # A clone or editable install reads the repository's experiments/ folder; a wheel
    # carries the same files as the package data `inpaint_tf.experiments` (a folder
    # without __init__.py, whose importlib.resources view is no plain path: found by
    # location).
    package = Path(__file__).resolve().parent
    folders = [package.parent / "experiments", package / "experiments"]
    return [folder for folder in folders if folder.is_dir()]


def shipped_configs() -> list[str]:
    """Names of the configs that come with the package (the study's seven and ours)."""
    return sorted({p.stem for folder in _shipped_config_folders() for p in folder.glob("*.toml")})


def find_config(name_or_path) -> Path:
    """The file of a config given by path, or by the name of a shipped config."""
    path = Path(name_or_path)
    if path.is_file() or path.suffix == ".toml" or len(path.parts) > 1:
        return path
    for folder in _shipped_config_folders():
        if (folder / f"{path.name}.toml").is_file():
            return folder / f"{path.name}.toml"
    raise FileNotFoundError(f"No config file or shipped config named {name_or_path!r}. "
                            f"Shipped: {', '.join(shipped_configs())}")


def load_config(path) -> ExperimentConfig:
    """Reads and validates a TOML experiment config, by path or shipped name.

    Example:
        >>> load_config("exp3_conv_autoencoder_irregular").data.masks
        'irregular'

    Raises:
        FileNotFoundError: no such file.
        ValueError: not valid TOML, unknown keys, wrong types or values.
    """
    path = find_config(path)
    if not path.is_file():
        raise FileNotFoundError(f"Config file not found: {path}")
    try:
        mapping = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not valid TOML: {error}") from error
    try:
        return config_from_dict(mapping)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error


def with_overrides(config: ExperimentConfig, **overrides) -> ExperimentConfig:
    """A copy of `config` with dotted keys replaced, e.g. ``{"training.epochs": 2}``.

    None values are ignored, so CLI options that were not given change nothing.
    """
    mapping = config.to_dict()
    for dotted, value in overrides.items():
        if value is None:
            continue
        section, _, key = dotted.rpartition(".")
        target = mapping[section] if section else mapping
        if key not in target:
            raise ValueError(f"Unknown config key `{dotted}`")
        target[key] = value
    return config_from_dict(mapping)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"Cannot write {type(value).__name__} to TOML")


def to_toml(config: ExperimentConfig) -> str:
    """The config as TOML text (reads back to an equal config)."""
    mapping = config.to_dict()
    lines = [f"{k} = {_toml_value(v)}" for k, v in mapping.items() if not isinstance(v, dict)]
    for section, values in mapping.items():
        if isinstance(values, dict):
            lines += ["", f"[{section}]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def save_config(config: ExperimentConfig, path) -> None:
    """Writes the config as TOML, atomically."""
    _io.write_text(path, to_toml(config))
