"""`--output-format github`: GitHub Actions workflow commands, one annotation per finding (in a
notebook: the line within the cell, and the cell named in the message)."""

from __future__ import annotations

from memlens.engine.output import Report, printable


def _data(value: str) -> str:
    # line breaks are the workflow command's own escapes; other controls would reach the log
    value = printable(value, keep="\r\n")
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(value: str) -> str:
    return _data(value).replace(":", "%3A").replace(",", "%2C")


def render(report: Report) -> str:
    out = []
    for f in report.findings:
        level = "error" if f.severity == "error" else "warning"
        props = (f"file={_prop(f.path)},line={f.start.line + 1},col={f.start.column + 1},"
                 f"endLine={f.end.line + 1},endColumn={f.end.column + 1},title={_prop(f.code)}")
        cell = "" if f.cell is None else f"cell {f.cell}: "
        out.append(f"::{level} {props}::{_data(cell + f.message)}")
    return "\n".join(out) + "\n" if out else ""
