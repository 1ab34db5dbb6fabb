"""`--output-format text` (the default): Ruff-like findings with a source excerpt.

    pkg/data.py:3:5: ML102 np.load reads the whole array into memory; ...
      |
    2 | import numpy as np
    3 | x = np.load("a.npy")
      |     ^^^^^^^^^^^^^^^^ ML102
    4 | print(x)
      |
      = help: Memory-map the array with mmap_mode="r"

In a notebook the place is `nb.ipynb:cell 3:2:5` and the excerpt shows the cell's own lines.
"""

from __future__ import annotations

from memlens.engine.model import IO_ERROR
from memlens.engine.output import Report, applicable, printable, where


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(report: Report) -> list[str]:
    """The closing lines: what was fixed, how many findings remain and what --fix would do."""
    out = []
    if report.fixed:
        out.append(f"Fixed {_plural(report.fixed, 'finding')}.")
    if report.would_fix:
        out.append(f"Would fix {_plural(report.would_fix, 'finding')}.")
    findings = report.findings
    hidden = (f" {_plural(report.hints_hidden, 'hint')} not shown (the pattern is there, its "
              "size is not known: --show-hints)." if report.hints_hidden else "")
    if not findings:
        if not report.would_fix:
            out.append("All checks passed!" + hidden)
        return out
    safe = sum(1 for f in findings if f.fixable())
    unsafe = sum(1 for f in findings if f.fixable(unsafe=True) and not f.fixable())
    parts = []
    if report.unsafe:
        if safe + unsafe:
            parts.append(f"{safe + unsafe} fixable with --fix --unsafe-fixes")
    else:
        if safe:
            parts.append(f"{safe} fixable with --fix")
        if unsafe:
            parts.append(f"{unsafe} {'more ' if safe else ''}fixable with --unsafe-fixes")
    errors = sum(1 for f in findings if f.code == IO_ERROR)
    line = f"Found {_plural(len(findings), 'finding')}"
    if errors:
        line += f", {_plural(errors, 'file')} not checked"
    out.append(line + (f" ({', '.join(parts)})." if parts else ".") + hidden)
    return out


def excerpt(f, text: str) -> list[str]:
    lines = text.split("\n")
    row = f.start.line
    if row >= len(lines):
        return []
    first, last = max(0, row - 1), min(len(lines) - 1, row + 1)
    width = len(str(last + 1))
    gutter = " " * width
    out = [f"{gutter} |"]
    for i in range(first, last + 1):
        out.append(f"{str(i + 1).rjust(width)} | {printable(lines[i].rstrip())}".rstrip())
        if i == row:
            source = lines[i].rstrip("\r")
            start = min(f.start.column, len(source))
            end = f.end.column if f.end.line == row else len(source.rstrip())
            end = max(end, start + 1)
            prefix = "".join("\t" if c == "\t" else " " for c in source[:start])
            out.append(f"{gutter} | {prefix}{'^' * (end - start)} {f.code}")
    out.append(f"{gutter} |")
    if f.fix is not None:
        out.append(f"{gutter} = help: {printable(f.fix.message)}")
    return out


def render(report: Report) -> str:
    out = []
    for f in report.findings:
        mark = " [*]" if applicable(f, report.unsafe) else ""
        out.append(f"{where(f)}: {f.code}{mark} {printable(f.message)}")
        text = report.source_of(f)
        if text is not None and f.code != IO_ERROR:
            out += excerpt(f, text)
            out.append("")
    if not report.quiet:
        out += summary(report)
    return "\n".join(out) + "\n" if out else ""
