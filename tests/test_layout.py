"""The package's layout: imports that run one way, modules of a readable size, saved
models that load after a bare ``import inpaint_tf``, and an import that stays light."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from _tiny_gan import tiny_discriminator, tiny_generator

PACKAGE = Path(__file__).resolve().parents[1] / "inpaint_tf"
MAX_LINES = 600


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _imported_modules(path: Path, modules: dict[str, Path]) -> set[str]:
    """The package modules a file imports anywhere (module level or inside functions).

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
    file.write_text("def f():\n    from inpaint_tf.training import train\n"
                    "    from inpaint_tf import masks\n")
    modules = {"inpaint_tf.training": file, "inpaint_tf.masks": file, "inpaint_tf": file}
    assert _imported_modules(file, modules) == {"inpaint_tf.training", "inpaint_tf.masks"}


def test_no_two_modules_of_the_package_import_each_other():
    graph = import_graph()
    assert "inpaint_tf.training" in graph and graph["inpaint_tf.releases"]
    assert find_cycle(graph) is None, f"import cycle: {' -> '.join(find_cycle(graph))}"


def test_small_shared_operations_sit_below_their_users():
    graph = import_graph()
    # The GAN, inference and evaluation share `composite` from a module none of them.
    for user in ("inpaint_tf.models.inpainting_gan", "inpaint_tf.inference",
                 "inpaint_tf.evaluation"):
        assert "inpaint_tf.compositing" in graph[user]
        assert "inpaint_tf.evaluation" not in graph[user] - {"inpaint_tf.evaluation"}
    # One place resolves a run folder, a .keras file or a release name to a model.
    for user in ("inpaint_tf.cli", "inpaint_tf.run_evaluation", "inpaint_tf.releases"):
        assert "inpaint_tf.model_loading" in graph[user], user
    assert "inpaint_tf.training" not in graph["inpaint_tf.releases"]


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
