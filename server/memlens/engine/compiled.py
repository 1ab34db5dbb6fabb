"""Rules as the engine runs them: each rule compiled once (faster regexes, utils renamed for
the combined pass, cheapest conditions first), with what it needs of a file's text, of its
module and of its blocks, derived on first use from the rule tree."""

from __future__ import annotations

import enum
from typing import cast

from ast_grep_py import Config, SgNode, SgRoot

from memlens.engine.canonical import NEVER, canonical_chains, rewrite_config
from memlens.engine.imports import import_bindings
from memlens.engine.locality import block_local
from memlens.engine.prefilter import Condition, block_condition, rule_condition
from memlens.engine.rulebook import Rule
from memlens.engine.ruletree import (
    ATOMIC,
    COMPOSITE,
    METAVAR,
    RELATION_OPTIONS,
    RELATIONAL,
    Node,
    config_patterns,
    read_utils,
    rewrite,
    rewrite_parts,
)


class _Unset(enum.Enum):
    """Not derived yet (None is a value `kinds` can have)."""

    UNSET = enum.auto()


class CompiledRule:
    """A rule as the engine runs it. What costs time to derive is derived on first use, so that
    a run that checks a few files pays only for the rules those files need."""

    __slots__ = ("rule", "roots", "chains", "condition", "_relevant", "_config", "_kinds",
                 "_compile_ms", "_local")
    _UNSET = _Unset.UNSET
    _config: dict | _Unset
    _kinds: frozenset[str] | None | _Unset
    _compile_ms: float | _Unset

    def __init__(self, rule: Rule):
        self.rule = rule
        # canonical module roots its patterns name: what its rewrite depends on
        # the canonical dotted names its patterns mention
        self.chains: frozenset[str] = frozenset(
            c for text in config_patterns(rule.config) for c in canonical_chains(text))
        self.roots: frozenset[str] = frozenset(c.split(".", 1)[0] for c in self.chains)
        # binding -> whether it can spell one of the chains (see `relevant`)
        self._relevant: dict[tuple, bool] = {}
        # what the text of every file it can match holds (None: nothing known)
        self.condition = rule_condition(rule.config, rule.prefilter)
        self._config = self._kinds = self._compile_ms = self._UNSET
        self._local: dict[frozenset[str], bool] = {}

    @property
    def config(self) -> dict:
        """rule.config with faster-compiling regexes."""
        if self._config is self._UNSET:
            self._config = _prefixed_utils(
                cheap_first_config(_fast_regexes(self.rule.config)), f"{self.rule.id}__")
        return self._config

    def relevant(self, item: tuple) -> bool:
        """Whether a binding `(local name, canonical targets)` gives a spelling of one of the
        rule's canonical chains (`spellings`: the chain is a target or lies below one). Other
        bindings leave the rewrite unchanged, so they stay out of the variant cache key."""
        found = self._relevant.get(item)
        if found is None:
            found = any(chain == target or chain.startswith(target + ".")
                        for target in item[1] for chain in self.chains)
            if len(self._relevant) > 2048:  # (one a binding seen: a fuzzer sees many)
                self._relevant.clear()
            self._relevant[item] = found
        return found

    @property
    def kinds(self) -> frozenset[str] | None:
        """Node kinds a match can have (None: unknown). After the combined pass, a rule runs
        only when the pass found a node of one of its kinds."""
        if self._kinds is self._UNSET:
            self._kinds = checked_kinds(self.rule, check=self.rule.checked)
        return self._kinds

    def local(self, level: frozenset[str]) -> bool:
        """Whether it looks only at the definition a match is in and at the code around the
        definitions of `level` (`locality.py`): then the other definitions need no parse. (A
        rule with a lookup or data-flow conditions never is: they read the whole file.)"""
        found = self._local.get(level)
        if found is None:
            found = self._local[level] = self.rule.lookup is None and \
                self.rule.flow is None and self.rule.evidence is None and \
                self.rule.size is None and block_local(
                self.rule.config, level)
        return found

    @property
    def compile_ms(self) -> float:
        """What ast-grep takes to compile it: paid on every search call."""
        if self._compile_ms is self._UNSET:
            self._compile_ms = _compile_ms(self.config)
        return self._compile_ms


