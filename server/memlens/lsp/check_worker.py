"""The checker process, where the language server's engine runs (`memlens.lsp.check_worker`).

The parser and the rules are native code that holds the GIL for as long as one search takes, and a
parser assertion aborts its whole process. Run in the server, either would stop it answering (a
hover waited seconds behind a slow rule) or end it. Here, the server only waits on a pipe: it
answers everything else meanwhile, stops a check that has overrun its budget or been overtaken by
a newer version, and starts a new process after a crash (`check_process.CheckProcess`).

Requests and replies are pickled `(op, args)` and `(ok, value)` pairs on stdin and stdout, one at
a time, between the server and the process it started. Each open document's incremental state
(`incremental.IncrementalChecker`) lives here, with the engines.
"""

from __future__ import annotations

import os
import pickle
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from memlens.lsp.engines import Engines

if TYPE_CHECKING:
    from memlens.flow.project import FileRole
    from memlens.lsp.incremental import IncrementalChecker
    from memlens.notebook import NotebookSource


@dataclass(frozen=True)
class Checked:
    findings: list
    needs_settle: bool = False  # a partial check of module-level code: re-check it all later
    excluded: bool = False  # excluded in [tool.memlens]: nothing to show


def _fault(path: str | None, text: str, stop=None) -> None:
    """Fault injection for the tests: what a native parser assertion (abort) or a runaway rule
    (hang) does, on a file whose path ends with, or whose text contains, the marker; and a
    settle (`stop` given) that takes 10 s in short steps, each of which it may stop after."""
    faults = [("MEMLENS_FAULT_ABORT_ON", os.abort), ("MEMLENS_FAULT_HANG_ON", _hang)]
    if stop is not None:
        faults.append(("MEMLENS_FAULT_SLOW_SETTLE_ON", lambda: _slow(stop)))
    for variable, act in faults:
        marker = os.environ.get(variable)
        if marker and ((path or "").endswith(marker) or marker in text):
            act()


def _hang() -> None:
    while True:
        time.sleep(60)


def _slow(stop) -> None:
    from memlens.engine.core import Interrupted

    for _ in range(500):
        time.sleep(0.02)
        if stop():
            raise Interrupted()


class Interrupts:
    """The numbers of the requests the server wants stopped, written to a pipe of their own (the
    request pipe is busy: the server waits for this request's reply)."""

    def __init__(self, fd: int):
        self._fd = fd
        os.set_blocking(fd, False)
        self._asked: set[int] = set()
        self._partial = b""

    def asked(self, seq: int) -> bool:
        while True:
            try:
                data = os.read(self._fd, 4096)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                return False
            if not data:
                break
            data = self._partial + data
            cut = len(data) - len(data) % 8
            self._partial = data[cut:]
            self._asked.update(int.from_bytes(data[i:i + 8], "little")
                               for i in range(0, cut, 8))
        self._asked = {n for n in self._asked if n >= seq}
        return seq in self._asked


