"""Where one training step spends its time: a per-op profile of a benchmarked model.

Builds a model of the suite exactly as `make bench` does (`_models.build`), fits a few
steps to trace and warm it up, times `steps` more (the median step, from the batch end
times), then records `steps` steps with TensorFlow's profiler and sums the time of every
op the executor ran, by op type, by layer and by phase (forward, backward, optimizer).
The input pipeline runs on its own threads and is reported apart.

    python benchmarks/profile_step.py                       # conv autoencoder, mixed, 32
    python benchmarks/profile_step.py --model gan_joint --precision float32 --steps 5

Op times are wall times on TensorFlow's executor threads. Two ops often run side by
side (a layer's input and kernel gradients), each then on part of the cores, so each
instant is split evenly among the ops running then ("shared"): those times add up to
the time any op ran, and their shares say where the step goes. Each op's own time is
shown too. On a loaded machine all times grow, the shares much less.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

# Op types as TensorFlow's CPU build runs them (oneDNN's names after the graph rewrite).
KINDS = {
    "convolution": ("Conv2D", "_MklNativeConv2D", "_MklNativeFusedConv2D", "_FusedConv2D",
                    "_MklNativeConv2DWithBias", "DepthwiseConv2dNative"),
    "conv input gradient": ("Conv2DBackpropInput", "_MklNativeConv2DBackpropInput"),
    "conv filter gradient": ("Conv2DBackpropFilter", "_MklNativeConv2DBackpropFilter",
                             "_MklNativeConv2DBackpropFilterWithBias"),
    "matmul": ("MatMul", "_MklMatMul", "_MklNativeMatMul", "_FusedMatMul", "_MklFusedMatMul",
               "_MklNativeFusedMatMul", "BatchMatMulV2", "_MklBatchMatMulV2"),
    "cast": ("Cast",),
}
_KIND_OF = {op: kind for kind, ops in KINDS.items() for op in ops}
_SUFFIX = re.compile(r"_\d+$")


def _log(message: str = "") -> None:
    print(message, flush=True)


def layer_names(model) -> set[str]:
    """The names of every layer of `model`, nested models' layers included."""
    import keras

    names, stack = set(), [model]
    for attribute in ("generator", "discriminator"):  # the GAN's networks
        if isinstance(getattr(model, attribute, None), keras.Model):
            stack.append(getattr(model, attribute))
    while stack:
        current = stack.pop()
        for layer in getattr(current, "layers", []):
            names.add(layer.name)
            if isinstance(layer, keras.Model):
                stack.append(layer)
    return names


def _optimizer_names(model) -> set[str]:
    optimizers = [getattr(model, name, None) for name in
                  ("optimizer", "generator_optimizer", "discriminator_optimizer")]
    return {optimizer.name for optimizer in optimizers if optimizer is not None}


def classify(event_name: str, layers: set[str], optimizers: set[str]):
    """(phase, layer, op type) of an executor event ``scope/…/name:OpType``; None if the
    event is not an op (executor bookkeeping)."""
    if ":" not in event_name or event_name.startswith(("Executor", "Threadpool")):
        return None
    scope, op = event_name.rsplit(":", 1)
    parts = scope.split("/")
    stripped = [_SUFFIX.sub("", part) for part in parts]
    # The deepest layer in the scope: a nested model's layer rather than the model.
    layer = next((part for part, bare in zip(reversed(parts), reversed(stripped))
                  if part in layers or bare in layers), None)
    if layer is not None and layer not in layers:
        layer = _SUFFIX.sub("", layer)
    if any(bare in optimizers or part in optimizers for part, bare in zip(parts, stripped)):
        phase, layer = "optimizer", layer or "(optimizer)"
    elif "gradient_tape" in parts:
        phase = "backward"
    else:
        phase = "forward"
    return phase, layer or "(other)", op


def _shared_time(events: list) -> collections.Counter:
    """Seconds per key of ``(start_ps, end_ps, key)`` events, each instant split evenly
    among the events running then, so that the sum is the time any op was running."""
    edges = sorted([(start, 1, index) for index, (start, _, _) in enumerate(events)]
                   + [(end, 0, index) for index, (_, end, _) in enumerate(events)])
    seconds, running, last = collections.Counter(), set(), None
    for time_ps, is_start, index in edges:
        if running and last is not None and time_ps > last:
            share = (time_ps - last) / 1e12 / len(running)
            for other in running:
                seconds[events[other][2]] += share
        last = time_ps
        (running.add if is_start else running.discard)(index)
    return seconds


