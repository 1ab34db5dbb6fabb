"""A fix is offered only when the code it leaves parses (Python's own parser).

A fixer builds its edits from the tree and the lines, and can get a shape wrong (a block it
empties, indentation it does not use): such a fix would write a file that no longer imports, and
in `--fix` it would block every other fix of its file. Parsing the whole file again for each fix
would cost a parse per finding, so only the top-level statements the fix edits are parsed (with
the fix applied): complete top-level statements parse alone. When they do not parse even
without the fix (the lexer that finds them was cut short by a bracket), the whole file is.
"""

from __future__ import annotations

import bisect

from memlens.engine.blocks import Layout
from memlens.engine.edits import apply_edits
from memlens.engine.model import Edit, Fix, Position
from memlens.engine.pysyntax import parses


class FixCheck:
    """Checks the fixes of one file's text (lines as `text.split("\\n")`, as the engine reads
    them; the text has no lone CR)."""

    def __init__(self, text: str, lines: list[str]):
        self.text = text
        self.lines = lines
        self._starts: list[int] | None = None  # first line of each top-level span

    def parses(self, fix: Fix) -> bool:
        if self._starts is None:
            self._starts = [span.start for span in Layout(self.text).spans()]
        starts, last = self._starts, len(self.lines) - 1
        # the spans each edit touches, from its first line to its last: runs of whole spans
        runs: list[list[int]] = []
        for e in sorted(fix.edits, key=lambda e: e.start):
            first = bisect.bisect_right(starts, min(e.start.line, last)) - 1
            end = bisect.bisect_right(starts, min(e.end.line, last))
            if runs and first <= runs[-1][1]:
                runs[-1][1] = max(runs[-1][1], end)
            else:
                runs.append([first, end])
        region: list[str] = []
        runs_at = []  # (first line, end line, its first line in the region)
        for a, b in runs:
            lo, hi = starts[a], starts[b] if b < len(starts) else len(self.lines)
            runs_at.append((lo, hi, len(region)))
            region += self.lines[lo:hi]
        moved = []
        for e in fix.edits:
            line = min(e.start.line, last)
            lo, hi, at = next(run for run in runs_at if run[0] <= line < run[1])
            moved.append(Edit(_moved(e.start, lo, hi, at), _moved(e.end, lo, hi, at), e.content))
        text = "\n".join(region)
        if parses(apply_edits(text, moved)):
            return True
        if parses(text):  # the statements parse alone: the fix broke them
            return False
        return parses(apply_edits(self.text, fix.edits))


def _moved(p: Position, lo: int, hi: int, at: int) -> Position:
    """A position of the run of lines [lo, hi) of the file, in the region where the run starts
    at line `at` (past the file's last line: past the region's)."""
    if p.line >= hi:
        return Position(at + hi - lo, 0)
    return Position(p.line - lo + at, p.column)
