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
    assert checker.check(text) == engine.check_source(text, name, parse_whole=True)
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
            assert got == engine.check_source(new, name, parse_whole=True), (op, i, line)
            text = new
        else:
            assert all(f.start.line < len(lines) for f in got)
            text = new


def test_a_line_at_column_0_inside_a_call_is_no_block_boundary():
    """The blocks come from the text (`engine/blocks.py`): a line at column 0 inside brackets
    looks like a new statement. An edit next to it meets a region that does not parse alone;
    the check widens it, and the result is still the whole file's."""
    text = (
        "import numpy as np\n\n"
        "def report(rows):\n"
        "    out = np.empty((0, 8))\n"
        "    for row in rows:\n"
        "        out = np.concatenate([out, row[None]], axis=0)\n"
        "    print(format_table(out,\n"
        "f'''{len(rows)} rows\n"
        "'''))\n"
        "    return out\n\n"
        "def other():\n"
        "    return 1\n"
    )
    engine = Engine(Settings(select=("ALL",)))
    checker = IncrementalChecker(engine, "t.py")
    assert checker.check(text) == engine.check_source(text, "t.py", parse_whole=True)
    assert any(f.code == "ML401" for f in checker.findings)
    lines = text.split("\n")
    for i, added in ((9, "    out = out + 1"), (4, "    rows = list(rows)"), (12, "    x = 2")):
        lines.insert(i, added)
        new = "\n".join(lines)
        got = checker.check(new)
        if checker.needs_settle:
            got = checker.settle(new)
        assert got == engine.check_source(new, "t.py", parse_whole=True), added
        assert not any(f.code == "syntax-error" for f in got)
    assert checker.stats.partial == 3  # each edit re-checked a region, not the file


def test_an_interrupted_settle_leaves_the_partial_state(engine):
    """`settle(text, stop)` stopped midway (typing resumed) raises `Interrupted` and leaves
    the checker as the partial check left it: the next edit is checked in part, exactly."""
    from memlens.engine.core import Interrupted

    name = sorted(TEXTS)[0]
    text = TEXTS[name]
    checker = IncrementalChecker(engine, name)
    checker.check(text)
    lines = text.split("\n")
    i = next(k for k, line in enumerate(lines) if line.startswith("    ") and "=" in line)
    lines.insert(i, lines[i][: len(lines[i]) - len(lines[i].lstrip())] + "unused = 1")
    edited = "\n".join(lines)
    checker.check(edited)
    before = {k: (list(v) if isinstance(v, list) else v) for k, v in vars(checker).items()}
    asked = []
    with pytest.raises(Interrupted):
        checker.settle(edited, stop=lambda: asked.append(1) or len(asked) > 1)
    after = {k: (list(v) if isinstance(v, list) else v) for k, v in vars(checker).items()}
    assert after == before
    assert checker.settle(edited) == engine.check_source(edited, name, parse_whole=True)
