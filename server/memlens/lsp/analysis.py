"""Per-document analysis: debounced, checked in the checker process, published only if current.

Neither the event loop nor any thread of the server runs the engine: one worker thread sends each
check to the checker process (check_process, check_worker) and waits. Each document's analysis is
scheduled after its debounce delay; the worker skips a job whose document has moved on to a newer
version before it starts, a check overtaken while it runs is stopped (after a short grace), one that
overruns `memlens.checkTimeoutSeconds` is stopped and said so, and a result that arrives for an
outdated version is dropped, never published. If the checker process crashes, the document gets
one diagnostic saying so, and the next check starts a new process.

An open notebook is analysed as one document (its URI, a revision per change): its code cells are
checked together (`check_worker.check_notebook`), and its result holds one `Result` per cell,
each kept under the cell's URI too, so that a hover, a code action or a pull on a cell waits for
and reads its cell's findings as on a file (`lsp/notebooks.py`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from memlens.engine.lines import for_parse
from memlens.lsp import convert
from memlens.lsp.check_process import (
    INTERRUPT_GRACE_S,
    OVERTAKEN_GRACE_S,
    CheckCancelled,
    CheckerStopped,
    CheckProcess,
    CheckTimedOut,
)

log = logging.getLogger(__name__)


@dataclass
class Result:
    uri: str
    version: int | None
    text: str
    lines: list[str]
    findings: list
    diagnostics: list[dict]  # the static findings as LSP dicts (before the profile overlay)
    generation: int
    elapsed_ms: float = 0.0
    settle: bool = False  # a partial check of module-level code: re-check the whole file later
    settled: bool = False  # this result is such a whole-file re-check
    serial: int = 0  # distinguishes results of one version (pull resultId)


@dataclass
class NotebookResult:
    """An open notebook's check: a `Result` per code cell (positions within the cell)."""

    uri: str
    version: int | None  # the server's revision of the notebook
    cells: tuple[Result, ...]
    findings: list  # every cell's, in order
    generation: int
    elapsed_ms: float = 0.0
    settle: bool = False
    settled: bool = False
    serial: int = 0
    changed: tuple[str, ...] = ()  # the cells whose version or diagnostics changed (to push)
    diagnostics: tuple = ()  # (nothing is published on the notebook's own URI)


@dataclass
class Counters:
    scheduled: int = 0
    run: int = 0
    skipped_outdated: int = 0
    dropped_outdated: int = 0
    published: int = 0
    errors: int = 0
    last_error: str = ""
    timings_ms: list[float] = field(default_factory=list)


