"""Peak resident memory of a training run on the full CIFAR-sized split, in a subprocess.

The child runs `inpaint_tf.training.loop.train` (the conv autoencoder, float32, a few steps,
then the run's validation, test evaluation, samples, model file and SavedModel) on
40,000 training, 10,000 validation and 10,000 test images and reports its peak resident
set size. The images are CIFAR-10 when ``INPAINT_TF_DATA`` is set, else random uint8
images of the same size (memory does not depend on what the images show).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile

CONFIG = "exp3_conv_autoencoder_irregular"


def peak_rss_bytes() -> int:
    """Peak resident set size of this process.

    Linux: VmHWM, the high-water mark of this process's own memory map. Not
    ``ru_maxrss``: the kernel carries that across exec, so a child started by a large
    parent (Python forks, then execs) would report at least the parent's size.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, else KiB


def _images(counts: list[int]):
    """(train, validation, test) uint8 images and where they come from."""
    import numpy as np

    if os.environ.get("INPAINT_TF_DATA"):
        from inpaint_tf.data import load_cifar10

        split = load_cifar10()
        return [s.images[:n] for s, n in zip(split, counts)], "CIFAR-10 ($INPAINT_TF_DATA)"
    rng = np.random.default_rng(0)
    parts = [rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8) for n in counts]
    return parts, "random uint8 images"


def _child(options: dict) -> dict:
    import numpy as np

    from inpaint_tf.configs import load_config, with_overrides
    from inpaint_tf.data import Split, Subset
    from inpaint_tf.training.loop import train

    parts, source = _images(options["counts"])
    split = Split(*(Subset(images, np.zeros(len(images), np.int64)) for images in parts))
    # Scoring runs in chunks of 1,000 images: fewer scored images change the time, not the
    # peak, so the run scores a subset to stay short.
    config = with_overrides(load_config(CONFIG), **{
        "data.validation_images": options["scored_images"],
        "data.test_images": options["scored_images"]})
    before = peak_rss_bytes()
    with tempfile.TemporaryDirectory() as folder:
        train(config, f"{folder}/run", epochs=1, steps_per_epoch=options["steps"], split=split,
              verbose=0)
    return {"peak_rss_bytes": peak_rss_bytes(), "rss_before_training_bytes": before,
            "images": [len(images) for images in parts], "source": source,
            "steps": options["steps"], "scored_images": options["scored_images"],
            "config": CONFIG, "precision": "float32"}


def peak_memory(settings) -> dict:
    """Runs the child and returns its report (peak RSS in bytes and GB)."""
    options = {"counts": list(settings.memory_counts), "steps": settings.memory_steps,
               "scored_images": settings.memory_scored_images}
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    completed = subprocess.run([sys.executable, __file__, json.dumps(options)],
                               capture_output=True, text=True, env=environment, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"The memory measurement failed:\n{completed.stderr[-3000:]}")
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    report["peak_rss_gb"] = report["peak_rss_bytes"] / 1e9
    print(f"  peak RSS {report['peak_rss_gb']:.2f} GB "
          f"(before training {report['rss_before_training_bytes'] / 1e9:.2f} GB)", flush=True)
    return report


if __name__ == "__main__":
    print(json.dumps(_child(json.loads(sys.argv[1]))))
