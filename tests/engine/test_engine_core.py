"""The engine's contract: selection, suppression, severity overrides, fixes, bad input."""

from __future__ import annotations

import ast

import pytest

from memlens.engine import SYNTAX_ERROR, Engine, Settings
from memlens.engine.rulebook import RuleError, parse_rule

# ML102 needs the evidence that the loaded array is read a slice at a time: slices of it in a
# loop. `{}` is the end of the line of the load (where ML102 reports, and where a comment
# that suppresses it goes).
NP_LINES = ("import numpy as np\n"
            "x = np.load('a.npy'){}\n"
            "for i in range(0, len(x), 256):\n"
            "    batch = x[i:i + 256]\n")
NP = NP_LINES.format("")


def np_with_comment(comment: str) -> str:
    return NP_LINES.format("  " + comment)


def codes(findings):
    return [f.code for f in findings]


def test_finding_positions_are_zero_based_code_points():
    engine = Engine()
    src = NP_LINES.replace("x = np.load", "s = 'é😀'; x = np.load").format("")
    [f] = [f for f in engine.check_source(src, "m.py") if f.code == "ML102"]
    assert (f.start.line, f.start.column) == (1, src.splitlines()[1].index("np.load"))
    assert f.to_dict()["location"] == {"row": 2, "column": f.start.column + 1}


@pytest.mark.parametrize("comment", ["# noqa", "# noqa: ML102", "# memlens: ignore[ML102]",
                                     "# noqa: E501, ML102"])
def test_line_suppression(comment):
    assert "ML102" not in codes(Engine().check_source(np_with_comment(comment)))


def test_other_code_in_noqa_does_not_suppress():
    assert "ML102" in codes(Engine().check_source(np_with_comment("# noqa: ML104")))


def test_file_level_ignore():
    assert Engine().check_source("# memlens: ignore-file\n" + NP) == []


def test_ignore_and_specificity():
    assert "ML102" not in codes(Engine(Settings(ignore=("ML1",))).check_source(NP))
    assert "ML102" in codes(Engine(Settings(select=("ML102",), ignore=("ML1",))).check_source(NP))


def test_unknown_selector_is_an_error():
    with pytest.raises(ValueError, match="ML999"):
        Engine(Settings(select=("ML999",)))


def test_severity_override():
    engine = Engine(Settings().with_overrides(severity={"ML102": "warning"}))
    [f] = [f for f in engine.check_source(NP) if f.code == "ML102"]
    assert f.severity == "warning"


def test_per_file_ignores(tmp_path):
    settings = Settings(per_file_ignores={"scripts/*": ("ML102",)}, root=tmp_path)
    engine = Engine(settings)
    assert "ML102" not in codes(engine.check_source(NP, str(tmp_path / "scripts" / "a.py")))
    assert "ML102" in codes(engine.check_source(NP, str(tmp_path / "pkg" / "a.py")))


def test_syntax_error_is_one_finding_and_checking_goes_on():
    findings = Engine().check_source("import numpy as np\nx = (1,\ny = np.load('a.npy')\n")
    assert codes(findings).count(SYNTAX_ERROR) == 1


def test_fix_source_applies_only_safe_fixes_unless_asked():
    engine = Engine()
    unchanged, applied = engine.fix_source(NP)
    assert unchanged == NP and not applied  # ML102's fix is a suggestion
    fixed, applied = engine.fix_source(NP, unsafe=True)
    assert 'mmap_mode="r"' in fixed and codes(applied) == ["ML102"]
    ast.parse(fixed)


def test_malformed_rule_names_the_key():
    with pytest.raises(RuleError, match="severity"):
        parse_rule({"id": "ML1", "message": "m", "severity": "loud", "rule": {"pattern": "x"},
                    "note": "n", "metadata": {"family": "f"}})
    with pytest.raises(RuleError, match="'note'"):
        parse_rule({"id": "ML1", "message": "m", "severity": "info", "rule": {"pattern": "x"},
                    "note": "no sections", "metadata": {"family": "f"}})


def test_fixers_get_the_full_import_bindings_when_no_rule_names_a_module():
    # The rule's pattern names no module, so the variants need no bindings; its fix template
    # does, and must be spelled as the file imports torch.
    rule = parse_rule({
        "id": "ML999", "message": "m", "severity": "info", "rule": {"pattern": "grad_off()"},
        "fix": "torch.no_grad()",
        "note": "## What it does\n## Why is this bad\n## Example\n## Use instead\n",
        "metadata": {"family": "t", "fix": "safe", "fix-message": "f"},
    })
    engine = Engine(Settings(select=["ML999"]), rules=[rule])
    [finding] = engine.check_source("import torch as th\n\ngrad_off()\n")
    assert [e.content for e in finding.fix.edits] == ["th.no_grad()"]


