"""`def`/`class` blocks found from the text alone, and blanking the ones no rule needs.

Parsing is most of what checking a file costs. When every rule that could match a file only
ever looks at the definition its match is in (and at the code around definitions: see
`locality.py`), a `def` or `class` block in which none of them could match (its text lacks what
each one's block condition needs) is replaced by as many empty lines before the parse: the
top-level ones, and the methods and nested classes of a top-level class that stays. Lines and
columns of everything kept stay what they were, so findings need no mapping back.

Blocks are found with a lexer of strings and comments only: a top-level statement starts a line
at column 0 outside any string (and not after a backslash continuation). Each `def`, `async def`
or `class` line there, with the `@` decorator lines just above it, starts a block, which ends
where the next top-level statement starts; inside a class, the same at the indentation of its
body. A line at column 0 inside brackets (legal in Python) would cut a block short: the kept
text then starts inside a bracket and does not parse, and the caller checks the whole file
instead. `Layout.function_bodies` also tells which code is certainly inside a function (for the
prefilter of rules about code that runs at import).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

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
# a class statement's first line that is all of its header (nested brackets: not attempted)
_CLASS_HEADER = re.compile(
    r"class[ \t]+\w+[ \t]*(?:\([^()\n]*\))?[ \t]*:[ \t]*(?:#[^\n]*)?(?=\r?\n)")
# the first line of code below it (blank and comment lines skipped): its indentation
_FIRST_CODE_LINE = re.compile(r"(?:[ \t\f]*(?:#[^\n]*)?\r?\n)*([ \t]*)[^ \t\f\r\n#]")
_INDENTED: dict[str, re.Pattern] = {}
_FUNCTION = re.compile(r"(?:async[ \t]+)?def[ \t\\]")
# a line that leaves a function's body: not deeper than `indent`, nor blank, nor a comment
_ESCAPES: dict[str, re.Pattern] = {}


@dataclass
class Span:
    """Lines [start, end) of whole top-level statements (0-based, end exclusive)."""

    start: int
    end: int
    definition: bool  # one `def`/`class`, not a run of other statements


def _multiline_strings(text: str) -> list[tuple[int, int]]:
    """(start, end) of each triple-quoted string that spans lines, in order. Only the lines
    that hold triple quotes are lexed, from their start (or from the end of the string before,
    or from the first of the lines a backslash continues): a line starts outside any string,
    as only triple-quoted ones span lines without a backslash."""
    out: list[tuple[int, int]] = []
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


def multiline_strings(text: str) -> list[tuple[int, int]]:
    """(start, end) of each string that spans lines (`_multiline_strings`), in order."""
    if '"""' in text or "'''" in text or "\\\n" in text or "\\\r\n" in text:
        return _multiline_strings(text)
    return []


def _statement_starts(text: str, strings: list[tuple[int, int]], indent: str = "",
                      start: int = 0, end: int | None = None) -> list[int]:
    """Offsets of the lines in [start, end) that start a statement at `indent`."""
    end = len(text) if end is None else end
    if indent:
        pattern = _INDENTED.get(indent)
        if pattern is None:
            pattern = _INDENTED[indent] = re.compile(
                r"\n(?=" + re.escape(indent) + r"[^ \t\f\r\n#)\]}])")
        starts = []
    else:
        pattern = _COLUMN_ZERO
        starts = [0] if start == 0 and text and text[0] not in " \t\f\r\n#)]}" else []
    starts += [m.start() + 1 for m in pattern.finditer(text, max(start - 1, 0), end - 1)]
    out = []
    i = bisect.bisect_right(strings, (starts[0], len(text))) - 1 if starts else 0
    i = max(i, 0)
    n = len(strings)
    for line in starts:
        while i < n and strings[i][1] <= line:
            i += 1
        if i < n and strings[i][0] < line:
            continue  # inside a string
        if line >= 2 and (text[line - 2] == "\\" or (
                text[line - 2] == "\r" and line >= 3 and text[line - 3] == "\\")):
            continue  # a backslash continuation of the line before
        out.append(line)
    return out


def _blocks(text: str, starts: list[int], end: int, indent: int = 0) -> list[tuple[int, int]]:
    """The `def`/`class` blocks among the statements whose lines start at `starts` (indented
    by `indent` characters), decorators included, each up to the next statement, the last one
    up to `end`."""
    blocks = []
    first_decorator = -1
    match = _DEFINITION.match
    for k, start in enumerate(starts):
        if text.startswith("@", start + indent):
            if first_decorator < 0:
                first_decorator = start
            continue
        if match(text, start + indent, end):
            block_end = starts[k + 1] if k + 1 < len(starts) else end
            blocks.append((first_decorator if first_decorator >= 0 else start, block_end))
        first_decorator = -1
    return blocks


