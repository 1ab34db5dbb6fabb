"""Fixers for the copies family (ML42x): free a value the code no longer uses, drop a copy of a
value that is already new."""

from __future__ import annotations

from memlens.engine.edits import pos
from memlens.engine.fixers import FixContext, add_keyword, fixer
from memlens.engine.model import Edit, Position
from memlens.flow import syntax as sx
from memlens.flow.liveness import later_use


def _names(node) -> list:
    node = sx.unwrap_down(node)
    if node.kind() == "identifier":
        return [node]
    if node.kind() in ("list", "tuple"):
        items = [sx.unwrap_down(c) for c in node.children()
                 if c.is_named() and c.kind() != "comment"]
        if items and all(i.kind() == "identifier" for i in items):
            return items
    return []


@fixer("del-after")
def del_after(ctx: FixContext) -> list[Edit] | None:
    """`del NAME` on a line of its own after the statement holding the match. Offered only for
    a function's locals that nothing reads after the statement (memlens.flow: no later read,
    no read by a nested function or in the next iteration of a loop, no locals()), and only
    where the statement has its lines to itself: `del` of a module-level name would break the
    modules or cells that read it, and one after `a = b; c = d` or `if x: a = b` cannot go on
    a line of its own."""
    names = _names(ctx.node.get_match(ctx.args["name"])) if ctx.args.get("name") else []
    if not names:
        return None
    statement = sx.statement_of(ctx.node)
    if sx.scope_of(statement).kind() != "function_definition":
        return None
    if statement.kind() != "expression_statement":
        return None
    if any(later_use(n) is not None for n in names):
        return None
    r = statement.range()
    first, last = r.start.line, r.end.line
    indent = ctx.lines[first][: r.start.column]
    after = ctx.lines[last][r.end.column:]
    if indent.strip() or after.strip().split("#")[0].strip():
        return None  # `a = b; c = d`, `if x: a = b`
    listed = ", ".join(dict.fromkeys(n.text() for n in names))
    at = Position(last + 1, 0)
    if last + 1 >= len(ctx.lines):
        end = Position(last, len(ctx.lines[last]))
        return [Edit(end, end, f"\n{indent}del {listed}")]
    return [Edit(at, at, f"{indent}del {listed}\n")]


@fixer("redundant-copy")
def redundant_copy(ctx: FixContext) -> list[Edit] | None:
    """`new(...).copy()` -> `new(...)` (the outer call after its receiver deleted), and
    `x.flatten().astype(t)` -> `x.ravel().astype(t)`."""
    call = ctx.node
    function = call.field("function") if call.kind() == "call" else None
    if function is None or function.kind() != "attribute":
        return None
    name = function.field("attribute")
    receiver = function.field("object")
    if name is None or receiver is None:
        return None
    if name.text() == "copy":
        return [Edit(pos(receiver.range().end), pos(call.range().end), "")]
    inner = receiver.field("function") if receiver.kind() == "call" else None
    inner_name = inner.field("attribute") if inner is not None and \
        inner.kind() == "attribute" else None
    if name.text() == "astype" and inner_name is not None and inner_name.text() == "flatten":
        return [Edit(pos(inner_name.range().start), pos(inner_name.range().end), "ravel")]
    return None


@fixer("in-place")
def in_place(ctx: FixContext) -> list[Edit] | None:
    """`a = a.fillna(v)` -> `a.fillna(v, inplace=True)`: the assignment's target deleted and the
    keyword added to its call (the rule has checked that the same name is rebound and that
    nothing else holds the value, so the frame changing in place is seen by no one else)."""
    assignment = ctx.node
    right = assignment.field("right") if assignment.kind() == "assignment" else None
    if right is None or right.kind() != "call":
        return None
    added = add_keyword(FixContext(right, ctx.lines, ctx.bindings, {"text": "inplace=True"}))
    if not added:
        return None
    start = assignment.range().start
    return [Edit(pos(start), pos(right.range().start), ""), *added]
