"""Fixers for the python family (ML8xx, ML9xx)."""

from __future__ import annotations

from memlens.engine.fixers import FixContext, delete_lines, fixer
from memlens.engine.model import Edit, Position


def _p(point) -> Position:
    return Position(point.line, point.column)


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
            return [Edit(_p(name.range().start), _p(names[i + 1].range().start), "")]
        return [Edit(_p(names[i - 1].range().end), _p(name.range().end), "")]
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
    return [Edit(_p(r.start), _p(r.end), inner if alone else f"({inner})")]


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
        return [Edit(_p(r.start), _p(r.end), f"sum(1 for _ in {it})")]
    fromiter = ctx.local_name("numpy.fromiter")
    if fromiter is None:
        return None
    return [Edit(_p(r.start), _p(r.end), f"{fromiter}({it}, dtype=float)")]
