"""Which .gitignore patterns can ignore a Python file (the walk skips the per-file check when none
can)."""

from __future__ import annotations

import pytest

from memlens.engine.discovery import _may_match_python_file


@pytest.mark.parametrize("pattern,can", [
    ("build/", False), ("*.vsix", False), ("*.pyc", False), ("notes", False),
    ("*.py", True), ("*_gen.py", True), ("local.py", True), ("src/local.py", True),
    ("*", True), ("gen_*", True), ("**/generated/**", True), ("x?y", True), ("t_[ab].py", True),
])
def test_which_patterns_can_ignore_a_python_file(pattern, can):
    assert _may_match_python_file(pattern) is can
