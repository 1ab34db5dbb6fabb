"""Which rules look only at the definition a match is in, and at the code around definitions.

Such a rule finds the same matches in a file whose other `def` and `class` blocks are blanked
(`blocks.py`), which lets the engine skip parsing those blocks. Two levels:
- `TOP_LEVEL`: the top-level `def`/`class` blocks; what stays is module-level code;
- `CLASS_BODY`: also the methods (and nested classes) of a top-level class; what stays is
  module-level code and the class's own statements.
The *containers* of a level are the nodes whose children include blanked blocks: the module,
and for `CLASS_BODY` a class and its body (a `block`). The analysis is conservative, on the
rule's YAML:
- `precedes`/`follows` look at siblings, which may be blanked blocks: allowed for a node the
  rule puts inside a loop, `if`, `with`, `try` or function (its siblings stay), or for a
  search through every sibling (`stopBy: end`) for something that is not a definition;
- an `inside` that may reach a container (its kinds include one, or are unknown) may look from
  there only at what stays: a `has` of direct children (or one that stops at every
  definition) that matches neither a definition nor a container itself; no `pattern` or
  `regex` on the container's whole text;
- everything else (`has`, `inside` another node, `not`, `all`, `any`, utils, constraints)
  stays inside the node it starts from.
A rule that fails any of these keeps every block of every file it may match.
"""

from __future__ import annotations

from memlens.engine.ruletree import Node

DEFINITIONS = frozenset({"function_definition", "class_definition", "decorated_definition"})
TOP_LEVEL = frozenset({"module"})
CLASS_BODY = frozenset({"module", "class_definition", "block"})
_PLAIN_KEYS = frozenset({"kind", "pattern", "regex", "field", "stopBy", "nthChild", "range"})
# Nodes whose descendants are never a top-level or class-body statement: a node inside one of
# these has siblings that stay.
_NESTING = frozenset({"for_statement", "while_statement", "if_statement", "with_statement",
                      "try_statement", "function_definition", "lambda"})


def block_local(config: dict, containers: frozenset[str] = TOP_LEVEL) -> bool:
    utils = config.get("utils") or {}
    check = _Check(utils, containers)
    try:
        return check.local(Node.read(config.get("rule")), frozenset()) and all(
            check.local(Node.read(c), frozenset())
            for c in (config.get("constraints") or {}).values())
    except RecursionError:
        return False


def may_reach(rule, utils: dict, containers: frozenset[str]) -> bool:
    """Whether `rule` (an `inside` target, as written or read) may match one of the
    containers."""
    node = rule if isinstance(rule, Node) else Node.read(rule)
    kinds = node.potential_kinds(utils) if isinstance(node.raw, dict) else None
    return kinds is None or not kinds.isdisjoint(containers)


def _subrules(node: Node, key: str) -> tuple[Node, ...]:
    """The rule objects under one key of `node`, read from the tree (a list for `all`/`any`, the
    related node's rule for a relation; a value the tree does not model, read as written)."""
    for name, relation in node.relations:
        if name == key:
            return (relation.rule,)
    if key in ("all", "any"):
        listed = node.all if key == "all" else node.any
        if listed is not None:
            return listed
    if key == "not" and node.not_ is not None:
        return (node.not_,)
    value = node.raw[key]
    return tuple(Node.read(v) for v in value) if isinstance(value, list) else (Node.read(value),)


def _without_stop(node: Node) -> Node:
    return Node.read({k: v for k, v in node.raw.items() if k != "stopBy"})


