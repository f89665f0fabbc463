"""The package's layout: imports that run one way, modules of a readable size, saved
models that load after a bare ``import inpaint_tf``, and an import that stays light."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from _tiny_gan import tiny_discriminator, tiny_generator

PACKAGE = Path(__file__).resolve().parents[1] / "inpaint_tf"
ARCHITECTURE = PACKAGE.parent / "ARCHITECTURE.md"
MAX_LINES = 600


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _imported_modules(path: Path, modules: dict[str, Path]) -> set[str]:
    """The package modules a file imports anywhere (module level or inside functions),
    and, for a package ``__init__``, the modules it names in strings (a lazy package's
    `inpaint_tf._lazy` exports).

    ``from inpaint_tf.x import y`` counts as importing ``inpaint_tf.x.y`` when that is
    a module, else ``inpaint_tf.x``."""
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in modules else node.module)
    if path.name == "__init__.py":  # a lazy package names its modules in strings
        package = _module_name(path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.update({node.value, f"{package}.{node.value}"})
    return {name for name in found if name in modules}


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imported_modules(path, modules) - {name} for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of `graph` as a list of modules (first = last), or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_cycle_finder_finds_a_cycle_through_a_chain_and_none_in_a_tree():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_sees_imports_inside_functions(tmp_path):
    file = tmp_path / "m.py"
    file.write_text("def f():\n    from inpaint_tf.training.loop import train\n"
                    "    from inpaint_tf import masks\n")
    modules = {"inpaint_tf.training.loop": file, "inpaint_tf.masks": file, "inpaint_tf": file}
    assert _imported_modules(file, modules) == {"inpaint_tf.training.loop", "inpaint_tf.masks"}


def stated_levels() -> dict[str, int]:
    """ARCHITECTURE.md's table of levels: entry -> level. An entry is a module
    (``training/loop``, ``cli``) or a whole package (``layers/``)."""
    levels = {}
    for line in ARCHITECTURE.read_text().splitlines():
        row = re.match(r"\| (\d+) \| ([^|]+) \|", line)
        if row:
            for entry in re.findall(r"`([^`]+)`", row.group(2)):
                levels[entry] = int(row.group(1))
    return levels


def entry_of(module: str, levels: dict[str, int]) -> str | None:
    """The table entry that places `module`: its own row, else its package's."""
    path = module.removeprefix("inpaint_tf.").replace(".", "/")
    if path in levels:
        return path
    packages = [entry for entry in levels if entry.endswith("/") and
                f"{path}/".startswith(entry)]
    return max(packages, key=len) if packages else None


def is_facade(module: str, levels: dict[str, int]) -> bool:
    """A package ``__init__`` without a row of its own: it re-exports, eagerly or
    lazily, and sits as high as the highest module it names."""
    return entry_of(module, levels) is None and _modules()[module].name == "__init__.py"


def level_violations(graph: dict[str, set[str]], levels: dict[str, int],
                     facades: set[str]) -> list[str]:
    """Every import that does not go strictly down the stated levels. Modules of one
    package entry may import each other (the cycle check covers them); a facade counts
    at the level of the highest module it names."""

    def level(module: str) -> int:
        if module in facades:
            return max((level(target) for target in graph[module]), default=-1)
        return levels[entry_of(module, levels)]

    found = []
    for module in sorted(set(graph) - facades):
        for target in sorted(graph[module]):
            same_entry = target not in facades and (
                entry_of(target, levels) == entry_of(module, levels))
            if not same_entry and level(target) >= level(module):
                found.append(f"{module} (level {level(module)}) imports {target} "
                             f"(level {level(target)})")
    return found


def _stated_graph():
    graph, levels = import_graph(), stated_levels()
    return graph, levels, {module for module in graph if is_facade(module, levels)}


def test_the_level_rule_catches_an_import_sideways_or_up_and_allows_one_down():
    levels = {"low": 0, "mid": 1, "other_mid": 1, "pkg/": 1}
    graph = {"inpaint_tf.low": set(), "inpaint_tf.mid": {"inpaint_tf.low"},
             "inpaint_tf.other_mid": {"inpaint_tf.mid"},
             "inpaint_tf.pkg.a": {"inpaint_tf.pkg.b"}, "inpaint_tf.pkg.b": {"inpaint_tf.low"}}
    assert level_violations(graph, levels, set()) == [
        "inpaint_tf.other_mid (level 1) imports inpaint_tf.mid (level 1)"]
    graph["inpaint_tf.low"] = {"inpaint_tf.pkg.a"}
    assert "inpaint_tf.low (level 0) imports inpaint_tf.pkg.a (level 1)" in (
        level_violations(graph, levels, set()))
    # A facade is as high as what it names: importing it from below is an import up.
    graph = {"inpaint_tf.low": {"inpaint_tf.face"}, "inpaint_tf.face": {"inpaint_tf.mid"},
             "inpaint_tf.mid": set()}
    assert level_violations(graph, {"low": 0, "mid": 1}, {"inpaint_tf.face"}) == [
        "inpaint_tf.low (level 0) imports inpaint_tf.face (level 1)"]


