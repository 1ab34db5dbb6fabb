"""The engine: one parse per file, import-aware rule matching, fixes and suppression."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from ast_grep_py import SgNode, SgRoot

from memlens.engine import suppression
from memlens.engine.blocks import blanked
from memlens.engine.canonical import NEVER, canonical_chains, rewrite_config
from memlens.engine.config import Settings
from memlens.engine.context import imports_test_framework, is_test_path, mentions_test_framework
from memlens.engine.edits import apply_edits, expand_template, fixes_overlap, pos
from memlens.engine.fixes import build_fix
from memlens.engine.imports import star_aliases
from memlens.engine.lines import for_parse
from memlens.engine.locality import CLASS_BODY, TOP_LEVEL, block_local
from memlens.engine.lookup import Tables
from memlens.engine.model import SYNTAX_ERROR, Finding, Fix, Position
from memlens.engine.parse import TooDeep, parse
from memlens.engine.prefilter import (
    BlockText,
    Condition,
    FileText,
    block_condition,
    rule_condition,
)
from memlens.engine.rulebook import Rule, RuleError, builtin_rule_dir, load_rule_dir
from memlens.engine.ruletree import (
    ATOMIC,
    COMPOSITE,
    RELATION_OPTIONS,
    RELATIONAL,
    Node,
    config_patterns,
    read_utils,
    rewrite,
    rewrite_parts,
)
from memlens.engine.selection import enabled_codes, validate_selectors


class _Compiled:
    """A rule as the engine runs it. What costs time to derive is derived on first use, so that
    a run that checks a few files pays only for the rules those files need."""

    __slots__ = ("rule", "roots", "chains", "condition", "_relevant", "_config", "_kinds",
                 "_compile_ms", "_local")
    _UNSET = object()

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
                _cheap_first_config(_fast_regexes(self.rule.config)), f"{self.rule.id}__")
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
            self._kinds = _checked_kinds(self.rule, check=self.rule.checked)
        return self._kinds

    def local(self, level: frozenset[str]) -> bool:
        """Whether it looks only at the definition a match is in and at the code around the
        definitions of `level` (`locality.py`): then the other definitions need no parse. (A
        rule with a lookup never is: its tables read the whole file.)"""
        found = self._local.get(level)
        if found is None:
            found = self._local[level] = self.rule.lookup is None and block_local(
                self.rule.config, level)
        return found

    @property
    def compile_ms(self) -> float:
        """What ast-grep takes to compile it: paid on every search call."""
        if self._compile_ms is self._UNSET:
            self._compile_ms = _compile_ms(self.config)
        return self._compile_ms


_ERROR_RULE = {"kind": "ERROR"}
# Below this size, finding and blanking blocks would save too little parsing to pay for itself.
_BLANK_MIN_CHARS = 2_000
# What walking the tree costs ast-grep per character of source (measured: ~0.7 ms for a
# 2,000-line, 60 kB file), to choose between one search per candidate node and one from the root.
_WALK_MS_PER_CHAR = 1.2e-5


def _same_node(a: SgNode, b: SgNode) -> bool:
    ra, rb = a.range(), b.range()
    return (ra.start.index == rb.start.index and ra.end.index == rb.end.index
            and a.kind() == b.kind())


@dataclass(frozen=True)
class FilePlan:
    """One file's check, decided from its text before any parse (`Engine.plan`)."""

    path: str
    text: str  # as parsed: a lone CR read as \n, a lone surrogate as ? (same offsets)
    rules: list  # (compiled rule, its variant for the file's imports): the candidates
    bindings: dict | None  # the file's imports, when some candidate names a module
    source: str  # what is parsed: `text`, or `text` with the blocks no candidate needs blanked
    parse_always: bool = False  # parse even with no candidate (syntax errors show)

    @property
    def blanked(self) -> bool:
        return self.source is not self.text

    def whole(self) -> FilePlan:
        """The same plan, parsing the whole text."""
        return replace(self, source=self.text)


