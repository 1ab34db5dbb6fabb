"""Static facts about the target file, read with `ast` in the parent (no code runs).

Which functions the file defines (for `not_found` candidates), the line span of the target,
whether it has a `__main__` block and whether the target can be called without arguments:
what `profile` needs to pick an entry mode before starting any process. The language server's
lenses ask the same two questions (`has_main_block`, `needs_call`) of the text being typed.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass


@dataclass
class FunctionInfo:
    qualname: str  # "func", "Class.method", "outer.inner"
    first_line: int  # first decorator line, else the `def` line (what co_firstlineno says)
    last_line: int
    zero_arg: bool  # callable with no arguments (every parameter has a default)
    in_class: bool


def _zero_arg(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    a = node.args
    positional = a.posonlyargs + a.args
    required = len(positional) - len(a.defaults)
    kw_required = sum(d is None for d in a.kw_defaults)
    return required <= 0 and kw_required == 0


def functions(tree: ast.Module) -> list[FunctionInfo]:
    """Every function and method of the module, in source order."""
    found: list[FunctionInfo] = []

    def walk(node: ast.AST, prefix: str, in_class: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                qual = prefix + child.name
                first = min([child.lineno] + [d.lineno for d in child.decorator_list])
                last = child.end_lineno or child.lineno
                found.append(FunctionInfo(qual, first, last, _zero_arg(child), in_class))
                walk(child, qual + ".", False)
            elif isinstance(child, ast.ClassDef):
                walk(child, prefix + child.name + ".", True)
            else:
                walk(child, prefix, in_class)

    walk(tree, "", False)
    return found


def find(tree: ast.Module, qualname: str) -> FunctionInfo | None:
    wanted = qualname.replace(".<locals>", "")
    for info in functions(tree):
        if info.qualname == wanted:
            return info
    return None


# A module-level `if __name__ == "__main__":` line, for text that does not parse while typed.
_MAIN_LINE = re.compile(
    r"""^if\s+(__name__\s*==\s*(['"])__main__\2|(['"])__main__\3\s*==\s*__name__)\s*:""",
    re.MULTILINE)


def needs_call(info, has_main: bool) -> bool:
    """True when no entry runs the function by itself: it needs arguments (or is a method) and
    the file has no `__main__` block to run. `info`: anything with `zero_arg` and `in_class`."""
    return not has_main and (info.in_class or not info.zero_arg)


def has_main_line(text: str) -> bool:
    """`has_main_block` for text being typed (which may not parse), by its lines: what the
    language server's lenses ask on every keystroke, without parsing the file again."""
    return _MAIN_LINE.search(text) is not None


def has_main_block(tree: ast.Module) -> bool:
    """True for a module-level `if __name__ == "__main__":` (either operand order)."""
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Compare):
            test = node.test
            sides = [test.left, *test.comparators]
            names = any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
            main = any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)
            if names and main and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
                return True
    return False
