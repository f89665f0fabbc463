"""A first look without training: released models on test images beside Navier–Stokes.

`run_demo` writes, for each released model and each mask kind it serves, a
sample grid (original | mask | masked input | Navier–Stokes | the model) and the
hole figures of both on the same images and holes, into one folder:
``samples_<model>_<kind>.png``, ``samples.png`` (the first of them) and
``figures.md``. The images are the CIFAR-10 test set when a local copy is there
(``data``, ``$INPAINT_TF_DATA`` or Keras' cache); otherwise synthetic images
(`inpaint_tf.synthetic_split`), said so in every line, since nothing downloads.

Example:
    >>> from inpaint_tf.demo import run_demo
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
    return images, ("synthetic images (no local CIFAR-10 copy; set INPAINT_TF_DATA). They are "
                    "smooth gradients, which favour Navier-Stokes' diffusion: the models' "
                    "CIFAR-10 figures are in their manifests")


def run_demo(out, names=None, n: int = 1000, data=None) -> list[str]:
    """Inpaints with released models and Navier–Stokes; returns the lines of figures.

    Args:
        out: output folder.
        names: released model names (default all of `pretrained_names()`).
        n: images scored per mask kind (the first of them are drawn).
        data: a local CIFAR-10 copy (default ``$INPAINT_TF_DATA`` or Keras' cache).
    """
    from inpaint_tf._validation import check_positive_int
    from inpaint_tf.baselines import NavierStokesBaseline
    from inpaint_tf.evaluation import as_predict_fn, evaluate
    from inpaint_tf.masks import eval_masks
    from inpaint_tf.released_models import pretrained, pretrained_manifest, pretrained_names

    names = pretrained_names() if names is None else list(names)
    if not names:
        raise ValueError("No released models to show (inpaint_tf/released/ is empty)")
    n = check_positive_int(n, "n")
    images, source = demo_images(n, data)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lines = [f"# Released models on {len(images)} {source}", "",
             "| model | masks | hole share | model hole PSNR (dB) | NS hole PSNR (dB) | "
             "model hole SSIM | NS hole SSIM |", "|---|---|---|---|---|---|---|"]
    baseline = NavierStokesBaseline()
    grids = []
    for name in names:
        manifest = pretrained_manifest(name)
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
    shutil.copyfile(grids[0], out / "samples.png")
    _io.write_text(out / "figures.md", "\n".join(lines) + "\n")
    return [*lines, "", f"sample grids: {', '.join(str(g) for g in grids)}",
            f"figures: {out / 'figures.md'}"]


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
