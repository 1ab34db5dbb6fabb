"""Find the code object of a function by qualname in a compiled module."""

from __future__ import annotations

import ast
import sys


def iter_code(code):
    """Every code object nested in `code` (itself included), depth first."""
    yield code
    for const in code.co_consts:
        if hasattr(const, "co_code"):
            yield from iter_code(const)


def _ast_qualnames(tree):
    """{qualname: first line incl. decorators} for every function, as co_qualname spells it."""
    found: dict[str, list[int]] = {}

    def walk(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                qual = prefix + child.name
                lines = [child.lineno] + [d.lineno for d in child.decorator_list]
                found.setdefault(qual, []).append(min(lines))
                walk(child, qual + ".<locals>.")
            elif isinstance(child, ast.ClassDef):
                walk(child, prefix + child.name + ".")
            else:
                walk(child, prefix)

    walk(tree, "")
    return found


def _normalise(qualname):
    return qualname.replace(".<locals>", "")


def find_code(module_code, qualname, source):
    """The code object of `qualname` ("func", "Class.method", "outer.inner") or None."""
    wanted = _normalise(qualname)
    candidates = [c for c in iter_code(module_code) if c.co_name != "<module>"]
    if sys.version_info >= (3, 11):
        for code in candidates:
            if code.co_qualname == qualname or _normalise(code.co_qualname) == wanted:
                return code
        return None
    # 3.10: no co_qualname; match the name and the first line the ast gives for the qualname.
    table = _ast_qualnames(ast.parse(source))
    for qual, firsts in table.items():
        if qual == qualname or _normalise(qual) == wanted:
            for code in candidates:
                if code.co_name == qual.rsplit(".", 1)[-1] and code.co_firstlineno in firsts:
                    return code
    return None
