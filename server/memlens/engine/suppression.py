"""`# noqa`, `# noqa: ML104`, `# memlens: ignore[ML104]` and `# memlens: ignore-file`."""

from __future__ import annotations

import re

_NOQA = re.compile(r"#\s*noqa(?P<colon>:\s*(?P<codes>[A-Za-z0-9_,\s-]+))?", re.IGNORECASE)
_IGNORE = re.compile(r"#\s*memlens:\s*ignore\[(?P<codes>[^\]]*)\]")
_IGNORE_FILE = re.compile(r"^\s*#\s*memlens:\s*ignore-file\b", re.MULTILINE)

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
