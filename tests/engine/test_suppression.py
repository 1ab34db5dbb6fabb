"""One suppression parser: what a comment suppresses, and the edit that adds a code to it (the
editor's "Ignore MLxxx on this line" goes through `suppress_edit`)."""

from __future__ import annotations

import pytest

from memlens.engine.suppression import is_suppressed, suppress_edit


def _applied(line: str, code: str) -> str:
    start, end, text = suppress_edit(line, code)
    return line[:start] + text + line[end:]


@pytest.mark.parametrize(("line", "after"), [
    ("x = np.load(p)", "x = np.load(p)  # noqa: ML102"),
    ("x = np.load(p)   ", "x = np.load(p)  # noqa: ML102"),
    ("x = np.load(p)  # noqa: ML101", "x = np.load(p)  # noqa: ML101, ML102"),
    ("x = np.load(p)  # NOQA:ML101,ML103  ", "x = np.load(p)  # NOQA:ML101,ML103, ML102  "),
    ("x = np.load(p)  # noqa: ML101 - kept whole", "x = np.load(p)  # noqa: ML101, ML102 - kept whole"),
    ("x = np.load(p)  # why: small", "x = np.load(p)  # why: small  # noqa: ML102"),
])
def test_the_edit_makes_the_line_suppress_the_code(line, after):
    assert not is_suppressed("ML102", line)
    assert _applied(line, "ML102") == after
    assert is_suppressed("ML102", after)
    assert is_suppressed("ML101", after) == is_suppressed("ML101", line)


@pytest.mark.parametrize("line", [
    "x = 1  # noqa",
    "x = 1  # noqa: ML102",
    "x = 1  # noqa: ML101, ML102",
    "x = 1  # memlens: ignore[ML102]",
])
def test_no_edit_where_the_line_already_suppresses_it(line):
    assert suppress_edit(line, "ML102") is None
