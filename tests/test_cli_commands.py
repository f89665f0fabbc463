"""The CLI end to end on tiny synthetic data: train, evaluate, inpaint, export, report,
each with its bad inputs (one line on stderr, exit code 2, no traceback).

One tiny run is trained once for the module (in-process, through `cli.main`, the
console script's entry point); a few cases run as real processes to show what a
user's terminal shows.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import tensorflow as tf
from test_resume import write_cifar_like

from inpaint_tf import cli

CONFIG = """
name = "tiny_cli"
[model]
kind = "unet_autoencoder"
options = { filters = [4, 8], bottleneck_filters = 8 }
[data]
masks = "random_box"
validation_images = 4
test_images = 8
[training]
batch_size = 8
epochs = 1
steps_per_epoch = 3
seed = 0
"""


class Workspace:
    def __init__(self, root: Path):
        self.root = root
        self.data = write_cifar_like(root / "cifar.npz")
        self.config = root / "tiny.toml"
        self.config.write_text(CONFIG)
        self.run = root / "run"
        rng = np.random.default_rng(7)
        self.rgb = rng.integers(0, 256, (37, 45, 3), dtype=np.uint8)  # no multiple of 4
        self.hole = np.zeros((37, 45), np.uint8)
        self.hole[5:15, 8:30] = 1

    def file(self, name: str, content) -> str:
        path = self.root / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            pixels = content[:, :, ::-1] if content.ndim == 3 and content.shape[2] == 3 else (
                content[:, :, [2, 1, 0, 3]] if content.ndim == 3 else content)
            assert cv2.imwrite(str(path), pixels)
        return str(path)


def _call(argv) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main([str(a) for a in argv])
    return code, out.getvalue()


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    workspace = Workspace(tmp_path_factory.mktemp("cli"))
    workspace.train_result = _call(["train", workspace.config, "--data", workspace.data,
                                    "--out", workspace.run])
    return workspace


def _scores(printed: str) -> dict:
    line = next(line for line in printed.splitlines() if line.startswith("study_mae="))
    return {key: float(value) for key, value in (item.split("=") for item in line.split())}


def test_train_writes_a_complete_run_and_a_rerun_resumes_it(ws):
    code, printed = ws.train_result
    assert code == 0, printed
    assert f"run folder: {ws.run}" in printed
    names = {p.name for p in ws.run.iterdir()}
    assert names >= {"config.toml", "state.json", "checkpoints", "log.csv", "curves.png",
                     "samples.png", "metrics.json", "model.keras", "saved_model"}
    metrics = json.loads((ws.run / "metrics.json").read_text())
    assert metrics["epochs"] == 1 and metrics["test"]["n"] == 8
    assert metrics["data_source"] == str(ws.data)
    assert _scores(printed)["hole_mae"] == pytest.approx(metrics["test"]["hole_mae"], rel=1e-3)
    state = (ws.run / "state.json").read_text()
    code, printed = _call(["train", ws.config, "--data", ws.data, "--out", ws.run])
    assert code == 0 and "Epoch" not in printed  # nothing left to train
    assert (ws.run / "state.json").read_text() == state
    assert (ws.run / "log.csv").read_text().count("\n") == 2  # header and epoch 1


def test_evaluate_scores_a_run_and_a_model_file(ws):
    code, printed = _call(["evaluate", ws.run, "--masks", "center_box", "--n", 5,
                           "--data", ws.data])
    assert code == 0
    row = json.loads((ws.run / "metrics.json").read_text())["evaluations"][-1]
    assert (row["masks"], row["n"]) == ("center_box", 5)
    assert _scores(printed)["hole_psnr"] == pytest.approx(row["hole_psnr"], rel=1e-3)
    code, printed = _call(["evaluate", ws.run / "model.keras", "--data", ws.data])
    assert code == 0 and "hole_ssim=" in printed


@pytest.mark.parametrize("image, mask", [
    ("rgb", "hole"), ("grayscale", "hole"), ("rgba", "hole"), ("rgb", "none"),
    ("rgb", "all"),
])
def test_inpaint_any_size_keeps_known_pixels(ws, image, mask):
    gray = ws.rgb[:, :, 1]
    pictures = {"rgb": ws.rgb, "grayscale": gray,  # written back grey
                "rgba": np.dstack([ws.rgb, ws.hole * 255])}  # alpha kept
    content = expected = pictures[image]
    holes = {"hole": ws.hole, "none": 0 * ws.hole, "all": 1 + 0 * ws.hole}[mask]
    out = ws.root / f"filled_{image}_{mask}.png"
    code, printed = _call(["inpaint", "--model", ws.run, "--image",
                           ws.file(f"{image}.png", content), "--mask",
                           ws.file(f"mask_{mask}.png", holes * 255), "--out", out])
    assert code == 0 and f"({int(holes.sum())} hole pixels filled)" in printed
    filled = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    filled = filled if filled.ndim == 2 else filled[:, :, [2, 1, 0, 3][:filled.shape[2]]]
    assert filled.shape == expected.shape and filled.dtype == np.uint8
    np.testing.assert_array_equal(filled[holes == 0], expected[holes == 0])
    if image == "rgba":
        np.testing.assert_array_equal(filled[:, :, 3], expected[:, :, 3])


def test_export_serves_images_of_any_size(ws):
    target = ws.root / "exported"
    code, printed = _call(["export", ws.run, "--out", target])
    assert code == 0 and "signature 'serve'" in printed
    served = tf.saved_model.load(str(target))
    image = (ws.rgb[None] / 255.0).astype(np.float32)
    hole = ws.hole[None, ..., None].astype(np.float32)
    out = served.serve(image=tf.constant(image), mask=tf.constant(hole))["inpainted"].numpy()
    assert out.shape == image.shape and np.all(np.isfinite(out))
    known = np.broadcast_to(hole == 0, out.shape)
    np.testing.assert_array_equal(out[known], image[known])


def test_report_compares_the_run_with_the_baselines(ws):
    notes = ws.file("notes.md", b"# Tiny run\n")
    out = ws.root / "RESULTS.md"
    code, printed = _call(["report", ws.run, "--out", out, "--data", ws.data, "--notes", notes])
    assert code == 0
    text = out.read_text()
    assert printed == text + "\n"
    assert text.startswith("# Tiny run") and "| run |" in text
    assert "navier_stokes" in text and "telea" in text


# --------------------------------------------------------------------------- bad inputs


def _cifar_like_with(ws, name, **arrays) -> str:
    with np.load(ws.data) as data:
        contents = {key: data[key] for key in data}
    contents.update(arrays)
    np.savez(ws.root / name, **contents)
    return str(ws.root / name)


BAD = [
    # (command, bad input, argv (from the workspace), expected message)
    ("train", "missing config", lambda ws: _train(ws, ws.root / "none.toml"),
     "Config file not found"),
    ("train", "unknown config key",
     lambda ws: _train(ws, _config(ws, "c1", "epochs = 1", "epochs = 1\ncolour = 1")),
     "Unknown config key `training.colour`"),
    ("train", "config key of the wrong type",
     lambda ws: _train(ws, _config(ws, "c2", "batch_size = 8", 'batch_size = "8"')),
     "`training.batch_size` must be of type int"),
    ("train", "model option of the wrong type",
     lambda ws: _train(ws, _config(ws, "c3", "filters = [4, 8]", 'filters = "4, 8"')),
     "`model.options.filters` must be a non-empty list of int"),
    ("train", "training images no multiple of the model's factor",
     lambda ws: _train(ws, _config(ws, "c4", "filters = [4, 8]", "filters = [4, 8, 8, 8, 8, 8]")),
     "Height and width must be multiples of 64 .*Received: input_shape=\\(32, 32, 3\\)"),
    ("train", "batch larger than the training images",
     lambda ws: _train(ws, _config(ws, "c5", "batch_size = 8", "batch_size = 64")),
     "batch_size=64 is larger than the 32 images given"),
    ("train", "negative seed", lambda ws: _train(ws, ws.config, "--seed", -1),
     r"`training.seed` must be in \[0, 2\*\*32\)"),
    ("train", "zero epochs", lambda ws: _train(ws, ws.config, "--epochs", 0),
     "`training.epochs` must be >= 1"),
    ("train", "negative steps", lambda ws: _train(ws, ws.config, "--steps-per-epoch", -2),
     "`training.steps_per_epoch` must be >= 0"),
    ("train", "non-integer epochs", lambda ws: _train(ws, ws.config, "--epochs", "two"),
     "argument --epochs: invalid int value: 'two'"),
    ("train", "unknown precision", lambda ws: _train(ws, ws.config, "--precision", "half"),
     "argument --precision: invalid choice: 'half'"),
    ("train", "missing data file", lambda ws: _train(ws, ws.config, data=ws.root / "no.npz"),
     "CIFAR-10 source not found"),
    ("train", "corrupt data file",
     lambda ws: _train(ws, ws.config, data=ws.file("bad.npz", b"PK\x03\x04 cut")),
     r"Cannot read .*bad\.npz as an \.npz file"),
    ("train", "grayscale data",
     lambda ws: _train(ws, ws.config, data=_cifar_like_with(
         ws, "gray.npz", x_train=np.zeros((10_040, 32, 32, 1), np.uint8))),
     r"x_train must be uint8 of shape \(N, 32, 32, 3\)"),
    ("train", "run folder of another config",
     lambda ws: ["train", ws.config, "--seed", 5, "--data", ws.data, "--out", ws.run],
     r"holds a run of another config \(differs in training.seed\)"),
    ("evaluate", "missing run", lambda ws: ["evaluate", ws.root / "nowhere"], "No model found at"),
    ("evaluate", "folder without a model", lambda ws: ["evaluate", ws.root],
     "No model found at"),
    ("evaluate", "corrupt model file",
     lambda ws: ["evaluate", ws.file("broken.keras", b"not a zip")],
     r"Cannot read model .*broken\.keras: empty, truncated or not a \.keras file"),
    ("evaluate", "negative --n", lambda ws: ["evaluate", ws.run, "--n", -3, "--data", ws.data],
     "`n` must be a positive integer. Received: n=-3"),
    ("evaluate", "zero --n", lambda ws: ["evaluate", ws.run, "--n", 0, "--data", ws.data],
     "`n` must be a positive integer. Received: n=0"),
    ("evaluate", "unknown mask kind", lambda ws: ["evaluate", ws.run, "--masks", "circles"],
     "argument --masks: invalid choice"),
    ("evaluate", "empty data file",
     lambda ws: ["evaluate", ws.run, "--data", ws.file("empty.npz", b"")],
     r"Cannot read .*empty\.npz as an \.npz file"),
    ("inpaint", "missing image", lambda ws: _inpaint(ws, image=ws.root / "none.png"),
     "Image not found"),
    ("inpaint", "empty image", lambda ws: _inpaint(ws, image=ws.file("empty.png", b"")),
     r"Cannot read image .*empty\.png: empty, corrupt or not an image"),
    ("inpaint", "corrupt image",
     lambda ws: _inpaint(ws, image=ws.file("corrupt.jpg", b"\xff\xd8\xff junk")),
     "Cannot read image"),
    ("inpaint", "missing mask", lambda ws: _inpaint(ws, mask=ws.root / "none.png"),
     "Mask image not found"),
    ("inpaint", "corrupt mask", lambda ws: _inpaint(ws, mask=ws.file("m.png", b"\x89PNG..")),
     "Cannot read mask image"),
    ("inpaint", "mask of another size",
     lambda ws: _inpaint(ws, mask=ws.file("small.png", ws.hole[:20] * 255)),
     "is 20x45 but the image is 37x45; they must have the same size"),
    ("inpaint", "output that is not an image file",
     lambda ws: _inpaint(ws, out=ws.root / "filled.txt"),
     r"Cannot write .*filled\.txt: use a \.png, \.tif or \.jpg name"),
    ("inpaint", "missing model", lambda ws: _inpaint(ws, model=ws.root / "nomodel"),
     "No model found at"),
    ("inpaint", "missing --mask", lambda ws: _inpaint(ws)[:-2],
     "one of the arguments --mask --masks is required"),
    ("export", "missing run", lambda ws: ["export", ws.root / "none", "--out", ws.root / "x"],
     "No model found at"),
    ("export", "a config, not a model",
     lambda ws: ["export", ws.run / "config.toml", "--out", ws.root / "x"],
     "File format not supported"),
    ("report", "unfinished run folder",
     lambda ws: ["report", ws.root / "half", "--out", ws.root / "R.md"],
     "is not a finished run folder"),
    ("report", "missing notes file",
     lambda ws: ["report", ws.run, "--out", ws.root / "R.md", "--notes", ws.root / "no.md"],
     "No such file or directory"),
]


def _config(ws, name: str, old: str, new: str) -> str:
    assert old in CONFIG
    path = ws.root / f"{name}.toml"
    path.write_text(CONFIG.replace(old, new))
    return str(path)


_RUNS = itertools.count()


def _train(ws, config, *options, data=None) -> list:
    # A run folder of its own per case: a failed train may already have written one.
    out = ws.root / f"failed_{next(_RUNS)}"
    return ["train", config, "--data", data or ws.data, "--out", out, *options]


def _inpaint(ws, image=None, mask=None, model=None, out=None) -> list:
    return ["inpaint", "--model", model or ws.run, "--image", image or ws.file("i.png", ws.rgb),
            "--out", out or ws.root / "o.png", "--mask",
            mask or ws.file("h.png", ws.hole * 255)]


@pytest.mark.parametrize("command, bad, argv, message",
                         [pytest.param(*case, id=f"{case[0]}: {case[1]}") for case in BAD])
def test_bad_input_is_one_line_and_exit_code_2(ws, capfd, command, bad, argv, message):
    (ws.root / "half").mkdir(exist_ok=True)
    arguments = [str(a) for a in argv(ws)]
    capfd.readouterr()
    try:
        code = cli.main(arguments)
    except SystemExit as exit_info:  # argparse's usage errors exit from parse_args
        code = exit_info.code
    captured = capfd.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert code == 2, captured.err
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert lines[0].startswith(f"inpaint-tf{' ' + command if 'argument' in message else ''}")
    assert ": error: " in lines[0] and re.search(message, lines[0]), lines[0]


@pytest.mark.parametrize("argv, message", [
    pytest.param(lambda ws: _inpaint(ws, image=ws.root / "missing.png"), "Image not found",
                 id="inpaint: missing image"),
    pytest.param(lambda ws: _train(ws, _config(ws, "c9", 'masks = "random_box"', "masks = 3")),
                 "`data.masks` must be of type str", id="train: config key of the wrong type"),
])
def test_a_real_process_prints_one_line_and_no_traceback(ws, argv, message):
    result = subprocess.run([sys.executable, "-m", "inpaint_tf.cli", *map(str, argv(ws))],
                            capture_output=True, text=True)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2
    assert lines == [lines[0]] and message in lines[0] and "Traceback" not in result.stderr
