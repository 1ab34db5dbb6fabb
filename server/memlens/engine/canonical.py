"""Rewrite a rule written against canonical names into the names one file actually binds.

Convention for rule authors: in a pattern (and a fix template), a dotted name whose root is a
plain identifier (`numpy.load`, `torch.cuda.empty_cache`, `gc.collect`) is a canonical module path.
For each file it is replaced by every local spelling its imports allow (`np.load`, `load`, ...).
A pattern whose module the file never imports cannot match, so that branch of the rule is dropped,
and a rule left with nothing to match is skipped for that file without walking the tree.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping

# A dotted chain not preceded by a word char, `$` (metavariable) or `.` (attribute of something).
_CHAIN = re.compile(r"(?<![\w$.])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)")
_STRING = re.compile(r"""("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')""")
_NOT_MODULES = {"self", "cls", "super"}
_MAX_ALTERNATIVES = 16


class _Never:
    """A rule that can never match in this file."""

    def __repr__(self) -> str:
        return "NEVER"


class _Always:
    """A rule that always holds in this file (what `not: NEVER` becomes)."""

    def __repr__(self) -> str:
        return "ALWAYS"


NEVER = _Never()
ALWAYS = _Always()

Bindings = Mapping[str, frozenset[str]]


def canonical_chains(text: str) -> list[str]:
    """The canonical dotted names a pattern mentions, outside string literals."""
    return [m.group(1) for _, m in _chain_matches(text)]


def _chain_matches(text: str):
    pos = 0
    for segment in _STRING.split(text):
        if not (segment.startswith(("'", '"'))):
            for m in _CHAIN.finditer(segment):
                if m.group(1).split(".", 1)[0] not in _NOT_MODULES:
                    yield pos, m
        pos += len(segment)


def spellings(chain: str, bindings: Bindings) -> list[str]:
    """Every local spelling of a canonical dotted name, given a file's import bindings."""
    found = set()
    for local, targets in bindings.items():
        for target in targets:
            if chain == target or chain.startswith(target + "."):
                found.add(local + chain[len(target) :])
    return sorted(found)


def rewrite_text(text: str, bindings: Bindings) -> list[str]:
    """All local spellings of a pattern; empty when a module it names is not imported."""
    matches = list(_chain_matches(text))
    if not matches:
        return [text]
    choices = []
    for _, m in matches:
        options = spellings(m.group(1), bindings)
        if not options:
            return []
        choices.append(options)
    results = []
    for combo in itertools.islice(itertools.product(*choices), _MAX_ALTERNATIVES):
        out, last = [], 0
        for (offset, m), replacement in zip(matches, combo, strict=True):
            out.append(text[last : offset + m.start(1)])
            out.append(replacement)
            last = offset + m.end(1)
        out.append(text[last:])
        results.append("".join(out))
    return results


_RELATIONAL = ("inside", "has", "follows", "precedes")


def rewrite_rule(rule, bindings: Bindings, utils: Mapping[str, object] | None = None):
    """Rewrite one ast-grep rule object. Returns a rule, NEVER or ALWAYS."""
    utils = utils or {}
    if not isinstance(rule, dict):
        return rule
    out: dict = {}
    extra_all: list = []
    for key, value in rule.items():
        if key == "pattern":
            context = value["context"] if isinstance(value, dict) else value
            variants = rewrite_text(context, bindings)
            if not variants:
                return NEVER
            if isinstance(value, dict):
                variants = [{**value, "context": v} for v in variants]
            if len(variants) == 1:
                out["pattern"] = variants[0]
            else:
                extra_all.append({"any": [{"pattern": v} for v in variants]})
        elif key == "any":
            kept = []
            for sub in value:
                r = rewrite_rule(sub, bindings, utils)
                if r is ALWAYS:
                    kept = None
                    break
                if r is not NEVER:
                    kept.append(r)
            if kept is None:
                continue  # one branch always holds: the `any` adds no condition
            if not kept:
                return NEVER
            out["any"] = kept
        elif key == "all":
            kept = []
            for sub in value:
                r = rewrite_rule(sub, bindings, utils)
                if r is NEVER:
                    return NEVER
                if r is not ALWAYS:
                    kept.append(r)
            if kept:
                out["all"] = kept
        elif key == "not":
            r = rewrite_rule(value, bindings, utils)
            if r is ALWAYS:
                return NEVER
            if r is not NEVER:
                out["not"] = r
        elif key in _RELATIONAL:
            r = rewrite_rule(value, bindings, utils)
            if r is NEVER:
                return NEVER
            if r is ALWAYS:
                r = {"regex": ""}  # still needs some node there; any node will do
            stop = r.get("stopBy") if isinstance(r, dict) else None
            if isinstance(stop, dict):
                stop_rule = rewrite_rule(stop, bindings, utils)
                r = {**r, "stopBy": "end" if stop_rule is NEVER else stop_rule}
            out[key] = r
        elif key == "matches":
            if utils.get(value) is NEVER:
                return NEVER
            out[key] = value
        else:
            out[key] = value
    if extra_all:
        out["all"] = extra_all + out.get("all", [])
    if not out:
        return ALWAYS
    return out


def rewrite_config(config: Mapping, bindings: Bindings):
    """Rewrite a whole ast-grep config (rule, utils, constraints); NEVER if it cannot match."""
    utils = {}
    for name, util in (config.get("utils") or {}).items():
        utils[name] = rewrite_rule(util, bindings, utils)
    rule = rewrite_rule(config["rule"], bindings, utils)
    if rule is NEVER or rule is ALWAYS:
        return NEVER
    out = {"rule": rule}
    kept_utils = {k: v for k, v in utils.items() if v is not NEVER}
    for name, value in kept_utils.items():
        if value is ALWAYS:
            kept_utils[name] = {"regex": ""}
    if kept_utils:
        out["utils"] = kept_utils
    constraints = {}
    for var, cons in (config.get("constraints") or {}).items():
        r = rewrite_rule(cons, bindings, utils)
        if r is NEVER:
            return NEVER
        if r is not ALWAYS:
            constraints[var] = r
    if constraints:
        out["constraints"] = constraints
    if config.get("transform"):
        out["transform"] = config["transform"]
    return out
