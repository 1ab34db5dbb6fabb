"""Notebooks read as one module: cells numbered as Ruff numbers them, IPython syntax blanked to
same-length neutral Python, and a one-line error for what is not a notebook."""

from __future__ import annotations

import ast
import json

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memlens.engine.lines import split_lines
from memlens.notebook import NotebookError, read_notebook
from memlens.notebook.magics import blank_magics


def _nb(*cells, language="python") -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["language_info"] = {"name": language}
    for kind, source in cells:
        if kind == "code":
            nb.cells.append(nbformat.v4.new_code_cell(source))
        else:
            nb.cells.append(nbformat.v4.new_markdown_cell(source))
    return nbformat.writes(nb)


def test_cells_are_numbered_among_all_cells_and_located_back():
    raw = _nb(("code", "import pandas as pd"), ("markdown", "# Data"),
              ("code", "df = pd.read_csv('x.csv')\ncols = df[['a']]\n"), ("code", "print(1)"))
    nb = read_notebook(raw)
    assert [c.number for c in nb.cells] == [1, 3, 4]
    lines = split_lines(nb.text)
    assert lines[1] == "df = pd.read_csv('x.csv')"
    cell, row = nb.locate(2)
    assert (cell.number, row) == (3, 1)
    # the cell that ends with a newline has a last, empty line, as Jupyter shows it
    assert nb.locate(3)[0].number == 3 and nb.locate(4)[0].number == 4
    ast.parse(nb.text)


@pytest.mark.parametrize("source", [
    "%matplotlib inline\nimport numpy as np",
    "!pip install shap\nx = 1",
    "! [[ -f a ]] && wget x",
    "files = !ls data/\nn = len(files)",
    "t = %timeit -o f()",
    "df.head?\nnp.load??",
    "for i in range(3):\n    %time f(i)\n",
    "!pip install a \\\n   b\nx = 2",
    "%%time\nx = f()\ny = g(x)",
    "%%bash\nls -l | wc\nif [ x ]; then echo; fi",
    "%%writefile a.py\ndef f(:\n",
])
def test_ipython_syntax_is_blanked_to_python_of_the_same_shape(source):
    blanked = blank_magics(source)
    ast.parse(blanked)
    assert [len(x) for x in split_lines(blanked)] == [len(x) for x in split_lines(source)]


def test_python_lines_are_untouched_and_a_cell_that_compiles_is_left_alone():
    source = "%time a = 1\nx = '%not a magic'\nb = 3 % 2\n"
    blanked = split_lines(blank_magics(source))
    assert blanked[1:] == split_lines(source)[1:]
    plain = "x = '!ls'\ny = 5 % 3\n"
    assert blank_magics(plain) == plain


def test_a_python_cell_magic_keeps_its_body():
    blanked = split_lines(blank_magics("%%time\ndf = pd.read_csv('big.csv')"))
    assert blanked[1] == "df = pd.read_csv('big.csv')"


def test_outputs_are_kept_for_size_evidence():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("df.shape")
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "(5656458, 6)"},
                                           execution_count=1),
                    nbformat.v4.new_output("stream", text="memory usage: 258.9 MB\n")]
    nb.cells.append(cell)
    read = read_notebook(nbformat.writes(nb))
    assert read.cells[0].outputs == ("(5656458, 6)", "memory usage: 258.9 MB\n")


def test_other_languages_and_python2_cells():
    assert read_notebook(_nb(("code", "x <- 1"), language="R")).cells == ()
    raw = _nb(("code", "print 'hi'"), ("code", "x = 1"))
    kept = read_notebook(raw)
    with pytest.raises(SyntaxError):
        ast.parse(kept.text)
    dropped = read_notebook(raw, drop_unparsable=True)
    assert dropped.skipped_cells == 1
    ast.parse(dropped.text)
    assert split_lines(dropped.text)[1] == "x = 1"


