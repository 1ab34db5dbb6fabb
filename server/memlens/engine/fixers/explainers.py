"""Fixers for the explainers family (ML3xx)."""

from __future__ import annotations

from memlens.engine.fixers import FixContext, fixer, import_position
from memlens.engine.fixes import pos
from memlens.engine.model import Edit


@fixer("wrap-in-call")
def wrap_in_call(ctx: FixContext) -> list[Edit] | None:
    """Wrap the `node:` metavariable in a call to the canonical `function:`, appending `extra:`.

    `shap.KernelExplainer(f, X)` with `function: shap.kmeans`, `extra: ", 50"` gives
    `shap.KernelExplainer(f, shap.kmeans(X, 50))`, spelled the way the file imports shap.
    When the file does not import that module, `import <module>` goes above its first import
    (or below its docstring and `from __future__` imports).
    """
    node = ctx.target()
    if node is None:
        return None
    function = ctx.args["function"]
    edits = []
    name = ctx.local_name(function)
    if name is None:
        at = import_position(ctx.node.get_root().root())
        edits.append(Edit(at, at, f"import {function.split('.', 1)[0]}\n"))
        name = function
    r = node.range()
    text = f"{name}({node.text()}{ctx.args.get('extra', '')})"
    return [*edits, Edit(pos(r.start), pos(r.end), text)]


@fixer("captum-batch-keyword")
def captum_batch_keyword(ctx: FixContext) -> list[Edit] | None:
    """Add the batching keyword a captum `.attribute(...)` call lacks: `nt_samples_batch_size`
    when the rule matched a NoiseTunnel (bound as `$NT`), else `internal_batch_size`."""
    from memlens.engine.fixers import add_keyword

    text = "nt_samples_batch_size=1" if ctx.node.get_match("NT") else "internal_batch_size=32"
    sub = FixContext(ctx.node, ctx.lines, ctx.bindings, {"text": text})
    return add_keyword(sub)
