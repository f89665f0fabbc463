"""A first look without training: released models beside the classical methods.

`run_demo` writes everything into one folder.

**The headline is a real photo.** Each released photo model fills one photo at
full size: Grace Hopper's portrait, which ships with matplotlib (public domain),
or a photo you give. It does so for several hole families, each the photo's
fixed mask of that family. Outputs:

- ``photo_<model>.png``: the whole photo with its holes, Navier–Stokes, the model
  and the original;
- ``samples.png``: crops around the holes of every family;
- at the head of ``figures.md``, on this one photo: the hole figures of the model
  and of the classical methods that run here (Navier–Stokes, Telea, biharmonic,
  FSR fast; ``fsr_best`` is left out, about 15 s per family), the best of them
  and the model's margin over it, and each method's seconds per photo;
- ``classical_scores.json``: the classical methods' rows, computed once for every
  photo model and reused by a rerun into the same folder
  (`inpaint_tf.evaluation.classical_scores`).

**Then the CIFAR-10 models.** Each serves some mask kinds. For each one, a sample
grid (original | mask | masked input | Navier–Stokes | the model) is written to
``samples_<model>_<kind>.png``, and the hole figures of both go into
``figures.md``. The images are the CIFAR-10 test set when a local copy is there
(``data``, ``$INPAINT_TF_DATA`` or Keras' cache). Otherwise they are synthetic
images (`inpaint_tf.data.synthetic_split`): an offline self-check only, and every
line says so, since nothing downloads.

Example:
    >>> from inpaint_tf.reports.demo import run_demo
    >>> for line in run_demo("runs/demo"):                          # doctest: +SKIP
    ...     print(line)
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from inpaint_tf import _io

SAMPLE_COUNT = 6
# The hole families the headline photo is filled for.
PHOTO_DEMO_KINDS = ("blobs", "thin_strokes", "medium_strokes", "object_boxes")


def demo_photo(path=None) -> tuple[np.ndarray, str]:
    """The headline photo (RGB uint8) and its label: `path`, else the portrait of
    Grace Hopper that matplotlib ships (public domain, 512 x 600)."""
    from inpaint_tf.data.image_files import read_image

    if path is not None:
        return read_image(path), str(path)
    from matplotlib import cbook

    sample = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    return read_image(sample), "Grace Hopper (matplotlib's sample photo, public domain)"


def demo_images(n: int, data=None) -> tuple[np.ndarray, str]:
    """The first `n` CIFAR-10 test images from a local copy, else synthetic images;
    with a label saying which."""
    from inpaint_tf.data import load_cifar10, synthetic_split

    local = data or os.environ.get("INPAINT_TF_DATA")
    cached = Path("~/.keras/datasets/cifar-10-batches-py").expanduser()
    if local or cached.is_dir():
        images = load_cifar10(local or str(cached)).test.images[:n]
        return images, f"CIFAR-10 test images ({local or cached})"
    images = synthetic_split(n_train=1, n_validation=1, n_test=n, seed=0).test.images
    return images, ("synthetic images: an offline self-check only (no local CIFAR-10 copy; "
                    "set INPAINT_TF_DATA). They are smooth gradients, which favour "
                    "Navier-Stokes' diffusion: the models' CIFAR-10 figures are in their "
                    "manifests")


def _is_photo_model(manifest: dict) -> bool:
    return manifest.get("config", {}).get("data", {}).get("kind") == "photos"


def run_demo(out, names=None, n: int = 1000, data=None, photo=None) -> list[str]:
    """Inpaints with released models and the classical methods; returns the lines of
    figures.

    Args:
        out: output folder.
        names: released model names (default all of `pretrained_names()`).
        n: CIFAR-10 images scored per mask kind (the first of them are drawn).
        data: a local CIFAR-10 copy (default ``$INPAINT_TF_DATA`` or Keras' cache).
        photo: the headline photo's path (default: Grace Hopper, from matplotlib).
    """
    from inpaint_tf._validation import check_positive_int
    from inpaint_tf.presets.released import pretrained_manifest, pretrained_names

    names = pretrained_names() if names is None else list(names)
    if not names:
        raise ValueError("No released models to show (inpaint_tf/released/ is empty)")
    n = check_positive_int(n, "n")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    manifests = {name: pretrained_manifest(name) for name in names}
    photo_models = [name for name in names if _is_photo_model(manifests[name])]
    lines, pictures = [], []
    if photo_models:
        photo_lines, photo_pictures = _photo_demo(out, photo_models, photo)
        lines += photo_lines
        pictures += photo_pictures
    cifar_models = [name for name in names if name not in photo_models]
    if cifar_models:
        cifar_lines, grids = _cifar_demo(out, cifar_models, manifests, n, data)
        lines += ([""] if lines else []) + cifar_lines
        pictures += grids
    if not photo_models:
        shutil.copyfile(pictures[0], out / "samples.png")
    _io.write_text(out / "figures.md", "\n".join(lines) + "\n")
    return [*lines, "", f"pictures: {', '.join(str(p) for p in pictures)}",
            f"figures: {out / 'figures.md'}"]


def _photo_demo(out: Path, names, photo) -> tuple[list[str], list[Path]]:
    """The headline: each photo model on one real photo, per hole family, beside
    the classical methods on identical holes."""
    from inpaint_tf.evaluation.baselines import available_baselines
    from inpaint_tf.evaluation.photos import (
        PHOTO_BASELINES,
        PhotoSet,
        best_baselines,
        compare_on_photos,
        margins,
    )
    from inpaint_tf.masks import photo_mask
    from inpaint_tf.plotting import plot_hole_crops, show_images
    from inpaint_tf.presets.released import pretrained

    image, label = demo_photo(photo)
    height, width = image.shape[:2]
    baselines = available_baselines(PHOTO_BASELINES)
    columns = ["model", "masks", "hole share", "model hole PSNR (dB)",
               *(f"{method} (dB)" for method in baselines), "best classical",
               "margin (dB)", "model hole SSIM"]
    lines = [f"# A real photo at full size: {label}, {width} x {height}", "",
             "Hole PSNR and SSIM on this one photo (one mask per family); the models' "
             "figures on the photo test sets are in their manifests.", "",
             "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    photos = PhotoSet([label], [image])
    pictures, seconds = [], {}
    for name in names:
        model = pretrained(name)
        rows = compare_on_photos(model, photos, PHOTO_DEMO_KINDS, baselines=baselines,
                                 name=name, classical_scores=out / "classical_scores.json")
        best, gaps = best_baselines(rows), margins(rows, name)
        for kind in PHOTO_DEMO_KINDS:
            of_kind = {row["name"]: row for row in rows if row["masks"] == kind}
            ours = of_kind[name]
            cells = [name, kind, f"{ours['hole_share']:.3f}", f"{ours['hole_psnr']:.2f}",
                     *(f"{of_kind[method]['hole_psnr']:.2f}" for method in baselines),
                     best[kind], f"{gaps[kind]:+.2f}", f"{ours['hole_ssim']:.3f}"]
            lines.append("| " + " | ".join(cells) + " |")
        for row in rows:
            seconds.setdefault(row["name"], []).append(row["seconds_per_photo"])
        masks = [photo_mask(kind, image) for kind in PHOTO_DEMO_KINDS]
        ns_fills, model_fills = _photo_fills(model, image, masks)
        crops = out / f"photo_samples_{name}.png"
        plot_hole_crops([image] * len(masks), masks,
                        {"Navier-Stokes": ns_fills, name: model_fills}, path=crops, close=True)
        whole = out / f"photo_{name}.png"
        both = np.maximum(masks[0], masks[2])  # blobs and medium strokes together
        ns_both, model_both = _photo_fills(model, image, [both])
        masked = np.where(both > 0, 1.0, image / 255.0)
        show_images([masked, ns_both[0], model_both[0], image],
                    titles=["holes", "Navier-Stokes", name, "original"], columns=4,
                    path=whole, close=True, panel_inches=3.2)
        pictures += [crops, whole]
    lines += ["", "| method | seconds per photo (mean over the families) |", "|---|---|",
              *(f"| {method} | {np.mean(times):.3f} |" for method, times in seconds.items())]
    shutil.copyfile(pictures[0], out / "samples.png")
    return lines, pictures


def _photo_fills(model, image, masks):
    from inpaint_tf.evaluation.baselines import NavierStokesBaseline
    from inpaint_tf.inference.inpainting import inpaint

    floats = image[None].astype(np.float32) / 255.0
    ns, ours = [], []
    for mask in masks:
        hole = mask[None].astype(np.float32)
        ns.append(NavierStokesBaseline().predict(floats * (1 - hole), hole)[0])
        ours.append(inpaint(model, floats, hole)[0])
    return ns, ours


def _cifar_demo(out: Path, names, manifests, n: int, data) -> tuple[list[str], list[Path]]:
    """The CIFAR-10 models on CIFAR-10 test images (or the offline self-check)."""
    from inpaint_tf.evaluation.baselines import NavierStokesBaseline
    from inpaint_tf.evaluation.protocols import as_predict_fn, evaluate
    from inpaint_tf.masks import eval_masks
    from inpaint_tf.presets.released import pretrained

    images, source = demo_images(n, data)
    lines = [f"# Released models on {len(images)} {source}", "",
             "| model | masks | hole share | model hole PSNR (dB) | NS hole PSNR (dB) | "
             "model hole SSIM | NS hole SSIM |", "|---|---|---|---|---|---|---|"]
    baseline = NavierStokesBaseline()
    grids = []
    for name in names:
        manifest = manifests[name]
        model = pretrained(name)
        predict = as_predict_fn(model)
        fill = manifest["fill_value"]
        for kind in manifest["mask_kinds"]:
            masks = eval_masks(kind, len(images), height=images.shape[1], width=images.shape[2])
            ours = evaluate(predict, images, masks, fill_value=fill, mask_kind=kind)
            theirs = evaluate(baseline.predict, images, masks, mask_kind=kind)
            lines.append(f"| {name} | {kind} | {ours['hole_share']:.3f} | "
                         f"{ours['hole_psnr']:.2f} | {theirs['hole_psnr']:.2f} | "
                         f"{ours['hole_ssim']:.3f} | {theirs['hole_ssim']:.3f} |")
            grid = out / f"samples_{name}_{kind}.png"
            _sample_grid(images[:SAMPLE_COUNT], masks[:SAMPLE_COUNT], predict, baseline, fill,
                         name, grid)
            grids.append(grid)
    return lines, grids


def _sample_grid(images, masks, predict, baseline, fill, name, path) -> None:
    """Rows of original | mask | masked input | Navier–Stokes | the model's composite."""
    from inpaint_tf.compositing import composite, fill_holes
    from inpaint_tf.plotting import show_images

    floats = images.astype(np.float32) / 255.0
    masks = masks.astype(np.float32)
    ns = np.clip(baseline.predict(fill_holes(floats, masks, 0.0), masks), 0, 1)
    ours = composite(np.clip(predict(fill_holes(floats, masks, fill), masks), 0, 1), floats,
                     masks)
    panels, titles = [], []
    columns = ("original", "mask", "masked", "Navier-Stokes", name)
    for row, values in enumerate(zip(floats, masks, fill_holes(floats, masks, 0.0), ns, ours)):
        panels += list(values)
        titles += list(columns) if row == 0 else [""] * len(columns)
    show_images(panels, titles=titles, columns=len(columns), path=path, close=True)
