"""Making a release: a finished run's network as float16 weights and a manifest.

`release_run` scores the weights as released (float16, widened into a float32
network) on the CIFAR-10 test set for every mask kind the model serves and on an
offline check set, and writes both files into the package's ``released/`` folder
(see `inpaint_tf.presets.released` for the files and for `pretrained`, which this
module re-exports).

Reproduce a release from scratch with the command in its manifest
(``inpaint-tf train experiments/<name>.toml --precision mixed``), then
``inpaint-tf release runs/<name>`` (`release_run`).

Example:
    >>> from inpaint_tf import release_run
    >>> release_run("runs/own_unet_irregular")                       # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from inpaint_tf import _io
from inpaint_tf._checksums import (
    image_checksum,
    pixel_sha256,
)
from inpaint_tf.configs import load_config
from inpaint_tf.data import load_cifar10, synthetic_split
from inpaint_tf.evaluation.baselines import checked_baselines
from inpaint_tf.evaluation.classical_scores import as_classical_scores
from inpaint_tf.evaluation.photos import (
    HOLE_FIGURES,
    PHOTO_BASELINES,
    PHOTO_MASK_KINDS,
    best_baselines,
    compare_on_photos,
    evaluate_photos,
    load_photo_set,
    margins,
    photo_predict_fn,
)
from inpaint_tf.evaluation.protocols import as_predict_fn, evaluate
from inpaint_tf.masks import EVAL_SEED, FREE_FORM_KINDS, eval_masks, eval_photo_masks
from inpaint_tf.presets.loading import load_inference_model, network_spec
from inpaint_tf.presets.released import (
    build_network,
    float16_weights,
    weight_key,
    write_release,
)
from inpaint_tf.training.run_folders import RunFolder

# The offline check set: synthetic images any machine can draw, scored in CI.
CHECK_IMAGES = 256
CHECK_PHOTOS = 8
CHECK_SEED = 7
HELD_OUT_SEED = 424242  # the mask seed of a release's held-out check, used by nothing else


def check_set(mask_kind: str, n: int | None = None):
    """The offline check set of a mask kind: synthetic test images and fixed masks
    (256 images of 32 x 32 for the study's kinds; 8 photo-like images of 96 x 128,
    each with its photo mask, for the free-form kinds)."""
    if mask_kind in FREE_FORM_KINDS:
        n = n or CHECK_PHOTOS
        split = synthetic_split(n_train=1, n_validation=1, n_test=n, size=128, seed=CHECK_SEED)
        images = [image[16:112] for image in split.test.images]
        return images, eval_photo_masks(mask_kind, images, CHECK_SEED)
    n = n or CHECK_IMAGES
    images = synthetic_split(n_train=1, n_validation=1, n_test=n, seed=CHECK_SEED).test.images
    return images, eval_masks(mask_kind, n)


def score_release(network, mask_kinds, *, fill_value: float, split=None,
                  n: int | None = None) -> dict:
    """Figures of a network per mask kind: on the CIFAR-10 test set (`split`, the
    first `n` images, fixed masks) when given, else on the offline check set."""
    scores = {}
    for kind in mask_kinds:
        if split is None and kind in FREE_FORM_KINDS:
            images, masks = check_set(kind)
            row = evaluate_photos(photo_predict_fn(network), images, masks, mask_kind=kind)
            scores[kind] = {k: v for k, v in row.items()
                            if k not in ("name", "seconds", "seconds_per_photo")}
            continue
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
                test_images: int | None = None, photos=None,
                baselines=PHOTO_BASELINES, classical_scores=None, reuse_only=()) -> Path:
    """Makes a release of a finished run folder: float16 weights and a manifest.

    The manifest's figures are measured on the released (float16) weights, for
    every mask kind the model serves, and on the offline check set. A CIFAR-10 run
    is scored on the CIFAR-10 test set (``data`` or ``$INPAINT_TF_DATA``; the
    config's test images, or `test_images`). A photos run is scored on the photo
    test folders `photos`, at full size, beside the classical methods `baselines`
    (default all five of `PHOTO_BASELINES`, ``fsr_best`` included, which alone
    takes hours on Kodak24, McMaster and CBSD68 on 2 cores) on identical holes, on the
    fixed masks and on a held-out mask seed; each family records its margin over
    the best of them and that method's name. With `classical_scores` (a file, see
    `inpaint_tf.evaluation.classical_scores`) the classical methods' rows stored
    there are reused, and those computed are stored; methods in `reuse_only` are
    only reused, never computed (``("fsr_best",)``: where its hours were not spent,
    a family is measured against the others, and its figures say which). A photos
    run's metrics.json gets the rows of these figures (``photo_evaluations``, the
    model's under the config's name), so that its report (`inpaint-tf report --photos`)
    shows the released weights without scoring them again. Returns the manifest's path.

    Example:
        >>> release_run("runs/own_unet_irregular")                       # doctest: +SKIP
    """
    run = RunFolder(run_dir)
    metrics = run.read_metrics()
    if not run.config.is_file() or "test" not in metrics:
        raise FileNotFoundError(f"{run_dir} is not a finished run folder (no config.toml or "
                                "metrics.json with a test evaluation)")
    config = load_config(run.config)
    is_photos = config.data.kind == "photos"
    if is_photos and not photos:
        raise ValueError("A photo model is released with its photo test folders: give "
                         "photos=[...] (CLI: --photos DIR ...)")
    if classical_scores is not None:  # a bad file is refused before the scoring
        if not is_photos:
            raise ValueError("Classical scores go with a photo model's release and its photo "
                             "test folders (CLI: --classical-scores FILE with --photos DIR)")
        classical_scores = as_classical_scores(classical_scores)
    name = name or config.name
    manifest = {
        "description": config.description,
        "config": config.to_dict(),
        **network_spec(config),
        "mask_kinds": list(PHOTO_MASK_KINDS if is_photos else
                           SERVED_KINDS.get(config.data.masks, (config.data.masks,))),
        "fill_value": config.data.fill_value,
        "training": {key: metrics.get(key) for key in (
            "epochs", "train_seconds", "wall_seconds", "device", "precision", "batch_size",
            "steps_per_epoch", "data_source", "train_checksum", "test_checksum")},
        "reproduce": f"inpaint-tf train experiments/{config.name}.toml --precision mixed "
                     f"--out runs/{config.name} && "
                     + _release_command(config.name, photos if is_photos else None,
                                        classical_scores, baselines, reuse_only),
    }
    # Score the weights as released: float16, widened into a float32 network.
    network = build_network(manifest)
    rounded = float16_weights(load_inference_model(run.path))
    for variable in network.weights:
        variable.assign(rounded[weight_key(variable)].astype(np.float32))
    if is_photos:
        figures, rows = _photo_figures(network, photos, metrics, baselines,
                                       classical_scores, reuse_only, name=config.name)
        manifest.update(figures)
        manifest["check"] = score_release(network, manifest["mask_kinds"],
                                          fill_value=config.data.fill_value)
        path = write_release(network, name, manifest, folder)
        metrics.setdefault("photo_evaluations", []).extend(rows)
        _io.write_json(run.metrics, metrics)  # the report then shows the released weights
        return path
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


def _release_command(name: str, photos=None, classical_scores=None, baselines=PHOTO_BASELINES,
                     reuse_only=()) -> str:
    """The command that releases run `name` again: with a photo model's test folders,
    its classical methods when not all five, its classical scores file and the methods
    only reused from it."""
    command = f"inpaint-tf release runs/{name}"
    if photos is None:
        return command
    folders = photos if isinstance(photos, (list, tuple)) else [photos]
    command += " --photos " + " ".join(str(folder) for folder in folders)
    baselines = checked_baselines(baselines)
    if baselines != tuple(PHOTO_BASELINES):
        command += " --baselines " + ",".join(baselines)
    if classical_scores is not None:  # a file's name, or a ClassicalScores' file
        command += f" --classical-scores {getattr(classical_scores, 'path', classical_scores)}"
    if reuse_only:
        command += " --reuse-only " + ",".join(checked_baselines(reuse_only))
    return command


def _photo_figures(network, photos, metrics: dict, baselines=PHOTO_BASELINES,
                   classical_scores=None, reuse_only=(), name="release") -> tuple[dict, list]:
    """A photo model's data record and figures on the photo test set at full size: per
    mask family the model and the classical methods `baselines`, on the fixed masks
    and on the held-out seed, the margin over the best of them and its name (the
    classical rows reused from, and stored in, `classical_scores` when given); and
    the rows they came from, the model's named `name`."""
    photo_set = load_photo_set(photos)
    checksums = sorted(pixel_sha256(image) for image in photo_set.images)
    test_checksum = hashlib.sha256("".join(checksums).encode()).hexdigest()[:16]
    figures, every_row = {}, []
    for key, seed in (("test", EVAL_SEED), ("held_out", HELD_OUT_SEED)):
        rows = compare_on_photos(network, photo_set, PHOTO_MASK_KINDS, seed=seed,
                                 baselines=baselines, name=name,
                                 classical_scores=classical_scores, reuse_only=reuse_only)
        every_row += rows
        gaps, best = margins(rows, name), best_baselines(rows)
        figures[key] = {row["masks"]: {} for row in rows}
        for row in rows:
            kept = {k: row[k] for k in ("n", "hole_share", *HOLE_FIGURES, "mask_checksum",
                                        "seconds_per_photo")}
            if "area_bins" in row:
                kept["area_bins"] = row["area_bins"]
            method = "model" if row["name"] == name else row["name"]
            figures[key][row["masks"]][method] = kept
        for kind, gap in gaps.items():
            figures[key][kind].update(margin_db=gap, best_classical=best[kind])
    figures["data"] = {
        "source": metrics.get("data_source"), "train_checksum": metrics.get("train_checksum"),
        "test_sets": sorted({name.split("/")[0] for name in photo_set.names}),
        "test_photos": len(photo_set.images), "test_checksum": test_checksum,
        "mask_seed": EVAL_SEED, "held_out_seed": HELD_OUT_SEED}
    return figures, every_row
