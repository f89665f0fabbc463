"""Packages whose public names are imported on first use.

A package spanning several levels (``training``: precision at the bottom, the fit
loop at the top) cannot import its modules in its ``__init__``: a low module of it,
imported from below, would import the high ones with it. Its names load lazily
instead, which also keeps ``import inpaint_tf`` free of TensorFlow.
"""

from __future__ import annotations

import importlib


def lazy_exports(namespace: dict, exports: dict[str, str], submodules=()):
    """``__getattr__`` and ``__dir__`` for the package whose globals are `namespace`:
    each name of `exports` comes from the module it maps to, each of `submodules` is
    the package's module of that name.

    Example (in a package's ``__init__.py``):
        >>> _EXPORTS = {"train": "inpaint_tf.training.loop"}    # doctest: +SKIP
        >>> __getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)  # doctest: +SKIP
    """
    package = namespace["__name__"]

    def __getattr__(name: str):
        if name in exports:
            value = getattr(importlib.import_module(exports[name]), name)
        elif name in submodules:
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value
        return value

    def __dir__():
        return sorted({*namespace, *exports, *submodules})

    return __getattr__, __dir__
