"""Literals a regex's matches must start with, or contain, read from the regex itself.

Python's `re` scans a text fast only for a pattern that starts with a literal; one that starts
with `\\b`, a group of alternatives with `\\w*` in them, or a character class is tried at every
position. The text prefilter (`prefilter._Search`) uses what this module finds to run such a
regex only where a match can be: at the places one of its leading literals occurs, or not at
all when none of the literals a match contains is in the text. Both are exact: they never
change whether the regex is found.

`heads(pattern)`: strings one of which every match starts with; `needs(pattern)`: strings one
of which every match contains. Either is None when the regex does not say (a case-insensitive
regex, a match that may start with a character class, an empty alternative).
"""

from __future__ import annotations

import re

try:  # Python 3.11+
    from re import _parser as _sre  # type: ignore[attr-defined]
except ImportError:  # Python 3.10
    import sre_parse as _sre

_ZERO_WIDTH = {_sre.AT, _sre.ASSERT, _sre.ASSERT_NOT}
_REPEATS = {_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", _sre.MAX_REPEAT)}
_GROUPS = {_sre.SUBPATTERN, getattr(_sre, "ATOMIC_GROUP", _sre.SUBPATTERN)}
_MAX_STRINGS = 64  # more spellings than this: the literals would not make the scan cheaper


def _items_of(op, av):
    """The sub-pattern of a group (None: a group whose flags change matching)."""
    if op == _sre.SUBPATTERN:
        _group, add_flags, _del_flags, sub = av
        return None if add_flags & (re.IGNORECASE | re.LOCALE) else sub
    return av  # an atomic group: its sub-pattern


def _starts(items) -> tuple[set[str], bool] | None:
    """The strings one of which every match of the sequence `items` starts with, and whether
    they are the whole match (every match is one of them). None: some match may start with no
    known literal."""
    out, exact = {""}, True
    for op, av in items:
        if op in _ZERO_WIDTH:
            continue  # takes no characters: the match goes on from the same place
        if op == _sre.LITERAL:
            sub: tuple[set[str], bool] | None = ({chr(av)}, True)
        elif op == _sre.BRANCH:
            branches = [_starts(b) for b in av[1]]
            known = [b for b in branches if b is not None]
            sub = None if len(known) < len(branches) else (
                set().union(*(b[0] for b in known)), all(b[1] for b in known))
        elif op in _GROUPS:
            inner = _items_of(op, av)
            sub = None if inner is None else _starts(inner)
        elif op in _REPEATS and av[0] >= 1:
            sub = _starts(av[2])
            if sub is not None and (av[0], av[1]) != (1, 1):
                sub = (sub[0], False)  # at least one repetition: it starts the same way
        else:
            sub = None
        if sub is None or "" in sub[0]:
            exact = False
            break
        out = {p + q for p in out for q in sub[0]}
        if len(out) > _MAX_STRINGS:
            return None
        if not sub[1]:
            exact = False
            break
    if "" in out:
        return None
    return out, exact


def _parse(pattern: str):
    try:
        parsed = _sre.parse(pattern)
    except re.error:
        return None
    if parsed.state.flags & (re.IGNORECASE | re.LOCALE):
        return None
    return parsed


def heads(pattern: str) -> frozenset[str] | None:
    """Strings one of which every match of `pattern` starts with (at the match's start: a
    leading `\\b` or lookbehind takes no characters), or None."""
    parsed = _parse(pattern)
    found = None if parsed is None else _starts(list(parsed))
    return None if found is None else frozenset(found[0])


def needs(pattern: str) -> frozenset[str] | None:
    """Strings one of which every match of `pattern` contains (the best set found among the
    places of its top-level sequence: its shortest string the longest), or None."""
    parsed = _parse(pattern)
    if parsed is None:
        return None
    items = list(parsed)
    best: frozenset[str] | None = None
    for i in range(len(items)):
        found = _starts(items[i:])
        if found is None:
            continue
        strings = frozenset(found[0])
        if best is None or (min(map(len, strings)), -len(strings)) > (
                min(map(len, best)), -len(best)):
            best = strings
    return best
