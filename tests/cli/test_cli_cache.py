"""The content-hash cache: a warm re-run reuses findings; changes, settings and --no-cache."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from cli_helpers import MEMLENS, NP_LOAD, run, write


def stats(root, *args):
    r = run("check", "--statistics", "--output-format", "json", *args, cwd=root)
    data = r.json()
    return data["cache"], {s["code"]: s["count"] for s in data["statistics"]}


def test_second_run_uses_the_cache(project):
    write(project, {"a.py": NP_LOAD, "b.py": "x = 1\n"})
    cache, counts = stats(project)
    assert cache == {"hits": 0, "misses": 2} and counts == {"ML102": 1}
    cache, counts = stats(project)
    assert cache == {"hits": 2, "misses": 0} and counts == {"ML102": 1}
    assert (project / ".memlens_cache").is_dir()
    # The cached findings are the same in every format.
    assert [f["code"] for f in run("check", "--output-format", "json", cwd=project).json()] == [
        "ML102"]


def test_changed_file_is_rechecked(project):
    write(project, {"a.py": NP_LOAD, "b.py": "x = 1\n"})
    stats(project)
    write(project, {"b.py": NP_LOAD + "y = 2\n"})
    cache, counts = stats(project)
    assert cache == {"hits": 1, "misses": 1} and counts == {"ML102": 2}


def test_settings_and_rule_changes_invalidate(rules_project):
    write(rules_project, {"a.py": NP_LOAD + "leaky_helper(1)\n"})
    cache, counts = stats(rules_project)
    assert counts == {"ML102": 1, "XT001": 1}
    cache, counts = stats(rules_project, "--ignore", "ML102")
    assert cache["hits"] == 0 and counts == {"XT001": 1}
    rule = rules_project / "rules" / "XT001.yml"
    rule.write_text(rule.read_text().replace("severity: warning", "severity: hint"))
    cache, _ = stats(rules_project)
    assert cache["hits"] == 0


def test_no_cache_neither_reads_nor_writes(project):
    write(project, {"a.py": NP_LOAD})
    cache, _ = stats(project, "--no-cache")
    assert not (project / ".memlens_cache").exists()
    assert cache["hits"] == 0


def test_corrupt_cache_is_ignored(project):
    write(project, {"a.py": NP_LOAD})
    stats(project)
    for path in (project / ".memlens_cache").glob("*.json"):
        path.write_text("{not json")
    cache, counts = stats(project)
    assert cache["misses"] == 1 and counts == {"ML102": 1}


def test_two_processes_at_once_leave_a_valid_cache(project):
    write(project, {f"m{i}.py": NP_LOAD for i in range(30)})
    cmd = [*MEMLENS, "check", "--exit-zero", "--jobs", "1", "."]
    procs = [subprocess.Popen(cmd, cwd=project, stdout=subprocess.DEVNULL) for _ in range(2)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    [cache_file] = (project / ".memlens_cache").glob("*.json")
    assert len(json.loads(cache_file.read_text())["files"]) == 30
    assert not list((project / ".memlens_cache").glob("*.tmp"))
    cache, counts = stats(project)
    assert cache == {"hits": 30, "misses": 0} and counts == {"ML102": 30}


def test_bad_input_verdicts_are_cached_by_content(project):
    """A file memlens cannot read as Python (not UTF-8, NUL bytes) is a per-file error line on
    every run, but a warm run takes it from the cache like any other verdict (it does not
    check anything, nor load the rules): until its content changes."""
    write(project, {"a.py": NP_LOAD})
    (project / "latin.py").write_bytes(b"name = '\xe9t\xe9'\n")
    (project / "nul.py").write_bytes(b"x = 1\0\n")
    cache, counts = stats(project)
    assert cache == {"hits": 0, "misses": 3} and counts == {"ML102": 1, "io-error": 2}
    cache, counts = stats(project)
    assert cache == {"hits": 3, "misses": 0} and counts == {"ML102": 1, "io-error": 2}
    (project / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\n")
    cache, counts = stats(project)
    assert cache == {"hits": 2, "misses": 1} and counts == {"ML102": 1, "io-error": 1}


def test_a_warm_run_does_not_load_the_engine(project):
    """Nothing changed: the findings come from the cache, and the rules are neither loaded nor
    compiled (the engine module, with ast-grep, is not even imported). A bad selector is still
    an error."""
    write(project, {"a.py": NP_LOAD, "b.py": "x = 1\n"})
    run("check", cwd=project)
    warm = run("check", cwd=project, env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert warm.returncode == 1 and "ML102" in warm.stdout
    assert "memlens.engine.batch" in warm.stderr  # what it imported is listed
    assert "memlens.engine.core" not in warm.stderr and "ast_grep_py" not in warm.stderr
    bad = run("check", "--select", "ML999", cwd=project)
    assert bad.returncode == 2 and "--select" in bad.stderr and "ML999" in bad.stderr


def test_named_files_use_entries_of_whole_file_checks(project):
    """A walk may leave code no rule needs out of the parse (so a syntax error there goes
    unreported); a file named on the command line is parsed whole. Its cache entry says which:
    a named file reuses only the entry of a whole-file check. (The probe is ML603, a rule that
    looks only at the definition its match is in: ML102 looks at the code after a load, so a
    file it may match is always parsed whole.)"""
    filler = "".join(f"def helper_{i}(a, b):\n    return a + b * {i}\n\n\n" for i in range(80))
    tuner = "import gc\n\n\ndef tune():\n    gc.set_threshold(0)\n\n\n"
    broken = tuner + filler + "def broken():\n    return )\n"
    write(project, {"a.py": broken})
    cache, counts = stats(project)  # the walk: `broken` is left out of the parse
    assert cache == {"hits": 0, "misses": 1} and counts == {"ML603": 1}
    cache, counts = stats(project, "a.py")  # named: parsed whole, whatever the cache holds
    assert cache == {"hits": 0, "misses": 1} and counts == {"ML603": 1, "syntax-error": 1}
    cache, counts = stats(project, "a.py")  # now its entry is a whole-file one
    assert cache == {"hits": 1, "misses": 0} and counts == {"ML603": 1, "syntax-error": 1}
    cache, counts = stats(project)  # and the walk may use it too
    assert cache == {"hits": 1, "misses": 0} and counts == {"ML603": 1, "syntax-error": 1}


# --- a cache folder the repository controls ---------------------------------------------------


def test_a_symlinked_cache_folder_is_not_followed(project):
    """A repository that commits `.memlens_cache -> <any folder>` would have memlens write its
    cache there, with a `.gitignore` of `*` that hides every new file of that folder from
    `git add .`. The link is refused with one warning, and the run goes on without the cache."""
    elsewhere = project.parent / f"{project.name}-elsewhere"
    elsewhere.mkdir()
    write(project, {"a.py": NP_LOAD})
    os.symlink(elsewhere, project / ".memlens_cache")
    for _ in range(2):
        r = run("check", "--output-format", "json", cwd=project)
        assert r.returncode == 1 and [f["code"] for f in r.json()] == ["ML102"]
        warnings = [line for line in r.stderr.splitlines() if "warning" in line]
        assert len(warnings) == 1 and ".memlens_cache is a symbolic link: not followed" in warnings[0]
        assert "Traceback" not in r.stderr
    assert list(elsewhere.iterdir()) == []
    cache, _ = stats(project)
    assert cache == {"hits": 0, "misses": 1}


def _cache_files(project):
    return list((project / ".memlens_cache").glob("*.json"))


@pytest.mark.parametrize("content", [
    [], "null", {"format": 2, "files": []}, {"format": 2, "files": "x"},
    {"format": "2", "files": {}}, {"format": 2},
    {"format": 2, "files": {"A": [1, 2]}},
    {"format": 2, "files": {"A": "entry"}},
    {"format": 2, "files": {"A": [1, 2, 3, "d", "findings", True]}},
    {"format": 2, "files": {"A": [1, 2, 3, "d", [["ML1", "m", "warning", [0], [0, 1], None,
                                                  None]], True]}},
    {"format": 2, "files": {"A": [1, 2, 3, "d", [["ML1", "m", "loud", [0, 0], [0, 1], None,
                                                  None]], True]}},
    {"format": 2, "files": {"A": [1, 2, 3, "d", [["ML1", "m", "info", [0, 0], [0, 1],
                                                  ["safe", "m", [[0, 0]]], None]], True]}},
    {"format": 2, "files": {"A": [1, 2, 3, "d", [["ML1", "m", "info", [0, 0], [0, 1],
                                                  ["x", "m", []], None]], True]}},
    {"format": 2, "files": {"A": [True, 2.5, "t", None, [], "yes"]}},
    "[" * 100_000,
])
def test_a_cache_of_the_wrong_shape_is_a_miss(project, content):
    """Valid JSON of another shape than ours crashed every later run with a traceback, until
    the folder was deleted: it is a miss now, and the findings are all there."""
    write(project, {"a.py": NP_LOAD, "b.py": NP_LOAD})
    stats(project)
    for path in _cache_files(project):
        text = json.dumps(content) if not isinstance(content, str) else content
        text = text.replace('"A"', json.dumps(str(project / "a.py")))
        path.write_text(text)
    r = run("check", "--statistics", "--output-format", "json", cwd=project)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert {s["code"]: s["count"] for s in r.json()["statistics"]} == {"ML102": 2}
    assert r.json()["cache"]["misses"] >= 1
    cache, counts = stats(project)  # and the cache is whole again
    assert cache == {"hits": 2, "misses": 0} and counts == {"ML102": 2}


def test_a_cache_shipped_with_the_repository_is_not_read(project, tmp_path_factory):
    """A crafted entry (the file's content hash, no findings) made the findings disappear:
    "All checks passed!", exit 0. The namespace is keyed with a secret of the user's, kept
    out of the project: the cache of someone else's machine is never read as valid."""
    write(project, {"a.py": NP_LOAD})
    theirs = {"MEMLENS_CACHE_DIR": str(tmp_path_factory.mktemp("their-cache"))}
    ours = {"MEMLENS_CACHE_DIR": str(tmp_path_factory.mktemp("our-cache"))}
    assert run("check", cwd=project, env=theirs).returncode == 1
    [crafted] = _cache_files(project)
    data = json.loads(crafted.read_text())
    for entry in data["files"].values():
        entry[4] = []  # the same content hash, no findings
    crafted.write_text(json.dumps(data))
    assert run("check", cwd=project, env=theirs).returncode == 0  # theirs is fooled...
    r = run("check", "--output-format", "json", cwd=project, env=ours)
    assert r.returncode == 1 and [f["code"] for f in r.json()] == ["ML102"]  # ...we are not
    key = Path(ours["MEMLENS_CACHE_DIR"]) / "project-cache.key"
    assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_text()) == 64