class Engine:
    """Compiles the rules once; `check_source` is then cheap and thread-safe to call."""

    def __init__(self, settings: Settings | None = None, rules: Iterable[Rule] | None = None,
                 filter_rules: bool = True):
        """`filter_rules=False` runs every enabled rule on every file, whatever its text says
        (to check that the text prefilter never drops a finding)."""
        self.settings = settings or Settings()
        if rules is None:
            rules = load_rule_dir(builtin_rule_dir(), check=False)
            for directory in self.settings.rule_dirs:
                rules += load_rule_dir(directory)
        self.rules: dict[str, Rule] = {}
        for rule in rules:
            if rule.id in self.rules:
                raise RuleError(rule.source, "id", f"rule id {rule.id} is already defined by "
                                                   f"{self.rules[rule.id].source}")
            self.rules[rule.id] = rule
        s = self.settings
        for where, selectors in (("select", s.select or ()), ("extend-select", s.extend_select),
                                 ("ignore", s.ignore)):
            validate_selectors(selectors, self.rules, where)
        self.enabled = enabled_codes(self.rules.values(), s.select, s.extend_select, s.ignore)
        self._active = [_Compiled(r) for r in self.rules.values() if r.id in self.enabled]
        self.filter_rules = filter_rules
        self._variants: dict[tuple, object] = {}
        self._plans: dict[tuple, dict] = {}
        self._branches: dict[int, tuple] = {}
        self._checks: dict[int, tuple] = {}
        self._block_conditions: dict[int, tuple] = {}
        # Counters for benchmarks and debugging (not thread-exact, never needed for results).
        self.stats = {"files": 0, "parsed": 0, "combined_hits": 0, "rule_runs": 0,
                      "blanked": 0, "unblanked": 0}

    def rule(self, code: str) -> Rule:
        return self.rules[code]

    # -- checking -------------------------------------------------------------------------

    def check_source(
        self, text: str, path: str = "<stdin>", prefilter: bool = True
    ) -> list[Finding]:
        """All findings for one file's text: `plan()`, then `execute()`. With `prefilter`
        false, the file is parsed even when no rule could match (its syntax errors show) and
        parsed whole (no block blanked)."""
        plan = self.plan(text, path, parse_always=not prefilter, blank_blocks=prefilter)
        return [] if plan is None else self.execute(plan)

    def plan(self, text: str, path: str = "<stdin>", parse_always: bool = False,
             blank_blocks: bool = True) -> FilePlan | None:
        """What checking `text` takes, decided from the text alone: the candidate rules (a
        rule's text condition, `prefilter.py`, must hold; a rule naming a module the file does
        not import drops out; test code keeps only the rules that check it), each rewritten for
        the file's imports, and the text to parse (the `def`/`class` blocks no candidate needs
        blanked, `blocks.py`). None: the file ignores memlens altogether."""
        if "ignore-file" in text and suppression.ignores_file(text):
            return None
        # a lone CR ends a line for LSP (tree-sitter reads it as \n); a lone surrogate cannot
        # cross into Rust (it becomes "?"): offsets stay
        text = for_parse(text)
        self.stats["files"] += 1
        active = self._active_for(path)
        file_text = FileText(text)
        if self.filter_rules:
            candidates = [c for c in active
                          if c.condition is None or c.condition.holds(file_text)]
        else:
            candidates = active
        # The variants need the bindings only when a rule names a module, but fixers always get
        # the file's full bindings: without such a rule they are resolved on the first fix.
        # Both come from the text, before the parse: a file whose every candidate rule names a
        # module it does not import is not parsed either.
        bindings = _import_bindings(text) if any(c.roots for c in candidates) else None
        if self.settings.skip_test_code and not all(c.rule.checks_test_code for c in candidates):
            if self._is_test_code(path, text, bindings):
                candidates = [c for c in candidates if c.rule.checks_test_code]
        by_root = _bindings_by_root(bindings or {})
        rules = [(c, config) for c in candidates
                 if (config := self._variant(c, bindings, by_root)) is not NEVER]
        source = text
        if rules and blank_blocks and self.filter_rules and len(text) >= _BLANK_MIN_CHARS:
            source = self._blank_unneeded(text, file_text, rules)
        return FilePlan(path, text, rules, bindings, source, parse_always)

    def execute(self, plan: FilePlan) -> list[Finding]:
        """The findings of a plan: one parse of its source, one combined walk, then each rule
        whose node kinds turned up. A blanked source that does not parse (blanking cut a
        statement, or the file is broken) is checked again whole: its syntax error is then the
        file's own."""
        if not plan.rules and not plan.parse_always:
            return []
        try:
            root = parse(plan.source)
        except TooDeep as exc:
            return [Finding(code=SYNTAX_ERROR, message=str(exc), severity="error", path=plan.path,
                            start=Position(0, 0), end=Position(0, 0))]
        self.stats["parsed"] += 1
        variants = []
        for compiled, config in plan.rules:
            # what the rule needs of the whole module (a module-level `x = []`): when the
            # module lacks it, nothing in the file can match, and the rule stays out of the
            # combined pass (checking it costs one look at the module's statements)
            checks, settled = self._module_checks(config)
            if checks and not all(root.matches(**check) is want for check, want in checks):
                continue
            # they hold: the variant without its `not: {inside: module ...}` conditions, which
            # would otherwise look at the module's statements again for every candidate node
            variants.append((compiled, settled))
        # One walk of the tree finds the first syntax error and every node that some rule
        # (with its constraints dropped, which only widens it) could match. Only the rules whose
        # node kinds turned up then run on their own.
        findings: list[Finding] = []
        nodes = []
        error = None
        for node in root.find_all(self._combined(variants)):
            if node.kind() == "ERROR":
                if error is None:
                    error = node
            else:
                nodes.append(node)
        if error is not None:
            if plan.blanked:
                self.stats["unblanked"] += 1
                return self.execute(plan.whole())
            findings.append(syntax_error(error, plan.path))
        if nodes:
            self.stats["combined_hits"] += 1
            findings += self._match(root, plan.text, plan.path, variants, plan.bindings, nodes)
        findings.sort(key=lambda f: (f.start, f.end, f.code))
        return findings

    def _blank_unneeded(self, text: str, file_text: FileText, rewritten) -> str:
        """`text` with the def/class blocks no candidate rule needs made empty lines: the
        top-level ones, and the methods and nested classes of a top-level class that stays
        (when every candidate rule is local at that level, and no one's block condition holds
        in the block)."""
        top, members = [], []
        for compiled, config in rewritten:
            entry = self._block_conditions.get(id(config))
            if entry is None or entry[0] is not config:
                entry = (config, _block_condition(compiled, config, TOP_LEVEL),
                         _block_condition(compiled, config, CLASS_BODY))
                if len(self._block_conditions) > 512:
                    self._block_conditions.clear()
                self._block_conditions[id(config)] = entry  # keeps `config` (and its id) alive
            if entry[1] is None:
                return text  # some rule needs every block
            top.append(entry[1])
            if members is not None:
                members = None if entry[2] is None else [*members, entry[2]]
        layout = file_text.layout()
        unneeded = []
        for start, end in layout.blocks:
            block = BlockText(text, start, end)
            if not any(condition.holds(block) for condition in top):
                unneeded.append((start, end))
            elif members is not None:
                for member in layout.members(start, end):  # none unless it is a class
                    member_text = BlockText(text, *member)
                    if not any(condition.holds(member_text) for condition in members):
                        unneeded.append(member)
        if not unneeded:
            return text
        self.stats["blanked"] += sum(end - start for start, end in unneeded)
        return blanked(text, unneeded)

    def _combined(self, variants) -> dict:
        """One `any` rule over every candidate rule plus `kind: ERROR`, cached per set of file
        variants. Utils are renamed apart. Constraints cannot stay (a constraint on a
        metavariable that another branch does not bind fails the whole rule), but a constraint
        on a metavariable bound by the rule's own pattern becomes "this node or one below it
        satisfies it": still implied by the rule, and far narrower than nothing."""
        key = tuple(id(config) for _, config in variants)
        plan = self._plans.get(key)
        if plan is not None:
            return plan["config"]
        branches = [_ERROR_RULE]
        utils: dict = {}
        for compiled, config in variants:
            branch, branch_utils = self._branch(compiled, config)
            branches.append(branch)
            utils.update(branch_utils)
        combined = {"rule": {"any": branches}}
        if utils:
            combined["utils"] = utils
        if len(self._plans) > 256:
            self._plans.clear()
        # The plan keeps the variant configs alive, so their ids in the key stay theirs.
        self._plans[key] = {"config": combined, "variants": [v for _, v in variants]}
        return combined

    def _branch(self, compiled: _Compiled, config: dict) -> tuple[dict, dict]:
        """One rule variant as a branch of the combined rule, with its renamed utils."""
        entry = self._branches.get(id(config))
        if entry is not None and entry[0] is config:
            return entry[1], entry[2]
        # `compiled.config` has its utils prefixed with the rule id already: they stay apart
        utils = config.get("utils") or {}
        branch = config["rule"]
        implied = _implied_constraints(config)
        if implied:
            branch = {"all": [branch, *implied]}
        if len(self._branches) > 512:
            self._branches.clear()
        self._branches[id(config)] = (config, branch, utils)  # keeps `config` (and its id) alive
        return branch, utils

    def _module_checks(self, config: dict) -> tuple[list[tuple[dict, bool]], dict]:
        """Necessary conditions on the module node (a rule for it, and whether it must match),
        and the variant to run once they hold: without the `not: {inside: module}` conditions
        they settle (each holds for every node of a file whose root passed its check). Cached
        per rule variant."""
        entry = self._checks.get(id(config))
        if entry is not None and entry[0] is config:
            return entry[1], entry[2]
        found = _module_conditions(config["rule"], config.get("utils") or {})
        checks = [(check, want) for check, want, _ in found]
        settled_ids = {node_id for _, want, node_id in found if not want}
        settled = _without(config, settled_ids) if settled_ids else config
        if len(self._checks) > 512:
            self._checks.clear()
        self._checks[id(config)] = (config, checks, settled)  # keeps `config` (and its id) alive
        return checks, settled

    def _is_test_code(self, path: str, text: str, bindings) -> bool:
        """Whether the file is test code (`context.py`): its path, or the test framework it
        imports."""
        root = self.settings.root
        if is_test_path(path, None if root is None else str(root)):
            return True
        if not mentions_test_framework(text):
            return False
        return imports_test_framework(_import_bindings(text) if bindings is None else bindings)

    def _active_for(self, path: str) -> list[_Compiled]:
        ignored = self.settings.per_file_ignored(path)
        if not ignored:
            return self._active
        return [c for c in self._active
                if not any(c.rule.id.startswith(code) or code == "ALL"
                           or (code == "AUDIT" and c.rule.is_audit) for code in ignored)]

    def _match(self, root: SgNode, text: str, path: str, variants, bindings, nodes):
        """Run each rule that one of the combined pass's nodes may belong to. A node matches a
        rule when the rule's search from that node finds the node itself (pre-order: the node
        comes first); with many candidate nodes one search from the root is cheaper."""
        lines = text.split("\n")
        out = []
        walk_ms = len(text) * _WALK_MS_PER_CHAR
        by_kind: dict[str, list[SgNode]] = {}
        for node in nodes:
            by_kind.setdefault(node.kind(), []).append(node)
        for compiled, config in variants:
            if compiled.kinds is None:
                candidates = nodes
            else:
                candidates = [n for k in compiled.kinds for n in by_kind.get(k, ())]
            if not candidates:
                continue
            self.stats["rule_runs"] += 1
            # Every search call compiles the rule again (ast-grep has no compiled-rule object):
            # searching from each candidate node costs that many compilations, one search from
            # the root costs one compilation and a walk of the whole tree.
            if (len(candidates) - 1) * compiled.compile_ms > walk_ms:
                matches = root.find_all(config)
            else:
                matches = []
                for node in candidates:
                    found = node.find(config)
                    if found is not None and _same_node(found, node):
                        matches.append(found)
            rule = compiled.rule
            severity = self.settings.severity.get(rule.id, rule.severity)
            if rule.lookup is not None:
                lookup, shared_tables = rule.lookup
                tables = Tables(root, _lookup_utils(config, rule), shared_tables)
                matches = [node for node in matches if lookup.holds(node, tables)]
            for node in matches:
                r = node.range()
                if suppression.is_suppressed(rule.id, lines[r.start.line]):
                    continue
                fix = None
                if rule.fix is not None:
                    if bindings is None:
                        bindings = _import_bindings(text)
                    fix = build_fix(rule.fix, node, lines, bindings)
                out.append(Finding(
                    code=rule.id,
                    message=expand_template(rule.message, node) if "$" in rule.message
                    else rule.message,
                    severity=severity,
                    path=path,
                    start=pos(r.start),
                    end=pos(r.end),
                    fix=fix,
                    url=rule.url,
                ))
        return out

    def _variant(self, compiled: _Compiled, bindings, by_root=None):
        """The rule rewritten for this file's imports, cached by the bindings it depends on."""
        if not compiled.roots:
            return compiled.config
        if by_root is None:
            by_root = _bindings_by_root(bindings)
        if len(compiled.roots) == 1:
            relevant = tuple(item for item in by_root.get(next(iter(compiled.roots)), ())
                             if compiled.relevant(item))
        else:
            relevant = tuple(sorted({item for root in compiled.roots
                                     for item in by_root.get(root, ())
                                     if compiled.relevant(item)}))
        key = (compiled.rule.id, relevant)
        config = self._variants.get(key)
        if config is None:
            config = rewrite_config(compiled.config, dict(relevant))
            # (each variant is a full copy of the rule, kept with its derived plans: a fuzzer
            # spelling imports a thousand ways grew the server by 16 MiB per thousand files)
            if len(self._variants) > 512:
                self._variants.clear()
            self._variants[key] = config
        return config

    # -- fixing ---------------------------------------------------------------------------

    def fix_source(self, text: str, path: str = "<stdin>", unsafe: bool = False,
                   max_rounds: int = 10) -> tuple[str, list[Finding]]:
        """Apply fixes until none is left (or the result would not parse). Returns the new text
        and the findings whose fixes were applied."""
        import ast

        applied: list[Finding] = []
        for _ in range(max_rounds):
            findings = self.check_source(text, path)
            if any(f.code == SYNTAX_ERROR for f in findings):
                break
            chosen: list[Finding] = []
            for f in findings:
                if f.fix is None or (f.fix.applicability == "unsafe" and not unsafe):
                    continue
                if any(fixes_overlap(f.fix, c.fix) for c in chosen):
                    continue  # the next round picks it up against the updated text
                chosen.append(f)
            if not chosen:
                break
            new_text = apply_edits(text, [e for f in chosen for e in f.fix.edits])
            try:
                # (the text's own lone surrogates are not a fix's doing: read as the check reads)
                ast.parse(for_parse(new_text))
            except (SyntaxError, ValueError):
                break  # never write code that does not parse
            text = new_text
            applied += chosen
        return text, applied


