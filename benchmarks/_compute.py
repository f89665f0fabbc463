"""What the hardware allows and what the models ask: the matmul ceiling and graph FLOPs."""

from __future__ import annotations

from _timing import median, time_calls


def matmul_gflops(size: int, dtype: str, *, repeats: int) -> float:
    """GFLOP/s of a `size` x `size` matmul in TensorFlow (2 n^3 FLOPs), median of repeats."""
    import tensorflow as tf

    a = tf.cast(tf.random.stateless_normal((size, size), seed=(1, 2)), dtype)
    b = tf.cast(tf.random.stateless_normal((size, size), seed=(3, 4)), dtype)
    matmul = tf.function(tf.linalg.matmul)
    # Reading one element back waits for the product without copying all of it.
    seconds = time_calls(lambda: float(matmul(a, b)[0, 0]), warmup=2, repeats=repeats)
    return 2 * size**3 / median(seconds) / 1e9


def graph_flops(concrete_function) -> int:
    """Floating-point operations of a traced graph, by TensorFlow's profiler.

    The profiler sums each op's registered FLOP count (a convolution counts 2 per
    multiply-add; its two gradients likewise); ops without a count (ReLU, casts,
    gathers) add nothing.
    """
    import tensorflow as tf

    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    profile = tf.compat.v1.profiler.profile(graph=concrete_function.graph, options=options)
    return int(profile.total_float_ops)


def model_flops(network, trainer, element_spec, batch_size: int) -> dict:
    """FLOPs per image of the forward pass of `network` and of one step of `trainer`.

    Args:
        network: the inference network (the GAN's generator).
        trainer: the compiled training model; its `train_step` is traced, not run.
        element_spec: the training dataset's element spec (fixed batch size).
        batch_size: images per step.
    """
    import tensorflow as tf

    inputs = {key: element_spec[0][key] for key in ("image", "mask")}
    forward = tf.function(lambda x: network(x, training=False)).get_concrete_function(inputs)
    step = tf.function(trainer.train_step).get_concrete_function(element_spec)
    return {"forward_gflop_per_image": graph_flops(forward) / batch_size / 1e9,
            "train_gflop_per_image": graph_flops(step) / batch_size / 1e9}
