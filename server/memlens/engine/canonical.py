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

from memlens.engine.ruletree import RELATIONAL, rewrite

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


def rewrite_rule(rule, bindings: Bindings, utils: Mapping[str, object] | None = None,
                 dropped: list | None = None):
    """Rewrite one ast-grep rule object for a file's imports: each pattern spelled the ways the
    file can spell its dotted names. Returns a rule, NEVER (it cannot match in this file) or
    ALWAYS (it holds for every node). Every rule object is rebuilt bottom-up through the rule
    tree (`ruletree.rewrite`), so a sub-rule arrives here already rewritten, or as a sentinel.
    `dropped` (a list) gets an item for each `any` that loses a branch that cannot match: the
    rule then asks for more of the text than the one written did."""
    utils = utils or {}

    def respell(written: dict, rebuilt: dict):
        out: dict = {}
        extra_all: list = []
        for key, value in rebuilt.items():
            if key == "pattern":
                context = value["context"] if isinstance(value, dict) else value
                variants: list = rewrite_text(context, bindings)
                if not variants:
                    return NEVER
                if isinstance(value, dict):
                    variants = [{**value, "context": v} for v in variants]
                if len(variants) == 1:
                    out["pattern"] = variants[0]
                else:
                    extra_all.append({"any": [{"pattern": v} for v in variants]})
            elif key == "any":
                if any(r is ALWAYS for r in value):
                    continue  # one branch always holds: the `any` adds no condition
                kept = [r for r in value if r is not NEVER]
                if not kept:
                    return NEVER
                if dropped is not None and len(kept) < len(value):
                    dropped.append(key)
                out["any"] = kept
            elif key == "all":
                if any(r is NEVER for r in value):
                    return NEVER
                kept = [r for r in value if r is not ALWAYS]
                if kept:
                    out["all"] = kept
            elif key == "not":
                if value is ALWAYS:
                    return NEVER
                if value is not NEVER:
                    out["not"] = value
            elif key in RELATIONAL:
                if value is NEVER:
                    return NEVER
                if value is ALWAYS:
                    value = {"regex": ""}  # still needs some node there; any node will do
                elif isinstance(value, dict) and value.get("stopBy") is NEVER:
                    value = {**value, "stopBy": "end"}  # a stop that never comes: to the end
                out[key] = value
            elif key == "matches":
                if utils.get(value) is NEVER:
                    return NEVER
                out[key] = value
            elif key == "nthChild":
                out[key] = written[key]  # its `ofRule` counts siblings: kept as written
            else:
                out[key] = value
        if extra_all:
            out["all"] = extra_all + out.get("all", [])
        if not out:
            return ALWAYS
        return out

    return rewrite(rule, respell)


def rewrite_config(config: Mapping, bindings: Bindings, dropped: list | None = None):
    """Rewrite a whole ast-grep config (rule, utils, constraints); NEVER if it cannot match.
    `dropped`: as for `rewrite_rule`."""
    utils: dict[str, object] = {}
    for name, util in (config.get("utils") or {}).items():
        utils[name] = rewrite_rule(util, bindings, utils, dropped)
    rule = rewrite_rule(config["rule"], bindings, utils, dropped)
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