def lookup_utils(config: dict, rule: Rule) -> dict:
    """The variant's utils under the names the rule's lookup uses (the engine prefixes a rule's
    utils with its id, so that rules combined in one pass do not clash)."""
    utils = config.get("utils") or {}
    prefix = f"{rule.id}__"
    return {**utils, **{name[len(prefix):]: util for name, util in utils.items()
                        if name.startswith(prefix)}}


def block_condition_at(compiled: CompiledRule, config: dict,
                     level: frozenset[str]) -> Condition | None:
    """What a rule variant needs of a block's text at `level`; None: it may need every block
    (not local at that level, or nothing known)."""
    return block_condition(config, level) if compiled.local(level) else None


def implied_constraints(config) -> list[dict]:
    constraints = config.get("constraints") or {}
    if not constraints:
        return []
    direct, multi, lone = Node.read(config["rule"]).direct_metavariables()
    out = []
    for var, rule in constraints.items():
        if var not in direct or var in multi or not isinstance(rule, dict):
            continue
        if set(rule) == {"not"}:
            continue  # "some node below is not X" narrows nothing: not worth compiling
        if METAVAR.search(repr(rule)) or "stopBy" in rule or "field" in rule:
            continue  # its own metavariables could clash with the rule's
        below = {"has": {**rule, "stopBy": "end"}}
        out.append({"any": [rule, below]} if var in lone else below)
    return out


def without_negations(config: dict, ids: set[int]) -> dict:
    """`config` without the `not` (and `inside`) conditions whose value objects are `ids` (from
    an `all` or `any` list, or as a key of a rule object): conditions on the module that hold
    for every node of the file once its root was checked."""
    def dropped(item) -> bool:
        return isinstance(item, dict) and len(item) == 1 and \
            next(iter(item)) in ("not", "inside") and id(next(iter(item.values()))) in ids

    def prune(written: dict, rebuilt: dict) -> dict:
        for key in ("not", "inside"):
            if key in written and id(written[key]) in ids:
                del rebuilt[key]
        for key in ("all", "any"):
            if isinstance(written.get(key), list):
                rebuilt[key] = [new for old, new in zip(written[key], rebuilt[key], strict=True)
                                if not dropped(old)]
        return rebuilt

    out = dict(config)
    out["rule"] = rewrite(config["rule"], prune) or {"regex": ""}  # an emptied rule: every node
    if config.get("utils"):
        out["utils"] = {name: rewrite(util, prune) or {"regex": ""}
                        for name, util in config["utils"].items()}
    return out


def module_conditions(rule, utils, seen=frozenset()) -> list[tuple[dict, bool, int | None]]:
    """Conditions the module itself must meet for `rule` to match anywhere in it, as (rule for
    the module node, whether it must match): each `inside: {kind: module, ...}` among the
    rule's own conjuncts (its keys, `all` items, the utils it `matches`), and each
    `not: {inside: {kind: module, ...}}` there. The module is the root, the one node of its
    kind, so such an `inside` holds only if the root matches `{kind: module, ...}`.
    - `inside`: with the rule's other metavariables left free the check is weaker still, hence
      necessary, unless it holds a `not` that names a metavariable (an unbound one makes a `not`
      stricter, not weaker);
    - `not inside`: only when it names no metavariable, so that no binding can change it, and
      searches up to the root (`stopBy: end`, no `field`): it then fails exactly when the root
      matches.
    A `matches` inside the check is left out (`SgNode.matches` takes no utils). The third item
    is the identity of the condition's value when the root's check settles it for every node
    (a `not inside` always; an `inside` written without metavariables or `field`, up to the
    root), for `without_negations`; else None."""
    if not isinstance(rule, dict):
        return []
    out = []
    for key, value in rule.items():
        if key == "all" and isinstance(value, list):
            for sub in value:
                out += module_conditions(sub, utils, seen)
        elif key == "matches" and value in utils and value not in seen:
            out += module_conditions(utils[value], utils, seen | {value})
        elif key in ("inside", "not"):
            want = key == "inside"
            inside = value if want else value.get("inside") if isinstance(value, dict) and \
                set(value) == {"inside"} else None
            if not isinstance(inside, dict) or not _is_module_rule(inside):
                continue
            check = {k: v for k, v in inside.items() if k not in ("stopBy", "field")}
            tree = Node.read(check)
            # reaching the root as written, with no metavariable a binding could change: the
            # root's check decides it for every node of the file, and the rule drops it
            exact = not METAVAR.search(repr(check)) and "field" not in inside \
                and inside.get("stopBy") == "end"
            if check == {"kind": "module"} or tree.mentions_util() \
                    or (want and not exact and tree.cost({}) > 1000):
                # nothing to check, or (for an `inside`, which stays in the rule) a search of
                # the whole module that would only be repeated; a `not inside` that settles is
                # dropped from the rule, so one search per file replaces one per candidate node
                continue
            if want and any(METAVAR.search(repr(n.raw)) for n in tree.negated()):
                continue
            if not want and not exact:
                continue  # the `inside` must reach the root, exactly as written
            out.append((check, want, id(value) if exact else None))
    return out


