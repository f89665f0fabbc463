"""Released models: trained networks that ship inside the package, ready to inpaint.

Each release is two files in ``inpaint_tf/released/``:

``<name>.weights.npz``
    every weight of the network as float16 (half the size of float32), keyed by
    the weight's path in the model (``encoder_stage1_conv_a/kernel``);
``<name>.json``
    its manifest: the config that trained it, the builder and its options, the
    data it was trained and scored on (with checksums), the training time and
    device, its figures on the CIFAR-10 test set under both protocols for every
    mask kind it serves, figures on a small synthetic check set that any machine
    can recompute offline, and the SHA-256 and size of the weights file.

`pretrained(name)` checks the SHA-256 before anything else and every weight's
name and shape after, so a corrupted, truncated or mismatched file is a
`ValueError`, never a silently wrong model. The network is rebuilt float32 and
the float16 weights widened exactly; the figures in a manifest are those of this
float32 model with the float16 weights.

Reproduce a release from scratch with the command in its manifest
(``inpaint-tf train experiments/<name>.toml --precision mixed``), then
``inpaint-tf release runs/<name>`` (`release_run`).

Example:
    >>> from inpaint_tf import pretrained, pretrained_names, inpaint
    >>> pretrained_names()                                          # doctest: +SKIP
    ['own_unet_boxes', 'own_unet_irregular']
    >>> model = pretrained("own_unet_irregular")                    # doctest: +SKIP
    >>> filled = inpaint(model, image, mask)                         # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np

from inpaint_tf import _io

RELEASE_FOLDER = Path(__file__).resolve().parent / "released"
WEIGHTS_SUFFIX = ".weights.npz"
MANIFEST_FORMAT = 1
# The offline check set: synthetic images any machine can draw, scored in CI.
CHECK_IMAGES = 256
CHECK_SEED = 7


def _folder(folder) -> Path:
    return RELEASE_FOLDER if folder is None else Path(folder)


def pretrained_names(folder=None) -> list[str]:
    """Names of the released models (each a manifest beside its weights file).

    Example:
        >>> isinstance(pretrained_names(), list)
        True
    """
    folder = _folder(folder)
    if not folder.is_dir():
        return []
    return sorted(p.name[:-len(".json")] for p in folder.glob("*.json")
                  if (folder / f"{p.name[:-len('.json')]}{WEIGHTS_SUFFIX}").is_file())


def is_pretrained_name(name, folder=None) -> bool:
    """Whether `name` names a released model (and not a file or folder)."""
    text = str(name)
    return "/" not in text and "\\" not in text and text in pretrained_names(folder)


def pretrained_manifest(name: str, folder=None) -> dict:
    """The manifest of a released model (see the module docstring)."""
    folder = _folder(folder)
    names = pretrained_names(folder)
    if name not in names:
        raise ValueError(f"No released model named {name!r}. Released: "
                         f"{', '.join(names) or 'none'}")
    try:
        manifest = json.loads((folder / f"{name}.json").read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"Cannot read the manifest of {name!r}: {error}") from error
    if manifest.get("format") != MANIFEST_FORMAT or "sha256" not in manifest:
        raise ValueError(f"The manifest of {name!r} is not a release manifest of format "
                         f"{MANIFEST_FORMAT}")
    return manifest


def image_checksum(images) -> str:
    """The first 16 hex digits of the SHA-256 of an image array's bytes (as run records)."""
    return hashlib.sha256(np.ascontiguousarray(images).tobytes()).hexdigest()[:16]


def file_sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_network(manifest: dict):
    """The manifest's network, float32, for any height and width, untrained."""
    from inpaint_tf import models
    from inpaint_tf.training import dtype_policy

    builder = getattr(models, manifest["builder"])
    with dtype_policy("float32"):
        return builder(input_shape=(None, None, 3), **manifest["options"])


def pretrained(name: str, folder=None):
    """A released model, ready to inpaint: a float32 Keras model taking
    ``{"image": (B, H, W, 3), "mask": (B, H, W, 1)}`` (1 = hole) of any size
    that is a multiple of its downsampling factor (`inpaint_tf.inpaint` pads).

    Args:
        name: one of `pretrained_names()`.
        folder: where releases live (default: the package's).

    Raises:
        ValueError: an unknown name, a weights file whose SHA-256 differs from
            the manifest's (corrupted or replaced), or weights that do not fit
            the network (missing, extra or of another shape).

    Example:
        >>> model = pretrained("own_unet_irregular")                  # doctest: +SKIP
    """
    folder = _folder(folder)
    manifest = pretrained_manifest(name, folder)
    path = folder / f"{name}{WEIGHTS_SUFFIX}"
    if file_sha256(path) != manifest["sha256"]:
        raise ValueError(f"The weights file of {name!r} ({path}) does not match its manifest "
                         "(SHA-256 differs): it is corrupted or was replaced; reinstall the "
                         "package or re-create the release")
    network = build_network(manifest)
    _load_float16_weights(network, path, name)
    return network


def _weight_key(variable) -> str:
    return variable.path


def _load_float16_weights(network, path: Path, name: str) -> None:
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"Cannot read the weights of {name!r} from {path}: {error}") from error
    expected = {_weight_key(v): v for v in network.weights}
    missing, extra = sorted(set(expected) - set(arrays)), sorted(set(arrays) - set(expected))
    if missing or extra:
        raise ValueError(f"The weights of {name!r} do not fit its network: missing "
                         f"{missing[:3]}, unexpected {extra[:3]}")
    for key, variable in expected.items():
        value = arrays[key]
        if tuple(value.shape) != tuple(variable.shape) or value.dtype != np.float16:
            raise ValueError(f"The weight {key} of {name!r} is {value.dtype}{value.shape}; the "
                             f"network needs float16{tuple(variable.shape)}")
        variable.assign(value.astype(np.float32))


