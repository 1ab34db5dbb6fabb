"""`# noqa`, `# noqa: ML104`, `# memlens: ignore[ML104]` and `# memlens: ignore-file`: what a
comment suppresses, and the edit that makes a line suppress one more code (the editor's
"Ignore MLxxx on this line")."""

from __future__ import annotations

import re

_NOQA = re.compile(r"#\s*noqa(?P<colon>:\s*(?P<codes>[A-Za-z0-9_,\s-]+))?", re.IGNORECASE)
_IGNORE = re.compile(r"#\s*memlens:\s*ignore\[(?P<codes>[^\]]*)\]")
_IGNORE_FILE = re.compile(r"^\s*#\s*memlens:\s*ignore-file\b", re.MULTILINE)

# The codes a noqa comment lists, up to the first word that is not one (`- the reason`).
_LISTED = re.compile(r"[A-Za-z0-9_]+(?:[\s,]+[A-Za-z0-9_]+)*")

ALL = "*"


def ignores_file(text: str) -> bool:
    return _IGNORE_FILE.search(text) is not None


def suppressed_codes(line: str) -> frozenset[str]:
    """The codes a line's comment suppresses; `{"*"}` for a bare `# noqa`."""
    if "#" not in line:
        return frozenset()
    codes: set[str] = set()
    for m in _NOQA.finditer(line):
        if not m.group("colon"):
            return frozenset({ALL})
        codes.update(_split(m.group("codes")))
    for m in _IGNORE.finditer(line):
        codes.update(_split(m.group("codes")))
    return frozenset(codes)


def is_suppressed(code: str, line: str) -> bool:
    codes = suppressed_codes(line)
    return ALL in codes or code in codes


def _split(codes: str) -> list[str]:
    return [c for c in re.split(r"[\s,]+", codes.strip()) if c]


def suppress_edit(line: str, code: str) -> tuple[int, int, str] | None:
    """How to make `line` (without its line break) suppress `code`, as (start column, end
    column, new text): `, ML104` after the codes of its noqa comment, or a new `  # noqa:
    ML104` at the end. None when the line already suppresses it."""
    if is_suppressed(code, line):
        return None
    for m in _NOQA.finditer(line):
        listed = _LISTED.match(m.group("codes") or "")
        if listed is not None:
            at = m.start("codes") + listed.end()
            return at, at, f", {code}"
    stripped = line.rstrip()
    return len(stripped), len(line), f"  # noqa: {code}"
