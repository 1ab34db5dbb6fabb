"""Notebook documents (LSP 3.17 notebook sync): the code cells of an open notebook are checked as
one module, as `memlens check` checks the .ipynb file, and each finding is shown in its cell.

pygls keeps each open notebook (its cells, in order) and each cell's text document. The analyzer
sends the code cells' texts to the checker process (`check_worker.check_notebook`: joined by
`notebook.join_cells`, checked incrementally with a block per cell, each finding placed in its
cell by `engine.notebooks.place`) and keeps one result per cell URI, so that hover and code
actions work in a cell as in a file. A notebook-wide fix-all is a code action of its own kind on a
cell (`FIX_ALL`, actions.py).

A cell's diagnostics are pushed, for the cells whose text or diagnostics changed, even to a
client that pulls: vscode-languageclient 11 forgets the pulled diagnostics of a cell whose editor
scrolls out of view (it counts a cell as open while its editor is visible), which took them out
of VS Code's Problems view; its pulls on a cell are answered with an empty report. A deleted
cell's diagnostics, and a closed notebook's, are cleared.
"""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types

# The notebooks the client syncs: any notebook type, its Python cells (the bootstrap's early
# `initialize` answer spells the same, `bootstrap.NOTEBOOK_SYNC`).
SYNC = types.NotebookDocumentSyncOptions(
    notebook_selector=[types.NotebookDocumentFilterWithCells(
        notebook="*", cells=[types.NotebookCellLanguage(language="python")])],
    save=True)
# Safe fixes in every cell of the notebook: a code action kind on the notebook (VS Code's
# `notebook.codeActionsOnSave`), never a cell's `source.*` action, which an editor applies to
# the cell as if it were the whole file.
FIX_ALL = "notebook.source.fixAll.memlens"
PYTHON_LANGUAGES = frozenset({"python", "python3", "ipython", ""})
# The resultId of a pull on a cell (always empty: cells are pushed)
PULLED = "notebook-cell"


@dataclass(frozen=True)
class Cell:
    uri: str
    version: int | None
    text: str


@dataclass(frozen=True)
class Snapshot:
    """An open notebook's code cells, in order, as they are now."""

    uri: str
    cells: tuple[Cell, ...]
    path: str | None  # the .ipynb file's, for its project's configuration

    @property
    def texts(self) -> list[str]:
        return [cell.text for cell in self.cells]


class Notebooks:
    """The server's view of the open notebooks: their revisions (one per change the analyzer
    must see: pygls' notebook version need not move when only a cell's text does)."""

    def __init__(self, server):
        self.server = server
        self.revisions: dict[str, int] = {}

    def bump(self, uri: str) -> int:
        self.revisions[uri] = self.revisions.get(uri, 0) + 1
        return self.revisions[uri]

    def _workspace(self):
        try:
            return self.server.workspace
        except RuntimeError:  # before initialize
            return None

    def owner(self, cell_uri: str) -> str | None:
        """The URI of the open notebook that `cell_uri` is a cell of, or None."""
        workspace = self._workspace()
        nb = workspace.get_notebook_document(cell_uri=cell_uri) if workspace else None
        return nb.uri if nb is not None and nb.uri in self.revisions else None

    def snapshot(self, uri: str) -> Snapshot | None:
        """The code cells of the open notebook `uri` (Python cells only), or None."""
        workspace = self._workspace()
        nb = workspace.get_notebook_document(notebook_uri=uri) if workspace else None
        if nb is None or uri not in self.revisions:
            return None
        cells = []
        for cell in nb.cells:
            if cell.kind != types.NotebookCellKind.Code:
                continue
            doc = self.server.open_document(cell.document)
            if doc is None or str(doc.language_id or "").lower() not in PYTHON_LANGUAGES:
                continue
            cells.append(Cell(cell.document, doc.version, doc.source))
        return Snapshot(uri, tuple(cells), self.server.path_of(uri))

    def cell_uris(self, uri: str) -> list[str]:
        result = self.server.analyzer.results.get(uri)
        return [cell.uri for cell in getattr(result, "cells", ())]


def register(server) -> None:
    def clear(ls, uris) -> None:
        for uri in uris:  # (pushed in either mode)
            ls.analyzer.forget_cell(uri)
            ls.notify_raw(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, {"uri": uri, "diagnostics": []})

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    def did_open(ls, params: types.DidOpenNotebookDocumentParams):
        uri = params.notebook_document.uri
        ls.analyzer.opened(uri, ls.notebooks.bump(uri))

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def did_change(ls, params: types.DidChangeNotebookDocumentParams):
        uri = params.notebook_document.uri
        cells = params.change.cells
        if cells is None or uri not in ls.notebooks.revisions:
            return  # the notebook's metadata: nothing memlens reads
        structure = cells.structure
        if structure is not None:  # cells added, moved or deleted
            clear(ls, [doc.uri for doc in structure.did_close or ()])
        elif not cells.text_content:
            return  # a cell's metadata or execution summary (running a cell): no new text
        ls.analyzer.changed(uri, ls.notebooks.bump(uri))

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
    def did_save(ls, params: types.DidSaveNotebookDocumentParams):
        uri = params.notebook_document.uri
        if uri in ls.notebooks.revisions:
            ls.analyzer.schedule(uri, immediate=True)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def did_close(ls, params: types.DidCloseNotebookDocumentParams):
        uri = params.notebook_document.uri
        cells = dict.fromkeys([*ls.notebooks.cell_uris(uri),
                               *(doc.uri for doc in params.cell_text_documents)])
        ls.notebooks.revisions.pop(uri, None)
        ls.analyzer.closed(uri)
        clear(ls, cells)