def _lookup_utils(config: dict, rule: Rule) -> dict:
    """The variant's utils under the names the rule's lookup uses (the engine prefixes a rule's
    utils with its id, so that rules combined in one pass do not clash)."""
    utils = config.get("utils") or {}
    prefix = f"{rule.id}__"
    return {**utils, **{name[len(prefix):]: util for name, util in utils.items()
                        if name.startswith(prefix)}}


def _block_condition(compiled: _Compiled, config: dict,
                     level: frozenset[str]) -> Condition | None:
    """What a rule variant needs of a block's text at `level`; None: it may need every block
    (not local at that level, or nothing known)."""
    return block_condition(config, level) if compiled.local(level) else None


def _implied_constraints(config) -> list[dict]:
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
        if _ANY_VAR.search(repr(rule)) or "stopBy" in rule or "field" in rule:
            continue  # its own metavariables could clash with the rule's
        below = {"has": {**rule, "stopBy": "end"}}
        out.append({"any": [rule, below]} if var in lone else below)
    return out


def _without(config: dict, ids: set[int]) -> dict:
    """`config` without the `not` conditions whose value objects are `ids` (from an `all` or
    `any` list, or as a key of a rule object)."""
    def dropped(item) -> bool:
        return isinstance(item, dict) and set(item) == {"not"} and id(item["not"]) in ids

    def prune(written: dict, rebuilt: dict) -> dict:
        if "not" in written and id(written["not"]) in ids:
            del rebuilt["not"]
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


