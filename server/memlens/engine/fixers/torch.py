"""Fixers for the torch family (ML5xx)."""

from __future__ import annotations

from ast_grep_py import SgNode

from memlens.engine.edits import pos
from memlens.engine.fixers import FixContext, fixer
from memlens.engine.model import Edit, Position
from memlens.flow.grad import trains


@fixer("torch-no-grad-decorator")
def no_grad_decorator(ctx: FixContext) -> list[Edit] | None:
    """Put `@torch.no_grad()` on the enclosing function, as its innermost decorator. Declines
    when the module does not import torch at its top level (the decorator runs at import time:
    a module that imports torch only inside functions or under `try` keeps it optional), and
    when the function trains (a detached pass in a training step: no_grad belongs around that
    pass alone)."""
    name = ctx.bound_at_module_level("torch.no_grad")
    if name is None:
        return None
    func: SgNode | None = ctx.node
    while func is not None and func.kind() != "function_definition":
        func = func.parent()
    if func is None or trains(func):
        return None
    # Right above `def`, below other decorators: no_grad must wrap the plain function, not a
    # staticmethod/classmethod/property object.
    start = func.range().start
    before = ctx.lines[start.line][: start.column]
    if before.strip():
        return None
    at = Position(start.line, 0)
    return [Edit(at, at, f"{before}@{name}()\n")]


@fixer("detach-accumulated")
def detach_accumulated(ctx: FixContext) -> list[Edit] | None:
    """`total += loss` -> `total += loss.item()`; `losses.append(loss)` -> `...(loss.detach())`.

    The rule only matches a loss that is also `.backward()`-ed without arguments, so it is a
    scalar and `.item()` is defined; a list keeps tensors (`.detach()`) so that a later
    `torch.stack(losses)` still works.
    """
    # The accumulated value is read off the match itself: the metavariable may be bound to
    # the `$L.backward()` occurrence as well.
    if ctx.node.kind() == "augmented_assignment":
        node, suffix = ctx.node.field("right"), ".item()"
    else:
        arguments = ctx.node.field("arguments")
        named = [c for c in arguments.children() if c.is_named()] if arguments else []
        node, suffix = (named[0] if len(named) == 1 else None), ".detach()"
    if node is None or node.kind() not in ("identifier", "attribute", "subscript"):
        return None
    end = pos(node.range().end)
    return [Edit(end, end, suffix)]
