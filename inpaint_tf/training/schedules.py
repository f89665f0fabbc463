"""Optimizers and learning-rate schedules of a config's training.

Example:
    >>> learning_rate_schedule("constant", 1e-3, total_steps=100)
    0.001
"""

from __future__ import annotations

from inpaint_tf._validation import check_positive_int


def learning_rate_schedule(name: str, learning_rate: float, total_steps: int):
    """The learning rate of a schedule over `total_steps` optimizer steps.

    "constant": `learning_rate` throughout; "cosine": cosine decay from it to 0;
    "one_cycle": a linear warm-up from ``learning_rate / 25`` to it over the first
    30 % of the steps, then cosine decay to 0. The schedule reads the optimizer's
    step counter, which checkpoints keep, so a resumed run continues it.
    """
    import keras

    total_steps = check_positive_int(total_steps, "total_steps")
    if name == "constant":
        return learning_rate
    if name == "cosine":
        return keras.optimizers.schedules.CosineDecay(learning_rate, total_steps, alpha=0.0)
    if name == "one_cycle":
        warmup = max(1, int(0.3 * total_steps))
        return keras.optimizers.schedules.CosineDecay(
            learning_rate / 25.0, max(1, total_steps - warmup), alpha=0.0,
            warmup_target=learning_rate, warmup_steps=warmup)
    raise ValueError(f"`schedule` must be one of ('constant', 'cosine', 'one_cycle'). "
                     f"Received: schedule={name!r}")


def make_optimizer(name: str, learning_rate):
    """A Keras optimizer by its config name ("adam", "adamw", "sgd", "rmsprop")."""
    import keras

    classes = {"adam": keras.optimizers.Adam, "adamw": keras.optimizers.AdamW,
               "sgd": keras.optimizers.SGD, "rmsprop": keras.optimizers.RMSprop}
    return classes[name](learning_rate=learning_rate)
