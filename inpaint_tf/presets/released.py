"""Released models: trained networks that ship inside the package, ready to inpaint.

Each release is two files in ``inpaint_tf/released/``:

``<name>.weights.npz``
    every weight of the network as float16 (half the size of float32), keyed by
    the weight's path in the model (``encoder_stage1_conv_a/kernel``);
``<name>.json``
    its manifest: the config that trained it, the builder and its options, the
    data it was trained and scored on (with checksums), the training time and
    device, its figures for every mask kind it serves, figures on a small
    synthetic check set that any machine can recompute offline, and the SHA-256
    and size of the weights file.

`pretrained(name)` checks the SHA-256 before anything else and every weight's
name and shape after, so a corrupted, truncated or mismatched file is a
`ValueError`, never a silently wrong model. The network is rebuilt float32 and
the float16 weights widened exactly; the figures in a manifest are those of this
float32 model with the float16 weights. ``pretrained(name, precision="mixed")``
rebuilds it to compute in bfloat16 on a CPU (float16 on a GPU) with the same
weights: faster, and its outputs differ from float32's by a few thousandths.

This module reads and writes those files; `inpaint_tf.presets.releasing` makes a release
from a finished run.

Example:
    >>> from inpaint_tf import pretrained, pretrained_names, inpaint
    >>> pretrained_names()                                          # doctest: +SKIP
    ['own_unet_boxes', 'own_unet_irregular']
    >>> model = pretrained("own_unet_irregular")                    # doctest: +SKIP
    >>> filled = inpaint(model, image, mask)                         # doctest: +SKIP
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from inpaint_tf import _io
from inpaint_tf._checksums import file_sha256
from inpaint_tf.training.precision import dtype_policy, policy_for

RELEASE_FOLDER = Path(__file__).resolve().parent.parent / "released"
WEIGHTS_SUFFIX = ".weights.npz"
MANIFEST_FORMAT = 1


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


def build_network(manifest: dict, precision: str = "float32"):
    """The manifest's network (its ``builder`` and ``options``) for any height and
    width, untrained, computing in `precision` (``"float32"`` or ``"mixed"``, as
    `inpaint_tf.training.precision.policy_for` maps it); its output is float32 either way."""
    from inpaint_tf import models

    builder = getattr(models, manifest["builder"])
    with dtype_policy(policy_for(precision)):
        return builder(input_shape=(None, None, 3), **manifest["options"])


def pretrained(name: str, folder=None, *, precision: str = "float32"):
    """A released model, ready to inpaint: a Keras model taking
    ``{"image": (B, H, W, 3), "mask": (B, H, W, 1)}`` (1 = hole) of any size
    that is a multiple of its downsampling factor (`inpaint_tf.inpaint` pads),
    giving a float32 image.

    Args:
        name: one of `pretrained_names()`.
        folder: where releases live (default: the package's).
        precision: ``"float32"`` (the manifest's figures are this model's) or
            ``"mixed"``: the same weights computing in bfloat16 on a CPU (float16
            on a GPU), faster on a CPU (``benchmarks/photo_speed.py --precision
            mixed`` measures it), its outputs a few thousandths from float32's.

    Raises:
        ValueError: an unknown name, a weights file whose SHA-256 differs from
            the manifest's (corrupted or replaced), or weights that do not fit
            the network (missing, extra or of another shape).

    Example:
        >>> model = pretrained("own_unet_irregular")                  # doctest: +SKIP
        >>> fast = pretrained("photo_unet", precision="mixed")         # doctest: +SKIP
    """
    policy_for(precision)  # an unknown precision is refused before any file is read
    folder = _folder(folder)
    manifest = pretrained_manifest(name, folder)
    path = folder / f"{name}{WEIGHTS_SUFFIX}"
    if file_sha256(path) != manifest["sha256"]:
        raise ValueError(f"The weights file of {name!r} ({path}) does not match its manifest "
                         "(SHA-256 differs): it is corrupted or was replaced; reinstall the "
                         "package or re-create the release")
    network = build_network(manifest, precision)
    _load_float16_weights(network, path, name)
    return network


def weight_key(variable) -> str:
    """The key of a weight in a release file: its path in the model."""
    return variable.path


def _load_float16_weights(network, path: Path, name: str) -> None:
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"Cannot read the weights of {name!r} from {path}: {error}") from error
    expected = {weight_key(v): v for v in network.weights}
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
        arrays[weight_key(variable)] = value.astype(np.float16)
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
