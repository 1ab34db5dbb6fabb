"""The server's copy of an open document, with LSP's line model.

pygls splits a document with `str.splitlines`, which also breaks at form feeds and other
separators that LSP does not count: one "\\f" on an earlier line shifts every later position of
an incremental edit, and the server's copy drifts from the editor's. Here a line ends at "\\r\\n",
"\\r" or "\\n" only (`engine/lines.py`).

An incremental edit also costs time in proportion to where it lands, not to the file's size:
the change's offsets are found by scanning to its lines (no list of every line is built), and
the text is spliced once.
"""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types
from pygls.workspace import TextDocument, Workspace

from memlens.engine.lines import LINE_BREAK
from memlens.lsp.convert import Encoder

_ENCODERS: dict[str, Encoder] = {}

# A request for the server's copy of a document ({uri} -> {version, text}): tests and the fuzz
# harness compare it with the client's after every edit.
DOCUMENT_TEXT_REQUEST = "memlens/documentText"


class LspTextDocument(TextDocument):
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
        start = self._offset(text, change.range.start)
        end = max(self._offset(text, change.range.end), start)
        self._source = text[:start] + change.text + text[end:]

    def _offset(self, text: str, position: types.Position) -> int:
        """The code-point offset of a client position: a line past the end is the end, a
        character past the line's end is the line's end (as LSP asks)."""
        line, line_start = 0, 0
        breaks = LINE_BREAK.finditer(text)
        while line < position.line:
            m = next(breaks, None)
            if m is None:
                return len(text)
            line, line_start = line + 1, m.end()
        m = LINE_BREAK.search(text, line_start)
        line_text = text[line_start:m.start() if m else len(text)]
        # (pygls' codec turns a character past the end into the one before the last, and
        # writes that into the client's Position: the edit would land a character early)
        _, column = self._encoder.from_client([line_text], 0, max(position.character, 0))
        return line_start + column

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
