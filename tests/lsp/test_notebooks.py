"""Jupyter notebooks in the editor (issue 20): `memlens serve` over stdio with LSP notebook
messages, as VS Code sends them once the server declares notebookDocumentSync.

The notebook is written to disk with nbformat and checked by `memlens check` (a subprocess) for
the expectations: the server must show the CLI's findings, each on its cell's URI at the CLI's
cell-relative position, and its notebook-wide fix-all must write what `--fix` writes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from .conftest import CONFIG, make_workspace, start, vscode_capabilities, wait_pushed
from .test_features import actions_at, apply

MEMLENS = [sys.executable, "-m", "memlens"]
LOAD = "x = np.load('a.npy')\nfor i in range(0, len(x), 256):\n    batch = x[i:i + 256]"
# ("code" | "markdown", source): ML102 in cell 3 (an unsafe fix), ML990 (a safe fix) in cells 4
# and 6, IPython syntax in cells 1 and 6; cells numbered as the notebook numbers them.
CELLS = [
    ("code", "%matplotlib inline\nimport numpy as np"),
    ("markdown", "# Loading"),
    ("code", LOAD),
    ("code", "total = 0\nfor i in list(range(10)):\n    total += i"),
    ("markdown", "More"),
    ("code", "!ls\nsquares = [k * k for k in list(range(5))]"),
]


def notebook_caps(pull_mode: bool) -> types.ClientCapabilities:
    caps = vscode_capabilities(pull=pull_mode)
    caps.notebook_document = types.NotebookDocumentClientCapabilities(
        synchronization=types.NotebookDocumentSyncClientCapabilities(
            execution_summary_support=True))
    return caps


def cell_uri(nb_path: Path, index: int) -> str:
    # VS Code's cell URIs: the notebook's path, a fragment per cell
    return f"vscode-notebook-cell:{nb_path.as_posix()}#W{index}sZmlsZQ%3D%3D"


class Notebook:
    """A notebook as the client holds it: cells (kind, text, version), synced to the server."""

    def __init__(self, client: LanguageClient, path: Path, cells):
        self.client, self.path, self.uri = client, path, path.as_uri()
        self.cells = [{"uri": cell_uri(path, i), "kind": kind, "text": text, "version": 1}
                      for i, (kind, text) in enumerate(cells)]
        self.version = 1
        self.next_index = len(cells)

    def code(self) -> list[dict]:
        return [c for c in self.cells if c["kind"] == "code"]

    def _item(self, cell) -> types.TextDocumentItem:
        return types.TextDocumentItem(uri=cell["uri"], version=cell["version"],
                                      language_id="python" if cell["kind"] == "code"
                                      else "markdown", text=cell["text"])

    def _cell(self, cell) -> types.NotebookCell:
        return types.NotebookCell(kind=types.NotebookCellKind.Code if cell["kind"] == "code"
                                  else types.NotebookCellKind.Markup, document=cell["uri"])

    def open(self) -> None:
        self.client.notebook_document_did_open(types.DidOpenNotebookDocumentParams(
            notebook_document=types.NotebookDocument(
                uri=self.uri, notebook_type="jupyter-notebook", version=self.version,
                cells=[self._cell(c) for c in self.cells]),
            cell_text_documents=[self._item(c) for c in self.cells]))

    def _change(self, cells: types.NotebookDocumentCellChanges) -> None:
        self.version += 1
        self.client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
            notebook_document=types.VersionedNotebookDocumentIdentifier(
                uri=self.uri, version=self.version),
            change=types.NotebookDocumentChangeEvent(cells=cells)))

    def edit(self, cell, line: int, character: int, text: str, end=None) -> None:
        """Insert `text` at (line, character) of `cell` (replacing up to `end`)."""
        cell["version"] += 1
        lines = cell["text"].split("\n")
        end_line, end_char = end or (line, character)
        start = sum(len(x) + 1 for x in lines[:line]) + character
        stop = sum(len(x) + 1 for x in lines[:end_line]) + end_char
        cell["text"] = cell["text"][:start] + text + cell["text"][stop:]
        rng = types.Range(start=types.Position(line=line, character=character),
                          end=types.Position(line=end_line, character=end_char))
        self._change(types.NotebookDocumentCellChanges(text_content=[
            types.NotebookDocumentCellContentChanges(
                document=types.VersionedTextDocumentIdentifier(uri=cell["uri"],
                                                               version=cell["version"]),
                changes=[types.TextDocumentContentChangePartial(range=rng, text=text)])]))

    def delete(self, cell) -> None:
        at = self.cells.index(cell)
        self.cells.remove(cell)
        self._change(types.NotebookDocumentCellChanges(
            structure=types.NotebookDocumentCellChangeStructure(
                array=types.NotebookCellArrayChange(start=at, delete_count=1),
                did_close=[types.TextDocumentIdentifier(uri=cell["uri"])])))

    def insert(self, at: int, kind: str, text: str) -> dict:
        cell = {"uri": cell_uri(self.path, self.next_index), "kind": kind, "text": text,
                "version": 1}
        self.next_index += 1
        self.cells.insert(at, cell)
        self._change(types.NotebookDocumentCellChanges(
            structure=types.NotebookDocumentCellChangeStructure(
                array=types.NotebookCellArrayChange(start=at, delete_count=0,
                                                    cells=[self._cell(cell)]),
                did_open=[self._item(cell)])))
        return cell

    def close(self) -> None:
        self.client.notebook_document_did_close(types.DidCloseNotebookDocumentParams(
            notebook_document=types.NotebookDocumentIdentifier(uri=self.uri),
            cell_text_documents=[types.TextDocumentIdentifier(uri=c["uri"])
                                 for c in self.cells]))

    def save_ipynb(self, path: Path | None = None) -> Path:
        """The notebook as Jupyter saves it, for the CLI."""
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        for i, c in enumerate(self.cells):
            cell = (nbformat.v4.new_code_cell if c["kind"] == "code"
                    else nbformat.v4.new_markdown_cell)(c["text"])
            cell.id = f"cell-{i}"
            nb.cells.append(cell)
        path = path or self.path
        nbformat.write(nb, str(path))
        return path


def cli(path: Path, *args: str) -> list[dict]:
    # (--show-hints: the editor shows hints too, faintly; ML102 on a missing a.npy is one)
    r = subprocess.run([*MEMLENS, "check", "--output-format", "json", "--show-hints", *args,
                        path.name],
                       capture_output=True, text=True, cwd=path.parent, timeout=120)
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)


def expected(nb: Notebook) -> dict[str, list[tuple]]:
    """The CLI's findings as (code, range) per code cell URI (ASCII cells: LSP characters are
    the CLI's 1-based columns minus one)."""
    findings = cli(nb.save_ipynb())
    out: dict[str, list[tuple]] = {c["uri"]: [] for c in nb.code()}
    for f in findings:
        uri = nb.cells[f["cell"] - 1]["uri"]
        out[uri].append((f["code"], (f["location"]["row"] - 1, f["location"]["column"] - 1,
                                     f["end_location"]["row"] - 1,
                                     f["end_location"]["column"] - 1)))
    return {uri: sorted(items) for uri, items in out.items()}


