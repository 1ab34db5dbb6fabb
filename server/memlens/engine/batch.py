"""Checking (or fixing) many files on every core: reading, decoding, bad input, the worker pool.

Each file is read and decoded here. Bad input never stops the run: a file over 10 MB, one that
is no longer a regular file, one with NUL bytes, or one that is not UTF-8 (nor in the encoding
its PEP 263 coding cookie names) becomes one `io-error` finding, and so does a file that
overruns its time budget or crashes its worker. A notebook (`.ipynb`) is read the same way,
then checked and fixed cell by cell (`engine/notebooks.py`); one memlens cannot read (invalid
JSON, nbformat 3, no cells) is one `io-error` too. Workers get the Engine built once per process
(inherited through `fork` where the platform has it, built by each worker otherwise).
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from memlens.engine.cache import content_hash
from memlens.engine.lines import for_parse, split_lines_keepends
from memlens.engine.model import IO_ERROR, Finding, Position
from memlens.engine.pysyntax import parses
from memlens.engine.safe_read import Refused, TooLarge, read_bytes
from memlens.flow.project import FileRole

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

MAX_BYTES = 10 * 1024 * 1024
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_BLANK_OR_COMMENT = re.compile(rb"^[ \t\f]*(?:[#\r\n]|$)")

# mode: what a worker does with a file
CHECK, FIX, DIFF = "check", "fix", "diff"
NOTEBOOK_SUFFIX = ".ipynb"  # a Jupyter notebook: checked as its code cells (engine/notebooks.py)


def is_notebook(path: str) -> bool:
    return path.lower().endswith(NOTEBOOK_SUFFIX)


class BadInput(Exception):
    """A file memlens cannot check; the message says why, for one per-file error line.
    `digest`: the content hash, when the file was read (the verdict can then be cached)."""

    def __init__(self, message: str, digest: str | None = None):
        super().__init__(message)
        self.digest = digest


@dataclass
class Source:
    text: str
    encoding: str
    digest: str


def read_source(path: Path | str, data: bytes | None = None) -> Source:
    """A source file's text: opened once, a regular file only (one swapped for a FIFO or a
    link to a device since it was found is refused, never waited on), at most MAX_BYTES."""
    data = read_data(path, data)
    digest = content_hash(data)
    if b"\0" in data:
        line = data.count(b"\n", 0, data.index(b"\0")) + 1
        raise BadInput(f"contains NUL bytes (first on line {line}): not Python source; skipped",
                       digest)
    try:
        encoding = _declared_encoding(data)
    except BadInput as exc:
        raise BadInput(str(exc), digest) from None
    try:
        if encoding == "utf-8":
            text = data.decode("utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8")
        else:
            text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        name = "UTF-8" if encoding == "utf-8" else encoding
        raise BadInput(
            f"not {name}: invalid byte 0x{data[exc.start]:02x} at line {line}, column {column}; "
            "save it as UTF-8 or declare its encoding with a coding comment (PEP 263); skipped",
            digest) from exc
    return Source(text, encoding, digest)


def read_data(path: Path | str, data: bytes | None = None) -> bytes:
    """A file's bytes (or `data`, already read), as `read_source` reads them: BadInput for a
    file that is not read, or over MAX_BYTES."""
    if data is None:
        try:
            data = read_bytes(path, MAX_BYTES)
        except TooLarge as exc:
            raise BadInput(f"file is {exc.size / 2**20:.1f} MB, over the 10 MB limit; "
                           "skipped") from None
        except Refused as exc:
            raise BadInput(f"{exc}; skipped") from None
        except OSError as exc:
            raise BadInput(f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > MAX_BYTES:
        raise BadInput(f"file is {len(data) / 2**20:.1f} MB, over the 10 MB limit; skipped")
    return data


def read_notebook_file(path: Path | str, data: bytes | None = None):
    """A notebook (`notebooks.NotebookFile`), read as `read_source` reads a source file;
    BadInput with one line for what is not a notebook memlens reads (invalid JSON, nbformat 3,
    no cells, a schema error)."""
    from memlens.engine import notebooks  # here: most runs check no notebook

    data = read_data(path, data)
    try:
        return notebooks.load(data)
    except notebooks.NotebookError as exc:
        raise BadInput(f"{exc}; skipped", content_hash(data)) from None


def _declared_encoding(data: bytes) -> str:
    """The PEP 263 coding cookie of the first two lines, normalised; utf-8 when there is none."""
    first, _, rest = data.partition(b"\n")
    candidates = [first]
    if _BLANK_OR_COMMENT.match(first):
        candidates.append(rest.partition(b"\n")[0])
    for line in candidates:
        m = _COOKIE.match(line)
        if m:
            name = m.group(1).decode("ascii", "replace")
            try:
                info = codecs.lookup(name)
            except LookupError as exc:
                raise BadInput(f"unknown encoding {name!r} in its coding comment; skipped") \
                    from exc
            return "utf-8" if info.name == "utf-8" else info.name
    return "utf-8"


def io_error(path: str, message: str) -> Finding:
    return Finding(code=IO_ERROR, message=message, severity="error", path=path,
                   start=Position(0, 0), end=Position(0, 0))


# --- one file ------------------------------------------------------------------------------


@dataclass
class Task:
    path: str  # as shown to the user
    engine: int = 0  # index of the Engine (one per distinct configuration)
    expected: str | None = None  # the cached content hash: equal content means a cache hit
    parse: bool = False  # parse even when no rule could match (a file named on the command line)
    absolute: str = ""  # its absolute path, as discovery found it ("": not known)
    root: str | None = None  # the workspace its data files are read in (size evidence)


@dataclass
class Result:
    path: str
    findings: list[Finding]  # (crossing the worker pool as they are: one record everywhere)
    digest: str | None = None  # None: nothing to cache (unreadable file)
    hit: bool = False  # the content hash equalled the cached one: findings are the cached ones
    fixed: list[Finding] = field(default_factory=list)  # the findings whose fixes were applied
    diff: str | None = None
    stat: tuple | None = None
    notice: str | None = None  # why --fix left the file alone (one line, for a warning)


def process(engine, task: Task, mode: str = CHECK, unsafe: bool = False) -> Result:
    if is_notebook(task.path):
        return _process_notebook(engine, task, mode, unsafe)
    try:
        read = os.stat(task.path) if mode == FIX else None  # what --fix may overwrite
        source = read_source(task.path)
    except (BadInput, OSError) as exc:
        return _unreadable(task, exc, mode)
    if task.expected is not None and source.digest == task.expected and mode == CHECK:
        return Result(task.path, [], source.digest, hit=True)
    role = FileRole(root=task.root, source=(task.absolute or task.path, source.text))
    findings = engine.check_source(source.text, task.path, parse_whole=task.parse, role=role)
    # findings that read a data file's metadata depend on that file too: not cached
    digest = None if role.consulted else source.digest
    if mode == CHECK or not any(f.fixable(unsafe) for f in findings):
        return Result(task.path, list(findings), digest)
    new_text, applied = engine.fix_source(source.text, task.path, unsafe=unsafe,
                                          role=FileRole(root=task.root))
    if new_text == source.text or not applied:
        return Result(task.path, list(findings), source.digest)
    if not parses(for_parse(new_text)):  # never write code that does not parse
        return Result(task.path, list(findings), source.digest)
    fixed = list(applied)
    if mode == DIFF:
        diff = file_diff(task.path, source.text, new_text)
        return Result(task.path, list(findings), None, fixed=fixed,
                      diff=diff)
    data = new_text.encode(source.encoding if source.encoding != "utf-8" else "utf-8")
    try:
        with writing():  # (never stopped by --timeout halfway)
            problem = write_in_place(task.path, data, read, source.digest,
                                     keep_bom=bool(source.text) and source.encoding == "utf-8")
    except OSError as exc:
        return Result(task.path, [io_error(task.path, f"cannot write: {exc}")])
    if problem is not None:  # left alone: its findings stand, none counts as fixed
        unchanged = problem == READ_ONLY
        return Result(task.path, list(findings),
                      source.digest if unchanged else None, notice=problem)
    remaining = engine.check_source(new_text, task.path, role=FileRole(root=task.root))
    st = os.stat(task.path)
    return Result(task.path, list(remaining), content_hash(data),
                  fixed=fixed, stat=st)


def _unreadable(task: Task, exc: BadInput | OSError, mode: str) -> Result:
    """A file that could not be read or decoded: one io-error finding, cached by content like
    any verdict when it was read."""
    digest = getattr(exc, "digest", None)
    if digest is not None and digest == task.expected and mode == CHECK:
        return Result(task.path, [], digest, hit=True)
    message = str(exc) if isinstance(exc, BadInput) else f"cannot read: {exc.strerror}"
    return Result(task.path, [io_error(task.path, message)], digest)


def _process_notebook(engine, task: Task, mode: str, unsafe: bool) -> Result:
    """`process` for a notebook: its findings in their cells; --fix writes the fixed cells'
    sources into the file (engine/notebooks.py)."""
    from memlens.engine import notebooks

    try:
        read = os.stat(task.path) if mode == FIX else None  # what --fix may overwrite
        notebook = read_notebook_file(task.path)
    except (BadInput, OSError) as exc:
        return _unreadable(task, exc, mode)
    if task.expected is not None and notebook.digest == task.expected and mode == CHECK:
        return Result(task.path, [], notebook.digest, hit=True)
    place = notebooks.role(notebook.source, task.root)
    findings = notebooks.check(engine, notebook.source, task.path, parse_whole=task.parse,
                               file_role=place)
    # findings that read a data file's metadata depend on that file too: not cached
    digest = None if place.consulted else notebook.digest
    if mode == CHECK or not any(f.fixable(unsafe) for f in findings):
        return Result(task.path, findings, digest)
    fixed, changed, applied = notebooks.fix(engine, notebook, task.path, unsafe,
                                            root=task.root)
    if not changed:
        return Result(task.path, findings, notebook.digest)
    if mode == DIFF:
        return Result(task.path, findings, None, fixed=applied,
                      diff=notebooks.cell_diff(task.path, notebook.source, changed))
    data = fixed.raw.encode("utf-8")
    try:
        with writing():  # (never stopped by --timeout halfway)
            problem = write_in_place(task.path, data, read, notebook.digest, keep_bom=True)
    except OSError as exc:
        return Result(task.path, [io_error(task.path, f"cannot write: {exc}")])
    if problem is not None:  # left alone: its findings stand, none counts as fixed
        return Result(task.path, findings,
                      notebook.digest if problem == READ_ONLY else None, notice=problem)
    remaining = notebooks.check(engine, fixed.source, task.path,
                                file_role=notebooks.role(fixed.source, task.root))
    return Result(task.path, remaining, content_hash(data), fixed=applied,
                  stat=os.stat(task.path))


READ_ONLY = "read-only; not fixed"
CHANGED = "changed since it was read (saved meanwhile?); not fixed"


def write_in_place(path: str, data: bytes, read: os.stat_result | None, digest: str,
                   keep_bom: bool) -> str | None:
    """Write `data` into the file at `path` itself, as Ruff does: a symlink keeps pointing at
    it (its target is written), hard links stay one file, owner and mode stay. None when
    written; else why not, in a few words: the file is read-only (no write permission bit, or
    not writable by this user), or it is no longer what was read (size, mtime or content
    hash): an editor's save meanwhile must not be lost."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode) or read is None or \
            (st.st_size, st.st_mtime_ns, st.st_ino) != \
            (read.st_size, read.st_mtime_ns, read.st_ino):
        return CHANGED
    if not st.st_mode & 0o222:
        return READ_ONLY  # (root may write it anyway: a read-only file says "leave me")
    try:
        fh = open(path, "r+b")  # (closed by the with below)
    except PermissionError:
        return READ_ONLY
    with fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            return CHANGED
        current = fh.read(MAX_BYTES + 1)
        if content_hash(current) != digest:
            return CHANGED
        if keep_bom and current.startswith(codecs.BOM_UTF8):
            data = codecs.BOM_UTF8 + data
        fh.seek(0)
        try:
            fh.write(data)
            fh.truncate()
            fh.flush()
        except OSError:
            with contextlib.suppress(OSError):  # put back what was there
                fh.seek(0)
                fh.write(current)
                fh.truncate()
            raise
    return None