@pytest.mark.parametrize("raw, says", [
    ("{not json", "invalid JSON"),
    ("[1, 2]", "not an object"),
    (json.dumps({"nbformat": 3, "nbformat_minor": 0, "worksheets": []}), "nbformat 4"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}}), "no list of cells"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                 "cells": [{"cell_type": "code", "source": 5}]}), "invalid notebook"),
    ("[" * 100_000, "invalid JSON"),
])
def test_what_is_not_a_notebook_gets_one_line(raw, says):
    with pytest.raises(NotebookError) as info:
        read_notebook(raw)
    message = str(info.value)
    assert says in message and "\n" not in message


def test_cells_an_editor_holds_join_as_the_file_reader_joins_them():
    """`join_cells` (the language server's cells) and `read_notebook` (the .ipynb file) build the
    same module and the same map back to cells; a rejoin after an edit reuses the blanked cells
    it can and equals a fresh join."""
    from memlens.notebook import CellText, join_cells

    cells = [("code", "%matplotlib inline\nimport numpy as np"), ("markdown", "# Data"),
             ("code", "x = np.load('a.npy')\n!ls\n"), ("code", "%%bash\necho hi"),
             ("code", "y = x[:3]")]
    from_file = read_notebook(_nb(*cells))
    code = [(number, source) for number, (kind, source) in enumerate(cells, 1)
            if kind == "code"]
    joined = join_cells([CellText(source, number) for number, source in code])
    assert joined == from_file
    edited = [CellText(source if number != 3 else "x = np.zeros(3)\n!ls -l\n", number)
              for number, source in code]
    again = join_cells(edited, previous=joined)
    assert again == join_cells(edited)
    assert again.cells[0].python is joined.cells[0].python  # reused, not blanked again
    assert again.locate(3)[0].number == 3 and again.locate(5)[0].number == 4
    ast.parse(again.text)
    # a cell of another language is left out as blank lines, as the file reader leaves it
    other = join_cells([CellText("library(x)\nplot(y)", 1, python=False)])
    assert other.text == " " * 10 + "\n" + " " * 7 + "\n" and other.skipped_cells == 1


# pieces of cells: Python, IPython syntax, and what sits between them
_PIECES = ["x = 1", "def f(:", "%time f()", "!ls", "df.head?", "cd data", "pip install x",
           "ls = [1]", "  y = (", ")", "'''", "%%time", "%%bash", "files = !ls", "a % b",
           "if x != 1:", "    pass", "# c", "", " ", "\r", "\n", "\r\n", "\t", "time f()",
           "'%s' % x", "s = '?'", "x = y?", "y = x %", "x=%who", "!", "?", "%", " ?? "]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=8))
def test_the_shortcut_for_a_plain_cell_gives_what_compiling_it_would(pieces):
    """`blank_magics` skips compiling a cell that cannot hold IPython syntax: the result is
    the same as the full path's, whatever the cell."""
    from memlens.notebook.magics import _blank

    source = "\n".join(pieces)
    assert blank_magics(source) == _blank(source)


def test_reading_a_notebook_leaves_rfc3987_syntax_out_and_still_validates(tmp_path):
    """nbformat's validator imports jsonschema, which builds rfc3987_syntax's grammar at import
    (~2 s) when it is installed; memlens keeps it out while nbformat loads (the notebook schema
    uses none of its formats). In a fresh process, as `memlens check` reads its first notebook:
    a schema error is still an error, and the module is still importable afterwards."""
    import importlib.util
    import subprocess
    import sys

    if importlib.util.find_spec("rfc3987_syntax") is None:
        pytest.skip("rfc3987_syntax is not installed: nothing to keep out")
    script = """
import json, sys
from memlens.notebook import NotebookError, read_notebook
cell = {"cell_type": "code", "execution_count": None, "id": "a", "metadata": {},
        "outputs": [], "source": "x = 1"}
nb = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
assert read_notebook(json.dumps(nb)).cells[0].source == "x = 1"
print("imported" if "rfc3987_syntax" in sys.modules else "kept out")
try:
    read_notebook(json.dumps({**nb, "cells": [{**cell, "cell_type": "nonsense"}]}))
    print("accepted")
except NotebookError:
    print("rejected")
import rfc3987_syntax  # the process may still use it itself
print("importable")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.split() == ["kept", "out", "rejected", "importable"], done.stderr
