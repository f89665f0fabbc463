"""A griffe extension of the docs build (mkdocs.yml loads it): the package's docstrings
title their doctests ``Example:``, as Keras' do; griffe's Google-style parser knows
``Examples:`` only and would render the doctests as prose. This renames the title, so
the reference shows them as code."""

from __future__ import annotations

import re

import griffe

_TITLE = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)


class ExampleSections(griffe.Extension):
    """Renames each ``Example:`` section title of a docstring to ``Examples:``."""

    def on_instance(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _TITLE.sub(r"\1Examples:", obj.docstring.value)
