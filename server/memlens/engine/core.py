"""The engine: one parse per file, import-aware rule matching, fixes and suppression."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ast_grep_py import SgNode, SgRoot

from memlens.engine import suppression
from memlens.engine.canonical import NEVER, canonical_chains, rewrite_config
from memlens.engine.config import Settings
from memlens.engine.fixes import apply_edits, build_fix, expand_template, fixes_overlap, pos
from memlens.engine.model import SYNTAX_ERROR, Finding, Fix, Position
from memlens.engine.rulebook import Rule, builtin_rule_dir, load_rule_dir
from memlens.engine.selection import enabled_codes, validate_selectors


@dataclass(frozen=True)
class _Compiled:
    rule: Rule
    roots: frozenset[str]  # canonical module roots its patterns name: what its rewrite depends on
    # Node kinds a match can have (None: unknown, any kind): after the combined pass, a rule is
    # run only when the pass found a node of one of its kinds.
    kinds: frozenset[str] | None = None
    words: frozenset[str] | None = field(default=None)  # the trigger words (prefilter)


_ERROR_RULE = {"kind": "ERROR"}
# Above this many candidate nodes for one rule, one search from the root beats one per node.
_PER_NODE_LIMIT = 48


def _same_node(a: SgNode, b: SgNode) -> bool:
    ra, rb = a.range(), b.range()
    return (ra.start.index == rb.start.index and ra.end.index == rb.end.index
            and a.kind() == b.kind())


class Engine:
    """Compiles the rules once; `check_source` is then cheap and thread-safe to call."""

    def __init__(self, settings: Settings | None = None, rules: Iterable[Rule] | None = None):
        self.settings = settings or Settings()
        if rules is None:
            rules = load_rule_dir(builtin_rule_dir())
            for directory in self.settings.rule_dirs:
                rules += load_rule_dir(directory)
        self.rules: dict[str, Rule] = {}
        for rule in rules:
            if rule.id in self.rules:
                raise ValueError(f"{rule.source}: rule id {rule.id} is already defined by "
                                 f"{self.rules[rule.id].source}")
            self.rules[rule.id] = rule
        s = self.settings
        for where, selectors in (("select", s.select or ()), ("extend-select", s.extend_select),
                                 ("ignore", s.ignore)):
            validate_selectors(selectors, self.rules, where)
        self.enabled = enabled_codes(self.rules.values(), s.select, s.extend_select, s.ignore)
        self._active = [_Compiled(r, _roots(r), _checked_kinds(r), r.trigger_words)
                        for r in self.rules.values() if r.id in self.enabled]
        self._variants: dict[tuple, object] = {}
        self._plans: dict[tuple, dict] = {}
        self._words = sorted({w for c in self._active for w in (c.words or ())})
        # Counters for benchmarks and debugging (not thread-exact, never needed for results).
        self.stats = {"files": 0, "parsed": 0, "combined_hits": 0, "rule_runs": 0}

    def rule(self, code: str) -> Rule:
        return self.rules[code]

    # -- checking -------------------------------------------------------------------------

    def check_source(
        self, text: str, path: str = "<stdin>", prefilter: bool = True
    ) -> list[Finding]:
        """All findings for one file's text. With `prefilter`, a file that contains none of the
        rules' trigger words is not even parsed (so its syntax errors go unreported)."""
        if "ignore-file" in text and suppression.ignores_file(text):
            return []
        stats = self.stats
        stats["files"] += 1
        active = self._active_for(path)
        present = {w for w in self._words if w in text}
        candidates = [c for c in active if c.words is None or not c.words.isdisjoint(present)]
        if prefilter and not candidates:
            return []
        root = SgRoot(text, "python").root()
        stats["parsed"] += 1
        bindings = _import_bindings(text) if any(c.roots for c in candidates) else {}
        variants = []
        for compiled in candidates:
            config = self._variant(compiled, bindings)
            if config is not NEVER:
                variants.append((compiled, config))
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
            findings.append(_syntax_error(error, path))
        if nodes:
            stats["combined_hits"] += 1
            findings += self._match(root, text, path, variants, bindings, nodes)
        findings.sort(key=lambda f: (f.start, f.end, f.code))
        return findings

    def _combined(self, variants) -> dict:
        """One `any` rule over every candidate rule (constraints dropped, utils renamed apart)
        plus `kind: ERROR`, cached per set of file variants."""
        key = tuple(id(config) for _, config in variants)
        plan = self._plans.get(key)
        if plan is not None:
            return plan["config"]
        branches = [_ERROR_RULE]
        utils: dict = {}
        for compiled, config in variants:
            prefix = f"{compiled.rule.id}__"
            names = set(config.get("utils") or ())
            for name, util in (config.get("utils") or {}).items():
                utils[prefix + name] = _rename_utils(util, names, prefix)
            branches.append(_rename_utils(config["rule"], names, prefix))
        combined = {"rule": {"any": branches}}
        if utils:
            combined["utils"] = utils
        if len(self._plans) > 1024:
            self._plans.clear()
        # The plan keeps the variant configs alive, so their ids in the key stay theirs.
        self._plans[key] = {"config": combined, "variants": [v for _, v in variants]}
        return combined

    def _active_for(self, path: str) -> list[_Compiled]:
        ignored = self.settings.per_file_ignored(path)
        if not ignored:
            return self._active
        return [c for c in self._active
                if not any(c.rule.id.startswith(code) or code == "ALL" for code in ignored)]

    def _match(self, root: SgNode, text: str, path: str, variants, bindings, nodes):
        """Run each rule that one of the combined pass's nodes may belong to. A node matches a
        rule when the rule's search from that node finds the node itself (pre-order: the node
        comes first); with many candidate nodes one search from the root is cheaper."""
        lines = text.split("\n")
        out = []
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
            if len(candidates) > _PER_NODE_LIMIT:
                matches = root.find_all(config)
            else:
                matches = []
                for node in candidates:
                    found = node.find(config)
                    if found is not None and _same_node(found, node):
                        matches.append(found)
            rule = compiled.rule
            severity = self.settings.severity.get(rule.id, rule.severity)
            for node in matches:
                r = node.range()
                if suppression.is_suppressed(rule.id, lines[r.start.line]):
                    continue
                fix = None
                if rule.fix is not None:
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

    def _variant(self, compiled: _Compiled, bindings):
        """The rule rewritten for this file's imports, cached by the bindings it depends on."""
        if not compiled.roots:
            return compiled.rule.config
        relevant = tuple(sorted(
            (name, targets) for name, targets in bindings.items()
            if any(t.split(".", 1)[0] in compiled.roots for t in targets)
        ))
        key = (compiled.rule.id, relevant)
        config = self._variants.get(key)
        if config is None:
            config = rewrite_config(compiled.rule.config, dict(relevant))
            if len(self._variants) > 4096:
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
                ast.parse(new_text)
            except SyntaxError:
                break  # never write code that does not parse
            text = new_text
            applied += chosen
        return text, applied


