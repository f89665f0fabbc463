"""Registers the library's Keras classes with Keras, so that `keras.saving.load_model`
finds them after a bare ``import inpaint_tf``.

Keras finds a custom class only once the module that defines it has run (its
``register_keras_serializable`` decorator). If ``import inpaint_tf`` imported
those modules, it would import TensorFlow: seconds of start-up, and start-up
notices on stderr before the CLI can mute them. So the registration waits for
Keras instead.

If Keras is already imported, the modules are imported at once. Otherwise a
finder on `sys.meta_path` watches two kinds of import:

- the import of `keras`: once it completes, the modules are imported;
- the package's own submodules: Keras is often first imported from inside one
  of them, while that module is still half-run. The registration then waits
  until the outermost submodule import completes, so it never meets a
  half-initialised module.

After the registration the finder removes itself. It changes no Keras setting
and imports no TensorFlow of its own.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import threading
import warnings

# Every module that defines a class a saved model can name (layers, models, losses, metrics).
SERIALIZABLE_MODULES = ("inpaint_tf.layers", "inpaint_tf.models", "inpaint_tf.losses",
                        "inpaint_tf.metrics")
_PACKAGE = "inpaint_tf."
_state = threading.local()  # per thread: package imports in progress, a pending registration


def register_keras_objects() -> None:
    """Imports every module that registers Keras classes (idempotent)."""
    for name in SERIALIZABLE_MODULES:
        importlib.import_module(name)


def _register_quietly() -> None:
    _remove_finder()
    try:
        register_keras_objects()
    except Exception as error:  # noqa: BLE001 - never break the user's import
        warnings.warn(f"inpaint_tf could not register its Keras classes ({error}); "
                      "import inpaint_tf.models before loading its models", stacklevel=2)


def _depth() -> int:
    return getattr(_state, "depth", 0)


class _LoaderThenRegister(importlib.abc.Loader):
    """A module's own loader, followed by the registration when its time has come."""

    def __init__(self, loader, is_keras: bool):
        self._loader = loader
        self._is_keras = is_keras

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        if self._is_keras:
            self._loader.exec_module(module)
            if _depth() == 0:
                _register_quietly()
            else:  # Keras was imported by one of our half-run modules: wait for it
                _state.pending = True
            return
        _state.depth = _depth() + 1
        try:
            self._loader.exec_module(module)
        finally:
            _state.depth = _depth() - 1
        if _state.depth == 0 and getattr(_state, "pending", False):
            _state.pending = False
            _register_quietly()

    def __getattr__(self, name):  # resource readers and the like: the real loader answers
        return getattr(self._loader, name)


class _RegisterWhenKerasImports(importlib.abc.MetaPathFinder):
    """Finds `keras` and the package's submodules as the other finders would, with a
    loader that registers the Keras classes when the time has come."""

    def find_spec(self, fullname, path=None, target=None):
        is_keras = fullname == "keras"
        if not (is_keras or fullname.startswith(_PACKAGE)):
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _LoaderThenRegister(spec.loader, is_keras)
                return spec
        return None


def _remove_finder() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path
                        if not isinstance(f, _RegisterWhenKerasImports)]


def install() -> None:
    """Registers now if Keras is imported, else as soon as it is (called by ``import
    inpaint_tf``)."""
    if "keras" in sys.modules:
        _register_quietly()
    elif not any(isinstance(f, _RegisterWhenKerasImports) for f in sys.meta_path):
        sys.meta_path.insert(0, _RegisterWhenKerasImports())