def file_diff(path: str, old: str, new: str) -> str:
    """The unified diff `--diff` prints for one file."""
    import difflib
    return "".join(difflib.unified_diff(split_lines_keepends(old),
                                        split_lines_keepends(new),
                                        fromfile=f"a/{path}", tofile=f"b/{path}"))


# --- many files ----------------------------------------------------------------------------

_ENGINES: list = []  # per worker process: the engines, by Task.engine
_MODE: tuple[str, bool] = (CHECK, False)
_PARENT = None  # per worker process: its pipe to the parent
WRITING, WRITTEN = "writing", "written"  # what a worker says around the write of a fix


def _init_worker(settings_list, mode) -> None:
    global _ENGINES, _MODE
    _MODE = mode
    if len(_ENGINES) != len(settings_list):  # not inherited through fork: build them here
        from memlens.engine.core import Engine

        _ENGINES = [Engine(s) for s in settings_list]


@contextlib.contextmanager
def writing():
    """Around the write of a fixed file: a worker past its budget is not killed meanwhile (a
    file cut in the middle of its write would be lost)."""
    if _PARENT is None:
        yield
        return
    _PARENT.send(WRITING)
    try:
        yield
    finally:
        _PARENT.send(WRITTEN)


def _worker(conn, settings_list, mode) -> None:
    """A worker process: checks the chunks it is sent, one Result per file as each is done
    (the parent knows which file it is on, and since when)."""
    global _PARENT
    _init_worker(settings_list, mode)
    _PARENT = conn
    crash_on = os.environ.get("MEMLENS_FAULT_ABORT_ON")  # fault injection, for the tests
    check_mode, unsafe = _MODE
    while True:
        try:
            chunk = conn.recv()
        except (EOFError, OSError):
            return
        if chunk is None:
            return
        for t in chunk:
            if crash_on and t.path.endswith(crash_on):
                os.abort()  # what a native assertion in a parser does
            conn.send(_safe_process(_ENGINES[t.engine], t, check_mode, unsafe))


