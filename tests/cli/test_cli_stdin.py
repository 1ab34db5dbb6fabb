"""`memlens check -`: one file read from stdin (editors and pipes), and files named on the
command line, which are parsed even when no rule could match them (their syntax errors show)."""

from __future__ import annotations

import ast
import json
import subprocess

from cli_helpers import MEMLENS, NP_LOAD, run, write


def stdin(data: str | bytes, *args: str, cwd) -> subprocess.CompletedProcess:
    raw = data.encode() if isinstance(data, str) else data
    return subprocess.run([*MEMLENS, "check", "-", *args], input=raw, capture_output=True,
                          cwd=cwd, timeout=120)


def test_stdin_findings_under_the_given_name(project):
    r = stdin(NP_LOAD, "--stdin-filename", "src/data.py", "--output-format", "json",
              cwd=project)
    assert r.returncode == 1
    [f] = json.loads(r.stdout)
    assert (f["filename"], f["code"], f["location"]) == ("src/data.py", "ML102",
                                                          {"row": 3, "column": 5})
    # no name given: `-`
    r = stdin(NP_LOAD, "--output-format", "concise", cwd=project)
    assert r.stdout.decode().startswith("-:3:5: ML102 ")


def test_stdin_uses_the_configuration_of_the_named_file(project):
    write(project, {"sub/pyproject.toml": '[tool.memlens]\nignore = ["ML102"]\n'})
    r = stdin(NP_LOAD, "--stdin-filename", "sub/x.py", "--output-format", "json", cwd=project)
    assert r.returncode == 0 and json.loads(r.stdout) == []
    write(project, {"pyproject.toml": '[tool.memlens]\nper-file-ignores = {"gen_*" = ["ML1"]}\n'})
    r = stdin(NP_LOAD, "--stdin-filename", "gen_a.py", "--output-format", "json", cwd=project)
    assert r.returncode == 0 and json.loads(r.stdout) == []


def test_stdin_fix_prints_the_fixed_code_and_reports_on_stderr(project):
    r = stdin(NP_LOAD, "--fix", "--unsafe-fixes", cwd=project)
    fixed = r.stdout.decode()
    ast.parse(fixed)
    assert 'np.load(\'a.npy\', mmap_mode="r")' in fixed
    assert "Fixed 1 finding" in r.stderr.decode() and r.returncode == 0
    # --diff: the diff on stdout, nothing written anywhere
    r = stdin(NP_LOAD, "--diff", "--unsafe-fixes", cwd=project)
    assert '+x = np.load(\'a.npy\', mmap_mode="r")' in r.stdout.decode()
    assert r.returncode == 1
    assert not (project / "-").exists() and not (project / ".memlens_cache").exists()


def test_stdin_bad_input(project):
    r = stdin("x = (1,\n", "--output-format", "json", cwd=project)
    assert [f["code"] for f in json.loads(r.stdout)] == ["syntax-error"]
    r = stdin(b"\xff\xfe x = 1\n", "--output-format", "json", cwd=project)
    [f] = json.loads(r.stdout)
    assert f["code"] == "io-error" and "not UTF-8" in f["message"]
    # --fix on input it cannot read gives the input back unchanged
    r = stdin(b"\xff\xfe x = 1\n", "--fix", cwd=project)
    assert r.stdout == b"\xff\xfe x = 1\n" and r.returncode == 1


def test_stdin_statistics(project):
    r = stdin(NP_LOAD, "--statistics", "--output-format", "json", cwd=project)
    data = json.loads(r.stdout)
    assert r.returncode == 1 and data["files"] == 1
    assert [(s["code"], s["count"]) for s in data["statistics"]] == [("ML102", 1)]
    r = stdin(NP_LOAD, "--statistics", cwd=project)
    assert "ML102" in r.stdout.decode() and r.returncode == 1


def test_stdin_is_read_alone(project):
    write(project, {"a.py": NP_LOAD})
    r = stdin("", "a.py", cwd=project)
    assert r.returncode == 2 and "stdin is read alone" in r.stderr.decode()
    r = run("check", "a.py", "--stdin-filename", "x.py", cwd=project)
    assert r.returncode == 2 and "--stdin-filename" in r.stderr


def test_a_named_file_shows_its_syntax_error_even_when_no_rule_could_match(project):
    write(project, {"broken.py": "def f(:\n    pass\nx = (1,\n", "pkg/broken.py": "x = (1,\n"})
    r = run("check", "--output-format", "json", "broken.py", cwd=project)
    assert [(f["filename"], f["code"]) for f in r.json()] == [("broken.py", "syntax-error")]
    assert r.returncode == 1
    # found in a folder, a file no rule could match is not parsed (the prefilter's one cost)
    r = run("check", "--output-format", "json", "--no-cache", "pkg", cwd=project)
    assert r.json() == [] and r.returncode == 0
