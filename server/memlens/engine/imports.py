"""Which canonical module paths each local name of a file is bound to.

`import numpy as np` binds `np` to `numpy`; `from pandas import read_csv as rc` binds `rc` to
`pandas.read_csv`; `import os.path` binds `os` to `os`. Rules are written against canonical names
and rewritten per file with this map (see `canonical.py`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the text prefilter uses this module before any parser is loaded
    from ast_grep_py import SgNode

# The names ML code gives numpy and pandas: a file that gets `np`/`pd` from a star import
# (`from .common import *`) and uses them is read as if it imported them so.
CONVENTIONAL_ALIASES = {"np": "numpy", "pd": "pandas"}


def star_aliases(text: str) -> dict[str, str]:
    """The conventional aliases a file with a star import uses (`np.`, `pd.`): alias -> module.
    (Whether it binds them itself is for the caller to check.)"""
    if "import *" not in text and "import*" not in text:
        return {}
    return {alias: module for alias, module in CONVENTIONAL_ALIASES.items()
            if f"{alias}." in text}


IMPORT_RULE = {"rule": {"any": [{"kind": "import_statement"}, {"kind": "import_from_statement"}]}}


def resolve_imports(root: SgNode) -> dict[str, frozenset[str]]:
    """Map each locally bound name to the canonical dotted paths it may refer to."""
    bindings: dict[str, set[str]] = defaultdict(set)
    statements = [root] if root.kind() in ("import_statement", "import_from_statement") \
        else root.find_all(IMPORT_RULE)
    for stmt in statements:
        if stmt.kind() == "import_statement":
            for item in stmt.field_children("name"):
                if item.kind() == "aliased_import":
                    bindings[item.field("alias").text()].add(_dotted(item.field("name")))
                else:
                    dotted = _dotted(item)
                    root_name = dotted.split(".", 1)[0]
                    bindings[root_name].add(root_name)
        else:
            module = stmt.field("module_name")
            if module is None or module.kind() == "relative_import":
                continue  # relative imports name the project's own modules, never a library
            base = _dotted(module)
            for item in stmt.field_children("name"):
                if item.kind() == "aliased_import":
                    name = _dotted(item.field("name"))
                    bindings[item.field("alias").text()].add(f"{base}.{name}")
                elif item.kind() == "dotted_name":
                    name = _dotted(item)
                    bindings[name].add(f"{base}.{name}")
    return {name: frozenset(paths) for name, paths in bindings.items()}


def _dotted(node: SgNode) -> str:
    # `numpy . random` spread over lines inside parentheses is rare but legal: drop whitespace.
    return "".join(node.text().split())
