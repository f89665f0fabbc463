"""Where the conv autoencoder's training step spends its time, layer by layer.

Each layer with weights (and each pooling and concatenation) is rebuilt alone at its
input shape in the model, at float32 and at the mixed policy's compute dtype, and its
forward plus backward pass (gradients of the inputs and of the weights) is timed as one
compiled function. The sum is not the step time (no optimizer, no loss, no pipeline),
but the ratios show which layers gain from the lower precision and which do not.
"""

from __future__ import annotations

import _models
from _timing import median, release, time_calls

MODEL = "conv_autoencoder"
TIMED = ("Conv2D", "Conv2DTranspose", "MaxPooling2D", "Concatenate")


def _layer_step(layer_class, config: dict, input_shapes: list, batch_size: int, dtype):
    import tensorflow as tf

    layer = layer_class.from_config({**config, "dtype": dtype})
    inputs = [tf.Variable(tf.cast(tf.random.stateless_normal((batch_size, *shape), (1, 2)),
                                  dtype)) for shape in input_shapes]

    def call():
        return layer(inputs if len(inputs) > 1 else inputs[0])

    call()  # builds the layer

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.cast(call(), tf.float32))
        gradients = tape.gradient(loss, inputs + layer.trainable_variables)
        # One scalar per gradient: the call returns once every gradient is computed.
        return tf.add_n([tf.reduce_sum(tf.cast(g, tf.float32)) for g in gradients])

    return step


def _input_shapes(model, size: int = 32) -> list:
    """(layer, its input shapes without the batch) for each timed layer, at `size` x `size`.

    The network takes any size (its symbolic shapes hold None): one probe call on a
    CIFAR-sized image reads the concrete shapes.
    """
    import keras
    import numpy as np

    layers = [layer for layer in model.layers if type(layer).__name__ in TIMED]
    sources = [layer.input if isinstance(layer.input, list) else [layer.input]
               for layer in layers]
    probe = keras.Model(model.inputs, [tensor for group in sources for tensor in group])
    values = iter(probe({"image": np.zeros((1, size, size, 3), "float32"),
                         "mask": np.zeros((1, size, size, 1), "float32")}))
    return [(layer, [tuple(next(values).shape[1:]) for _ in group])
            for layer, group in zip(layers, sources)]


def layer_table(settings, mixed_dtype: str) -> list[dict]:
    """Milliseconds of forward + backward per layer, float32 against `mixed_dtype`."""
    model = _models.build(MODEL, "float32")
    batch_size, rows = settings.reference_batch, []
    for layer, shapes in _input_shapes(model):
        row = {"layer": layer.name, "kind": type(layer).__name__,
               "input_shapes": [list(shape) for shape in shapes]}
        for key, dtype in (("float32_ms", "float32"), ("mixed_ms", mixed_dtype)):
            step = _layer_step(type(layer), layer.get_config(), shapes, batch_size, dtype)
            seconds = time_calls(lambda step=step: float(step()), warmup=2,
                                 repeats=settings.layer_repeats)
            row[key] = 1000 * median(seconds)
        row["mixed_speedup"] = row["float32_ms"] / row["mixed_ms"]
        rows.append(row)
    release()
    total = {key: sum(row[key] for row in rows) for key in ("float32_ms", "mixed_ms")}
    print(f"  all layers: float32 {total['float32_ms']:.1f} ms, {mixed_dtype} "
          f"{total['mixed_ms']:.1f} ms ({total['float32_ms'] / total['mixed_ms']:.2f}x)",
          flush=True)
    return rows
