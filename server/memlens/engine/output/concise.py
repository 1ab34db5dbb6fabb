"""`--output-format concise`: one line per finding, `path:row:col: CODE [*] message` (in a
notebook `nb.ipynb:cell 3:row:col: ...`)."""

from __future__ import annotations

from memlens.engine.output import Report, applicable, printable, where
from memlens.engine.output.text import summary


def line(f, unsafe: bool) -> str:
    mark = " [*]" if applicable(f, unsafe) else ""
    return f"{where(f)}: {f.code}{mark} {printable(f.message)}"


def render(report: Report) -> str:
    out = [line(f, report.unsafe) for f in report.findings]
    if not report.quiet:
        out += summary(report)
    return "\n".join(out) + "\n" if out else ""
