"""The README and the guides in docs/: their examples run, their commands parse, their
links resolve, and every public name has a docstring for the API reference.

Each page's ```python blocks run in order in one namespace, as a reader would paste
them into one session, in a fresh working directory that holds what the examples name
as the reader's own: ``photo.jpg`` and ``photo.png`` (a 480 x 640 photo), ``holes.png``
(its mask), the folders ``photos/`` and ``photo_train/`` (ten small photos each), and
``INPAINT_TF_DATA`` pointing at a CIFAR-10 stand-in in the official ``.npz`` layout,
scaled down: 64 validation, 64 training and 32 test images (the split's validation size,
10,000 in the study, is 64 while the examples run), so that the examples train and score
for seconds, offline. A block may also use these names, which
the text around it says are the reader's: ``images`` and ``masks`` (a float32 batch of
32 x 32 images and its hole masks), ``features`` and ``valid`` (a feature map and its
validity mask, for `PartialConv2D`) and ``model`` (a released model). A block that cannot
run here says why in a comment on the line before it, ``<!-- not run: reason -->``.

Every ``inpaint-tf`` command line of the pages' other code blocks goes through the
CLI's own parser, so a renamed command or option fails here.
"""

from __future__ import annotations

import re
import shlex
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
sys.path.insert(0, str(DOCS))

from public_api import PublicAPI, reference_page  # noqa: E402

