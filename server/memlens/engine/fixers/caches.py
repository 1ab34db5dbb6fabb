"""Fixers for the caches family (ML7xx)."""

from __future__ import annotations

from memlens.engine.fixers import FixContext, fixer
from memlens.engine.fixes import pos
from memlens.engine.model import Edit

MAXSIZE = "128"



@fixer("bounded-lru-cache")
def bounded_lru_cache(ctx: FixContext) -> list[Edit] | None:
    """`@cache` -> `@lru_cache(maxsize=128)`; `lru_cache(maxsize=None)` -> `maxsize=128`."""
    decorator = ctx.node
    expr = next((c for c in decorator.children() if c.is_named()), None)
    if expr is None:
        return None
    if expr.kind() == "call":
        args = expr.field("arguments")
        if args is None:
            return None
        for arg in args.children():
            if arg.kind() == "none":  # lru_cache(None)
                r = arg.range()
                return [Edit(pos(r.start), pos(r.end), MAXSIZE)]
            if arg.kind() == "keyword_argument" and arg.field("name").text() == "maxsize":
                value = arg.field("value")
                r = value.range()
                return [Edit(pos(r.start), pos(r.end), MAXSIZE)]
        return None
    # `cache` spelled through the module (`functools.cache`, `ft.cache`): swap the attribute.
    if expr.kind() == "attribute" and expr.field("attribute").text() == "cache":
        r = expr.field("attribute").range()
        return [Edit(pos(r.start), pos(r.end), f"lru_cache(maxsize={MAXSIZE})")]
    name = ctx.local_name("functools.lru_cache")
    if name is None:
        return None  # `from functools import cache` alone: lru_cache would need an import
    r = expr.range()
    return [Edit(pos(r.start), pos(r.end), f"{name}(maxsize={MAXSIZE})")]
