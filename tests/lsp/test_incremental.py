"""The incremental re-check equals a whole-file check for valid code (property test), on the
real rule catalog and the example project, edit after edit (an edit of module-level code is
settled by a whole-file check, as the server does when typing pauses)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memlens.engine import Engine, Settings
from memlens.lsp.incremental import IncrementalChecker

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "examples").rglob("*.py")) or sorted(
    (Path(__file__).parent / "fixtures").glob("*.py"))
TEXTS = {p.name + str(i): p.read_text() for i, p in enumerate(SOURCES)}
LINES = sorted({line for text in TEXTS.values() for line in text.splitlines() if line.strip()})


@pytest.fixture(scope="module")
def engine():
    return Engine(Settings())


def parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return True


edit = st.tuples(st.sampled_from(["insert", "delete", "replace", "duplicate", "indent"]),
                 st.integers(0, 10_000), st.sampled_from(LINES))


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(TEXTS)), edits=st.lists(edit, min_size=1, max_size=8))
def test_incremental_equals_whole_file(engine, name, edits):
    text = TEXTS[name]
    checker = IncrementalChecker(engine, name)
    assert checker.check(text) == engine.check_source(text, name, prefilter=False)
    for op, where, line in edits:
        lines = text.split("\n")
        i = where % len(lines)
        if op == "insert":
            indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
            lines.insert(i, indent + line.strip())
        elif op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "replace":
            indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
            lines[i] = indent + line.strip()
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "indent":
            lines[i] = "    " + lines[i]
        new = "\n".join(lines)
        got = checker.check(new)
        if checker.needs_settle:  # what the server does once typing pauses
            got = checker.settle(new)
        if parses(new):
            assert got == engine.check_source(new, name, prefilter=False), (op, i, line)
            text = new
        else:
            assert all(f.start.line < len(lines) for f in got)
            text = new
