"""The reformulated layers against Keras' own computation, side by side in one process.

inpaint_tf's `Conv2D` and `Conv2DTranspose` (and `DilatedConv2D`, built on that
`Conv2D`) compute Keras' function faster where they can. Under `keras_computation()`
they compute it as Keras does; everything else (model, variables, data) is the same.
Two comparisons, each interleaved (A, B, A, B, …) so that background load hits both
alike; their ratio is what to read (absolute times on a loaded machine are not):

- ``layers``: every such layer of a suite model (the GAN: of its generator and
  discriminator), rebuilt alone at its input shape in the model, forward plus both
  backward passes as one compiled function, at float32 and at the mixed compute dtype;
- ``steps``: whole training steps of the suite model (its compiled train function on
  its real pipeline), one step of each in turn.

    python benchmarks/ab_layers.py layers --model conv_autoencoder
    python benchmarks/ab_layers.py steps --model gan_joint --steps 40
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _log(message: str) -> None:
    print(message, flush=True)


@contextlib.contextmanager
def keras_computation():
    """inpaint_tf's reformulated layers compute as Keras' own classes while inside.

    A model or function traced inside keeps Keras' computation after the block.
    """
    import keras

    from inpaint_tf.layers import Conv2D, Conv2DTranspose

    saved = (Conv2D.convolution_op, Conv2DTranspose.call)
    Conv2D.convolution_op = keras.layers.Conv2D.convolution_op
    Conv2DTranspose.call = keras.layers.Conv2DTranspose.call
    try:
        yield
    finally:
        Conv2D.convolution_op, Conv2DTranspose.call = saved


def reformulated_layers(network) -> list:
    """The layers of `network` (nested models included) that are inpaint_tf's
    reformulations, with their input shape (no batch) in a 32x32 call."""
    import keras
    import numpy as np

    from inpaint_tf.layers import Conv2D, Conv2DTranspose

    found, stack = [], [network]
    while stack:
        for layer in stack.pop().layers:
            if isinstance(layer, keras.Model):
                stack.append(layer)
            elif isinstance(layer, (Conv2D, Conv2DTranspose)):
                found.append(layer)
    shapes = {}

    def recording(layer, call):
        def record(inputs):
            shapes[layer.name] = tuple(inputs.shape[1:])
            return call(inputs)

        return record

    for layer in found:  # records each layer's input shape in one call of the network
        layer.call = recording(layer, layer.call)
    try:
        network({"image": np.zeros((1, 32, 32, 3), "float32"),
                 "mask": np.zeros((1, 32, 32, 1), "float32")})
    finally:
        for layer in found:
            del layer.call
    return [(layer, shapes[layer.name]) for layer in found]


def interleaved_medians(functions: dict, *, warmup: int, repeats: int) -> dict:
    """Median seconds of each ``name: function``, their calls taken in turn."""
    for function in functions.values():
        for _ in range(warmup):
            function()
    seconds = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            started = time.perf_counter()
            function()
            seconds[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in seconds.items()}


def layer_rows(model_name: str, batch_size: int, repeats: int) -> list[dict]:
    """Each reformulated layer of `model_name`, ours against Keras', both precisions."""
    import _models
    from _layers import _layer_step
    from _timing import release

    model = _models.build(model_name, "float32")
    networks = [getattr(model, name) for name in ("generator", "discriminator")
                if hasattr(model, name)] or [model]
    rows = []
    for network in networks:
        for layer, shape in reformulated_layers(network):
            row = {"layer": layer.name, "kind": type(layer).__name__,
                   "input": "x".join(map(str, shape))}
            for dtype in ("float32", "bfloat16"):
                steps = {}
                with keras_computation():
                    steps["keras"] = _layer_step(type(layer), layer.get_config(), [shape],
                                                 batch_size, dtype)
                    steps["keras"]()  # traced here: Keras' computation
                steps["ours"] = _layer_step(type(layer), layer.get_config(), [shape],
                                            batch_size, dtype)
                times = interleaved_medians(
                    {which: (lambda step=step: float(step())) for which, step in steps.items()},
                    warmup=2, repeats=repeats)
                row[dtype] = {**{k: 1000 * v for k, v in times.items()},
                              "speedup": times["keras"] / times["ours"]}
            rows.append(row)
            _log(f"  {row['layer']:28s} {row['kind']:16s} {row['input']:>10s}  "
                 + "  ".join(f"{dtype} {row[dtype]['keras']:6.2f} -> {row[dtype]['ours']:6.2f}"
                             f" ms ({row[dtype]['speedup']:.2f}x)"
                             for dtype in ("float32", "bfloat16")))
    release()
    return rows


def step_rates(model_name: str, batch_size: int, precision: str, count: int) -> dict:
    """Images/s of training steps, ours against Keras' computation, in turn."""
    import _models
    from _timing import interleaved_steps, median, ready_step, release

    data = _models.dataset(model_name, _models.random_images(2048), batch_size)
    with keras_computation():
        keras_step = ready_step(_models.build(model_name, precision), data, warmup=3)
    ours_step = ready_step(_models.build(model_name, precision), data, warmup=3)
    seconds = interleaved_steps({"keras": keras_step, "ours": ours_step}, count)
    release()
    rates = {name: batch_size / median(values) for name, values in seconds.items()}
    # Each step of ours against the Keras step just before it: the steadiest figure on a
    # busy machine.
    ratio = median([k / o for k, o in zip(seconds["keras"], seconds["ours"])])
    _log(f"  {model_name} {precision} batch {batch_size}, {count} steps each: Keras "
         f"{rates['keras']:.1f} images/s, ours {rates['ours']:.1f} (ratio of medians "
         f"{rates['ours'] / rates['keras']:.3f}x, median of step ratios {ratio:.3f}x)")
    return {"rates": rates, "ratio": ratio, "seconds": seconds}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("layers", "steps"))
    parser.add_argument("--model", default="conv_autoencoder")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--precision", default="mixed", choices=("float32", "mixed"))
    parser.add_argument("--repeats", type=int, default=20, help="calls per layer (layers)")
    parser.add_argument("--steps", type=int, default=60, help="training steps each (steps)")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    _log(f"Load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    if args.what == "layers":
        layer_rows(args.model, args.batch, args.repeats)
    else:
        step_rates(args.model, args.batch, args.precision, args.steps)
    _log(f"Load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
