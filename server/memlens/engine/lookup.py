"""`metadata.lookup`: conditions on a match's metavariables answered from a table built once per
file, instead of a search per match.

A rule such as "a module-level load that some function reads" written as an ast-grep `inside:
{kind: module, has: {stopBy: end, ... pattern: $NAME}}` searches the whole module once per load:
quadratic, 45 s for 4,000 loads. As a lookup, the names every function reads are found once (one
ast-grep search for the util that matches them), and each load asks whether its `$NAME` is among
them:

```yaml
metadata:
  lookup:
    - any:
        - { var: NAME, in: read-in-a-function }      # $NAME's text is among the util's matches
        - { var: NAME, not-in: read-at-module-level }
```

Each item is `{var: V, in: UTIL}`, `{var: V, not-in: UTIL}` or `{any: [item, ...]}`, all items
required; UTIL names one of the rule's utils (its own or a shared one). Lookups only ever narrow
what the rule's ast-grep part matched, so the text prefilter, the combined pass and the node
kinds stay what the rule alone gives; a rule with a lookup is never block-local (its tables
read the whole file).
"""

from __future__ import annotations

from dataclasses import dataclass


class LookupError_(ValueError):
    """A malformed `metadata.lookup` (the message says what)."""


@dataclass(frozen=True)
class Lookup:
    items: tuple  # of Member | AnyOf

    def utils(self) -> set[str]:
        return {u for item in self.items for u in item.utils()}

    def holds(self, node, tables: Tables) -> bool:
        return all(item.holds(node, tables) for item in self.items)


@dataclass(frozen=True)
class Member:
    var: str
    util: str
    negated: bool

    def utils(self) -> set[str]:
        return {self.util}

    def holds(self, node, tables: Tables) -> bool:
        bound = node.get_match(self.var)
        if bound is None:
            return False
        return (bound.text() in tables.texts(self.util)) != self.negated


@dataclass(frozen=True)
class AnyOf:
    items: tuple

    def utils(self) -> set[str]:
        return {u for item in self.items for u in item.utils()}

    def holds(self, node, tables: Tables) -> bool:
        return any(item.holds(node, tables) for item in self.items)


class Tables:
    """The text of every node each util matches in one file, found on first use."""

    def __init__(self, root, utils: dict):
        self._root, self._utils, self._texts = root, utils, {}

    def texts(self, util: str) -> frozenset[str]:
        found = self._texts.get(util)
        if found is None:
            config = {"rule": {"matches": util}, "utils": self._utils}
            found = self._texts[util] = frozenset(n.text() for n in self._root.find_all(config))
        return found


def parse_lookup(value, utils: dict) -> Lookup:
    """`metadata.lookup` of a rule whose utils (its own and the shared ones it names) are
    `utils`."""
    if not isinstance(value, list) or not value:
        raise LookupError_("must be a non-empty list of {var, in | not-in} or {any: [...]}")
    return Lookup(tuple(_item(v, utils) for v in value))


def _item(value, utils: dict):
    if isinstance(value, dict) and set(value) == {"any"}:
        items = value["any"]
        if not isinstance(items, list) or not items:
            raise LookupError_("`any` takes a non-empty list")
        return AnyOf(tuple(_item(v, utils) for v in items))
    if isinstance(value, dict) and "var" in value and len(value) == 2 and (
            "in" in value or "not-in" in value):
        negated = "not-in" in value
        util = value["not-in" if negated else "in"]
        var = value["var"]
        if not isinstance(var, str) or not var.isidentifier() or not var.isupper():
            raise LookupError_(f"`var` names a metavariable such as NAME, not {var!r}")
        if util not in utils:
            raise LookupError_(f"{util!r} is not one of the rule's utils")
        return Member(var, util, negated)
    raise LookupError_("each item is {var: V, in: UTIL}, {var: V, not-in: UTIL} or {any: [...]}")