def _module_conditions(rule, utils, seen=frozenset()) -> list[tuple[dict, bool, int]]:
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
    is the identity of the `not`'s value, for `_without`."""
    if not isinstance(rule, dict):
        return []
    out = []
    for key, value in rule.items():
        if key == "all" and isinstance(value, list):
            for sub in value:
                out += _module_conditions(sub, utils, seen)
        elif key == "matches" and value in utils and value not in seen:
            out += _module_conditions(utils[value], utils, seen | {value})
        elif key in ("inside", "not"):
            want = key == "inside"
            inside = value if want else value.get("inside") if isinstance(value, dict) and \
                set(value) == {"inside"} else None
            if not isinstance(inside, dict) or not _is_module_rule(inside):
                continue
            check = {k: v for k, v in inside.items() if k not in ("stopBy", "field")}
            tree = Node.read(check)
            if check == {"kind": "module"} or tree.mentions_util() \
                    or (want and tree.cost({}) > 1000):
                # nothing to check, or (for an `inside`, which stays in the rule) a search of
                # the whole module that would only be repeated; a `not inside` that settles is
                # dropped from the rule, so one search per file replaces one per candidate node
                continue
            if want and any(_ANY_VAR.search(repr(n.raw)) for n in tree.negated()):
                continue
            if not want and (_ANY_VAR.search(repr(check)) or "field" in inside
                             or inside.get("stopBy") != "end"):
                continue  # the `inside` must reach the root, exactly as written
            out.append((check, want, id(value)))
    return out


