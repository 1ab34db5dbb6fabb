"""Which rules look only at the top-level statement a match is in, and at module-level code.

Such a rule (*block-local*) finds the same matches in a file whose other top-level `def` and
`class` blocks are blanked (`blocks.py`), which lets the engine skip parsing those blocks. The
analysis is conservative, on the rule's YAML:
- `precedes`/`follows` are out: the siblings of a top-level statement are the other blocks;
- an `inside` that may reach the module (its kinds include `module`, or are unknown) may look
  from the module only at module-level code: a `has` of direct children (or one that stops at
  every definition) that cannot match a `def`/`class` itself; no `pattern` or `regex` on the
  module's text;
- everything else (`has`, `inside` a non-module node, `not`, `all`, `any`, utils, constraints)
  stays inside the node it starts from.
A rule that fails any of these keeps every block of every file it may match.
"""

from __future__ import annotations

from memlens.engine.kinds import rule_kinds

DEFINITIONS = frozenset({"function_definition", "class_definition", "decorated_definition"})
_PLAIN_KEYS = frozenset({"kind", "pattern", "regex", "field", "stopBy", "nthChild", "range"})


def block_local(config: dict) -> bool:
    utils = config.get("utils") or {}
    try:
        return _local(config.get("rule"), utils, frozenset()) and all(
            _local(c, utils, frozenset()) for c in (config.get("constraints") or {}).values())
    except RecursionError:
        return False


def _local(rule, utils: dict, seen: frozenset) -> bool:
    """`rule`, applied to a node that is not the module, looks only inside the top-level
    statement the node is in, and at module-level code."""
    if isinstance(rule, list):
        return all(_local(r, utils, seen) for r in rule)
    if not isinstance(rule, dict):
        return True
    for key, value in rule.items():
        if key in _PLAIN_KEYS:
            continue
        if key == "inside":
            kinds = rule_kinds(value, utils) if isinstance(value, dict) else None
            ok = (_module_safe(value, utils, seen) if kinds is None or "module" in kinds
                  else _local(value, utils, seen))
        elif key in ("has", "not", "all", "any"):
            ok = _local(value, utils, seen)
        elif key == "matches":
            ok = value in seen or (value in utils and _local(utils[value], utils, seen | {value}))
        else:  # precedes, follows, anything unknown
            ok = False
        if not ok:
            return False
    return True


def _module_safe(rule, utils: dict, seen: frozenset) -> bool:
    """`rule`, applied to the module node (or to any node), looks only at module-level code."""
    if isinstance(rule, list):
        return all(_module_safe(r, utils, seen) for r in rule)
    if not isinstance(rule, dict):
        return True
    kinds = rule_kinds(rule, utils)
    if kinds is not None and "module" not in kinds:
        return _local(rule, utils, seen)  # it never matches the module itself
    for key, value in rule.items():
        if key in ("kind", "field", "stopBy", "nthChild", "range"):
            continue
        if key == "has":
            ok = _module_level_has(value, utils, seen)
        elif key == "inside":  # the module has no ancestor: only other nodes get here
            ok = _local(value, utils, seen)
        elif key in ("not", "all", "any"):
            ok = _module_safe(value, utils, seen)
        elif key == "matches":
            ok = value in seen or (value in utils
                                   and _module_safe(utils[value], utils, seen | {value}))
        else:  # pattern/regex on the whole module text, precedes, follows, unknown
            ok = False
        if not ok:
            return False
    return True


def _module_level_has(rule, utils: dict, seen: frozenset) -> bool:
    if not isinstance(rule, dict):
        return False
    stop = rule.get("stopBy", "neighbor")
    if stop != "neighbor":
        # only a search that stops at every definition stays in module-level code
        if not DEFINITIONS <= _stop_kinds(stop, utils, seen):
            return False
    kinds = rule_kinds(rule, utils)
    return kinds is not None and kinds.isdisjoint(DEFINITIONS) and _local(
        {k: v for k, v in rule.items() if k != "stopBy"}, utils, seen)


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
