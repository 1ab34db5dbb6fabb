"""Profiling a notebook through the language server: `memlens.profileFunction` with a notebook
and a cell (over stdio, a real run), and the lenses and inlay hints each cell gets from the
results (`lsp/notebook_profile.py`, fed the cells as the notebook sync will feed them)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from memlens.lsp import convert
from memlens.lsp.notebook_profile import Cell, inlay_hints, lenses, record_key, unsaved
from memlens.lsp.store import ProfileStore

from .conftest import needs_numpy, needs_profiler, uri_of

pytestmark = [needs_profiler, needs_numpy]

CELLS = [
    "md:# Explain",
    "import numpy as np\nsize = 10_000_000",
    "md:## Features",
    "ones = np.ones(size)\nhead = ones[:10] * 2\nprint(head.shape)",
    "def score(n):\n    rows = np.ones(n)\n    return float(rows.sum())\n",
]


def write_notebook(path: Path, cells=CELLS) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(c[3:]) if c.startswith("md:")
                else nbformat.v4.new_code_cell(c) for c in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def editor_cells(texts=CELLS) -> list[Cell]:
    """The cells as the notebook sync sees them (markdown ones included)."""
    return [Cell(f"vscode-notebook-cell:/nb.ipynb#c{i}", not t.startswith("md:"),
                 t[3:] if t.startswith("md:") else t) for i, t in enumerate(texts)]


def mib(label: str) -> float:
    return float(re.search(r"\+([0-9.]+) MiB", label).group(1))


def profile(uri: str, **args) -> types.ExecuteCommandParams:
    return types.ExecuteCommandParams(command="memlens.profileFunction",
                                      arguments=[{"uri": uri, **args}])


async def test_the_command_profiles_a_cell_and_a_function_of_a_saved_notebook(
        client: LanguageClient):
    nb = write_notebook(client.root / "notebooks" / "explain.ipynb")
    uri = uri_of(nb)
    cell = await client.workspace_execute_command_async(profile(uri, cell=4))
    assert cell["status"] == "ok", cell["error"]
    assert (cell["cell"], cell["entry"], cell["cells_run"]) == (4, "cell", [2])
    assert [(r["cell"], r["line"]) for r in cell["lines"]] == [(4, 1), (4, 2), (4, 3)]
    assert 70 < cell["lines"][0]["increment_mib"] < 82
    func = await client.workspace_execute_command_async(
        profile(uri, cell=5, qualname="score", line=0, call="score(size)"))
    assert func["status"] == "ok", func["error"]
    assert (func["cell"], func["qualname"], func["calls"]) == (5, "score", 1)
    # both kept under the notebook, one per cell and function
    cleared = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="memlens.clearProfileResults", arguments=[{"uri": uri}]))
    assert cleared == {"cleared": 2}


async def test_a_notebook_runs_in_its_own_folder(client: LanguageClient):
    folder = client.root / "notebooks"
    nb = write_notebook(folder / "reads.ipynb", ["text = open('local.txt').read()"])
    (folder / "local.txt").write_text("beside the notebook")
    result = await client.workspace_execute_command_async(profile(uri_of(nb), cell=1))
    assert result["status"] == "ok", result["error"]


async def test_bad_notebook_targets_say_what_is_wrong(client: LanguageClient):
    uri = uri_of(write_notebook(client.root / "explain.ipynb"))
    markdown = await client.workspace_execute_command_async(profile(uri, cell=3))
    assert markdown["error"]["kind"] == "not_found"
    assert "its code cells are 2, 4, 5" in markdown["error"]["message"]
    nothing = await client.workspace_execute_command_async(profile(uri, cell=0))
    assert nothing["error"]["kind"] == "bad_arguments"
    py = await client.workspace_execute_command_async(
        profile(uri_of(client.root / "profiled.py"), cell=2))
    assert py["error"]["kind"] == "bad_arguments" and ".ipynb" in py["error"]["message"]


@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> ProfileStore:
    """A store holding a real profile of cell 4 and of `score` (cell 5), as the command keeps
    them."""
    from memlens.profiler import profile as run

    nb = write_notebook(tmp_path_factory.mktemp("nb") / "explain.ipynb")
    store = ProfileStore()
    for result in (run(nb, None, cell=4), run(nb, "score", call="score(size)")):
        assert result.status.value == "ok", result.error
        store.put("file:///nb.ipynb", record_key(result.cell, result.qualname), result, None)
    return store


ENCODER = convert.Encoder("utf-16")


def hints_by_line(store, cells, index) -> dict[int, str]:
    return {h["position"]["line"]: h["label"]
            for h in inlay_hints(store, "file:///nb.ipynb", cells, index, ENCODER)}


def test_each_code_cell_gets_a_cell_lens_and_each_function_a_lens():
    cells = editor_cells()
    store = ProfileStore()
    assert lenses(store, "file:///nb.ipynb", cells, 0) == []  # markdown
    cell_lens, = lenses(store, "file:///nb.ipynb", cells, 3)
    command = cell_lens["command"]
    assert command["title"] == "Profile cell memory" and cell_lens["range"]["start"]["line"] == 0
    assert "cells above it run first, in a fresh process" in command["tooltip"]
    assert "kernel is never touched" in command["tooltip"]
    assert command["arguments"] == [{"uri": "file:///nb.ipynb", "cell": 4,
                                     "cellUri": cells[3].uri}]
    _, fn_lens = lenses(store, "file:///nb.ipynb", cells, 4)
    assert fn_lens["command"]["title"] == "Profile memory"
    args = fn_lens["command"]["arguments"][0]
    assert (args["cell"], args["qualname"], args["line"], args["needsCall"]) == (5, "score", 0, True)
    magics = editor_cells(["%time setup()\n!pip install x \\\n  y\n@cache\ndef f():\n    pass"])
    titles = [(lens["range"]["start"]["line"], lens["command"]["title"])
              for lens in lenses(store, "file:///nb.ipynb", magics, 0)]
    assert titles == [(0, "Profile cell memory"), (4, "Profile memory")]


def test_results_come_back_on_the_cells_lines(measured):
    cells = editor_cells()
    hints = hints_by_line(measured, cells, 3)
    assert sorted(hints) == [0, 1, 2] and 70 < mib(hints[0]) < 82
    assert sorted(hints_by_line(measured, cells, 4)) == [1, 2]  # score's body
    assert hints_by_line(measured, cells, 1) == {}  # cells that ran first show nothing
    titles = [lens["command"]["title"] for lens in lenses(measured, "file:///nb.ipynb", cells, 3)]
    assert titles[0].startswith("peak ") and " at line 1 " in titles[0] and titles[1] == "Clear"
    hint = inlay_hints(measured, "file:///nb.ipynb", cells, 3, ENCODER)[0]
    assert hint["position"]["character"] == len("ones = np.ones(size)")


def test_results_follow_a_cell_that_moved_and_lines_added_above_a_function(measured):
    texts = list(CELLS)
    texts.insert(1, "md:a new note")  # every cell below moves down one
    texts[5] = "# helper\n\n" + texts[5]  # two lines above `def score`
    cells = editor_cells(texts)
    assert sorted(hints_by_line(measured, cells, 4)) == [0, 1, 2]
    assert sorted(hints_by_line(measured, cells, 5)) == [3, 4]


def test_an_edited_line_drops_the_result_of_its_cell(measured):
    texts = list(CELLS)
    texts[3] = texts[3].replace("ones[:10] * 2", "ones[:10] * 3")
    cells = editor_cells(texts)
    assert hints_by_line(measured, cells, 3) == {}
    assert record_key(4, None) not in measured.records["file:///nb.ipynb"]
    assert sorted(hints_by_line(measured, cells, 4)) == [1, 2]  # the function's stays


def test_unsaved_cells_are_told_apart_from_the_saved_notebook(tmp_path):
    nb = write_notebook(tmp_path / "explain.ipynb")
    assert not unsaved(editor_cells(), str(nb))
    changed = list(CELLS)
    changed[1] += "\nmore = 1"
    assert unsaved(editor_cells(changed), str(nb))
    assert not unsaved(None, str(nb))  # no notebook sync: nothing known
