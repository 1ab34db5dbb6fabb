"""Every rule's own `valid:` and `invalid:` snippets, and every fix on every invalid snippet."""

from __future__ import annotations

import ast

import pytest

from memlens.engine import Engine, Settings
from memlens.engine.fixes import apply_edits
from memlens.engine.rulebook import builtin_rule_dir, load_rule_dir

RULES = load_rule_dir(builtin_rule_dir())
ENGINE = Engine(Settings(select=("ALL",)))


def _cases(kind: str):
    for rule in RULES:
        for i, snippet in enumerate(getattr(rule, kind)):
            yield pytest.param(rule, snippet, id=f"{rule.id}-{kind}-{i}")


def test_every_rule_has_snippets():
    for rule in RULES:
        assert rule.invalid, f"{rule.id} has no invalid: snippets"
        assert rule.valid, f"{rule.id} has no valid: snippets"


@pytest.mark.parametrize("rule,snippet", list(_cases("invalid")))
def test_invalid_snippet_is_flagged(rule, snippet):
    ast.parse(snippet)  # a snippet that does not parse proves nothing
    codes = [f.code for f in ENGINE.check_source(snippet, "snippet.py", parse_whole=True)]
    assert rule.id in codes, f"{rule.id} did not flag:\n{snippet}"


@pytest.mark.parametrize("rule,snippet", list(_cases("valid")))
def test_valid_snippet_is_not_flagged(rule, snippet):
    ast.parse(snippet)
    codes = [f.code for f in ENGINE.check_source(snippet, "snippet.py", parse_whole=True)]
    assert rule.id not in codes, f"{rule.id} flagged valid code:\n{snippet}"


@pytest.mark.parametrize("rule,snippet", list(_cases("invalid")))
def test_fix_gives_code_that_parses(rule, snippet):
    findings = [f for f in ENGINE.check_source(snippet, "snippet.py") if f.code == rule.id]
    if rule.fix is None:
        assert all(f.fix is None for f in findings)
        return
    for finding in findings:
        if finding.fix is None:
            continue  # a fixer may decline a shape it cannot rewrite safely
        fixed = apply_edits(snippet, finding.fix.edits)
        assert fixed != snippet
        ast.parse(fixed)


@pytest.mark.parametrize("rule", [r for r in RULES if r.fix is not None], ids=lambda r: r.id)
def test_a_rule_with_a_fix_offers_it_on_some_invalid_snippet(rule):
    # A fixer declines what it cannot prove safe (a name that is not visibly a path, a growth
    # in two branches): not every snippet gets the fix, but some must.
    offered = [f for snippet in rule.invalid
               for f in ENGINE.check_source(snippet, "snippet.py") if f.code == rule.id and f.fix]
    assert offered, f"{rule.id} offered its fix on none of its invalid snippets"


def _note_block(rule, title: str) -> str:
    import re

    found = re.search(r"## " + title + r"\n+```python\n(.*?)```", rule.note, re.S)
    assert found, f"{rule.id}: no python block under '## {title}'"
    return found.group(1)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_the_docs_example_is_flagged_and_its_fix_is_not(rule):
    engine = Engine(Settings(select=("ALL",), skip_test_code=False))
    example = [f.code for f in engine.check_source(_note_block(rule, "Example"), "example.py",
                                                   parse_whole=True)]
    assert rule.id in example, f"{rule.id}'s own example is not flagged"
    instead = [f.code for f in engine.check_source(_note_block(rule, "Use instead"),
                                                   "instead.py", parse_whole=True)]
    assert rule.id not in instead, f"{rule.id}'s 'Use instead' is flagged"
