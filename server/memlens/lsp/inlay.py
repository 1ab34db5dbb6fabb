"""Inlay hints after a profile run: at the end of each line that ran, its increment
(`+763.0 MiB`), and its occurrences when more than one (`+12.0 MiB ×100`)."""

from __future__ import annotations

from lsprotocol import types

from memlens.lsp import convert, hotlines, present


def register(server) -> None:
    @server.feature(types.TEXT_DOCUMENT_INLAY_HINT, types.InlayHintOptions(resolve_provider=False))
    def inlay_hint(ls, params: types.InlayHintParams):
        uri = params.text_document.uri
        placed = hotlines.placements(ls, uri)
        if not placed:
            return []
        doc = ls.open_document(uri)
        lines = convert.split_lines(doc.source)
        first, last = params.range.start.line, params.range.end.line
        return present.line_hints(placed, lines, first, last, ls.encoder)
