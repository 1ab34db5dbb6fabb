"""Matching a file: the plan from its text, one parse, the combined walk, each rule on its own,
findings with their fixes and suppression. The rules come compiled from `compiled.py`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import cast

from ast_grep_py import Config, SgNode

from memlens.engine import suppression
from memlens.engine.blocks import blanked
from memlens.engine.canonical import NEVER, rewrite_config
from memlens.engine.compiled import (
    CompiledRule,
    block_condition_at,
    implied_constraints,
    lookup_utils,
    module_conditions,
    without_negations,
)
from memlens.engine.config import Settings
from memlens.engine.context import imports_test_framework, is_test_path, mentions_test_framework
from memlens.engine.edits import apply_edits, expand_template, fixes_overlap, pos
from memlens.engine.fixcheck import FixCheck
from memlens.engine.fixes import build_fix
from memlens.engine.imports import import_bindings
from memlens.engine.lines import for_parse, split_lines
from memlens.engine.locality import CLASS_BODY, TOP_LEVEL
from memlens.engine.lookup import Tables
from memlens.engine.model import SYNTAX_ERROR, Edit, Evidence, Finding, Fix, Position, Severity
from memlens.engine.parse import TooDeep, parse
from memlens.engine.prefilter import (
    BlockText,
    Condition,
    FileText,
    rule_condition,
)
from memlens.engine.pysyntax import (
    Undecided,
    parses,
    python_syntax_error,
    readable_by_tree_sitter,
)
from memlens.engine.rulebook import Rule, RuleError, load_rule_dir
from memlens.engine.rulecache import builtin_rules
from memlens.engine.selection import enabled_codes, validate_selectors
from memlens.flow.conditions import NEEDS_IMPORTERS, FileFlow, fill_facts
from memlens.flow.project import FileRole
from memlens.flow.size import SizeVerdict, size_verdict

log = logging.getLogger(__name__)

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
    role: FileRole | None = None  # its place in the project (None: not known)

    @property
    def blanked(self) -> bool:
        return self.source is not self.text

    @property
    def block_local(self) -> bool:
        """Whether every candidate rule looks only at the top-level definition a match is in
        and at the code around the definitions (`locality.py`): then an edit inside one
        definition changes no finding outside it."""
        return all(compiled.local(TOP_LEVEL) for compiled, _ in self.rules)

    def whole(self) -> FilePlan:
        """The same plan, parsing the whole text."""
        return replace(self, source=self.text)


class Interrupted(Exception):
    """A check stopped between two of its steps because its `stop()` said so."""


@dataclass
class Timings:
    """CPU seconds per step of `plan` and `execute`, and per rule of its own matching: where a
    check spends its time (`benchmarks/check_throughput.py` prints them). Kept only when an
    engine is given one (`engine.timings = Timings()`)."""

    phases: dict[str, float] = field(default_factory=dict)
    rules: dict[str, float] = field(default_factory=dict)

    def add(self, phase: str, since: float) -> float:
        now = time.process_time()
        self.phases[phase] = self.phases.get(phase, 0.0) + now - since
        return now


class Engine:
    """Compiles the rules once; `check_source` is then cheap and thread-safe to call."""

    def __init__(self, settings: Settings | None = None, rules: Iterable[Rule] | None = None,
                 filter_rules: bool = True):
        """`filter_rules=False` runs every enabled rule on every file, whatever its text says
        (to check that the text prefilter never drops a finding)."""
        self.settings = settings or Settings()
        builtins: dict[str, CompiledRule] = {}
        if rules is None:
            builtins = builtin_rules()  # compiled once per install (`rulecache.py`)
            rules = [compiled.rule for compiled in builtins.values()]
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
        # the rules a selector names: their findings on the pattern alone show even when the
        # rule keeps them out of the default set (`metadata.unsized: opt-in`)
        self.named = enabled_codes(self.rules.values(), s.select, s.extend_select, s.ignore,
                                   named_only=True)
        self._active = [
            builtins[r.id] if r.id in builtins and builtins[r.id].rule is r else CompiledRule(r)
            for r in self.rules.values() if r.id in self.enabled]
        self.filter_rules = filter_rules
        self._variants: dict[tuple, object] = {}
        self._plans: dict[tuple, dict] = {}
        self._branches: dict[int, tuple] = {}
        self._checks: dict[int, tuple] = {}
        self._block_conditions: dict[int, tuple] = {}
        # the variants that lost a branch to the file's imports, with the text condition of what
        # is left: id(variant) -> (variant, condition) (the variant kept alive with its id)
        self._narrowed: dict[int, tuple[dict, Condition | None]] = {}
        # Counters for benchmarks and debugging (not thread-exact, never needed for results).
        self.stats = {"files": 0, "parsed": 0, "combined_hits": 0, "rule_runs": 0,
                      "blanked": 0, "unblanked": 0}
        self.timings: Timings | None = None

    def rule(self, code: str) -> Rule:
        return self.rules[code]

    # -- checking -------------------------------------------------------------------------

    def check_source(self, text: str, path: str = "<stdin>", parse_whole: bool = False,
                     stop: Callable[[], bool] | None = None,
                     role: FileRole | None = None) -> list[Finding]:
        """All findings for one file's text: `plan()`, then `execute()`. With `parse_whole`,
        every line is parsed, even when no rule could match the file and in blocks no rule
        needs: its syntax errors show wherever they are. `stop`: see `execute`. `role`: the
        file's place in its project (a notebook, the modules that import it), when known."""
        plan = self.plan(text, path, parse_always=parse_whole, blank_blocks=not parse_whole,
                         role=role)
        return [] if plan is None else self.execute(plan, stop)

    def plan(self, text: str, path: str = "<stdin>", parse_always: bool = False,
             blank_blocks: bool = True, role: FileRole | None = None) -> FilePlan | None:
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
        timings = self.timings
        t = time.process_time() if timings else 0.0
        active = self._active_for(path)
        file_text = FileText(text)
        if self.filter_rules:
            candidates = [c for c in active
                          if c.condition is None or c.condition.holds(file_text)]
        else:
            candidates = active
        if timings:
            t = timings.add("text prefilter", t)
        # The variants need the bindings only when a rule names a module, but fixers always get
        # the file's full bindings: without such a rule they are resolved on the first fix.
        # Both come from the text, before the parse: a file whose every candidate rule names a
        # module it does not import is not parsed either.
        bindings = import_bindings(text) if any(c.roots for c in candidates) else None
        if self.settings.skip_test_code and not all(c.rule.checks_test_code for c in candidates):
            if self._is_test_code(path, text, bindings):
                candidates = [c for c in candidates if c.rule.checks_test_code]
        by_root = _bindings_by_root(bindings or {})
        rules = [(c, config) for c in candidates
                 if (config := self._variant(c, bindings, by_root)) is not NEVER
                 and (not self.filter_rules or self._variant_condition_holds(config, file_text))]
        if timings:
            t = timings.add("imports and rule variants", t)
        source = text
        if rules and blank_blocks and self.filter_rules and len(text) >= _BLANK_MIN_CHARS:
            source = self._blank_unneeded(text, file_text, rules)
            if timings:
                timings.add("find and blank unneeded blocks", t)
        return FilePlan(path, text, rules, bindings, source, parse_always, role)

    def execute(self, plan: FilePlan, stop: Callable[[], bool] | None = None) -> list[Finding]:
        """The findings of a plan: one parse of its source, one combined walk, then each rule
        whose node kinds turned up. A blanked source that does not parse (blanking cut a
        statement, or the file is broken) is checked again whole: its syntax error is then the
        file's own. `stop()` is asked between steps and between rules (each step is native
        code that cannot be interrupted): true, and `Interrupted` is raised."""
        if not plan.rules and not plan.parse_always:
            return []
        timings = self.timings
        t = time.process_time() if timings else 0.0
        try:
            root = parse(plan.source)
        except TooDeep as exc:
            return [Finding(code=SYNTAX_ERROR, message=str(exc), severity="error", path=plan.path,
                            start=Position(0, 0), end=Position(0, 0))]
        self.stats["parsed"] += 1
        if timings:
            t = timings.add("parse", t)
        if stop is not None and stop():
            raise Interrupted()
        variants, nodes, error = self._walk(root, plan)
        if timings:
            t = timings.add("module checks and combined pass", t)
        if stop is not None and stop():
            raise Interrupted()
        if error is not None and plan.blanked:
            self.stats["unblanked"] += 1
            return self.execute(plan.whole(), stop)
        findings: list[Finding] = []
        mended: list[str] = []
        if error is not None or plan.parse_always:
            # Python's parser is the authority on syntax (`pysyntax.py`); tree-sitter's error
            # stands only when it cannot decide
            try:
                problem = python_syntax_error(plan.text, plan.path)
            except Undecided:
                problem = None if error is None else syntax_error(error, plan.path)
                error = None
            if problem is not None:
                findings.append(problem)
            elif error is not None:
                # valid Python that tree-sitter misreads: parse it mended, if that can be done
                readable = readable_by_tree_sitter(plan.text)
                if readable is not None:
                    again = parse(readable[0])
                    walked = self._walk(again, plan)
                    if walked[2] is None:
                        root, (variants, nodes, _), mended = again, walked, readable[1]
            if timings:
                t = timings.add("Python's parse", t)
        if nodes is None or nodes:  # (None: the combined pass failed, each rule searches)
            self.stats["combined_hits"] += 1
            matched = self._match(root, plan.text, plan.path, variants, plan.bindings, nodes,
                                  stop, plan.role)
            if mended:
                # a fix copying a mended line would write its tabs into the file
                matched = [replace(f, fix=None) if f.fix is not None and any(
                    start in e.content for e in f.fix.edits for start in mended) else f
                    for f in matched]
            findings += matched
            if timings:
                timings.add("per-rule matching and findings", t)
        findings.sort(key=lambda f: (f.start, f.end, f.code))
        return findings

    def _walk(self, root: SgNode, plan: FilePlan) -> tuple[list, list | None, SgNode | None]:
        """The rule variants whose module conditions hold, the nodes some of them may match
        (None: unknown, each rule searches the whole tree) and the first ERROR node."""
        variants = []
        for compiled, config in plan.rules:
            # what the rule needs of the whole module (a module-level `x = []`): when the
            # module lacks it, nothing in the file can match, and the rule stays out of the
            # combined pass (checking it costs one look at the module's statements)
            try:
                checks, settled = self._module_checks(config)
                if checks and not all(root.matches(**check) is want for check, want in checks):
                    continue
            except Exception:  # a rule that raises costs its own findings, not the file's
                log.debug("rule %s raised on %s; its findings are dropped", compiled.rule.id,
                          plan.path, exc_info=True)
                continue
            # they hold: the variant without its `not: {inside: module ...}` conditions, which
            # would otherwise look at the module's statements again for every candidate node
            variants.append((compiled, settled))
        # One walk of the tree finds the first syntax error and every node that some rule
        # (with its constraints dropped, which only widens it) could match. Only the rules whose
        # node kinds turned up then run on their own.
        nodes: list[SgNode] | None
        found: list[SgNode] = []
        error = None
        try:
            for node in root.find_all(cast(Config, self._combined(variants))):
                if node.kind() == "ERROR":
                    if error is None:
                        error = node
                else:
                    found.append(node)
            nodes = found
        except Exception:  # one rule spoiled the combined rule: each searches on its own
            log.debug("the combined pass raised on %s", plan.path, exc_info=True)
            nodes, error = None, root.find(kind="ERROR")
        return variants, nodes, error

    def _variant_condition_holds(self, config, file_text: FileText) -> bool:
        """Whether the text meets the condition of the rule as rewritten for the file's imports.
        Only a variant that lost a branch has one of its own (`_narrowed`): the branches that name
        a module the file does not import are gone from it (`pipeline` and `transformers` are
        words of a scikit-learn file, `transformers.pipeline(...)` is not a call there), so what
        is left may ask for words the text lacks. A variant only respelled for aliases asks
        what the rule's own condition, already met, did."""
        entry = self._narrowed.get(id(config))
        if entry is None or entry[0] is not config:
            return True
        return entry[1] is None or entry[1].holds(file_text)

    def _blank_unneeded(self, text: str, file_text: FileText, rewritten) -> str:
        """`text` with the def/class blocks no candidate rule needs made empty lines: the
        top-level ones, and the methods and nested classes of a top-level class that stays
        (when every candidate rule is local at that level, and no one's block condition holds
        in the block)."""
        top: list[Condition] = []
        members: list[Condition] | None = []
        for compiled, config in rewritten:
            entry = self._block_conditions.get(id(config))
            if entry is None or entry[0] is not config:
                entry = (config, block_condition_at(compiled, config, TOP_LEVEL),
                         block_condition_at(compiled, config, CLASS_BODY))
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

    def _branch(self, compiled: CompiledRule, config: dict) -> tuple[dict, dict]:
        """One rule variant as a branch of the combined rule, with its renamed utils."""
        entry = self._branches.get(id(config))
        if entry is not None and entry[0] is config:
            return entry[1], entry[2]
        # `compiled.config` has its utils prefixed with the rule id already: they stay apart
        utils = config.get("utils") or {}
        branch = config["rule"]
        implied = implied_constraints(config)
        if implied:
            branch = {"all": [branch, *implied]}
        if len(self._branches) > 512:
            self._branches.clear()
        self._branches[id(config)] = (config, branch, utils)  # keeps `config` (and its id) alive
        return branch, utils

    def _module_checks(self, config: dict) -> tuple[list[tuple[dict, bool]], dict]:
        """Necessary conditions on the module node (a rule for it, and whether it must match),
        and the variant to run once they hold: without the `inside: module` and `not: {inside:
        module}` conditions they settle (each holds for every node of a file whose root passed
        its check). Cached
        per rule variant."""
        entry = self._checks.get(id(config))
        if entry is not None and entry[0] is config:
            return entry[1], entry[2]
        found = module_conditions(config["rule"], config.get("utils") or {})
        checks = [(check, want) for check, want, _ in found]
        settled_ids = {node_id for _, _, node_id in found if node_id is not None}
        settled = without_negations(config, settled_ids) if settled_ids else config
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
        return imports_test_framework(import_bindings(text) if bindings is None else bindings)

    def _active_for(self, path: str) -> list[CompiledRule]:
        ignored = self.settings.per_file_ignored(path)
        if not ignored:
            return self._active
        return [c for c in self._active
                if not any(c.rule.id.startswith(code) or code == "ALL"
                           or (code == "AUDIT" and c.rule.is_audit) for code in ignored)]

    def _match(self, root: SgNode, text: str, path: str, variants, bindings, nodes,
               stop: Callable[[], bool] | None = None, role: FileRole | None = None):
        """Run each rule that one of the combined pass's nodes may belong to. A node matches a
        rule when the rule's search from that node finds the node itself (pre-order: the node
        comes first); with many candidate nodes one search from the root is cheaper."""
        lines = text.split("\n")
        checker = FixCheck(text, lines)  # every fix offered parses
        flows = _Flows(root, role)  # the data-flow facts, computed on first need
        tables: dict = {}  # the lookup tables (`lookup.Tables`) of this file, shared by rules
        out = []
        walk_ms = len(text) * _WALK_MS_PER_CHAR
        by_kind: dict[str, list[SgNode]] = {}
        for node in nodes or ():
            by_kind.setdefault(node.kind(), []).append(node)
        timings = self.timings
        for compiled, config in variants:
            if stop is not None and stop():
                raise Interrupted()
            started = time.process_time() if timings else 0.0
            if nodes is None:
                candidates = None
            elif compiled.kinds is None:
                candidates = nodes
            else:
                candidates = [n for k in compiled.kinds for n in by_kind.get(k, ())]
            if candidates is not None and not candidates:
                continue
            self.stats["rule_runs"] += 1
            try:
                found, bindings = self._rule_findings(root, text, path, lines, walk_ms, compiled,
                                                      config, candidates, bindings, checker,
                                                      flows, tables)
            except Interrupted:
                raise
            except Exception:  # a rule that raises costs its own findings, not the file's
                log.debug("rule %s raised on %s; its findings are dropped", compiled.rule.id,
                          path, exc_info=True)
                found = []
            out += found
            if timings:
                rule_id = compiled.rule.id
                timings.rules[rule_id] = timings.rules.get(rule_id, 0.0) + \
                    time.process_time() - started
        return out

    def _rule_findings(self, root: SgNode, text: str, path: str, lines: list[str],
                       walk_ms: float, compiled: CompiledRule, config: dict, candidates,
                       bindings, checker: FixCheck,
                       flows: _Flows | None = None, tables: dict | None = None
                       ) -> tuple[list[Finding], dict | None]:
        """One rule's findings among the candidate nodes (and the file's bindings, resolved
        when a fix first needs them)."""
        # Every search call compiles the rule again (ast-grep has no compiled-rule object):
        # searching from each candidate node costs that many compilations, one search from
        # the root costs one compilation and a walk of the whole tree.
        if candidates is None or (len(candidates) - 1) * compiled.compile_ms > walk_ms:
            matches = root.find_all(cast(Config, config))
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
            found_in = Tables(root, lookup_utils(config, rule), shared_tables, tables)
            matches = [node for node in matches if lookup.holds(node, found_in)]
        facts: dict[int, dict[str, str]] = {}  # what the flow conditions found, per match
        shown: set[int] = set()  # matches whose size the code shows (rule.evidence)
        if (rule.flow is not None or rule.evidence is not None) and matches:
            flow = (flows or _Flows(root, None)).get()
            if rule.flow is not None:
                held = [(node, rule.flow.holds(node, flow, matches)) for node in matches]
                matches = [node for node, said in held if said is not None]
                facts = {id(node): said for node, said in held if said}
            if rule.evidence is not None:
                for node in matches:
                    said = rule.evidence.holds(node, flow)
                    if said is not None:
                        shown.add(id(node))
                        facts.setdefault(id(node), {}).update(said)
        sized: dict[int, SizeVerdict] = {}  # the size evidence (rule.size), per match
        if rule.size is not None and matches:
            flow = (flows or _Flows(root, None)).get()
            threshold = int(self.settings.size_threshold_mib * 2**20)
            kept_matches = []
            for node in matches:
                kept = None
                if rule.size.compare != "bytes":
                    kept = flow.values(rule.size.compare == "columns").kept(node)
                verdict = size_verdict(node, rule.size, flow.role, path, kept, threshold)
                if verdict.state == "small":
                    continue  # the file (or the notebook) shows the size: too small to matter
                sized[id(node)] = verdict
                kept_matches.append(node)
            matches = kept_matches
        out = []
        for node in matches:
            r = node.range()
            if suppression.is_suppressed(rule.id, lines[r.start.line]):
                continue
            fix = None
            if rule.fix is not None:
                if bindings is None:
                    bindings = import_bindings(text)
                try:
                    fix = build_fix(rule.fix, node, lines, bindings)
                except Exception:  # a fixer that raises costs its own fix, not the finding
                    log.debug("the fix of %s at %s:%d raised; the finding has no fix", rule.id,
                              path, r.start.line + 1, exc_info=True)
                if fix is not None and not checker.parses(fix):
                    log.debug("the fix of %s at %s:%d would not parse; the finding has no fix",
                              rule.id, path, r.start.line + 1)
                    fix = None
            message = expand_template(rule.message, node) if "$" in rule.message \
                else rule.message
            if "{" in message:
                message = fill_facts(message, facts.get(id(node), {}))
            data = {"needs": "importers"} if NEEDS_IMPORTERS in facts.get(id(node), {}) else {}
            seen = sized.get(id(node))
            evidence: Evidence
            found_severity: Severity
            if seen is not None and seen.state == "large":
                # the file or the notebook shows a size at or over the threshold: a warning
                hint, evidence = False, cast(Evidence, seen.evidence)
                message = f"{message} ({seen.summary})"
                found_severity = "error" if severity == "error" else "warning"
            else:
                # the pattern without a size the code shows: a hint (a rule whose code shows
                # the size by construction, with neither evidence nor size spec, stays as it is)
                hint = rule.always_hint or (
                    rule.evidence is not None and id(node) not in shown) or (
                    rule.size is not None and rule.evidence is None)
                if hint and rule.unsized_opt_in and rule.id not in self.named and \
                        rule.id not in self.settings.severity:
                    continue  # the pattern alone, of a rule whose unsized findings are opt-in
                evidence = "pattern" if hint else "code"
                # (a severity the configuration sets for the rule is the user's: it stands)
                found_severity = "hint" if hint and rule.id not in self.settings.severity \
                    else severity
            out.append(Finding(
                code=rule.id,
                message=message,
                severity=found_severity,
                evidence=evidence,
                data=data,
                path=path,
                start=pos(r.start),
                end=pos(r.end),
                fix=fix,
                url=rule.url,
            ))
        return out, bindings

    def _variant(self, compiled: CompiledRule, bindings, by_root=None):
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
            dropped: list = []
            config = rewrite_config(compiled.config, dict(relevant), dropped)
            if dropped and config is not NEVER:  # it may ask for words the text lacks
                if len(self._narrowed) > 512:
                    self._narrowed.clear()
                self._narrowed[id(config)] = (config, rule_condition(config))
            # (each variant is a full copy of the rule, kept with its derived plans: a fuzzer
            # spelling imports a thousand ways grew the server by 16 MiB per thousand files)
            if len(self._variants) > 512:
                self._variants.clear()
            self._variants[key] = config
        return config

    # -- fixing ---------------------------------------------------------------------------

    def fix_source(self, text: str, path: str = "<stdin>", unsafe: bool = False,
                   max_rounds: int = 10,
                   role: FileRole | None = None) -> tuple[str, list[Finding]]:
        """Apply fixes until none is left (or the result would not parse). Returns the new text
        and the findings whose fixes were applied."""

        applied: list[Finding] = []
        for _ in range(max_rounds):
            findings = self.check_source(text, path, role=role)
            if any(f.code == SYNTAX_ERROR for f in findings):
                break
            chosen: list[Finding] = []
            for f in findings:
                if f.fix is None or not f.fix.applies(unsafe):
                    continue
                if any(fixes_overlap(f.fix, c.fix) for c in chosen):
                    continue  # the next round picks it up against the updated text
                chosen.append(f)
            if not chosen:
                break
            new_text = apply_edits(text, _fix_edits(chosen))
            # (the text's own lone surrogates are not a fix's doing: read as the check reads)
            if not parses(for_parse(new_text), path):
                # each fix parses alone (`fixcheck.py`), yet together they do not: keep the
                # ones that parse with those kept before them, so one cannot block the rest
                kept: list[Finding] = []
                for f in chosen:
                    trial = apply_edits(text, _fix_edits((*kept, f)))
                    if parses(for_parse(trial), path):
                        kept, new_text = [*kept, f], trial
                if not kept:
                    break  # never write code that does not parse
                chosen = kept
            text = new_text
            applied += chosen
        return text, applied


