"""Writes the seven study notebooks from one template, so that they cannot drift apart.

Each notebook mirrors one of the study's notebooks and runs its shipped config
through the library; the only differences between them are the config, the
title and the model summary cell (the GAN has two networks). The notebooks are
stored without outputs; edit this file, not the notebooks, then run::

    python notebooks/build_notebooks.py           # rewrite all seven
    python notebooks/build_notebooks.py --check   # exit 1 if a stored one differs
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from string import Template

import nbformat

from inpaint_tf import __version__
from inpaint_tf.configs import STUDY_RESULTS, ExperimentConfig, load_config

FOLDER = Path(__file__).resolve().parent
RECORDS = FOLDER.parent / "experiments" / "records"

# Notebook file stem -> (title, shipped config). The stems are the study's notebook
# names with their spelling corrected.
NOTEBOOKS = {
    "convolutional_autoencoder_regular_center": (
        "Convolutional autoencoder, centred box", "exp1_conv_autoencoder_center_box"),
    "convolutional_autoencoder_regular_random": (
        "Convolutional autoencoder, random box", "exp2_conv_autoencoder_random_box"),
    "convolutional_autoencoder_irregular": (
        "Convolutional autoencoder, irregular strokes", "exp3_conv_autoencoder_irregular"),
    "partial_convolution_autoencoder_regular_random": (
        "Partial-convolution autoencoder, random box", "exp4_pconv_autoencoder_random_box"),
    "partial_convolution_autoencoder_irregular": (
        "Partial-convolution autoencoder, irregular strokes",
        "exp5_pconv_autoencoder_irregular"),
    "gan_regular_random_b32": (
        "Globally and locally consistent GAN, rectangles, batch 32", "exp6_gan_rectangle_b32"),
    "gan_regular_random_b800": (
        "Globally and locally consistent GAN, rectangles, batch 800",
        "exp7_gan_rectangle_b800"),
}

# (cell type, cell id, source). `$name` is filled per notebook; `$$` is a dollar sign.
TEMPLATE = [
    ("markdown", "title", """\
# $title

$description

**Config** `$config`: $facts. $study

**Record.** $record

Every step below is one call of the `inpaint_tf` library (data, masks, model, training,
plots, evaluation, export); the notebook holds no model code.

**QUICK mode.** Set `QUICK = True` in the parameters cell for a smoke run of seconds on a
CPU: synthetic images instead of CIFAR-10, one epoch of two batches of 8, and 8 validation
and 8 test images. Its numbers mean nothing; it shows that every step runs. Without it
the run takes the study's full budget: use a GPU (Kaggle or Colab). Training writes a run
folder and resumes from its last completed epoch when the training cell is run again."""),
    ("code", "install", """\
# Installs inpaint_tf where it is missing (Kaggle, Colab); does nothing where it imports.
# Set INSTALL_FROM to where the code is: this repository's git URL, the path of a clone,
# or a wheel built by `make wheel` (see notebooks/README.md). No package of this name is
# published on the package index, so nothing is ever installed by bare name.
import importlib.util
import subprocess
import sys

INSTALL_FROM = ""  # e.g. "git+https://github.com/OWNER/REPO.git", or a clone's or wheel's path

