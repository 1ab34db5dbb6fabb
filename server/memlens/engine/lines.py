"""The one line model: a line ends at "\\r\\n", "\\r" or "\\n", as in LSP, and nowhere else.

`str.splitlines` also breaks at "\\f", "\\v", "\\x1c"-"\\x1e", "\\x85", "\\u2028" and "\\u2029": one
form feed on an earlier line would shift every position after it, and a fix would be written
into the wrong place. Every position the engine reports and every position it is given counts
lines this way; so do the language server's documents (`lsp/document.py`).

tree-sitter counts only "\\n". A lone "\\r" (a CR-only file, or one stray CR) is therefore read
as "\\n" before the parse: the same length, so every offset stays, and lines then agree with LSP.
"""

from __future__ import annotations

import re

LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LONE_CR = re.compile(r"\r(?!\n)")


def line_starts(text: str) -> list[int]:
    """The offset where each line starts (the first is 0)."""
    return [0, *(m.end() for m in LINE_BREAK.finditer(text))]


def split_lines(text: str) -> list[str]:
    """The lines, without their line breaks ("a\\r\\nb\\rc\\n" -> ["a", "b", "c", ""])."""
    return LINE_BREAK.split(text)


def line_ending(text: str) -> str:
    """The file's own line break, for text a fix inserts: the first one it uses, else "\\n"."""
    m = LINE_BREAK.search(text)
    return m.group() if m else "\n"


def for_parse(text: str) -> str:
    """`text` with each lone "\\r" read as "\\n" (same length), for tree-sitter's line count."""
    return _LONE_CR.sub("\n", text) if "\r" in text else text


def with_line_ending(content: str, ending: str) -> str:
    """Inserted text, written with the file's line break instead of "\\n"."""
    if ending == "\n" or "\n" not in content:
        return content
    return LINE_BREAK.sub(ending, content)