def _is_module_rule(rule: dict) -> bool:
    """Whether `rule` matches only a module node (its `kind`, or the first item of its `all`
    once `_cheap_first` has moved the atomic keys there)."""
    if rule.get("kind") == "module":
        return True
    first = (rule.get("all") or [None])[0] if isinstance(rule.get("all"), list) else None
    return isinstance(first, dict) and first.get("kind") == "module"


def _bindings_by_root(bindings) -> dict[str, tuple]:
    """root module -> the sorted (local name, canonical paths) bindings that lead into it."""
    groups: dict[str, set] = {}
    for name, targets in bindings.items():
        for target in targets:
            groups.setdefault(target.split(".", 1)[0], set()).add((name, targets))
    return {root: tuple(sorted(items)) for root, items in groups.items()}


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


def _fast_regex(regex: str) -> str:
    """ast-grep compiles every regex of a rule again on every search call, and Unicode-aware
    classes (`\\w`, `\\b`, `(?i)`) make that slow (~0.3-1 ms each: more than searching a
    file). Source identifiers are ASCII in practice, so an ASCII regex (`(?-u)`) matches the same
    nodes for a tenth of the cost. A regex that ASCII mode rejects is kept as it is."""
    fast = _FAST_REGEX.get(regex)
    if fast is None:
        fast = regex
        if regex.isascii() and not regex.startswith("(?-u)"):
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
            _tiny_root().find_all(config)
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