def float16_weights(network) -> dict[str, np.ndarray]:
    """Every weight of `network` as float16, keyed by its path; refuses weights that
    float16 cannot hold (beyond its range)."""
    arrays = {}
    for variable in network.weights:
        value = np.asarray(variable.numpy(), np.float32)
        if np.abs(value).max(initial=0) > np.finfo(np.float16).max:
            raise ValueError(f"Weight {variable.path} exceeds the float16 range")
        arrays[_weight_key(variable)] = value.astype(np.float16)
    return arrays


def write_release(network, name: str, manifest: dict, folder=None) -> Path:
    """Writes `network`'s float16 weights and the manifest (with the file's SHA-256 and
    size added) into `folder`, each atomically; returns the manifest's path."""
    folder = _folder(folder)
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / f"{name}{WEIGHTS_SUFFIX}"
    with _io.atomic_path(weights, suffix=WEIGHTS_SUFFIX) as temporary:
        with open(temporary, "wb") as handle:
            np.savez(handle, **float16_weights(network))
    manifest = {"format": MANIFEST_FORMAT, "name": name, **manifest,
                "weights_file": weights.name, "bytes": weights.stat().st_size,
                "sha256": file_sha256(weights)}
    path = folder / f"{name}.json"
    _io.write_json(path, manifest)
    return path


def check_set(mask_kind: str, n: int = CHECK_IMAGES):
    """The offline check set of a mask kind: synthetic test images and fixed masks."""
    from inpaint_tf.data import synthetic_split
    from inpaint_tf.masks import eval_masks

    images = synthetic_split(n_train=1, n_validation=1, n_test=n, seed=CHECK_SEED).test.images
    return images, eval_masks(mask_kind, n)


def score_release(network, mask_kinds, *, fill_value: float, split=None,
                  n: int | None = None) -> dict:
    """Figures of a network per mask kind: on the CIFAR-10 test set (`split`, the
    first `n` images, fixed masks) when given, else on the offline check set."""
    from inpaint_tf.evaluation import as_predict_fn, evaluate
    from inpaint_tf.masks import eval_masks

    scores = {}
    for kind in mask_kinds:
        if split is None:
            images, masks = check_set(kind)
        else:
            images = split.test.images[:n]
            masks = eval_masks(kind, len(images), height=images.shape[1],
                               width=images.shape[2])
        row = evaluate(as_predict_fn(network), images, masks, fill_value=fill_value,
                       mask_kind=kind, name="release")
        scores[kind] = {k: v for k, v in row.items() if k not in ("name", "seconds")}
    return scores


# The mask kinds a release serves, by the kind it was trained on.
SERVED_KINDS = {"boxes": ("center_box", "random_box", "gan_rectangle"),
                "irregular": ("irregular", "irregular_area")}


def release_run(run_dir, name: str | None = None, *, folder=None, data=None,
                test_images: int | None = None) -> Path:
    """Makes a release of a finished run folder: float16 weights and a manifest.

    The manifest's figures are measured on the released (float16) weights: on the
    CIFAR-10 test set (``data`` or ``$INPAINT_TF_DATA``; the config's test images,
    or `test_images`) for every mask kind the model serves, and on the offline
    check set. Returns the manifest's path.

    Example:
        >>> release_run("runs/own_unet_irregular")                       # doctest: +SKIP
    """
    from inpaint_tf.data import load_cifar10
    from inpaint_tf.experiments import load_config
    from inpaint_tf.training import BUILDERS, RunFolder, load_inference_model

    run = RunFolder(run_dir)
    metrics = run.read_metrics()
    if not run.config.is_file() or "test" not in metrics:
        raise FileNotFoundError(f"{run_dir} is not a finished run folder (no config.toml or "
                                "metrics.json with a test evaluation)")
    config = load_config(run.config)
    name = name or config.name
    options = {k: v for k, v in config.model.options.items() if k != "vgg_weights"}
    options["fill_value"] = config.data.fill_value
    manifest = {
        "description": config.description,
        "config": config.to_dict(),
        "builder": BUILDERS[config.model.kind],
        "options": options,
        "mask_kinds": list(SERVED_KINDS.get(config.data.masks, (config.data.masks,))),
        "fill_value": config.data.fill_value,
        "training": {key: metrics.get(key) for key in (
            "epochs", "train_seconds", "wall_seconds", "device", "precision", "batch_size",
            "steps_per_epoch", "data_source", "test_checksum")},
        "reproduce": f"inpaint-tf train experiments/{config.name}.toml --precision mixed "
                     f"--out runs/{config.name} && inpaint-tf release runs/{config.name}",
    }
    # Score the weights as released: float16, widened into a float32 network.
    network = build_network(manifest)
    rounded = float16_weights(load_inference_model(run.path))
    for variable in network.weights:
        variable.assign(rounded[_weight_key(variable)].astype(np.float32))
    split = load_cifar10(data or config.data.source or None)
    manifest["data"] = {"source": metrics.get("data_source"),
                        "train_checksum": image_checksum(split.train.images),
                        "test_checksum": image_checksum(split.test.images)}
    if manifest["data"]["test_checksum"] != metrics.get("test_checksum"):
        raise ValueError(f"The test images read ({manifest['data']['test_checksum']}) are not "
                         f"those the run was scored on ({metrics.get('test_checksum')}): "
                         "give the run's data copy")
    n = test_images or config.data.test_images
    manifest["test"] = score_release(network, manifest["mask_kinds"],
                                     fill_value=config.data.fill_value, split=split, n=n)
    manifest["check"] = score_release(network, manifest["mask_kinds"],
                                      fill_value=config.data.fill_value)
    return write_release(network, name, manifest, folder)