class Layout:
    """A file's top-level `def`/`class` blocks (`blocks`: (start, end) offsets, decorators
    included), and on demand the blocks inside a top-level class, or every top-level statement
    grouped into line spans (`spans`, for the language server's incremental check)."""

    def __init__(self, text: str):
        self.text = text
        self.strings = multiline_strings(text)
        self.starts = _statement_starts(text, self.strings)
        self.blocks = _blocks(text, self.starts, len(text))
        self._start_lines: list[int] | None = None
        self._spans: list[Span] | None = None

    def start_lines(self) -> list[int]:
        """The line (0-based) of each top-level statement start in `starts`."""
        if self._start_lines is None:
            text, lines, line, offset = self.text, [], 0, 0
            for start in self.starts:
                line += text.count("\n", offset, start)
                offset = start
                lines.append(line)
            self._start_lines = lines
        return self._start_lines

    def spans(self) -> list[Span]:
        """The file as consecutive line spans of whole top-level statements: each `def` or
        `class` (its decorators included) is a span, and so is each run of other statements
        (code relating consecutive module-level statements sees them together). Comment lines
        belong to the span above them. The first span starts at line 0, the last one ends
        after the last line."""
        if self._spans is not None:
            return self._spans
        text = self.text
        line_count = text.count("\n") + 1
        out: list[Span] = []
        decorator = -1  # the first line of the decorators above the next statement
        for start, line in zip(self.starts, self.start_lines(), strict=True):
            if text.startswith("@", start):
                decorator = line if decorator < 0 else decorator
                continue
            if _DEFINITION.match(text, start):
                first = decorator if decorator >= 0 else line
                out.append(Span(first, first, definition=True))
            elif not out or out[-1].definition:
                out.append(Span(decorator if decorator >= 0 else line, line, definition=False))
            decorator = -1
        if not out or out[0].start > 0:
            out.insert(0, Span(0, 0, definition=False))
        for here, after in zip(out, out[1:], strict=False):
            here.end = after.start
        out[-1].end = line_count
        self._spans = [span for span in out if span.end > span.start] or \
            [Span(0, line_count, definition=False)]
        return self._spans

    def members(self, start: int, end: int, keep_one: bool = True) -> list[tuple[int, int]]:
        """The methods and nested classes of the class block [start, end), as blocks of its
        body; [] when it is no class, or not a plain one (decorators on one line each, a header
        on one line, then an indented body). With `keep_one`, one body statement always stays
        (a class body cannot be empty)."""
        text = self.text
        line = start
        while text.startswith("@", line):
            line = text.find("\n", line, end) + 1
            if line <= 0:
                return []
        header = _CLASS_HEADER.match(text, line, end)
        if header is None:
            return []
        body = header.end() + 1
        first = _FIRST_CODE_LINE.match(text, body, end)
        if first is None or not first.group(1):
            return []
        indent = first.group(1)
        starts = _statement_starts(text, self.strings, indent, body, end)
        members = _blocks(text, starts, end, len(indent))
        if keep_one and members and len(members) == len(starts):  # only definitions
            members = members[1:]
        return members

    def function_bodies(self) -> list[tuple[int, int]]:
        """(start, end) of the functions found with certainty, in order: each top-level `def`
        and each `def` member of a top-level class, from its `def` line (decorators are outside
        the function) to the end of its block, when every line after the `def` line is blank, a
        comment or indented deeper. Any other line in a block (text at column 0 in a string, a
        line inside brackets) and the block is not claimed: code there may be outside it."""
        text = self.text
        out: list[tuple[int, int]] = []
        for start, end in self.blocks:
            members = self.members(start, end, keep_one=False)
            for member, member_end in members:
                self._function_body(member, member_end, _leading_blanks(text, member), out)
            if not members:
                self._function_body(start, end, "", out)
        return out

    def _function_body(self, start: int, end: int, indent: str, out: list) -> None:
        text = self.text
        line = start
        while text.startswith(indent + "@", line):  # decorators, one line each
            line = text.find("\n", line) + 1
            if line <= 0:
                return
        if not _FUNCTION.match(text, line + len(indent), end):
            return
        escape = _ESCAPES.get(indent)
        if escape is None:
            escape = _ESCAPES[indent] = re.compile(
                r"\n(?!" + re.escape(indent) + r"[ \t]|[ \t]*(?:#|\r?\n|\Z))")
        if escape.search(text, line, end - 1) is None:
            out.append((line, end))


def _leading_blanks(text: str, start: int) -> str:
    end = start
    while end < len(text) and text[end] in " \t":
        end += 1
    return text[start:end]


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
