"""Exit codes: 0 clean, 1 findings, 2 usage or configuration errors with a one-line message."""

from __future__ import annotations

from cli_helpers import NP_LOAD, SAFE_RULE, run, write


def test_zero_one_and_exit_zero(project):
    write(project, {"clean.py": "x = 1\n"})
    assert run("check", cwd=project).returncode == 0
    write(project, {"data.py": NP_LOAD})
    assert run("check", cwd=project).returncode == 1
    assert run("check", "--exit-zero", cwd=project).returncode == 0


def test_default_path_is_the_current_folder(project):
    write(project, {"sub/data.py": NP_LOAD})
    r = run("check", "--output-format", "concise", cwd=project / "sub")
    assert r.stdout.startswith("data.py:3:5: ML102")


def _one_line_error(r, *needles):
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_missing_path(project):
    _one_line_error(run("check", "nope.py", cwd=project), "nope.py")


def test_unknown_flag_and_bad_format(project):
    _one_line_error(run("check", "--frobnicate", cwd=project), "--frobnicate")
    _one_line_error(run("check", "--output-format", "xml", cwd=project), "--output-format")


def test_unknown_selector_names_the_flag(project):
    _one_line_error(run("check", "--select", "ML999", cwd=project), "--select", "ML999")
    _one_line_error(run("check", "--ignore", "QQ1", cwd=project), "--ignore", "QQ1")


def test_bad_config_names_file_and_key(project):
    write(project, {"pyproject.toml": '[tool.memlens]\nselect = "ML1"\n'})
    _one_line_error(run("check", cwd=project), "pyproject.toml", "select")
    write(project, {"pyproject.toml": '[tool.memlens]\nbogus = 1\n'})
    _one_line_error(run("check", cwd=project), "pyproject.toml", "bogus")
    write(project, {"pyproject.toml": '[tool.memlens]\nselect = ["ML999"]\n'})
    _one_line_error(run("check", cwd=project), "pyproject.toml", "ML999")


def test_malformed_rule_file_names_file_and_key(project):
    write(project, {
        "pyproject.toml": '[tool.memlens]\nrule-dirs = ["rules"]\n',
        "rules/XT009.yml": "id: XT009\nmessage: m\nseverity: loud\nrule: {pattern: f()}\n"
                           "note: x\nmetadata: {family: t}\n",
    })
    _one_line_error(run("check", cwd=project), "XT009.yml", "severity")
    write(project, {"rules/XT009.yml": "id: XT009\nmessage: [unclosed\n"})
    _one_line_error(run("check", cwd=project), "XT009.yml", "YAML")


def test_a_rule_id_defined_twice_names_both_files(project):
    write(project, {"pyproject.toml": '[tool.memlens]\nrule-dirs = ["rules", "more"]\n',
                    "rules/XT001.yml": SAFE_RULE, "more/XT001.yml": SAFE_RULE})
    r = run("check", cwd=project)
    _one_line_error(r, "more/XT001.yml", "'id'")
    assert "already defined by" in r.stderr and "rules/XT001.yml" in r.stderr


def test_missing_rule_dir(project):
    write(project, {"pyproject.toml": '[tool.memlens]\nrule-dirs = ["nowhere"]\n'})
    _one_line_error(run("check", cwd=project), "nowhere")


def test_config_flag(project):
    write(project, {"data.py": NP_LOAD,
                    "other/pyproject.toml": '[tool.memlens]\nignore = ["ML1"]\n'})
    assert run("check", "--config", "other/pyproject.toml", cwd=project).returncode == 0
    _one_line_error(run("check", "--config", "missing.toml", cwd=project), "missing.toml")


def test_version(project):
    r = run("check", "--version", cwd=project)
    assert r.returncode == 0 and r.stdout.startswith("memlens ")


def test_quiet_prints_only_findings(project):
    write(project, {"data.py": NP_LOAD})
    r = run("check", "--quiet", cwd=project)
    assert r.returncode == 1 and "Found" not in r.stdout and "ML102" in r.stdout
    write(project, {"data.py": "x = 1\n"})
    r = run("check", "--quiet", cwd=project)
    assert (r.returncode, r.stdout) == (0, "")


def test_symlink_loop_ends(project):
    write(project, {"pkg/data.py": NP_LOAD})
    (project / "pkg" / "loop").symlink_to(project, target_is_directory=True)
    r = run("check", "--output-format", "concise", "--quiet", cwd=project)
    assert r.stdout.splitlines() == [line for line in r.stdout.splitlines()
                                     if line.startswith("pkg/data.py:")]
    assert len(r.stdout.splitlines()) == 1
