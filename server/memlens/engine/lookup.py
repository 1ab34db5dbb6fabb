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

Each item is `{var: V, in: UTIL}` or `{var: V, not-in: UTIL}` (`$V`'s text is, or is not, in the
table; with `if-bound: true` a match that left `$V` unbound passes: a branch of an `any` that
binds it asks the table, the others do not), `{names-of: V, in | not-in: UTIL}` (some
identifier within `$V` is, or none is), or
`{any: [item, ...]}`, all items required. UTIL names one of the rule's utils (its own or a
shared one: the table holds the text of every node it matches), or a shared table defined by
`assigned-from: REGEX` (the names assigned a value that matches REGEX, directly or through other
such names: `here = Path(__file__).parent; data = here / "data"`). Lookups only ever narrow
what the rule's ast-grep part matched, so the text prefilter, the combined pass and the node
kinds stay what the rule alone gives; a rule with a lookup is never block-local (its tables
read the whole file).
"""

from __future__ import annotations

import json
import re
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
    if_bound: bool = False  # an unbound `$var` passes (another branch matched)

    def utils(self) -> set[str]:
        return {self.util}

    def holds(self, node, tables: Tables) -> bool:
        bound = node.get_match(self.var)
        if bound is None:
            return self.if_bound
        return (bound.text() in tables.texts(self.util)) != self.negated


@dataclass(frozen=True)
class NamesOf:
    """Some identifier in `$var` (or `$var` itself, when it is one) is in the table (`in`), or
    none is (`not-in`)."""

    var: str
    util: str
    negated: bool

    def utils(self) -> set[str]:
        return {self.util}

    def holds(self, node, tables: Tables) -> bool:
        bound = node.get_match(self.var)
        if bound is None:
            return self.negated
        names = {bound.text()} if bound.kind() == "identifier" else {
            n.text() for n in bound.find_all(kind="identifier")}
        return bool(names & tables.texts(self.util)) != self.negated


@dataclass(frozen=True)
class AnyOf:
    items: tuple

    def utils(self) -> set[str]:
        return {u for item in self.items for u in item.utils()}

    def holds(self, node, tables: Tables) -> bool:
        return any(item.holds(node, tables) for item in self.items)


class Tables:
    """The text of every node each util matches in one file, found on first use; or, for a
    table defined by `assigned-from` (`rulebook.shared_tables`), the names assigned from it."""

    def __init__(self, root, utils: dict, tables: dict | None = None,
                 shared: dict | None = None):
        """`shared`: the tables of the same file's other rules (a dict kept for one check):
        a util several rules use (`stream-name`) is searched once per file."""
        self._root, self._utils, self._tables = root, utils, tables or {}
        self._texts: dict[str, frozenset[str]] = {}
        self._shared = shared

    def texts(self, util: str) -> frozenset[str]:
        found = self._texts.get(util)
        if found is None:
            shared = self._shared
            key = self._key(util) if shared is not None else None
            found = shared.get(key) if shared is not None and key is not None else None
            if found is None:
                if util in self._tables:
                    found = assigned_from(self._root.text(), self._tables[util])
                else:
                    config = {"rule": {"matches": util}, "utils": self._utils}
                    found = frozenset(n.text() for n in self._root.find_all(config))
                if shared is not None and key is not None:
                    shared[key] = found
            self._texts[util] = found
        return found

    def _key(self, util: str) -> str:
        """What the table of `util` is derived from: its regex, or the util and every util it
        names, as written (a rule's own util may share a name with another's)."""
        if util in self._tables:
            return json.dumps(["assigned-from", self._tables[util]], default=repr)
        named, pending = {}, [util]
        while pending:
            name = pending.pop()
            if name in named or name not in self._utils:
                continue
            named[name] = self._utils[name]
            pending += _MATCHES.findall(json.dumps(self._utils[name], default=repr))
        return json.dumps(["util", util, named], sort_keys=True, default=repr)


_MATCHES = re.compile(r'"matches": "([^"]+)"')  # the utils a util names, in its JSON
_ASSIGNMENT = re.compile(r"^[ \t]*([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=(?!=)(.*)$", re.M)
_WORD = re.compile(r"[A-Za-z_]\w*")


def assigned_from(text: str, seed: str) -> frozenset[str]:
    """The names assigned (anywhere in `text`, `name = ...` on one line) a value whose text
    matches the regex `seed`, or names one of those: `here = Path(__file__).parent`, then
    `data = here / "data"` (to a fixpoint: one pass over the assignments per level)."""
    pattern = re.compile(seed)
    assignments = [(m.group(1), m.group(2)) for m in _ASSIGNMENT.finditer(text)]
    found = {name for name, value in assignments if pattern.search(value)}
    grew = bool(found)
    while grew:
        grew = False
        for name, value in assignments:
            if name not in found and not found.isdisjoint(_WORD.findall(value)):
                found.add(name)
                grew = True
    return frozenset(found)


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
    if_bound = isinstance(value, dict) and "var" in value and value.get("if-bound") is True
    if isinstance(value, dict) and len(value) == 2 + if_bound \
            and ("var" in value or "names-of" in value) and ("in" in value or "not-in" in value):
        negated = "not-in" in value
        util = value["not-in" if negated else "in"]
        var = value.get("var", value.get("names-of"))
        if not isinstance(var, str) or not var.isidentifier() or not var.isupper():
            raise LookupError_(f"`var` names a metavariable such as NAME, not {var!r}")
        if util not in utils:
            raise LookupError_(f"{util!r} is not one of the rule's utils or tables")
        if "names-of" in value:
            return NamesOf(var, util, negated)
        return Member(var, util, negated, if_bound)
    raise LookupError_("each item is {var: V, in | not-in: UTIL[, if-bound: true]}, {names-of: "
                       "V, in | not-in: UTIL} or {any: [...]}")
