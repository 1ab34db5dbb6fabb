"""Line-by-line memory tracer for ONE code object, with cheap RSS reads.

Runs inside the target interpreter (loaded by runner.py from its file path), so it may only use
the stdlib, psutil and memory_profiler.

It keeps memory_profiler's data model -- per line: (increment, mem usage, occurrences), where a
line's mem usage is the max RSS seen when that line finished and its increment is the RSS change
while it ran -- but replaces memory_profiler's tracer, which sees every line of every frame and
builds a psutil.Process per line. Here:

* only the target code object gets line events: ``sys.monitoring`` local events on 3.12+,
  ``sys.settrace`` whose global hook returns None for every other frame on 3.10/3.11;
* RSS comes from ``os.pread`` of a kept-open ``/proc/self/statm`` (psutil elsewhere);
* a line that finishes less than ``interval`` seconds after the previous RSS read does not read
  RSS again (hot loop lines): its occurrence is counted, and the memory it allocated is
  attributed to the next line that reads. A line can only change RSS by a few MiB in that time,
  and every line's first occurrence always reads, so one-off big allocations stay exact.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from typing import TYPE_CHECKING

from memory_profiler import LineProfiler

from .rss import make_rss_reader, read_peak, reset_peak

if TYPE_CHECKING:
    from types import CodeType, FrameType

MIB = 1024 * 1024
DEFAULT_INTERVAL = float(os.environ.get("MEMLENS_SAMPLE_INTERVAL_US", "50")) * 1e-6


class FastLineProfiler(LineProfiler):
    """memory_profiler's LineProfiler restricted to one code object, with a cheap hot path.

    ``code_map`` keeps memory_profiler's shape after ``sync_code_map()`` so its
    ``show_results`` still works; ``export()`` gives the JSON-ready snapshot runner.py writes.
    Matching is by identity or by (filename, first line, name), so a copy of the code compiled
    by someone else (pytest's assertion rewriting) is profiled too.
    """

    TOOL_ID = 4  # sys.monitoring tool ids 0-5: 0-2 and 5 are claimed (debugger, coverage,
    AFTER_RETURN_TOOL_ID = 3  # profiler, optimizer); 3 and 4 are free by convention

    def __init__(self, code, include_children=False, interval=DEFAULT_INTERVAL, backend=None):
        super().__init__(include_children=include_children)
        self.target = code
        self.include_children = include_children
        self.interval = interval
        self.read_rss = make_rss_reader(include_children)
        self.backend_name = backend or ("monitoring" if hasattr(sys, "monitoring") else "settrace")
        self._filenames = {code.co_filename, os.path.realpath(code.co_filename)}
        # lineno -> [increment bytes, max rss bytes, occurrences]; shared by every call
        self.lines = {}
        self._recs = []  # the same records by line number, for the hot path
        # last RSS read (bytes), unused, time before which a finished line skips reading RSS
        self.state = [0, 0.0, 0.0]
        self.depth = 0
        self.calls = 0
        self.duration = 0.0
        self._entered_at = 0.0
        self.baseline = None
        self.peak = 0
        self._peak_read_at = 0.0
        self.running = []  # sys.monitoring: line running, per active call (innermost last)
        # sys.monitoring: whether a second tool id is ours, and the caller it gets a LINE in
        self._after_return_tool = False
        self._pending_code: CodeType | None = None
        self.frames = []  # sys.settrace: active frames of the target (innermost last)
        self.gc_collections = [0, 0, 0]
        self.gc_collected = 0
        self.gc_uncollectable = 0
        self.final_freed = 0
        self._final_collect_time = 0.0
        self.error = None  # (type name, message, traceback text) of the last exception escaping
        self._enabled = False

    # -- matching

    def is_target(self, code):
        t = self.target
        return code is t or (
            code.co_firstlineno == t.co_firstlineno
            and code.co_name == t.co_name
            and code.co_filename in self._filenames
        )

    # -- call boundaries (rare: per call of the target, never per line)

    def _enter(self):
        now = time.perf_counter()
        rss = self.read_rss()
        self.state[0] = rss
        self.state[2] = now + self.interval
        self.calls += 1
        self.depth += 1
        if self.depth == 1:
            self._entered_at = now
            if self.baseline is None:
                self.baseline = rss
                reset_peak()
        if rss > self.peak:
            self.peak = rss

    def _exit(self):
        self.depth -= 1
        if self.depth > 0:
            return
        now = time.perf_counter()
        self.duration += now - self._entered_at
        if now - self._peak_read_at > 0.05 or self.calls == 1:
            self._peak_read_at = now
            self.peak = max(self.peak, read_peak())

    def _final_collect(self):
        """gc.collect() once the target's frame is gone: RSS freed = cyclic garbage it left.

        Skipped when it would cost more than ~10% of the time spent in the function.
        """
        if self._final_collect_time > 0.1 * self.duration + 0.05:
            return
        started = time.perf_counter()
        before = self.read_rss()
        gc.collect()
        self.final_freed += max(0, before - self.read_rss())
        self._final_collect_time += time.perf_counter() - started

    def _gc_callback(self, phase, info):
        if self.depth <= 0:
            return
        if phase == "start":
            self.gc_collections[info.get("generation", 0)] += 1
        else:
            self.gc_collected += info.get("collected", 0)
            self.gc_uncollectable += info.get("uncollectable", 0)

    def _record_error(self, exc_type, exc, tb):
        if issubclass(exc_type, (SystemExit, GeneratorExit, StopIteration)):
            return  # control flow, not a failure of the function
        import traceback

        text = "".join(traceback.format_exception(exc_type, exc, tb))
        self.error = (exc_type.__name__, str(exc), text)

    # -- the per-line hot path, shared by both backends

    def _make_finish(self):
        """finish(lineno): account for line `lineno` having just finished running."""
        lines = self.lines
        recs = self._recs
        state = self.state
        read = self.read_rss
        clock = time.perf_counter
        interval = self.interval

        def finish(lineno):
            rec = lines.get(lineno)
            if rec is None:
                rec = lines[lineno] = [0, 0, 0]
                if lineno < len(recs):
                    recs[lineno] = rec
                now = clock()
            else:
                now = clock()
                if now < state[2]:  # hot line: count it, read RSS later
                    rec[2] += 1
                    return
            rec[2] += 1
            rss = read()
            rec[0] += rss - state[0]
            state[0] = rss
            state[2] = now + interval
            if rss > rec[1]:
                rec[1] = rss

        return finish

    def _recs_for(self, code):
        """The list indexing `lines`' records by line number (a list index beats dict.get on
        the hot path), long enough for every line of `code`."""
        last = max((line for _, _, line in code.co_lines() if line), default=0)
        recs = self._recs
        if len(recs) <= last:
            recs.extend([None] * (last + 1 - len(recs)))
            for line, rec in self.lines.items():
                if line < len(recs):
                    recs[line] = rec
        return recs

    # -- backend: sys.settrace (3.10, 3.11; or forced)

    def _make_settrace_global(self):
        """The global trace function: called for every Python call of the process while
        tracing is on, so it rejects other code with as little work as possible."""
        target = self.target
        first, name, filenames = target.co_firstlineno, target.co_name, self._filenames
        start = self._settrace_start

        def global_trace(frame, event, arg):
            code = frame.f_code
            if code is target or (code.co_firstlineno == first and code.co_name == name
                                  and code.co_filename in filenames):
                return start(frame, event, arg)
            return None

        return global_trace

    def _settrace_start(self, frame, event, arg):
        if event != "call":
            return None
        self._enter()
        frames = self.frames
        frames.append(frame)
        finish = self._finish
        # The hot path of finish() inlined: this runs for every line of the target. A line that
        # ended before the read deadline only counts its occurrence.
        recs = self._recs_for(frame.f_code)
        state = self.state
        clock = time.perf_counter
        cur = 0  # line that is running (0: none yet)
        pending_exc = None  # an exception seen and not handled yet: the frame may be unwinding

        def local(frame, event, arg):
            nonlocal cur, pending_exc
            if event == "line":
                if cur:
                    rec = recs[cur]
                    if rec is not None and clock() < state[2]:
                        rec[2] += 1
                    else:
                        finish(cur)
                cur = frame.f_lineno
                if pending_exc is not None:
                    pending_exc = None
            elif event == "return":
                finish(frame.f_lineno)
                if pending_exc is not None:
                    self._record_error(*pending_exc)
                if frame in frames:
                    frames.remove(frame)
                self._exit()
                if self.depth == 0 and frame.f_back is not None:
                    # the frame still holds its locals here: collect at the caller's next line
                    frame.f_back.f_trace = self._settrace_after_return
            elif event == "exception":
                pending_exc = arg
            return local

        return local

    def _settrace_after_return(self, frame, event, arg):
        frame.f_trace = None
        if self.depth == 0:
            self._final_collect()
        return None

    # -- backend: sys.monitoring (3.12+)

    def _monitoring_start(self):
        if sys.version_info < (3, 12):  # (mypy reads this backend as 3.12+ so)
            raise RuntimeError("the sys.monitoring backend needs Python 3.12+")
        mon = sys.monitoring
        ev = mon.events
        mon.use_tool_id(self.TOOL_ID, "memlens")
        local_events = ev.LINE | ev.PY_RETURN | ev.PY_YIELD | ev.PY_RESUME
        finish = self._finish
        running = self.running
        recs = self._recs
        state = self.state
        clock = time.perf_counter
        disable = mon.DISABLE
        known = set()  # ids of the target's code objects already given local events

        def on_start(code, offset):
            # PY_START is global: every other code object is disabled after its first call
            if id(code) not in known:
                if not self.is_target(code):
                    return disable
                known.add(id(code))
                self._recs_for(code)
                mon.set_local_events(self.TOOL_ID, code, local_events)
            self._enter()
            running.append(0)

        def on_line(code, lineno):
            # only target code has LINE events on this tool: no filtering on the hot path
            try:
                cur = running[-1]
            except IndexError:  # a frame that started before enable()
                return
            if cur:
                rec = recs[cur]
                if rec is not None and clock() < state[2]:
                    rec[2] += 1
                else:
                    finish(cur)
            running[-1] = lineno

        def on_leave(code, offset, retval):
            if not running:
                return
            cur = running.pop()
            if cur:
                finish(cur)
            self._exit()
            if self.depth == 0:
                self._schedule_after_return()

        def on_unwind(code, offset, exc):
            if id(code) in known and running:  # PY_UNWIND is global: filter
                on_leave(code, offset, None)
                self._record_error(type(exc), exc, exc.__traceback__)

        register = mon.register_callback
        register(self.TOOL_ID, ev.PY_START, on_start)
        register(self.TOOL_ID, ev.PY_RESUME, on_start)
        register(self.TOOL_ID, ev.LINE, on_line)
        register(self.TOOL_ID, ev.PY_RETURN, on_leave)
        register(self.TOOL_ID, ev.PY_YIELD, on_leave)
        register(self.TOOL_ID, ev.PY_UNWIND, on_unwind)
        mon.set_events(self.TOOL_ID, ev.PY_START | ev.PY_UNWIND)
        # A second tool id gets one LINE event in the caller after the target returns.
        try:
            mon.use_tool_id(self.AFTER_RETURN_TOOL_ID, "memlens-after-return")
            register(self.AFTER_RETURN_TOOL_ID, ev.LINE, self._after_return)
            self._after_return_tool = True
        except ValueError:  # taken by another tool: collect at the end of the run instead
            self._after_return_tool = False
        self._pending_code = None

    def _schedule_after_return(self):
        # The returning frame still holds its locals: collect at the caller's next line.
        if not self._after_return_tool:
            return
        # up through our callbacks to the returning target frame
        frame: FrameType | None = sys._getframe(1)
        while frame is not None and not self.is_target(frame.f_code):
            frame = frame.f_back
        caller = frame.f_back if frame is not None else None
        if caller is None:
            return
        if sys.version_info < (3, 12):  # (mypy reads this backend as 3.12+ so)
            raise RuntimeError("the sys.monitoring backend needs Python 3.12+")
        self._clear_pending()
        self._pending_code = caller.f_code
        sys.monitoring.set_local_events(self.AFTER_RETURN_TOOL_ID, caller.f_code,
                                        sys.monitoring.events.LINE)

    def _clear_pending(self):
        if self._pending_code is not None:
            if sys.version_info < (3, 12):  # (mypy reads this backend as 3.12+ so)
                raise RuntimeError("the sys.monitoring backend needs Python 3.12+")
            sys.monitoring.set_local_events(self.AFTER_RETURN_TOOL_ID, self._pending_code, 0)
            self._pending_code = None

    def _after_return(self, code, lineno):
        self._clear_pending()
        if self.depth == 0:
            self._final_collect()
        if sys.version_info < (3, 12):  # (mypy reads this backend as 3.12+ so)
            raise RuntimeError("the sys.monitoring backend needs Python 3.12+")
        return sys.monitoring.DISABLE

    def _monitoring_stop(self):
        if sys.version_info < (3, 12):  # (mypy reads this backend as 3.12+ so)
            raise RuntimeError("the sys.monitoring backend needs Python 3.12+")
        mon = sys.monitoring
        mon.set_events(self.TOOL_ID, 0)
        for event in (mon.events.PY_START, mon.events.PY_RESUME, mon.events.LINE,
                      mon.events.PY_RETURN, mon.events.PY_YIELD, mon.events.PY_UNWIND):
            mon.register_callback(self.TOOL_ID, event, None)
        mon.free_tool_id(self.TOOL_ID)
        if self._after_return_tool:
            self._clear_pending()
            mon.register_callback(self.AFTER_RETURN_TOOL_ID, mon.events.LINE, None)
            mon.free_tool_id(self.AFTER_RETURN_TOOL_ID)

    # -- LineProfiler interface

    def enable(self):
        if self._enabled:
            return
        self._enabled = True
        self._finish = self._make_finish()
        gc.callbacks.append(self._gc_callback)
        if self.backend_name == "monitoring":
            self._monitoring_start()
        else:
            import threading

            self._original_trace_function = sys.gettrace()
            global_trace = self._make_settrace_global()
            sys.settrace(global_trace)
            threading.settrace(global_trace)

    def disable(self):
        if not self._enabled:
            return
        self._enabled = False
        if self._gc_callback in gc.callbacks:
            gc.callbacks.remove(self._gc_callback)
        if self.backend_name == "monitoring":
            self._monitoring_stop()
        else:
            import threading

            sys.settrace(self._original_trace_function)
            threading.settrace(None)

    def finish_pending(self):
        """Run the post-return gc.collect() if the caller never reached another line."""
        if self.calls and self.depth == 0 and self._final_collect_time == 0.0:
            self._final_collect()

    # -- results

    def sync_code_map(self):
        """Fill ``code_map`` in memory_profiler's own shape (MiB tuples), for show_results."""
        first = self.target.co_firstlineno
        self.code_map[self.target] = {
            line: (inc / MIB, mem / MIB, occ) for line, (inc, mem, occ) in self.lines.items()
        }
        if not self.code_map._toplevel:
            last = max([first, *self.lines])
            self.code_map._toplevel.append(
                (self.target.co_filename, self.target, range(first, last + 1))
            )

    def _running_line(self):
        frames = list(self.frames)
        if frames:
            return frames[-1].f_lineno
        return next((x for x in reversed(self.running) if x is not None), None)

    def export(self):
        """A JSON-ready snapshot of everything measured so far (sizes in MiB)."""
        lines = {
            str(line): [inc / MIB, mem / MIB, occ]
            for line, (inc, mem, occ) in list(self.lines.items())
        }
        if self.depth > 0:  # still inside (a stopped run's last snapshot): the peak so far
            self.peak = max(self.peak, read_peak())
        peak = max([self.peak] + [rec[1] for rec in list(self.lines.values())])
        duration = self.duration
        if self.depth > 0:
            duration += time.perf_counter() - self._entered_at
        return {
            "backend": self.backend_name,
            "calls": self.calls,
            "duration_s": duration,
            "baseline_mib": None if self.baseline is None else self.baseline / MIB,
            "peak_mib": peak / MIB if self.calls else None,
            "lines": lines,
            "running_line": self._running_line(),
            "gc": {
                "collections": list(self.gc_collections),
                "collected": self.gc_collected,
                "uncollectable": self.gc_uncollectable,
                "freed_by_final_collect_mib": self.final_freed / MIB,
            },
            "function_error": self.error,
        }
