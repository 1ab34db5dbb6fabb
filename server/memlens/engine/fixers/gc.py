"""Fixers for the gc family (ML6xx)."""

from __future__ import annotations

from memlens.engine.edits import node_edit, pos
from memlens.engine.fixers import FixContext, fixer
from memlens.engine.model import Edit, Position

_BLOCK_KINDS = {"block", "module"}


def _multiline_string(node) -> bool:
    for s in node.find_all(kind="string"):
        r = s.range()
        if r.start.line != r.end.line:
            return True
    return False


@fixer("gc-try-finally")
def gc_try_finally(ctx: FixContext) -> list[Edit] | None:
    """`gc.disable(); work; gc.enable()` -> `gc.disable(); try: work finally: gc.enable()`.

    Wraps the statements after `gc.disable()` in its block (up to a later `gc.enable()` in
    the same block, which moves into the `finally:`). Declines on shapes it cannot indent
    safely: statements sharing a line, multi-line strings, no statement after the call.
    """
    stmt = ctx.node
    parent = stmt.parent()
    if parent is None or parent.kind() not in _BLOCK_KINDS:
        return None
    enable = ctx.local_name("gc.enable")
    if enable is None:
        return None
    siblings = [c for c in parent.children() if c.is_named()]
    index = next((i for i, c in enumerate(siblings) if c.range() == stmt.range()), None)
    if index is None:
        return None
    following = siblings[index + 1 :]
    body, enable_stmt = [], None
    for node in following:
        text = node.text().strip()
        if node.kind() == "expression_statement" and text.replace(" ", "") == f"{enable}()":
            enable_stmt = node
            break
        body.append(node)
    while body and body[-1].kind() == "comment":
        body.pop()
    if not any(n.kind() != "comment" for n in body):
        return None
    if any(_multiline_string(n) for n in body):
        return None
    first, last = body[0].range().start.line, body[-1].range().end.line
    r = stmt.range()
    if ctx.lines[r.start.line][r.end.column :].strip().split("#")[0].strip():
        return None  # `gc.disable(); more()` on one line
    if r.end.line >= first:
        return None
    indent = ctx.lines[r.start.line][: r.start.column]
    if indent.strip():
        return None  # `a = 1; gc.disable()`: the try would take `a = 1` along
    if ctx.lines[first][: body[0].range().start.column].strip():
        return None
    unit = _indent_unit(ctx.lines, indent)
    wrapped = [(unit + line) if line.strip() else line for line in ctx.lines[first : last + 1]]
    new = [f"{indent}try:", *wrapped, f"{indent}finally:", f"{indent}{unit}{enable}()"]
    end_line = last + 1
    if enable_stmt is not None:
        er = enable_stmt.range()
        tail = ctx.lines[er.end.line][er.end.column :].strip()
        if tail and not tail.startswith("#"):
            return None
        end_line = er.end.line + 1
    return [Edit(Position(first, 0), Position(end_line, 0), "\n".join(new) + "\n")]


def _indent_unit(lines: list[str], indent: str) -> str:
    """One level of indentation as the file writes it: a tab where the statement's own
    indentation has one (spaces would be a TabError), four spaces where it has spaces, and at
    module level what the file's first indented line starts with."""
    if indent:
        return "\t" if "\t" in indent else "    "
    for line in lines:
        if line[:1] == "\t" and line.strip():
            return "\t"
        if line[:1] == " " and line.strip():
            return "    "
    return "    "


_COUNTER = "_gc_step"


@fixer("gc-collect-every-n")
def gc_collect_every_n(ctx: FixContext) -> list[Edit] | None:
    """Put `if N % 100 == 0:` in front of a per-iteration gc.collect().

    Uses the loop's own `enumerate` counter when the loop is `for i, x in enumerate(...)`;
    otherwise wraps the iterable in `enumerate(..., start=1)` with a fresh counter for a simple
    `for x in it:` loop. `while` loops are left to a human.
    """
    stmt = ctx.node
    r = stmt.range()
    line = ctx.lines[r.start.line]
    if line[: r.start.column].strip() or r.start.line != r.end.line:
        return None
    loop = stmt.parent()
    while loop is not None and loop.kind() not in ("for_statement", "while_statement"):
        loop = loop.parent()
    if loop is None or loop.kind() != "for_statement":
        return None
    left, right = loop.field("left"), loop.field("right")
    if left is None or right is None:
        return None
    edits: list[Edit] = []
    counter = None
    if right.kind() == "call" and (function := right.field("function")) is not None \
            and function.text() == "enumerate" \
            and left.kind() in ("pattern_list", "tuple_pattern"):
        first = next((c for c in left.children() if c.is_named()), None)
        if first is not None and first.kind() == "identifier" and first.text() != "_":
            counter = first.text()
    if counter is None:
        if _COUNTER in ctx.lines[loop.range().start.line] or right.kind() == "generator_expression":
            return None
        counter = _COUNTER
        lr, rr = left.range(), right.range()
        edits.append(Edit(pos(lr.start), pos(rr.end),
                          f"{counter}, {left.text()} in enumerate({right.text()}, start=1)"))
    indent = line[: r.start.column]
    new = f"if {counter} % 100 == 0:\n{indent}{_indent_unit(ctx.lines, indent)}{stmt.text()}"
    edits.append(node_edit(stmt, new))
    return edits