def shown(diagnostics) -> list[tuple]:
    return sorted((d.code, (d.range.start.line, d.range.start.character, d.range.end.line,
                            d.range.end.character)) for d in diagnostics)


async def pushed(client: LanguageClient, nb: Notebook, want: dict[str, list[tuple]]) -> None:
    """Wait until every code cell's pushed diagnostics are `want`'s."""
    for uri, items in want.items():
        await wait_pushed(client, uri, lambda d, items=items: shown(d) == items)


async def _session(lsp_client: LanguageClient, tmp_path: Path, pull_mode: bool):
    lsp_client.root = make_workspace(tmp_path)
    await start(lsp_client, lsp_client.root, pull=pull_mode, capabilities=notebook_caps(pull_mode))


@pytest_lsp.fixture(config=CONFIG)
async def nb_push(lsp_client: LanguageClient, tmp_path):
    """VS Code's capabilities with notebook sync; the server pushes diagnostics."""
    await _session(lsp_client, tmp_path, pull_mode=False)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=CONFIG)
async def nb_pull(lsp_client: LanguageClient, tmp_path):
    """The same, pulling diagnostics (what vscode-languageclient 11 does)."""
    await _session(lsp_client, tmp_path, pull_mode=True)
    yield
    await lsp_client.shutdown_session()


def declared_sync(client: LanguageClient):
    return client.initialize_result.capabilities.notebook_document_sync


async def test_notebook_sync_is_declared_for_python_cells(nb_push: LanguageClient):
    sync = declared_sync(nb_push)
    assert sync is not None and sync.save
    [selector] = sync.notebook_selector
    assert selector.notebook == "*"
    assert [c.language for c in selector.cells] == ["python"]
    assert "notebook.source.fixAll.memlens" in \
        nb_push.initialize_result.capabilities.code_action_provider.code_action_kinds


async def test_no_notebook_sync_for_a_client_without_it(push_client: LanguageClient):
    # the VS Code 1.65 snapshot does not sync notebooks: the server does not declare it (as
    # pygls decides)
    assert declared_sync(push_client) is None


