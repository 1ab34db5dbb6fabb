"""Per-document analysis: debounced, run in one worker thread, published only if still current.

The event loop never runs the engine. Each document's analysis is scheduled after its debounce
delay; the worker skips a job whose document has moved on to a newer version before it starts, and
a result that arrives for an outdated version is dropped, never published. One worker thread keeps
the engine's caches single-threaded and the jobs in order (the engine build is queued first).
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from memlens.engine.lines import for_parse
from memlens.lsp import convert

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
    def __init__(self, server):
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
        self._checkers: dict[str, object] = {}
        self._inflight: dict[str, tuple] = {}  # uri -> (version, generation) of a queued check
        self._diag_cache: dict[int, tuple[object, dict]] = {}
        self._config_of: dict[str, object] = {}  # folder -> its pyproject with [tool.memlens]
        self._engines: dict[object, object] = {}  # that pyproject -> its engine
        self.counters = Counters()

    # -- the engine -----------------------------------------------------------------------

    def set_engine_builder(self, build) -> None:
        """Queue `build()` (returns an Engine) ahead of any later analysis."""
        self.generation += 1
        self.engine_future = self.executor.submit(build)
        self._checkers.clear()
        self._config_of.clear()
        self._engines.clear()

    def shutdown(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self.generation += 1  # queued jobs become outdated: they skip
        self.executor.shutdown(wait=False, cancel_futures=True)

    def engine(self, timeout: float | None = None):
        assert self.engine_future is not None
        return self.engine_future.result(timeout)

    def engine_for(self, path: str | None):
        """The engine of the nearest pyproject.toml with [tool.memlens] above `path` (as
        `memlens check` finds it), with the editor's settings on top. Worker thread only."""
        import os

        base = self.engine()
        if not path or not os.path.isabs(path):
            return base
        folder = os.path.dirname(path)
        if folder not in self._config_of:
            from memlens.engine import ConfigError, Settings

            try:
                self._config_of[folder] = Settings.discover(folder).config_file
            except (ConfigError, OSError):
                self._config_of[folder] = base.settings.config_file
        config = self._config_of[folder]
        if config == base.settings.config_file:
            return base
        engine = self._engines.get(config)
        if engine is None:
            from memlens.engine import Engine
            from memlens.lsp import settings

            try:
                engine_settings, _ = settings.engine_settings(
                    folder, self.server.editor_settings,
                    trusted=self.server.boundary.trusted is not False)
                engine = Engine(engine_settings)
            except Exception:  # that project's config is broken: the workspace's engine
                engine = base
            self._engines[config] = engine
        return engine

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
        timer = self._settle_timers.pop(uri, None)
        if timer:
            timer.cancel()
        self.schedule(uri)

    def closed(self, uri: str) -> None:
        self.open.discard(uri)
        self.latest.pop(uri, None)
        self.results.pop(uri, None)
        self._checkers.pop(uri, None)
        self._inflight.pop(uri, None)
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

    # -- the worker -----------------------------------------------------------------------

    def _run(self, uri: str, version, text: str, generation: int, path: str,
             settle: bool = False):
        if self.latest.get(uri, version) != version or generation != self.generation:
            return None  # outdated before it started: skip it
        from memlens.lsp.incremental import IncrementalChecker

        started = time.perf_counter()
        engine = self.engine_for(path)
        if engine.settings.exclude and path and engine.settings.is_excluded(path):
            # excluded in [tool.memlens] (as `memlens check` skips it): nothing to show
            return Result(uri, version, text, convert.split_lines(text[:4096]), [], [],
                          generation, (time.perf_counter() - started) * 1000)
        limit = self.server.editor_settings.max_file_kb * 1024
        if limit and len(text) > limit:
            self._checkers.pop(uri, None)
            lines = convert.split_lines(text[:4096])
            too_large = {
                "range": {"start": {"line": 0, "character": 0},
                          "end": {"line": 0, "character": 0}},
                "severity": 3, "code": "file-too-large", "source": convert.SOURCE,
                "message": f"memlens skips this file: {len(text) / 1e6:.1f} MB is over the "
                           f"{limit // 1024} KB limit (setting memlens.maxFileSizeKb)",
                "data": {"code": "file-too-large"}}
            return Result(uri, version, text, lines, [], [too_large], generation,
                          (time.perf_counter() - started) * 1000)
        # lines as LSP counts them: a lone CR ends a line (engine/lines.py), same offsets
        text = for_parse(text)
        checker = self._checkers.get(uri)
        if checker is None or checker.engine is not engine:
            checker = self._checkers[uri] = IncrementalChecker(engine, path or uri)
        try:
            if settle:
                if checker.text != text:
                    return None  # the text moved on: a newer analysis is on its way
                findings = checker.settle(text)
            else:
                findings = checker.check(text)
        except Exception:
            # the shortcut state may be broken: start over once, then give up loudly
            checker = self._checkers[uri] = IncrementalChecker(engine, path or uri)
            findings = checker.check(text)
        lines = checker.lines
        enc = self.server.encoder
        cache = self._diag_cache
        new_cache: dict[int, tuple[object, dict]] = {}
        diagnostics = []
        for f in findings:
            hit = cache.get(id(f))
            if hit is not None and hit[0] is f:
                d = hit[1]
            else:
                d = convert.diagnostic(f, lines, enc)
            new_cache[id(f)] = (f, d)
            diagnostics.append(d)
        if len(self._checkers) <= 1:
            self._diag_cache = new_cache
        else:
            cache.update(new_cache)
            if len(cache) > 50_000:
                cache.clear()
        elapsed = (time.perf_counter() - started) * 1000
        return Result(uri, version, text, lines, findings, diagnostics, generation, elapsed,
                      settle=checker.needs_settle, settled=settle)

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
