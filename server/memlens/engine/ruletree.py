"""The ast-grep rule language as one typed tree, and the questions the engine asks of a rule.

A rule object (`pattern`, `kind`, `regex`, `nthChild`; `inside`, `has`, `follows`, `precedes`
with their `stopBy` and `field`; `all`, `any`, `not`, `matches`) is read once into a `Node`,
as ast-grep reads it into its `SerializedRule`. The analyses are methods on it that share one
walk: which node kinds a match can have, which metavariables a rule mentions, how costly one
test is, which dotted names its patterns spell. `to_config()` gives the same YAML shape back,
key for key, so a tree can be handed to ast-grep as it was written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

ATOMIC = ("pattern", "kind", "regex", "nthChild", "range")
RELATIONAL = ("inside", "has", "precedes", "follows")
COMPOSITE = ("all", "any", "not", "matches")
RELATION_OPTIONS = ("stopBy", "field")
# a metavariable, `$X` or `$$$X`; its name is group 1
METAVAR = re.compile(r"\$(?:\$\$)?([A-Z][A-Z0-9_]*)")


@dataclass(frozen=True)
class Relation:
    """`inside`/`has`/`follows`/`precedes`: the related node's rule, and how far to look."""

    rule: Node
    stop_by: str | Node = "neighbor"  # "neighbor", "end", or a rule where the search stops
    field: str | None = None


@dataclass(frozen=True)
class Node:
    """One rule object; every condition it holds must match. `raw` is the object as written
    (kept for `to_config` and for keys this tree does not model)."""

    raw: Any
    pattern: str | dict | None = None
    kind: str | None = None
    regex: str | None = None
    relations: tuple[tuple[str, Relation], ...] = ()
    all: tuple[Node, ...] | None = None
    any: tuple[Node, ...] | None = None
    not_: Node | None = None
    matches: str | None = None
    nth_of: Node | None = None  # nthChild's `ofRule`

    # -- reading ------------------------------------------------------------------------------

    @classmethod
    def read(cls, raw: Any) -> Node:
        if not isinstance(raw, dict):
            return cls(raw)
        relations = []
        for key in RELATIONAL:
            value = raw.get(key)
            if isinstance(value, dict):
                stop = value.get("stopBy", "neighbor")
                relations.append((key, Relation(
                    cls.read(value), cls.read(stop) if isinstance(stop, dict) else stop,
                    value.get("field"))))
        listed = {key: tuple(cls.read(v) for v in raw[key]) if isinstance(raw.get(key), list)
                  else None for key in ("all", "any")}
        nth = raw.get("nthChild")
        return cls(
            raw, pattern=raw.get("pattern"), kind=raw.get("kind"), regex=raw.get("regex"),
            relations=tuple(relations), all=listed["all"], any=listed["any"],
            not_=cls.read(raw["not"]) if "not" in raw else None,
            matches=raw.get("matches") if isinstance(raw.get("matches"), str) else None,
            nth_of=cls.read(nth["ofRule"]) if isinstance(nth, dict) and isinstance(
                nth.get("ofRule"), dict) else None)

    def to_config(self) -> Any:
        return self.raw

    # -- one walk -----------------------------------------------------------------------------

    def children(self) -> Iterator[Node]:
        """The rule objects directly below this one, in the order they are written."""
        for _, relation in self.relations:
            yield relation.rule
            if isinstance(relation.stop_by, Node):
                yield relation.stop_by
        yield from self.all or ()
        yield from self.any or ()
        if self.not_ is not None:
            yield self.not_
        if self.nth_of is not None:
            yield self.nth_of

    def walk(self) -> Iterator[Node]:
        """This rule object and every one below it (not through `matches`)."""
        yield self
        for child in self.children():
            yield from child.walk()

    def direct_metavariables(self) -> tuple[set[str], set[str], set[str]]:
        """(single, multi, lone): the metavariables bound by patterns that match the node itself
        (through `any`/`all`), not by relational or negated sub-rules; `lone`: those that are a
        whole pattern (bound to the node itself rather than to a node below it)."""
        from memlens.engine.kinds import LONE_VAR

        single: set[str] = set()
        multi: set[str] = set()
        lone: set[str] = set()
        pending = [self]
        while pending:
            node = pending.pop()
            pattern = node.pattern
            if isinstance(pattern, dict):
                pattern = None if pattern.get("selector") else pattern.get("context")
            if isinstance(pattern, str):
                if LONE_VAR.match(pattern):
                    lone.add(pattern.strip().lstrip("$"))
                for m in METAVAR.finditer(pattern):
                    (multi if m.group().startswith("$$$") else single).add(m.group(1))
            pending += [*(node.any or ()), *(node.all or ())]
        return single, multi, lone

    def mentions_util(self) -> bool:
        return any(node.matches is not None for node in self.walk())

    def negated(self) -> Iterator[Node]:
        """Every rule under a `not`, anywhere in the tree."""
        return (node.not_ for node in self.walk() if node.not_ is not None)

    def pattern_texts(self) -> Iterator[str]:
        """The text of every pattern in the tree (a pattern object's `context`)."""
        for node in self.walk():
            text = node.pattern.get("context") if isinstance(node.pattern, dict) \
                else node.pattern
            if isinstance(text, str):
                yield text

    # -- the analyses -------------------------------------------------------------------------

    def potential_kinds(self, utils: Mapping[str, Node | dict],
                        seen=frozenset()) -> frozenset | None:
        """The kinds a node matching this rule can have; None: any. (`utils`: read as trees
        or still as written.)"""
        from memlens.engine.kinds import pattern_kind

        if not isinstance(self.raw, dict):
            return None
        options: list[frozenset[str]] = []
        if "kind" in self.raw:
            options.append(frozenset([self.raw["kind"]]))
        if "pattern" in self.raw:
            kind = pattern_kind(self.raw["pattern"])
            if kind is not None:
                options.append(frozenset([kind]))
        if self.any is not None:
            subs = [n.potential_kinds(utils, seen) for n in self.any]
            known = [s for s in subs if s is not None]
            if subs and len(known) == len(subs):
                options.append(frozenset().union(*known))
        for sub in self.all or ():
            kinds = sub.potential_kinds(utils, seen)
            if kinds is not None:
                options.append(kinds)
        name = self.raw.get("matches")
        if isinstance(name, str) and name in utils and name not in seen:
            util = utils[name]
            kinds = (util if isinstance(util, Node) else Node.read(util)).potential_kinds(
                utils, seen | {name})
            if kinds is not None:
                options.append(kinds)
        if not options:
            return None
        return frozenset.intersection(*options)  # every condition holds at once

    def metavariables(self, util_vars: Mapping[str, frozenset[str]]) -> frozenset[str]:
        """Every metavariable the rule mentions (in any of its texts), through the utils it
        references."""
        out = set(METAVAR.findall(repr(self.raw)))
        for node in self.walk():
            if node.matches is not None:
                out.update(util_vars.get(node.matches, ()))
        return frozenset(out)

    def selects(self) -> bool:
        """Whether the object tests a kind or a shape (an atomic key: ast-grep tests it first)."""
        return isinstance(self.raw, dict) and ("kind" in self.raw or "pattern" in self.raw)

    def cost(self, util_cost: Mapping[str, float]) -> float:
        """A rough relative cost of testing one node: searches that walk a subtree or the
        ancestors/siblings to the end multiply the cost of what they test."""
        if not isinstance(self.raw, dict):
            return 0.0
        relations = dict(self.relations)
        cost = 0.0
        for key in self.raw:  # in the order written: the same float sums every time
            if key == "all" and self.all is not None:
                share = 1.0  # what follows a kind or shape test runs on the nodes it passes
                for n in self.all:
                    cost += share * n.cost(util_cost)
                    if n.selects():
                        share = _SELECTIVE
            elif key == "any" and self.any is not None:
                cost += sum(n.cost(util_cost) for n in self.any)
            elif key == "not" and self.not_ is not None:
                cost += self.not_.cost(util_cost)
            elif key == "matches":
                cost += util_cost.get(self.raw["matches"], 1.0)
            elif key in relations:
                relation = relations[key]
                stop = relation.stop_by
                near, far, until = _SEARCH_FACTORS[key == "has"]
                factor = near if stop == "neighbor" else far if stop == "end" else until
                cost += factor * (1.0 + relation.rule.cost(util_cost))
                if isinstance(stop, Node):
                    cost += factor * stop.cost(util_cost)
        if self.selects():
            # ast-grep tests the atomic keys first: the rest runs only on the few nodes of
            # that kind or shape (ML503's `any` of a `kind: call` and a `kind: dictionary`
            # branch is not dearer than a `not` that searches the whole module for every node)
            cost *= _SELECTIVE
        return cost