def test_cheap_conditions_run_first_only_where_the_result_cannot_change():
    from memlens.engine.compiled import cheap_first_config as _cheap_first_config

    # `not` shares no metavariable with `has`: it may run after it
    config = {"rule": {"kind": "call", "not": {"inside": {"stopBy": "end", "pattern": "f($R)"}},
                       "has": {"field": "function", "pattern": "$A"}}}
    rule = _cheap_first_config(config)["rule"]
    assert [list(part) for part in rule["all"]] == [["kind"], ["has"], ["not"]]
    # here it shares $A, which ast-grep leaves unbound when `not` runs first: keep that order
    config["rule"]["not"] = {"has": {"field": "arguments", "has": {"pattern": "$A"}}}
    assert _cheap_first_config(config)["rule"] == config["rule"]
    engine = Engine(Settings(select=["ML601"]))
    assert codes(engine.check_source("import gc\n\ndef f():\n    gc.disable()\n    work()\n"))


def test_a_branch_led_by_a_kind_test_runs_before_a_search_of_the_whole_module():
    from memlens.engine.compiled import cheap_first_config as _cheap_first_config

    # (ML503: the `not` searched the module once for every node, 138 ms on a 2,000-line file;
    # the `any` rejects all but calls and dicts at once, 1.7 ms)
    whole_module = {"not": {"inside": {"stopBy": "end", "kind": "module",
                                       "has": {"stopBy": "end", "kind": "string",
                                               "regex": "scores"}}}}
    branches = {"any": [
        {"kind": "call", "all": [{"has": {"field": "arguments", "has": {"pattern": "$K"}}},
                                 {"inside": {"stopBy": "end", "kind": "function_definition",
                                             "has": {"stopBy": "end", "pattern": "$K"}}}]},
        {"kind": "dictionary", "has": {"stopBy": "end", "pattern": "$K"}}]}
    config = {"rule": {"all": [whole_module, branches]}}
    assert [list(part) for part in _cheap_first_config(config)["rule"]["all"]] == [
        ["any"], ["not"]]


def test_module_conditions_are_necessary_and_skip_negations():
    from memlens.engine.compiled import module_conditions as _module_conditions

    has_list = {"has": {"kind": "expression_statement", "pattern": "$G = []"}}
    rule = {"all": [{"kind": "call"}, {"matches": "top"},
                    {"not": {"inside": {"kind": "module", **has_list}}}]}
    utils = {"top": {"inside": {"stopBy": "end", "kind": "module", **has_list}}}
    def conditions(rule, utils):
        return [(check, want) for check, want, _ in _module_conditions(rule, utils)]

    # the `not inside` names $G: a binding could change it, so it is no module condition
    assert conditions(rule, utils) == [({"kind": "module", **has_list}, True)]
    rule["all"][2] = {"not": {"inside": {"kind": "module", "has": {"pattern": "main()"}}}}
    assert len(conditions(rule, utils)) == 1  # only the parent: not the whole file
    rule["all"][2]["not"]["inside"]["stopBy"] = "end"
    assert conditions(rule, utils)[1] == ({"kind": "module",
                                           "has": {"pattern": "main()"}}, False)
    # once the root passes it, that `not inside` holds for every node: the variant run drops it
    from memlens.engine.compiled import without_negations as _without

    ids = {node_id for _, want, node_id in _module_conditions(rule, utils) if not want}
    assert _without({"rule": rule, "utils": utils}, ids)["rule"] == {
        "all": [{"kind": "call"}, {"matches": "top"}]}
    negated = {"inside": {"kind": "module", "has": {"not": {"pattern": "$X"}}}}
    assert _module_conditions(negated, {}) == []
    # ML703 needs a module-level container: without one the rule is not even run
    engine = Engine(Settings(select=["ML703"]))
    grows = "import numpy as np\n{}\ndef f(p):\n    CACHE.append(np.load(p))\n"
    assert codes(engine.check_source(grows.format("CACHE = []"))) == ["ML703"]
    assert codes(engine.check_source(grows.format("CACHE = make()"))) == []