_ANY_VAR = re.compile(r"\$(?:\$\$)?([A-Z][A-Z0-9_]*)")


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


def _cheap_first_config(config: dict) -> dict:
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


def _checked_kinds(rule: Rule, check: bool = True) -> frozenset[str] | None:
    """The kinds a rule can match, cross-checked on its own `invalid:` snippets (`check`): any
    doubt, and the rule runs on every file that its text condition lets through."""
    try:
        kinds = Node.read(rule.config["rule"]).potential_kinds(rule.config.get("utils") or {})
    except Exception:
        return None
    if kinds is None or not check:
        return kinds
    bindings_cache = {}
    for snippet in rule.invalid:
        try:
            bindings = bindings_cache.setdefault(snippet, _import_bindings(snippet))
            config = rewrite_config(rule.config, bindings)
            if config is NEVER:
                continue
            for node in SgRoot(snippet, "python").root().find_all(config):
                if node.kind() not in kinds:
                    return None
        except Exception:
            return None
    return kinds


# --- imports, read from the text ------------------------------------------------------------

# A line that starts an import statement; its continuation lines are found below.
_IMPORT_START = re.compile(r"^[ \t]*(?:import[ \t]+[A-Za-z_]|from[ \t]+[A-Za-z_.])", re.M)
# the same from a newline on (Python's re scans fast from a literal; the first line is matched
# on its own)
_IMPORT_AFTER_NEWLINE = re.compile(r"\n[ \t]*(?:import[ \t]+[A-Za-z_]|from[ \t]+[A-Za-z_.])")