def test_without_a_place_for_the_key_the_cache_is_off(project, tmp_path):
    """No user cache folder to keep the secret in: nothing is read or written, as without a
    cache; the findings are the same."""
    write(project, {"a.py": NP_LOAD})
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    for folder in ("", str(blocked / "memlens")):
        for _ in range(2):
            r = run("check", "--statistics", "--output-format", "json", cwd=project,
                    env={"MEMLENS_CACHE_DIR": folder})
            assert r.json()["cache"] == {"hits": 0, "misses": 1}, r.stderr
            assert r.stderr == ""
    assert not (project / ".memlens_cache").exists()


def test_the_cache_folder_is_ignored_by_git(project):
    """As Ruff's `.ruff_cache`: `.memlens_cache/.gitignore` ignores everything in it, so the
    cache never shows in `git status` nor goes in with `git add .`."""
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    write(project, {"a.py": NP_LOAD})
    run("check", cwd=project)
    assert (project / ".memlens_cache" / ".gitignore").read_text().splitlines()[-1] == "*"
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                            cwd=project, capture_output=True, text=True, check=True).stdout
    assert ".memlens_cache" not in status and "a.py" in status


def test_a_rule_file_linked_within_the_repository_keys_the_cache_by_its_content(rules_project):
    (rules_project / ".git").mkdir()
    shared = rules_project / "shared" / "XT001.yml"
    shared.parent.mkdir()
    (rules_project / "rules" / "XT001.yml").rename(shared)
    os.symlink("../shared/XT001.yml", rules_project / "rules" / "XT001.yml")
    write(rules_project, {"a.py": "leaky_helper(1)\n"})
    r = run("check", "--output-format", "json", cwd=rules_project)
    assert [f["severity"] for f in r.json()] == ["warning"]
    shared.write_text(shared.read_text().replace("severity: warning", "severity: hint"))
    r = run("check", "--output-format", "json", "--show-hints", cwd=rules_project)
    assert [f["severity"] for f in r.json()] == ["hint"]


def test_the_sources_findings_depend_on_are_in_the_namespace(tmp_path, monkeypatch):
    # rules ask the data-flow facts (memlens.flow) and read notebooks (memlens.notebook): a
    # change there must not serve findings computed before it
    from pathlib import Path

    from memlens.engine import Settings, rulecache
    from memlens.engine import cache as cache_module

    seen: list[str] = []
    real_stat = Path.stat

    def spy(self, *args, **kwargs):
        seen.append(self.as_posix())
        return real_stat(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", spy)
    cache_module.namespace(Settings(), [])
    for package in ("/memlens/flow/", "/memlens/notebook/", "/memlens/engine/"):
        assert any(package in p for p in seen), package
    seen.clear()
    rulecache.cache_key()
    assert any("/memlens/flow/" in p for p in seen)
