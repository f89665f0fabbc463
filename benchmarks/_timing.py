"""Timing: medians of repeated calls, training steps taken in turn, and training
throughput in timed `fit` windows."""

from __future__ import annotations

import gc
import statistics
import time


def median(values) -> float:
    return float(statistics.median(values))


def time_calls(function, *, warmup: int, repeats: int) -> list[float]:
    """Seconds of each of `repeats` calls of `function()` after `warmup` untimed calls."""
    for _ in range(warmup):
        function()
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - started)
    return seconds


def ready_step(model, data, warmup: int):
    """One step of the model's train function on its own iterator of `data`, traced
    and warmed up by `warmup` calls; each call returns when the step has finished."""
    model.make_train_function()
    function, iterator = model.train_function, iter(data)

    def step():
        logs = function(iterator)
        float(next(iter(logs.values())))  # waits for the step to finish

    for _ in range(warmup):  # the first call traces
        step()
    return step


def interleaved_steps(steps: dict, count: int) -> dict:
    """Seconds of `count` calls of each ``name: step``, one of each in turn."""
    seconds = {name: [] for name in steps}
    for _ in range(count):
        for name, step in steps.items():
            started = time.perf_counter()
            step()
            seconds[name].append(time.perf_counter() - started)
    return seconds


def _timer_callback():
    import keras

    class Timer(keras.callbacks.Callback):
        """Records the seconds of every epoch and the end time of every batch."""

        def __init__(self):
            super().__init__()
            self.epochs, self.batch_ends = [], []

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.batch_ends.append(time.perf_counter())

        def on_epoch_end(self, epoch, logs=None):
            # Keras has turned the logs into numbers here, so the last step has finished.
            self.epochs.append(time.perf_counter() - self.started)

    return Timer()


def fit_epochs(model, data, steps: int, epochs: int = 1):
    """Fits `epochs` epochs of `steps` steps; returns the timer (epoch seconds, batch ends)."""
    timer = _timer_callback()
    model.fit(data, epochs=epochs, steps_per_epoch=steps, callbacks=[timer], verbose=0,
              shuffle=False)
    return timer


def warm_up(model, data, steps: int) -> float:
    """Traces the train step and runs `steps` (>= 2) steps; returns the seconds of one step.

    The first step pays for tracing, so the step time is read from the later ones.
    """
    steps = max(2, steps)
    ends = fit_epochs(model, data, steps).batch_ends
    return (ends[-1] - ends[0]) / (len(ends) - 1)


def window_steps(step_seconds: float, window_seconds: float) -> int:
    """Steps of a timed window that lasts about `window_seconds` (at least one step)."""
    return max(1, round(window_seconds / max(step_seconds, 1e-9)))


def training_throughput(model, data, batch_size: int, *, warmup_steps: int,
                        window_seconds: float, windows: int) -> dict:
    """Images per second of `model.fit` on `data`: the median of timed epoch windows."""
    step_seconds = warm_up(model, data, warmup_steps)
    steps = window_steps(step_seconds, window_seconds)
    seconds = fit_epochs(model, data, steps, windows).epochs
    rates = [steps * batch_size / s for s in seconds]
    return {"images_per_second": median(rates), "window_rates": rates, "window_steps": steps}


def interleaved_throughput(runs: dict, batch_size: int, *, warmup_steps: int,
                           window_seconds: float, windows: int) -> dict:
    """Like `training_throughput` for several ``name: (model, data)`` runs, their windows
    taken in turn, so that a change in background load hits all of them alike.

    Each window is its own `fit` call, which starts a new input iterator: its first
    step (pipeline start-up, once per epoch in a real run of 1,250 steps) is left out,
    and the window's rate is read from the ends of its `steps` later steps.
    """
    steps = {name: window_steps(warm_up(model, data, warmup_steps), window_seconds)
             for name, (model, data) in runs.items()}
    rates = {name: [] for name in runs}
    for _ in range(windows):
        for name, (model, data) in runs.items():
            ends = fit_epochs(model, data, steps[name] + 1).batch_ends
            rates[name].append(steps[name] * batch_size / (ends[-1] - ends[0]))
    return {name: {"images_per_second": median(values), "window_rates": values,
                   "window_steps": steps[name]} for name, values in rates.items()}


def release() -> None:
    """Drops the models, graphs and input iterators of the last measurement."""
    import keras

    keras.backend.clear_session()
    gc.collect()
