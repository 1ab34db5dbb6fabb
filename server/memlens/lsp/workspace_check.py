"""`memlens.checkWorkspace`: analyse every Python file of the workspace, with progress, and
publish the diagnostics (open documents keep theirs: they are analysed as they are typed)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path

from memlens.lsp import convert
from memlens.lsp.check_process import CheckCancelled, CheckError

CHECK = "memlens.checkWorkspace"
SKIP_DIRS = {".git", ".hg", ".svn", ".venv", "venv", "env", "__pycache__", "node_modules",
             ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox", "build", "dist",
             ".memlens_cache", "site-packages"}


def python_files(root: str, settings) -> list[str]:
    """The workspace's Python files, minus `exclude` and what .gitignore ignores."""
    try:  # the CLI's discovery, when it exists, is the reference
        from memlens.engine import discovery  # type: ignore[attr-defined]

        for name in ("discover_files", "python_files", "discover", "iter_python_files"):
            fn = getattr(discovery, name, None)
            if callable(fn):
                try:
                    return [str(p) for p in fn([root], settings)]
                except TypeError:
                    continue
    except ImportError:
        pass
    # A fallback for an engine without discovery.discover_files.
    spec = None
    if settings is None or getattr(settings, "respect_gitignore", True):
        gitignore = Path(root) / ".gitignore"
        if gitignore.is_file():
            try:
                import pathspec

                spec = pathspec.PathSpec.from_lines(
                    "gitwildmatch", gitignore.read_text(encoding="utf-8", errors="replace")
                    .splitlines())
            except Exception:
                spec = None
    out = []
    for folder, dirs, files in os.walk(root):
        rel_folder = os.path.relpath(folder, root)
        kept = []
        for d in sorted(dirs):
            rel = os.path.normpath(os.path.join(rel_folder, d))
            if d in SKIP_DIRS or d.startswith(".") or (spec and spec.match_file(rel + "/")) or (
                    settings is not None and settings.is_excluded(os.path.join(folder, d))):
                continue
            kept.append(d)
        dirs[:] = kept
        for name in sorted(files):
            if not name.endswith((".py", ".pyi")):
                continue
            full = os.path.join(folder, name)
            rel = os.path.normpath(os.path.join(rel_folder, name))
            if (spec and spec.match_file(rel)) or (settings is not None and
                                                    settings.is_excluded(full)):
                continue
            out.append(full)
    return out


def register(server) -> None:
    @server.command(CHECK)
    async def check_workspace(ls, *arguments):
        root = ls.root
        if not root or not os.path.isdir(root):
            return {"files": 0, "findings": 0, "error": "no workspace folder is open"}
        engine = (await asyncio.wrap_future(ls.analyzer.engine_future)).base
        loop = asyncio.get_running_loop()
        files = await loop.run_in_executor(None, python_files, root, engine.settings)
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

        def check(path: str):
            try:
                with open(path, encoding="utf-8", errors="replace") as fh:
                    text = fh.read()
            except OSError:
                return None
            try:  # in the checker process: a crash or a hang costs this file only
                findings = checks.call("check_file", text, path, stop=stopped,
                                       budget=ls.editor_settings.check_timeout_s or None)
            except CheckCancelled:
                return None
            except CheckError as exc:
                return [convert.notice("checker-stopped", f"memlens could not check this "
                                                          f"file: {exc}")]
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
