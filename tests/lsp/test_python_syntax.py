"""In the editor too, Python's parser decides what a syntax error is (issue 17, items 25, 27)."""

from __future__ import annotations

from lsprotocol import types
from pytest_lsp import LanguageClient

from .conftest import change_doc, open_doc, pull


async def test_errors_python_finds_and_tree_sitter_does_not_are_shown(client: LanguageClient):
    text = "import os\n\ndef f(a=1, b):\n    return os.path.join(a, b)\n"
    uri = open_doc(client, client.root / "defaults.py", text=text)
    [error] = [d for d in await pull(client, uri) if d.code == "syntax-error"]
    assert error.message == "SyntaxError: non-default argument follows default argument"
    assert error.range.start == types.Position(line=2, character=11)
    # an edit inside the function is checked alone: Python reads that part too
    change_doc(client, uri, 2, text.replace("a=1, b", "a=1, b=2") + "\ndef g(**k, *a):\n"
                                                                        "    pass\n")
    [error] = [d for d in await pull(client, uri) if d.code == "syntax-error"]
    assert error.message == "SyntaxError: arguments cannot follow var-keyword argument"
    assert error.range.start.line == 5


async def test_a_comment_dedented_inside_brackets_is_no_error(client: LanguageClient):
    text = "def f(x):\n    x.append((1 +\n        2 +\n   # c\n        3))\n"
    uri = open_doc(client, client.root / "comment.py", text=text)
    assert await pull(client, uri) == []
