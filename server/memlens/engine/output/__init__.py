"""Output formats of `memlens check`: one module per format, each with `render(report) -> str`."""

from __future__ import annotations

import importlib
import json as jsonlib  # (`json` here is the submodule of that format, once loaded)
import re
from dataclasses import dataclass, field

from memlens.engine.model import Finding

FORMATS = ("text", "concise", "json", "sarif", "github")


@dataclass
class Report:
    findings: list[Finding]  # sorted by path, then position
    rules: dict = field(default_factory=dict)  # id -> Rule: every enabled rule (SARIF metadata)
    sources: dict[str, str] = field(default_factory=dict)  # path -> text, for excerpts
    cells: dict[str, dict[int, str]] = field(default_factory=dict)  # a notebook's cells' text
    unsafe: bool = False  # --unsafe-fixes given: unsafe fixes count as applicable
    fixed: int = 0  # findings fixed by --fix
    would_fix: int = 0  # --diff: findings that would be fixed
    quiet: bool = False
    hints_hidden: int = 0  # hints left out (shown with --show-hints)

    def source_of(self, f: Finding) -> str | None:
        """The text `f`'s positions are in: its file's, or its notebook cell's."""
        if f.cell is not None:
            return self.cells.get(f.path, {}).get(f.cell)
        return self.sources.get(f.path)


def where(f: Finding) -> str:
    """`path:row:col` of a finding, 1-based; in a notebook `nb.ipynb:cell 3:row:col` (Ruff's
    spelling), the row within the cell."""
    cell = "" if f.cell is None else f":cell {f.cell}"
    return f"{printable(f.path)}{cell}:{f.start.line + 1}:{f.start.column + 1}"


def applicable(finding: Finding, unsafe: bool) -> bool:
    return finding.fixable(unsafe)


# C0 controls but tab, DEL and C1 controls: ESC, BEL, CSI... reach the terminal of whoever runs
# `memlens check` on a repository (a title change, a screen clear, an OSC 52 clipboard write)
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def _picture(m: re.Match) -> str:
    code = ord(m.group())
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode's control pictures: ␀ ... ␟
    return "\u2421" if code == 0x7f else "\ufffd"  # ␡; C1 controls have no picture


def printable(text: str, keep: str = "") -> str:
    """`text` safe to print on a terminal: each control character (but those in `keep`) as
    its Unicode control picture, as Ruff prints them; one character for one, so the columns
    of a caret line below stay in place."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: m.group() if m.group() in keep else _picture(m), text)


_RAW_IN_JSON = re.compile(r"[\x7f-\x9f]")


def json_text(value) -> str:
    """JSON of `value`, non-ASCII text kept readable, but DEL and the C1 controls escaped as
    well (json escapes C0 only): the same data, and nothing a terminal acts on."""
    text = jsonlib.dumps(value, indent=2, ensure_ascii=False)
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def render(name: str, report: Report) -> str:
    module = importlib.import_module(f"{__name__}.{name}")
    return module.render(report)
