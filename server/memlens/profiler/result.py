"""The result of a profile run: one typed record, whatever happened.

`profile()` returns a `ProfileResult`; `memlens profile --output-format json`, the language
server's `memlens.profileFunction` answer, the VS Code client and the IPython extension's
`application/vnd.memlens.profile+json` output all read its `to_json()` shape, so this module is
the schema (a notebook's result and rows add `cell`). A failure says what went wrong in
`error.kind` (an `ErrorKind`), which clients switch on; `error.type` and `error.message` are
for people.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

# A line whose increment is at least this many MiB is hot: a hot-line diagnostic in the editor
# (`memlens.profile.hotLineThresholdMb`), and a finding on it is confirmed by the measurement.
HOT_LINE_MIB = 50.0


def function_hash(sources: Iterable[str]) -> str:
    """The content hash of a function's text, its lines without their line breaks (a file saved
    with CRLF and the same file with LF hash alike): a measurement of the function holds while
    the function's text hashes the same."""
    text = "\n".join(s.rstrip("\r\n") for s in sources)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class Status(str, Enum):
    OK = "ok"
    RAISED = "raised"  # the target raised (an exception its caller handled stays `ok`)
    TIMEOUT = "timeout"
    MEMORY_LIMIT = "memory_limit"
    CANCELLED = "cancelled"
    NOT_FOUND = "not_found"  # no such function, or it never ran
    SETUP_ERROR = "setup_error"  # nothing was measured: the run could not start
    BUSY = "busy"  # the language server refused a second run while one is going


class ErrorKind(str, Enum):
    NEEDS_CALL = "needs_call"  # the function needs arguments: give a call expression
    BAD_ENTRY = "bad_entry"  # an unknown entry mode, or pytest without a node id
    BAD_ARGUMENTS = "bad_arguments"  # a limit that is not a positive number, malformed args
    UNREADABLE = "unreadable"  # the file cannot be read or does not parse
    NOT_A_FILE = "not_a_file"  # not a saved file on disk
    NOT_A_DIRECTORY = "not_a_directory"  # the working folder does not exist
    REFUSED = "refused"  # outside the workspace folders, or the workspace is not trusted
    NOT_FOUND = "not_found"  # the file defines no such function
    NEVER_CALLED = "never_called"  # defined, but the entry never ran it
    START_FAILED = "start_failed"  # the interpreter could not be started
    UNSUPPORTED_PYTHON = "unsupported_python"
    MISSING_DEPENDENCY = "missing_dependency"  # memory_profiler or psutil missing there
    COMPILE_FAILED = "compile_failed"  # the target interpreter could not read or compile it
    RUNNER_FAILED = "runner_failed"  # the runner never reported: nothing ran
    RUNNER_DIED = "runner_died"  # the target process ended before finishing
    RAISED = "raised"
    TIMEOUT = "timeout"
    MEMORY_LIMIT = "memory_limit"
    CANCELLED = "cancelled"
    BUSY = "busy"
    INTERNAL = "internal"  # a bug in memlens itself


@dataclass
class Raised:
    """An exception as the target saw it."""

    type: str
    message: str
    traceback: str = ""

    def to_json(self) -> dict:
        return {"type": self.type, "message": self.message, "traceback": self.traceback}

    @classmethod
    def from_json(cls, data: dict) -> Raised:
        return cls(str(data.get("type") or ""), str(data.get("message") or ""),
                   str(data.get("traceback") or ""))


@dataclass
class ProfileError(Raised):
    kind: ErrorKind = ErrorKind.INTERNAL

    def to_json(self) -> dict:
        return {**super().to_json(), "kind": self.kind.value}

    @classmethod
    def from_json(cls, data: dict) -> ProfileError:
        base = Raised.from_json(data)
        try:
            kind = ErrorKind(data.get("kind"))
        except ValueError:
            kind = ErrorKind.INTERNAL
        return cls(base.type, base.message, base.traceback, kind)


@dataclass
class LineRow:
    """One source line of the function: its memory after it ran, what it added, how often."""

    line: int  # 1-based
    source: str
    increment_mib: float | None = None  # None: never ran
    mem_usage_mib: float | None = None
    occurrences: int = 0
    cell: int | None = None  # in a notebook: the cell (Ruff's numbering); `line` is within it

    @property
    def measured(self) -> bool:
        return self.increment_mib is not None and self.occurrences > 0

    def to_json(self) -> dict:
        out = {"line": self.line, "source": self.source, "increment_mib": self.increment_mib,
               "mem_usage_mib": self.mem_usage_mib, "occurrences": self.occurrences}
        if self.cell is not None:
            out["cell"] = self.cell
        return out

    @classmethod
    def from_json(cls, data: dict) -> LineRow:
        cell = data.get("cell")
        return cls(int(data["line"]), str(data.get("source") or ""), data.get("increment_mib"),
                   data.get("mem_usage_mib"), int(data.get("occurrences") or 0),
                   int(cell) if cell is not None else None)