def _is_module_rule(rule: dict) -> bool:
    """Whether `rule` matches only a module node (its `kind`, or the first item of its `all`
    once `_cheap_first` has moved the atomic keys there)."""
    if rule.get("kind") == "module":
        return True
    first = (rule.get("all") or [None])[0] if isinstance(rule.get("all"), list) else None
    return isinstance(first, dict) and first.get("kind") == "module"


def _prefixed_utils(config: dict, prefix: str) -> dict:
    """`config` with its utils renamed `prefix + name` (so that the utils of several rules can
    be merged into one combined config without clashing)."""
    names = set(config.get("utils") or ())
    if not names:
        return config

    def renamed(written: dict, rebuilt: dict) -> dict:
        if rebuilt.get("matches") in names:
            rebuilt["matches"] = prefix + rebuilt["matches"]
        return rebuilt

    out = rewrite_parts(config, renamed)
    out["utils"] = {prefix + name: util for name, util in out["utils"].items()}
    return out


# --- compiling rules faster ---------------------------------------------------------------

_TINY = None
_FAST_REGEX: dict[str, str] = {}


def _tiny_root() -> SgNode:
    global _TINY
    if _TINY is None:
        _TINY = SgRoot("x = 1\n", "python").root()
    return _TINY


def _matches_any_byte(regex: str) -> bool:
    """Whether ASCII mode would reject the regex (it could match invalid UTF-8): a `.` outside
    a class, a negated class, or `\\W`, `\\D`, `\\S`. Such a regex is not even tried:
    ast-grep's failed compile of one held on to ~50 MiB."""
    in_class = False
    i = 0
    while i < len(regex):
        c = regex[i]
        if c == "\\":
            if regex[i + 1:i + 2] in ("W", "D", "S"):
                return True
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            if regex[i + 1:i + 2] == "^":
                return True
            in_class = True
            if regex[i + 1:i + 2] == "]":
                i += 1  # `[]...]`: a literal `]` first
        elif c == ".":
            return True
        i += 1
    return False


def _fast_regex(regex: str) -> str:
    """ast-grep compiles every regex of a rule again on every search call, and Unicode-aware
    classes (`\\w`, `\\b`, `(?i)`) make that slow (~0.3-1 ms each: more than searching a
    file). Source identifiers are ASCII in practice, so an ASCII regex (`(?-u)`) matches the same
    nodes for a tenth of the cost. A regex that ASCII mode rejects is kept as it is."""
    fast = _FAST_REGEX.get(regex)
    if fast is None:
        fast = regex
        if regex.isascii() and not regex.startswith("(?-u)") and \
                not _matches_any_byte(regex):
            try:
                _tiny_root().find_all({"rule": {"regex": "(?-u)" + regex}})
                fast = "(?-u)" + regex
            except Exception:  # e.g. `[^x]` or `.`, which could match invalid UTF-8 in ASCII mode
                fast = regex
        _FAST_REGEX[regex] = fast
    return fast


def _fast_regexes(config: dict) -> dict:
    def faster(written: dict, rebuilt: dict) -> dict:
        if isinstance(rebuilt.get("regex"), str):
            rebuilt["regex"] = _fast_regex(rebuilt["regex"])
        return rebuilt

    return rewrite_parts(config, faster)


def _compile_ms(config: dict) -> float:
    import time

    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        try:
            _tiny_root().find_all(cast(Config, config))
        except Exception:
            return 0.1
        best = min(best, (time.perf_counter() - start) * 1000)
    return best


