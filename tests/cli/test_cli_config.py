"""[tool.memlens] in pyproject.toml, command-line overrides, suppression comments, .gitignore."""

from __future__ import annotations

import pytest
from cli_helpers import NP_LOAD, SHOWN, SLICED, run, write


def codes(r) -> list[tuple[str, str]]:
    return sorted((f["filename"], f["code"]) for f in r.json())


def check_json(root, *args):
    return run("check", "--output-format", "json", "--no-cache", *args, cwd=root)


def test_select_and_ignore_in_config_and_cli_overrides(project):
    write(project, {"data.py": NP_LOAD})
    write(project, {"pyproject.toml": '[tool.memlens]\nignore = ["ML102"]\n'})
    assert codes(check_json(project)) == []
    write(project, {"pyproject.toml": '[tool.memlens]\nselect = ["ML6"]\n' + SHOWN})
    assert codes(check_json(project)) == []
    # The command line overrides the file's select.
    assert codes(check_json(project, "--select", "ML102")) == [("data.py", "ML102")]
    # --ignore adds to the file's ignore; --extend-select adds to its select.
    assert codes(check_json(project, "--extend-select", "ML102")) == [("data.py", "ML102")]
    assert codes(check_json(project, "--select", "ML1", "--ignore", "ML102")) == []
    # The most specific selector wins.
    assert codes(check_json(project, "--select", "ML102", "--ignore", "ML1")) == [
        ("data.py", "ML102")]
    assert codes(check_json(project, "--select", "ALL", "--ignore", "ML102")) == [] or all(
        code != "ML102" for _, code in codes(check_json(project, "--select", "ALL",
                                                          "--ignore", "ML102")))


def test_config_is_found_walking_up_from_the_checked_path(project):
    write(project, {"pyproject.toml": '[tool.memlens]\nignore = ["ML102"]\n',
                    "pkg/deep/data.py": NP_LOAD})
    assert codes(run("check", "--output-format", "json", "pkg/deep", cwd=project)) == []
    r = run("check", "--output-format", "json", str(project / "pkg"), cwd="/")
    assert r.json() == []


def test_per_file_ignores_exclude_and_severity(project):
    write(project, {
        "pyproject.toml": """\
            [tool.memlens]
            exclude = ["generated", "legacy_*.py"]
            [tool.memlens.per-file-ignores]
            "scripts/*" = ["ML102"]
            [tool.memlens.severity]
            ML102 = "warning"
            """,
        "pkg/data.py": NP_LOAD,
        "scripts/run.py": NP_LOAD,
        "generated/out.py": NP_LOAD,
        "legacy_io.py": NP_LOAD,
    })
    r = check_json(project)
    assert codes(r) == [("pkg/data.py", "ML102")]
    assert r.json()[0]["severity"] == "warning"
    # A path named on the command line is checked even when excluded (like Ruff).
    assert codes(check_json(project, "legacy_io.py")) == [("legacy_io.py", "ML102")]


def test_rule_dirs_load_the_projects_own_rules(rules_project):
    write(rules_project, {"a.py": "leaky_helper(1)\n"})
    assert codes(check_json(rules_project)) == [("a.py", "XT001")]
    assert codes(check_json(rules_project, "--ignore", "XT")) == []


def test_gitignore_is_respected_by_default(project):
    write(project, {".gitignore": "build/\n*_gen.py\n!keep_gen.py\n",
                    "build/data.py": NP_LOAD, "a_gen.py": NP_LOAD, "keep_gen.py": NP_LOAD,
                    "src/data.py": NP_LOAD, "src/.gitignore": "local.py\n",
                    "src/local.py": NP_LOAD})
    (project / ".git").mkdir()
    assert codes(check_json(project)) == [("keep_gen.py", "ML102"), ("src/data.py", "ML102")]
    everything = codes(check_json(project, "--no-respect-gitignore"))
    assert [name for name, _ in everything] == [
        "a_gen.py", "build/data.py", "keep_gen.py", "src/data.py", "src/local.py"]
    # A folder named on the command line is checked even if .gitignore ignores it.
    assert codes(check_json(project, "build")) == [("build/data.py", "ML102")]


def test_default_excludes(project):
    write(project, {".venv/lib/x.py": NP_LOAD, "node_modules/y.py": NP_LOAD,
                    "__pycache__/z.py": NP_LOAD, "ok.py": NP_LOAD})
    assert codes(check_json(project)) == [("ok.py", "ML102")]


def test_suppression_comments(project):
    write(project, {
        "a.py": "import numpy as np\nx = np.load('a')  # noqa\n" + SLICED,
        "b.py": "import numpy as np\nx = np.load('a')  # noqa: ML102\n" + SLICED,
        "c.py": "import numpy as np\nx = np.load('a')  # memlens: ignore[ML102]\n" + SLICED,
        "d.py": "# memlens: ignore-file\nimport numpy as np\nx = np.load('a')\n" + SLICED,
        "e.py": "import numpy as np\nx = np.load('a')  # noqa: E501\n" + SLICED,
    })
    assert codes(check_json(project)) == [("e.py", "ML102")]


