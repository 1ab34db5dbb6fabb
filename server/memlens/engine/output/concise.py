"""`--output-format concise`: one line per finding, `path:row:col: CODE [*] message`."""

from __future__ import annotations

from memlens.engine.output import Report, applicable, printable
from memlens.engine.output.text import summary


def line(f, unsafe: bool) -> str:
    mark = " [*]" if applicable(f, unsafe) else ""
    return (f"{printable(f.path)}:{f.start.line + 1}:{f.start.column + 1}: {f.code}{mark} "
            f"{printable(f.message)}")


def render(report: Report) -> str:
    out = [line(f, report.unsafe) for f in report.findings]
    if not report.quiet:
        out += summary(report)
    return "\n".join(out) + "\n" if out else ""