def test_every_module_has_a_stated_level_and_every_stated_entry_exists():
    graph, levels, facades = _stated_graph()
    unplaced = [module for module in graph
                if entry_of(module, levels) is None and module not in facades]
    assert unplaced == [], f"modules without a level in ARCHITECTURE.md: {unplaced}"
    placed = {entry_of(module, levels) for module in graph}
    assert sorted(set(levels) - placed) == [], "ARCHITECTURE.md names modules that are gone"
    assert "inpaint_tf.training" in facades and "inpaint_tf.training.loop" not in facades


def test_every_import_goes_down_the_levels_of_architecture_md():
    graph, levels, facades = _stated_graph()
    assert level_violations(graph, levels, facades) == []


def test_no_two_modules_of_the_package_import_each_other():
    graph = import_graph()
    assert "inpaint_tf.training.loop" in graph and graph["inpaint_tf.presets.releasing"]
    assert find_cycle(graph) is None, f"import cycle: {' -> '.join(find_cycle(graph))}"


def test_small_shared_operations_sit_below_their_users():
    graph = import_graph()
    # The GAN, inference and evaluation share `composite` from a module none of them.
    for user in ("inpaint_tf.models.inpainting_gan", "inpaint_tf.inference.inpainting",
                 "inpaint_tf.evaluation.protocols"):
        assert "inpaint_tf.compositing" in graph[user]
    # One place resolves a run folder, a .keras file or a release name to a model.
    for user in ("inpaint_tf.cli", "inpaint_tf.evaluation.runs",
                 "inpaint_tf.presets.releasing"):
        assert "inpaint_tf.presets.loading" in graph[user], user
    assert "inpaint_tf.training.loop" not in graph["inpaint_tf.presets.releasing"]


