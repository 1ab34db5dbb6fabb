"""Per-document analysis: debounced, checked in the checker process, published only if current.

Neither the event loop nor any thread of the server runs the engine: one worker thread sends each
check to the checker process (check_process, check_worker) and waits. Each document's analysis is
scheduled after its debounce delay; the worker skips a job whose document has moved on to a newer
version before it starts, a check overtaken while it runs is stopped (after a short grace), one that
overruns `memlens.checkTimeoutSeconds` is stopped and said so, and a result that arrives for an
outdated version is dropped, never published. If the checker process crashes, the document gets
one diagnostic saying so, and the next check starts a new process.
"""

from __future__ import annotations

import asyncio
import logging
import time
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
        self.results.pop(uri, None)
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
        doc = self.server.open_document(uri)
        if doc is None or self.engine_future is None:
            return
        # lines as LSP counts them: a lone CR ends a line (engine/lines.py), same offsets
        version, text = doc.version, doc.source
        generation = self.generation
        loop = self.loop
        if not settle:
            self._inflight[uri] = (version, generation)
        future = self.executor.submit(self._run, uri, version, text, generation, doc.path,
                                      settle)

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
        # an analysis of this version already queued (didOpen's) will answer: a second one
        # would only give the same findings under a new resultId
        queued = self._inflight.get(uri) == (version, self.generation)
        if uri in self._timers or (not queued and (
                result is None or result.version != version
                or result.generation != self.generation)):
            self.schedule(uri, immediate=True)
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
        crashed = self._crashed.get(uri)
        if crashed is not None and crashed[0] == text:
            return self._notice(uri, version, text, generation, started, *crashed[1:])
        budget = self.server.editor_settings.check_timeout_s or None
        if settle:
            self._settling = uri
        try:
            checked = None if settle else self._early_outcome(uri, version, text)
            if checked is None:
                checked = self.checks.call("check", uri, text, path, settle, stop=overtaken,
                                           budget=budget, interruptible=settle,
                                           grace=INTERRUPT_GRACE_S if settle
                                           else OVERTAKEN_GRACE_S)
        except CheckCancelled:
            return None
        except CheckTimedOut as exc:
            return self._notice(uri, version, text, generation, started, "check-timeout",
                                f"memlens stopped checking this file after {exc.seconds:g} s "
                                "(setting memlens.checkTimeoutSeconds)")
        except CheckerStopped as exc:
            message = (f"memlens could not check this file: {exc}; other files are checked "
                       "as usual")
            self.server.log(f"memlens: checking {uri}: {exc}; a new checker process starts "
                            "on the next check", error=True)
            self._crashed[uri] = (text, "checker-stopped", message)
            return self._notice(uri, version, text, generation, started, "checker-stopped",
                                message)
        finally:
            self._settling = None
        self.server.report_problems(self.checks.problems)  # a new configuration's, once
        if checked is None:
            return None  # a settle whose text has moved on: a newer analysis is on its way
        self._crashed.pop(uri, None)
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
            for _version, fut in self._waiters.pop(uri, []):
                if not fut.done():  # a pull must not hang on a failed analysis
                    fut.set_result(self.results.get(uri))
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
