"""The one line model of every part of memlens: a line ends at "\\r\\n", "\\r" or "\\n", as in
Python and LSP, and nowhere else.

`str.splitlines` also breaks at "\\f", "\\v", "\\x1c"-"\\x1e", "\\x85", "\\u2028" and "\\u2029": one
form feed on an earlier line, or a U+2028 inside a string, would shift every position after it
(a fix written into the wrong place, a profiled line's memory shown beside another line's code).
The engine (`engine/lines.py`), the profiler and the language server all count lines here. Only
the standard library: every part may import it.
"""

from __future__ import annotations

import re

LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE_WITH_BREAK = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def line_starts(text: str) -> list[int]:
    """The offset where each line starts (the first is 0)."""
    return [0, *(m.end() for m in LINE_BREAK.finditer(text))]


def split_lines(text: str) -> list[str]:
    """The lines, without their line breaks ("a\\r\\nb\\rc\\n" -> ["a", "b", "c", ""])."""
    return LINE_BREAK.split(text)


def split_lines_keepends(text: str) -> list[str]:
    """The lines with their line breaks, as `str.splitlines(keepends=True)` gives them but at
    this model's breaks only ("a\\r\\nb\\f\\n" -> ["a\\r\\n", "b\\f\\n"]; "" -> [])."""
    return _LINE_WITH_BREAK.findall(text)