# --- evaluating cheap conditions first -----------------------------------------------------
#
# ast-grep evaluates the keys of a rule object in a fixed order: atomic (pattern, kind, regex,
# nthChild, range), then composite (all, any, not, matches), then relational (inside, has,
# precedes, follows), stopping at the first that fails; an `all` list runs in its order. So a
# `not` or `any` that searches the whole module runs for every node of the rule's kind, even
# when a cheap `has` right after it would have rejected the node (ML601: 22 ms instead of
# 1.3 ms on a 2,000-line file). The engine therefore runs a rule object's conditions as an
# `all`, cheapest first. Two conditions only swap when they share no metavariable: neither can
# then see a binding of the other, so each holds or fails whatever the order, and the result is
# the same.



def _cheap_first(rule, util_vars: dict, util_cost: dict):
    """`rule` with every rule object's conditions reordered cheapest first, where that cannot
    change what matches (see above)."""
    return rewrite(rule, lambda written, rebuilt: _reordered(rebuilt, util_vars, util_cost))


def _reordered(rule: dict, util_vars: dict, util_cost: dict) -> dict:
    """One rule object's conditions, cheapest first: the relation options, then the atomic
    keys, then the composite and relational conditions (an explicit `all` spread among them)."""
    options = {k: rule[k] for k in RELATION_OPTIONS if k in rule}
    atomic = {k: rule[k] for k in ATOMIC if k in rule}
    parts = [{k: rule[k]} for k in COMPOSITE + RELATIONAL if k in rule]
    if len(options) + len(atomic) + len(parts) != len(rule):
        return rule  # a key this does not know: leave the object as ast-grep reads it
    if "all" in rule and isinstance(rule["all"], list):
        # an explicit `all` runs after the atomic keys and before the other conditions
        i = parts.index({"all": rule["all"]})
        parts[i:i + 1] = rule["all"]
    if len(parts) < 2:
        return rule
    ordered = _sorted_safely(parts, util_vars, util_cost)
    if ordered == parts and "all" not in rule:
        return rule
    items = ([atomic] if atomic else []) + ordered
    return {**options, "all": items}


def _sorted_safely(parts: list, util_vars: dict, util_cost: dict) -> list:
    trees = [Node.read(p) for p in parts]
    costs = [t.cost(util_cost) for t in trees]
    vars_ = [t.metavariables(util_vars) for t in trees]
    items = list(zip(costs, vars_, range(len(parts)), strict=True))
    # insertion sort: an item moves before another only when it is cheaper and shares no
    # metavariable with it
    for i in range(1, len(items)):
        j = i
        while j > 0 and items[j][0] < items[j - 1][0] and not (items[j][1] & items[j - 1][1]):
            items[j - 1], items[j] = items[j], items[j - 1]
            j -= 1
    return [parts[k] for _, _, k in items]


def cheap_first_config(config: dict) -> dict:
    utils = config.get("utils") or {}
    trees = read_utils(utils)
    util_vars: dict[str, frozenset[str]] = {name: frozenset() for name in utils}
    for _ in range(len(utils) + 1):  # to a fixpoint through utils that use utils
        util_vars = {name: t.metavariables(util_vars) for name, t in trees.items()}
    util_cost: dict[str, float] = {}
    for _ in range(len(utils) + 1):
        util_cost = {name: t.cost(util_cost) for name, t in trees.items()}
    out = dict(config)
    out["rule"] = _cheap_first(config["rule"], util_vars, util_cost)
    if utils:
        out["utils"] = {name: _cheap_first(util, util_vars, util_cost)
                        for name, util in utils.items()}
    return out


def checked_kinds(rule: Rule, check: bool = True) -> frozenset[str] | None:
    """The kinds a rule can match, cross-checked on its own `invalid:` snippets (`check`): any
    doubt, and the rule runs on every file that its text condition lets through."""
    try:
        kinds = Node.read(rule.config["rule"]).potential_kinds(rule.config.get("utils") or {})
    except Exception:
        return None
    if kinds is None or not check:
        return kinds
    bindings_cache: dict[str, dict[str, frozenset[str]]] = {}
    for snippet in rule.invalid:
        try:
            bindings = bindings_cache.setdefault(snippet, import_bindings(snippet))
            config = rewrite_config(rule.config, bindings)
            if config is NEVER:
                continue
            for node in SgRoot(snippet, "python").root().find_all(config):
                if node.kind() not in kinds:
                    return None
        except Exception:
            return None
    return kinds
