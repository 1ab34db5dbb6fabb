"""Fixes that a template cannot express, named from a rule's `fix: {fixer: NAME, ...}`.

Each fixer takes a FixContext and returns the edits, or None when it cannot fix this match
safely (the finding is then reported without a fix). Generic fixers live here; fixers for one
family of rules live in a module of this package (imported below, so they register themselves).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ast_grep_py import SgNode

from memlens.engine.edits import pos
from memlens.engine.model import Edit, Position


@dataclass
class FixContext:
    node: SgNode  # the whole match
    lines: list[str]  # the file's lines, without their newlines
    bindings: Mapping[str, frozenset[str]]  # local name -> canonical paths (the file's imports)
    args: dict = field(default_factory=dict)  # the rule's fixer arguments

    def target(self) -> SgNode | None:
        """The node named by the `node:` argument (a metavariable), else the whole match."""
        name = self.args.get("node")
        return self.node.get_match(name) if name else self.node

    def local_name(self, canonical: str) -> str | None:
        """How this file spells a canonical dotted name, if it imports it at all."""
        from memlens.engine.canonical import spellings

        found = spellings(canonical, self.bindings)
        return found[0] if found else None

    def visible_name(self, canonical: str) -> str | None:
        """How the match's own position can spell a canonical dotted name: through an import
        at the module's top level, or in a function that encloses the match. (An import in
        another function binds nothing here: the spelling would raise NameError.)"""
        from memlens.engine.canonical import spellings
        from memlens.engine.imports import IMPORT_RULE, resolve_imports

        scopes = [a for a in self.node.ancestors() if a.kind() == "function_definition"]
        scopes.append(self.node.get_root().root())
        bindings: dict[str, set[str]] = {}
        for scope in scopes:
            for stmt in scope.find_all(IMPORT_RULE):
                owner = next((a for a in stmt.ancestors()
                              if a.kind() in ("function_definition", "class_definition")), None)
                if scope.kind() == "function_definition":
                    if owner is None or not _same(owner, scope):
                        continue
                elif owner is not None or (parent := stmt.parent()) is None or \
                        parent.kind() != "module":
                    continue  # at module level only a top-level import surely binds
                for name, paths in resolve_imports(stmt).items():
                    bindings.setdefault(name, set()).update(paths)
        found = spellings(canonical, {n: frozenset(p) for n, p in bindings.items()})
        return found[0] if found else None

    def module_name(self, canonical: str) -> tuple[str, list[Edit]] | None:
        """How code at module level (a decorator) spells a canonical dotted name, and the edit
        adding `import <module>` when only a function imports it (or nothing does): an import
        inside a function binds nothing at module level. None when that import would be of a
        package outside the standard library: a module that imports it only inside functions,
        or under `try`/`if`, treats it as optional, and a fix must not make it required."""
        from memlens.engine.canonical import spellings
        from memlens.engine.imports import resolve_imports

        global _TOP_IMPORTS
        root = self.node.get_root().root()
        cached_lines, bindings = _TOP_IMPORTS  # one read: another thread may replace it
        if cached_lines is not self.lines:  # once per file, for all of its fixes
            top: dict[str, set[str]] = {}
            for child in root.children():
                if child.kind() in ("import_statement", "import_from_statement"):
                    for name, paths in resolve_imports(child).items():
                        top.setdefault(name, set()).update(paths)
            bindings = {n: frozenset(p) for n, p in top.items()}
            _TOP_IMPORTS = (self.lines, bindings)
        found = spellings(canonical, bindings)
        if found:
            return found[0], []
        module = canonical.split(".", 1)[0]
        if module not in sys.stdlib_module_names:
            return None
        at = import_position(root)
        return canonical, [Edit(at, at, f"import {module}\n")]

    def bound_at_module_level(self, canonical: str) -> str | None:
        """How the module's own top-level imports spell a canonical name; None when only a
        function, or a `try`/`if` block, imports its package (then it may be optional)."""
        found = self.module_name(canonical)
        return found[0] if found is not None and not found[1] else None


# the last file's lines (kept alive, compared by identity) and its top-level import bindings
_TOP_IMPORTS: tuple = (None, {})


def _same(a: SgNode, b: SgNode) -> bool:
    ra, rb = a.range(), b.range()
    return ra.start.index == rb.start.index and ra.end.index == rb.end.index


def import_position(root: SgNode) -> Position:
    """Where a new top-level import goes: before the first ordinary top-level import, else after
    the module docstring and `from __future__` imports."""
    line = 0
    for i, child in enumerate(c for c in root.children() if c.kind() != "comment"):
        kind = child.kind()
        if kind == "future_import_statement" or (
                kind == "import_from_statement" and child.text().startswith("from __future__")):
            line = child.range().end.line + 1
            continue
        if kind in ("import_statement", "import_from_statement"):
            line = child.range().start.line
            break
        if i == 0 and kind == "expression_statement" and (first := child.child(0)) is not None \
                and first.kind() == "string":
            line = child.range().end.line + 1
            continue
        break
    return Position(line, 0)


Fixer = Callable[[FixContext], "list[Edit] | None"]
FIXERS: dict[str, Fixer] = {}


def fixer(name: str):
    def register(fn: Fixer) -> Fixer:
        FIXERS[name] = fn
        return fn

    return register


@fixer("add-keyword")
def add_keyword(ctx: FixContext) -> list[Edit] | None:
    """Append keyword arguments (`text:`) to a call, minding empty and trailing-comma lists."""
    call = ctx.target()
    if call is None or call.kind() != "call":
        return None
    arguments = call.field("arguments")
    if arguments is None or arguments.kind() != "argument_list":
        return None  # a generator-expression argument cannot take more arguments
    children = arguments.children()
    closing = children[-1]
    if closing.text() != ")":
        return None
    inner = [c for c in children[1:-1] if c.text() != ","]
    ends_with_comma = len(children) >= 3 and children[-2].text() == ","
    text = ctx.args["text"]
    if not inner:
        content = text
    elif ends_with_comma:
        content = " " + text
    else:
        content = ", " + text
    at = pos(closing.range().start)
    if ends_with_comma or not inner:
        return [Edit(at, at, content)]
    last = inner[-1]
    end = pos(last.range().end)
    return [Edit(end, end, content)]


@fixer("delete-lines")
def delete_lines(ctx: FixContext) -> list[Edit] | None:
    """Delete the whole lines the target spans (an import or a decorator left behind)."""
    node = ctx.target()
    if node is None:
        return None
    r = node.range()
    first, last = r.start.line, r.end.line
    before = ctx.lines[first][: r.start.column]
    after = ctx.lines[last][r.end.column :]
    if before.strip() or after.strip().split("#")[0].strip():
        return None  # something else shares the line: leave it to a human
    parent = node.parent()
    if parent is not None and parent.kind() == "block" and not any(
            c.is_named() and c.kind() != "comment" and not _same(c, node)
            for c in parent.children()):
        # the only statement of its block (`try:`, `if ...:`): an empty block does not parse
        return [Edit(Position(first, 0), Position(last + 1, 0), f"{before}pass\n")]
    return [Edit(Position(first, 0), Position(last + 1, 0), "")]


def _load_family_fixers() -> None:
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


_load_family_fixers()
