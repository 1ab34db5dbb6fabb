"""Fixers for the explainers family (ML3xx)."""

from __future__ import annotations

from memlens.engine.edits import pos
from memlens.engine.fixers import FixContext, fixer
from memlens.engine.model import Edit


@fixer("wrap-in-call")
def wrap_in_call(ctx: FixContext) -> list[Edit] | None:
    """Wrap the `node:` metavariable in a call to the canonical `function:`, appending `extra:`.

    `shap.KernelExplainer(f, X)` with `function: shap.kmeans`, `extra: ", 50"` gives
    `shap.KernelExplainer(f, shap.kmeans(X, 50))`, spelled the way the file imports shap.
    Declines when the file does not import that module.
    """
    node = ctx.target()
    if node is None:
        return None
    function = ctx.args["function"]
    # The module must already be imported where the call can see it: adding a module-level
    # import of an optional package (shap) would make it required.
    name = ctx.visible_name(function)
    if name is None:
        return None
    r = node.range()
    text = f"{name}({node.text()}{ctx.args.get('extra', '')})"
    return [Edit(pos(r.start), pos(r.end), text)]


@fixer("captum-batch-keyword")
def captum_batch_keyword(ctx: FixContext) -> list[Edit] | None:
    """Add the batching keyword a captum `.attribute(...)` call lacks: `nt_samples_batch_size`
    when the rule matched a NoiseTunnel (bound as `$NT`), else `internal_batch_size`."""
    from memlens.engine.fixers import add_keyword

    text = "nt_samples_batch_size=1" if ctx.node.get_match("NT") else "internal_batch_size=32"
    sub = FixContext(ctx.node, ctx.lines, ctx.bindings, {"text": text})
    return add_keyword(sub)
