"""Serving an exported file without TensorFlow (`inpaint_tf.serving`): the metadata read
from the file's bytes as TFLite's flatbuffer schema and the ``onnx`` package read it
(and as the export's `read_export_metadata` returns it), and a photo of any size filled
in a process where TensorFlow, Keras and the ``onnx`` package cannot be imported, equal
to ``inpaint(load_exported(path), photo, mask)`` with TensorFlow loaded."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import build_tiny_inpainting_model

from inpaint_tf import export, serving
from inpaint_tf.inference.inpainting import inpaint

ROOT = Path(__file__).resolve().parents[1]
SIZE = (32, 40)  # the files' fixed size: no square, to catch a swapped height and width
FILE_TOLERANCE = 1e-4  # a file against its Keras model (as tests/test_windows.py)

# Run first in the served process: any import of these packages fails, as where they
# are not installed, and the attempts are recorded.
BLOCKER = """
import importlib.abc, sys
BLOCKED, ATTEMPTS = {blocked!r}, []
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            ATTEMPTS.append(name)
            raise ImportError(f"No module named {{name!r}} (blocked)")
        return None
sys.meta_path.insert(0, Blocker())
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A tiny model and its ONNX and TFLite files at `SIZE`."""
    folder = tmp_path_factory.mktemp("served")
    keras.utils.set_random_seed(0)
    model = build_tiny_inpainting_model()
    onnx = export.export_onnx(model, folder / "tiny.onnx", height=SIZE[0], width=SIZE[1])
    tflite = export.export_tflite(model, folder / "tiny.tflite", height=SIZE[0],
                                  width=SIZE[1])
    return model, {"onnx": onnx, "tflite": tflite}


def _photo_and_mask(height: int = 90, width: int = 131):
    """A smooth uint8 photo and a mask with blemishes, a long stroke (tiles) and a hole
    at a corner."""
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    photo = np.stack([0.2 + 0.6 * x, 0.8 - 0.5 * y, 0.5 + 0.3 * np.sin(9 * x * y)], -1)
    mask = np.zeros((height, width), np.uint8)
    mask[10:14, 5:120] = 1  # longer than a window: tiles
    mask[40:47, 60:66] = 1
    mask[80:, :6] = 1
    return np.round(255 * photo).astype(np.uint8), mask


def _served(path: Path, blocked: tuple[str, ...], folder: Path) -> np.ndarray:
    """``inpaint(load_exported(path), photo, mask)`` in a fresh process where the
    `blocked` packages cannot be imported; fails if any of them is loaded."""
    photo, mask = _photo_and_mask()
    np.save(folder / "photo.npy", photo)
    np.save(folder / "mask.npy", mask)
    code = BLOCKER.format(blocked=blocked) + textwrap.dedent(f"""
        import numpy as np
        from inpaint_tf import inpaint, load_exported
        model = load_exported({str(path)!r})
        filled = inpaint(model, np.load("photo.npy"), np.load("mask.npy"), verbose=1)
        np.save("filled.npy", filled)
        loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set(BLOCKED))
        print("loaded:", loaded, "runtime:", type(model._run).__name__)
    """)
    result = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True,
                            text=True, timeout=300,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(folder),
                                 "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    assert "loaded: []" in result.stdout, result.stdout
    return np.load(folder / "filled.npy")


@pytest.mark.parametrize("fmt, blocked", [
    # ONNX: NumPy, OpenCV and onnxruntime only; no LiteRT either.
    ("onnx", ("tensorflow", "keras", "tf2onnx", "onnx", "ai_edge_litert", "tflite_runtime")),
    # TFLite: LiteRT's interpreter, no TensorFlow.
    ("tflite", ("tensorflow", "keras", "tf2onnx", "onnx", "onnxruntime")),
])
def test_a_photo_of_any_size_is_filled_without_tensorflow(files, fmt, blocked, tmp_path):
    model, paths = files
    served = _served(paths[fmt], blocked, tmp_path)
    photo, mask = _photo_and_mask()
    # The same as the library's path with TensorFlow loaded, and as the Keras model
    # on windows of the file's size.
    expected = inpaint(export.load_exported(paths[fmt]), photo, mask)
    assert served.shape == photo.shape and served.dtype == np.float32
    np.testing.assert_allclose(served, expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(served, inpaint(model, photo, mask, window_size=SIZE),
                               rtol=0, atol=FILE_TOLERANCE)
    known = mask == 0
    np.testing.assert_array_equal(served[known], photo[known] / np.float32(255))
    assert not np.array_equal(served[mask > 0], photo[mask > 0] / np.float32(255))


def test_without_a_runtime_the_error_names_the_package_to_install(files, tmp_path):
    _, paths = files
    code = BLOCKER.format(blocked=("tensorflow", "onnxruntime", "ai_edge_litert",
                                   "tflite_runtime")) + textwrap.dedent(f"""
        from inpaint_tf.serving import load_exported
        for path in ({str(paths["onnx"])!r}, {str(paths["tflite"])!r}):
            try:
                load_exported(path)
            except ImportError as error:
                print(error)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, env={"PATH": "/usr/bin:/bin",
                                              "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"Running ONNX files needs onnxruntime: {serving.ONNX_HINT}",
        f"Running TFLite files needs LiteRT: {serving.TFLITE_HINT}"]


