"""The wheel users install: `make wheel` builds it, and installed in a fresh virtual
environment it carries the released models and the shipped configs and inpaints from
outside the source tree.

Nothing downloads: the wheel builds without build isolation (setuptools and wheel come
with the test extra), and the fresh environment sees this interpreter's packages through
a .pth file, so pip, run with ``--no-index``, finds every dependency already installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What a build reads: the package metadata, the README (its long description), the
# package, the shipped configs; and the Makefile, whose `wheel` target is what runs.
BUILD_INPUTS = ["setup.cfg", "pyproject.toml", "README.md", "Makefile", "inpaint_tf",
                "experiments"]
RELEASED = sorted(path.stem for path in (ROOT / "inpaint_tf" / "released").glob("*.json"))
CONFIGS = sorted(path.name for path in (ROOT / "experiments").glob("*.toml"))

# Run in the fresh environment: where inpaint_tf comes from and what it carries.
WHERE_AND_WHAT = """\
import json, sys
from importlib.resources import files
import inpaint_tf
from inpaint_tf import pretrained_names
modules = [module.__file__ for name, module in sorted(sys.modules.items())
           if name.split(".")[0] == "inpaint_tf" and getattr(module, "__file__", None)]
configs = sorted(p.name for p in files("inpaint_tf.experiments").iterdir()
                 if p.name.endswith(".toml"))
print(json.dumps({"modules": modules, "released": pretrained_names(), "configs": configs}))
"""


def bare_venv(folder: Path) -> Path:
    """A fresh virtual environment at `folder`, without inpaint_tf, that sees this
    interpreter's packages; returns its python.

    A .pth file adds this interpreter's site-packages to its path. Python runs the .pth
    files of its own site-packages only, so an editable install of this checkout there
    (a .pth file and an import hook) stays inactive: inpaint_tf does not import until
    something installs it.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    site_packages = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip()
    ours = sorted({sysconfig.get_paths()[key] for key in ("purelib", "platlib")})
    Path(site_packages, "_parent_environment.pth").write_text("\n".join(ours) + "\n")
    return python


def _environment() -> dict:
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    environment.pop("PYTHONPATH", None)  # nothing points back at this checkout
    return environment


def _run(command, cwd, timeout=300) -> str:
    result = subprocess.run([str(part) for part in command], cwd=cwd, env=_environment(),
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel `make wheel` builds, from a copy of the build inputs (so that the build
    writes nothing into this checkout), with this interpreter."""
    source = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("__pycache__", "records", "*.egg-info")
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, source / name)
    bin_folder = Path(sys.executable).parent
    assert (bin_folder / "python").is_file(), f"no python beside {sys.executable}"
    _run(["make", "wheel", f"BIN={bin_folder}", "WHEEL_ARGS=--no-build-isolation"], source)
    wheels = list((source / "dist").glob("inpaint_tf-*-py3-none-any.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> tuple[Path, Path]:
    """(the fresh environment with the wheel and both extras installed, an empty folder
    outside the source tree to run in)."""
    folder = tmp_path_factory.mktemp("installed")
    python = bare_venv(folder / "venv")
    # Both extras, in the syntax the README gives for a wheel.
    _run([python, "-m", "pip", "install", "--no-index", "--quiet", "--disable-pip-version-check",
          f"{wheel}[export,test]"], folder)
    elsewhere = folder / "elsewhere"
    elsewhere.mkdir()
    return folder / "venv", elsewhere


@pytest.mark.slow
def test_wheel_carries_every_module_the_released_models_and_the_configs(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {path.relative_to(ROOT).as_posix()
               for path in (ROOT / "inpaint_tf").rglob("*.py") if "__pycache__" not in path.parts}
    missing = sorted(modules - names)
    assert not missing, f"left out of the wheel (not in setup.cfg's packages?): {missing}"
    released = {path.relative_to(ROOT).as_posix()
                for path in (ROOT / "inpaint_tf" / "released").iterdir()}
    assert released and not released - names
    assert {f"inpaint_tf/experiments/{name}" for name in CONFIGS} <= names
    assert any(name.endswith("entry_points.txt") for name in names)


@pytest.mark.slow
def test_the_wheel_names_one_opencv_build_the_contrib_one(wheel):
    """The OpenCV wheels share one cv2 folder: the package names one, the contrib build
    (FSR needs its cv2.xphoto), and scikit-image (biharmonic) in the classical extra."""
    with zipfile.ZipFile(wheel) as archive:
        metadata, = [archive.read(name).decode() for name in archive.namelist()
                     if name.endswith(".dist-info/METADATA")]
    requires = [line.split(":", 1)[1].strip() for line in metadata.splitlines()
                if line.startswith("Requires-Dist:")]
    assert [r for r in requires if "opencv" in r] == ["opencv-contrib-python-headless>=4.8"]
    assert 'scikit-image>=0.19; extra == "classical"' in requires
    assert 'scikit-image>=0.19; extra == "test"' in requires


@pytest.mark.slow
def test_installed_wheel_runs_the_five_classical_methods(installed):
    venv, elsewhere = installed
    output = _run([venv / "bin" / "python", "-c",
                   "from inpaint_tf.evaluation.baselines import available_baselines\n"
                   "print(*available_baselines(slow=True))"], elsewhere)
    assert output.split() == ["navier_stokes", "telea", "biharmonic", "fsr_fast", "fsr_best"]


@pytest.mark.slow
def test_installed_wheel_runs_the_demo_from_outside_the_source_tree(installed):
    venv, elsewhere = installed
    facts = json.loads(_run([venv / "bin" / "python", "-c", WHERE_AND_WHAT],
                            elsewhere).splitlines()[-1])
    # Every inpaint_tf module came from the fresh environment, none from this checkout.
    assert facts["modules"], facts
    for module in facts["modules"]:
        assert Path(module).resolve().is_relative_to(venv.resolve()), module
        assert not Path(module).resolve().is_relative_to(ROOT), module
    assert facts["released"] == RELEASED
    assert facts["configs"] == CONFIGS

    # The console script of the wheel: released models beside Navier-Stokes, no training.
    output = _run([venv / "bin" / "inpaint-tf", "demo", "--n", "8", "--out", "demo"], elsewhere)
    figures = (elsewhere / "demo" / "figures.md").read_text()
    for name in RELEASED:
        assert f"| {name} |" in figures and f"| {name} |" in output
    assert (elsewhere / "demo" / "samples.png").is_file()


@pytest.mark.slow
def test_installed_wheel_loads_a_shipped_config_by_name(installed):
    venv, elsewhere = installed
    output = _run([venv / "bin" / "python", "-c",
                   "from inpaint_tf.configs import load_config, shipped_configs\n"
                   "print(load_config('exp3_conv_autoencoder_irregular').name)\n"
                   "print(len(shipped_configs()))"], elsewhere)
    assert output.split() == ["exp3_conv_autoencoder_irregular", str(len(CONFIGS))]
