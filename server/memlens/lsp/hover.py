"""Hover: a flagged range shows its finding's message, then its rule's documentation; a profiled
line shows its table row, the function's summary (incl. GC activity) and what Increment and Mem
usage mean."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from lsprotocol import types

from memlens.lsp import hotlines, present

if TYPE_CHECKING:
    from memlens.engine import Finding


def register(server) -> None:
    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls, params: types.HoverParams):
        uri = params.text_document.uri
        doc = ls.open_document(uri)
        if doc is None:
            return None
        result = await ls.analyzer.wait_for(uri, doc.version)
        parts: list[str] = []
        where = (params.position.line, params.position.character)
        if result is not None:
            here: list[Finding] = []
            for finding, diag in zip(result.findings, result.diagnostics, strict=False):
                rng = diag["range"]
                start = (rng["start"]["line"], rng["start"]["character"])
                end = (rng["end"]["line"], rng["end"]["character"])
                if start <= where <= end and finding.code not in {f.code for f in here}:
                    here.append(finding)
            rules = {}
            if here:  # each rule's file read the first time it is shown, off the event loop
                workspace = await asyncio.wrap_future(ls.analyzer.engine_future)
                rules = await asyncio.get_running_loop().run_in_executor(
                    None, workspace.rules_named, [f.code for f in here], doc.path)
            for finding in here:
                if finding.code in rules:
                    # headed by this finding's own message ("`grown` is regrown ..."), not the
                    # rule's template ("$A is regrown ...")
                    parts.append(rules[finding.code].docs_markdown(heading=finding.message))
                else:
                    parts.append(f"**{finding.code}**: {finding.message}")
        for placed in hotlines.placements(ls, uri):
            for row in placed.result.measured_rows:
                if placed.current(row.line) == params.position.line:
                    parts.append(present.hover_row(placed.result, row))
        if not parts:
            return None
        return types.Hover(contents=types.MarkupContent(
            kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)))
