"""MkDocs hooks of the documentation site (mkdocs.yml names this file).

- Before the build: every public name of `inpaint_tf.__all__` and its namespaces must
  have a docstring (`public_api.PublicAPI.undocumented`); the build stops naming the
  ones that have none.
- The API reference: one page per namespace, ``reference/<namespace>.md``, written in
  memory from the package's source (`public_api.reference_page`), so that a name added
  to a namespace's ``__all__`` appears without anyone editing a page. mkdocs.yml lists
  the pages in its nav; with ``validation.omitted_files: warn`` and ``--strict``, a
  namespace without a nav entry, or a nav entry without a namespace, stops the build.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

sys.path.insert(0, str(Path(__file__).resolve().parent))

from public_api import PublicAPI, reference_page  # noqa: E402


def on_pre_build(config, **kwargs):
    missing = PublicAPI().undocumented()
    if missing:
        raise PluginError("Public names without a docstring: " + ", ".join(missing))


def on_files(files, config, **kwargs):
    api = PublicAPI()
    for namespace in api.namespaces():
        files.append(File.generated(config, f"reference/{namespace}.md",
                                    content=reference_page(api, namespace)))
    return files