def profile_ops(logdir: str, layers: set[str], optimizers: set[str]) -> dict:
    """Seconds per (phase, layer, op) on the executor threads of a profiler trace (each
    op's own time, and its time shared with the ops running beside it), and the
    seconds of the input pipeline's threads."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    paths = sorted(Path(logdir).rglob("*.xplane.pb"))
    space = xplane_pb2.XSpace()
    space.ParseFromString(paths[-1].read_bytes())
    events, pipeline = [], 0.0
    for plane in space.planes:
        for line in plane.lines:
            if line.name.startswith("tf_data"):
                pipeline += sum(event.duration_ps for event in line.events
                                if plane.event_metadata[event.metadata_id].name.startswith(
                                    "Iterator::")) / 1e12
            if not line.name.startswith("tf_Compute"):
                continue
            start = line.timestamp_ns * 1000
            for event in line.events:
                key = classify(plane.event_metadata[event.metadata_id].name, layers,
                               optimizers)
                if key is not None:
                    begin = start + event.offset_ps
                    events.append((begin, begin + event.duration_ps, key))
    own = collections.Counter()
    for begin, end, key in events:
        own[key] += (end - begin) / 1e12
    return {"ops": own, "shared": _shared_time(events), "pipeline_seconds": pipeline}


def _step_seconds(model, data, steps: int) -> float:
    from _timing import fit_epochs, median

    ends = fit_epochs(model, data, steps + 1).batch_ends
    return median([b - a for a, b in zip(ends, ends[1:])])


def profile_step(model_name: str, precision: str, batch_size: int, steps: int,
                 images: int = 1024) -> dict:
    """Step time and the per-op profile of `steps` training steps of a suite model, its
    FLOPs per step (TensorFlow's count on the traced graph) and the matmul ceiling of
    its compute dtype, measured in this process."""
    import _models
    import tensorflow as tf
    from _compute import matmul_gflops
    from _training import flops_per_image

    from inpaint_tf._system import has_gpu

    dtype = "float32" if precision == "float32" else ("float16" if has_gpu() else "bfloat16")
    ceiling = matmul_gflops(2048, dtype, repeats=10)
    flops = flops_per_image(model_name, _models.random_images(64), batch_size)
    model = _models.build(model_name, precision)
    data = _models.dataset(model_name, _models.random_images(images), batch_size)
    _step_seconds(model, data, 3)  # traces and warms up
    step = _step_seconds(model, data, steps)
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        _step_seconds(model, data, steps)
        tf.profiler.experimental.stop()
        result = profile_ops(logdir, layer_names(model), _optimizer_names(model))
    return {"model": model_name, "precision": precision, "batch_size": batch_size,
            "steps": steps, "step_seconds": step, "ceiling_dtype": dtype,
            "ceiling_gflops": ceiling, "train_gflop": flops["train_gflop_per_image"] * batch_size,
            **result}


def _shares(counter: collections.Counter, total: float, steps: int, top: int) -> list:
    rows = [(name, seconds) for name, seconds in counter.most_common()]
    shown = rows[:top]
    rest = sum(seconds for _, seconds in rows[top:])
    if rest:
        shown.append((f"({len(rows) - top} more)", rest))
    return [(name, 1000 * seconds / steps, 100 * seconds / total) for name, seconds in shown]


def report(result: dict, top: int = 20) -> str:
    """The step time and Markdown tables of the op time by phase, op kind, op type and
    layer: each op's share of the busy time (an instant split among the ops running
    then) and its own summed time."""
    steps, shared, own = result["steps"], result["shared"], result["ops"]
    busy = sum(shared.values())
    groups = {"phase": lambda k: k[0], "op kind": lambda k: _KIND_OF.get(k[2], "other"),
              "op type": lambda k: k[2], "layer": lambda k: k[1]}
    lines = [f"{result['model']}, {result['precision']}, batch {result['batch_size']}: step "
             f"{1000 * result['step_seconds']:.1f} ms (median of {steps}), "
             f"{result['batch_size'] / result['step_seconds']:.0f} images/s. Over "
             f"{steps} profiled steps, per step: ops running {1000 * busy / steps:.1f} ms, "
             f"ops' own times summed {1000 * sum(own.values()) / steps:.1f} ms (two run "
             f"side by side at times), input pipeline threads "
             f"{1000 * result['pipeline_seconds'] / steps:.1f} ms"]
    if "ceiling_gflops" in result:
        ideal = result["train_gflop"] / result["ceiling_gflops"]
        lines.append(
            f"A step computes {result['train_gflop']:.1f} GFLOP (the traced graph); at the "
            f"{result['ceiling_dtype']} matmul ceiling measured alongside "
            f"({result['ceiling_gflops']:.0f} GFLOP/s, 2048x2048) it would take "
            f"{1000 * ideal:.1f} ms, {result['batch_size'] / ideal:.0f} images/s: the step "
            f"runs at {100 * ideal / result['step_seconds']:.0f}% of that ceiling.")
    for title, group in groups.items():
        by_shared, by_own = collections.Counter(), collections.Counter()
        for key, seconds in shared.items():
            by_shared[group(key)] += seconds
        for key, seconds in own.items():
            by_own[group(key)] += seconds
        lines += ["", f"| {title} | ms per step (shared) | share | own ms per step |",
                  "|---|---|---|---|"]
        for name, ms, share in _shares(by_shared, busy, steps, top):
            own_ms = 1000 * by_own[name] / steps if name in by_own else float("nan")
            lines.append(f"| {name} | {ms:.2f} | {share:.1f}% | {own_ms:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> dict:
    import _models

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="conv_autoencoder", choices=_models.MODELS)
    parser.add_argument("--precision", default="mixed", choices=("float32", "mixed"))
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--top", type=int, default=20, help="rows per table")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    result = profile_step(args.model, args.precision, args.batch, args.steps)
    _log(f"Load average (1, 5, 15 min) {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the "
         f"start, {os.getloadavg()[0]:.2f} at the end, on {os.cpu_count()} cores")
    _log(report(result, args.top))
    return result


if __name__ == "__main__":
    main()
