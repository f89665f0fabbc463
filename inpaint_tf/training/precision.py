"""Precision: the Keras dtype policy of a run (its strategy: `inpaint_tf.training.distribution`).

Example:
    >>> policy_for("float32")
    'float32'
"""

from __future__ import annotations

import contextlib

from inpaint_tf._system import has_gpu

PRECISIONS = ("float32", "mixed")
"""The precisions a run takes: ``float32``, or ``mixed`` (bfloat16 on CPU and TPU,
float16 with loss scaling on GPU)."""


def policy_for(precision: str) -> str:
    """The Keras dtype policy of a precision: "mixed" is bfloat16 on CPU, float16 on GPU."""
    if precision not in PRECISIONS:
        raise ValueError(f"`precision` must be one of {PRECISIONS}. "
                         f"Received: precision={precision!r}")
    if precision == "float32":
        return "float32"
    return "mixed_float16" if has_gpu() else "mixed_bfloat16"


@contextlib.contextmanager
def dtype_policy(name: str):
    """Sets the global Keras dtype policy for the block, then restores the previous one."""
    import keras

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)

