"""Python's own parser: the authority on whether a file is valid Python.

tree-sitter parses for the rules, but its grammar is not Python's. It accepts programs that
Python rejects (`f(**k, *a)`, `def f(a=1, b)`, `print "x"`, `del f()`...): 5 of 10 invalid files
passed with "All checks passed!". It also rejects a few that Python accepts: a comment line
inside open brackets, dedented below its block, after an operator

    def f(x):
        x.append((1 +
       # a comment
            2))

makes its scanner close the block (tree-sitter-python's scanner, not memlens' lexer). So where
memlens promises every syntax error (`parse_whole`, every file in the editor), and wherever
tree-sitter finds an error, Python's parser decides: its first error, with its message and
position, is the file's `syntax-error` finding, and a file it accepts gets none (and is parsed
again with such lines re-indented, `readable_by_tree_sitter`). The same happens to a line of code
there (`index[` then `    r] = r` dedented).

It is the running interpreter's grammar: code in syntax newer than the interpreter memlens runs
on is reported as a syntax error. It is the parser's verdict only: what the compiler rejects
later (`break` outside a loop, a keyword argument given twice) is not reported.
"""

from __future__ import annotations

import ast
import io
import threading
import tokenize
import warnings

from memlens.engine.lines import line_starts, split_lines
from memlens.engine.model import SYNTAX_ERROR, Finding, Position


class Undecided(Exception):
    """Python's parser gave no verdict: it ran out of recursion depth or memory on the text."""


# warnings.catch_warnings swaps process-wide state: one parse at a time keeps it consistent
# (compile holds the GIL throughout anyway)
_LOCK = threading.Lock()


def python_syntax_error(text: str, path: str) -> Finding | None:
    """None when Python's parser accepts `text`, else the finding for its first syntax error.
    Raises `Undecided` when the parser could not decide (deeply nested input)."""
    try:
        with _LOCK, warnings.catch_warnings():
            # a SyntaxWarning (an invalid escape sequence) must neither print nor, under
            # `-W error`, turn into a SyntaxError of code that is valid
            warnings.simplefilter("ignore")
            # (the path is not compiled: a NUL or a surrogate in it would raise ValueError)
            compile(text, "<memlens>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as exc:
        return _finding(exc, text, path)
    except ValueError as exc:  # NUL bytes, before Python 3.12 (then a SyntaxError)
        return _finding(SyntaxError(str(exc)), text, path)
    except (RecursionError, MemoryError) as exc:
        raise Undecided(type(exc).__name__) from None
    return None


def parses(text: str, path: str = "<fix>") -> bool:
    """Whether Python's parser accepts `text` (False when it cannot decide)."""
    try:
        return python_syntax_error(text, path) is None
    except Undecided:
        return False


def _finding(exc: SyntaxError, text: str, path: str) -> Finding:
    lines = split_lines(text)
    if exc.lineno is None and "\0" in text:  # (no position: NUL bytes)
        nul = text.index("\0")
        line = len(line_starts(text[:nul])) - 1
        start = Position(line, nul - line_starts(text)[line])
        return Finding(code=SYNTAX_ERROR, message=f"SyntaxError: {exc.msg}", severity="error",
                       path=path, start=start, end=Position(start.line, start.column + 1))
    start = _position(lines, exc.lineno, exc.offset)
    end = _position(lines, exc.end_lineno, exc.end_offset) if exc.end_lineno else start
    if end <= start:  # no end, or not after the start: the one character there
        end = Position(start.line, min(start.column + 1, len(lines[start.line])))
    return Finding(code=SYNTAX_ERROR, message=f"{type(exc).__name__}: {exc.msg}",
                   severity="error", path=path, start=start, end=max(end, start))


def _position(lines: list[str], lineno: int | None, offset: int | None) -> Position:
    """Python's 1-based line and 1-based column (code points) as a Position inside the text."""
    line = min(max((lineno or 1) - 1, 0), len(lines) - 1)
    column = min(max((offset or 1) - 1, 0), len(lines[line]))
    return Position(line, column)


def _tree_sitter_width(indent: str) -> int:
    """The indentation tree-sitter's scanner counts: a tab is 8, a form feed starts over."""
    width = 0
    for c in indent:
        width = 0 if c == "\f" else width + (8 if c == "\t" else 1)
    return width


def readable_by_tree_sitter(text: str) -> tuple[str, list[str]] | None:
    """For valid Python that tree-sitter rejects: the text with each line inside brackets that
    is indented less than its block (a comment, or code after an operator or a subscript's `[`)
    re-indented with tabs, as many as it had blanks (same length, every offset kept; Python
    ignores indentation inside brackets), and for each such line its tabs and first character:
    a fix copying that line would write the tabs. None when there is no such line or one cannot
    be mended (at column 0, or too few blanks to reach the block)."""
    lines = split_lines(text)
    mended: dict[int, str] = {}  # 0-based line -> its new indentation
    depth = 0
    blocks = [0]
    last_row = 0  # the last row a token ended on: a token starting a row below starts its line
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind, (row, column) = token.type, token.start
            if depth > 0 and row > last_row and kind not in (tokenize.NL, tokenize.NEWLINE):
                indent = lines[row - 1][:column]
                if not indent.strip(" \t\f") and _tree_sitter_width(indent) < blocks[-1]:
                    if 8 * len(indent) < blocks[-1]:
                        return None
                    mended[row - 1] = "\t" * len(indent)
            last_row = token.end[0]
            if kind == tokenize.INDENT:
                blocks.append(_tree_sitter_width(token.string))
            elif kind == tokenize.DEDENT:
                blocks.pop()
            elif kind == tokenize.OP and token.string in "([{":
                depth += 1
            elif kind == tokenize.OP and token.string in ")]}":
                depth -= 1
    except (tokenize.TokenError, SyntaxError):
        return None
    if not mended:
        return None
    starts = line_starts(text)
    chars = list(text)
    for line, indent in mended.items():
        chars[starts[line]:starts[line] + len(indent)] = indent
    return "".join(chars), [indent + lines[line][len(indent)] for line, indent in mended.items()]