class _Check:
    def __init__(self, utils: dict, containers: frozenset[str]):
        self.utils = utils
        self.containers = containers

    def _util(self, name) -> Node:
        return Node.read(self.utils[name])

    def local(self, node: Node, seen: frozenset, nested: bool = False) -> bool:
        """`node`'s rule, applied to a node that is not a container, looks only inside the
        block the node is in, and at what stays. `nested`: the node is known to lie inside a
        compound statement or a function (so its siblings are never blanked blocks)."""
        if not isinstance(node.raw, dict):
            return True
        nested = nested or self._nests(node)
        for key in node.raw:
            if key in _PLAIN_KEYS:
                continue
            if key == "inside":
                (target,) = _subrules(node, key)
                if nested and isinstance(target.raw, dict) and "stopBy" not in target.raw:
                    # the parent of a nested node is the compound statement or function it is
                    # in, or lies inside it: not a container (nor known to be nested itself)
                    ok = self.local(target, seen)
                elif may_reach(target, self.utils, self.containers):
                    ok = self.container_safe(target, seen)
                else:
                    ok = self.local(target, seen)
            elif key in ("has", "not", "all", "any"):  # the node itself, or below it
                ok = all(self.local(sub, seen, nested) for sub in _subrules(node, key))
            elif key == "matches":
                name = node.raw[key]
                ok = name in seen or (name in self.utils and self.local(
                    self._util(name), seen | {name}, nested))
            elif key in ("precedes", "follows"):
                (sibling,) = _subrules(node, key)
                ok = self._siblings(sibling, seen, nested)
            else:  # anything unknown
                ok = False
            if not ok:
                return False
        return True

    def _nests(self, node: Node) -> bool:
        """Whether `node` puts its match inside a compound statement or a function: an
        `inside` among its own conjuncts whose kinds are all such."""
        conjuncts = [node, *(n for n in node.all or () if isinstance(n.raw, dict))]
        for conjunct in conjuncts:
            for name, relation in conjunct.relations:
                if name == "inside":
                    kinds = relation.rule.potential_kinds(self.utils)
                    if kinds and kinds <= _NESTING:
                        return True
        return False

    def _siblings(self, node: Node, seen: frozenset, nested: bool) -> bool:
        """A `precedes`/`follows`: the siblings of a nested node are never blanked blocks; those
        of a top-level or class-body statement may be, which changes nothing only for a search
        through every sibling (`stopBy: end`) for something that is not a definition."""
        if nested:
            return self.local(node, seen, True)
        if not isinstance(node.raw, dict) or node.raw.get("stopBy") != "end":
            return False
        kinds = node.potential_kinds(self.utils)
        return kinds is not None and kinds.isdisjoint(DEFINITIONS) and self.local(
            _without_stop(node), seen)

    def container_safe(self, node: Node, seen: frozenset) -> bool:
        """`node`'s rule, applied to a container (or to any node), looks only at what stays."""
        if not isinstance(node.raw, dict):
            return True
        if not may_reach(node, self.utils, self.containers):
            return self.local(node, seen)  # it never matches a container itself
        for key in node.raw:
            if key in ("kind", "field", "stopBy", "nthChild", "range"):
                continue
            if key == "has":
                (below,) = _subrules(node, key)
                ok = self._has_of_container(below, seen)
            elif key in ("inside", "not", "all", "any"):
                # from a container, ancestors are containers or stay
                ok = all(self.container_safe(sub, seen) for sub in _subrules(node, key))
            elif key == "matches":
                name = node.raw[key]
                ok = name in seen or (name in self.utils and self.container_safe(
                    self._util(name), seen | {name}))
            else:  # pattern/regex on the whole container's text, precedes, follows, unknown
                ok = False
            if not ok:
                return False
        return True

    def _has_of_container(self, node: Node, seen: frozenset) -> bool:
        if not isinstance(node.raw, dict):
            return False
        stop = node.raw.get("stopBy", "neighbor")
        # only a search that stops at every definition stays out of the blanked blocks
        if stop != "neighbor" and not DEFINITIONS <= _stop_kinds(stop, self.utils, seen):
            return False
        kinds = node.potential_kinds(self.utils)
        return kinds is not None and kinds.isdisjoint(DEFINITIONS | self.containers) and \
            self.local(_without_stop(node), seen)


def _stop_kinds(rule, utils: dict, seen: frozenset) -> frozenset[str]:
    """The kinds a stop rule stops at whatever the node: `{kind: K}`, an `any` of those, or a
    util that is one."""
    node = rule if isinstance(rule, Node) else Node.read(rule)
    if not isinstance(node.raw, dict) or len(node.raw) != 1:
        return frozenset()
    if node.kind is not None:
        return frozenset([node.kind])
    if node.any is not None:
        return frozenset().union(*(_stop_kinds(n, utils, seen) for n in node.any))
    name = node.matches
    if name in utils and name not in seen:
        return _stop_kinds(utils[name], utils, seen | {name})
    return frozenset()
