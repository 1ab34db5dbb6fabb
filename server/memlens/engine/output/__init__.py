"""Output formats of `memlens check`: one module per format, each with `render(report) -> str`."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from memlens.engine.model import Finding

FORMATS = ("text", "concise", "json", "sarif", "github")


@dataclass
class Report:
    findings: list[Finding]  # sorted by path, then position
    rules: dict = field(default_factory=dict)  # id -> Rule: every enabled rule (SARIF metadata)
    sources: dict[str, str] = field(default_factory=dict)  # path -> text, for excerpts
    unsafe: bool = False  # --unsafe-fixes given: unsafe fixes count as applicable
    fixed: int = 0  # findings fixed by --fix
    would_fix: int = 0  # --diff: findings that would be fixed
    quiet: bool = False


def applicable(finding: Finding, unsafe: bool) -> bool:
    return finding.fix is not None and (unsafe or finding.fix.applicability == "safe")


def render(name: str, report: Report) -> str:
    module = importlib.import_module(f"{__name__}.{name}")
    return module.render(report)
