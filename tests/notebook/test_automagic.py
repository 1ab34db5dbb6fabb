"""IPython's automagic: a one-line cell naming a line magic or a shell alias without `%` is
blanked like a `%` magic; Python that uses those names, and what IPython itself rejects, is not.
The names come from IPython (imported lazily, on the first cell that needs them), or from a
built-in list when IPython is not installed."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from memlens.engine.lines import split_lines
from memlens.notebook import automagic
from memlens.notebook.magics import blank_magics

RUN_AS_MAGICS = ["cd data", "pip install shap", "conda list --export", "time f()",
                 "timeit -n 3 f()", "load_ext autoreload", "autoreload 2", "matplotlib inline",
                 "pylab inline", "history -n 1-4", "who int", "mkdir -p out/x", "cat f.txt",
                 "less f", "man ls", "cd ..", "  pwd x", "cd (x", "ls -la *.csv",
                 "\n\npip install x==1\n", "run train.py --epochs 3", "hist -g train"]


@pytest.mark.parametrize("cell", RUN_AS_MAGICS)
def test_a_one_line_cell_ipython_runs_as_a_magic_is_blanked_to_the_same_shape(cell):
    blanked = blank_magics(cell)
    assert blanked != cell
    ast.parse(blanked)
    assert [len(x) for x in split_lines(blanked)] == [len(x) for x in split_lines(cell)]


@pytest.mark.parametrize("cell", [
    "ls = [1]", "ls, x = 1, 2", "cd(x)", "time.sleep(1)", "pwd", "ls -la", "env",
    "history", "clear",  # Python that names a magic: checked as the Python it is
    "cd =",  # `=` after the name: IPython reads Python, and it does not parse
    "time.sleep 1",  # `time.sleep` is one name, no magic's
    "frobnicate data",  # no magic of that name
    "x = 1\ncd data", "cd data\nx = 1", "# setup\npip install x",  # IPython prefilters
    "cd data\n\n",                                  # one-line cells only
    "%%bash\ncd data",  # a cell magic's body is the magic's
])
def test_python_and_what_ipython_rejects_stay_as_they_are(cell):
    assert blank_magics(cell) == cell or cell.startswith("%%")
    if cell.startswith("%%"):
        assert split_lines(blank_magics(cell))[1].strip() == ""


def test_the_names_are_ipythons_and_the_fallback_covers_them():
    pytest.importorskip("IPython")
    automagic.names.cache_clear()
    names = automagic.names()
    # IPython's own tables: a core magic, a default shell alias, a bundled extension's magic
    assert {"cd", "pip", "time", "matplotlib", "mkdir", "cat", "ll", "autoreload"} <= names
    missing = automagic._from_ipython() - automagic.FALLBACK
    assert not missing, f"add IPython's new magics to automagic.FALLBACK: {sorted(missing)}"


def test_without_ipython_the_built_in_list_is_used(monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", None)  # `import IPython...` raises ImportError
    for name in [m for m in list(sys.modules) if m.startswith("IPython.")]:
        monkeypatch.delitem(sys.modules, name)
    automagic.names.cache_clear()
    try:
        assert automagic.names() == automagic.FALLBACK
        assert blank_magics("pip install shap") == "0" + " " * 15
    finally:
        automagic.names.cache_clear()


def test_memlens_does_not_import_ipython_until_a_cell_needs_its_names():
    code = ("import sys\n"
            "import memlens.engine.cli, memlens.engine.notebooks, memlens.notebook\n"
            "from memlens.notebook.magics import blank_magics\n"
            "blank_magics('%time f()\\nx = 1\\n'); blank_magics('x = (\\n')\n"
            "assert 'IPython' not in sys.modules, 'imported early'\n"
            "blank_magics('cd data')\n"
            "assert 'IPython' in sys.modules\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_the_language_servers_join_of_cells_blanks_them_too():
    """The editor's cells go through `join_cells`, as the .ipynb reader's do: one fix for both."""
    from memlens.notebook import CellText, join_cells

    nb = join_cells([CellText("pip install shap", 1), CellText("x = 1\ncd data", 2),
                     CellText("import numpy as np", 3)])
    assert split_lines(nb.text)[:3] == ["0" + " " * 15, "x = 1", "cd data"]
