"""Process supervision: start runner.py in the target interpreter, watch it, kill it, report.

The target runs in its own session (process group). Every ~50 ms the parent checks the cancel
event, the timeout and the RSS of the whole process tree; on any of them it stops the whole
group (SIGTERM, a short grace, then SIGKILL) and still returns the lines measured so far, read
from the runner's last complete snapshot.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from ..lines import split_lines
from . import source
from .proctree import TreeRss, tree
from .result import ErrorKind, GcActivity, LineRow, ProfileResult, Raised, Status
from .tail import OutputTail

RUNNER = Path(__file__).with_name("runner.py")
POLL_EVERY = 0.05
PROGRESS_EVERY = 1.0
EXIT_CODES = {"ok": 0, "raised": 1, "timeout": 1, "memory_limit": 1, "cancelled": 1,
              "not_found": 2, "setup_error": 2}
MIB = 1024 * 1024


def default_max_memory_mib() -> float:
    return psutil.virtual_memory().available * 0.8 / MIB


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop_group(proc: subprocess.Popen, grace: float) -> None:
    """SIGTERM the runner's process group, SIGKILL it after `grace`; reap everything.

    Descendants that left the group (setsid) are found through the process tree and killed too.
    """
    descendants = tree(proc.pid)[1:]
    _killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        pass
    _killpg(proc.pid, signal.SIGKILL)
    for child in descendants:
        try:
            child.kill()
        except psutil.Error:
            pass
    proc.wait()
    psutil.wait_procs(descendants, timeout=2)


def _read_snapshot(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _output_pipe() -> tuple[int, int]:
    """The pipe the target's stdout and stderr go to, widened where the OS allows (fewer
    stalls of a target that prints a lot)."""
    read_end, write_end = os.pipe()
    try:
        import fcntl

        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 1 << 20)
    except (ImportError, AttributeError, OSError):
        pass
    return read_end, write_end


def _resolve_python(python) -> str:
    """An absolute interpreter path where one can be found (relative paths would otherwise be
    resolved against the target's cwd)."""
    if not python:
        return sys.executable
    python = os.fspath(python)
    if os.sep in python:
        return os.path.abspath(python)
    return shutil.which(python) or python


def _safe_progress(on_progress: Callable[[str], None] | None) -> Callable[[str], None]:
    def progress(message: str) -> None:
        if on_progress is not None:
            try:
                on_progress(message)
            except Exception:  # a failing callback must not leave the target running
                pass

    return progress


def _resolve_entry(tree, info, entry, call, pytest_node) -> tuple[str | None, tuple | None]:
    """(entry mode, None) or (None, (error kind, why no mode fits))."""
    if entry is None:
        if pytest_node:
            entry = "pytest"
        elif call:
            entry = "call"
        elif not source.needs_call(info, has_main := source.has_main_block(tree)):
            entry = "script" if has_main else "call"
        else:
            return None, (ErrorKind.NEEDS_CALL, (
                f"{info.qualname} needs arguments and the file has no `if __name__ == "
                '"__main__":` block: give a --call expression, e.g. --call '
                f'"{info.qualname.split(".")[0]}(...)", or --pytest NODEID'
            ))
    if entry not in ("script", "call", "pytest"):
        return None, (ErrorKind.BAD_ENTRY, f"unknown entry {entry!r} (script, call or pytest)")
    if entry == "pytest" and not pytest_node:
        return None, (ErrorKind.BAD_ENTRY,
                      "the pytest entry needs a test node id (--pytest NODEID)")
    if entry == "call" and not call and source.needs_call(info, has_main=False):
        return None, (ErrorKind.NEEDS_CALL,
                      f"{info.qualname} needs arguments: give a --call expression")
    return entry, None


def _bad_limits(timeout, max_memory_mib, cwd) -> tuple[ErrorKind, str, str] | None:
    """Limits that would stop a run before it starts, and a working folder that is not there,
    as (kind, error type, message): a setup error that says so, not a timeout or an interpreter
    to blame."""
    def positive(value) -> bool:
        try:
            return float(value) > 0 and float(value) == float(value)
        except (TypeError, ValueError):
            return False

    if not positive(timeout):
        return (ErrorKind.BAD_ARGUMENTS, "BadArguments",
                f"the timeout must be a positive number of seconds, not {timeout!r}")
    if max_memory_mib is not None and not positive(max_memory_mib):
        return (ErrorKind.BAD_ARGUMENTS, "BadArguments", "the memory cap must be a positive "
                f"number of MiB, not {max_memory_mib!r} (leave it out for 80% of the available "
                "memory)")
    if cwd and not os.path.isdir(cwd):
        return (ErrorKind.NOT_A_DIRECTORY, "NotADirectory",
                f"the working folder {cwd} does not exist")
    return None


def profile(
    file,
    qualname,
    entry=None,
    call=None,
    pytest_node=None,
    args=(),
    python=None,
    timeout=300.0,
    max_memory_mib=None,
    include_children=False,
    cwd=None,
    cancel: threading.Event | None = None,
    on_progress: Callable[[str], None] | None = None,
    cell: int | None = None,
) -> ProfileResult:
    """Profile `qualname` of `file` line by line in a separate process; always returns a
    result (`result.py`), whatever happened.

    A notebook (`.ipynb`): `cell` alone profiles that cell, after running the code cells above
    it; `qualname` profiles a function defined in a cell (in cell `cell` when given), after
    running the cells up to that one (`profiler/notebook.py`).
    See `memlens profile --help` for the options.
    """
    file = os.path.abspath(os.fspath(file))
    python = _resolve_python(python)
    progress = _safe_progress(on_progress)
    result = ProfileResult(file, qualname, python=python, entry=entry, call=call,
                           pytest_node=pytest_node, args=list(args),
                           include_children=bool(include_children), started_at=time.time())
    if cell is not None or file.lower().endswith(".ipynb"):
        return _profile_notebook(result, cell, timeout, max_memory_mib, cwd, cancel, progress)

    # 1. static checks: no process for a file that does not parse or lacks the function
    try:
        text = Path(file).read_text(encoding="utf-8")
        tree = ast.parse(text, filename=file)
    except (OSError, SyntaxError, ValueError) as exc:
        return result.fail(Status.SETUP_ERROR, ErrorKind.UNREADABLE, type(exc).__name__,
                           f"cannot read {file}: {exc}")
    info = source.find(tree, qualname)
    if info is None:
        result.candidates = [f.qualname for f in source.functions(tree)]
        listed = ", ".join(result.candidates) if result.candidates else "none"
        return result.fail(Status.NOT_FOUND, ErrorKind.NOT_FOUND, "NotFound",
                           f"no function {qualname!r} in {file}; it defines: {listed}")
    src_lines = split_lines(text)  # (read_text made every break \n; \f is no break)
    result.first_line, result.last_line = info.first_line, info.last_line
    result.lines = [LineRow(n, src_lines[n - 1] if n <= len(src_lines) else "")
                    for n in range(info.first_line, info.last_line + 1)]
    entry, why = _resolve_entry(tree, info, entry, call, pytest_node)
    result.entry = entry
    if why is not None:
        return result.fail(Status.SETUP_ERROR, why[0], "EntryError", why[1])
    problem = _bad_limits(timeout, max_memory_mib, cwd)
    if problem is not None:
        return result.fail(Status.SETUP_ERROR, *problem)
    cap_mib = default_max_memory_mib() if max_memory_mib is None else float(max_memory_mib)

    # 2. run
    workdir = Path(tempfile.mkdtemp(prefix="memlens-profile-"))
    try:
        return _supervise(result, workdir, timeout, cap_mib, cwd, cancel, progress)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _profile_notebook(result: ProfileResult, cell, timeout, max_memory_mib, cwd, cancel,
                      progress) -> ProfileResult:
    from . import notebook

    file, qualname = result.file, result.qualname
    if file is None or not file.lower().endswith(".ipynb"):
        return result.fail(Status.SETUP_ERROR, ErrorKind.BAD_ARGUMENTS, "BadArguments",
                           "--cell is for notebooks (.ipynb); in a .py file, profile a "
                           "function: FILE::QUALNAME")
    if result.entry not in (None, "call", "cell") or result.pytest_node:
        return result.fail(Status.SETUP_ERROR, ErrorKind.BAD_ENTRY, "EntryError",
                           "a notebook is profiled by cell (--cell N) or by function "
                           "(NB.ipynb::FUNC, with --call EXPR when it needs arguments)")
    if not qualname and cell is None:
        return result.fail(Status.SETUP_ERROR, ErrorKind.BAD_ARGUMENTS, "BadArguments",
                           f"which part of {file}? give --cell N, or NB.ipynb::FUNC")
    if not qualname and result.call:
        return result.fail(Status.SETUP_ERROR, ErrorKind.BAD_ARGUMENTS, "BadArguments",
                           "--call is for a function (NB.ipynb::FUNC); --cell N runs the "
                           "cell itself")
    try:
        plan = (notebook.plan_function(file, qualname, cell) if qualname
                else notebook.plan_cell(file, cell))
    except notebook.PlanError as exc:
        result.candidates = exc.candidates
        status = Status.NOT_FOUND if exc.kind is ErrorKind.NOT_FOUND else Status.SETUP_ERROR
        return result.fail(status, exc.kind, exc.type, exc.message)
    result.cell, result.cells_run = plan.target, plan.cells_run
    result.first_line, result.last_line, result.lines = plan.first_line, plan.last_line, \
        plan.rows
    result.entry = "call" if qualname else "cell"
    if qualname and not result.call and source.needs_call(plan.info, has_main=False):
        return result.fail(Status.SETUP_ERROR, ErrorKind.NEEDS_CALL, "EntryError",
                           f"{qualname} needs arguments: give a --call expression, e.g. "
                           f'--call "{qualname.split(".")[0]}(...)"')
    problem = _bad_limits(timeout, max_memory_mib, cwd)
    if problem is not None:
        return result.fail(Status.SETUP_ERROR, *problem)
    cap_mib = default_max_memory_mib() if max_memory_mib is None else float(max_memory_mib)
    workdir = Path(tempfile.mkdtemp(prefix="memlens-profile-"))
    try:  # a kernel runs in the notebook's folder: relative data paths are read from there
        return _supervise(result, workdir, timeout, cap_mib, cwd or os.path.dirname(file),
                          cancel, progress, {"notebook": {
                              "cells": plan.cells, "ipython_dir": str(workdir / "ipython")}})
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def profile_function(*args, **kwargs) -> dict:
    """`profile()`, as the JSON object `memlens profile --output-format json` prints."""
    return profile(*args, **kwargs).to_json()


def _supervise(result: ProfileResult, workdir, timeout, cap_mib, cwd, cancel,
               progress, extra: dict | None = None) -> ProfileResult:
    """Run runner.py on `result`'s target, enforce the limits, fill `result` in."""
    python = result.python
    assert python is not None  # (profile() resolved it)
    snapshot, config = workdir / "snapshot.json", workdir / "cfg.json"
    config.write_text(json.dumps({
        "file": result.file, "qualname": result.qualname, "entry": result.entry,
        "call": result.call, "pytest_node": result.pytest_node,
        "args": [str(a) for a in result.args],
        "include_children": result.include_children, "snapshot": str(snapshot),
        "backend": os.environ.get("MEMLENS_PROFILER_BACKEND") or None,
        **(extra or {}),
    }))
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    progress("starting")
    started = time.monotonic()
    out_r, out_w = _output_pipe()
    try:
        proc = subprocess.Popen(
            [python, str(RUNNER), str(config)], cwd=cwd or None, env=env,
            stdin=subprocess.DEVNULL, stdout=out_w, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        os.close(out_r)
        return result.fail(Status.SETUP_ERROR, ErrorKind.START_FAILED, type(exc).__name__,
                           f"cannot start {python}: {exc}")
    finally:
        os.close(out_w)
    output = OutputTail(out_r)
    result.pid = proc.pid  # also the process group id; gone when this returns

    stopped = None
    try:
        last_progress = started
        tree_rss = TreeRss(proc.pid)
        while proc.poll() is None:
            now = time.monotonic()
            rss_mib = tree_rss() / MIB
            if cancel is not None and cancel.is_set():
                stopped = "cancelled"
            elif now - started > timeout:
                stopped = "timeout"
            elif rss_mib > cap_mib:
                stopped = "memory_limit"
            if stopped:
                progress(f"stopping: {stopped}")
                stop_group(proc, grace=0.2 if stopped == "memory_limit" else 1.0)
                break
            if now - last_progress >= PROGRESS_EVERY:
                last_progress = now
                progress(f"running {now - started:.1f} s, {rss_mib:.0f} MiB"
                         f"{_where(result, _read_snapshot(snapshot) or {})}")
            if cancel is not None:
                cancel.wait(POLL_EVERY)
            else:
                time.sleep(POLL_EVERY)
    finally:
        if proc.poll() is None:  # an exception (KeyboardInterrupt) in this loop: no orphans
            stop_group(proc, grace=0.2)
        _killpg(proc.pid, signal.SIGKILL)  # leftovers of a run that exited on its own
        proc.wait()

    snap = _read_snapshot(snapshot)
    result.output = output.close()
    _merge(result, snap, stopped, proc.returncode, python, timeout, cap_mib)
    progress(f"finished: {result.status.value}")
    return result


def _where(result: ProfileResult, snap: dict) -> str:
    """", line 12", or in a notebook ", cell 4, line 2" / ", cell 3 (run before cell 4)"."""
    line, cell = snap.get("running_line"), snap.get("running_cell")
    if cell is not None and (cell != result.cell or result.qualname):
        return f", cell {cell} (run before {_profiled(result)})"
    if result.cell is not None and line:
        return f", cell {result.cell}, line {line}"
    return f", line {line}" if line else ""


def _profiled(result: ProfileResult) -> str:
    return (f"{result.qualname} of cell {result.cell}" if result.qualname
            else f"cell {result.cell}")


_STOPPED = {
    "timeout": (Status.TIMEOUT, ErrorKind.TIMEOUT, "Timeout"),
    "memory_limit": (Status.MEMORY_LIMIT, ErrorKind.MEMORY_LIMIT, "MemoryLimit"),
    "cancelled": (Status.CANCELLED, ErrorKind.CANCELLED, "Cancelled"),
}


def result_from_snapshot(result: ProfileResult, snap: dict, stopped: str | None = None
                         ) -> ProfileResult:
    """`result` filled from a tracer snapshot taken in this process (`inprocess.py`): the
    same reading of the lines and the outcome as a run's."""
    _merge(result, snap, stopped, 0, result.python, 0.0, 0.0)
    return result


def _merge(result: ProfileResult, snap, stopped, returncode, python, timeout, cap_mib) -> None:
    """Fill `result` from the runner's snapshot and what the parent saw."""
    if snap and snap.get("status") == "setup_error" and snap.get("missing"):
        missing = " and ".join(snap["missing"])
        result.fail(Status.SETUP_ERROR, ErrorKind.MISSING_DEPENDENCY, "MissingDependency",
                    f"{python} cannot import {missing}; install it there with: "
                    f"{python} -m pip install memory_profiler psutil")
        return
    snap = snap or {}
    measured = snap.get("lines") or {}
    for row in result.lines:
        rec = measured.get(str(row.line))
        if rec:
            row.increment_mib = round(rec[0], 4)
            row.mem_usage_mib = round(rec[1], 4)
            row.occurrences = rec[2]
    result.tracer = snap.get("backend")
    for key in ("duration_s", "baseline_mib", "peak_mib"):
        if snap.get(key) is not None:
            setattr(result, key, round(snap[key], 4))
    if snap.get("gc"):
        result.gc = GcActivity.from_json(snap["gc"])
    result.calls = snap.get("calls", 0)
    handled = snap.get("handled_exception")
    result.handled_exception = Raised.from_json(handled) if handled else None
    result.running_line = snap.get("running_line") if stopped else None

    if stopped:
        status, kind, type_ = _STOPPED[stopped]
        cell = snap.get("running_cell")
        before = (f" while cell {cell} ran, before {_profiled(result)}"
                  if cell is not None and (cell != result.cell or result.qualname) else "")
        result.fail(status, kind, type_, {
            "timeout": f"stopped after the {timeout:g} s timeout",
            "memory_limit": f"stopped: memory use went over the {cap_mib:.0f} MiB cap",
            "cancelled": "cancelled"}[stopped] + before)
    elif not snap:
        result.fail(Status.SETUP_ERROR, ErrorKind.RUNNER_FAILED, "RunnerFailed",
                    f"{python} could not start the memlens runner (exit code {returncode})",
                    result.output[-2000:])
    elif not snap.get("final"):
        result.fail(Status.RAISED, ErrorKind.RUNNER_DIED, "RunnerDied",
                    f"the target process exited with code {returncode} before finishing",
                    result.output[-2000:])
    else:
        _runner_outcome(result, snap, python)


def _runner_outcome(result: ProfileResult, snap: dict, python: str) -> None:
    """The status the runner reported, with the kind of its error."""
    try:
        status = Status(snap.get("status", "raised"))
    except ValueError:
        status = Status.RAISED
    error = snap.get("error")
    result.status, result.error = status, None
    if status is Status.NOT_FOUND:
        result.fail(status, ErrorKind.NOT_FOUND, "NotFound",
                    f"{python} compiled {result.file} but found no {result.qualname}")
    elif status is Status.OK and not result.calls:
        result.fail(Status.NOT_FOUND, ErrorKind.NEVER_CALLED, "NeverCalled",
                    f"{result.qualname} is defined but never ran in the {result.entry} entry")
    elif error:
        raised = Raised.from_json(error)
        if status is Status.SETUP_ERROR:
            kind = {"UnsupportedPython": ErrorKind.UNSUPPORTED_PYTHON,
                    "MissingIPython": ErrorKind.MISSING_DEPENDENCY}.get(
                        raised.type, ErrorKind.COMPILE_FAILED)
        else:
            kind = ErrorKind.RAISED
        result.fail(status, kind, raised.type, raised.message, raised.traceback)
