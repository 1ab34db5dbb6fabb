"""Which .gitignore patterns can ignore a Python file or a notebook (the walk skips the per-file
check when none can)."""

from __future__ import annotations

import pytest

from memlens.engine.discovery import _may_match_source_file


@pytest.mark.parametrize("pattern,can", [
    ("build/", False), ("*.vsix", False), ("*.pyc", False), ("notes", False),
    ("*.py", True), ("*_gen.py", True), ("local.py", True), ("src/local.py", True),
    ("*", True), ("gen_*", True), ("**/generated/**", True), ("x?y", True), ("t_[ab].py", True),
    ("*.ipynb", True), ("scratch.ipynb", True), ("nb/*.ipynb", True), ("*.json", False),
])
def test_which_patterns_can_ignore_a_python_file(pattern, can):
    assert _may_match_source_file(pattern) is can


@pytest.mark.parametrize("patterns", [
    ("fixtures",), ("pkg/fixtures",), ("*/gen",), ("*_pb2.py",), ("pkg/sub/*.py",),
    ("pkg/a.py", "gen/"), ("**/deep",), ("pkg",),
])
def test_exclude_matches_what_glob_match_says(tmp_path, monkeypatch, patterns):
    """The walk checks each folder and file once, against its own path and name: the result is
    what Ruff-like matching of every folder on the way and of the file gives."""
    from memlens.engine.config import Settings, _glob_match
    from memlens.engine.discovery import discover_files

    for rel in ("pkg/a.py", "pkg/fixtures/b.py", "pkg/sub/c.py", "pkg/sub/gen/d.py",
                "pkg/x_pb2.py", "gen/e.py", "top.py", "pkg/sub/deep/f.py", "fixtures/g.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x = 1\n")
    monkeypatch.chdir(tmp_path)
    settings = Settings(exclude=patterns, root=tmp_path)
    found = sorted(p.as_posix() for p in discover_files(["."], settings))
    every = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.py"))
    parts = {rel: rel.split("/") for rel in every}
    want = [rel for rel in every if not any(
        _glob_match("/".join(parts[rel][:i + 1]), p)
        for i in range(len(parts[rel])) for p in patterns)]
    assert found == want
    assert len(want) < len(every)
