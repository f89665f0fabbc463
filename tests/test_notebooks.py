"""The seven study notebooks: stored clean and current, each runs top to bottom, and
their install cell installs only from the source it is given.

The executions set ``QUICK = True`` in the tagged parameters cell (synthetic images, one
epoch of two batches of 8) and run each notebook in a fresh "python3" kernel whose
working directory is a temporary folder, so its run folder lands there.
"""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import json
import math
import os
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "notebooks"
CELL_TIMEOUT = 300  # seconds per cell; a QUICK cell takes at most tens of seconds
WORKERS = min(2, os.cpu_count() or 1)  # notebooks executed at once
QUICK_LINE = re.compile(r"^QUICK = False\b", re.MULTILINE)
INSTALL_LINE = re.compile(r'^INSTALL_FROM = ""(?=  #)', re.MULTILINE)


def _load_generator():
    spec = importlib.util.spec_from_file_location("build_notebooks",
                                                  FOLDER / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generator = _load_generator()
STEMS = list(generator.NOTEBOOKS)


def _read(stem: str) -> nbformat.NotebookNode:
    return nbformat.read(FOLDER / f"{stem}.ipynb", as_version=nbformat.NO_CONVERT)


def _parameters_cell(notebook) -> nbformat.NotebookNode:
    tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, "expected exactly one cell tagged 'parameters'"
    return tagged[0]


def with_quick(notebook) -> nbformat.NotebookNode:
    """A copy of `notebook` whose parameters cell says ``QUICK = True``."""
    notebook = nbformat.from_dict(json.loads(json.dumps(notebook)))
    cell = _parameters_cell(notebook)
    cell.source, count = QUICK_LINE.subn("QUICK = True", cell.source)
    if count != 1:
        raise ValueError(f"The parameters cell has {count} `QUICK = False` lines, not 1")
    return notebook


def test_the_seven_notebooks_are_stored():
    stored = sorted(path.stem for path in FOLDER.glob("*.ipynb"))
    assert stored == sorted(STEMS)
    assert len(STEMS) == 7
    configs = [config for _, config in generator.NOTEBOOKS.values()]
    assert [int(re.match(r"exp(\d)_", c).group(1)) for c in configs] == list(range(1, 8))


@pytest.mark.parametrize("stem", STEMS)
def test_stored_notebook_is_clean_and_generated(stem):
    notebook = _read(stem)
    nbformat.validate(notebook)
    assert notebook.nbformat == 4
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {cell.id} has stored outputs"
            assert cell.execution_count is None, f"cell {cell.id} has an execution count"
    generated = generator.build_notebook(stem)
    assert [c.source for c in notebook.cells] == [c.source for c in generated.cells], (
        "notebook differs from its template: run python notebooks/build_notebooks.py")
    assert notebook == generated
    text = (FOLDER / f"{stem}.ipynb").read_text()
    assert text == nbformat.writes(generated) + "\n"


@pytest.mark.parametrize("stem", STEMS)
def test_notebook_parameters_and_library_only_code(stem):
    notebook = _read(stem)
    parameters = _parameters_cell(notebook)
    names = {target.id for node in ast.parse(parameters.source).body
             for target in node.targets}
    assert names == {"CONFIG", "QUICK", "DATA", "RUN_DIR", "PRECISION"}
    assert f'CONFIG = "{generator.NOTEBOOKS[stem][1]}"' in parameters.source
    assert QUICK_LINE.search(parameters.source)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            # No model code: nothing defined, and Keras only through the library.
            assert not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Lambda)), cell.id
            if isinstance(node, ast.ImportFrom):
                assert node.module.split(".")[0] in {"inpaint_tf", "IPython"}, node.module
            elif isinstance(node, ast.Import):
                assert {alias.name.split(".")[0] for alias in node.names} <= {
                    "importlib", "subprocess", "sys", "numpy", "tensorflow"}, cell.id


def _install_cell(install_from: str) -> str:
    """The stored install cell's source, with `INSTALL_FROM` set as a user would set it."""
    source = next(c.source for c in _read(STEMS[0]).cells if c.get("id") == "install")
    source, count = INSTALL_LINE.subn(f"INSTALL_FROM = {install_from!r}", source)
    assert count == 1, "the install cell must have one `INSTALL_FROM = \"\"` line"
    return source


def _message_says_how(message: str) -> None:
    assert message.startswith("inpaint_tf is not installed. Set INSTALL_FROM"), message
    for hint in ("Colab", "git+https://", "Kaggle", "make wheel", ".whl", "clone"):
        assert hint in message, hint


@pytest.mark.parametrize("importable, install_from, expected", [
    (True, "", "nothing"),
    (True, "git+https://example.org/inpaint_tf.git", "nothing"),
    (False, "git+https://example.org/inpaint_tf.git", "pip"),
    (False, "inpaint-tf[export] @ git+https://example.org/inpaint_tf.git", "pip"),
    (False, "/kaggle/input/inpaint-tf/inpaint_tf-0.1.0-py3-none-any.whl", "pip"),
    (False, "/content/inpaint_tf", "pip"),
    (False, "", "message"),
    (False, "inpaint-tf", "message"),  # a bare name would be looked up on the index
    (False, "inpaint-tf[export]==0.1.0", "message"),
])
def test_install_cell(importable, install_from, expected, monkeypatch):
    """Importable: no pip call. Missing with a URL or a path: pip installs exactly that.
    Missing with nothing (or a bare name) given: the message, and no pip call."""
    import importlib.util as importlib_util
    import subprocess
    import sys

    calls = []
    find_spec = importlib_util.find_spec
    monkeypatch.setattr(importlib_util, "find_spec", lambda name, *args: (
        find_spec(name, *args) if importable or name != "inpaint_tf" else None))
    monkeypatch.setattr(subprocess, "check_call", calls.append)
    code = compile(_install_cell(install_from), "install", "exec")
    if expected == "message":
        with pytest.raises(RuntimeError) as error:
            exec(code, {})
        _message_says_how(str(error.value))
    else:
        exec(code, {})
    pip = [[sys.executable, "-m", "pip", "install", "--quiet", install_from]]
    assert calls == (pip if expected == "pip" else [])


