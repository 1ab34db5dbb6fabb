"""A rule or a fixer that raises, or a fix that would not parse, costs only its own finding or
fix: never the file's other findings, nor the other fixes of `fix_source`."""

from __future__ import annotations

import ast

import pytest

from memlens.engine import Engine, core
from memlens.engine.edits import apply_edits
from memlens.engine.fixers import FIXERS
from memlens.engine.model import Edit, Position

# issue 17, item 6: ML101 at module level, and a keyword-only argument without a default
KW_ONLY = """\
import joblib
MODEL = joblib.load("m.pkl")

def predict(x):
    return MODEL.predict(x)

def g(*, a):
    return a
"""

# ML601 (fixer gc-try-finally) and ML901 (fixer remove-memory-profiler), both safe
TWO_FIXES = """\
import gc
from memory_profiler import profile

def build(rows):
    gc.disable()
    index = {r: r for r in rows}
    gc.enable()
    return index
"""


@pytest.fixture(scope="module")
def engine():
    return Engine()


def by_code(findings):
    return {f.code: f for f in findings}


def test_a_keyword_only_argument_without_default_keeps_the_findings_and_their_fix(engine):
    found = by_code(engine.check_source(KW_ONLY, "m.py"))
    assert "ML101" in found and found["ML101"].fix is not None
    ast.parse(apply_edits(KW_ONLY, found["ML101"].fix.edits))


def test_a_fixer_that_raises_costs_only_its_fix(engine, monkeypatch):
    def broken(ctx):
        raise AttributeError("'NoneType' object has no attribute '_fields'")

    monkeypatch.setitem(FIXERS, "gc-try-finally", broken)
    found = by_code(engine.check_source(TWO_FIXES, "m.py"))
    assert found["ML601"].fix is None  # reported, without its fix
    assert found["ML901"].fix is not None  # the other finding keeps its fix
    new_text, applied = engine.fix_source(TWO_FIXES, "m.py")
    assert [f.code for f in applied] == ["ML901"]
    assert "memory_profiler" not in new_text and "gc.disable()" in new_text


def test_a_rule_that_raises_costs_only_its_own_findings(engine, monkeypatch):
    real = core.expand_template

    def failing(template, node):  # ML101's message names the loaded variable
        if template.startswith("$NAME is loaded"):
            raise RuntimeError("a rule's bug")
        return real(template, node)

    monkeypatch.setattr(core, "expand_template", failing)
    codes = [f.code for f in engine.check_source(KW_ONLY + TWO_FIXES.replace("import gc\n", "")
                                                 .replace("from memory", "import gc\nfrom memory"),
                                                 "m.py")]
    assert "ML101" not in codes
    assert "ML601" in codes and "ML901" in codes


def test_a_fix_that_would_not_parse_is_dropped_and_the_others_still_apply(engine, monkeypatch):
    def unparsable(ctx):  # deletes the `:` of the def below: the file would not parse
        return [Edit(Position(3, 15), Position(3, 16), "")]

    monkeypatch.setitem(FIXERS, "gc-try-finally", unparsable)
    found = by_code(engine.check_source(TWO_FIXES, "m.py"))
    assert found["ML601"].fix is None
    new_text, applied = engine.fix_source(TWO_FIXES, "m.py")
    assert [f.code for f in applied] == ["ML901"]
    ast.parse(new_text)


def test_fixes_that_parse_alone_but_not_together_do_not_block_each_other(engine):
    # each deletion alone leaves a statement in the block; both together would empty it
    text = "if x:\n    from memory_profiler import profile\n" \
           "    from memory_profiler import profile\n"
    assert len([f for f in engine.check_source(text, "m.py") if f.fix is not None]) == 2
    new_text, applied = engine.fix_source(text, "m.py")
    # one now, and the other in the next round (then the only statement: replaced by pass)
    assert len(applied) == 2
    assert new_text == "if x:\n    pass\n"


def all_fixes_parse(text: str, findings) -> None:
    for f in findings:
        if f.fix is not None:
            fixed = apply_edits(text, f.fix.edits)
            ast.parse(fixed)


# issue 17, item 9: the three fixes that did not parse
ML601_TABS = "import gc\ndef f(rows):\n\tgc.disable()\n\tx = build(rows)\n\treturn x\n"
ML601_SEMICOLON = "import gc\ndef f(rows):\n    a = 1; gc.disable()\n    x = build(rows)\n" \
                  "    return x\n"
ML901_ONLY_STATEMENT = ("if True:\n    from memory_profiler import profile\n"
                        "try:\n    from memory_profiler import profile\nexcept ImportError:\n"
                        "    pass\n")


@pytest.mark.parametrize("text", [ML601_TABS, ML601_SEMICOLON, ML901_ONLY_STATEMENT],
                         ids=["ML601-tabs", "ML601-semicolon", "ML901-only-statement"])
def test_every_fix_offered_parses(engine, text):
    findings = engine.check_source(text, "m.py")
    assert findings
    all_fixes_parse(text, findings)


def test_ml601_fix_indents_with_the_files_tabs(engine):
    [f] = [f for f in engine.check_source(ML601_TABS, "m.py") if f.code == "ML601"]
    fixed = apply_edits(ML601_TABS, f.fix.edits)
    assert "\ttry:\n\t\tx = build(rows)\n\t\treturn x\n\tfinally:\n\t\tgc.enable()\n" in fixed


def test_ml601_after_a_semicolon_has_no_fix(engine):
    [f] = [f for f in engine.check_source(ML601_SEMICOLON, "m.py") if f.code == "ML601"]
    assert f.fix is None


def test_ml901_removing_the_only_statement_of_a_block_leaves_pass(engine):
    findings = [f for f in engine.check_source(ML901_ONLY_STATEMENT, "m.py") if f.fix]
    assert len(findings) == 2
    new_text, applied = engine.fix_source(ML901_ONLY_STATEMENT, "m.py")
    assert len(applied) == 2
    assert new_text == "if True:\n    pass\ntry:\n    pass\nexcept ImportError:\n    pass\n"


def test_a_combined_pass_that_raises_lets_each_rule_search_alone(monkeypatch):
    engine = Engine()
    expected = [(f.code, f.start) for f in engine.check_source(TWO_FIXES, "m.py")]
    monkeypatch.setattr(Engine, "_combined", lambda self, variants: {"rule": {"bogus": 1}})
    assert [(f.code, f.start) for f in engine.check_source(TWO_FIXES, "m.py")] == expected
