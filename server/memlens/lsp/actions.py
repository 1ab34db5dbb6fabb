"""Code actions: a quick fix per finding with a fix, "Ignore MLxxx on this line" (`# noqa`), and
`source.fixAll.memlens` (all safe fixes, computed on `codeAction/resolve` when the client can).

In a notebook's cell, the quick fixes are the cell's (a fix never spans two cells), and the
fix-all is `notebook.source.fixAll.memlens`: safe fixes in every cell, one edit per changed cell.
A cell never gets `source.fixAll.memlens`, which a client applies to the cell alone as if it were
the whole file."""

from __future__ import annotations

import asyncio

from lsprotocol import types

from memlens.engine.lines import line_ending
from memlens.engine.suppression import suppress_edit
from memlens.lsp import convert
from memlens.lsp.check_process import CheckError
from memlens.lsp.notebooks import FIX_ALL as NOTEBOOK_FIX_ALL

FIX_ALL = "source.fixAll.memlens"
NOT_SUPPRESSIBLE = {"syntax-error", "memory-hotspot"}


def _pos(p: dict) -> tuple[int, int]:
    return p["line"], p["character"]


def _overlaps(rng: dict, req: types.Range) -> bool:
    start, end = _pos(rng["start"]), _pos(rng["end"])
    return start <= (req.end.line, req.end.character) and end >= (req.start.line,
                                                                   req.start.character)


def noqa_edit(line_text: str, line: int, code: str, lines, enc) -> dict | None:
    """The edit that makes `line` suppress `code`, merging with an existing noqa comment."""
    body = line_text[:-1] if line_text.endswith("\r") else line_text
    where = suppress_edit(body, code)
    if where is None:
        return None
    start, end, text = where
    return {"range": {"start": enc.to_client(lines, line, start),
                      "end": enc.to_client(lines, line, end)}, "newText": text}


def workspace_edit(server, uri: str, version, edits: list[dict]) -> dict:
    if server.capability("workspace.workspace_edit.document_changes"):
        return {"documentChanges": [{"textDocument": {"uri": uri, "version": version},
                                     "edits": edits}]}
    return {"changes": {uri: edits}}


def _wants(only, kind: str) -> bool:
    if not only:
        return True
    return any(kind == o or kind.startswith(o + ".") for o in only)


async def fix_all_edit(server, uri: str) -> dict | None:
    doc = server.open_document(uri)
    if doc is None or server.notebooks.owner(uri) is not None:
        return None  # (a cell: its notebook's fix-all, below)
    text, version = doc.source, doc.version
    checks = server.analyzer.checks
    loop = asyncio.get_running_loop()
    try:  # in the checker process, as the findings were: a crash or a hang costs the fix only
        new_text, applied = await loop.run_in_executor(None, lambda: checks.call(
            "fix_all", text, doc.path or uri,
            budget=server.editor_settings.check_timeout_s or None))
    except CheckError as exc:
        server.log(f"memlens: fix all in {uri}: {exc}", error=True)
        return None
    if not applied or new_text == text:
        return None
    return workspace_edit(server, uri, version,
                          [convert.whole_text_edit(text, new_text, server.encoder)])


async def notebook_fix_all_edit(server, cell_uri: str) -> dict | None:
    """The safe fixes of the notebook `cell_uri` is a cell of, as one edit per changed cell."""
    owner = server.notebooks.owner(cell_uri)
    notebook = server.notebooks.snapshot(owner) if owner else None
    if notebook is None or not notebook.cells:
        return None
    checks = server.analyzer.checks
    loop = asyncio.get_running_loop()
    try:
        changed, applied = await loop.run_in_executor(None, lambda: checks.call(
            "fix_notebook", notebook.texts, notebook.path,
            budget=server.editor_settings.check_timeout_s or None))
    except CheckError as exc:
        server.log(f"memlens: fix all in {owner}: {exc}", error=True)
        return None
    cells = [(notebook.cells[number - 1], text) for number, text in sorted(changed.items())
             if 1 <= number <= len(notebook.cells)]
    if not applied or not cells:
        return None
    edits = [(cell, [convert.whole_text_edit(cell.text, text, server.encoder)])
             for cell, text in cells]
    if server.capability("workspace.workspace_edit.document_changes"):
        return {"documentChanges": [{"textDocument": {"uri": cell.uri, "version": cell.version},
                                     "edits": cell_edits} for cell, cell_edits in edits]}
    return {"changes": {cell.uri: cell_edits for cell, cell_edits in edits}}


def register(server) -> None:
    def can_resolve_edit() -> bool:
        props = server.capability("text_document.code_action.resolve_support.properties")
        return bool(props) and "edit" in props

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.SourceFixAll,
                           FIX_ALL, NOTEBOOK_FIX_ALL],
        resolve_provider=True))
    async def code_action(ls, params: types.CodeActionParams):
        uri = params.text_document.uri
        doc = ls.open_document(uri)
        if doc is None:
            return []
        result = await ls.analyzer.wait_for(uri, doc.version)
        if result is None:
            return []
        only = params.context.only
        actions: list[dict] = []
        lines, enc = result.lines, ls.encoder
        if _wants(only, types.CodeActionKind.QuickFix):
            for finding, diag in zip(result.findings, result.diagnostics, strict=False):
                if not _overlaps(diag["range"], params.range):
                    continue
                if finding.fix is not None:
                    actions.append({
                        "title": finding.fix.message,
                        "kind": types.CodeActionKind.QuickFix.value,
                        "diagnostics": [diag],
                        "isPreferred": finding.fix.applies(),
                        "edit": workspace_edit(ls, uri, result.version, convert.text_edits(
                            finding.fix.edits, lines, enc, line_ending(doc.source))),
                    })
                if finding.code in NOT_SUPPRESSIBLE:
                    continue
                line = finding.start.line
                if line < len(lines):
                    edit = noqa_edit(lines[line], line, finding.code, lines, enc)
                    if edit is not None:
                        actions.append({
                            "title": f"Ignore {finding.code} on this line",
                            "kind": types.CodeActionKind.QuickFix.value,
                            "diagnostics": [diag],
                            "edit": workspace_edit(ls, uri, result.version, [edit]),
                        })
        owner = ls.notebooks.owner(uri)
        kind = FIX_ALL if owner is None else NOTEBOOK_FIX_ALL
        wants_fix_all = only and any(kind == o or kind.startswith(o + ".") for o in only)
        notebook = ls.analyzer.results.get(owner) if owner else result
        safe = notebook is not None and any(f.fixable() for f in notebook.findings)
        if (wants_fix_all or not only) and safe:
            title = "memlens: fix all safe problems" + (" in the notebook" if owner else "")
            action = {"title": title, "kind": kind,
                      "data": {"uri": uri, "version": result.version}}
            if can_resolve_edit():
                actions.append(action)
            else:
                edit = await (fix_all_edit if owner is None else notebook_fix_all_edit)(ls, uri)
                if edit is not None:
                    action["edit"] = edit
                    actions.append(action)
        return actions

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve(ls, params: types.CodeAction):
        data = params.data if isinstance(params.data, dict) else {}
        uri = data.get("uri")
        if params.kind in (FIX_ALL, NOTEBOOK_FIX_ALL) and isinstance(uri, str) and uri:
            # (what we sent, or nothing)
            edit = await (fix_all_edit if params.kind == FIX_ALL else notebook_fix_all_edit)(
                ls, uri)
            params.edit = ls.protocol._converter.structure(
                edit, types.WorkspaceEdit) if edit else types.WorkspaceEdit(changes={})
        return params