@dataclass
class GcActivity:
    collections: list[int] = field(default_factory=lambda: [0, 0, 0])  # per generation
    collected: int = 0
    uncollectable: int = 0
    freed_by_final_collect_mib: float | None = None

    def to_json(self) -> dict:
        return {"collections": list(self.collections), "collected": self.collected,
                "uncollectable": self.uncollectable,
                "freed_by_final_collect_mib": self.freed_by_final_collect_mib}

    @classmethod
    def from_json(cls, data: dict) -> GcActivity:
        return cls(list(data.get("collections") or [0, 0, 0]), int(data.get("collected") or 0),
                   int(data.get("uncollectable") or 0), data.get("freed_by_final_collect_mib"))


@dataclass
class ProfileResult:
    file: str | None
    qualname: str | None
    status: Status = Status.SETUP_ERROR
    error: ProfileError | None = None
    first_line: int | None = None  # the function's span (1-based, decorators included)
    last_line: int | None = None
    python: str | None = None  # the interpreter the target ran in
    entry: str | None = None  # script | call | pytest
    call: str | None = None
    pytest_node: str | None = None
    args: list[str] = field(default_factory=list)
    include_children: bool = False
    duration_s: float | None = None  # time spent in the function
    baseline_mib: float | None = None  # RSS when the function was first entered
    peak_mib: float | None = None
    lines: list[LineRow] = field(default_factory=list)
    gc: GcActivity = field(default_factory=GcActivity)
    calls: int = 0  # entries of the function (generator resumes count)
    running_line: int | None = None  # the line running when the run was stopped
    output: str = ""  # the tail of the target's stdout and stderr
    pid: int | None = None
    handled_exception: Raised | None = None  # raised by the function, caught by its caller
    tracer: str | None = None  # the line tracer's backend
    candidates: list[str] | None = None  # for not_found: the functions the file defines
    cell: int | None = None  # a notebook's profiled cell, or the cell defining the function
    cells_run: list[int] | None = None  # a notebook's cells run first, in a fresh process
    uri: str | None = None  # added by the language server
    warning: str | None = None  # added by the language server (unsaved changes)
    started_at: float | None = None  # when the run started (seconds since the epoch)

    @classmethod
    def failure(cls, qualname: str | None, status: Status, kind: ErrorKind, type_: str,
                message: str, file: str | None = None) -> ProfileResult:
        return cls(file, qualname, status, ProfileError(type_, message, "", kind))

    def fail(self, status: Status, kind: ErrorKind, type_: str, message: str,
             traceback: str = "") -> ProfileResult:
        self.status, self.error = status, ProfileError(type_, message, traceback, kind)
        return self

    @property
    def measured_rows(self) -> list[LineRow]:
        return [r for r in self.lines if r.measured]

    @property
    def function_hash(self) -> str | None:
        """`function_hash` of the profiled lines (first_line..last_line), None without them."""
        return function_hash(r.source for r in self.lines) if self.lines else None

    def to_json(self) -> dict:
        out: dict[str, Any] = {
            "file": self.file, "qualname": self.qualname, "first_line": self.first_line,
            "last_line": self.last_line, "python": self.python, "entry": self.entry,
            "call": self.call, "pytest_node": self.pytest_node, "args": list(self.args),
            "include_children": self.include_children, "duration_s": self.duration_s,
            "baseline_mib": self.baseline_mib, "peak_mib": self.peak_mib,
            "lines": [r.to_json() for r in self.lines], "gc": self.gc.to_json(),
            "calls": self.calls, "running_line": self.running_line, "status": self.status.value,
            "error": self.error.to_json() if self.error else None, "output": self.output,
            "pid": self.pid,
            "handled_exception": self.handled_exception.to_json()
            if self.handled_exception else None,
            "tracer": self.tracer,
            # what `memlens check --measurements` needs to know the measurement still holds
            "function_hash": self.function_hash, "started_at": self.started_at,
        }
        # present only when they say something (a .py file's result has no cell)
        for key in ("candidates", "cell", "cells_run", "uri", "warning"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    @classmethod
    def from_json(cls, data: dict) -> ProfileResult:
        """Read a `to_json()` dict back (a saved `memlens profile --output-format json`)."""
        try:
            status = Status(data.get("status"))
        except ValueError:
            status = Status.SETUP_ERROR
        handled = data.get("handled_exception")
        return cls(
            file=data.get("file"), qualname=data.get("qualname"), status=status,
            error=ProfileError.from_json(data["error"]) if data.get("error") else None,
            first_line=data.get("first_line"), last_line=data.get("last_line"),
            python=data.get("python"), entry=data.get("entry"), call=data.get("call"),
            pytest_node=data.get("pytest_node"), args=list(data.get("args") or []),
            include_children=bool(data.get("include_children")),
            duration_s=data.get("duration_s"), baseline_mib=data.get("baseline_mib"),
            peak_mib=data.get("peak_mib"),
            lines=[LineRow.from_json(r) for r in data.get("lines") or []],
            gc=GcActivity.from_json(data.get("gc") or {}), calls=int(data.get("calls") or 0),
            running_line=data.get("running_line"), output=str(data.get("output") or ""),
            pid=data.get("pid"),
            handled_exception=Raised.from_json(handled) if handled else None,
            tracer=data.get("tracer"), candidates=data.get("candidates"),
            cell=data.get("cell"), cells_run=data.get("cells_run"), uri=data.get("uri"),
            warning=data.get("warning"), started_at=_number(data.get("started_at")))


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else None
