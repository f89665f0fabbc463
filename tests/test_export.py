import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import build_tiny_inpainting_model

from inpaint_tf import export, inference
from inpaint_tf.masks import generate_masks

# Runs in a fresh interpreter that never imports inpaint_tf.
RELOAD_SCRIPT = """
import json, sys
import numpy as np, tensorflow as tf
data = np.load(sys.argv[2])
served = tf.saved_model.load(sys.argv[1])
out = served.serve(image=tf.constant(data["image"]), mask=tf.constant(data["mask"]))
default = served.signatures["serving_default"](image=tf.constant(data["image"]),
                                               mask=tf.constant(data["mask"]))
np.save(sys.argv[3], out["inpainted"].numpy())
print(json.dumps({"imported": "inpaint_tf" in sys.modules,
                  "same_default": bool(np.array_equal(out["inpainted"], default["inpainted"]))}))
"""


def test_saved_model_reloads_without_inpaint_tf_and_matches_keras(tmp_path, rng):
    model = build_tiny_inpainting_model(4)
    image = rng.uniform(size=(2, 30, 21, 3)).astype(np.float32)  # not a multiple of 4
    mask = generate_masks("random_box", 2, seed=1, height=30, width=21).astype(np.float32)
    path = export.export_saved_model(model, tmp_path / "exported")
    np.savez(tmp_path / "batch.npz", image=image, mask=mask)
    result = subprocess.run(
        [sys.executable, "-c", RELOAD_SCRIPT, str(path), str(tmp_path / "batch.npz"),
         str(tmp_path / "out.npy")], capture_output=True, text=True, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"imported": False, "same_default": True}
    served = np.load(tmp_path / "out.npy")
    np.testing.assert_allclose(served, inference.inpaint(model, image, mask), atol=1e-5)
    known = np.broadcast_to(mask == 0, image.shape)
    np.testing.assert_array_equal(served[known], image[known])


def test_interrupted_export_keeps_the_previous_model(tmp_path, monkeypatch):
    import tensorflow as tf

    model = build_tiny_inpainting_model(2)
    target = tmp_path / "exported"
    export.export_saved_model(model, target)
    before = sorted(p.name for p in target.rglob("*"))

    def crash(obj, export_dir, *args, **kwargs):
        (tmp_path / export_dir).mkdir(parents=True, exist_ok=True)
        (tmp_path / export_dir / "saved_model.pb").write_bytes(b"half")
        raise KeyboardInterrupt  # as if the process were stopped mid-write

    monkeypatch.setattr(tf.saved_model, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        export.export_saved_model(model, target)
    assert sorted(p.name for p in target.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_export_rejects_non_models(tmp_path):
    with pytest.raises(TypeError, match="keras.Model"):
        export.export_saved_model(lambda x: x, tmp_path / "x")