def _metadata_by_the_schema(path: Path) -> dict:
    """The file's metadata as TFLite's flatbuffer schema or the ``onnx`` package reads
    it: the reference of `serving.read_metadata`, which parses the bytes itself."""
    content = path.read_bytes()
    if path.suffix == ".onnx":
        import onnx

        props = onnx.load_model_from_string(content).metadata_props
        return json.loads({p.key: p.value for p in props}[serving.METADATA_KEY])
    from tensorflow.lite.python import schema_py_generated as schema

    flat = schema.Model.GetRootAsModel(content, 0)
    entry = next(flat.Metadata(i) for i in range(flat.MetadataLength())
                 if flat.Metadata(i).Name().decode() == serving.METADATA_KEY)
    buffer = flat.Buffers(entry.Buffer())
    if buffer.Offset() > 1:  # a model over 2 GB keeps its buffers after the flatbuffer
        return json.loads(content[buffer.Offset():buffer.Offset() + buffer.Size()])
    return json.loads(buffer.DataAsNumpy().tobytes())


@pytest.mark.parametrize("fmt", ["onnx", "tflite"])
def test_the_metadata_read_from_the_bytes_is_the_exports(files, fmt):
    _, paths = files
    metadata = serving.read_metadata(paths[fmt])
    assert metadata == _metadata_by_the_schema(paths[fmt])
    assert export.read_export_metadata(paths[fmt]) == metadata
    assert (metadata["format"], metadata["height"], metadata["width"]) == (fmt, *SIZE)
    served = serving.load_exported(paths[fmt], threads=1)
    assert (served.format, served.fixed_size, served.name) == (fmt, SIZE, "tiny")
    assert repr(served) == (f"ExportedModel({str(paths[fmt])!r}, format={fmt!r}, "
                            f"fixed_size={SIZE})")
    with pytest.raises(ValueError, match=r"takes images and masks of 32x40 only.*"
                                         r"image.shape=\(1, 40, 32, 3\)"):
        served({"image": np.zeros((1, 40, 32, 3)), "mask": np.zeros((1, 40, 32, 1))})


def test_a_tflite_buffer_kept_after_the_flatbuffer_is_found(files, tmp_path):
    """A model over 2 GB keeps its buffers after the flatbuffer (``offset``, ``size``)."""
    from tensorflow.lite.tools import flatbuffer_utils

    _, paths = files
    content = flatbuffer_utils.read_model_from_bytearray(
        bytearray(paths["tflite"].read_bytes()))
    entry = next(e for e in content.metadata if e.name.decode() == serving.METADATA_KEY)
    buffer = content.buffers[entry.buffer]
    text = bytes(buffer.data).replace(b'"tiny"', b'"moved"')
    buffer.data, buffer.offset, buffer.size = None, 2, len(text)
    length = len(flatbuffer_utils.convert_object_to_bytearray(content))
    buffer.offset = length  # the same width: the flatbuffer keeps its length
    flat = bytes(flatbuffer_utils.convert_object_to_bytearray(content))
    assert len(flat) == length
    moved = tmp_path / "moved.tflite"
    moved.write_bytes(flat + text)
    assert serving.read_metadata(moved)["model"] == "moved"
    assert _metadata_by_the_schema(moved)["model"] == "moved"
    assert export.read_export_metadata(moved)["model"] == "moved"


def test_files_that_are_not_exports_are_refused_with_their_name(files, tmp_path):
    _, paths = files
    text = tmp_path / "notes.txt"
    text.write_text("not a model")
    with pytest.raises(ValueError, match=r"notes.txt is neither a TFLite nor an ONNX file"):
        serving.read_metadata(text)
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(paths["onnx"].read_bytes()[:1000])
    with pytest.raises(ValueError, match=r"cut.onnx is neither"):
        serving.read_metadata(cut)
    # An ONNX file without the metadata: its props entry removed by hand.
    import onnx

    proto = onnx.load(paths["onnx"])
    del proto.metadata_props[:]
    bare = tmp_path / "bare.onnx"
    bare.write_bytes(proto.SerializeToString())
    with pytest.raises(ValueError, match=r"bare.onnx holds no 'inpaint_tf' metadata"):
        serving.read_metadata(bare)
    with pytest.raises(FileNotFoundError, match="missing.onnx"):
        serving.load_exported(tmp_path / "missing.onnx")
    with pytest.raises(ValueError, match="threads=0"):
        serving.load_exported(paths["onnx"], threads=0)


def test_an_onnx_entry_among_others_and_fields_of_every_wire_type():
    def varint(value: int) -> bytes:
        out = b""
        while True:
            out += bytes([value & 0x7F | (0x80 if value > 0x7F else 0)])
            value >>= 7
            if not value:
                return out

    def field(number: int, payload: bytes) -> bytes:
        return varint(number << 3 | 2) + varint(len(payload)) + payload

    def entry(key: str, value: str) -> bytes:
        return field(14, field(1, key.encode()) + field(2, value.encode()))

    wanted = json.dumps({"height": 300})
    content = (varint(1 << 3) + varint(300)  # ir_version, a varint over one byte
               + varint(3 << 3 | 1) + bytes(8) + varint(4 << 3 | 5) + bytes(4)
               + field(7, b"g" * 200)  # a graph, skipped
               + entry("other", "x") + entry(serving.METADATA_KEY, wanted))
    assert serving._onnx_metadata(content) == wanted
    assert serving._onnx_metadata(content[:-len(entry(serving.METADATA_KEY, wanted))]) is None
    with pytest.raises(ValueError, match="wire type 3"):
        serving._onnx_metadata(varint(1 << 3 | 3))
    with pytest.raises(ValueError, match="runs past"):
        serving._onnx_metadata(field(7, b"g" * 10)[:-3])


def test_the_export_serves_through_serving():
    assert export.load_exported is serving.load_exported
    assert export.ExportedModel is serving.ExportedModel
