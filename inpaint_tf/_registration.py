"""Registers the library's Keras classes with Keras, so that `keras.saving.load_model`
finds them after a bare ``import inpaint_tf``.

Keras finds a custom class only once the module defining it has run (its
``register_keras_serializable`` decorator). Importing those modules at
``import inpaint_tf`` would import TensorFlow (seconds, and start-up notices on
stderr before the CLI can mute them), so this waits for Keras instead: if Keras
is already imported the modules are imported at once, otherwise a finder on
`sys.meta_path` imports them right after Keras' own import completes. Nothing
else is touched: no Keras setting, no TensorFlow import of our own.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

# Every module that defines a class a saved model can name (layers, models, losses, metrics).
SERIALIZABLE_MODULES = ("inpaint_tf.layers", "inpaint_tf.models", "inpaint_tf.losses",
                        "inpaint_tf.metrics")


def register_keras_objects() -> None:
    """Imports every module that registers Keras classes (idempotent)."""
    for name in SERIALIZABLE_MODULES:
        importlib.import_module(name)


def _register_quietly() -> None:
    try:
        register_keras_objects()
    except Exception as error:  # noqa: BLE001 - never break the user's `import keras`
        warnings.warn(f"inpaint_tf could not register its Keras classes ({error}); "
                      "import inpaint_tf.models before loading its models", stacklevel=2)


class _LoaderThenRegister(importlib.abc.Loader):
    """Keras' own loader, followed by the registration once Keras is fully imported."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        _register_quietly()

    def __getattr__(self, name):  # resource readers and the like: Keras' loader answers
        return getattr(self._loader, name)


class _AfterKerasImport(importlib.abc.MetaPathFinder):
    """Finds `keras` as the other finders would, with a loader that registers after it."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras":
            return None
        _remove_finder()
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _LoaderThenRegister(spec.loader)
        return spec


def _remove_finder() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _AfterKerasImport)]


def install() -> None:
    """Registers now if Keras is imported, else as soon as it is (called by ``import
    inpaint_tf``)."""
    if "keras" in sys.modules:
        _register_quietly()
    elif not any(isinstance(f, _AfterKerasImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterKerasImport())
