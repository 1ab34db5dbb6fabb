"""The engine: one parse per file, import-aware rule matching, fixes and suppression."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ast_grep_py import SgNode, SgRoot

from memlens.engine import suppression
from memlens.engine.canonical import NEVER, canonical_chains, rewrite_config
from memlens.engine.config import Settings
from memlens.engine.fixes import apply_edits, build_fix, expand_template, fixes_overlap, pos
from memlens.engine.imports import resolve_imports
from memlens.engine.model import SYNTAX_ERROR, Finding, Fix, Position
from memlens.engine.rulebook import Rule, builtin_rule_dir, load_rule_dir
from memlens.engine.selection import enabled_codes, validate_selectors


@dataclass(frozen=True)
class _Compiled:
    rule: Rule
    roots: frozenset[str]  # canonical module roots its patterns name: what its rewrite depends on


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
        self._active = [_Compiled(r, _roots(r)) for r in self.rules.values()
                        if r.id in self.enabled]
        self._variants: dict[tuple, object] = {}

    def rule(self, code: str) -> Rule:
        return self.rules[code]

    # -- checking -------------------------------------------------------------------------

    def check_source(
        self, text: str, path: str = "<stdin>", prefilter: bool = True
    ) -> list[Finding]:
        """All findings for one file's text. With `prefilter`, a file that contains none of the
        rules' trigger words is not even parsed (so its syntax errors go unreported)."""
        if suppression.ignores_file(text):
            return []
        active = self._active_for(path)
        candidates = [c for c in active if c.rule.trigger_words is None
                      or any(w in text for w in c.rule.trigger_words)]
        if prefilter and not candidates:
            return []
        root = SgRoot(text, "python").root()
        findings: list[Finding] = []
        error = root.find(kind="ERROR")
        if error is not None:
            findings.append(_syntax_error(error, path))
        if candidates:
            findings += self._match(root, text, path, candidates)
        findings.sort(key=lambda f: (f.start, f.end, f.code))
        return findings

    def _active_for(self, path: str) -> list[_Compiled]:
        ignored = self.settings.per_file_ignored(path)
        if not ignored:
            return self._active
        return [c for c in self._active
                if not any(c.rule.id.startswith(code) or code == "ALL" for code in ignored)]

    def _match(self, root: SgNode, text: str, path: str, candidates: list[_Compiled]):
        bindings = resolve_imports(root)
        lines = text.split("\n")
        out = []
        for compiled in candidates:
            config = self._variant(compiled, bindings)
            if config is NEVER:
                continue
            rule = compiled.rule
            severity = self.settings.severity.get(rule.id, rule.severity)
            for node in root.find_all(config):
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
