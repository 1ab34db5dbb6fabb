"""Text edits: made from a matched node, filled from a match's metavariables, applied to a
source text. Shared by the fix builder (`fixes.py`) and the fixers (`fixers/`)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ast_grep_py import SgNode

from memlens.engine.lines import line_ending, line_starts, with_line_ending
from memlens.engine.model import Edit, Fix, Position

_METAVAR = re.compile(r"\$\$\$([A-Z_][A-Z0-9_]*)|\$([A-Z_][A-Z0-9_]*)")


def pos(p) -> Position:
    return Position(p.line, p.column)


def node_edit(node: SgNode, content: str) -> Edit:
    r = node.range()
    return Edit(pos(r.start), pos(r.end), content)


def metavar_text(node: SgNode, name: str, multi: bool) -> str:
    if multi:
        nodes = node.get_multiple_matches(name)
        if not nodes:
            return ""
        source = node.get_root().root().text()
        return source[nodes[0].range().start.index : nodes[-1].range().end.index]
    match = node.get_match(name)
    return match.text() if match is not None else ""


def expand_template(template: str, node: SgNode) -> str:
    """Fill `$VAR` and `$$$VAR` from the match, like ast-grep's own fix templates."""
    return _METAVAR.sub(
        lambda m: metavar_text(node, m.group(1) or m.group(2), bool(m.group(1))), template
    )


def line_indent(source_line: str) -> str:
    return source_line[: len(source_line) - len(source_line.lstrip())]


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits (positions refer to `text`, lines as `lines.py` counts
    them); inserted line breaks are written the way the file writes its own."""
    starts = line_starts(text)
    ending = line_ending(text)
    spans = sorted(
        ((_offset(starts, e.start, text), _offset(starts, e.end, text),
          with_line_ending(e.content, ending)) for e in edits),
        reverse=True,
    )
    for start, end, content in spans:
        text = text[:start] + content + text[end:]
    return text


def _offset(starts: list[int], p: Position, text: str) -> int:
    if p.line >= len(starts):
        return len(text)
    return min(starts[p.line] + p.column, len(text))


def fixes_overlap(a: Fix | None, b: Fix | None) -> bool:
    if a is None or b is None:
        return False  # no fix, nothing to overlap
    for x in a.edits:
        for y in b.edits:
            if x.start < y.end and y.start < x.end:
                return True
            if x.start == y.start:  # two insertions at one place: order would be arbitrary
                return True
    return False
