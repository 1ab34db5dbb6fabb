"""The default set is set by measurement: a rule is on by default only at 90% precision or more on
the ecosystem corpus (on at least 20 judged findings, or all it makes), an opt-in rule needs 70%,
and the audit group is held to no bar. The bar is on the findings shown by default; hints (the
pattern is there, its size is not known) are counted apart. The numbers come from the committed labels and baseline
(benchmarks/ecosystem), never by hand: measured.json must be what they give."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from memlens.engine.rulebook import builtin_rule_dir, load_rule_dir

REPO = Path(__file__).resolve().parents[2]
ECOSYSTEM = REPO / "benchmarks" / "ecosystem"
RULES = {r.id: r for r in load_rule_dir(builtin_rule_dir())}
MEASURED = json.loads((builtin_rule_dir() / "measured.json").read_text(encoding="utf-8"))


def _recomputed() -> dict[str, dict]:
    baseline = json.loads((ECOSYSTEM / "baseline.json").read_text(encoding="utf-8"))
    with (ECOSYSTEM / "labels.csv").open(encoding="utf-8", newline="") as f:
        verdicts = {(r["rule"], r["project"], r["location"]): r["verdict"]
                    for r in csv.DictReader(f)}
    out = {code: {"findings": 0, "judged": 0, "true": 0, "hints": 0} for code in RULES}
    # (a place counts once: two findings of a rule on one line are one place to judge)
    for rule, _project, _location in {tuple(h) for h in baseline.get("hints", [])}:
        if rule in out:
            out[rule]["hints"] += 1  # the pattern without a size: shown faintly, no bar
    for rule, project, location in {tuple(f) for f in baseline["findings"]}:
        if rule not in out:
            continue
        out[rule]["findings"] += 1
        verdict = verdicts.get((rule, project, location))
        if verdict is not None:
            out[rule]["judged"] += 1
            out[rule]["true"] += verdict == "true"
    return out


def test_measured_json_is_what_the_labels_and_baseline_give():
    assert MEASURED["rules"] == _recomputed()


def test_every_rule_is_measured():
    assert set(MEASURED["rules"]) == set(RULES)


@pytest.mark.parametrize("code", sorted(RULES))
def test_rule_meets_its_bar(code):
    rule, m = RULES[code], MEASURED["rules"][code]
    if rule.is_audit:
        assert not rule.default_on
        return
    # judged on at least 20 findings, or on all of them
    assert m["judged"] >= min(20, m["findings"]), (code, m)
    if m["judged"]:
        bar = 0.9 if rule.default_on else 0.7
        assert m["true"] / m["judged"] >= bar, (code, m)


def test_the_docs_show_precision_and_sample_size():
    text = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert "| Precision (judged) |" in text
    for code, rule in RULES.items():
        m = rule.measured
        assert m is not None and m.describe() in text, code