def _safe_process(engine, task: Task, mode: str, unsafe: bool) -> Result:
    try:
        return process(engine, task, mode, unsafe)
    except Exception as exc:  # an engine bug on one file must not end the run
        message = f"internal error while checking: {type(exc).__name__}: {exc}"
        return Result(task.path, [io_error(task.path, message)])


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def run(engines: list, tasks: list[Task], mode: str = CHECK, unsafe: bool = False,
        jobs: int | None = None, sizes: dict[str, int] | None = None,
        timeout: float | None = None) -> Iterable[Result]:
    """Process every task, on `jobs` processes when there is enough work to pay for them.

    `timeout`: each file's budget in seconds. The files are then checked in worker processes
    even when one will do (native code can hold a check for hours, and only a process can be
    stopped): a file that overruns it is reported as timed out, the others are checked."""
    jobs = jobs or default_jobs()
    total = sum((sizes or {}).get(t.path, 20_000) for t in tasks)
    if jobs <= 1 or len(tasks) < 8 or total < 400_000:
        if not timeout:
            for task in tasks:
                yield _safe_process(engines[task.engine], task, mode, unsafe)
            return
        jobs = 1
    if not tasks:
        return
    # Largest files first, dealt round-robin into many small chunks: balanced cores, and no
    # core left alone with one huge file at the end.
    if sizes:
        tasks = sorted(tasks, key=lambda t: -sizes.get(t.path, 0))
    n_chunks = min(len(tasks), jobs * 16) if jobs > 1 else 1
    chunks = [tasks[i::n_chunks] for i in range(n_chunks)]
    yield from _Workers(engines, mode, unsafe, timeout).run(chunks, min(jobs, n_chunks))


