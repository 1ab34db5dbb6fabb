"""`memlens.checkWorkspace`: analyse every Python file of the workspace, with progress, and
publish the diagnostics (open documents keep theirs: they are analysed as they are typed)."""

from __future__ import annotations

import asyncio
import os

from lsprotocol import types
from pygls.uris import from_fs_path

from memlens.lsp import convert
from memlens.lsp.check_process import CheckCancelled, CheckError

CHECK = "memlens.checkWorkspace"


def python_files(root: str, settings) -> list[str]:
    """The workspace's Python files, as `memlens check <root>` finds them (its exclude, its
    .gitignore handling, its skipped folders)."""
    from memlens.engine.discovery import discover  # here: pathspec is not needed to serve

    return [absolute for _, absolute in discover([root], settings)]


def register(server) -> None:
    @server.command(CHECK)
    async def check_workspace(ls, *arguments):
        root = ls.root
        if not root or not os.path.isdir(root):
            return {"files": 0, "findings": 0, "error": "no workspace folder is open"}
        workspace = await asyncio.wrap_future(ls.analyzer.engine_future)
        loop = asyncio.get_running_loop()
        files = await loop.run_in_executor(None, python_files, root, workspace.settings)
        token = None
        if ls.capability("window.work_done_progress"):
            token = f"memlens-check-{id(files)}"
            try:
                await ls.work_done_progress.create_async(token)
                ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(
                    title="memlens: checking the workspace", percentage=0, cancellable=True))
            except Exception:
                token = None
        cancelled = False
        total = 0

        checks = ls.analyzer.checks

        def stopped() -> bool:
            fut = ls.work_done_progress.tokens.get(token) if token is not None else None
            return fut is not None and fut.cancelled()

        from memlens.engine.batch import BadInput, io_error, read_source

        def check(path: str):
            try:  # decoded as `memlens check` decodes it: never a guess at a broken byte
                text = read_source(path).text
            except BadInput as exc:
                return [convert.diagnostic(io_error(path, str(exc)), [""], ls.encoder)]
            try:  # in the checker process: a crash or a hang costs this file only
                findings = checks.call("check_file", text, path, stop=stopped,
                                       budget=ls.editor_settings.check_timeout_s or None)
            except CheckCancelled:
                return None
            except CheckError as exc:
                return [convert.notice("checker-stopped", f"memlens could not check this "
                                                          f"file: {exc}")]
            if findings is None:
                return None  # excluded by its own project's configuration
            lines = convert.split_lines(text)
            return [convert.diagnostic(f, lines, ls.encoder) for f in findings]

        for i, path in enumerate(files):
            if token is not None:
                fut = ls.work_done_progress.tokens.get(token)
                if fut is not None and fut.cancelled():
                    cancelled = True
                    break
            uri = from_fs_path(path) or path
            if ls.open_document(uri) is not None:
                continue  # open documents are analysed as they are edited
            diagnostics = await loop.run_in_executor(None, check, path)
            if diagnostics is None:
                continue
            total += len(diagnostics)
            ls.workspace_pushed.add(uri)
            ls.notify_raw(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS,
                          {"uri": uri, "diagnostics": diagnostics})
            if token is not None and (i % 10 == 0 or i == len(files) - 1):
                ls.work_done_progress.report(token, types.WorkDoneProgressReport(
                    message=f"{i + 1}/{len(files)} files",
                    percentage=int(100 * (i + 1) / max(len(files), 1))))
        if token is not None:
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd(
                message=f"{len(files)} files, {total} findings"))
            ls.work_done_progress.tokens.pop(token, None)
        return {"files": len(files), "findings": total, "cancelled": cancelled}
