"""`memlens.profileFunction {uri, qualname, line, call?, entry?}`: profile one function.

In a notebook (`uri` a saved .ipynb): `{uri, cell}` profiles cell `cell` after the code cells
above it, `{uri, cell, qualname, call?}` the function defined in that cell (notebook_profile.py
makes the lenses that send them); the notebook's folder is the working folder, as a kernel's.

The profiler runs the user's code in a subprocess (never in this process); this module calls it
from a worker thread with a `threading.Event` that kills the run. The run reports work-done
progress and is cancellable both by `window/workDoneProgress/cancel` and by `$/cancelRequest` of
the executeCommand request. One run at a time: a second is refused with a clear message. The
result (`profiler/result.py`) is kept per document (see store.py) and returned to the client as
its JSON; then inlay hints and lenses are refreshed and the diagnostics re-published with the
hot lines.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from lsprotocol import types

from memlens.lsp.notebook_profile import cells_of, record_key
from memlens.lsp.notebook_profile import unsaved as notebook_unsaved
from memlens.lsp.protocol import EXECUTE_ID, EXECUTE_PARAMS
from memlens.profiler.result import ErrorKind, ProfileResult, Status

log = logging.getLogger(__name__)

PROFILE = "memlens.profileFunction"
CLEAR = "memlens.clearProfileResults"
_ids = itertools.count(1)


def _failure(args: dict, status: Status, kind: ErrorKind, type_: str, message: str) -> dict:
    qualname = args.get("qualname")
    return ProfileResult.failure(qualname if isinstance(qualname, str) else None, status, kind,
                                 type_, message).to_json()


def _unsaved(doc, path: str) -> bool:
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return fh.read() != doc.source
    except OSError:
        return True


def _working_folder(ls, args: dict, path: str) -> str:
    """Where the profiled code runs: the workspace folder (as a terminal in the editor would),
    the file's own folder, or a folder the command names (the boundary then checks it). A
    notebook runs in its own folder unless a folder is named, as its kernel would."""
    where = args.get("cwd") or ls.editor_settings.profile_cwd
    if where not in ("workspace", "file") and isinstance(where, str) and os.path.isdir(where):
        return where
    if where == "workspace" and _is_notebook(path):
        return os.path.dirname(path)
    if where == "workspace" and ls.root and path.startswith(os.path.abspath(ls.root) + os.sep):
        return ls.root
    return os.path.dirname(path)


def _is_notebook(path: str) -> bool:
    return path.lower().endswith(".ipynb")


def _target(args: dict) -> tuple[str | None, int | None, str] | None:
    """(qualname, cell, label) the arguments name, or None when they name nothing."""
    qualname, cell = args.get("qualname"), args.get("cell")
    if isinstance(cell, bool) or not isinstance(cell, int) or cell < 1:
        cell = None
    if isinstance(qualname, str) and qualname:
        return qualname, cell, qualname if cell is None else f"{qualname} (cell {cell})"
    if cell is not None:
        return None, cell, f"cell {cell}"
    return None


def register(server) -> None:
    executor = ThreadPoolExecutor(2, thread_name_prefix="memlens-profile")
    current: dict = {}  # the running run: label, started

    @server.command(PROFILE)
    async def profile_function(ls, *arguments):
        args = arguments[0] if arguments and isinstance(arguments[0], dict) else {}
        uri, target = args.get("uri"), _target(args)
        if not isinstance(uri, str) or target is None:
            return _failure(args, Status.SETUP_ERROR, ErrorKind.BAD_ARGUMENTS, "BadArguments",
                            "memlens.profileFunction needs {uri, qualname, line, call?, "
                            "entry?}, or in a notebook {uri, cell, qualname?, call?}")
        qualname, cell, label = target
        path = ls.path_of(uri) if uri.startswith("file:") else None
        if not path or not os.path.isfile(path):
            return _failure(args, Status.SETUP_ERROR, ErrorKind.NOT_A_FILE, "NotAFile",
                            f"{uri} is not a saved file on disk: save it to profile it")
        notebook = _is_notebook(path)
        cwd = _working_folder(ls, args, path)
        refused = ls.boundary.refuse_profile(path, cwd)
        if refused is not None:
            return _failure(args, Status.SETUP_ERROR, ErrorKind.REFUSED, *refused)
        if current and current["cancel"].is_set():
            # a cancelled run is being stopped (its process group is killed): wait for it
            try:
                await asyncio.wait_for(asyncio.shield(current["done"]), 15)
            except Exception:
                pass
        if current:
            elapsed = time.monotonic() - current["started"]
            return _failure(args, Status.BUSY, ErrorKind.BUSY, "Busy",
                            f"memlens is already profiling {current['label']} (started "
                            f"{elapsed:.0f} s ago): wait for it to finish or cancel it, then "
                            "profile again")
        run_id = next(_ids)
        cancel = threading.Event()
        loop = asyncio.get_running_loop()
        current.update(label=label, started=time.monotonic(), id=run_id, cancel=cancel,
                       done=loop.create_future())
        ls.profiles.running[str(run_id)] = cancel
        request_id = EXECUTE_ID.get()

        async def body():
            if request_id is not None:
                ls.cancel_events[request_id] = cancel
            doc = ls.open_document(uri)
            version = doc.version if doc is not None else None
            if notebook:  # the notebook sync's cells, when it has them
                unsaved = notebook_unsaved(cells_of(ls, uri), path)
            else:
                unsaved = doc is not None and _unsaved(doc, path)

            params = EXECUTE_PARAMS.get()
            token = getattr(params, "work_done_token", None) if params is not None else None
            progress = ls.work_done_progress
            if token is None and ls.capability("window.work_done_progress"):
                token = f"memlens-profile-{os.getpid()}-{run_id}"
                try:
                    await progress.create_async(token)
                except Exception as exc:
                    log.warning("window/workDoneProgress/create failed: %s", exc)
                    token = None
            if token is not None:
                progress.begin(token, types.WorkDoneProgressBegin(
                    title=f"memlens: profiling {label}", cancellable=True, message="starting"))
                token_future = progress.tokens.get(token)
                if token_future is not None:
                    token_future.add_done_callback(lambda f: cancel.set())

            def report(message: str) -> None:
                if token is not None and not cancel.is_set():
                    progress.report(token, types.WorkDoneProgressReport(message=message))

            def on_progress(message: str) -> None:
                loop.call_soon_threadsafe(report, message)

            editor = ls.editor_settings

            def run() -> ProfileResult:
                from memlens.profiler import profile

                result = profile(path, qualname, entry=args.get("entry") or None,
                                 call=args.get("call") or None,
                                 pytest_node=args.get("pytest") or None,
                                 python=editor.interpreter, timeout=editor.timeout_s,
                                 max_memory_mib=editor.memory_limit_mib,
                                 include_children=editor.include_children, cwd=cwd,
                                 cancel=cancel, on_progress=on_progress, cell=cell)
                # kept by the function's text, for the next session (a cancelled run is not)
                if not notebook and result.status is not Status.CANCELLED:
                    try:
                        ls.measure_store().put(result)
                    except Exception as exc:
                        log.warning("cannot keep the profile result: %s", exc)
                return result

            work = asyncio.wrap_future(executor.submit(run))
            cancelled_request = False
            result = None
            try:
                result = await asyncio.shield(work)
            except asyncio.CancelledError:
                cancelled_request = True  # $/cancelRequest: kill the run, then answer "cancelled"
                cancel.set()
                try:
                    result = await asyncio.wait_for(asyncio.shield(work), 30)
                except Exception:
                    result = None
            except Exception as exc:
                log.exception("profile run failed")
                result = ProfileResult.failure(qualname, Status.SETUP_ERROR, ErrorKind.INTERNAL,
                                               type(exc).__name__, str(exc))
            finally:
                if token is not None:
                    status = result.status.value if result is not None else "cancelled"
                    progress.end(token, types.WorkDoneProgressEnd(message=status))
                    progress.tokens.pop(token, None)

            # A run the user stopped is no result to show (its partial rows would replace the
            # last real profile); a timeout or the memory cap keeps its rows: they say where.
            if result is not None and result.status is not Status.CANCELLED:
                result.uri = uri
                if unsaved:
                    result.warning = ("the editor has unsaved changes: the saved file was "
                                      "profiled; results show only where the lines match")
                key = record_key(result.cell, qualname) if notebook and result.cell else qualname
                if key and ls.profiles.put(uri, key, result, version) is not None:
                    ls.refresh_views()
                    ls.refresh_diagnostics(uri)
            if cancelled_request:
                raise asyncio.CancelledError()
            return result.to_json() if result is not None else None

        try:
            return await body()
        finally:  # whatever happened (even a cancel while asking for a progress token)
            done = current.get("done")
            current.clear()
            if done is not None and not done.done():
                done.set_result(None)
            ls.profiles.running.pop(str(run_id), None)
            ls.cancel_events.pop(request_id, None)

    @server.command(CLEAR)
    def clear_profile_results(ls, *arguments):
        args = arguments[0] if arguments and isinstance(arguments[0], dict) else {}
        uri, qualname = args.get("uri"), args.get("qualname")
        uris = [uri] if isinstance(uri, str) else list(ls.profiles.records)
        paths = [p for p in (ls.path_of(u) for u in uris if u.startswith("file:")) if p]
        if paths:  # nor shown again after a restart
            store = ls.measure_store()
            asyncio.get_running_loop().run_in_executor(None, lambda: [
                store.forget(p, qualname if isinstance(qualname, str) else None)
                for p in paths])
        count = ls.profiles.clear(uri, qualname)
        ls.refresh_views()
        ls.refresh_diagnostics(args.get("uri"))
        return {"cleared": count}
