"""Top-level `def`/`class` blocks found from the text alone, and blanking the ones no rule needs.

Parsing is most of what checking a file costs. When every rule that could match a file only
ever looks at the top-level statement its match is in (and at module-level code: see
`locality.py`), a `def` or `class` block in which none of them could match (its text lacks what
each one's block condition needs) is replaced by as many empty lines before the parse. Lines and
columns of everything kept stay what they were, so findings need no mapping back.

Blocks are found with a lexer of strings and comments only: a top-level statement starts a line
at column 0 outside any string (and not after a backslash continuation). Each `def`, `async def`
or `class` line there, with the `@` decorator lines just above it, starts a block, which ends
where the next top-level statement starts. A line at column 0 inside brackets (legal in Python)
would cut a block short: the kept text then starts inside a bracket and does not parse, and the
caller checks the whole file instead.
"""

from __future__ import annotations

import re

# Comments and strings, leftmost first (prefixes do not change where a string ends: even in a
# raw string a backslash keeps the next quote from closing it). Unrolled loops: fast in `re`.
_LEXER = re.compile(
    r"#[^\n]*"
    r'|"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""'
    r"|'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''"
    r'|"[^"\\\n]*(?:\\.[^"\\\n]*)*"'
    r"|'[^'\\\n]*(?:\\.[^'\\\n]*)*'",
    re.S,
)
_TRIPLE = re.compile(r"\"\"\"|'''")
# a line that starts at column 0 with code (not a blank line, a comment or a closing bracket)
_COLUMN_ZERO = re.compile(r"\n(?=[^ \t\f\r\n#)\]}])")
_DEFINITION = re.compile(r"(?:async[ \t]+)?(?:def|class)[ \t\\]")


def _multiline_strings(text: str) -> list[tuple[int, int]]:
    """(start, end) of each triple-quoted string that spans lines, in order. Only the lines
    that hold triple quotes are lexed, from their start (or from the end of the string before,
    or from the first of the lines a backslash continues): a line starts outside any string,
    as only triple-quoted ones span lines without a backslash."""
    out = []
    find, search, lex = text.find, _TRIPLE.search, _LEXER.finditer
    pos = 0
    while True:
        m = search(text, pos)
        if m is None:
            return out
        at = m.start()
        line = max(text.rfind("\n", pos, at) + 1, pos)
        while line > pos and text.endswith(("\\\n", "\\\r\n"), pos, line):
            line = max(text.rfind("\n", pos, line - 1) + 1, pos)  # a continued line: lex it too
        for token in lex(text, line):
            start, end = token.span()
            if end <= at:
                continue  # a string or comment before it on the line
            if start == at and find("\n", start, end) >= 0:
                out.append((start, end))
            # the string itself, or a comment or string the quotes are in
            pos = end if start <= at else at + 3
            break
        else:
            return out


def _statement_starts(text: str) -> list[int]:
    """Offsets of the lines that start a top-level statement."""
    starts = [0] if text and text[0] not in " \t\f\r\n#)]}" else []
    starts += [m.start() + 1 for m in _COLUMN_ZERO.finditer(text)]
    if not starts:
        return starts
    strings = _multiline_strings(text) if ('"""' in text or "'''" in text or "\\\n" in text
                                           or "\\\r\n" in text) else []
    out = []
    i, n = 0, len(strings)
    for start in starts:
        while i < n and strings[i][1] <= start:
            i += 1
        if i < n and strings[i][0] < start:
            continue  # inside a string
        if start >= 2 and (text[start - 2] == "\\" or (
                text[start - 2] == "\r" and start >= 3 and text[start - 3] == "\\")):
            continue  # a backslash continuation of the line before
        out.append(start)
    return out


def definition_blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the top-level `def`/`class` blocks, decorators included."""
    starts = _statement_starts(text)
    blocks = []
    first_decorator = -1
    match = _DEFINITION.match
    for k, start in enumerate(starts):
        if text.startswith("@", start):
            if first_decorator < 0:
                first_decorator = start
            continue
        if match(text, start):
            end = starts[k + 1] if k + 1 < len(starts) else len(text)
            blocks.append((first_decorator if first_decorator >= 0 else start, end))
        first_decorator = -1
    return blocks


def blanked(text: str, blocks: list[tuple[int, int]]) -> str:
    """`text` with each block replaced by the newlines it held."""
    parts = []
    previous = 0
    for start, end in blocks:
        parts.append(text[previous:start])
        parts.append("\n" * text.count("\n", start, end))
        previous = end
    parts.append(text[previous:])
    return "".join(parts)
