"""The node kind a pattern matches (what its text parses to); a whole rule's potential kinds are
`ruletree.Node.potential_kinds`."""

from __future__ import annotations

import functools
import re

from ast_grep_py import SgRoot

_MULTI_VAR = re.compile(r"\$\$\$[A-Z_0-9]*")
_VAR = re.compile(r"\$([A-Z_][A-Z_0-9]*)")
LONE_VAR = re.compile(r"^\s*\$\$?\$?[A-Z_][A-Z_0-9]*\s*$")


def pattern_kind(pattern) -> str | None:
    """The kind of the node a pattern matches: its text parsed with metavariables made plain
    names, descending through wrappers spanning the same text (as ast-grep does)."""
    if isinstance(pattern, dict):
        if pattern.get("selector"):
            return pattern["selector"]
        pattern = pattern.get("context", "")
    if not isinstance(pattern, str) or LONE_VAR.match(pattern):
        return None
    return _text_kind(pattern)


@functools.lru_cache(maxsize=4096)
def _text_kind(pattern: str) -> str | None:
    source = _VAR.sub(r"\1", _MULTI_VAR.sub("", pattern)).strip()
    node = SgRoot(source, "python").root()
    while True:
        named = [c for c in node.children() if c.is_named()]
        if len(named) == 1 and named[0].text().strip() == node.text().strip():
            node = named[0]
        else:
            break
    kind = node.kind()
    return None if kind in ("ERROR", "module") or not node.text().strip() else kind
