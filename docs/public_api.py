"""The public API of inpaint_tf, read from its source without importing it.

`inpaint_tf.__all__` and the namespaces it names, each name followed to the module
that defines it (``from ... import`` chains and the lazy ``_EXPORTS`` maps alike).
The docs build (`docs/hooks.py`) writes one reference page per namespace from it and
stops when a public name has no docstring; ``tests/test_docs.py`` runs the same check
without the docs' packages. Reading the source (``ast``) keeps both free of
TensorFlow, as mkdocstrings is.

A module without ``__all__`` (``losses``, ``metrics``, ``configs``) publishes the
functions, classes and constants it defines whose names do not start with ``_``.
A constant's docstring is the string literal right below its assignment.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "inpaint_tf"


@dataclass(frozen=True)
class Entry:
    """One public name of a namespace: where it is defined and what it is."""

    name: str  # as the namespace publishes it
    target: str  # dotted path of its definition, e.g. inpaint_tf.masks.sets.eval_masks
    kind: str  # "function", "class", "constant" or "module"
    docstring: str | None


class _Module:
    """One parsed module of the package: its docstring, definitions and imports."""

    def __init__(self, dotted: str, root: Path):
        self.dotted = dotted
        parts = dotted.split(".")
        path = root.joinpath(*parts)
        self.is_package = (path / "__init__.py").exists()
        self.path = path / "__init__.py" if self.is_package else path.with_suffix(".py")
        self.tree = ast.parse(self.path.read_text(), str(self.path))
        self.docstring = ast.get_docstring(self.tree)
        self.definitions: dict[str, tuple[str, str | None]] = {}
        self.imports: dict[str, str] = {}  # local name -> dotted path of the original
        self.literals: dict[str, object] = {}
        body = self.tree.body
        for index, node in enumerate(body):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                kind = "class" if isinstance(node, ast.ClassDef) else "function"
                self.definitions[node.name] = (kind, ast.get_docstring(node))
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                following = body[index + 1] if index + 1 < len(body) else None
                doc = None
                if (isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                        and isinstance(following.value.value, str)):
                    doc = following.value.value
                for target in targets:
                    if isinstance(target, ast.Name):
                        self.definitions[target.id] = ("constant", doc)
                        try:
                            self.literals[target.id] = ast.literal_eval(node.value)
                        except (ValueError, TypeError, SyntaxError):
                            self.literals[target.id] = node.value
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def all_names(self) -> list[str] | None:
        """``__all__``: a list literal, or an expression of the module's literals
        (``sorted(_EXPORTS)``, ``sorted([*_EXPORTS, *NAMESPACES])``); None without one."""
        value = self.literals.get("__all__")
        if value is None:
            return None
        if isinstance(value, ast.AST):
            scope = {k: v for k, v in self.literals.items() if not isinstance(v, ast.AST)}
            code = compile(ast.Expression(value), str(self.path), "eval")
            value = eval(code, {"__builtins__": {}, "sorted": sorted, "list": list}, scope)
        return list(value)

    def lazy_map(self) -> dict[str, str]:
        """The lazy ``_EXPORTS`` map (name -> defining module) and submodules by name."""
        exports = self.literals.get("_EXPORTS")
        mapped = dict(exports) if isinstance(exports, dict) else {}
        return {name: f"{module}.{name}" for name, module in mapped.items()}


class PublicAPI:
    """The package's namespaces and their public names, read from `root`."""

    def __init__(self, root: Path = ROOT):
        self.root = root
        self._modules: dict[str, _Module] = {}

    def module(self, dotted: str) -> _Module:
        if dotted not in self._modules:
            self._modules[dotted] = _Module(dotted, self.root)
        return self._modules[dotted]

    def is_module(self, dotted: str) -> bool:
        path = self.root.joinpath(*dotted.split("."))
        return (path / "__init__.py").exists() or path.with_suffix(".py").exists()

    def namespaces(self) -> list[str]:
        """``inpaint_tf`` and every namespace of its ``__all__``, in that order."""
        top = self.module(PACKAGE)
        names = [n for n in top.all_names() if self.is_module(f"{PACKAGE}.{n}")]
        return [PACKAGE, *(f"{PACKAGE}.{n}" for n in names)]

    def resolve(self, dotted: str, seen=()) -> Entry:
        """The definition a dotted path leads to, through re-exports and lazy maps."""
        if dotted in seen:
            raise ValueError(f"import cycle resolving {dotted}")
        name = dotted.rsplit(".", 1)[1]
        if self.is_module(dotted):
            return Entry(name, dotted, "module", self.module(dotted).docstring)
        owner = self.module(dotted.rsplit(".", 1)[0])
        if name in owner.definitions:
            kind, doc = owner.definitions[name]
            if kind != "constant" or name not in owner.imports:
                return Entry(name, dotted, kind, doc)
        for mapping in (owner.imports, owner.lazy_map()):
            if name in mapping:
                found = self.resolve(mapping[name], (*seen, dotted))
                return Entry(name, found.target, found.kind, found.docstring)
        raise LookupError(f"{dotted}: no definition found in {owner.path}")

    def entries(self, namespace: str) -> list[Entry]:
        """The public names of `namespace`, each resolved to its definition."""
        module = self.module(namespace)
        names = module.all_names()
        if names is None:
            names = sorted(n for n, (kind, _) in module.definitions.items()
                           if not n.startswith("_") and n not in module.imports)
        return [Entry(n, *self._resolved(f"{namespace}.{n}")) for n in names]

    def _resolved(self, dotted: str):
        found = self.resolve(dotted)
        return found.target, found.kind, found.docstring

    def undocumented(self) -> list[str]:
        """Every public name (and namespace) without a docstring, as ``namespace.name``."""
        missing = []
        for namespace in self.namespaces():
            if not (self.module(namespace).docstring or "").strip():
                missing.append(namespace)
            missing += [f"{namespace}.{e.name}" for e in self.entries(namespace)
                        if not (e.docstring or "").strip()]
        return missing


def reference_page(api: PublicAPI, namespace: str) -> str:
    """The Markdown of `namespace`'s reference page: its docstring, then each public
    name from its definition (mkdocstrings' ``:::`` blocks)."""
    lines = [f"# `{namespace}`", "", f"::: {namespace}", "    options:",
             "      members: false", "      show_root_heading: false", ""]
    for entry in api.entries(namespace):
        if entry.kind == "module":
            lines += [f"## `{namespace}.{entry.name}`", "",
                      f"See [`{entry.target}`]({entry.target}.md)."
                      if namespace == PACKAGE else f"::: {entry.target}", ""]
            continue
        lines += [f"::: {entry.target}", "    options:", "      heading_level: 2",
                  "      show_root_full_path: false", ""]
    return "\n".join(lines)
