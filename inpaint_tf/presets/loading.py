"""From a reference to a model: a run folder, a ``.keras`` file or a released model's name.

The one place that resolves what users name a model by, for the CLI, evaluation,
training and releases alike: `load_inference_model` gives the network that
inpaints, `model_config` the experiment config that made it.

Example:
    >>> from inpaint_tf import load_inference_model
    >>> model = load_inference_model("runs/exp3")                   # doctest: +SKIP
    >>> model = load_inference_model("own_unet_irregular")          # doctest: +SKIP
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from inpaint_tf._registration import register_keras_objects
from inpaint_tf.configs import MODEL_BUILDERS, ExperimentConfig, config_from_dict, load_config
from inpaint_tf.presets.released import (
    build_network,
    is_pretrained_name,
    pretrained,
    pretrained_manifest,
    pretrained_names,
)
from inpaint_tf.training.precision import policy_for
from inpaint_tf.training.run_folders import RunFolder


def _names_a_release(reference) -> bool:
    """A released model's name, and no file or folder of that name."""
    return not Path(reference).exists() and is_pretrained_name(reference)


def load_inference_model(run_or_model, precision: str | None = None):
    """The inference model of a run folder (its model.keras), of a `.keras` file, or
    a released model by name (`inpaint_tf.pretrained_names()`).

    `precision` None takes the model as stored (a released model: float32);
    ``"float32"`` or ``"mixed"`` (bfloat16 on a CPU, float16 on a GPU) rebuilds a
    run's or a release's network from its builder to compute so, with the same
    weights. A bare `.keras` file names no builder: it takes only None.
    """
    if _names_a_release(run_or_model):
        return pretrained(str(run_or_model), precision=precision or "float32")
    if precision is not None:
        policy_for(precision)  # an unknown precision is refused before anything loads
        if not Path(run_or_model).is_dir():
            raise ValueError(f"A precision rebuilds a run's or a released model's network "
                             f"from its config; {run_or_model} is a bare model file, which "
                             f"keeps the precision it was saved in. Received: "
                             f"precision={precision!r}")
    model = _load_model_file(run_or_model)
    if precision is None:
        return model
    network = build_network(network_spec(model_config(run_or_model)), precision)
    network.set_weights(model.get_weights())
    return network


def network_spec(config: ExperimentConfig) -> dict:
    """The builder (a name in `inpaint_tf.models`) and its options of the network that
    inpaints for `config`, as a release's manifest records them."""
    options = config.model.network_options()
    options["fill_value"] = config.data.fill_value
    return {"builder": MODEL_BUILDERS[config.model.kind], "options": options}


def _load_model_file(run_or_model):
    """The model.keras of a run folder, or a `.keras` file."""
    import keras

    register_keras_objects()  # done at `import keras` already; explicit for clarity

    path = Path(run_or_model)
    if path.is_dir():
        path = RunFolder(path).model
    if not path.is_file():
        raise FileNotFoundError(f"No model found at {run_or_model} (expected a run folder "
                                "with model.keras, a .keras file or a released model: "
                                f"{', '.join(pretrained_names()) or 'none'})")
    if path.suffix == ".keras" and not zipfile.is_zipfile(path):
        # Keras reports such a file as "File not found", which it is not.
        raise ValueError(f"Cannot read model {path}: empty, truncated or not a .keras file")
    return keras.saving.load_model(path)


def model_config(run_or_model) -> ExperimentConfig:
    """The config that made a model: a run folder's config.toml, a released model's
    manifest config, else (a bare `.keras` file) the default config."""
    if _names_a_release(run_or_model):
        return config_from_dict(pretrained_manifest(str(run_or_model))["config"])
    run = RunFolder(run_or_model)
    if run.path.is_dir() and run.config.is_file():
        return load_config(run.config)
    return ExperimentConfig()
