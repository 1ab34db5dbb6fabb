"""Turn a rule's fix spec into a fix: a template filled from the match, or a named fixer."""

from __future__ import annotations

from collections.abc import Mapping

from ast_grep_py import SgNode

from memlens.engine.canonical import rewrite_text
from memlens.engine.edits import apply_edits, expand_template, line_indent, node_edit
from memlens.engine.fixers import FIXERS, FixContext
from memlens.engine.model import Fix
from memlens.engine.rulebook import FixSpec

__all__ = ["apply_edits", "build_fix"]  # apply_edits: kept where the tests and tools look for it


def build_fix(
    spec: FixSpec, node: SgNode, lines: list[str], bindings: Mapping[str, frozenset[str]]
) -> Fix | None:
    if spec.template is not None:
        spellings = rewrite_text(spec.template, bindings)
        if not spellings:
            return None
        content = expand_template(spellings[0], node)
        indent = line_indent(lines[node.range().start.line])
        content = content.replace("\n", "\n" + indent)
        edits = [node_edit(node, content)]
    else:
        ctx = FixContext(node=node, lines=lines, bindings=bindings, args=spec.args)
        fixed = FIXERS[spec.fixer](ctx) if spec.fixer is not None else None
        if not fixed:
            return None
        edits = fixed
    return Fix(spec.applicability, spec.message, tuple(edits))