@dataclass
class _Worker:
    proc: BaseProcess
    conn: Connection  # our end of its pipe
    chunk: list[Task] | None = None  # the files it was sent, None: idle
    done: int = 0  # how many of them it has answered: it is on chunk[done]
    since: float = 0.0  # since when (time.monotonic)
    writing: bool = False  # it is writing a fix: not stopped meanwhile


class _Workers:
    """Worker processes, each sent one chunk of files at a time and answering one Result per
    file. The parent knows which file each is on and since when: a file that overruns the
    budget has its worker killed (SIGKILL: native code does not stop otherwise), and a worker
    that dies (a native crash in a parser) costs only the file it was on. Either way that file
    gets one error line, and a new worker takes the rest of its chunk."""

    def __init__(self, engines: list, mode: str, unsafe: bool, timeout: float | None):
        global _ENGINES, _MODE
        import multiprocessing  # here: a run that checks a few files (or none) needs no pool

        methods = multiprocessing.get_all_start_methods()
        self.context = (multiprocessing.get_context("fork") if "fork" in methods
                        else multiprocessing.get_context("spawn"))
        _ENGINES, _MODE = engines, (mode, unsafe)  # inherited by forked workers: no rebuild
        self.args = ([e.settings for e in engines], (mode, unsafe))
        self.timeout = timeout or None

    def _start(self) -> _Worker:
        here, there = self.context.Pipe()
        proc = self.context.Process(target=_worker, args=(there, *self.args), daemon=True)
        proc.start()
        there.close()  # (ours closed: the worker's death is an end of file on `here`)
        return _Worker(proc, here)

    def run(self, chunks: list[list[Task]], n_workers: int) -> Iterable[Result]:
        import time
        from collections import deque
        from multiprocessing.connection import wait

        pending = deque(chunks)
        workers = [self._start() for _ in range(n_workers)]
        try:
            while True:
                for w in workers:
                    if w.chunk is None and pending:
                        w.chunk, w.done, w.since = pending.popleft(), 0, time.monotonic()
                        with contextlib.suppress(OSError):  # dead: its end of file comes next
                            w.conn.send(w.chunk)
                busy = [i for i, w in enumerate(workers) if w.chunk is not None]
                if not busy:
                    return
                wait_s = None
                counted = [workers[i].since for i in busy if not workers[i].writing]
                if self.timeout is not None and counted:
                    wait_s = max(min(counted) + self.timeout - time.monotonic(), 0.0)
                ready = wait([workers[i].conn for i in busy], wait_s)
                for i in busy:
                    w = workers[i]
                    if w.conn in ready:
                        try:
                            result = w.conn.recv()
                        except (EOFError, OSError):
                            yield from self._lost(workers, i, pending, CRASHED)
                            continue
                        w.since = time.monotonic()
                        if result in (WRITING, WRITTEN):  # not stopped while it writes a fix;
                            w.writing = result == WRITING  # what follows has a budget of its own
                            continue
                        yield result
                        w.done += 1
                        assert w.chunk is not None  # busy
                        if w.done == len(w.chunk):
                            w.chunk = None
                    elif self.timeout is not None and not w.writing and \
                            time.monotonic() - w.since > self.timeout:
                        yield from self._lost(workers, i, pending, self._timed_out())
        finally:
            for w in workers:
                self._stop(w)

    def _lost(self, workers: list[_Worker], i: int, pending, message: str) -> Iterable[Result]:
        """Worker i is dead or overran: its file gets `message`, the rest of its chunk goes
        back in the queue, and a new worker takes its place."""
        w = workers[i]
        self._stop(w, kill=True)
        assert w.chunk is not None  # only a busy worker is lost
        task, rest = w.chunk[w.done], w.chunk[w.done + 1:]
        yield Result(task.path, [io_error(task.path, message)])
        if rest:
            pending.appendleft(rest)
        workers[i] = self._start()

    def _timed_out(self) -> str:
        return (f"memlens stopped checking this file after {self.timeout:g} s (--timeout): it "
                "is not checked; the other files are")

    @staticmethod
    def _stop(w: _Worker, kill: bool = False) -> None:
        if kill or w.chunk is not None:
            w.proc.kill()
        else:
            with contextlib.suppress(OSError):
                w.conn.send(None)  # done: it ends
        w.proc.join(5)
        if w.proc.is_alive():
            w.proc.kill()
            w.proc.join()
        w.conn.close()


CRASHED = ("the parser crashed on this file (a native error, not a Python exception): it is "
           "not checked; the other files are")