# the share of nodes an atomic `kind` or `pattern` lets through to the rest of its object
_SELECTIVE = 0.05

# (stopBy neighbor, end, a rule): how much more a search costs than one test, for `has` (True:
# it walks a subtree) and for the others (ancestors or siblings)
_SEARCH_FACTORS = {True: (3.0, 100.0, 30.0), False: (1.0, 10.0, 5.0)}


def read_utils(utils: Mapping[str, Any] | None) -> dict[str, Node]:
    return {name: Node.read(util) for name, util in (utils or {}).items()}


def potential_kinds(rule: Any, utils: Mapping[str, Node | dict]) -> frozenset[str] | None:
    """The kinds a node matching `rule` (as written) can have; None: any."""
    return Node.read(rule).potential_kinds(utils)


def config_patterns(config: Mapping[str, Any]) -> Iterator[str]:
    """The pattern texts of a rule file's `rule`, `utils` and `constraints`."""
    trees = [Node.read(config.get("rule")), *read_utils(config.get("utils")).values(),
             *read_utils(config.get("constraints")).values()]
    for tree in trees:
        yield from tree.pattern_texts()


def rewrite(rule: Any, change: Callable[[dict, dict], Any]) -> Any:
    """`rule` with every rule object in it rebuilt bottom-up: `change(written, rebuilt)` gets an
    object as written and a copy whose sub-rules are already rewritten, and returns what stands
    in its place. What is not a sub-rule (a pattern object, a field name) is kept as it is."""
    if not isinstance(rule, dict):
        return rule
    rebuilt: dict = {}
    for key, value in rule.items():
        if key in ("all", "any") and isinstance(value, list):
            value = [rewrite(v, change) for v in value]
        elif key in RELATIONAL or key in ("not", "stopBy"):
            value = rewrite(value, change)
        elif key == "nthChild" and isinstance(value, dict) and "ofRule" in value:
            value = {**value, "ofRule": rewrite(value["ofRule"], change)}
        rebuilt[key] = value
    return change(rule, rebuilt)


def rewrite_parts(config: Mapping[str, Any], change: Callable[[dict, dict], Any]) -> dict:
    """`rewrite` applied to a rule file's `rule`, each of its `utils` and `constraints`."""
    out = dict(config)
    if "rule" in config:
        out["rule"] = rewrite(config["rule"], change)
    for key in ("utils", "constraints"):
        if config.get(key):
            out[key] = {name: rewrite(sub, change) for name, sub in config[key].items()}
    return out
