"""`memlens rule`: one rule's docs, every rule as JSON, and the generated docs/rules.md."""

from __future__ import annotations

import json

from cli_helpers import REPO, run

REGENERATE = ".venv/bin/memlens rule --all --output-format markdown --isolated > docs/rules.md"


def test_rule_prints_its_docs(project):
    r = run("rule", "ML102", cwd=project)
    assert r.returncode == 0
    assert r.stdout.startswith("# ML102: ")
    for section in ("## What it does", "## Why is this bad", "## Example", "## Use instead"):
        assert section in r.stdout
    assert run("rule", "ml102", cwd=project).returncode == 0


def test_unknown_rule_exits_two(project):
    r = run("rule", "ML999", cwd=project)
    assert r.returncode == 2 and "ML999" in r.stderr
    assert run("rule", cwd=project).returncode == 2


def test_all_as_json_lists_every_rule(project):
    r = run("rule", "--all", "--output-format", "json", cwd=project)
    assert r.returncode == 0
    rules = json.loads(r.stdout)
    files = sorted(p.stem for p in (REPO / "server/memlens/rules").glob("*.yml"))
    assert [rule["code"] for rule in rules] == files
    for rule in rules:
        assert {"code", "message", "severity", "family", "default", "fix", "url",
                "explanation"} <= set(rule)
        assert rule["url"].endswith("#" + rule["code"].lower())


def test_project_rules_are_listed(rules_project):
    r = run("rule", "XT001", cwd=rules_project)
    assert r.returncode == 0 and "leaky_helper" in r.stdout


def test_docs_rules_md_is_up_to_date():
    """docs/rules.md is generated from the rule files; it must match the current ones."""
    r = run("rule", "--all", "--output-format", "markdown", "--isolated", cwd=REPO)
    assert r.returncode == 0, r.stderr
    path = REPO / "docs" / "rules.md"
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    assert current == r.stdout, (
        f"docs/rules.md is out of date with the rule files; regenerate it with:\n"
        f"    {REGENERATE}")
    for line in r.stdout.splitlines():
        if line.startswith("## ML"):
            assert line == f"## {line[3:].strip()}"  # the anchor is the lower-cased id


def test_rule_docs_show_metavariables_readably(project):
    r = run("rule", "ML401", cwd=project)
    assert r.returncode == 0
    heading = r.stdout.splitlines()[0]
    assert heading.startswith("# ML401: `A` is regrown by copying in a loop"), heading
    assert "$" not in heading