class Analyzer:
    def __init__(self, server, checks: CheckProcess | None = None):
        self.server = server
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="memlens-analysis")
        self.engine_future: Future | None = None
        self.generation = 0
        self.serial = 0
        self.results: dict[str, Result] = {}
        self.latest: dict[str, int | None] = {}
        self.open: set[str] = set()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._settle_timers: dict[str, asyncio.TimerHandle] = {}
        self._waiters: dict[str, list[tuple[int | None, asyncio.Future]]] = {}
        # the engine runs in a process of its own (check_worker); uri -> (text, code, message)
        # of a text that stopped it, not sent again
        self.checks = checks or CheckProcess()
        self._crashed: dict[str, tuple[str, str, str]] = {}
        self._builder = ThreadPoolExecutor(1, thread_name_prefix="memlens-engine")
        self._inflight: dict[str, tuple] = {}  # uri -> (version, generation) of a queued check
        self._settling: str | None = None  # the document whose settle is in the checker now
        # uri -> its last findings' diagnostics: an unchanged finding is not converted again
        self._diag_cache: dict[str, dict] = {}
        self.counters = Counters()

    # -- the engine -----------------------------------------------------------------------

    def set_engine_builder(self, build, root, editor, trusted: bool, reread: bool = True) -> None:
        """Read the server's own `engines.Workspace` (settings, rule docs) with `build()`, and
        have the checker process build its engines from the same facts before its next check
        (`reread`: even when they are the ones it has)."""
        self.generation += 1
        self.engine_future = self._builder.submit(build)
        self.checks.configure(root, editor, trusted, reread=reread)
        self._crashed.clear()
        self.executor.submit(self._warm_up)  # start the process now, not on the first keystroke

    def _warm_up(self) -> None:
        try:
            self.checks.call("forget", "", budget=self.server.editor_settings.check_timeout_s
                             or None)
        except CheckCancelled:
            pass  # the server is exiting
        except Exception as exc:  # the first check will try again, and say what happened
            log.warning("the checker process did not start: %s", exc)
        self.server.report_problems(self.checks.problems)

    def shutdown(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self.generation += 1  # queued jobs become outdated: they skip
        self.executor.shutdown(wait=False, cancel_futures=True)
        self._builder.shutdown(wait=False, cancel_futures=True)
        self.checks.close()

    def workspace(self, timeout: float | None = None):
        """The server's own `engines.Workspace` (settings, rule docs; the checks run
        elsewhere)."""
        assert self.engine_future is not None
        return self.engine_future.result(timeout)

    # -- scheduling (event loop thread) ---------------------------------------------------

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    def opened(self, uri: str, version: int | None) -> None:
        self.open.add(uri)
        self.latest[uri] = version
        self.schedule(uri, immediate=True)

    def changed(self, uri: str, version: int | None) -> None:
        self.latest[uri] = version
        if self._settling == uri:  # typing resumed: its whole-file re-check waits for later
            self.checks.interrupt()
        timer = self._settle_timers.pop(uri, None)
        if timer:
            timer.cancel()
        self.schedule(uri)

    def closed(self, uri: str) -> None:
        self.open.discard(uri)
        self.latest.pop(uri, None)
        result = self.results.pop(uri, None)
        for cell in getattr(result, "cells", ()):  # a notebook's
            self.forget_cell(cell.uri)
        self._crashed.pop(uri, None)
        self._inflight.pop(uri, None)
        self._diag_cache.pop(uri, None)
        if self.checks.pid is not None:
            self.executor.submit(self._forget, uri)
        for timers in (self._timers, self._settle_timers):
            timer = timers.pop(uri, None)
            if timer:
                timer.cancel()
        for _, fut in self._waiters.pop(uri, []):
            if not fut.done():
                fut.set_result(None)

    def forget_cell(self, uri: str) -> None:
        """A notebook's cell is gone (deleted, or its notebook closed)."""
        self.results.pop(uri, None)
        for _, fut in self._waiters.pop(uri, []):
            if not fut.done():
                fut.set_result(None)

    def schedule(self, uri: str, immediate: bool = False) -> None:
        self.counters.scheduled += 1
        timer = self._timers.pop(uri, None)
        if timer:
            timer.cancel()
        delay = self.server.editor_settings.debounce_ms / 1000.0
        if immediate or delay <= 0:
            self._submit(uri)
        else:
            self._timers[uri] = self.loop.call_later(delay, self._submit, uri)

    def reanalyse_all(self) -> None:
        for uri in list(self.open):
            self.schedule(uri, immediate=True)

    def _submit(self, uri: str, settle: bool = False) -> None:
        (self._settle_timers if settle else self._timers).pop(uri, None)
        if self.engine_future is None:
            return
        doc = self.server.open_document(uri)
        generation = self.generation
        if doc is not None:
            version = doc.version
            job: Callable[[], object] = functools.partial(
                self._run, uri, version, doc.source, generation, doc.path, settle)
        else:
            notebook = self.server.notebooks.snapshot(uri)
            if notebook is None:
                return
            version = self.latest.get(uri)
            job = functools.partial(self._run_notebook, uri, version, notebook, generation,
                                    settle)
        loop = self.loop
        if not settle:
            self._inflight[uri] = (version, generation)
        future = self.executor.submit(job)

        def back_to_loop(f: Future) -> None:
            try:
                loop.call_soon_threadsafe(self._done, uri, version, generation, f)
            except RuntimeError:  # the loop is closed: the server is exiting
                pass

        future.add_done_callback(back_to_loop)

    async def wait_for(self, uri: str, version: int | None, timeout: float = 60.0):
        """The result for `version` (or newer) of an open document; analyses it now if needed."""
        result = self.results.get(uri)
        if result is not None and result.version == version and \
                result.generation == self.generation:
            return result
        fut = self.loop.create_future()
        self._waiters.setdefault(uri, []).append((version, fut))
        # a notebook's cell: its notebook is checked (and answers for each of its cells)
        owner = None if uri in self.open else self.server.notebooks.owner(uri)
        target = owner or uri
        # an analysis of this version already queued (didOpen's) will answer: a second one
        # would only give the same findings under a new resultId
        queued = self._inflight.get(target) == (
            self.latest.get(owner) if owner else version, self.generation)
        if target in self._timers or (not queued and (
                result is None or result.version != version
                or result.generation != self.generation)):
            self.schedule(target, immediate=True)
        try:
            return await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            return self.results.get(uri)

    def _forget(self, uri: str) -> None:
        if uri not in self.open:  # not reopened meanwhile
            try:
                self.checks.call("forget", uri, budget=5.0)
            except Exception:
                pass

    # -- the worker -----------------------------------------------------------------------

    def _run(self, uri: str, version, text: str, generation: int, path: str,
             settle: bool = False):
        def overtaken() -> bool:
            return self.latest.get(uri, version) != version or generation != self.generation

        if overtaken():
            return None  # outdated before it started: skip it
        started = time.perf_counter()
        limit = self.server.editor_settings.max_file_kb * 1024
        if limit and len(text) > limit:
            return self._notice(uri, version, text, generation, started, "file-too-large",
                                f"memlens skips this file: {len(text) / 1e6:.1f} MB is over "
                                f"the {limit // 1024} KB limit (setting memlens.maxFileSizeKb)")
        # lines as LSP counts them: a lone CR ends a line (engine/lines.py), same offsets
        text = for_parse(text)

        def call():
            checked = None if settle else self._early_outcome(uri, version, text)
            if checked is None:
                checked = self._call("check", uri, text, path, settle, stop=overtaken,
                                     settle=settle)
            return checked

        checked = self._ask(uri, text, settle, call)
        if checked is None:
            return None  # cancelled, or a settle whose text has moved on
        if isinstance(checked, tuple):
            return self._notice(uri, version, text, generation, started, *checked)
        lines = text.split("\n")
        enc = self.server.encoder
        cache = self._diag_cache.get(uri) or {}
        new_cache: dict = {}
        diagnostics = []
        for f in checked.findings:
            d = cache.get(f)
            if d is None:
                d = convert.diagnostic(f, lines, enc)
            new_cache[f] = d
            diagnostics.append(d)
        if uri in self.open:
            self._diag_cache[uri] = new_cache
        elapsed = (time.perf_counter() - started) * 1000
        return Result(uri, version, text, lines, checked.findings, diagnostics, generation,
                      elapsed, settle=checked.needs_settle, settled=settle)

    def _run_notebook(self, uri: str, version, notebook, generation: int, settle: bool = False):
        """`_run` for an open notebook (`notebooks.Snapshot`): its code cells checked together,
        each finding converted with its own cell's lines."""
        def overtaken() -> bool:
            return self.latest.get(uri, version) != version or generation != self.generation

        if overtaken():
            return None
        started = time.perf_counter()
        texts = notebook.texts
        limit = self.server.editor_settings.max_file_kb * 1024
        size = sum(len(text) for text in texts)
        if limit and size > limit:
            return self._notebook_notice(uri, version, notebook, generation, started,
                                         "file-too-large",
                                         f"memlens skips this notebook: {size / 1e6:.1f} MB of "
                                         f"code is over the {limit // 1024} KB limit (setting "
                                         "memlens.maxFileSizeKb)")
        checked = self._ask(uri, tuple(texts), settle, lambda: self._call(
            "check_notebook", uri, texts, notebook.path, settle, stop=overtaken, settle=settle))
        if checked is None:
            return None
        if isinstance(checked, tuple):
            return self._notebook_notice(uri, version, notebook, generation, started, *checked)
        before = {cell.uri: cell for cell in getattr(self.results.get(uri), "cells", ())}
        by_cell: list[list] = [[] for _ in notebook.cells]
        for f in checked.findings:
            if f.cell is not None and 1 <= f.cell <= len(by_cell):
                by_cell[f.cell - 1].append(f)
        enc = self.server.encoder
        cells = []
        for cell, findings in zip(notebook.cells, by_cell, strict=True):
            old = before.get(cell.uri)
            if old is not None and old.text == cell.text:  # an unchanged cell: no new work
                lines = old.lines
                diagnostics = old.diagnostics if old.findings == findings else [
                    convert.diagnostic(f, lines, enc) for f in findings]
            else:
                lines = convert.split_lines(cell.text)
                diagnostics = [convert.diagnostic(f, lines, enc) for f in findings]
            cells.append(Result(cell.uri, cell.version, cell.text, lines, findings, diagnostics,
                                generation, settled=settle))
        return NotebookResult(uri, version, tuple(cells), checked.findings, generation,
                              (time.perf_counter() - started) * 1000,
                              settle=checked.needs_settle, settled=settle)

    def _call(self, op: str, *args, stop, settle: bool):
        """`op(*args)` in the checker process, within the check budget."""
        return self.checks.call(op, *args, stop=stop,
                                budget=self.server.editor_settings.check_timeout_s or None,
                                interruptible=settle,
                                grace=INTERRUPT_GRACE_S if settle else OVERTAKEN_GRACE_S)

    def _ask(self, uri: str, key, settle: bool, call):
        """What `call()` (a request to the checker process) answers for `uri`: its `Checked`,
        None (cancelled, or a settle whose text has moved on), or the (code, message) of a
        notice (a timeout; a crash, remembered for the same `key` so it is not sent again)."""
        crashed = self._crashed.get(uri)
        if crashed is not None and crashed[0] == key:
            return crashed[1:]
        if settle:
            self._settling = uri
        try:
            checked = call()
        except CheckCancelled:
            return None
        except CheckTimedOut as exc:
            return ("check-timeout", f"memlens stopped checking this file after "
                                     f"{exc.seconds:g} s (setting memlens.checkTimeoutSeconds)")
        except CheckerStopped as exc:
            message = (f"memlens could not check this file: {exc}; other files are checked "
                       "as usual")
            self.server.log(f"memlens: checking {uri}: {exc}; a new checker process starts "
                            "on the next check", error=True)
            self._crashed[uri] = (key, "checker-stopped", message)
            return ("checker-stopped", message)
        finally:
            self._settling = None
        self.server.report_problems(self.checks.problems)  # a new configuration's, once
        if checked is not None:
            self._crashed.pop(uri, None)
        return checked

    def _early_outcome(self, uri: str, version, text: str):
        """What the bootstrap's early check of this very text found (`EarlyChecks.outcome`):
        its findings, or the timeout or crash it met, raised here as the call would raise it,
        so that it is not paid for twice. None: check it."""
        early = getattr(self.server, "early", None)
        found = early.outcome(uri, version, text) if early is not None else None
        if isinstance(found, Exception):
            raise found
        return found

    def _notice(self, uri: str, version, text: str, generation: int, started: float,
                code: str, message: str) -> Result:
        """A result whose one diagnostic, on the first line, says why the file has no others."""
        return Result(uri, version, text, convert.split_lines(text[:4096]), [],
                      [convert.notice(code, message)],
                      generation, (time.perf_counter() - started) * 1000)

    def _notebook_notice(self, uri: str, version, notebook, generation: int, started: float,
                         code: str, message: str) -> NotebookResult:
        """A notebook's notice: on its first code cell, and its other cells without findings."""
        cells = tuple(Result(cell.uri, cell.version, cell.text, convert.split_lines(cell.text),
                             [], [convert.notice(code, message)] if i == 0 else [], generation)
                      for i, cell in enumerate(notebook.cells))
        return NotebookResult(uri, version, cells, [], generation,
                              (time.perf_counter() - started) * 1000)

    def _store_cells(self, result: NotebookResult, previous) -> None:
        """Keep each cell's result under its URI, note the cells to push again (their version or
        diagnostics changed), drop those no longer in the notebook, and answer whoever waits
        for a cell."""
        before = {cell.uri: cell for cell in getattr(previous, "cells", ())}
        changed = []
        for cell in result.cells:
            old = before.pop(cell.uri, None)
            if old is None or old.version != cell.version or \
                    old.diagnostics != cell.diagnostics:
                changed.append(cell.uri)
            self.results[cell.uri] = cell
            for _version, fut in self._waiters.pop(cell.uri, []):
                if not fut.done():
                    fut.set_result(cell)
        for gone in before:  # (a deleted cell is cleared when the client says so)
            if self.results.get(gone) is before[gone]:
                self.results.pop(gone, None)
        result.changed = tuple(changed)

    # -- back on the loop -----------------------------------------------------------------

    def _done(self, uri: str, version, generation: int, future: Future) -> None:
        if self._inflight.get(uri) == (version, generation):
            del self._inflight[uri]
        if future.cancelled():
            return  # shutting down
        try:
            result = future.result()
        except Exception as exc:  # an engine bug must not take the server down
            self.counters.errors += 1
            self.counters.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("analysis of %s failed", uri)
            self.server.log(f"memlens: analysis of {uri} failed: {exc}", error=True)
            for waiting in [uri, *(u for u in self._waiters
                                   if self.server.notebooks.owner(u) == uri)]:
                for _version, fut in self._waiters.pop(waiting, []):
                    if not fut.done():  # a pull must not hang on a failed analysis
                        fut.set_result(self.results.get(waiting))
            return
        if result is None:
            self.counters.skipped_outdated += 1
            return
        if uri not in self.open or self.latest.get(uri) != version or \
                generation != self.generation:
            self.counters.dropped_outdated += 1
            return
        self.counters.run += 1
        timings = self.counters.timings_ms
        timings.append(result.elapsed_ms)
        if len(timings) > 1000:
            del timings[:500]
        previous = self.results.get(uri)
        self.serial += 1
        result.serial = self.serial
        self.results[uri] = result
        if isinstance(result, NotebookResult):
            self._store_cells(result, previous)
        for _version, fut in self._waiters.pop(uri, []):
            if not fut.done():
                fut.set_result(result)
        if result.settled and previous is not None and previous.findings == result.findings:
            return  # the whole-file check agrees with what is shown
        self.server.on_analysis(result)
        if result.settle and self.server.editor_settings.settle_ms > 0:
            timer = self._settle_timers.pop(uri, None)
            if timer:
                timer.cancel()
            self._settle_timers[uri] = self.loop.call_later(
                self.server.editor_settings.settle_ms / 1000.0, self._submit, uri, True)
