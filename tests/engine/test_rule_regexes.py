"""The regexes of a project's own rules (rule-dirs) run on a linear-time engine: a rule cannot
freeze a check with a catastrophic pattern, and one RE2 cannot run is refused with a clear
error. The built-in rules keep Python's `re` and its fast paths."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from memlens.engine import Engine, Settings
from memlens.engine.rulebook import RuleError, builtin_rule_dir, load_rule_dir, parse_rule

RULE = """\
id: XR001
message: a slow helper
severity: info
rule:
  pattern: slow_helper($$$A)
metadata:
  family: test
  prefilter: {prefilter}
note: |
  ## What it does
  Flags slow_helper.

  ## Why is this bad
  It is a fixture.

  ## Example
  ```python
  slow_helper(1)
  ```

  ## Use instead
  ```python
  fast_helper(1)
  ```
"""


def _rule_dir(tmp_path, prefilter: str):
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "XR001.yml").write_text(RULE.format(prefilter=prefilter))
    return folder


def test_a_catastrophic_regex_runs_in_linear_time(tmp_path):
    # `(a+)+$` on 40 a's and a `!`: about 2**40 steps in Python's re; RE2 answers at once.
    # (The timeout is the failure: with Python's re this would run for days.)
    folder = _rule_dir(tmp_path, "'(a+)+$'")
    (tmp_path / "pyproject.toml").write_text(f"[tool.memlens]\nrule-dirs = [{folder.name!r}]\n")
    (tmp_path / "m.py").write_text("x = '" + "a" * 40 + "!'\nslow_helper(x)\n")
    done = subprocess.run(
        [sys.executable, "-m", "memlens", "check", "m.py", "--no-cache", "--select", "XR001",
         "--output-format", "json", "--exit-zero"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # RE2 logs nothing of its own


def test_the_engine_finds_what_the_rule_says(tmp_path):
    folder = _rule_dir(tmp_path, "'slow_(\\w+)'")
    engine = Engine(Settings(select=("XR001",), rule_dirs=(folder,)))
    assert [f.code for f in engine.check_source("slow_helper(1)\n", "m.py")] == ["XR001"]
    assert engine.check_source("fast_helper(1)\n", "m.py") == []


@pytest.mark.parametrize("regex", ["'(?<!\\.)slow_helper'", "'(slow)_\\1'"])
def test_a_regex_that_needs_backtracking_is_refused_clearly(tmp_path, regex):
    folder = _rule_dir(tmp_path, regex)
    with pytest.raises(RuleError) as err:
        load_rule_dir(folder)
    message = str(err.value)
    assert "metadata.prefilter" in message and "linear-time" in message
    assert "\n" not in message


def test_builtin_rules_keep_pythons_re():
    rules = {r.id: r for r in load_rule_dir(builtin_rule_dir())}
    assert rules["ML401"].prefilter is not None  # its regexes use lookbehind: Python's re


def test_same_and_lines_with_run_on_re2_too():
    data = {
        "id": "XR002", "message": "m", "severity": "info", "rule": {"pattern": "f($A)"},
        "metadata": {"family": "t", "prefilter": [
            {"same": ["(\\w+) = f\\(", "(\\w+)\\.grow\\("]},
            {"regex": "grow\\(", "lines-with": "grow"},
            {"regex": "f\\(", "outside": "functions"},
        ]},
        "note": textwrap.dedent(RULE.split("note: |\n", 1)[1]),
    }
    rule = parse_rule(data, "<project rule>")
    engine = Engine(Settings(select=("XR002",)), rules=[rule])
    assert [f.code for f in engine.check_source("a = f(1)\na.grow(2)\n", "m.py")] == ["XR002"]
    assert engine.check_source("a = f(1)\nb.grow(2)\n", "m.py") == []


REGEXES = [r"^readlines$", r"^(sys\.stdin|os\.popen\(.*\))$", r"[._](x_?)?train$", r"^@\s*[\w.]*\b",
           r"[^a]b", r"\Wx", r"\\.", r"\.", r"[]a.]", r"\d+\S", r"(?i)^df_", r"a\\\\W"]


def test_ascii_mode_is_tried_only_where_ast_grep_accepts_it():
    """`(?-u)` is not even tried on a regex it would reject (`compiled._matches_any_byte`);
    asked in another process, ast-grep accepts exactly the others."""
    from memlens.engine.compiled import _matches_any_byte

    probe = textwrap.dedent("""\
        import json, sys
        from ast_grep_py import SgRoot
        root = SgRoot("x = 1", "python").root()
        accepted = []
        for regex in json.loads(sys.argv[1]):
            try:
                root.find_all({"rule": {"regex": "(?-u)" + regex}})
                accepted.append(True)
            except Exception:
                accepted.append(False)
        print(json.dumps(accepted))
        """)
    regexes = REGEXES + sorted({r for rule in load_rule_dir(builtin_rule_dir(), check=False)
                                for r in _regexes(rule.config)})
    out = subprocess.run([sys.executable, "-c", probe, json.dumps(regexes)], check=True,
                         capture_output=True, text=True).stdout
    accepted = json.loads(out)
    assert [not _matches_any_byte(r) for r in regexes] == accepted


def _regexes(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "regex" and isinstance(value, str):
                yield value
            else:
                yield from _regexes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _regexes(value)