def _roots(rule: Rule) -> frozenset[str]:
    roots = set()

    def walk(value):
        if isinstance(value, dict):
            for key, sub in value.items():
                if key == "pattern":
                    text = sub["context"] if isinstance(sub, dict) else sub
                    roots.update(c.split(".", 1)[0] for c in canonical_chains(text))
                else:
                    walk(sub)
        elif isinstance(value, list):
            for sub in value:
                walk(sub)

    walk(rule.config)
    return frozenset(roots)


def _rename_utils(rule, names: set, prefix: str):
    """`rule` with its references to the utils `names` prefixed (utils of several rules are
    merged into one combined config)."""
    if not names:
        return rule
    if isinstance(rule, dict):
        out = {}
        for key, value in rule.items():
            if key == "matches" and value in names:
                out[key] = prefix + value
            else:
                out[key] = _rename_utils(value, names, prefix)
        return out
    if isinstance(rule, list):
        return [_rename_utils(v, names, prefix) for v in rule]
    return rule


# --- node kinds a rule can match -------------------------------------------------------------

_MULTI_VAR = re.compile(r"\$\$\$[A-Z_0-9]*")
_VAR = re.compile(r"\$([A-Z_][A-Z_0-9]*)")
_LONE_VAR = re.compile(r"^\s*\$\$?\$?[A-Z_][A-Z_0-9]*\s*$")


