"""`--output-format json`: a list of findings, each `Finding.to_dict()` (Ruff's shape)."""

from __future__ import annotations

from memlens.engine.output import Report, json_text


def render(report: Report) -> str:
    return json_text([f.to_dict() for f in report.findings])
