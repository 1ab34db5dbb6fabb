"""`--output-format json`: a list of findings, each `Finding.to_dict()` (Ruff's shape)."""

from __future__ import annotations

import json

from memlens.engine.output import Report


def render(report: Report) -> str:
    return json.dumps([f.to_dict() for f in report.findings], indent=2, ensure_ascii=False) + "\n"