def _pattern_kind(pattern) -> str | None:
    """The kind of the node a pattern matches: its text parsed with metavariables made plain
    names, descending through wrappers spanning the same text (as ast-grep does)."""
    if isinstance(pattern, dict):
        if pattern.get("selector"):
            return pattern["selector"]
        pattern = pattern.get("context", "")
    if not isinstance(pattern, str) or _LONE_VAR.match(pattern):
        return None
    source = _VAR.sub(r"\1", _MULTI_VAR.sub("", pattern)).strip()
    node = SgRoot(source, "python").root()
    while True:
        named = [c for c in node.children() if c.is_named()]
        if len(named) == 1 and named[0].text().strip() == node.text().strip():
            node = named[0]
        else:
            break
    kind = node.kind()
    return None if kind in ("ERROR", "module") or not node.text().strip() else kind


def _rule_kinds(rule, utils, seen=frozenset()) -> frozenset[str] | None:
    if not isinstance(rule, dict):
        return None
    options: list[frozenset[str]] = []
    if "kind" in rule:
        options.append(frozenset([rule["kind"]]))
    if "pattern" in rule:
        kind = _pattern_kind(rule["pattern"])
        if kind is not None:
            options.append(frozenset([kind]))
    if "any" in rule:
        subs = [_rule_kinds(r, utils, seen) for r in rule["any"]]
        if subs and all(s is not None for s in subs):
            options.append(frozenset().union(*subs))
    if "all" in rule:
        for sub in rule["all"]:
            kinds = _rule_kinds(sub, utils, seen)
            if kinds is not None:
                options.append(kinds)
    if "matches" in rule and rule["matches"] in utils and rule["matches"] not in seen:
        kinds = _rule_kinds(utils[rule["matches"]], utils, seen | {rule["matches"]})
        if kinds is not None:
            options.append(kinds)
    if not options:
        return None
    # Every condition holds at once: the node's kind is in each option.
    return frozenset.intersection(*options)


def _checked_kinds(rule: Rule) -> frozenset[str] | None:
    """The kinds a rule can match, cross-checked on its own `invalid:` snippets: any doubt, and
    the rule runs on every file that its trigger words let through, as before."""
    try:
        kinds = _rule_kinds(rule.config["rule"], rule.config.get("utils") or {})
    except Exception:
        return None
    if kinds is None:
        return None
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


def _import_bindings(text: str) -> dict[str, frozenset[str]]:
    """What `imports.resolve_imports` finds, read from the text without walking the tree: each
    line that starts an import statement (with its bracketed or backslash continuation) is parsed
    on its own. Statements that do not parse alone are skipped."""
    if "import" not in text:
        return {}
    bindings: dict[str, set[str]] = {}
    for m in _IMPORT_START.finditer(text):
        start = m.start()
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
            if len(_STATEMENTS) > 20_000:
                _STATEMENTS.clear()
            _STATEMENTS[statement] = pairs
        for name, target in pairs:
            bindings.setdefault(name, set()).add(target)
    return {name: frozenset(paths) for name, paths in bindings.items()}


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
            if stmt.level or not stmt.module:
                continue  # relative imports name the project's own modules
            for alias in stmt.names:
                if alias.name != "*":
                    out.append((alias.asname or alias.name, f"{stmt.module}.{alias.name}"))
    return tuple(out)


def _syntax_error(node: SgNode, path: str) -> Finding:
    r = node.range()
    snippet = node.text().strip().splitlines()[0][:40] if node.text().strip() else ""
    return Finding(
        code=SYNTAX_ERROR,
        message=f"SyntaxError: cannot parse this code{f' ({snippet!r})' if snippet else ''}; "
        "memlens checks the rest of the file",
        severity="error",
        path=path,
        start=pos(r.start),
        end=pos(r.end),
    )


__all__ = ["Engine", "Finding", "Fix", "Position"]
