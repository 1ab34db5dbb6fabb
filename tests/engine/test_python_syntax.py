"""Python's parser decides what is a syntax error (issue 17, items 25 and 27): every error it
finds shows where memlens promises it, and valid Python that tree-sitter misreads gets none."""

from __future__ import annotations

import ast
import warnings

import pytest
from ast_grep_py import SgRoot

from memlens.engine import SYNTAX_ERROR, Engine, Position, Settings
from memlens.engine.edits import apply_edits
from memlens.engine.rulebook import parse_rule

# Invalid programs that tree-sitter parses without an ERROR node.
INVALID = {
    "unpacking order": "f(**k, *a)\n",
    "parameter after **kwargs": "def f(**k, *a):\n    pass\n",
    "augmented tuple": "a, b += 1\n",
    "del call": "del f()\n",
    "default order": "def f(a=1, b):\n    pass\n",
    "walrus statement": "x := 1\n",
    "empty f-string": 'f"{}"\n',
    "bare tuple in comprehension": "[x for x in 1, 2]\n",
    "print statement": 'print "x"\n',
    "unparenthesized generator": "f(x for x in y, 1)\n",
}

# A comment inside brackets, dedented below its block, after an operator: valid Python that
# tree-sitter's scanner reads as the end of the block.
DEDENTED_COMMENT = """\
def f(x):
    x.append((1 +
        2 +
   # c
        3))
"""

LOAD_WITH_COMMENT = """\
import numpy as np
def f(path):
    x = np.load(path +
  # the file
        ".npy")
    for i in range(0, len(x), 256):
        batch = x[i:i + 256]
"""


@pytest.fixture(scope="module")
def engine():
    return Engine()


def syntax_errors(findings):
    return [f for f in findings if f.code == SYNTAX_ERROR]


@pytest.mark.parametrize("text", INVALID.values(), ids=INVALID.keys())
def test_every_error_python_finds_shows_when_the_file_is_parsed_whole(engine, text):
    assert SgRoot(text, "python").root().find(kind="ERROR") is None  # tree-sitter accepts it
    with pytest.raises(SyntaxError) as python:
        ast.parse(text)
    [f] = syntax_errors(engine.check_source(text, "m.py", parse_whole=True))
    assert f.message == f"SyntaxError: {python.value.msg}"
    assert f.start == Position(python.value.lineno - 1, python.value.offset - 1)
    assert f.severity == "error"


def test_the_column_of_a_syntax_error_counts_code_points(engine):
    text = 's = "é😀" + )\n'
    [f] = syntax_errors(engine.check_source(text, "m.py", parse_whole=True))
    assert f.start == Position(0, text.index(")"))
    assert f.message == "SyntaxError: unmatched ')'"


def test_an_indentation_error_has_its_own_name(engine):
    [f] = syntax_errors(engine.check_source("if x:\npass\n", "m.py", parse_whole=True))
    assert f.message.startswith("IndentationError: expected an indented block")
    assert f.start == Position(1, 0)


def test_python_gives_the_position_of_what_tree_sitter_also_rejects(engine):
    text = "import numpy as np\nx = (1,\ny = np.load('a.npy')\n"
    [f] = syntax_errors(engine.check_source(text, "m.py"))
    assert f.message == "SyntaxError: '(' was never closed"
    assert f.start == Position(1, 4)


@pytest.mark.parametrize("parse_whole", [False, True])
def test_a_comment_dedented_inside_brackets_is_no_syntax_error(engine, parse_whole):
    assert SgRoot(DEDENTED_COMMENT, "python").root().find(kind="ERROR") is not None
    assert engine.check_source(DEDENTED_COMMENT, "m.py", parse_whole=parse_whole) == []


@pytest.mark.parametrize("padding", [0, 3000], ids=["small", "blanked"])
@pytest.mark.parametrize("line", ["  # the file\n", "  path +\n"], ids=["comment", "code"])
def test_findings_in_a_statement_with_a_dedented_line_are_found(engine, padding, line):
    # (3,000 characters of other functions: blocks are blanked before the parse)
    filler = "".join(f"def other{i}(a):\n    return a + {i}\n\n" for i in range(padding // 30))
    text = LOAD_WITH_COMMENT.replace("  # the file\n", line) + "\n" + filler
    assert SgRoot(text, "python").root().find(kind="ERROR") is not None
    codes = [f.code for f in engine.check_source(text, "m.py")]
    assert codes == ["ML102"]


def test_a_fix_never_copies_a_mended_comment():
    rule = parse_rule({
        "id": "XT001", "message": "leaky", "severity": "warning",
        "rule": {"pattern": "leaky_helper($$$ARGS)"}, "fix": "tidy_helper($$$ARGS)",
        "note": "## What it does\n## Why is this bad\n## Example\n## Use instead\n",
        "metadata": {"family": "test", "fix": "safe", "fix-message": "tidy"},
    })
    text = "def f(x):\n    leaky_helper(x +\n  # keep me\n        1)\n"
    [f] = Engine(Settings(select=["XT001"]), rules=[rule]).check_source(text, "m.py",
                                                                      parse_whole=True)
    assert f.code == "XT001"
    if f.fix is not None:  # (tabs stand in for its blanks in what tree-sitter parsed)
        fixed = apply_edits(text, f.fix.edits)
        assert "\n  # keep me\n" in fixed and "\t" not in fixed


def test_input_too_deep_for_pythons_parser_falls_back_to_tree_sitter(engine):
    text = "x = " + "+".join(["1"] * 100_000) + "\n"  # RecursionError in compile()
    assert syntax_errors(engine.check_source(text, "m.py", parse_whole=True)) == []
    text = "x = " + "-" * 100_000 + "\n"  # MemoryError in compile(); tree-sitter: ERROR
    assert len(syntax_errors(engine.check_source(text, "m.py", parse_whole=True))) <= 1


def test_syntax_warnings_neither_print_nor_become_errors(engine):
    text = 'import re\nPATTERN = re.compile("\\d+")\n'
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("error")  # `python -W error`
        assert engine.check_source(text, "m.py", parse_whole=True) == []
    assert caught == []


def test_a_path_python_could_not_take_is_no_syntax_error(engine):
    # (an editor's URI can carry %00 or undecodable bytes; compile() refuses such a file name)
    for path in ("a\x00b.py", "a\udcffb.py"):
        assert engine.check_source("x = 1\n", path, parse_whole=True) == []
