"""The one line model (`memlens/lines.py`: a line ends at "\\r\\n", "\\r" or "\\n", as in LSP, and
nowhere else), as the engine uses it. Every position the engine reports and every position it is
given counts lines this way; so do the language server's documents (`lsp/document.py`) and the
profiler's report.

tree-sitter counts only "\\n". A lone "\\r" (a CR-only file, or one stray CR) is therefore read
as "\\n" before the parse: the same length, so every offset stays, and lines then agree with LSP.
"""

from __future__ import annotations

import re

from memlens.lines import (  # noqa: F401 (the engine's modules import them from here)
    LINE_BREAK,
    line_starts,
    split_lines,
    split_lines_keepends,
)

_LONE_CR = re.compile(r"\r(?!\n)")


def line_ending(text: str) -> str:
    """The file's own line break, for text a fix inserts: the first one it uses, else "\\n"."""
    m = LINE_BREAK.search(text)
    return m.group() if m else "\n"


def for_parse(text: str) -> str:
    """`text` as the native parser can take it, with every offset kept: each lone "\\r" read
    as "\\n" (tree-sitter counts lines by "\\n"), each lone surrogate (undecodable bytes, or
    what JSON can carry) as "?" (it cannot cross into Rust)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return _LONE_CR.sub("\n", text) if "\r" in text else text


def with_line_ending(content: str, ending: str) -> str:
    """Inserted text, written with the file's line break instead of "\\n"."""
    if ending == "\n" or "\n" not in content:
        return content
    return LINE_BREAK.sub(ending, content)


# CPython refuses more than 100 levels of indentation and 200 nested brackets: a file beyond
# them is not Python, and tree-sitter's scanner can abort the process on such nesting.
MAX_INDENT_LEVELS = 100
MAX_BRACKET_DEPTH = 200
_INDENT = re.compile(r"^[ \t]*(?=\S)", re.M)
_DEEP_LINE = re.compile(rf"^[ \t]{{{MAX_INDENT_LEVELS + 1},}}\S", re.M)
_BRACKET = re.compile(r"[\[\](){}]")


def nesting_too_deep(text: str) -> str | None:
    """Why `text` is nested too deeply to hand to the parser, or None. Cheap for ordinary
    files: indentation is only stacked when some line is indented more than the limit, and
    brackets only counted when there are more openings than the limit."""
    if _DEEP_LINE.search(text):  # (a level is at least one character wide)
        stack = [0]
        for m in _INDENT.finditer(text):
            width = len(m.group().expandtabs(8))
            if width > stack[-1]:
                stack.append(width)
                if len(stack) - 1 > MAX_INDENT_LEVELS:
                    return (f"nesting too deep to check: more than {MAX_INDENT_LEVELS} levels "
                            "of indentation")
            else:
                while len(stack) > 1 and width < stack[-1]:
                    stack.pop()
    if text.count("(") + text.count("[") + text.count("{") > MAX_BRACKET_DEPTH:
        depth = 0
        for m in _BRACKET.finditer(text):
            depth += 1 if m.group() in "([{" else -1
            if depth > MAX_BRACKET_DEPTH:
                return (f"nesting too deep to check: more than {MAX_BRACKET_DEPTH} nested "
                        "brackets")
            depth = max(depth, 0)
    return None
