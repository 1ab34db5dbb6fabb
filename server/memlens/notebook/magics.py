"""IPython syntax in a cell, blanked to neutral Python of the same length.

Line magics (`%time f()`), shell escapes (`!pip install x`, `files = !ls`), help (`df.head?`,
`?df`) and cell magics (`%%time`, `%%bash`) are not Python. Each such line becomes a statement
that does nothing (`0` padded with spaces, or the assignment's target bound to `0`), so every
other line and column of the cell stays where it was and the cell parses. A cell magic whose
body is Python (`%%time`, `%%capture`, ...) keeps its body; any other cell magic blanks the
whole cell. A one-line cell that IPython's automagic runs as a magic (`cd data`, `pip install
shap`: see `automagic`) is blanked the same way.

Only a cell that does not compile as it stands is blanked: none of these forms is valid Python,
so a cell that compiles holds none of them (and a `%` inside a string is never touched).
"""

from __future__ import annotations

import re
import warnings

from memlens.lines import split_lines
from memlens.notebook.automagic import is_automagic

# Cell magics that run their body as Python in the same namespace.
PYTHON_CELL_MAGICS = frozenset({
    "time", "timeit", "capture", "prun", "memit", "mprun", "memlens", "debug", "pypy",
    "python", "python3", "markdown_exec", "tensorboard",
})

_LINE_MAGIC = re.compile(r"^([ \t]*)(?:%{1,2}\S|!|\?{1,2}\S)")
# `files = !ls`, `t = %timeit -o f()`: the target keeps its binding, to 0
_ASSIGNED_MAGIC = re.compile(r"^([ \t]*[A-Za-z_][\w.,\s\[\]\"']*?\s*=\s*)(?:%\S|!)")
# `df.head?`, `np.load??`: help on a name
_HELP_SUFFIX = re.compile(r"^([ \t]*)[A-Za-z_][\w.]*\?{1,2}[ \t]*$")
_CELL_MAGIC = re.compile(r"^[ \t]*%%([A-Za-z_][\w]*)")


def compiles(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like
            compile(text, "<cell>", "exec", dont_inherit=True, flags=0x400)  # PyCF_ONLY_AST
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return False
    return True


def _neutral(line: str, keep: int) -> str:
    """`line` with everything after its first `keep` characters replaced by `0` and spaces."""
    rest = len(line) - keep
    return line[:keep] + ("0" + " " * (rest - 1) if rest > 0 else "")


def _blank_line(line: str) -> str | None:
    """The neutral form of one line of IPython syntax, or None when the line is Python."""
    m = _LINE_MAGIC.match(line) or _HELP_SUFFIX.match(line)
    if m:
        return _neutral(line, len(m.group(1)))
    m = _ASSIGNED_MAGIC.match(line)
    if m:
        return _neutral(line, len(m.group(1)))
    return None


def cell_magic(source: str) -> str | None:
    """The name of the cell magic that opens `source` (`%%time` -> "time"), or None."""
    for line in split_lines(source):
        if line.strip():
            m = _CELL_MAGIC.match(line)
            return m.group(1) if m else None
    return None


def _only_line(lines: list[str]) -> int | None:
    """The index of the one line of a cell as IPython counts them (leading blank lines dropped,
    a final newline ending the line), or None when the cell has more or none."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return None
    rest = lines[first + 1:]
    return first if not rest or rest == [""] else None


# A line any of the patterns above could blank (a `%`, `!` or `?` opening it, an `= !`/`= %`
# in it, a `?` ending it): a superset of them, searched in the whole cell at once
_MAYBE_IPYTHON = re.compile(r"^[ \t]*[%!?]|=\s*[%!]|\?[ \t]*$", re.MULTILINE)


def _plain(source: str) -> bool:
    """Whether `blank_magics` would return `source` as it is, told without compiling it: no
    line any blanking pattern matches, not a one-line cell (automagic), and no carriage return
    (the lines joined again are the same text). Most cells are such Python, and compiling each
    one cost more than the rest of reading a notebook."""
    if "\r" in source or _MAYBE_IPYTHON.search(source):
        return False
    return _only_line(split_lines(source)) is None


def blank_magics(source: str) -> str:
    """`source` with its IPython syntax blanked; the same number of lines, each as long."""
    if _plain(source):
        return source
    return _blank(source)


def _blank(source: str) -> str:
    magic = cell_magic(source)
    if magic is None and compiles(source):
        return source
    lines = split_lines(source)
    only = _only_line(lines) if magic is None else None
    if only is not None and is_automagic(lines[only]):
        lines[only] = _neutral(lines[only], 0)  # (from column 0: IPython drops its indent)
        return "\n".join(lines)
    out: list[str] = []
    blank_rest = False
    continued = False  # the previous magic line ended with a backslash
    seen_cell_magic = False
    for line in lines:
        if blank_rest or continued:
            out.append(" " * len(line))
            continued = continued and line.rstrip().endswith("\\")
            continue
        if magic is not None and not seen_cell_magic and line.strip():
            seen_cell_magic = True
            out.append(_neutral(line, len(line) - len(line.lstrip())))
            blank_rest = magic not in PYTHON_CELL_MAGICS
            continue
        blanked = _blank_line(line)
        if blanked is None:
            out.append(line)
        else:
            out.append(blanked)
            continued = line.rstrip().endswith("\\")
    return "\n".join(out)
