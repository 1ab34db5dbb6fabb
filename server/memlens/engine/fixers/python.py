"""Fixers for the python family (ML9xx)."""

from __future__ import annotations

from memlens.engine.edits import pos
from memlens.engine.fixers import FixContext, delete_lines, fixer
from memlens.engine.model import Edit


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