def _fix_edits(findings: Iterable[Finding]) -> list[Edit]:
    """The edits of the findings' fixes (chosen for their fixes: each has one)."""
    return [e for f in findings if f.fix is not None for e in f.fix.edits]


class _Flows:
    """One file's data-flow facts (`memlens.flow`), made on the first rule that asks."""

    def __init__(self, root: SgNode, role: FileRole | None):
        self.root, self.role = root, role
        self.flow: FileFlow | None = None

    def get(self) -> FileFlow:
        if self.flow is None:
            self.flow = FileFlow(self.root, self.role)
        return self.flow


def _bindings_by_root(bindings) -> dict[str, tuple]:
    """root module -> the sorted (local name, canonical paths) bindings that lead into it."""
    groups: dict[str, set] = {}
    for name, targets in bindings.items():
        for target in targets:
            groups.setdefault(target.split(".", 1)[0], set()).add((name, targets))
    return {root: tuple(sorted(items)) for root, items in groups.items()}


def syntax_error(node: SgNode, path: str, first_line: int = 0,
                 when_empty: str | None = None) -> Finding:
    """The finding for a syntax error at `node` (an ERROR node), in a text that starts at line
    `first_line` of the file (the language server parses a region alone). `when_empty`: the
    message when the node has no text to quote."""
    r = node.range()
    snippet = split_lines(node.text().strip())[0][:40] if node.text().strip() else ""
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


__all__ = ["Engine", "Finding", "Fix", "Interrupted", "Position", "Timings"]
