"""The engine's line model is LSP's: a line ends at \\r\\n, \\r or \\n. CR-only and CRLF files get
positions on the right lines, and fixes that insert lines write the file's own line ending."""

from __future__ import annotations

import pytest

from memlens.engine import Engine, Settings
from memlens.engine.lines import (
    for_parse,
    line_ending,
    line_starts,
    nesting_too_deep,
    split_lines,
    split_lines_keepends,
)

ENGINE = Engine(Settings(select=("ALL",)))
GROWTH = ("import pandas as pd\n\ndef merged(files):\n    out = pd.DataFrame()\n"
          "    for path in files:\n        out = pd.concat([out, pd.read_csv(path)])\n"
          "    return out\n")


def test_the_line_model():
    text = "a\r\nb\rc\nd\fe\u2028f"
    assert split_lines(text) == ["a", "b", "c", "d\fe\u2028f"]
    assert line_starts(text) == [0, 3, 5, 7]
    assert line_ending("x\ry\n") == "\r" and line_ending("x") == "\n"
    assert for_parse("a\rb\r\nc") == "a\nb\r\nc"
    assert split_lines_keepends(text) == ["a\r\n", "b\r", "c\n", "d\fe\u2028f"]
    assert split_lines_keepends("x\n") == ["x\n"] and split_lines_keepends("") == []


# `str.splitlines` where the text is not Python source: a message, markdown, an ignore file;
# or where no line is counted: a notebook cell's source stored as a JSON list split as
# nbformat's writer splits it (the same text, the same bytes as Jupyter's)
NOT_SOURCE = {"lsp/protocol.py", "lsp/server.py", "engine/rule_cli.py", "engine/discovery.py",
              "notebook/write.py"}


def test_no_other_module_splits_text_with_str_splitlines():
    """Every part of memlens counts lines with `memlens/lines.py` (the profiler's report and the
    language server's profile store used `splitlines`, which breaks at a form feed)."""
    import ast
    from pathlib import Path

    package = Path(split_lines_keepends.__code__.co_filename).parent
    found = sorted(
        f"{path.relative_to(package).as_posix()}:{node.lineno}"
        for path in package.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr == "splitlines"
        and path.relative_to(package).as_posix() not in NOT_SOURCE)
    assert found == []


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_positions_and_fixes_keep_the_files_line_ending(ending):
    text = GROWTH.replace("\n", ending)
    (finding,) = [f for f in ENGINE.check_source(text, "m.py") if f.code == "ML402"]
    assert (finding.start.line, finding.start.column) == (5, 8)
    fixed, applied = ENGINE.fix_source(text, "m.py", unsafe=True)
    assert [f.code for f in applied] == ["ML402"]
    assert "out_parts.append(pd.read_csv(path))" in fixed
    others = {"\n", "\r\n", "\r"} - {ending}
    assert split_lines(fixed) == split_lines(fixed.replace(ending, "\n"))
    remaining = fixed.replace(ending, "")
    assert not any(o in remaining for o in others), repr(fixed)


def test_a_form_feed_is_not_a_line_break():
    text = "import numpy as np\n\fx = np.load('a.npy')\nfor i in range(0, len(x), 8):\n" \
           "    print(x[i:i + 8])\n"
    (finding,) = ENGINE.check_source(text, "m.py")
    assert (finding.start.line, finding.start.column) == (1, 5)


def _nested_ifs(levels: int, indent: str = " ") -> str:
    return "".join(indent * i + f"if x{i}:\n" for i in range(levels)) + indent * levels + "pass\n"


@pytest.mark.parametrize("text, what", [
    (_nested_ifs(520), "indentation"),            # the 138 KB shape that aborted the process
    ("x = " + "(" * 300 + ")" * 300 + "\n", "brackets"),
])
def test_nesting_beyond_pythons_limits_is_refused_before_the_parser(text, what):
    engine = Engine(Settings(select=("ALL",)))
    (finding,) = engine.check_source(text, "deep.py", parse_whole=True)
    assert finding.code == "syntax-error"
    assert finding.message.startswith("nesting too deep to check") and what in finding.message
    assert engine.stats["parsed"] == 0


def test_nesting_within_pythons_limits_is_parsed():
    assert nesting_too_deep(_nested_ifs(99)) is None
    assert nesting_too_deep("x = " + "(" * 150 + ")" * 150) is None
    assert nesting_too_deep(_nested_ifs(101)) is not None