@pytest.mark.parametrize("name", sorted(_modules()))
def test_no_module_is_over_600_lines(name):
    lines = len(_modules()[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines"


def _run(code: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd,
                          capture_output=True, text=True, timeout=300,
                          env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin",
                               "HOME": str(cwd), "PYTHONPATH": str(PACKAGE.parent)})


def test_import_inpaint_tf_imports_neither_tensorflow_nor_opencv(tmp_path):
    result = _run("""
        import sys, time
        started = time.perf_counter()
        import inpaint_tf
        seconds = time.perf_counter() - started
        heavy = [m for m in ("tensorflow", "keras", "cv2", "pandas", "matplotlib")
                 if m in sys.modules]
        print(heavy, seconds)
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    heavy, seconds = result.stdout.split("]")
    assert heavy == "[", heavy


FIRST_IMPORTS = ("import inpaint_tf; import keras", "import keras; import inpaint_tf",
                 "from inpaint_tf.layers.harmonic_fill import HarmonicFill",
                 "import inpaint_tf.data.photos", "from inpaint_tf import build_unet_autoencoder")


@pytest.mark.parametrize("first", FIRST_IMPORTS)
def test_every_keras_class_is_registered_whatever_is_imported_first(first, tmp_path):
    # Keras is often first imported from inside one of the package's half-run modules;
    # the registration must wait for it rather than fail on it.
    result = _run(f"""
        import warnings
        warnings.simplefilter("error")
        {first}
        import keras
        print(sorted(k for k in keras.saving.get_custom_objects() if k.startswith("inpaint_tf>")))
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    registered = eval(result.stdout.strip().splitlines()[-1])
    assert {"inpaint_tf>FillHoles", "inpaint_tf>PartialConv2D", "inpaint_tf>HarmonicFill",
            "inpaint_tf>InpaintingGAN", "inpaint_tf>MaskedL1",
            "inpaint_tf>PooledMSE"} <= set(registered)
    assert len(registered) >= 15


def _families():
    """One small model of each family the library saves, built float32."""
    import keras

    from inpaint_tf import layers, models

    keras.utils.set_random_seed(0)
    unet = models.build_unet_autoencoder(input_shape=(None, None, 3), filters=(4, 8),
                                         bottleneck_filters=8, mask_as_input=True,
                                         composite_output=True)
    pconv = models.build_pconv_unet(input_shape=(None, None, 3), preset=dict(
        models.PCONV_PRESETS["study"], encoder=((4, 3), (8, 3)), decoder=((8, 8), (4, 3))))
    generator = models.build_glcic_generator(input_shape=(None, None, 3))
    image = keras.Input((None, None, 3), name="image")
    mask = keras.Input((None, None, 1), name="mask")
    valid = models.RepeatChannels(3)(mask)  # any 0/1 tensor serves as validity here
    features, _ = layers.PartialConv2D(4, 3, padding="same", multi_channel=True)([image, valid])
    features = layers.DilatedConv2D(3, 3, dilation_rate=2, padding="same")(features)
    layer_model = keras.Model({"image": image, "mask": mask}, features, name="layers")
    # The GAN training model, with small networks (its call runs the generator).
    gan = models.InpaintingGAN(tiny_generator(16), tiny_discriminator(16, 8))
    return {"unet_autoencoder": unet, "pconv_unet": pconv, "glcic_generator": generator,
            "layers": layer_model, "inpainting_gan": gan}


@pytest.mark.slow
def test_saved_models_load_after_a_bare_import_in_a_fresh_process(tmp_path, rng):
    families = _families()
    inputs = {"image": rng.uniform(size=(2, 16, 16, 3)).astype(np.float32),
              "mask": np.zeros((2, 16, 16, 1), np.float32)}
    inputs["mask"][:, 4:10, 3:9] = 1
    np.savez(tmp_path / "inputs.npz", **inputs)
    for name, model in families.items():
        model.save(tmp_path / f"{name}.keras")
        np.save(tmp_path / f"{name}.npy", np.asarray(model(inputs, training=False)))
    for name in families:
        # inpaint_tf first, Keras after (the order of a fresh notebook), for each family.
        result = _run(f"""
            import numpy as np
            import inpaint_tf
            import keras
            inputs = dict(np.load("inputs.npz"))
            model = keras.saving.load_model("{name}.keras")
            out = np.asarray(model(inputs, training=False))
            assert np.array_equal(out, np.load("{name}.npy")), "{name}: other outputs"
            print("ok")
        """, tmp_path)
        assert result.returncode == 0 and "ok" in result.stdout, f"{name}: {result.stderr}"
    # Keras first, inpaint_tf after: every family from one process.
    result = _run(f"""
        import keras
        import inpaint_tf
        for name in {sorted(families)!r}:
            keras.saving.load_model(name + ".keras")
        print("ok")
    """, tmp_path)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr


# --------------------------------------------------------------------------- the public API


def _namespaces():
    import importlib

    import inpaint_tf

    return {name: importlib.import_module(f"inpaint_tf.{name}")
            for name in inpaint_tf.NAMESPACES}


def test_the_top_level_is_a_short_list_of_names_and_the_namespaces():
    import inpaint_tf

    names = set(inpaint_tf.__all__) - set(inpaint_tf.NAMESPACES)
    assert 12 <= len(names) <= 18, sorted(names)
    assert {"inpaint", "pretrained", "train", "evaluate_run", "export_model",
            "load_exported", "build_pconv_unet"} <= names
    assert {"masks", "data", "models", "layers", "losses", "metrics"} <= set(inpaint_tf.NAMESPACES)
    for name in inpaint_tf.__all__:
        assert getattr(inpaint_tf, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'make_dataset'"):
        inpaint_tf.make_dataset  # noqa: B018 - lives in inpaint_tf.data


def test_every_public_name_resolves_and_is_the_object_its_module_defines():
    import inpaint_tf

    for namespace, module in _namespaces().items():
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if callable(value) and hasattr(value, "__module__"):
                assert value.__module__.startswith("inpaint_tf."), (namespace, name)
    # A top-level name is the object of its namespace.
    assert inpaint_tf.train is inpaint_tf.training.train
    assert inpaint_tf.inpaint is inpaint_tf.inference.inpaint
    assert inpaint_tf.export_model is inpaint_tf.export.export_model
    assert inpaint_tf.pretrained is inpaint_tf.presets.pretrained


def test_a_module_re_exports_nothing_it_does_not_define_except_the_facades():
    """No old import paths: a name a module imports but never uses would be a second
    home for it. Only package ``__init__`` files re-export."""
    for module, path in _modules().items():
        if path.name == "__init__.py":
            continue
        tree = ast.parse(path.read_text())
        used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        used |= {node.value.id for node in ast.walk(tree) if isinstance(node, ast.Attribute)
                 and isinstance(node.value, ast.Name)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("inpaint_tf"):
                for alias in node.names:
                    name = alias.asname or alias.name
                    assert name in used, (
                        f"{module} imports {name} from {node.module} without using it")