FENCE = re.compile(r"^```(\w*)[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
NOT_RUN = re.compile(r"<!-- not run: (.+?) -->\s*$")
MOST_NOT_RUN = 2  # blocks that need what no test machine has (a TPU, two GPUs)
STAND_IN_VALIDATION = 64  # the CIFAR-10 stand-in's validation images (the study: 10,000)


def code_blocks(path: Path) -> list[dict]:
    """The fenced blocks of a page: language, code, first line, and the reason given
    for not running it (None when it runs)."""
    text = path.read_text()
    blocks = []
    for match in FENCE.finditer(text):
        before = text[:match.start()].rstrip().splitlines()
        marker = NOT_RUN.search(before[-1]) if before else None
        blocks.append({"language": match.group(1), "code": match.group(2),
                       "line": text[:match.start()].count("\n") + 2,
                       "not_run": marker.group(1) if marker else None})
    return blocks


def _page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


# --------------------------------------------------------------------------- examples


def _write_photo(path: Path, height: int, width: int, seed: int) -> np.ndarray:
    import cv2

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    base = np.stack([0.5 + 0.4 * np.sin(6 * x + c) * np.cos(4 * y - c) for c in (0, 1, 2)], -1)
    photo = np.clip(base + rng.normal(0, 0.03, base.shape), 0, 1)
    photo = np.round(255 * photo).astype(np.uint8)
    cv2.imwrite(str(path), photo[:, :, ::-1])
    return photo


@pytest.fixture(scope="module")
def reader_files(tmp_path_factory):
    """The reader's files, written once: photos, a mask, folders, a CIFAR-10 stand-in."""
    import cv2

    from inpaint_tf.data import synthetic_split
    from inpaint_tf.masks import photo_mask

    folder = tmp_path_factory.mktemp("reader")
    photo = _write_photo(folder / "photo.png", 480, 640, seed=0)
    cv2.imwrite(str(folder / "photo.jpg"), photo[:, :, ::-1])
    holes = photo_mask("medium_strokes", photo)
    cv2.imwrite(str(folder / "holes.png"), 255 * holes[:, :, 0])
    for name in ("photos", "photo_train"):
        (folder / name).mkdir()
        for index in range(10):
            _write_photo(folder / name / f"{index:02d}.jpg", 96, 128, seed=index + 1)
    small = synthetic_split(2 * STAND_IN_VALIDATION, 0, 32, size=32, seed=3)
    np.savez(folder / "cifar10.npz", x_train=small.train.images,
             y_train=np.arange(len(small.train.images)) % 10, x_test=small.test.images,
             y_test=np.arange(32) % 10)
    return folder


@pytest.fixture(scope="module")
def reader_names():
    """The names the pages' text gives the reader: a batch, a feature map, a model."""
    from inpaint_tf import pretrained
    from inpaint_tf.data import synthetic_split
    from inpaint_tf.masks import eval_masks

    images = synthetic_split(4, 0, 0, size=32, seed=7).train.images.astype("float32") / 255
    rng = np.random.default_rng(0)
    return {
        "images": images,
        "masks": eval_masks("irregular", 4).astype("float32"),
        "features": rng.normal(size=(2, 32, 32, 16)).astype("float32"),
        "valid": (rng.uniform(size=(2, 32, 32, 1)) > 0.3).astype("float32"),
        "model": pretrained("own_unet_irregular"),
    }


PYTHON_PAGES = [page for page in PAGES
                if any(b["language"] == "python" for b in code_blocks(page))]


@pytest.mark.slow
@pytest.mark.parametrize("page", PYTHON_PAGES, ids=_page_id)
def test_the_pages_python_examples_run(page, reader_files, reader_names, tmp_path,
                                       monkeypatch):
    import shutil

    import keras
    import matplotlib

    matplotlib.use("Agg")
    for entry in reader_files.iterdir():
        target = tmp_path / entry.name
        (shutil.copytree if entry.is_dir() else shutil.copy)(entry, target)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INPAINT_TF_DATA", str(tmp_path / "cifar10.npz"))
    monkeypatch.setenv("INPAINT_TF_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("INPAINT_TF_PHOTOS", str(tmp_path / "photo_train"))
    from inpaint_tf.data import cifar10

    defaults = dict(zip(("source", "validation_size", "cache_dir"),
                        cifar10.load_cifar10.__defaults__))
    assert defaults["validation_size"] == cifar10.VALIDATION_SIZE
    monkeypatch.setattr(cifar10.load_cifar10, "__defaults__",
                        (None, STAND_IN_VALIDATION, None))
    namespace = {"__name__": "__doc_example__", **reader_names}
    ran = 0
    for block in code_blocks(page):
        if block["language"] != "python" or block["not_run"]:
            continue
        code = compile(block["code"], f"{_page_id(page)}:{block['line']}", "exec")
        try:
            exec(code, namespace)
        except Exception as error:
            pytest.fail(f"{_page_id(page)}, the example at line {block['line']}: "
                        f"{type(error).__name__}: {error}")
        finally:
            keras.mixed_precision.set_global_policy("float32")
        ran += 1
    assert ran > 0


def test_blocks_not_run_are_few_and_say_why():
    skipped = [(page.name, b["line"], b["not_run"]) for page in PAGES
               for b in code_blocks(page) if b["not_run"]]
    assert len(skipped) <= MOST_NOT_RUN, skipped
    assert all(len(reason.split()) >= 3 for *_, reason in skipped), skipped


def test_code_blocks_are_parsed_as_the_test_expects(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("Text.\n\n```python\nx = 1\n```\n\n<!-- not run: needs a TPU VM -->\n"
                    "```python\ny = 2\n```\n\n```\ninpaint-tf report runs/*\n```\n")
    blocks = code_blocks(page)
    assert [(b["language"], b["code"], b["line"], b["not_run"]) for b in blocks] == [
        ("python", "x = 1\n", 4, None), ("python", "y = 2\n", 9, "needs a TPU VM"),
        ("", "inpaint-tf report runs/*\n", 13, None)]


# --------------------------------------------------------------------------- commands


def command_lines(page: Path) -> list[tuple[int, list[str]]]:
    """Every ``inpaint-tf`` command of a page's non-Python blocks, as the CLI's argv
    (continuation lines joined, comments and environment assignments dropped)."""
    commands = []
    for block in code_blocks(page):
        if block["language"] == "python":
            continue
        joined = block["code"].replace("\\\n", " ")
        for line in joined.splitlines():
            if not re.match(r"\s*([A-Z_]+=\S*\s+)*inpaint-tf\s", line):
                continue
            words = shlex.split(line, comments=True)
            while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
                words = words[1:]
            if words and words[0] == "inpaint-tf":
                commands.append((block["line"], words[1:]))
    return commands


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_the_pages_commands_parse(page, monkeypatch):
    from inpaint_tf import cli
    from inpaint_tf.training import distribution

    # `--strategy multi-worker` forms its cluster while the command line is read; here
    # the parse is the point, not the cluster of the page's hosts.
    monkeypatch.setattr(distribution, "make_strategy", lambda name: None)
    for line, argv in command_lines(page):
        try:
            cli._parser().parse_args(argv)
        except SystemExit:
            pytest.fail(f"{_page_id(page)}:{line}: inpaint-tf {' '.join(argv)}")


def test_the_guides_hold_commands_of_every_kind():
    parsed = {argv[0] for page in PAGES for _, argv in command_lines(page)}
    assert {"train", "evaluate", "inpaint", "export", "baselines", "release",
            "collect-photos", "report"} <= parsed


# --------------------------------------------------------------------------- links

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def slug(title: str) -> str:
    """A heading's anchor, as Python-Markdown's toc extension makes it."""
    value = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return re.sub(r"[-\s]+", "-", value)


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text())
    return {slug(m.group(1).replace("`", "")) for m in re.finditer(r"^#+ (.+)$", text, re.M)}


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_the_pages_links_resolve(page):
    for target in LINK.findall(FENCE.sub("", page.read_text())):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve() if file else page
        if page.parent == DOCS and file.startswith("reference/"):
            continue  # written by the docs build; mkdocs checks those links
        assert path.exists(), f"{_page_id(page)}: {target}"
        assert path.is_relative_to(ROOT), f"{_page_id(page)}: {target} leaves the repository"
        if page.parent == DOCS:
            assert path.is_relative_to(DOCS), \
                f"{_page_id(page)}: {target} is outside docs/, which the site does not hold"
        if anchor:
            assert anchor in anchors(path), f"{_page_id(page)}: {target}"


def test_slugs_are_the_sites():
    assert slug("What a 32 × 32-trained model can and cannot fill") == \
        "what-a-32-32-trained-model-can-and-cannot-fill"
    assert slug("Several GPUs, hosts or a TPU") == "several-gpus-hosts-or-a-tpu"


def test_the_readme_links_every_guide_and_keeps_the_test_command():
    readme = (ROOT / "README.md").read_text()
    linked = {target.partition("#")[0] for target in LINK.findall(readme)}
    guides = {f"docs/{path.name}" for path in DOCS.glob("*.md") if path.name != "index.md"}
    assert guides <= linked, guides - linked
    assert "make test" in readme and "make test" in (ROOT / ".ci" / "run").read_text()
    assert len(readme.splitlines()) <= 170


# --------------------------------------------------------------------------- reference


def test_every_public_name_has_a_docstring():
    assert PublicAPI().undocumented() == []


def test_the_reference_names_every_public_name_where_it_is_defined():
    """The static reading agrees with the imported package: every name of every
    namespace is the object defined at the path its reference page documents."""
    import importlib

    api = PublicAPI()
    for namespace in api.namespaces():
        module = importlib.import_module(namespace)
        page = reference_page(api, namespace)
        for entry in api.entries(namespace):
            value = getattr(module, entry.name)
            owner, name = entry.target.rsplit(".", 1)
            if entry.kind == "module":
                assert value.__name__ == entry.target
            else:
                assert getattr(importlib.import_module(owner), name) is value, entry
                assert f"::: {entry.target}\n" in page
            assert entry.name in dir(module)


def test_a_name_without_a_docstring_is_reported(tmp_path):
    package = tmp_path / "inpaint_tf"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text(
        '"""Top."""\n_EXPORTS = {"run": "inpaint_tf.sub.work"}\nNAMESPACES = ("sub",)\n'
        "__all__ = sorted([*_EXPORTS, *NAMESPACES])\n")
    (package / "sub" / "__init__.py").write_text(
        '"""Sub."""\nfrom inpaint_tf.sub.work import LIMIT, run, Tool\n'
        '__all__ = ["LIMIT", "Tool", "run"]\n')
    (package / "sub" / "work.py").write_text(
        '"""Work."""\nLIMIT = 3\n"""The limit."""\n\ndef run():\n    pass\n\n'
        'class Tool:\n    """A tool."""\n')
    api = PublicAPI(tmp_path)
    assert api.namespaces() == ["inpaint_tf", "inpaint_tf.sub"]
    assert api.undocumented() == ["inpaint_tf.run", "inpaint_tf.sub.run"]
    assert [e.target for e in api.entries("inpaint_tf.sub")] == [
        "inpaint_tf.sub.work.LIMIT", "inpaint_tf.sub.work.Tool", "inpaint_tf.sub.work.run"]


def test_the_sites_nav_lists_one_reference_page_per_namespace():
    nav = re.findall(r"^\s+- (reference/\S+)\.md$", (ROOT / "mkdocs.yml").read_text(), re.M)
    assert nav == [f"reference/{namespace}" for namespace in PublicAPI().namespaces()]
    guides = re.findall(r"^\s+- (\w+\.md)$", (ROOT / "mkdocs.yml").read_text(), re.M)
    assert sorted(guides) == sorted(p.name for p in DOCS.glob("*.md") if p.name != "index.md")

