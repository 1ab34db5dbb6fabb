"""The node kinds a rule can match, read from its `kind`s and from what its patterns parse to."""

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


def rule_kinds(rule, utils, seen=frozenset()) -> frozenset[str] | None:
    """The kinds a node matching `rule` can have; None: any."""
    if not isinstance(rule, dict):
        return None
    options: list[frozenset[str]] = []
    if "kind" in rule:
        options.append(frozenset([rule["kind"]]))
    if "pattern" in rule:
        kind = pattern_kind(rule["pattern"])
        if kind is not None:
            options.append(frozenset([kind]))
    if "any" in rule:
        subs = [rule_kinds(r, utils, seen) for r in rule["any"]]
        if subs and all(s is not None for s in subs):
            options.append(frozenset().union(*subs))
    if "all" in rule:
        for sub in rule["all"]:
            kinds = rule_kinds(sub, utils, seen)
            if kinds is not None:
                options.append(kinds)
    if "matches" in rule and rule["matches"] in utils and rule["matches"] not in seen:
        kinds = rule_kinds(utils[rule["matches"]], utils, seen | {rule["matches"]})
        if kinds is not None:
            options.append(kinds)
    if not options:
        return None
    # Every condition holds at once: the node's kind is in each option.
    return frozenset.intersection(*options)
