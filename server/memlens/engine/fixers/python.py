"""Fixers for the python family (ML8xx, ML9xx)."""

from __future__ import annotations

from memlens.engine.fixers import FixContext, delete_lines, fixer
from memlens.engine.fixes import pos
from memlens.engine.model import Edit, Position


@fixer("remove-memory-profiler")
def remove_memory_profiler(ctx: FixContext) -> list[Edit] | None:
    """Delete a leftover `@profile` line, or `profile` from a `from memory_profiler import`."""
    node = ctx.node
    if node.kind() == "decorator":
        return delete_lines(ctx)
    names = node.field_children("name")
    if len(names) <= 1:
        return delete_lines(ctx)
    for i, name in enumerate(names):
        if name.text() != "profile":
            continue
        # Remove the name with the comma that joins it to its neighbour.
        if i + 1 < len(names):
            return [Edit(pos(name.range().start), pos(names[i + 1].range().start), "")]
        return [Edit(pos(names[i - 1].range().end), pos(name.range().end), "")]
    return None


@fixer("listcomp-to-genexp")
def listcomp_to_genexp(ctx: FixContext) -> list[Edit] | None:
    """`sum([x for x in y])` -> `sum(x for x in y)`; `max([...], key=k)` -> `max((...), key=k)`."""
    comp = ctx.target()
    if comp is None or comp.kind() != "list_comprehension":
        return None
    text = comp.text()
    arguments = comp.parent()
    if arguments is None:
        return None
    alone = [c for c in arguments.children() if c.is_named() and c.kind() != "comment"] == [comp]
    inner = text[1:-1]
    r = comp.range()
    return [Edit(pos(r.start), pos(r.end), inner if alone else f"({inner})")]


@fixer("count-or-fromiter")
def count_or_fromiter(ctx: FixContext) -> list[Edit] | None:
    """`len(list(it))` -> `sum(1 for _ in it)`; `np.array(list(it))` -> `np.fromiter(it, ...)`."""
    node = ctx.node
    iterator = node.get_match("G")
    if iterator is None:
        return None
    it = iterator.text()
    function = node.field("function")
    r = node.range()
    if function is not None and function.text() == "len":
        return [Edit(pos(r.start), pos(r.end), f"sum(1 for _ in {it})")]
    fromiter = ctx.local_name("numpy.fromiter")
    if fromiter is None:
        return None
    return [Edit(pos(r.start), pos(r.end), f"{fromiter}({it}, dtype=float)")]


def _ancestors(node):
    node = node.parent()
    while node is not None:
        yield node
        node = node.parent()


@fixer("join-parts")
def join_parts(ctx: FixContext) -> list[Edit] | None:
    """`s = ""; for ...: s += x` -> `s_parts = []; for ...: s_parts.append(x)`, then
    `s = "".join(s_parts)` after the loop.

    Only when `s` starts as a string literal in the loop's own block, the loop mentions `s`
    nowhere else, and nothing between the two statements reads it.
    """
    aug = ctx.node
    target = aug.field("left")
    if target is None or target.kind() != "identifier":
        return None
    name = target.text()
    stmt = aug.parent()
    if stmt is None or stmt.kind() != "expression_statement":
        return None
    parts = f"{name}_parts"
    source = "\n".join(ctx.lines)
    if parts in source:
        return None
    for loop in _ancestors(stmt):
        if loop.kind() in ("function_definition", "class_definition", "lambda"):
            return None
        if loop.kind() not in ("for_statement", "while_statement"):
            continue
        block = loop.parent()
        if block is None or block.kind() not in ("block", "module"):
            continue
        siblings = [c for c in block.children() if c.is_named()]
        index = next((i for i, c in enumerate(siblings) if c.range() == loop.range()), None)
        if index is None:
            return None
        init = None
        for i in range(index - 1, -1, -1):
            node = siblings[i]
            assignment = node.child(0) if node.kind() == "expression_statement" else None
            if assignment is not None and assignment.kind() == "assignment" \
                    and assignment.field("left").text() == name:
                init = (i, assignment)
                break
            if any(n.text() == name for n in node.find_all(kind="identifier")):
                return None  # read or rebound in between: leave it to a human
        if init is None:
            continue  # maybe initialised around an outer loop
        mentions = [n for n in loop.find_all(kind="identifier") if n.text() == name]
        if len(mentions) != 1:
            return None
        _, assignment = init
        value = assignment.field("right")
        if value is None or value.kind() != "string":
            return None
        literal = value.text()
        empty = literal.lstrip("bBrRuU") in ('""', "''")
        joiner = ('b""' if literal[:1] in "bB" else '""') + ".join"
        a_r, s_r, l_r = assignment.range(), aug.range(), loop.range()
        indent = ctx.lines[l_r.start.line][: l_r.start.column]
        if ctx.lines[l_r.end.line][l_r.end.column :].strip():
            return None
        right = aug.field("right").text()
        return [
            Edit(pos(a_r.start), pos(a_r.end),
                 f"{parts} = []" if empty else f"{parts} = [{literal}]"),
            Edit(pos(s_r.start), pos(s_r.end), f"{parts}.append({right})"),
            Edit(Position(l_r.end.line + 1, 0), Position(l_r.end.line + 1, 0),
                 f"{indent}{name} = {joiner}({parts})\n"),
        ]
    return None
