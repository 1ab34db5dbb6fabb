"""The values the engine produces: findings, their fixes and the edits those fixes make."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning", "info", "hint"]
Applicability = Literal["safe", "unsafe"]
Evidence = Literal["code", "pattern", "file size", "notebook output", "measured"]

SYNTAX_ERROR = "syntax-error"
IO_ERROR = "io-error"


@dataclass(frozen=True, order=True)
class Position:
    """0-based line and column; the column counts Unicode code points (Python str indices)."""

    line: int
    column: int

    def to_dict(self) -> dict:
        # The JSON output is 1-based, like Ruff's.
        return {"row": self.line + 1, "column": self.column + 1}


@dataclass(frozen=True)
class Edit:
    start: Position
    end: Position
    content: str

    def to_dict(self) -> dict:
        return {
            "content": self.content,
            "location": self.start.to_dict(),
            "end_location": self.end.to_dict(),
        }


@dataclass(frozen=True)
class Fix:
    applicability: Applicability
    message: str
    edits: tuple[Edit, ...]

    def applies(self, unsafe: bool = False) -> bool:
        """Whether `--fix` applies it: a safe fix always, a suggestion with `--unsafe-fixes`."""
        return unsafe or self.applicability == "safe"

    def to_dict(self) -> dict:
        return {
            "applicability": self.applicability,
            "message": self.message,
            "edits": [e.to_dict() for e in self.edits],
        }


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    severity: Severity
    path: str
    start: Position
    end: Position
    fix: Fix | None = None
    url: str | None = None
    # Extra, rule-specific facts (e.g. the canonical name that matched); never needed to act.
    data: dict = field(default_factory=dict, compare=False, hash=False)
    # What the finding rests on: "code" (the code shows the waste), "pattern" (the pattern is
    # there, its size is not known: a hint), "file size", "notebook output" or "measured"
    evidence: Evidence = "code"
    # In a notebook: the cell (1-based, Ruff's "cell N": markdown cells counted) that `start`,
    # `end` and the fix's edits are positions within; None in a .py file
    cell: int | None = None

    def fixable(self, unsafe: bool = False) -> bool:
        """Whether it has a fix that `--fix` (with `--unsafe-fixes` when `unsafe`) applies."""
        return self.fix is not None and self.fix.applies(unsafe)

    def to_row(self) -> list:
        """The finding as JSON-able values (the project cache stores it so): without the path,
        which the cache keys it by."""
        fix = None
        if self.fix is not None:
            fix = [self.fix.applicability, self.fix.message,
                   [[_pos(e.start), _pos(e.end), e.content] for e in self.fix.edits]]
        return [self.code, self.message, self.severity, _pos(self.start), _pos(self.end), fix,
                self.url, self.evidence, self.data, self.cell]

    @classmethod
    def from_row(cls, row: list, path: str) -> Finding:
        """The finding `to_row` gave (a row of the right shape: `cache.valid_row` says)."""
        code, message, severity, start, end, fix, url, evidence, data, cell = row
        if fix is not None:
            applicability, fix_message, edits = fix
            fix = Fix(applicability, fix_message,
                      tuple(Edit(Position(*s), Position(*e), c) for s, e, c in edits))
        return cls(code, message, severity, path, Position(*start), Position(*end), fix, url,
                   data, evidence, cell)

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "severity": self.severity,
            "evidence": self.evidence,
            "filename": self.path,
            "cell": self.cell,
            "location": self.start.to_dict(),
            "end_location": self.end.to_dict(),
            "fix": self.fix.to_dict() if self.fix else None,
            "url": self.url,
        }


def _pos(p: Position) -> list[int]:
    return [p.line, p.column]