class Worker:
    OPS = frozenset({"configure", "check", "check_file", "fix_all", "forget", "check_notebook",
                     "fix_notebook"})

    def __init__(self):
        self.engines: Engines | None = None
        self.checkers: dict[str, IncrementalChecker] = {}
        self.notebooks: dict[str, NotebookSource] = {}  # uri -> its last join of cells
        # the current request's: true once the server asks to stop it
        self.stop: Callable[[], bool] | None = None
        # the workspace whose data files the size evidence reads (the files' metadata only)
        self.root: str | None = None
        # the saved notebook's outputs by cell source, keyed by (path, size, mtime)
        self._outputs: tuple[tuple | None, dict[str, tuple[str, ...]]] = (None, {})

    def configure(self, root, editor, trusted) -> tuple[str, ...]:
        """Build the engines; what was wrong with the configuration, for the server to say."""
        self.engines = Engines(root, editor, trusted)
        self.root = root
        self.checkers.clear()
        return tuple(self.engines.problems)

    def _engine(self, path):
        if self.engines is None:
            raise RuntimeError("the checker process has no configuration yet")
        return self.engines.for_path(path)

    def check(self, uri: str, text: str, path: str | None, settle: bool) -> Checked | None:
        """An open document's findings, re-checking only what changed since its last check
        (None: a settle request whose text has moved on)."""
        return self._check(uri, text, path, settle)

    def _check(self, uri: str, text: str, path: str | None, settle: bool, role=None,
               cuts=()) -> Checked | None:
        from memlens.engine.core import Interrupted
        from memlens.lsp.incremental import IncrementalChecker

        _fault(path, text, (self.stop or (lambda: False)) if settle else None)
        if role is None:  # a module: the data files it names are read in the workspace
            role = self._role()
        engine = self._engine(path)
        if engine.settings.exclude and path and engine.settings.is_excluded(path):
            return Checked([], excluded=True)
        checker = self.checkers.get(uri)
        if checker is None or checker.engine is not engine or checker.path != (path or uri) \
                or checker.role != role:
            checker = self.checkers[uri] = IncrementalChecker(engine, path or uri, role)
        try:
            if settle:
                if checker.text != text:
                    return None
                findings = checker.settle(text, self.stop, cuts)  # typing resumed: it may stop
            else:
                findings = checker.check(text, cuts)
        except Interrupted:
            raise  # the checker is as it was: the server asked for this
        except Exception:
            # the shortcut state may be broken: start over once, then give up loudly
            checker = self.checkers[uri] = IncrementalChecker(engine, path or uri, role)
            findings = checker.check(text, cuts)
        return Checked(findings, needs_settle=checker.needs_settle)

    def check_notebook(self, uri: str, sources: list[str], path: str | None,
                       settle: bool) -> Checked | None:
        """An open notebook's findings, each in its cell (`Finding.cell`: 1-based among
        `sources`, its code cells in order; positions within the cell). The cells are joined
        as `memlens check` joins them, and the module checked incrementally: an edit
        re-checks its cell (`IncrementalChecker` cuts blocks at the cells)."""
        from memlens.engine import notebooks
        from memlens.notebook import CellText, join_cells

        printed = self._saved_outputs(path)
        nb = join_cells([CellText(text, number, printed.get(text, ()))
                         for number, text in enumerate(sources, 1)],
                        previous=self.notebooks.get(uri))
        self.notebooks[uri] = nb
        checked = self._check(uri, nb.text, path, settle, notebooks.role(nb, self.root),
                              [cell.first_line for cell in nb.cells])
        if checked is None or checked.excluded:
            return checked
        return Checked(notebooks.place(nb, checked.findings), checked.needs_settle)

    def _saved_outputs(self, path: str | None) -> dict[str, tuple[str, ...]]:
        """What the saved notebook's code cells printed, by their source: an editor's cell whose
        text is the saved one printed that (the evidence of size `memlens check` reads in the
        file, `notebook output`). Read again when the file changes; {} for no readable file."""
        if not path or not path.lower().endswith(".ipynb"):
            return {}
        try:
            st = os.stat(path)
        except OSError:
            return {}
        key = (path, st.st_size, st.st_mtime_ns)
        if self._outputs[0] == key:
            return self._outputs[1]
        from memlens.engine import notebooks
        from memlens.engine.batch import MAX_BYTES
        from memlens.engine.safe_read import read_bytes

        printed: dict[str, tuple[str, ...]] = {}
        try:
            saved = notebooks.load(read_bytes(path, MAX_BYTES)).source
            printed = {cell.source: tuple(cell.outputs) for cell in saved.cells if cell.outputs}
        except Exception:  # not a notebook memlens reads (yet): no outputs to go by
            pass
        self._outputs = (key, printed)
        return printed

    def fix_notebook(self, sources: list[str], path: str | None) -> tuple[dict[int, str], list]:
        """The safe fixes of a notebook's cells: the new text of each changed cell (1-based
        among `sources`), and the findings fixed. A fix never spans two cells."""
        from memlens.engine import notebooks
        from memlens.notebook import CellText, join_cells

        _fault(path, "\n".join(sources))
        nb = join_cells([CellText(text, number) for number, text in enumerate(sources, 1)])
        return notebooks.fix_cells(self._engine(path), nb, path or "<notebook>", unsafe=False,
                                   root=self.root)

    def check_file(self, text: str, path: str) -> list | None:
        """A closed file's findings (memlens.checkWorkspace), as `memlens check` finds them;
        None when a nested project's own exclude names it."""
        _fault(path, text)
        engine = self._engine(path)
        if engine.settings.exclude and engine.settings.is_excluded(path):
            return None
        # (the functions it imports from the project's modules are followed: a closed file's
        # check reads them as `memlens check` does)
        return engine.check_source(text, path, role=self._role(source=(path, text)))

    def fix_all(self, text: str, path: str) -> tuple[str, list]:
        _fault(path, text)
        return self._engine(path).fix_source(text, path, unsafe=False, role=self._role())

    def _role(self, source: tuple[str, str] | None = None) -> FileRole:
        """A module's role: the data files it names are read in the workspace (size evidence)."""
        from memlens.flow.project import FileRole

        return FileRole(root=self.root, source=source)

    def forget(self, uri: str) -> None:
        self.checkers.pop(uri, None)
        self.notebooks.pop(uri, None)


def main() -> int:
    from memlens.engine.core import Interrupted  # (not in the server, which reads `Checked`)

    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the replies
    worker = Worker()
    fd = os.environ.pop("MEMLENS_INTERRUPT_FD", None)
    interrupts = Interrupts(int(fd)) if fd else None
    seq = 0  # requests are numbered in the order they come, as the server numbers them
    while True:
        try:
            op, args = pickle.load(requests)
        except (EOFError, OSError, pickle.UnpicklingError):
            return 0  # the server has gone: so do we
        seq += 1
        worker.stop = (lambda n=seq: interrupts.asked(n)) if interrupts is not None else None
        try:
            if op not in Worker.OPS:
                raise ValueError(f"unknown request {op!r}")
            reply: tuple[bool | None, object] = (True, getattr(worker, op)(*args))
        except Interrupted:
            reply = (None, "interrupted")
        except Exception as exc:  # an engine bug: the server reports it, the process lives on
            reply = (False, f"{type(exc).__name__}: {exc}")
        try:
            pickle.dump(reply, replies, protocol=pickle.HIGHEST_PROTOCOL)
            replies.flush()
        except OSError:
            return 0


if __name__ == "__main__":
    # run as the module's own name, so replies pickle as memlens.lsp.check_worker.Checked
    from memlens.lsp import check_worker

    sys.exit(check_worker.main())