if importlib.util.find_spec("inpaint_tf") is None:
    if "/" not in INSTALL_FROM:  # a URL or a path, never a name looked up on the index
        raise RuntimeError(
            "inpaint_tf is not installed. Set INSTALL_FROM in this cell to where its code "
            "is, then run the cell again:\\n"
            '  Colab: the git URL, INSTALL_FROM = "git+https://github.com/OWNER/REPO.git"\\n'
            "  Kaggle: attach a wheel built by `make wheel` as a dataset, INSTALL_FROM = "
            '"/kaggle/input/DATASET/inpaint_tf-$version-py3-none-any.whl"\\n'
            "  Elsewhere: the path of a clone or of a wheel.")
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", INSTALL_FROM])"""),
    ("code", "parameters", """\
CONFIG = "$config"  # a shipped config name or the path of a TOML config
QUICK = False  # True: a smoke run of seconds on synthetic data
DATA = None  # a CIFAR-10 copy; None = $$INPAINT_TF_DATA, else the Keras download
RUN_DIR = None  # None = runs/<CONFIG> (runs/<CONFIG>_quick when QUICK)
PRECISION = "float32"  # or "mixed": bfloat16 on CPU, float16 on GPU"""),
    ("markdown", "data-heading", """\
## Data and masks

The study's split of CIFAR-10: the first 10,000 training images validate, the other
40,000 train, and the official 10,000 test images test. As in the study, a grid of
training images, then the same images as the network sees them, with holes of the
config's mask kind filled with `data.fill_value`."""),
    ("code", "data", """\
import numpy as np
import tensorflow as tf
from IPython.display import Image

from inpaint_tf import load_cifar10, load_config, train
from inpaint_tf.compositing import fill_holes
from inpaint_tf.configs import with_overrides
from inpaint_tf.data import synthetic_split
from inpaint_tf.evaluation import NavierStokesBaseline, evaluate, results_table
from inpaint_tf.evaluation.runs import fixed_test_set
from inpaint_tf.masks import generate_masks
from inpaint_tf.plotting import plot_curves, show_images
from inpaint_tf.training import build_model

config = load_config(CONFIG)
if QUICK:
    # Seconds, not hours: one epoch of two batches of 8 on 16 synthetic images.
    config = with_overrides(config, **{
        "training.epochs": 1, "training.steps_per_epoch": 2, "training.batch_size": 8,
        "data.validation_images": 8, "data.test_images": 8})
    split = synthetic_split(n_train=16, n_validation=8, n_test=8)
else:
    split = load_cifar10(DATA)
run_dir = RUN_DIR or f"runs/{config.name}{'_quick' if QUICK else ''}"
print("train", split.train.images.shape, "validation", split.validation.images.shape,
      "test", split.test.images.shape)"""),
    ("code", "show-images", """\
images = split.train.images[:16]
show_images(images);"""),
    ("code", "show-masked", """\
masks = generate_masks(config.data.masks, len(images), seed=0)
show_images(fill_holes(images / 255.0, masks, config.data.fill_value));"""),
    ("markdown", "model-heading", """\
## Model

`build_model` builds and compiles the config's model; `train` below builds its own."""),
    ("code", "model", "$summary"),
    ("markdown", "train-heading", """\
## Training

`train` writes the run folder: the resolved config, `log.csv`, `curves.png`,
`samples.png`, `metrics.json`, `model.keras` and `saved_model/`."""),
    ("code", "train", """\
run = train(config, run_dir, data=DATA, split=split, precision=PRECISION)
print(run.path)"""),
    ("code", "curves", "plot_curves(run.log);"),
    ("markdown", "samples-heading", """\
Fixed test images: original, mask, masked input, raw output, and the composite (known
pixels from the input, the hole from the output)."""),
    ("code", "samples", "Image(filename=run.samples)"),
    ("markdown", "evaluate-heading", """\
## Evaluation

The run's test row from `metrics.json`, under both protocols (the study's: raw output
over the whole image; the hole protocol: composited output over the hole only), beside
OpenCV's Navier-Stokes inpainting on the same fixed test images and masks (equal
`mask_checksum`)."""),
    ("code", "evaluate", """\
test_images, test_masks = fixed_test_set(config, split)
navier_stokes = evaluate(NavierStokesBaseline(), test_images, test_masks,
                         fill_value=config.data.fill_value, name="navier_stokes",
                         mask_kind=config.data.masks)
results_table([run.read_metrics()["test"], navier_stokes]).set_index("name").T"""),
    ("markdown", "export-heading", """\
## Export

`train` exported the inference model as a TensorFlow SavedModel (with
`inpaint_tf.export.export_saved_model`, which exports any model the same way). It
needs TensorFlow only: its `serve` signature takes float32 images in [0, 1] and masks
(1 = hole) of any size and returns the composite, known pixels unchanged."""),
    ("code", "export", """\
served = tf.saved_model.load(str(run.saved_model))
image = test_images[:1].astype(np.float32) / 255.0
mask = test_masks[:1].astype(np.float32)
inpainted = served.serve(image=tf.constant(image), mask=tf.constant(mask))["inpainted"].numpy()
print("known pixels unchanged:", np.array_equal(inpainted[mask[..., 0] == 0],
                                                image[mask[..., 0] == 0]))
show_images([image[0], mask[0], fill_holes(image, mask, config.data.fill_value)[0],
             inpainted[0]], titles=["original", "mask", "masked input", "SavedModel"],
            columns=4);"""),
]

