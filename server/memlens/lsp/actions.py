"""Code actions: a quick fix per finding with a fix, "Ignore MLxxx on this line" (`# noqa`), and
`source.fixAll.memlens` (all safe fixes, computed on `codeAction/resolve` when the client can)."""

from __future__ import annotations

import asyncio

from lsprotocol import types

from memlens.engine.lines import line_ending
from memlens.engine.suppression import suppress_edit
from memlens.lsp import convert
from memlens.lsp.check_process import CheckError

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
    if doc is None:
        return None
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


def register(server) -> None:
    def can_resolve_edit() -> bool:
        props = server.capability("text_document.code_action.resolve_support.properties")
        return bool(props) and "edit" in props

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.SourceFixAll,
                           FIX_ALL],
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
        wants_fix_all = only and any(FIX_ALL == o or FIX_ALL.startswith(o + ".") or o == FIX_ALL
                                     for o in only)
        safe = any(f.fixable() for f in result.findings)
        if (wants_fix_all or (not only and safe)) and safe:
            action = {"title": "memlens: fix all safe problems", "kind": FIX_ALL,
                      "data": {"uri": uri, "version": result.version}}
            if can_resolve_edit():
                actions.append(action)
            else:
                edit = await fix_all_edit(ls, uri)
                if edit is not None:
                    action["edit"] = edit
                    actions.append(action)
        return actions

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve(ls, params: types.CodeAction):
        data = params.data if isinstance(params.data, dict) else {}
        uri = data.get("uri")
        if params.kind == FIX_ALL and isinstance(uri, str) and uri:  # what we sent, or nothing
            edit = await fix_all_edit(ls, uri)
            params.edit = ls.protocol._converter.structure(
                edit, types.WorkspaceEdit) if edit else types.WorkspaceEdit(changes={})
        return params
