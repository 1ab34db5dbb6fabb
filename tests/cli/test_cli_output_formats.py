"""Every output format of `memlens check`, parsed and shape-checked."""

from __future__ import annotations

import json
import re

import pytest
from cli_helpers import NP_LOAD, SLICED, run, write

FILES = {"pkg/data.py": NP_LOAD, "pkg/clean.py": "def f():\n    return 1\n"}


def test_text_format_has_location_excerpt_caret_and_summary(project):
    write(project, FILES)
    r = run("check", "--select", "ML102", cwd=project)
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    header = next(line for line in lines if "ML102" in line)
    assert re.match(r"^pkg/data\.py:3:5: ML102 np\.load", header), header
    assert "3 | x = np.load('a.npy')" in r.stdout
    caret = next(line for line in lines if "^" in line)
    assert caret.endswith("^" * len("np.load('a.npy')") + " ML102"), caret
    assert "= help: Memory-map" in r.stdout
    assert lines[-1] == "Found 1 finding (1 fixable with --unsafe-fixes)."


def test_text_format_marks_applicable_fixes_and_counts_them(rules_project):
    write(rules_project, {"a.py": "leaky_helper(1)\nrisky_helper(2)\n"})
    r = run("check", "--select", "XT", cwd=rules_project)
    assert "a.py:1:1: XT001 [*] leaky_helper" in r.stdout
    assert "a.py:2:1: XT002 risky_helper" in r.stdout  # a suggestion: not applied by --fix
    assert r.stdout.splitlines()[-1] == (
        "Found 2 findings (1 fixable with --fix, 1 more fixable with --unsafe-fixes).")
    r = run("check", "--select", "XT", "--unsafe-fixes", cwd=rules_project)
    assert "a.py:2:1: XT002 [*] risky_helper" in r.stdout


def test_clean_project_passes(project):
    write(project, {"clean.py": "def f():\n    return 1\n"})
    r = run("check", cwd=project)
    assert (r.returncode, r.stdout.strip()) == (0, "All checks passed!")


def test_concise_is_one_line_per_finding(project):
    write(project, FILES)
    r = run("check", "--select", "ML102", "--output-format", "concise", "--quiet", cwd=project)
    assert r.stdout.splitlines() == [
        "pkg/data.py:3:5: ML102 np.load reads the whole array into memory; "
        'memory-map it with mmap_mode="r"']


def test_json_is_a_list_of_findings_in_ruffs_shape(project):
    write(project, FILES)
    r = run("check", "--select", "ML102", "--output-format", "json", cwd=project)
    assert r.returncode == 1
    data = r.json()
    assert isinstance(data, list) and len(data) == 1
    [f] = data
    assert set(f) == {"code", "message", "severity", "evidence", "filename", "cell", "location",
                      "end_location", "fix", "url"}
    assert (f["code"], f["severity"], f["filename"]) == ("ML102", "info", "pkg/data.py")
    assert f["cell"] is None  # a notebook's cell, as Ruff gives it
    # no a.npy: the pattern alone (a hint, shown at info because the project sets ML102 so)
    assert f["evidence"] == "pattern"
    assert f["location"] == {"row": 3, "column": 5}
    assert f["end_location"] == {"row": 3, "column": 21}
    assert f["url"].endswith("#ml102")
    fix = f["fix"]
    assert fix["applicability"] == "unsafe" and fix["message"]
    [edit] = fix["edits"]
    assert set(edit) == {"content", "location", "end_location"}
    assert 'mmap_mode="r"' in edit["content"]


def test_json_of_clean_project_is_empty_list(project):
    write(project, {"clean.py": "x = 1\n"})
    r = run("check", "--output-format", "json", cwd=project)
    assert (r.returncode, r.json()) == (0, [])


@pytest.mark.parametrize("warm", [False, True])
def test_sarif_is_valid_2_1_0_with_rule_metadata(project, warm):
    """Cold, and warm (every finding from the cache: the rules are loaded for their metadata
    all the same)."""
    write(project, FILES)
    if warm:
        run("check", "--select", "ML102", cwd=project)
    r = run("check", "--select", "ML102", "--output-format", "sarif", cwd=project)
    assert r.returncode == 1
    log = json.loads(r.stdout)
    assert log["version"] == "2.1.0"
    assert "sarif-2.1.0" in log["$schema"]
    [run_] = log["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "memlens" and driver["version"]
    rules = {rule["id"]: rule for rule in driver["rules"]}
    rule = rules["ML102"]
    assert rule["shortDescription"]["text"].startswith("np.load")
    assert "## What it does" in rule["fullDescription"]["text"]
    assert "## Why is this bad" in rule["help"]["markdown"]
    assert rule["helpUri"].endswith("#ml102")
    assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note", "none")
    [result] = run_["results"]
    assert result["ruleId"] == "ML102"
    assert result["level"] == "note"
    assert driver["rules"][result["ruleIndex"]]["id"] == "ML102"
    assert result["message"]["text"]
    [location] = result["locations"]
    physical = location["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "pkg/data.py"
    assert physical["region"] == {"startLine": 3, "startColumn": 5, "endLine": 3,
                                  "endColumn": 21}


def test_github_workflow_commands(project):
    write(project, FILES)
    r = run("check", "--select", "ML102", "--output-format", "github", cwd=project)
    assert r.returncode == 1
    assert r.stdout.splitlines() == [
        "::warning file=pkg/data.py,line=3,col=5,endLine=3,endColumn=21,title=ML102::"
        'np.load reads the whole array into memory; memory-map it with mmap_mode="r"']


def test_statistics_counts_per_rule(project):
    write(project, {"a.py": NP_LOAD + "y = np.load('b.npy')\n" + SLICED.replace("x", "y"), "b.py": NP_LOAD})
    r = run("check", "--select", "ML102", "--statistics", "--no-cache", cwd=project)
    assert r.returncode == 1
    first = r.stdout.splitlines()[0].split("\t")
    assert (first[0].strip(), first[1].strip()) == ("3", "ML102")
    assert "Checked 2 files" in r.stdout
    r = run("check", "--select", "ML102", "--statistics", "--output-format", "json",
            "--no-cache", cwd=project)
    stats = r.json()["statistics"]
    assert stats == [{"code": "ML102", "count": 3, "fixable": False, "fixable_count": 0,
                      "message": stats[0]["message"]}]


HINTED = {"pkg/predict.py": (
    "import torch\n\n\ndef classify(model, batch):\n    model.eval()\n"
    "    return model(batch).argmax(dim=1)\n")}


def test_hints_are_shown_only_when_asked_and_never_fail_the_run(project):
    """A hint (the pattern is there, its size is not known) is left out of `memlens check`
    unless --show-hints (or `show-hints = true`) asks for it, and never sets the exit code."""
    write(project, HINTED)
    r = run("check", "--select", "ML501", cwd=project)
    assert r.returncode == 0
    assert "All checks passed! 1 hint not shown" in r.stdout
    r = run("check", "--select", "ML501", "--show-hints", "--output-format", "json", cwd=project)
    assert r.returncode == 0
    [f] = r.json()
    assert (f["code"], f["severity"], f["evidence"]) == ("ML501", "hint", "pattern")
    write(project, {"pyproject.toml": "[tool.memlens]\nshow-hints = true\n"})
    r = run("check", "--select", "ML501", "--output-format", "json", cwd=project)
    assert [f["severity"] for f in r.json()] == ["hint"] and r.returncode == 0
