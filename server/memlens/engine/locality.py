"""Which rules look only at the definition a match is in, and at the code around definitions.

Such a rule finds the same matches in a file whose other `def` and `class` blocks are blanked
(`blocks.py`), which lets the engine skip parsing those blocks. Two levels:
- `TOP_LEVEL`: the top-level `def`/`class` blocks; what stays is module-level code;
- `CLASS_BODY`: also the methods (and nested classes) of a top-level class; what stays is
  module-level code and the class's own statements.
The *containers* of a level are the nodes whose children include blanked blocks: the module,
and for `CLASS_BODY` a class and its body (a `block`). The analysis is conservative, on the
rule's YAML:
- `precedes`/`follows` are out: the siblings of a statement may be blanked blocks;
- an `inside` that may reach a container (its kinds include one, or are unknown) may look from
  there only at what stays: a `has` of direct children (or one that stops at every
  definition) that matches neither a definition nor a container itself; no `pattern` or
  `regex` on the container's whole text;
- everything else (`has`, `inside` another node, `not`, `all`, `any`, utils, constraints)
  stays inside the node it starts from.
A rule that fails any of these keeps every block of every file it may match.
"""

from __future__ import annotations

from memlens.engine.kinds import rule_kinds

DEFINITIONS = frozenset({"function_definition", "class_definition", "decorated_definition"})
TOP_LEVEL = frozenset({"module"})
CLASS_BODY = frozenset({"module", "class_definition", "block"})
_PLAIN_KEYS = frozenset({"kind", "pattern", "regex", "field", "stopBy", "nthChild", "range"})


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
    kinds = rule_kinds(rule, utils) if isinstance(rule, dict) else None
    return kinds is None or not kinds.isdisjoint(containers)


class _Check:
    def __init__(self, utils: dict, containers: frozenset[str]):
        self.utils = utils
        self.containers = containers

    def local(self, rule, seen: frozenset) -> bool:
        """`rule`, applied to a node that is not a container, looks only inside the block the
        node is in, and at what stays."""
        if isinstance(rule, list):
            return all(self.local(r, seen) for r in rule)
        if not isinstance(rule, dict):
            return True
        utils = self.utils
        for key, value in rule.items():
            if key in _PLAIN_KEYS:
                continue
            if key == "inside":
                ok = (self.container_safe(value, seen)
                      if may_reach(value, utils, self.containers) else self.local(value, seen))
            elif key in ("has", "not", "all", "any"):
                ok = self.local(value, seen)
            elif key == "matches":
                ok = value in seen or (value in utils
                                       and self.local(utils[value], seen | {value}))
            else:  # precedes, follows, anything unknown
                ok = False
            if not ok:
                return False
        return True

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
        kinds = rule_kinds(rule, utils)
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
