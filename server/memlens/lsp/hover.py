"""Hover: a flagged range shows its finding's message, then its rule's documentation; a profiled
line shows its table row, the function's summary (incl. GC activity) and what Increment and Mem
usage mean."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from lsprotocol import types

from memlens.engine import measured
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
            # the findings as shown: those on measured lines confirmed or dismissed
            findings = hotlines.adjusted(ls, result) if ls.profiles.has(uri) else result.findings
            for finding, diag in zip(findings, result.diagnostics, strict=False):
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
                evidence = f"*{measured.evidence_line(finding, _stale_run(ls, uri, finding))}*"
                if finding.code in rules:
                    # headed by this finding's own message ("`grown` is regrown ..."), not the
                    # rule's template ("$A is regrown ..."); what it rests on right below
                    heading, _, rest = rules[finding.code].docs_markdown(
                        heading=finding.message).partition("\n\n")
                    parts.append(f"{heading}\n\n{evidence}\n\n{rest}")
                else:
                    parts.append(f"**{finding.code}**: {finding.message}\n\n{evidence}")
        for placed in hotlines.placements(ls, uri):
            for row in placed.result.measured_rows:
                if placed.current(row.line) == params.position.line:
                    parts.append(present.hover_row(placed.result, row))
        if not parts:
            return None
        return types.Hover(contents=types.MarkupContent(
            kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)))


def _stale_run(ls, uri: str, finding):
    """The profile result of the function around `finding` that its edit made stale, if any."""
    if finding.evidence == "measured":
        return None
    stale = ls.profiles.stale(uri)
    doc = ls.open_document(uri)
    if not stale or doc is None:
        return None
    for fn in ls.functions.get(uri, doc.version, doc.source):
        record = stale.get(fn.qualname)
        if record is not None and fn.first_line <= finding.start.line <= fn.last_line:
            return record.result
    return None
