"""Which rules are on: Ruff-style selectors (an id, a prefix such as `ML3`, `ALL`, or `AUDIT`
for the audit group: rules that cannot see the data's size and say so).

The most specific selector wins: `select = ["ML1"]` with `ignore = ["ML104"]` turns ML104 off,
while `select = ["ML104"]` with `ignore = ["ML1"]` keeps it on. Without `select`, the rules that
are on by default run; naming an opt-in rule (or its family prefix, or ALL) turns it on.
"""

from __future__ import annotations

from collections.abc import Iterable

from memlens.engine.rulebook import Rule


class SelectorError(ValueError):
    """A selector that names no rule: `where` it was given (`select`, `extend-select`,
    `ignore`), the `selector`, and `origin` (a config file, once known)."""

    def __init__(self, where: str, selector: str, origin: str | None = None):
        self.where, self.selector, self.origin = where, selector, origin
        self.reason = f"{selector!r} selects no rule"
        prefix = f"{origin}: key 'tool.memlens.{where}'" if origin else where
        super().__init__(f"{prefix}: {self.reason}")


AUDIT = "AUDIT"
GROUPS = ("ALL", AUDIT)


def _specificity(selector: str, rule: Rule) -> int:
    """How specifically `selector` names `rule`: -1 when it does not name it at all."""
    if selector == "ALL":
        return 0
    if selector == AUDIT:
        return 1 if rule.is_audit else -1
    return len(selector) if rule.id.startswith(selector) else -1


def validate_selectors(selectors: Iterable[str], codes: Iterable[str], where: str) -> None:
    codes = list(codes)
    for s in selectors:
        if s not in GROUPS and not any(c.startswith(s) for c in codes):
            raise SelectorError(where, s)


def enabled_codes(
    rules: Iterable[Rule],
    select: Iterable[str] | None,
    extend_select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    named_only: bool = False,
) -> frozenset[str]:
    """The rules that are on. `named_only`: those a selector turns on (its id, a prefix of it,
    ALL), not those on by default alone."""
    rules = list(rules)
    ignore = list(ignore)
    positive = list(extend_select) + (list(select) if select is not None else [])
    on = set()
    for rule in rules:
        best_on = max((_specificity(s, rule) for s in positive), default=-1)
        if select is None and rule.default_on and not named_only:
            best_on = max(best_on, 0)
        best_off = max((_specificity(s, rule) for s in ignore), default=-1)
        if best_on >= 0 and best_on > best_off:
            on.add(rule.id)
    return frozenset(on)
