"""The server's copy of an open document, with LSP's line model.

pygls splits a document with `str.splitlines`, which also breaks at form feeds and other
separators that LSP does not count: one "\\f" on an earlier line shifts every later position of
an incremental edit, and the server's copy drifts from the editor's. Here a line ends at "\\r\\n",
"\\r" or "\\n" only (`engine/lines.py`).

An incremental edit also costs time in proportion to the edit, not to the file's size: the
change's offsets come from a line index updated edit by edit (`line_index.py`), and the text is
spliced once (a copy of the string, at memory speed).
"""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types
from pygls.workspace import TextDocument, Workspace

from memlens.engine.lines import LINE_BREAK
from memlens.lsp.convert import Encoder
from memlens.lsp.line_index import LineIndex

_ENCODERS: dict[str, Encoder] = {}

# A request for the server's copy of a document ({uri} -> {version, text}): tests and the fuzz
# harness compare it with the client's after every edit.
DOCUMENT_TEXT_REQUEST = "memlens/documentText"


class LspTextDocument(TextDocument):
    _index: LineIndex | None = None  # made on the first incremental edit

    @property
    def lines(self) -> Sequence[str]:
        """Every line with its own line break, as LSP counts lines."""
        text = self.source
        out, start = [], 0
        for m in LINE_BREAK.finditer(text):
            out.append(text[start:m.end()])
            start = m.end()
        if start < len(text):
            out.append(text[start:])
        return tuple(out)

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial) -> None:
        text = self.source
        index = self._line_index(text)
        start_line, start = self._offset(text, index, change.range.start)
        end_line, end = self._offset(text, index, change.range.end)
        if end < start:
            end_line, end = start_line, start
        index.replace(text, start_line, start, end_line, end, change.text)
        self._source = text[:start] + change.text + text[end:]

    def _apply_full_change(self, change) -> None:
        super()._apply_full_change(change)
        self._index = None

    def _line_index(self, text: str) -> LineIndex:
        index = getattr(self, "_index", None)
        if index is None:
            index = self._index = LineIndex(text)
        return index

    def _offset(self, text: str, index: LineIndex,
                position: types.Position) -> tuple[int, int]:
        """(line, code-point offset) of a client position: a line past the end is the end, a
        character past the line's end is the line's end (as LSP asks)."""
        found = index.line_start(position.line)
        if found is None:
            return max(index.line_count - 1, 0), len(text)
        start, length = found
        end = start + length  # the line's break, if any, is its last one or two characters
        if end > start and text[end - 1] == "\n":
            end -= 1
        if end > start and text[end - 1] == "\r":
            end -= 1
        # at most `character` code points are needed (each is at least one unit): the cost
        # follows the column, not the length of the line
        character = max(position.character, 0)
        line_text = text[start:min(end, start + character)]
        # (pygls' codec turns a character past the end into the one before the last, and
        # writes that into the client's Position: the edit would land a character early)
        return position.line, start + self._encoder.column(line_text, character)

    @property
    def _encoder(self) -> Encoder:
        encoding = getattr(self._position_codec, "encoding", None) or "utf-16"
        return _ENCODERS.setdefault(str(encoding), Encoder(encoding))


class LspWorkspace(Workspace):
    def _create_text_document(self, doc_uri: str, source: str | None = None,
                              version: int | None = None,
                              language_id: str | None = None) -> TextDocument:
        return LspTextDocument(doc_uri, source=source, version=version, language_id=language_id,
                               sync_kind=self._sync_kind, position_codec=self._position_codec)


def use_lsp_line_model(workspace: Workspace) -> None:
    """Make the workspace pygls created (before our initialize handler runs) create documents
    with LSP's line model."""
    if not isinstance(workspace, LspWorkspace):
        workspace.__class__ = LspWorkspace