def _import_bindings(text: str) -> dict[str, frozenset[str]]:
    """What `imports.resolve_imports` finds, read from the text without walking the tree: each
    line that starts an import statement (with its bracketed or backslash continuation) is parsed
    on its own. Statements that do not parse alone are skipped."""
    if "import" not in text:
        return {}
    bindings: dict[str, set[str]] = {}
    starts = [0] if _IMPORT_START.match(text) else []
    starts += [m.start() + 1 for m in _IMPORT_AFTER_NEWLINE.finditer(text)]
    for start in starts:
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        statement = text[start:end]
        if "(" in statement and ")" not in statement:
            close = text.find(")", end)
            if close >= 0:
                end = close + 1
                statement = text[start:end]
        while statement.endswith("\\"):
            nxt = text.find("\n", end + 1)
            nxt = len(text) if nxt < 0 else nxt
            statement = text[start:nxt]
            end = nxt
            if end >= len(text):
                break
        pairs = _STATEMENTS.get(statement)
        if pairs is None:
            pairs = _statement_bindings(statement.strip())
            if len(_STATEMENTS) > 4096:
                _STATEMENTS.clear()
            _STATEMENTS[statement] = pairs
        for name, target in pairs:
            bindings.setdefault(name, set()).add(target)
    if bindings.pop(STAR, None) is not None:
        # `from .common import *` often hands over `np` and `pd`: a file that uses them
        # without importing them itself gets the names every ML codebase gives them.
        for alias, module in star_aliases(text).items():
            bindings.setdefault(alias, {module})
    return {name: frozenset(paths) for name, paths in bindings.items()}


STAR = "*"


_STATEMENTS: dict[str, tuple] = {}


def _statement_bindings(statement: str) -> tuple[tuple[str, str], ...]:
    # `import x; y = 1`, `import x  # comment`: keep what parses.
    try:
        tree = ast.parse(statement)
    except SyntaxError:
        try:
            tree = ast.parse(statement.split(";", 1)[0])
        except SyntaxError:
            return ()
    out = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    out.append((alias.asname, alias.name))
                else:
                    root_name = alias.name.split(".", 1)[0]
                    out.append((root_name, root_name))
        elif isinstance(stmt, ast.ImportFrom):
            if any(alias.name == "*" for alias in stmt.names):
                out.append((STAR, STAR))  # relative or not: what it binds is unknown here
            if stmt.level or not stmt.module:
                continue  # relative imports name the project's own modules
            for alias in stmt.names:
                if alias.name != "*":
                    out.append((alias.asname or alias.name, f"{stmt.module}.{alias.name}"))
    return tuple(out)


def syntax_error(node: SgNode, path: str, first_line: int = 0,
                 when_empty: str | None = None) -> Finding:
    """The finding for a syntax error at `node` (an ERROR node), in a text that starts at line
    `first_line` of the file (the language server parses a region alone). `when_empty`: the
    message when the node has no text to quote."""
    r = node.range()
    snippet = node.text().strip().splitlines()[0][:40] if node.text().strip() else ""
    message = (f"SyntaxError: cannot parse this code{f' ({snippet!r})' if snippet else ''}; "
               "memlens checks the rest of the file")
    return Finding(
        code=SYNTAX_ERROR,
        message=message if snippet or when_empty is None else when_empty,
        severity="error",
        path=path,
        start=Position(r.start.line + first_line, r.start.column),
        end=Position(r.end.line + first_line, r.end.column),
    )


__all__ = ["Engine", "Finding", "Fix", "Position"]