AUTOENCODER_SUMMARY = """\
model = build_model(config)
model.summary()"""

GAN_SUMMARY = """\
model = build_model(config)  # the InpaintingGAN training model, holding both networks
model.generator.summary()
model.discriminator.summary()"""


def _number(value: float) -> str:
    """0.0001, not 1e-04: as the configs write it."""
    return format(value, "f").rstrip("0").rstrip(".") or "0"


def _facts(config: ExperimentConfig) -> str:
    data, training = config.data, config.training
    facts = [f"`{config.model.kind}`", f"`{data.masks}` masks",
             f"holes filled with {_number(data.fill_value)}", f"batch {training.batch_size}",
             f"{training.epochs} epochs"]
    if config.is_gan:
        gan = config.gan
        facts += [f"Adam at {_number(gan.generator_learning_rate)} (generator) and "
                  f"{_number(gan.discriminator_learning_rate)} (discriminator)",
                  f"adversarial weight {_number(gan.adversarial_weight)}"]
    else:
        facts += [f"{training.optimizer} at {_number(training.learning_rate)}",
                  f"{training.loss} loss"]
    return ", ".join(facts)


def _study(config: ExperimentConfig) -> str:
    study = STUDY_RESULTS.get(config.study_experiment)
    if study is None:
        return ""
    protocol = ("the raw output over the whole image" if study["protocol"] == "study"
                else "the clamped output over the hole")
    return (f"The study reported MAE {_number(study['mae'])}, MSE {_number(study['mse'])} "
            f"and Dice {_number(study['dice'])} ({protocol}) after {study['epochs']} epochs, "
            f"{_number(study['minutes'])} minutes on a T4 GPU.")


def _record(config_name: str) -> str:
    """Where this config's run record is (experiments/records/), or that there is none."""
    metrics = RECORDS / config_name / "metrics.json"
    if not metrics.is_file():
        return ("No run of this config is recorded here yet; `experiments/RESULTS.md` "
                "lists the runs that are.")
    record = json.loads(metrics.read_text())
    return (f"This config ran here for {record['epochs']} epochs "
            f"({_number(round(record['train_seconds'] / 60, 1))} min of training on "
            f"{record['device']}, {record['precision']}); its record is "
            f"`experiments/records/{config_name}/`, compared with the study's figures and "
            "Navier–Stokes on the same holes in `experiments/RESULTS.md`.")


def build_notebook(stem: str) -> nbformat.NotebookNode:
    """The notebook `stem` of `NOTEBOOKS`, without outputs."""
    title, config_name = NOTEBOOKS[stem]
    config = load_config(config_name)
    values = {
        "title": title, "description": config.description, "config": config_name,
        "facts": _facts(config), "study": _study(config), "record": _record(config_name),
        "summary": GAN_SUMMARY if config.is_gan else AUTOENCODER_SUMMARY,
        "version": __version__,
    }
    cells = []
    for cell_type, cell_id, source in TEMPLATE:
        text = Template(source).substitute(values)
        if cell_type == "markdown":
            cell = nbformat.v4.new_markdown_cell(text, id=cell_id)
        else:
            cell = nbformat.v4.new_code_cell(text, id=cell_id)
            if cell_id == "parameters":
                cell.metadata["tags"] = ["parameters"]  # papermill's convention
        cells.append(cell)
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata.update(
        kernelspec={"display_name": "Python 3", "language": "python", "name": "python3"},
        language_info={"name": "python"})
    nbformat.validate(notebook)
    return notebook


def notebook_path(stem: str) -> Path:
    return FOLDER / f"{stem}.ipynb"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a stored notebook differs")
    args = parser.parse_args(argv)
    stale = []
    for stem in NOTEBOOKS:
        text = nbformat.writes(build_notebook(stem)) + "\n"
        path = notebook_path(stem)
        if path.is_file() and path.read_text() == text:
            continue
        stale.append(path.name)
        if not args.check:
            path.write_text(text)
    if args.check and stale:
        print(f"Stale notebooks (run {Path(__file__).name}): {', '.join(stale)}")
        return 1
    if not args.check:
        print(f"Wrote {len(stale)} of {len(NOTEBOOKS)} notebooks" if stale else "Up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
