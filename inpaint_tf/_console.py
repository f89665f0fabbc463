"""How the ``inpaint-tf`` process talks to its terminal: TensorFlow started with its
native start-up noise muted, warnings and errors as one line each on stderr (a
traceback only with ``INPAINT_TF_DEBUG=1``)."""

from __future__ import annotations

import contextlib
import os
import sys
import warnings


@contextlib.contextmanager
def native_stderr_muted():
    """File descriptor 2 muted for a block: C++ code (TensorFlow's start-up, the TFLite
    converter) writes there past every logging setting, and the CLI keeps its stderr
    for its own one-line errors. ``INPAINT_TF_DEBUG=1`` shows everything."""
    if os.environ.get("INPAINT_TF_DEBUG"):
        yield
        return
    sys.stderr.flush()
    saved, muted = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(muted, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(muted)


def start_tensorflow_quietly() -> None:
    """Imports TensorFlow and starts its runtime with file descriptor 2 muted (its oneDNN
    notices and CUDA probing on machines without a GPU)."""
    if not os.environ.get("INPAINT_TF_DEBUG"):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with native_stderr_muted():
        import keras  # noqa: F401
        import tensorflow as tf

        tf.constant(0.0).numpy()  # the runtime (and its device probing) starts here


@contextlib.contextmanager
def warnings_as_lines():
    """Each distinct warning (a mask almost all hole, ...) as one line on stderr."""
    with warnings.catch_warnings():
        warnings.simplefilter("default", UserWarning)  # once per message and place
        warnings.showwarning = lambda message, *_: print(f"inpaint-tf: warning: {message}",
                                                         file=sys.stderr)
        yield


def fail(error: BaseException, code: int) -> int:
    """The error's first line on stderr (re-raised with ``INPAINT_TF_DEBUG=1``); returns
    `code`, the exit code."""
    if os.environ.get("INPAINT_TF_DEBUG"):
        raise error
    message = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
    print(f"inpaint-tf: error: {message}", file=sys.stderr)
    return code
