"""The rule language as one typed tree (`engine/ruletree.py`): it reads every rule as written,
reaches every rule object in one walk, and answers the engine's questions."""

from __future__ import annotations

import pytest

from memlens.engine.rulebook import builtin_rule_dir, load_rule_dir
from memlens.engine.ruletree import Node, config_patterns, read_utils

RULES = load_rule_dir(builtin_rule_dir())


def _rule_objects(value):
    """The rule objects in a YAML value, by hand (pattern objects and stopBy words aside)."""
    if isinstance(value, list):
        for item in value:
            yield from _rule_objects(item)
        return
    if not isinstance(value, dict):
        return
    yield value
    for key, sub in value.items():
        if key in ("inside", "has", "precedes", "follows", "not", "all", "any"):
            yield from _rule_objects(sub)
        elif key == "stopBy" and isinstance(sub, dict):
            yield from _rule_objects(sub)
        elif key == "nthChild" and isinstance(sub, dict) and isinstance(sub.get("ofRule"), dict):
            yield from _rule_objects(sub["ofRule"])


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_every_rule_object_is_read_and_walked(rule):
    parts = [rule.config["rule"], *(rule.config.get("utils") or {}).values(),
             *(rule.config.get("constraints") or {}).values()]
    for part in parts:
        tree = Node.read(part)
        assert tree.to_config() is part
        assert sorted(id(n.raw) for n in tree.walk()) == sorted(id(o) for o in _rule_objects(part))


def test_potential_kinds_through_any_all_and_utils():
    utils = read_utils({"call": {"kind": "call"}, "either": {"any": [{"kind": "call"},
                                                                      {"kind": "identifier"}]}})
    assert Node.read({"pattern": "np.load($P)"}).potential_kinds(utils) == {"call"}
    assert Node.read({"any": [{"kind": "call"}, {"pattern": "x = 1"}]}).potential_kinds(
        utils) == {"call", "assignment"}
    assert Node.read({"all": [{"matches": "either"}, {"kind": "call"}]}).potential_kinds(
        utils) == {"call"}
    assert Node.read({"any": [{"kind": "call"}, {"regex": "x"}]}).potential_kinds(utils) is None
    assert Node.read({"has": {"kind": "call"}}).potential_kinds(utils) is None


def test_metavariables_and_cost():
    util_vars = {"uses-x": frozenset({"X"})}
    tree = Node.read({"pattern": "$F($$$A)", "has": {"matches": "uses-x", "stopBy": "end"}})
    assert tree.metavariables(util_vars) == {"F", "A", "X"}
    near = Node.read({"has": {"kind": "call"}}).cost({})
    deep = Node.read({"has": {"kind": "call", "stopBy": "end"}}).cost({})
    up = Node.read({"inside": {"kind": "call", "stopBy": "end"}}).cost({})
    assert near < up < deep


def test_pattern_texts_of_a_rule_file():
    config = {"rule": {"any": [{"pattern": "np.load($P)"},
                               {"pattern": {"context": "pd.read_csv($P)", "selector": "call"}}]},
              "utils": {"u": {"has": {"pattern": "torch.load($P)"}}},
              "constraints": {"P": {"not": {"pattern": "io.BytesIO($$$)"}}}}
    assert sorted(config_patterns(config)) == ["io.BytesIO($$$)", "np.load($P)",
                                               "pd.read_csv($P)", "torch.load($P)"]


def test_direct_metavariables_negations_and_utils():
    tree = Node.read({"any": [{"pattern": "$X"}, {"pattern": "f($A, $$$REST)"}],
                      "has": {"pattern": "$B"}, "not": {"matches": "u"}})
    assert tree.direct_metavariables() == ({"X", "A"}, {"REST"}, {"X"})
    assert [n.raw for n in tree.negated()] == [{"matches": "u"}]
    assert tree.mentions_util() and not Node.read({"kind": "call"}).mentions_util()


def test_rewrite_rebuilds_every_rule_object_bottom_up():
    from memlens.engine.ruletree import rewrite

    rule = {"all": [{"kind": "call"}, {"not": {"matches": "u"}}],
            "inside": {"kind": "for_statement", "stopBy": {"matches": "u"}},
            "has": {"nthChild": {"position": 1, "ofRule": {"matches": "u"}}},
            "pattern": {"context": "f($X)", "selector": "call"}}
    seen = []

    def renamed(written, rebuilt):
        seen.append(written)
        if rebuilt.get("matches") == "u":
            rebuilt["matches"] = "v"
        return rebuilt

    out = rewrite(rule, renamed)
    assert out["all"][1] == {"not": {"matches": "v"}}
    assert out["inside"]["stopBy"] == {"matches": "v"}
    assert out["has"]["nthChild"]["ofRule"] == {"matches": "v"}
    assert out["pattern"] is rule["pattern"]  # not a rule object: kept as written
    assert seen[-1] is rule and rule["all"][1] == {"not": {"matches": "u"}}  # input untouched