def test_notebook_without_the_package_stops_at_the_install_cell(tmp_path, monkeypatch):
    """Run as a user would, in a kernel of a fresh environment where inpaint_tf does not
    import and no source is given: the install cell stops the run with its message."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from test_wheel import bare_venv

    python = bare_venv(tmp_path / "venv")
    kernel = tmp_path / "jupyter" / "kernels" / "bare"
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "bare", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    environment = _kernel_environment()
    environment.pop("PYTHONPATH")
    notebook = _read(STEMS[0])
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="bare",
                            resources={"metadata": {"path": str(tmp_path)}})
    with pytest.raises(CellExecutionError) as error:
        client.execute(env=environment)
    assert error.value.ename == "RuntimeError"
    _message_says_how(error.value.evalue)
    ran = [cell.id for cell in notebook.cells
           if cell.cell_type == "code" and cell.execution_count is not None]
    assert ran == ["install"]  # the run stopped there
    site_packages = next((tmp_path / "venv" / "lib").glob("python*/site-packages"))
    assert not list(site_packages.glob("inpaint_tf*"))  # and installed nothing


def test_with_quick_sets_quick_and_refuses_a_missing_line():
    notebook = with_quick(_read(STEMS[0]))
    source = _parameters_cell(notebook).source
    assert "QUICK = True" in source and "QUICK = False" not in source
    assert _parameters_cell(_read(STEMS[0])).source != source  # the stored one is untouched
    cell = _parameters_cell(notebook)
    with pytest.raises(ValueError, match="0 `QUICK = False` lines"):
        with_quick(notebook)
    assert cell.source == source


def _kernel_environment() -> dict:
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    # The kernel imports this checkout, even from a temporary working directory.
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return environment


def _outputs(notebook, cell_id: str) -> list:
    return next(cell for cell in notebook.cells if cell.get("id") == cell_id).outputs


async def _execute(stems: list[str], folder: Path, workers: int) -> dict:
    """Runs the notebooks, `workers` kernels at a time; per notebook: (notebook, its
    working directory, the exception it raised or None)."""
    from nbclient import NotebookClient

    slots = asyncio.Semaphore(workers)

    async def execute(stem):
        notebook = with_quick(_read(stem))
        workdir = folder / stem
        workdir.mkdir()
        client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                                resources={"metadata": {"path": str(workdir)}})
        async with slots:
            try:
                await client.async_execute(env=_kernel_environment())
            except Exception as error:  # raised again by the notebook's own test
                return notebook, workdir, error
        return notebook, workdir, None

    return dict(zip(stems, await asyncio.gather(*(execute(stem) for stem in stems))))


@pytest.fixture(scope="session")
def quick_runs(request, tmp_path_factory) -> dict:
    """Executes the selected notebooks once, `WORKERS` at a time: a kernel spends most of
    a QUICK run tracing in one Python thread, so two kernels keep two cores busy."""
    stems = [item.callspec.params["stem"] for item in request.session.items
             if getattr(item, "originalname", "") == "test_notebook_runs_quick"]
    stems.sort(key=lambda stem: "gan" not in stem)  # the two slowest first
    folder = tmp_path_factory.mktemp("notebook_runs")
    return asyncio.run(_execute(stems, folder, workers=WORKERS))


@pytest.mark.slow
@pytest.mark.parametrize("stem", STEMS)
def test_notebook_runs_quick(stem, quick_runs):
    notebook, workdir, error = quick_runs[stem]
    if error is not None:
        raise error  # nbclient's CellExecutionError names the cell and its traceback

    config = generator.NOTEBOOKS[stem][1]
    run = workdir / "runs" / f"{config}_quick"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["config"] == config
    assert metrics["epochs"] == 1 and metrics["batch_size"] == 8
    test = metrics["test"]
    assert test["n"] == 8
    assert all(math.isfinite(test[key]) for key in ("study_mae", "hole_mae", "hole_psnr"))
    for name in ("curves.png", "samples.png", "model.keras", "saved_model", "log.csv"):
        assert (run / name).exists(), name

    def text(cell_id):
        return "".join(output.get("text", "") + output.get("data", {}).get("text/plain", "")
                       for output in _outputs(notebook, cell_id))

    def images(cell_id):
        return sum("image/png" in output.get("data", {}) for output in _outputs(notebook, cell_id))

    # The figures show once each, the table holds both rows, the SavedModel kept the pixels.
    assert [images(cell) for cell in ("show-images", "show-masked", "curves", "samples",
                                      "export")] == [1, 1, 1, 1, 1]
    table = text("evaluate")
    assert config in table and "navier_stokes" in table and "hole_psnr" in table
    assert "known pixels unchanged: True" in text("export")
    assert "Total params" in text("model")
    assert _outputs(notebook, "install") == []  # inpaint_tf was found: nothing installed
