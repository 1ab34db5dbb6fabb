"""The text prefilter: a rule's condition must hold for every file the rule can match (it may
only ever skip work, never a finding), and its fast search forms must mean what they say."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from memlens.engine import Engine, Settings
from memlens.engine.prefilter import FileText, parse_prefilter, rule_condition
from memlens.engine.rulebook import RuleError, builtin_rule_dir, load_rule_dir, parse_rule

RULES = load_rule_dir(builtin_rule_dir())
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _holds(condition, text: str) -> bool:
    return condition is None or condition.holds(FileText(text))


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_condition_holds_on_every_invalid_snippet(rule):
    condition = rule_condition(rule.config, rule.prefilter)
    for snippet in rule.invalid:
        assert _holds(condition, snippet), f"{rule.id}: {condition!r} rejects\n{snippet}"


@pytest.mark.parametrize("rule", [r for r in RULES if r.prefilter is not None],
                         ids=lambda r: r.id)
def test_metadata_prefilter_holds_on_every_invalid_snippet(rule):
    for snippet in rule.invalid:
        assert rule.prefilter.holds(FileText(snippet)), f"{rule.id} prefilter rejects\n{snippet}"


def _corpus():
    for rule in RULES:
        yield from rule.valid
        yield from rule.invalid
    for path in sorted(EXAMPLES.rglob("*.py")):
        yield path.read_text(encoding="utf-8")


def test_filtered_and_unfiltered_engines_agree():
    filtered = Engine(Settings(select=("ALL",)))
    unfiltered = Engine(Settings(select=("ALL",)), filter_rules=False)
    texts = list(_corpus())
    assert len(texts) > 300
    for text in texts:
        assert filtered.check_source(text, "t.py", parse_whole=True) == \
            unfiltered.check_source(text, "t.py", parse_whole=True), text


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_derived_node_kinds_hold_on_every_invalid_snippet(rule):
    """The engine trusts the node kinds it derives for the built-in rules (custom rules are
    cross-checked when loaded): this is that cross-check."""
    from memlens.engine.compiled import checked_kinds as _checked_kinds

    assert _checked_kinds(rule, check=True) == _checked_kinds(rule, check=False)


def test_a_file_no_rule_could_match_is_not_parsed():
    engine = Engine(Settings(select=("ALL",)))
    engine.check_source("x = 1\nprint(x)\n", "t.py")
    assert engine.stats["parsed"] == 0


def test_a_rule_whose_branches_need_modules_the_file_lacks_does_not_parse_it():
    """ML108's words (`pipeline`, `transformers`) are in a scikit-learn file that builds a
    `Pipeline` of `transformers`; rewritten for the file's imports (no `transformers` module),
    the rule asks for `from_pretrained`, which the file lacks: it is not parsed."""
    text = ("from sklearn.pipeline import Pipeline\n\n"
            "def build(transformers):\n    return Pipeline(transformers)  # a pipeline\n")
    engine = Engine(Settings(select=("ML108",)))
    assert engine.check_source(text, "t.py") == []
    assert engine.stats["parsed"] == 0
    # with the import, the same words make it a candidate, and a double load is found
    loads = ("import transformers\n\n"
             "a = transformers.pipeline('fill-mask', model='bert-base-uncased')\n"
             "b = transformers.pipeline('fill-mask', model='bert-base-uncased')\n")
    assert {f.code for f in engine.check_source(loads, "t.py")} == {"ML108"}


# --- the words of a file -----------------------------------------------------------------


def test_words_are_whole_identifiers():
    words = FileText("import numpy as np\nx = np.overload(données, f'{a}sum')\n").words
    assert {b"numpy", b"np", b"overload", b"sum", "données".encode()} <= words
    assert b"load" not in words


def test_rule_words_need_whole_words():
    condition = Engine(Settings(select=["ML102"]))._active[0].condition
    # (ML102 also needs a loop, or a class, in which the array is sliced)
    loop = "for i in r:\n    b = x[i:i + 1]\n"
    assert _holds(condition, "import numpy as np\nx = np.load(p)\n" + loop)
    assert not _holds(condition, "import numpy as np\nx = np.overload(p)\n" + loop)


# --- the fast search forms of metadata.prefilter ---------------------------------------------


def test_line_start_regex_matches_on_the_first_line_too():
    condition = parse_prefilter(r"(?m)^G = \[\]")
    assert _holds(condition, "G = []\n")
    assert _holds(condition, "import x\nG = []\n")
    assert not _holds(condition, "def f():\n    G = []\n")


def test_leading_words_are_whole_words():
    condition = parse_prefilter(r"\b(?:sum|max)\s*\(\s*\[")
    assert _holds(condition, "t = sum ([x for x in y])\n")
    assert _holds(condition, "t = max(\n    [x for x in y])\n")
    assert not _holds(condition, "t = cumsum([x for x in y])\n")


def test_leading_words_not_after_a_dot():
    condition = parse_prefilter(r"(?<![\w.])(?:sum|max)\s*\(\s*\[")
    assert _holds(condition, "t = sum([x for x in y])\n")
    assert not _holds(condition, "t = df.sum([x for x in y])\n")
    assert not _holds(condition, "t = cumsum([x for x in y])\n")


def test_alias_placeholder_matches_imported_aliases():
    condition = parse_prefilter(r"=\s*[\w.]*\b{@append}\s*\(")
    assert _holds(condition, "a = np.append(a, 1)\n")
    assert _holds(condition, "from numpy import append as grow\na = grow(a, 1)\n")
    assert not _holds(condition, "a = grow(a, 1)\n")


def test_an_aliased_function_is_still_found_end_to_end():
    text = textwrap.dedent("""\
        from numpy import concatenate as cat
        def build(first, chunks):
            out = first
            for chunk in chunks:
                out = cat([out, chunk])
            return out
        """)
    codes = [f.code for f in Engine(Settings(select=("ALL",))).check_source(text, "t.py")]
    assert "ML401" in codes


def test_any_of_regexes():
    condition = parse_prefilter([{"any": ["alpha", r"\bbeta\b"]}, "gamma"])
    assert _holds(condition, "alpha gamma")
    assert _holds(condition, "beta gamma")
    assert not _holds(condition, "alphabeta")


def test_same_needs_one_name_on_both_sides():
    condition = parse_prefilter({"same": [r"(?m)^[ \t]*(\w+)[ \t]*\+=", r"(\w+)[ \t]*=[ \t]*['\"]"]})
    assert _holds(condition, 's = ""\nfor x in xs:\n    s += x\n')
    assert not _holds(condition, 't = ""\nfor x in xs:\n    s += x\n')
    assert _holds(condition, 's = ""\nfor x in xs: s += x\n') is False  # not at a line start


def test_same_second_side_spells_aliases():
    condition = parse_prefilter({"same": [
        r"=\s*[\w.]*\b{@append}\(\s*(\w+)", r"(\w+)\s*=\s*[\w.]*\b{@append}\("]})
    assert _holds(condition, "a = np.append(a, 1)\n")
    assert _holds(condition, "from numpy import append as grow\na = grow(a, 1)\n")
    assert not _holds(condition, "b = np.append(a, 1)\n")


def test_lines_with_searches_only_the_lines_holding_the_literal():
    condition = parse_prefilter({"regex": r"(?:^|[:;])[ \t]*(\w+)[ \t]*\+=", "lines-with": "+="})
    assert _holds(condition, "x = 1\n    total += 2\n")
    assert _holds(condition, "for c in s: out += c\n")
    assert not _holds(condition, "self.buf += 1\n")
    same = parse_prefilter({"same": [
        {"regex": r"(?:^|[:;])[ \t]*(\w+)[ \t]*\+=", "lines-with": "+="}, r"(\w+) = ''"]})
    assert _holds(same, "s = ''\nn += 1\nfor c in x: s += c\n")
    assert not _holds(same, "s = ''\nn += 1\n")


def test_outside_functions_counts_only_what_runs_at_import():
    condition = parse_prefilter({"regex": r"=\s*{@load}\(", "outside": "functions"})
    module = "from joblib import load\nMODEL = load('m.pkl')\n"
    assert _holds(condition, module)
    in_function = "from joblib import load as ld\n\n@cache\ndef model():\n    m = ld('m')\n"
    assert not _holds(condition, in_function)
    # an alias at module level, a class body: run at import
    assert _holds(condition, in_function + "M = ld('n')\n")
    assert _holds(condition, "class Config:\n    model = load('m')\n")
    # a method: not; a function whose body holds text at column 0 (a string) is not vouched
    # for: what follows could be module-level code
    assert not _holds(condition, "class A:\n    x = 1\n\n    def f(self):\n"
                                 "        m = load('m')\n")
    assert _holds(condition, 'def f():\n    s = """\nm = load(p)\n"""\n')


def test_outside_docstrings_skips_usage_examples_only():
    condition = parse_prefilter({"regex": r"load\w*\(", "outside": "docstrings"})
    doc = 'def f(x):\n    """Example.\n\n    >>> X = load_iris()\n    """\n    return x\n'
    assert not _holds(condition, doc)
    assert _holds(condition, doc + "X = load_iris()\n")
    # one-line strings and comments still count (the lexer's spans are the strings that span
    # lines), and so does code between two docstrings
    assert _holds(condition, "s = 'load(x)'\n")
    assert _holds(condition, '"""a\n"""\nX = load(p)\n"""b\n"""\n')


@pytest.mark.parametrize("value", [[], {"all": ["x"]}, "(unclosed", 3, {"same": ["(a)"]},
                                   {"regex": "a", "lines-with": ""},
                                   {"regex": "a", "outside": "classes"},
                                   {"regex": "{@a}", "lines-with": "a"},
                                   {"same": ["(a)", "b"]}, {"same": ["(a)(b)", "(c)"]}])
def test_a_malformed_prefilter_names_the_key(value):
    with pytest.raises(RuleError, match="metadata.prefilter"):
        parse_rule({**_minimal_rule(), "metadata": {"family": "x", "prefilter": value}})


def _minimal_rule() -> dict:
    note = "## What it does\n## Why is this bad\n## Example\n## Use instead\n"
    return {"id": "X100", "message": "m", "severity": "info", "rule": {"pattern": "f($A)"},
            "note": note, "metadata": {"family": "x"}}
