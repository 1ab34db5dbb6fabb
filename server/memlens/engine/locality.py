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

from memlens.engine.ruletree import potential_kinds

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
        return check.local(config.get("rule"), frozenset()) and all(
            check.local(c, frozenset()) for c in (config.get("constraints") or {}).values())
    except RecursionError:
        return False


def may_reach(rule, utils: dict, containers: frozenset[str]) -> bool:
    """Whether `rule` (an `inside` target) may match one of the containers."""
    kinds = potential_kinds(rule, utils) if isinstance(rule, dict) else None
    return kinds is None or not kinds.isdisjoint(containers)


class _Check:
    def __init__(self, utils: dict, containers: frozenset[str]):
        self.utils = utils
        self.containers = containers

    def local(self, rule, seen: frozenset, nested: bool = False) -> bool:
        """`rule`, applied to a node that is not a container, looks only inside the block the
        node is in, and at what stays. `nested`: the node is known to lie inside a compound
        statement or a function (so its siblings are never blanked blocks)."""
        if isinstance(rule, list):
            return all(self.local(r, seen, nested) for r in rule)
        if not isinstance(rule, dict):
            return True
        utils = self.utils
        nested = nested or self._nests(rule, seen)
        for key, value in rule.items():
            if key in _PLAIN_KEYS:
                continue
            if key == "inside":
                if nested and isinstance(value, dict) and "stopBy" not in value:
                    # the parent of a nested node is the compound statement or function it is
                    # in, or lies inside it: not a container (nor known to be nested itself)
                    ok = self.local(value, seen)
                elif may_reach(value, utils, self.containers):
                    ok = self.container_safe(value, seen)
                else:
                    ok = self.local(value, seen)
            elif key in ("has", "not", "all", "any"):  # the node itself, or below it
                ok = self.local(value, seen, nested)
            elif key == "matches":
                ok = value in seen or (value in utils
                                       and self.local(utils[value], seen | {value}, nested))
            elif key in ("precedes", "follows"):
                ok = self._siblings(value, seen, nested)
            else:  # anything unknown
                ok = False
            if not ok:
                return False
        return True

    def _nests(self, rule: dict, seen: frozenset) -> bool:
        """Whether `rule` puts its node inside a compound statement or a function: an `inside`
        among its own conjuncts whose kinds are all such."""
        conjuncts = [rule, *(r for r in rule.get("all") or () if isinstance(r, dict))]
        for conjunct in conjuncts:
            target = conjunct.get("inside")
            kinds = potential_kinds(target, self.utils) if isinstance(target, dict) else None
            if kinds and kinds <= _NESTING:
                return True
        return False

    def _siblings(self, rule, seen: frozenset, nested: bool) -> bool:
        """A `precedes`/`follows`: the siblings of a nested node are never blanked blocks; those
        of a top-level or class-body statement may be, which changes nothing only for a search
        through every sibling (`stopBy: end`) for something that is not a definition."""
        if nested:
            return self.local(rule, seen, True)
        if not isinstance(rule, dict) or rule.get("stopBy") != "end":
            return False
        kinds = potential_kinds(rule, self.utils)
        return kinds is not None and kinds.isdisjoint(DEFINITIONS) and self.local(
            {k: v for k, v in rule.items() if k != "stopBy"}, seen)

    def container_safe(self, rule, seen: frozenset) -> bool:
        """`rule`, applied to a container (or to any node), looks only at what stays."""
        if isinstance(rule, list):
            return all(self.container_safe(r, seen) for r in rule)
        if not isinstance(rule, dict):
            return True
        utils = self.utils
        if not may_reach(rule, utils, self.containers):
            return self.local(rule, seen)  # it never matches a container itself
        for key, value in rule.items():
            if key in ("kind", "field", "stopBy", "nthChild", "range"):
                continue
            if key == "has":
                ok = self._has_of_container(value, seen)
            elif key == "inside":  # from a container, ancestors are containers or stay
                ok = self.container_safe(value, seen)
            elif key in ("not", "all", "any"):
                ok = self.container_safe(value, seen)
            elif key == "matches":
                ok = value in seen or (value in utils
                                       and self.container_safe(utils[value], seen | {value}))
            else:  # pattern/regex on the whole container's text, precedes, follows, unknown
                ok = False
            if not ok:
                return False
        return True

    def _has_of_container(self, rule, seen: frozenset) -> bool:
        if not isinstance(rule, dict):
            return False
        utils = self.utils
        stop = rule.get("stopBy", "neighbor")
        # only a search that stops at every definition stays out of the blanked blocks
        if stop != "neighbor" and not DEFINITIONS <= _stop_kinds(stop, utils, seen):
            return False
        kinds = potential_kinds(rule, utils)
        return kinds is not None and kinds.isdisjoint(DEFINITIONS | self.containers) and \
            self.local({k: v for k, v in rule.items() if k != "stopBy"}, seen)


def _stop_kinds(rule, utils: dict, seen: frozenset) -> frozenset[str]:
    """The kinds a stop rule stops at whatever the node: `{kind: K}`, an `any` of those, or a
    util that is one."""
    if not isinstance(rule, dict) or len(rule) != 1:
        return frozenset()
    if "kind" in rule:
        return frozenset([rule["kind"]])
    if isinstance(rule.get("any"), list):
        return frozenset().union(*(_stop_kinds(r, utils, seen) for r in rule["any"]))
    name = rule.get("matches")
    if name in utils and name not in seen:
        return _stop_kinds(utils[name], utils, seen | {name})
    return frozenset()
