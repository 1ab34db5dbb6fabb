"""The literals a prefilter regex is scanned from (`regex_literals.py`, `prefilter._Search`):
every regex of the catalog must be found, and capture, exactly as `re.search`/`re.findall`
over the whole text say, on real files; the literals must be ones every match starts with or
contains."""

from __future__ import annotations

import re

import pytest
from tests.engine.real_sources import sources

from memlens.engine import prefilter, regex_literals
from memlens.engine.prefilter import FileText, _spelled
from memlens.engine.rulebook import builtin_rule_dir, load_rule_dir

RULES = load_rule_dir(builtin_rule_dir())


def _searches(condition, first_sides: set | None = None):
    """Every regex search of a condition tree (the first sides of `same` also in `first_sides`,
    which are asked for their captures too)."""
    if isinstance(condition, prefilter._Combination):
        for part in condition.parts:
            yield from _searches(part, first_sides)
    elif isinstance(condition, prefilter._Regex):
        value = condition.value
        yield value._search if isinstance(value, prefilter._OutsideSearch) else value
    elif isinstance(condition, prefilter._Same):
        for search in condition.first:
            if first_sides is not None:
                first_sides.add(search)
            yield search


def _catalog_searches():
    first_sides: set = set()
    found = {s: None for rule in RULES if rule.prefilter is not None
             for s in _searches(rule.prefilter, first_sides)}
    return [s for s in found if isinstance(s, prefilter._Search)], first_sides


def _texts():
    for rule in RULES:
        yield from rule.valid
        yield from rule.invalid
    for path in sources(120):
        yield path.read_text(encoding="utf-8", errors="replace")


def test_catalog_regexes_are_found_as_re_finds_them_on_real_files():
    searches, first_sides = _catalog_searches()
    assert any(s._heads for s in searches) and any(s._needs for s in searches)
    texts = list(_texts())
    assert len(texts) > 300
    found = 0
    for text in texts:
        file_text = FileText(text)
        for search in searches:
            resolved = search._resolved(file_text)
            reference = re.compile(_spelled(resolved.source))
            want = reference.search(text) is not None
            found += want
            assert search.found_in(file_text) is want, (search.source, text[:200])
            if search in first_sides:
                assert search.captured_in(file_text) == set(reference.findall(text)), \
                    search.source
    assert found > 100  # the regexes were found, not only ruled out


def test_the_loop_predict_regex_is_scanned_from_its_words():
    """ML707's `\\b(?:predict\\w*|...)`: re has no literal to scan it from; its words are."""
    (rule,) = [r for r in RULES if r.id == "ML707"]
    searches = [s for s in _searches(rule.prefilter) if s.source.startswith(r"\b(?:predict")]
    assert searches and "predict" in searches[0]._heads


@pytest.mark.parametrize(("pattern", "text", "found"), [
    (r"\b(?:predict\w*|Pool)\(", "model.predict_proba(x)", True),
    (r"\b(?:predict\w*|Pool)\(", "unpredict(x); Pooling(x)", False),
    (r"\b(?:predict\w*|Pool)\(", "xPool(y)\nPool(z)", True),
    (r"(?<![\w.])load\w*\(", "np.load(f)", False),
    (r"(?<![\w.])load\w*\(", "np.load(f)\nloadtxt(g)", True),
    (r"(?:read|load)\w*\s*\(|fromfile", "thread.start(); reader = 1", False),
    (r"(?:read|load)\w*\s*\(|fromfile", "x = np.fromfile", True),
    (r"=\s*[\w.]*(?:\bread_\w+|load\w*)\s*\(", "a = pd.read_csv(p)", True),
    (r"=\s*[\w.]*(?:\bread_\w+|load\w*)\s*\(", "spread_x(p); a == 1", False),
    (r"(?i)\bpredict\(", "PREDICT(x)", True),  # case-insensitive: searched as written
    (r"(?:ab)+cd", "xxababcd", True),
])
def test_literal_scan_agrees_with_re(pattern, text, found):
    search = prefilter._Search(pattern)
    assert (re.search(pattern, text) is not None) is found
    assert search.found_in(FileText(text)) is found


def test_heads_and_needs():
    assert regex_literals.heads(r"\b(?:predict\w*|Pool)\(") == {"predict", "Pool"}
    assert regex_literals.heads(r"(?<![\w.])(?:ab|cd)ef") == {"abef", "cdef"}
    assert regex_literals.heads(r"x?abc") is None  # may start with `a`
    assert regex_literals.heads(r"(?:abc|)d") is None  # an empty alternative
    assert regex_literals.heads(r"(?i)abc") is None
    assert regex_literals.heads(r"(?i:abc)d") is None
    assert regex_literals.heads(r"(?:ab){2,3}c") == {"ab"}  # at least one repetition
    assert regex_literals.needs(r"=\s*[\w.]*(?:read_\w+|load)\(") == {"read_", "load"}
    assert regex_literals.needs(r"[a-z]+\s*") is None


def test_a_regex_two_rules_share_is_searched_once_per_file():
    twice = [prefilter.parse_prefilter(r"\b(?:predict\w*|Pool)\(") for _ in range(2)]
    text = FileText("model.predict(x)\n")
    assert all(c.holds(text) for c in twice)
    assert len([k for k in text._seen if isinstance(k, prefilter._Search)]) == 1


def test_a_dotted_name_regex_on_a_call_needs_one_of_its_words():
    """`has: {field: function, regex: (^|\\.)(a|b)$}`: the call's function ends with the word,
    after a dot or as all of it, so the file holds it as a whole word."""
    rule = {"all": [{"kind": "call"}, {"has": {"field": "function",
                                               "regex": r"(^|\.)(predict|Pool)$"}}]}
    condition = prefilter.derive(rule, {})
    assert condition is not None
    for text, found in [("model.predict(x)", True), ("Pool(x)", True), ("a.b.Pool(x)", True),
                        ("model.predict_proba(x)", False), ("predictor(x)", False)]:
        assert condition.holds(FileText(text)) is found, text


@pytest.mark.parametrize(("call", "found"), [
    ("clf.predict(test_full[features_columns])", True),
    ("clf.predict(\n        test_full [features_columns])", True),
    ("clf.predict_proba(test_full[['a', 'b']])", True),
    ("xgb.DMatrix(test_full[features_columns])", True),
    # the rule itself skips these; the prefilter must not decide it
    ("clf.predict(  # the test rows\n        test_full  # all\n        [features_columns])", False),
    ("clf.predict(\\\n        test_full [features_columns])", False),
])
def test_the_loop_predict_prefilter_keeps_every_spelling_of_the_selection(call, found):
    """ML707's prefilter asks for `predict(` then a name then `[`: a line break, a comment or
    a backslash in between must leave the findings as the rule alone has them."""
    from memlens.engine import Engine, Settings

    text = ("import numpy as np\nimport xgboost as xgb\nprediction = np.zeros(3)\n"
            "for fold in range(5):\n    clf.fit(X, y)\n"
            f"    prediction += {call}\n")
    unfiltered = Engine(Settings(select=("ML707",)), filter_rules=False).check_source(text, "t.py")
    assert [f.code for f in unfiltered] == (["ML707"] if found else [])
    assert Engine(Settings(select=("ML707",))).check_source(text, "t.py") == unfiltered