def test_a_pyproject_below_the_checked_path_governs_its_folder(project):
    # Like Ruff: each file gets the configuration of its nearest pyproject.toml with
    # [tool.memlens], relative to that file's folder.
    write(project, {
        "pyproject.toml": '[tool.memlens]\nselect = ["ML1"]\n' + SHOWN,
        "a.py": NP_LOAD,
        "sub/pyproject.toml": ('[tool.memlens]\nexclude = ["skip"]\n'
                               'severity = { ML102 = "error" }\n'
                               'per-file-ignores = { "gen_*.py" = ["ML102"] }\n'),
        "sub/b.py": NP_LOAD, "sub/gen_b.py": NP_LOAD, "sub/skip/c.py": NP_LOAD,
        "other/d.py": NP_LOAD,
    })
    r = check_json(project)
    got = sorted((f["filename"], f["code"], f["severity"]) for f in r.json())
    assert got == [("a.py", "ML102", "info"), ("other/d.py", "ML102", "info"),
                   ("sub/b.py", "ML102", "error")]
    # From inside the folder, the same result for its files.
    r = check_json(project / "sub")
    assert sorted((f["filename"], f["severity"]) for f in r.json()) == [("b.py", "error")]
    # A path named on the command line is checked even when its project's exclude names it.
    r = check_json(project, "sub/skip/c.py")
    assert [(f["filename"], f["severity"]) for f in r.json()] == [("sub/skip/c.py", "error")]
    # --isolated ignores every configuration file (the findings are hints again: no a.npy).
    r = check_json(project, "--isolated", "--show-hints")
    assert sorted(f["filename"] for f in r.json()) == [
        "a.py", "other/d.py", "sub/b.py", "sub/gen_b.py", "sub/skip/c.py"]


def test_a_broken_nested_pyproject_exits_2_naming_it(project):
    write(project, {"a.py": NP_LOAD, "sub/b.py": NP_LOAD,
                    "sub/pyproject.toml": '[tool.memlens]\nselect = "ML1"\n'})
    r = check_json(project)
    assert r.returncode == 2
    assert "sub/pyproject.toml" in r.stderr and "tool.memlens.select" in r.stderr


@pytest.mark.parametrize("toml,key", [
    ('[tool.memlens]\nper-file-ignores = { "x/*" = "ML101" }\n',
     "tool.memlens.per-file-ignores.\"x/*\""),
    ('[tool.memlens]\nper-file-ignores = { "x/*" = 3 }\n', "tool.memlens.per-file-ignores.\"x/*\""),
    ('[tool.memlens]\nper-file-ignores = { "x/*" = [1] }\n',
     "tool.memlens.per-file-ignores.\"x/*\""),
    ('[tool.memlens]\nper-file-ignores = "x"\n', "tool.memlens.per-file-ignores"),
    ('tool = "x"\n', "tool"),
    ('tool = 1\n', "tool"),
    ('[tool]\nmemlens = "x"\n', "tool.memlens"),
    ('[tool.memlens]\nselect = "ML1"\n', "tool.memlens.select"),
    ('[tool.memlens]\nignore = [1]\n', "tool.memlens.ignore"),
    ('[tool.memlens]\nextend-select = {}\n', "tool.memlens.extend-select"),
    ('[tool.memlens]\nexclude = "build"\n', "tool.memlens.exclude"),
    ('[tool.memlens]\nrule-dirs = "rules"\n', "tool.memlens.rule-dirs"),
    ('[tool.memlens]\nrespect-gitignore = "no"\n', "tool.memlens.respect-gitignore"),
    ('[tool.memlens]\nskip-test-code = 0\n', "tool.memlens.skip-test-code"),
    ('[tool.memlens]\nseverity = "error"\n', "tool.memlens.severity"),
    ('[tool.memlens]\nseverity = { ML102 = 3 }\n', "tool.memlens.severity"),
    ('[tool.memlens]\nseverity = { ML102 = ["error"] }\n', "tool.memlens.severity"),
])
def test_a_value_of_the_wrong_type_is_one_line_naming_the_key_and_the_file(project, toml, key):
    """A string where a list belongs was read a character at a time: "ML101" became the
    selector "M", which ignores every rule ("All checks passed!", exit 0). An integer there, or
    `tool = "x"`, ended in a traceback. Every key's type is checked, as `select`'s was."""
    write(project, {"x/a.py": NP_LOAD, "pyproject.toml": toml})
    r = check_json(project)
    assert r.returncode == 2, r.stdout
    assert "Traceback" not in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr
    assert "pyproject.toml" in r.stderr and f"key '{key}'" in r.stderr


def test_a_config_nested_too_deep_is_one_line(project):
    """tomllib parses nested arrays recursively: 100,000 brackets were a RecursionError."""
    write(project, {"a.py": NP_LOAD,
                    "pyproject.toml": "[tool.memlens]\nx = " + "[" * 100_000 + "]" * 100_000})
    r = check_json(project)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.splitlines()) == 1 and "nested too deep" in r.stderr