async def test_open_edit_delete_close_push(nb_push: LanguageClient):
    client = nb_push
    nb = Notebook(client, client.root / "explain.ipynb", CELLS)
    nb.open()
    want = expected(nb)
    assert {code for items in want.values() for code, _ in items} == {"ML102", "ML990"}
    await pushed(client, nb, want)
    markdown = [c["uri"] for c in nb.cells if c["kind"] == "markdown"]
    assert not any(uri in client.diagnostics for uri in markdown)

    # a line added at the top of cell 3 moves its finding down a line, in that cell only
    load = nb.cells[2]
    nb.edit(load, 0, 0, "y = 1\n")
    want = expected(nb)
    assert want[load["uri"]][0][1][0] == 1
    await pushed(client, nb, want)
    # its finding goes when the load goes
    nb.edit(load, 1, 4, "[]", end=(1, 20))
    want = expected(nb)
    assert want[load["uri"]] == []
    await pushed(client, nb, want)

    # a deleted cell's diagnostics are cleared; the others stay
    squares = nb.cells[5]
    assert client.diagnostics[squares["uri"]]
    nb.delete(squares)
    await wait_pushed(client, squares["uri"], lambda d: len(d) == 0)
    await pushed(client, nb, expected(nb))

    # a new cell is checked with the others
    added = nb.insert(2, "code", "ones = list(range(3))")
    want = expected(nb)
    assert [code for code, _ in want[added["uri"]]] == ["ML990"]
    await pushed(client, nb, want)

    # closing the notebook clears every cell
    uris = [c["uri"] for c in nb.code()]
    nb.close()
    for uri in uris:
        await wait_pushed(client, uri, lambda d: len(d) == 0)


async def test_cells_are_pushed_to_a_pull_client_too(nb_pull: LanguageClient):
    """vscode-languageclient forgets a cell's pulled diagnostics when its editor scrolls out of
    view: the server pushes a notebook's cells, and answers a pull on a cell with nothing (no
    duplicates), "unchanged" the second time."""
    client = nb_pull
    nb = Notebook(client, client.root / "explain.ipynb", CELLS)
    nb.open()
    want = expected(nb)
    await pushed(client, nb, want)
    nb.edit(nb.cells[3], 0, 0, "\n\n")
    want = expected(nb)
    await pushed(client, nb, want)
    for cell in nb.code():
        first = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
            text_document=types.TextDocumentIdentifier(uri=cell["uri"])))
        assert first.kind == "full" and list(first.items) == []
        again = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
            text_document=types.TextDocumentIdentifier(uri=cell["uri"]),
            previous_result_id=first.result_id))
        assert again.kind == "unchanged"


async def test_quick_fix_hover_and_no_source_fix_all_in_a_cell(nb_pull: LanguageClient):
    client = nb_pull
    nb = Notebook(client, client.root / "explain.ipynb", CELLS)
    nb.open()
    loop_cell = nb.cells[3]
    [diag] = await wait_pushed(client, loop_cell["uri"], lambda d: len(d) == 1)
    line, col = diag.range.start.line, diag.range.start.character
    actions = await actions_at(client, loop_cell["uri"], line, col, diagnostics=[diag])
    fix = next(a for a in actions if a.title == "Iterate the range without building a list")
    [change] = fix.edit.document_changes
    assert change.text_document.uri == loop_cell["uri"]  # the cell, at cell positions
    assert change.text_document.version == loop_cell["version"]
    fixed = apply(loop_cell["text"], change.edits)
    assert fixed == "total = 0\nfor i in range(10):\n    total += i"
    noqa = next(a for a in actions if a.title == "Ignore ML990 on this line")
    [change] = noqa.edit.document_changes
    assert apply(loop_cell["text"], change.edits).split("\n")[1].endswith("# noqa: ML990")

    # a cell is not a file: no source.fixAll of the cell alone, asked or not
    for only in (None, ["source"], ["source.fixAll"], ["source.fixAll.memlens"]):
        kinds = [a.kind for a in await actions_at(client, loop_cell["uri"], line, col,
                                                  only=only)]
        assert not any(str(k).startswith("source") for k in kinds), (only, kinds)

    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=loop_cell["uri"]),
        position=types.Position(line=line, character=col + 2)))
    assert hover is not None and hover.contents.value.startswith("# ML990")


async def test_notebook_fix_all_writes_what_check_fix_writes(nb_pull: LanguageClient):
    client = nb_pull
    nb = Notebook(client, client.root / "explain.ipynb", CELLS)
    nb.open()
    await pushed(client, nb, expected(nb))
    first = nb.code()[0]
    actions = await actions_at(client, first["uri"], 0, 0, only=["notebook.source.fixAll"])
    assert [a.kind for a in actions] == ["notebook.source.fixAll.memlens"]
    action = actions[0]
    if action.edit is None:
        action = await client.code_action_resolve_async(action)
    edited = {}
    for change in action.edit.document_changes:
        cell = next(c for c in nb.cells if c["uri"] == change.text_document.uri)
        assert change.text_document.version == cell["version"]
        edited[cell["uri"]] = apply(cell["text"], change.edits)
    # the CLI's --fix on the same notebook: the same cells, the same sources
    path = nb.save_ipynb(client.root / "fixed.ipynb")
    cli(path, "--fix")
    after = nbformat.read(str(path), as_version=4)
    want = {nb.cells[i]["uri"]: cell.source for i, cell in enumerate(after.cells)
            if cell.source != nb.cells[i]["text"]}
    assert len(want) == 2 and edited == want  # cells 4 and 6 (ML990); ML102's fix is unsafe
    assert all("list(range" not in text for text in edited.values())
